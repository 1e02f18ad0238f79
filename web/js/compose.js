// compose.js: the compose window. New message, reply, reply all, forward and
// editing a draft; attachments through the upload endpoint; drafts saved to
// Drafts; sending with EmailSubmission/set whose onSuccessUpdateEmail moves
// the message from Drafts to Sent and clears $draft (RFC 8621 section 7.5).
//
// Nothing typed is lost: a draft is saved AUTOSAVE_MS after typing stops (the
// new draft replaces the previous one), and when a save or a send fails it is
// tried again every RETRY_MS until it works. The identity's signature is put in
// at the start (an HTML signature in the HTML version, signature.js); sending waits the "Undo send" delay of the preferences (prefs.js)
// with an Undo button that brings the window back. A file that cannot fit in the
// message (base64 growth counted, errors.js) is refused before it is uploaded.
// To/Cc/Bcc suggest addresses from ContactSuggestion/query as a listbox.

import { h, clear, icon, iconButton, confirmDialog, bidiText } from './dom.js';
import { showBidi } from './bidi.js';
import { RequestBuilder, JmapMethodError } from './jmap.js';
import { parseAddressList, formatAddressList } from './address.js';
import { buildReply, buildForward } from './quote.js';
import { formatFullDate, formatSize } from './format.js';
import { findRole, draftEmail, envelopeFor, sentPatch } from './mailboxes.js';
import { errorText, isNetworkError, encodedSize, largestFile, plainSize } from './errors.js';
import { currentToken, replaceToken, wantsSuggestions } from './suggest.js';
import { prefs } from './prefs.js';
import { getPurifier } from './sanitize.js';
import { cleanSignature, signatureHtmlToText, htmlBodyFor } from './signature.js';
import { CAP } from './jmap.js';

let seq = 0;

// The identity's signature: its text (the text signature, else the text of the
// HTML one) and its cleaned HTML ('' when none).
function signatureOf(idn, purify) {
  if (!idn) return { id: null, text: '', html: '' };
  const html = cleanSignature(purify, idn.htmlSignature || '');
  return { id: idn.id, text: idn.textSignature || (html ? signatureHtmlToText(html) : ''), html };
}
const AUTOSAVE_MS = 2000;
const RETRY_MS = 5000;
const SUGGEST_MS = 120;
const SUGGEST_MAX = 8;

export class Composer {
  constructor(o) {
    this.o = o;
    this.draftId = null;
    this.attachments = [];
    this.source = null;
    this.mode = null;
    this.busy = false;
    this.closed = false;
  }

  identity() {
    const ids = this.o.identities || [];
    const sel = this.fromSelect && this.fromSelect.value;
    return ids.find((i) => i.id === sel) || ids.find((i) => (i.email || '').toLowerCase() === (this.o.username || '').toLowerCase()) || ids[0] || null;
  }

  open(init) {
    const { t, lang } = this.o;
    const n = ++seq;
    const id = (s) => `c${n}-${s}`;
    let pre = { to: [], cc: [], bcc: [], subject: '', body: '', inReplyTo: null, references: null };
    const me = [(this.o.username || '').toLowerCase(), ...(this.o.identities || []).map((i) => (i.email || '').toLowerCase())].filter(Boolean);
    const fmt = (d) => formatFullDate(d, { locale: lang });
    if (init.source) {
      const src = Object.assign({}, init.source, { text: init.sourceText || '' });
      this.source = init.source;
      this.mode = init.mode;
      pre = init.mode === 'forward' ? buildForward(src, { t, formatDate: fmt }) : buildReply(src, me, { all: init.mode === 'replyAll', t, formatDate: fmt });
      pre.bcc = [];
      if (init.mode === 'forward') {
        this.attachments = (init.source.attachments || []).filter((p) => p.blobId).map((p) => ({ blobId: p.blobId, name: p.name || 'attachment', type: p.type, size: p.size, state: 'done' }));
      }
    } else if (init.draft) {
      const d = init.draft;
      this.draftId = d.id;
      const text = (d.textBody || []).map((p) => (d.bodyValues && d.bodyValues[p.partId] ? d.bodyValues[p.partId].value : '')).join('\n');
      pre = { to: d.to || [], cc: d.cc || [], bcc: d.bcc || [], subject: d.subject || '', body: text, inReplyTo: d.inReplyTo, references: d.references };
      this.attachments = (d.attachments || []).filter((p) => p.blobId).map((p) => ({ blobId: p.blobId, name: p.name || 'attachment', type: p.type, size: p.size, state: 'done' }));
    }
    this.inReplyTo = pre.inReplyTo;
    this.references = pre.references;

    const ids = this.o.identities || [];
    const cur = this.identity();
    // RFC 3676 section 4.3's signature separator "-- ", above the quoted text;
    // an HTML signature replaces it in the message's HTML version (signature.js)
    const sig = signatureOf(cur, getPurifier(window));
    this.sig = init.draft ? null : sig;
    if (!init.draft && sig.text) pre.body = '\n\n-- \n' + sig.text + (pre.body ? '\n' + pre.body : '');
    this.fromSelect = h('select', { id: id('from') }, ids.map((i) => h('option', { value: i.id }, i.name ? `${i.name} <${i.email}>` : i.email)));
    if (cur) this.fromSelect.value = cur.id;
    const field = (key, label, value, extra = {}) => {
      const input = h('input', Object.assign({ id: id(key), type: 'text', value, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': id('err') }, extra));
      return [h('label', { for: id(key), class: 'c-label' }, label), input];
    };
    const [toL, to] = field('to', t('compose.to'), formatAddressList(pre.to), { inputmode: 'email' });
    const [ccL, cc] = field('cc', t('compose.cc'), formatAddressList(pre.cc), { inputmode: 'email' });
    const [bccL, bcc] = field('bcc', t('compose.bcc'), formatAddressList(pre.bcc), { inputmode: 'email' });
    const [subjL, subject] = field('subject', t('compose.subject'), pre.subject, { spellcheck: 'true' });
    const body = h('textarea', { id: id('body'), class: 'c-body', 'aria-label': t('compose.body'), spellcheck: 'true', value: pre.body });
    body.value = pre.body;
    this.err = h('p', { class: 'c-error', id: id('err'), role: 'alert' });
    const showCc = !!(pre.cc.length || pre.bcc.length);
    const ccRows = [h('div', { class: 'c-row', hidden: !showCc }, ccL, cc), h('div', { class: 'c-row', hidden: !showCc }, bccL, bcc)];
    const ccToggle = h('button', { type: 'button', class: 'btn subtle small', hidden: showCc, 'aria-expanded': showCc ? 'true' : 'false',
      onclick: () => { for (const r of ccRows) r.hidden = false; ccToggle.hidden = true; cc.focus(); } }, t('compose.showCcBcc'));
    // chosen through the Attach button (a real button: keyboard and screen readers); the input itself is hidden
    const fileInput = h('input', { type: 'file', id: id('file'), multiple: true, hidden: true });
    fileInput.addEventListener('change', () => { for (const f of fileInput.files) this.upload(f); fileInput.value = ''; });
    this.attList = h('ul', { class: 'c-attachments', role: 'list' });
    this.limitHint = h('span', { class: 'c-limit muted small', id: id('limit') });
    this.sendBtn = h('button', { type: 'submit', class: 'btn primary' }, icon('sent'), h('span', null, t('compose.send')));
    this.status = h('span', { class: 'c-status muted', role: 'status' });
    this.title = init.source ? (init.mode === 'forward' ? t('forward') : init.mode === 'replyAll' ? t('replyAll') : t('reply')) : t('compose.title');
    const form = h('form', { class: 'compose', novalidate: true, 'aria-labelledby': id('title') },
      h('div', { class: 'c-head' }, h('h2', { id: id('title') }, this.title),
        iconButton('close', t('compose.close'), () => this.close(true), { class: 'icon-btn c-close' })),
      h('div', { class: 'c-fields' },
        ids.length > 1 ? h('div', { class: 'c-row' }, h('label', { for: id('from'), class: 'c-label' }, t('compose.from')), this.fromSelect) : null,
        h('div', { class: 'c-row' }, toL, to, ccToggle), ...ccRows,
        h('div', { class: 'c-row' }, subjL, subject)),
      this.err, body, this.attList,
      h('div', { class: 'c-foot' }, this.sendBtn,
        h('button', { type: 'button', class: 'btn subtle c-attach', 'aria-describedby': id('limit'), onclick: () => fileInput.click() },
          icon('clip'), h('span', null, t('compose.attach'))), fileInput, this.limitHint,
        h('button', { type: 'button', class: 'btn subtle', onclick: () => this.saveDraft(true) }, t('compose.saveDraft')),
        this.status,
        iconButton('trash', t('compose.discard'), () => this.discard(), { class: 'icon-btn c-discard' })));
    this.fields = { to, cc, bcc, subject, body };
    for (const f of [to, cc, bcc]) this.suggestFor(f, id(f.id.split('-').pop() + '-sugg'));
    // An error is about what was there when sending was tried: editing clears it.
    for (const f of [to, cc, bcc]) {
      f.addEventListener('input', () => {
        if (f.getAttribute('aria-invalid') === 'true') { f.removeAttribute('aria-invalid'); this.err.textContent = ''; }
      });
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    form.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); } });
    form.addEventListener('dragover', (e) => { if (e.dataTransfer.types.includes('Files')) e.preventDefault(); });
    form.addEventListener('drop', (e) => { if (e.dataTransfer.files.length) { e.preventDefault(); for (const f of e.dataTransfer.files) this.upload(f); } });
    this.dlg = h('dialog', { class: 'compose-dialog', 'aria-labelledby': id('title') }, form);
    this.dlg.addEventListener('cancel', (e) => { e.preventDefault(); this.close(true); });
    document.body.append(this.dlg);
    this.dlg.showModal();
    this.renderAttachments();
    this.snapshot = this.value();
    // Unsaved work survives: a draft AUTOSAVE_MS after typing stops, and the
    // browser asks before the page is closed with unsaved changes.
    form.addEventListener('input', () => this.scheduleSave(AUTOSAVE_MS));
    this.onUnload = (e) => {
      if (this.dirty() && !this.empty()) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
    window.addEventListener('beforeunload', this.onUnload);
    if (init.source && init.mode !== 'forward') { body.focus(); body.setSelectionRange(0, 0); body.scrollTop = 0; }
    else if (!to.value) to.focus();
    else body.focus();
  }

  value() {
    const f = this.fields;
    return JSON.stringify([f.to.value, f.cc.value, f.bcc.value, f.subject.value, f.body.value, this.attachments.map((a) => a.blobId), this.fromSelect.value]);
  }
  dirty() {
    return this.value() !== this.snapshot;
  }
  empty() {
    const f = this.fields;
    return !f.to.value.trim() && !f.cc.value.trim() && !f.bcc.value.trim() && !f.subject.value.trim() && !f.body.value.trim() && !this.attachments.length;
  }

  // The whole message's limit (the server's maxSizeUpload, which is its message
  // size limit), or 0 when unknown.
  messageLimit() {
    const s = this.o.client.session || {};
    const core = (s.capabilities || {})[CAP.core] || {};
    return core.maxSizeUpload || 0;
  }
  usedBytes() {
    const f = this.fields;
    const text = f ? f.body.value.length * 2 + f.subject.value.length * 2 : 0;
    return text + this.attachments.reduce((n, a) => n + encodedSize(a.size || 0), 0);
  }

  renderAttachments() {
    const { t, lang } = this.o;
    const limit = this.messageLimit();
    if (this.limitHint) this.limitHint.textContent = limit ? t('compose.limit', { size: plainSize(largestFile(limit, 0), lang) }) : '';
    clear(this.attList);
    for (const a of this.attachments) {
      this.attList.append(h('li', { class: 'c-att' + (a.state === 'error' ? ' error' : '') },
        icon('clip'), h('span', { class: 'att-name' }, bidiText(a.name)),
        h('span', { class: 'muted' }, a.state === 'uploading' ? t('compose.uploading') : a.state === 'error' ? a.reason || t('compose.uploadFailed', { name: '' }) : formatSize(a.size, lang)),
        iconButton('close', t('compose.remove', { name: showBidi(a.name) }), () => { this.attachments = this.attachments.filter((x) => x !== a); this.renderAttachments(); })));
    }
  }

  async upload(file) {
    const { t, lang } = this.o;
    const limit = this.messageLimit();
    if (limit && encodedSize(file.size) > limit - this.usedBytes() - 4096) {
      const max = largestFile(limit, this.usedBytes());
      const text = t('compose.fileTooBig', { name: file.name || 'attachment', size: plainSize(file.size, lang), max: plainSize(max, lang) });
      this.err.textContent = text;
      return;
    }
    const a = { name: file.name || 'attachment', type: file.type || 'application/octet-stream', size: file.size, state: 'uploading', blobId: null };
    this.attachments.push(a);
    this.renderAttachments();
    try {
      const res = await this.o.client.upload(file, a.type);
      a.blobId = res.blobId;
      a.size = res.size || a.size;
      a.state = 'done';
    } catch (e) {
      a.state = 'error';
      a.reason = errorText(e, this.o.t, this.o.lang);
      this.err.textContent = this.o.t('compose.uploadFailed', { name: a.name }) + ' – ' + a.reason;
    }
    this.renderAttachments();
  }

  // Reads and validates the form. Returns the draft data or null (error shown).
  collect(forSending) {
    const { t } = this.o;
    const f = this.fields;
    this.err.textContent = '';
    for (const k of ['to', 'cc', 'bcc']) f[k].removeAttribute('aria-invalid');
    const parsed = {};
    const bad = [];
    for (const k of ['to', 'cc', 'bcc']) {
      const r = parseAddressList(f[k].value);
      parsed[k] = r.addresses;
      if (r.invalid.length) {
        f[k].setAttribute('aria-invalid', 'true');
        bad.push(...r.invalid);
        if (bad.length === r.invalid.length) f[k].focus();
      }
    }
    if (bad.length && forSending) {
      this.err.textContent = t('compose.invalid', { list: bad.join(', ') });
      return null;
    }
    if (forSending && !parsed.to.length && !parsed.cc.length && !parsed.bcc.length) {
      this.err.textContent = t('compose.noRecipient');
      f.to.setAttribute('aria-invalid', 'true');
      f.to.focus();
      return null;
    }
    if (this.attachments.some((a) => a.state === 'uploading')) {
      this.err.textContent = t('compose.waitUploads');
      return null;
    }
    const idn = this.identity();
    const from = idn ? [{ name: idn.name || '', email: idn.email }] : [{ name: '', email: this.o.username }];
    return {
      from, to: parsed.to, cc: parsed.cc, bcc: parsed.bcc, subject: f.subject.value, body: f.body.value,
      html: this.sig && this.sig.html && idn && idn.id === this.sig.id ? htmlBodyFor(f.body.value, this.sig.text, this.sig.html) : null,
      inReplyTo: this.inReplyTo, references: this.references,
      attachments: this.attachments.filter((a) => a.state === 'done'),
    };
  }

  mailbox(role) {
    return findRole(this.o.mailboxes(), role);
  }

  saveDraft(explicit) {
    if (this.saving) return this.saving.then(() => this.saveDraft(explicit));
    this.saving = this.doSaveDraft(explicit).finally(() => { this.saving = null; });
    return this.saving;
  }

  async doSaveDraft(explicit) {
    const d = this.collect(false);
    if (!d) return false;
    const drafts = this.mailbox('drafts');
    if (!drafts) { this.o.fail(new Error('no Drafts folder')); return false; }
    const b = new RequestBuilder();
    const args = { create: { draft: draftEmail(d, drafts.id) } };
    if (this.draftId) args.destroy = [this.draftId];
    const set = b.call('Email/set', args);
    try {
      const r = await this.o.client.send(b);
      const res = r.get(set);
      if (!res.created || !res.created.draft) throw new JmapMethodError('Email/set', (res.notCreated || {}).draft || { type: 'serverFail' });
      this.draftId = res.created.draft.id;
      this.snapshot = this.value();
      const time = new Intl.DateTimeFormat(this.o.lang, { hour: '2-digit', minute: '2-digit' }).format(new Date());
      this.status.textContent = this.o.t('compose.saved', { time });
      if (this.saveFailed) { this.err.textContent = ''; this.saveFailed = false; }
      if (explicit) this.o.toast(this.o.t('status.draftSaved'));
      return true;
    } catch (e) {
      // kept in the window and tried again; one line here instead of a toast each time
      this.status.textContent = this.o.t('compose.notSaved');
      if (explicit || !isNetworkError(e)) { this.err.textContent = errorText(e, this.o.t, this.o.lang); this.saveFailed = true; }
      if (isNetworkError(e)) this.o.fail(e); // the app's offline banner
      this.scheduleSave(RETRY_MS);
      return false;
    }
  }

  // A draft save `ms` from now (the timer restarts with each call), while the
  // window is open and holds unsaved work.
  scheduleSave(ms) {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      if (this.closed || this.busy || this.pendingSend) return;
      if (this.saving) { this.scheduleSave(ms); return; }
      if (this.dirty() && !this.empty()) this.saveDraft(false);
    }, ms);
  }

  async send() {
    if (this.busy) return;
    const { t } = this.o;
    const d = this.collect(true);
    if (!d) return;
    if (!d.subject.trim() && !(await confirmDialog(t('compose.noSubjectConfirm'), { okLabel: t('compose.send') }))) return;
    const idn = this.identity();
    const drafts = this.mailbox('drafts');
    const sent = this.mailbox('sent');
    const home = drafts || sent;
    if (!idn || !home) { this.err.textContent = t('compose.sendFailed', { error: !idn ? 'no identity' : 'no Drafts folder' }); return; }
    const delay = Math.max(0, Math.min(30, Number(prefs().undoSendSeconds) || 0));
    if (delay > 0 && !(await this.waitUndo(delay))) return;
    this.busy = true;
    this.sendBtn.disabled = true;
    this.status.textContent = t('compose.sending');
    if (this.saving) await this.saving.catch(() => {});
    const b = new RequestBuilder();
    const args = { create: { draft: draftEmail(d, home.id) } };
    if (this.draftId) args.destroy = [this.draftId];
    const set = b.call('Email/set', args);
    const sub = b.call('EmailSubmission/set', {
      create: { send: { identityId: idn.id, emailId: '#draft', envelope: envelopeFor(d) } },
      onSuccessUpdateEmail: { '#send': sentPatch(drafts ? drafts.id : null, sent ? sent.id : null) },
    });
    let mark = null;
    if (this.source && this.source.id) {
      mark = b.call('Email/set', { update: { [this.source.id]: { [this.mode === 'forward' ? 'keywords/$forwarded' : 'keywords/$answered']: true } } });
    }
    try {
      const r = await this.o.client.send(b);
      const sr = r.get(set);
      if (!sr.created || !sr.created.draft) throw new JmapMethodError('Email/set', (sr.notCreated || {}).draft || { type: 'serverFail' });
      this.draftId = sr.created.draft.id;
      const subr = r.get(sub);
      if (!subr.created || !subr.created.send) throw new JmapMethodError('EmailSubmission/set', (subr.notCreated || {}).send || { type: 'serverFail' });
      if (mark) r.error(mark);
      this.draftId = null;
      this.snapshot = this.value();
      this.o.toast(t('compose.sent'));
      this.close(false);
    } catch (e) {
      if (!this.dlg.open) this.dlg.showModal();
      this.err.textContent = t('compose.sendFailed', { error: errorText(e, t, this.o.lang) });
      this.status.textContent = '';
      // the draft was not written when the request never arrived: keep trying
      if (isNetworkError(e) || e.status) { this.snapshot = ''; this.scheduleSave(RETRY_MS); }
    } finally {
      this.busy = false;
      this.sendBtn.disabled = false;
    }
  }

  // Hides the window for `seconds` with an Undo button. Resolves true to send,
  // false when undone (the window is back as it was).
  waitUndo(seconds) {
    const { t } = this.o;
    this.pendingSend = true;
    clearTimeout(this.saveTimer);
    this.dlg.close();
    return new Promise((resolve) => {
      let left = seconds;
      const text = h('span', null, t('compose.sendingIn', { n: left }));
      const finish = (send) => {
        clearInterval(tick);
        bar.remove();
        this.pendingSend = false;
        if (!send) {
          this.dlg.showModal();
          this.status.textContent = t('compose.undone');
          this.fields.body.focus();
        }
        resolve(send);
      };
      const undo = h('button', { type: 'button', class: 'btn small undo-send', onclick: () => finish(false) }, t('compose.undo'));
      const bar = h('div', { class: 'undo-bar', role: 'status' }, text, undo);
      document.body.append(bar);
      undo.focus();
      const tick = setInterval(() => {
        left -= 1;
        if (left <= 0) finish(true);
        else text.textContent = t('compose.sendingIn', { n: left });
      }, 1000);
    });
  }

  // Address suggestions for one field: a listbox under it, filled from
  // ContactSuggestion/query as the user types; arrows move, Enter or Tab takes
  // one, Escape closes (the WAI-ARIA combobox pattern).
  suggestFor(input, listId) {
    const { client, t } = this.o;
    if (!client.hasCapability || !client.hasCapability(CAP.contacts)) return;
    const list = h('ul', { id: listId, class: 'c-suggest', role: 'listbox', 'aria-label': t('compose.suggestions'), hidden: true });
    input.after(list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listId);
    let items = [];
    let active = -1;
    let timer = null;
    let asked = 0;
    const close = () => {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      items = [];
      active = -1;
    };
    const mark = (i) => {
      active = i;
      [...list.children].forEach((li, k) => li.setAttribute('aria-selected', k === i ? 'true' : 'false'));
      if (i >= 0) input.setAttribute('aria-activedescendant', `${listId}-${i}`);
      else input.removeAttribute('aria-activedescendant');
    };
    const choose = (i) => {
      const r = replaceToken(input.value, input.selectionStart, items[i]);
      input.value = r.value;
      input.setSelectionRange(r.caret, r.caret);
      close();
      input.dispatchEvent(new Event('input', { bubbles: true }));
    };
    const ask = async () => {
      const tok = currentToken(input.value, input.selectionStart);
      if (!wantsSuggestions(tok)) { close(); return; }
      const n = ++asked;
      let res;
      try {
        res = await client.call('ContactSuggestion/query', { prefix: tok.text, limit: SUGGEST_MAX });
      } catch (e) {
        return; // suggestions are a help, not worth an error
      }
      if (n !== asked || document.activeElement !== input) return;
      items = res.list || [];
      clear(list);
      items.forEach((c, i) => {
        list.append(h('li', { id: `${listId}-${i}`, role: 'option', class: 'c-sugg', 'aria-selected': 'false',
          onmousedown: (e) => { e.preventDefault(); choose(i); } },
        c.name ? h('span', { class: 'c-sugg-name' }, bidiText(c.name)) : null, h('span', { class: 'c-sugg-mail muted' }, c.email)));
      });
      list.hidden = !items.length;
      input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
      mark(-1);
    };
    input.addEventListener('input', (e) => {
      if (!e.isTrusted && !list.hidden) return;
      clearTimeout(timer);
      timer = setTimeout(ask, SUGGEST_MS);
    });
    input.addEventListener('blur', () => setTimeout(close, 0));
    input.addEventListener('keydown', (e) => {
      if (list.hidden || !items.length) return;
      if (e.key === 'ArrowDown') { e.preventDefault(); mark((active + 1) % items.length); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); mark(active <= 0 ? items.length - 1 : active - 1); }
      else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0) { e.preventDefault(); e.stopPropagation(); choose(active); }
      else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    });
  }

  async discard() {
    const { t } = this.o;
    if (!this.empty() && !(await confirmDialog(t('compose.discardConfirm'), { okLabel: t('compose.discard'), danger: true }))) return;
    if (this.draftId) {
      try {
        await this.o.client.call('Email/set', { destroy: [this.draftId] });
      } catch (e) {
        this.o.fail(e);
      }
      this.draftId = null;
    }
    this.snapshot = this.value();
    this.close(false);
  }

  // Closing keeps unsaved work as a draft (save = true) unless it is empty.
  async close(save) {
    if (this.closed) return;
    if (save && this.dirty() && !this.empty()) {
      const ok = await this.saveDraft(true);
      if (!ok) return;
    }
    this.closed = true;
    clearTimeout(this.saveTimer);
    window.removeEventListener('beforeunload', this.onUnload);
    this.dlg.close();
    this.dlg.remove();
    this.o.onClose();
  }
}
