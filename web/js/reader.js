// reader.js: the reading pane. Headers, the plain text body (links made
// clickable, built from text nodes), the HTML body in a sandboxed frame, and
// attachments (attachments.js: previews), a calendar invitation's card
// (invite.js), the print view (print.js) and, when the reader chose it, the
// whole conversation (conversation.js). See sanitize.js for the frame's security;
// images.js for when remote images show without a click (known senders).

import { h, clear, icon, iconButton, bidiText } from './dom.js';
import { RequestBuilder, CAP } from './jmap.js';
import { READ_PROPERTIES, BODY_PROPERTIES } from './mailboxes.js';
import { formatAddress } from './address.js';
import { formatFullDate } from './format.js';
import { htmlToText, linkify } from './quote.js';
import { getPurifier, sanitizeEmailHtml, buildSrcdoc, SANDBOX } from './sanitize.js';
import { attachmentsSection } from './attachments.js';
import { loadInvite, inviteCard } from './invite.js';
import { buildPrintView, installPrintView } from './print.js';
import { prefs, savePrefs } from './prefs.js';
import { senderOf, imagesDecision, withSender, KnownSenders } from './images.js';
import { conversationsOn, setConversations, threadCall, fetchThread, renderConversation, foldedText } from './conversation.js';

const MAX_BODY = 4 * 1024 * 1024;
const MAX_INLINE_IMAGE = 5 * 1024 * 1024;

export class Reader {
  constructor(pane, opts) {
    this.pane = pane;
    this.o = opts;
    this.email = null;
    this.seq = 0;
    this.allowRemote = new Set();
    this.knownSenders = new KnownSenders(opts.client);
    this.cids = new Map(); // email id -> (cid -> data: URL of the inline image)
    this.thread = null;
    this.clear();
    // Ctrl+P with a message open prints the message, not the app (review B3).
    window.addEventListener('beforeprint', () => {
      if (this.email && !document.querySelector('.print-view')) installPrintView(this.printView());
    });
  }

  clear() {
    this.email = null;
    this.thread = null;
    this.seq++;
    clear(this.pane);
    this.pane.append(h('div', { class: 'reader-empty' }, icon('mail', 'big'), h('p', { class: 'muted' }, this.o.t('reader.empty'))));
  }

  // The email with its bodies; with conversations on, the same request asks
  // for its thread's ids (email.threadIds).
  async fetchFull(id, withThread = false) {
    const b = new RequestBuilder();
    const g = b.call('Email/get', {
      ids: [id], properties: READ_PROPERTIES, bodyProperties: BODY_PROPERTIES,
      fetchTextBodyValues: true, fetchHTMLBodyValues: true, maxBodyValueBytes: MAX_BODY,
    });
    const th = withThread ? threadCall(b, g) : null;
    const r = await this.o.client.send(b);
    const res = r.get(g);
    if (!res.list || !res.list.length) throw Object.assign(new Error('notFound'), { type: 'notFound' });
    const email = res.list[0];
    if (th && !r.error(th)) {
      const t = (r.get(th).list || [])[0];
      if (t) Object.defineProperty(email, 'threadIds', { value: t.emailIds, enumerable: false });
    }
    return email;
  }

  async show(id) {
    const seq = ++this.seq;
    if (!this.email || this.email.id !== id) {
      clear(this.pane);
      this.pane.append(h('p', { class: 'reader-loading muted', role: 'status' }, this.o.t('reader.loading')));
    }
    let email;
    const conv = conversationsOn();
    try {
      email = await this.fetchFull(id, conv);
    } catch (e) {
      if (seq === this.seq) { this.clear(); this.o.fail(e); }
      return;
    }
    if (seq !== this.seq) return;
    let thread = null;
    if (conv && email.threadIds && email.threadIds.length > 1) {
      try {
        thread = await fetchThread(this.o.client, email, email.threadIds);
      } catch (e) {
        thread = null; // the message alone, as without conversations
      }
      if (seq !== this.seq) return;
    }
    this.email = email;
    this.thread = thread && thread.length > 1 ? thread : null;
    this.cids = new Map();
    if (this.thread) this.renderThread();
    else this.render();
    this.o.onLoaded(email);
    if (!this.thread) this.loadInlineImages(seq);
    this.showInvite(seq, email);
  }

  // The invitation card goes first in the body of the message that has it.
  async showInvite(seq, email) {
    let inv = null;
    try {
      inv = await loadInvite(email, this.o.client);
    } catch (e) {
      inv = null;
    }
    if (!inv || seq !== this.seq) return;
    const host = this.thread ? this.pane.querySelector(`.conv-msg[data-id="${CSS.escape(email.id)}"] .conv-detail`) : this.pane.querySelector('.reader-scroll');
    const body = host && host.querySelector('.reader-body');
    if (!body) return;
    const me = this.o.me || (() => ({}));
    body.before(inviteCard(inv, email, { t: this.o.t, lang: this.o.lang, client: this.o.client, me, toast: this.o.toast || (() => {}), fail: this.o.fail }));
  }

  printView() {
    const e = this.email;
    return buildPrintView(e, { html: this.htmlSource(e), text: this.textBody(e) },
      { t: this.o.t, lang: this.o.lang, allowRemote: this.allowRemote.has(e.id), cidUrls: this.cids.get(e.id) });
  }

  print() {
    if (!this.email) return;
    installPrintView(this.printView());
    window.print();
  }

  toggleConversations() {
    setConversations(!conversationsOn());
    if (this.email) this.show(this.email.id);
  }

  // The conversation: the toolbar still acts on the message chosen in the list.
  renderThread() {
    const { t, lang } = this.o;
    clear(this.pane);
    this.pane.setAttribute('aria-labelledby', 'reader-subject');
    const conv = renderConversation(this.thread, {
      t, lang, selectedId: this.email.id,
      attachments: (e) => this.attachmentsBlock(e),
      renderBody: (e, el) => {
        const text = this.textBody(e);
        if (text.trim() && (e.textBody || []).some((p) => /^text\/plain/i.test(p.type || ''))) el.append(foldedText(text, t));
        else { this.renderBody(el, e); this.loadInlineImages(this.seq, e, el); }
      },
    });
    this.pane.append(this.toolbar(), h('div', { class: 'reader-scroll' }, conv));
  }

  // Keeps keywords/mailboxes in step with the list's copy after a push.
  syncFrom(listEmail) {
    if (!this.email || !listEmail) return;
    this.email.keywords = listEmail.keywords;
    this.email.mailboxIds = listEmail.mailboxIds;
    this.refreshFlags(this.email.id, listEmail);
  }

  refreshFlags(id, e) {
    if (!this.email || this.email.id !== id || !e) return;
    this.email.keywords = e.keywords;
    this.email.mailboxIds = e.mailboxIds;
    const bar = this.pane.querySelector('.reader-toolbar');
    if (bar) bar.replaceWith(this.toolbar());
    const flag = this.pane.querySelector('.reader-flag');
    if (flag) flag.hidden = !(e.keywords && e.keywords.$flagged);
  }

  textBody(e = this.email) {
    const parts = (e.textBody || []).filter((p) => /^text\/plain/i.test(p.type || 'text/plain'));
    const vals = parts.map((p) => (e.bodyValues && e.bodyValues[p.partId] ? e.bodyValues[p.partId].value : '')).filter((v) => v !== '');
    if (vals.length) return vals.join('\n\n');
    const html = this.htmlSource(e);
    return html ? htmlToText(html) : '';
  }

  htmlSource(e = this.email) {
    const parts = (e.htmlBody || []).filter((p) => /^text\/html/i.test(p.type || ''));
    if (!parts.length) return null;
    return parts.map((p) => (e.bodyValues && e.bodyValues[p.partId] ? e.bodyValues[p.partId].value : '')).join('\n');
  }

  textForQuote() {
    return this.email ? this.textBody() : '';
  }

  toolbar() {
    const { t } = this.o;
    const e = this.email;
    const a = this.o.actions;
    const seen = !!(e.keywords && e.keywords.$seen);
    const flagged = !!(e.keywords && e.keywords.$flagged);
    const inJunk = this.o.isIn(e, 'junk');
    const inTrash = this.o.isIn(e, 'trash');
    const isDraft = !!(e.keywords && e.keywords.$draft);
    return h('div', { class: 'reader-toolbar', role: 'toolbar', 'aria-label': t('more') },
      iconButton('back', t('reader.back'), () => a.back(), { class: 'icon-btn only-phone' }),
      isDraft ? h('button', { type: 'button', class: 'btn primary small', onclick: () => a.editDraft(e.id) }, icon('compose'), t('editDraft')) : null,
      iconButton('reply', t('reply'), () => a.reply(e.id)),
      iconButton('replyAll', t('replyAll'), () => a.replyAll(e.id)),
      iconButton('forward', t('forward'), () => a.forward(e.id)),
      h('span', { class: 'sep', 'aria-hidden': 'true' }),
      iconButton('archive', t('archive'), () => a.archive(e.id)),
      iconButton('junk', inJunk ? t('notJunk') : t('junk'), () => a.junk(e.id), { 'aria-pressed': inJunk ? 'true' : 'false' }),
      iconButton('trash', inTrash ? t('deleteForever') : t('delete'), () => a.remove(e.id)),
      iconButton('move', t('move'), () => a.move(e.id)),
      h('span', { class: 'sep', 'aria-hidden': 'true' }),
      iconButton(seen ? 'mail' : 'mailOpen', seen ? t('markUnread') : t('markRead'), () => a.toggleSeen(e.id), { id: 'toggle-seen' }),
      iconButton('flag', flagged ? t('unflag') : t('flag'), () => a.toggleFlag(e.id), { id: 'toggle-flag', 'aria-pressed': flagged ? 'true' : 'false', class: 'icon-btn' + (flagged ? ' on' : '') }),
      h('span', { class: 'sep', 'aria-hidden': 'true' }),
      iconButton('print', t('print'), () => this.print(), { id: 'print-btn' }),
      iconButton('thread', t('view.conversations'), () => this.toggleConversations(), { id: 'conv-toggle', 'aria-pressed': conversationsOn() ? 'true' : 'false', class: 'icon-btn' + (conversationsOn() ? ' on' : '') }));
  }

  render() {
    const { t, lang } = this.o;
    const e = this.email;
    clear(this.pane);
    const addrLine = (label, list) => (list && list.length ? h('div', { class: 'hdr' }, h('span', { class: 'hdr-label' }, label), h('span', { class: 'hdr-value' }, bidiText(list.map(formatAddress).join(', ')))) : null);
    const from = (e.from && e.from[0]) || { name: '', email: '' };
    const initial = (from.name || from.email || '?').trim().charAt(0).toUpperCase();
    const head = h('header', { class: 'reader-head' },
      h('h2', { class: 'reader-subject', id: 'reader-subject', tabindex: '-1' },
        bidiText(e.subject || t('list.noSubject')),
        h('span', { class: 'reader-flag', hidden: !(e.keywords && e.keywords.$flagged), title: t('list.flagged') }, icon('flag'))),
      h('div', { class: 'reader-meta' },
        h('div', { class: 'avatar', 'aria-hidden': 'true' }, initial),
        h('div', { class: 'reader-who' },
          h('div', { class: 'reader-from' }, h('strong', null, bidiText(from.name || from.email)), from.name ? h('span', { class: 'muted' }, bidiText(' <' + from.email + '>')) : null),
          addrLine(t('reader.to'), e.to), addrLine(t('reader.cc'), e.cc), addrLine(t('reader.bcc'), e.bcc),
          e.replyTo && e.replyTo.length && !(e.replyTo.length === 1 && e.replyTo[0].email === from.email) ? addrLine(t('reader.replyTo'), e.replyTo) : null),
        h('time', { class: 'reader-date muted', datetime: e.sentAt || e.receivedAt }, formatFullDate(e.sentAt || e.receivedAt, { locale: lang }))));
    this.pane.setAttribute('aria-labelledby', 'reader-subject');
    const body = h('div', { class: 'reader-body' });
    this.pane.append(this.toolbar(), h('div', { class: 'reader-scroll' }, head, this.attachmentsBlock(e), body));
    this.renderBody(body);
  }

  renderBody(body, e = this.email) {
    const { t } = this.o;
    clear(body);
    const html = this.htmlSource(e);
    const purify = getPurifier(window);
    const allow = this.allowRemote.has(e.id);
    const res = html !== null && purify ? sanitizeEmailHtml(purify, html, { allowRemote: allow, cidUrls: this.cids.get(e.id) || new Map() }) : null;
    if (res) {
      if (res.remoteFound && !allow) {
        const sender = senderOf(e);
        body.append(h('div', { class: 'notice remote-notice' }, icon('image'), h('span', null, t('reader.remoteBlocked')),
          h('button', { type: 'button', class: 'btn small', onclick: () => { this.allowRemote.add(e.id); this.renderBody(body, e); } }, t('reader.showImages')),
          sender && this.o.client.hasCapability(CAP.settings) ? h('button', { type: 'button', class: 'btn small subtle images-always', onclick: () => this.alwaysShowImages(body, e, sender) }, t('reader.imagesAlways', { sender })) : null));
        this.autoImages(body, e, sender);
      }
      const frame = h('iframe', { class: 'html-frame', title: t('reader.htmlFrame'), sandbox: SANDBOX, referrerpolicy: 'no-referrer' });
      frame.setAttribute('sandbox', SANDBOX);
      frame.srcdoc = buildSrcdoc(res.html, { allowRemote: allow });
      body.append(frame);
      body.classList.add('has-frame');
      return;
    }
    body.classList.remove('has-frame');
    const text = this.textBody(e);
    if (html !== null && !res && !(e.textBody || []).some((p) => /^text\/plain/i.test(p.type || ''))) {
      body.append(h('div', { class: 'notice' }, h('span', null, t('reader.plainOnly'))));
    }
    if (!text.trim()) {
      body.append(h('p', { class: 'muted' }, t('reader.noBody')));
      return;
    }
    const pre = h('div', { class: 'text-body' });
    // Quoted lines ("> ") are shown dimmed; links are real links that open in a new tab.
    for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
      const quoted = /^\s*>/.test(line);
      const el = h('div', { class: quoted ? 'q' : null });
      for (const run of linkify(line)) {
        if (run.href) el.append(h('a', { href: run.href, target: '_blank', rel: 'noopener noreferrer' }, run.text));
        else el.append(run.text);
      }
      if (!line) el.append('\u200b');
      pre.append(el);
    }
    body.append(pre);
  }

  // Remote images without a click: for a sender in imagesFrom, or one the user
  // wrote to when the preference says so (images.js); never in Junk.
  async autoImages(body, e, sender) {
    const seq = this.seq;
    const d = imagesDecision(prefs(), sender, { inJunk: this.o.isIn(e, 'junk'), canAsk: this.o.client.hasCapability(CAP.contacts) });
    if (d === 'no' || (d === 'ask' && !(await this.knownSenders.known(sender)))) return;
    if (seq !== this.seq || !body.isConnected || this.allowRemote.has(e.id)) return;
    this.allowRemote.add(e.id);
    this.renderBody(body, e);
  }

  async alwaysShowImages(body, e, sender) {
    try {
      await savePrefs(this.o.client, { imagesFrom: withSender(prefs().imagesFrom, sender) });
    } catch (err) {
      this.o.fail(err);
      return;
    }
    this.allowRemote.add(e.id);
    this.renderBody(body, e);
  }

  // Attachments: every part the server lists as an attachment, except inline
  // images that the HTML body shows by cid.
  attachmentsBlock(e = this.email) {
    const html = this.htmlSource(e) || '';
    const list = (e.attachments || []).filter((p) => !(p.cid && p.disposition !== 'attachment' && html.includes('cid:' + p.cid.replace(/^<|>$/g, ''))));
    if (!list.length) return null;
    return attachmentsSection(list, { t: this.o.t, lang: this.o.lang, client: this.o.client, download: (url, name) => this.download(url, name) });
  }

  // Downloads with our request header and cookie, then saves via a blob URL.
  async download(url, name) {
    try {
      const res = await this.o.client.fetch(url, { credentials: 'same-origin', headers: this.o.client.headers() });
      if (!res.ok) throw Object.assign(new Error('HTTP ' + res.status), { status: res.status === 401 ? 0 : res.status });
      const blob = await res.blob();
      const obj = URL.createObjectURL(blob);
      const a = h('a', { href: obj, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(obj), 60000);
    } catch (e) {
      this.o.fail(e);
    }
  }

  // Inline images (cid:) become data: URLs, which the frame's CSP allows.
  // body: where e's HTML is shown (the reading pane's body when not given).
  async loadInlineImages(seq, e = this.email, body = null) {
    const html = this.htmlSource(e);
    if (!html || !getPurifier(window)) return;
    const parts = [...(e.attachments || [])].filter((p) => p.cid && /^image\//i.test(p.type || '') && p.size <= MAX_INLINE_IMAGE);
    const wanted = parts.filter((p) => html.includes('cid:' + p.cid.replace(/^<|>$/g, '')));
    if (!wanted.length) return;
    for (const p of wanted) {
      try {
        const url = this.o.client.downloadUrl(p.blobId, p.name || 'image', p.type);
        const res = await this.o.client.fetch(url, { credentials: 'same-origin', headers: this.o.client.headers() });
        if (!res.ok) continue;
        const blob = await res.blob();
        const data = await new Promise((resolve, reject) => {
          const fr = new FileReader();
          fr.onload = () => resolve(fr.result);
          fr.onerror = reject;
          fr.readAsDataURL(new Blob([blob], { type: p.type }));
        });
        if (!this.cids.has(e.id)) this.cids.set(e.id, new Map());
        if (/^data:image\//.test(data)) this.cids.get(e.id).set(p.cid.replace(/^<|>$/g, ''), data);
      } catch (err) {
        /* an image that cannot load stays empty */
      }
      if (seq !== this.seq) return;
    }
    const el = body || this.pane.querySelector('.reader-body');
    if (el && el.isConnected && seq === this.seq) this.renderBody(el, e);
  }
}
