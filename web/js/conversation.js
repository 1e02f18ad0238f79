// conversation.js: the messages of a thread (RFC 8621 section 3, Thread/get)
// read together. Oldest first; the newest and the one chosen in the list are
// expanded, the others collapsed to one line (sender, preview, date) that opens
// on click or Enter. Text bodies show their quoted history and signature
// folded (textblocks.js) behind a button. Conversations or single messages is
// one choice for the reader and the list (one row per thread), kept in the
// account's preferences (prefs.js, Settings "conversations").

import { h, icon, bidiText } from './dom.js';
import { RequestBuilder } from './jmap.js';
import { READ_PROPERTIES, BODY_PROPERTIES } from './mailboxes.js';
import { formatAddress } from './address.js';
import { formatFullDate, formatListDate } from './format.js';
import { linkify } from './quote.js';
import { splitBlocks } from './textblocks.js';
import { prefs, changePrefs } from './prefs.js';

// The messages of a thread read at once; a longer thread shows its newest.
export const MAX_THREAD = 50;
const MAX_BODY = 1024 * 1024;

export function conversationsOn() {
  return !!prefs().conversations;
}

// Switches (both the list and the reader; the event tells the list); the
// server keeps the choice for the account.
export function setConversations(on, client) {
  const saved = changePrefs(client, { conversations: !!on });
  if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent('postamt:conversations'));
  return saved;
}

// The thread's email ids, asked in the request that gets the email itself
// (getCall: its Email/get), so a message alone costs no extra round trip.
export function threadCall(b, getCall) {
  return b.call('Thread/get', { '#ids': getCall.ref('/list/*/threadId') });
}

// The rest of the thread (email: the one already read; ids: the thread's
// emailIds), oldest first, the newest MAX_THREAD of them.
export async function fetchThread(client, email, ids) {
  const others = ids.filter((x) => x !== email.id).slice(-(MAX_THREAD - 1));
  if (!others.length) return [email];
  const b = new RequestBuilder();
  const g = b.call('Email/get', {
    ids: others, properties: READ_PROPERTIES, bodyProperties: BODY_PROPERTIES,
    fetchTextBodyValues: true, fetchHTMLBodyValues: true, maxBodyValueBytes: MAX_BODY,
  });
  const r = await client.send(b);
  const list = [email, ...(r.get(g).list || [])];
  // Thread order is receivedAt (RFC 8621 3); mail filed at once goes by when it was written.
  const when = (e) => String(e.receivedAt) + ' ' + String(e.sentAt || '');
  return list.sort((a, c) => when(a).localeCompare(when(c)));
}

// Plain text with quotes and signature folded. Lines become divs of text
// nodes and links (never HTML from the mail).
export function foldedText(text, t) {
  const root = h('div', { class: 'text-body folded' });
  const lineEl = (line) => {
    const el = h('div', { class: /^\s*>/.test(line) ? 'q' : null });
    for (const run of linkify(line)) {
      if (run.href) el.append(h('a', { href: run.href, target: '_blank', rel: 'noopener noreferrer' }, run.text));
      else el.append(run.text);
    }
    if (!line) el.append('\u200b');
    return el;
  };
  for (const b of splitBlocks(text)) {
    if (b.kind === 'text') {
      for (const l of b.lines) root.append(lineEl(l));
      continue;
    }
    const inner = h('div', { class: 'fold-body', hidden: true }, b.lines.map(lineEl));
    const show = b.kind === 'quote' ? t('blocks.showQuote', { n: b.lines.length }) : t('blocks.showSignature');
    const hide = b.kind === 'quote' ? t('blocks.hideQuote') : t('blocks.hideSignature');
    const btn = h('button', { type: 'button', class: 'fold-toggle', 'aria-expanded': 'false', title: show, 'aria-label': show }, icon('more'));
    btn.addEventListener('click', () => {
      const open = inner.hidden;
      inner.hidden = !open;
      btn.setAttribute('aria-expanded', String(open));
      btn.title = open ? hide : show;
      btn.setAttribute('aria-label', btn.title);
    });
    root.append(h('div', { class: 'fold fold-' + b.kind }, btn, inner));
  }
  return root;
}

// The conversation into pane. o: {t, lang, selectedId, renderBody(email, el),
// attachments(email) -> element or null}.
export function renderConversation(emails, o) {
  const { t, lang } = o;
  const newest = emails[emails.length - 1];
  const subject = (newest && newest.subject) || (emails[0] && emails[0].subject) || t('list.noSubject');
  const items = emails.map((e, i) => {
    const from = (e.from && e.from[0]) || { name: '', email: '' };
    const who = from.name || from.email;
    const open = e.id === o.selectedId || i === emails.length - 1;
    const li = h('li', { class: 'conv-msg' + (open ? ' open' : ''), 'data-id': e.id });
    // named by what it shows (sender, start, date: WCAG 2.5.3), the hint is a tooltip
    const headBtn = h('button', { type: 'button', class: 'conv-head', 'aria-expanded': String(open), title: open ? t('conv.collapse') : t('conv.expand', { name: who }) },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, (who || '?').trim().charAt(0).toUpperCase()),
      h('span', { class: 'conv-from' }, bidiText(who)),
      h('span', { class: 'conv-preview muted' }, bidiText(e.preview || '')),
      h('time', { class: 'conv-date muted', datetime: e.receivedAt, title: formatFullDate(e.sentAt || e.receivedAt, { locale: lang }) },
        formatListDate(e.receivedAt, { locale: lang })));
    const detail = h('div', { class: 'conv-detail' });
    let built = false;
    const build = () => {
      if (built) return;
      built = true;
      const to = (e.to || []).concat(e.cc || []);
      if (to.length) detail.append(h('div', { class: 'conv-to muted' }, t('reader.to') + ': ', bidiText(to.map(formatAddress).join(', '))));
      const atts = o.attachments(e);
      if (atts) detail.append(atts);
      const body = h('div', { class: 'reader-body conv-body' });
      detail.append(body);
      o.renderBody(e, body);
    };
    const toggle = () => {
      const now = !li.classList.contains('open');
      li.classList.toggle('open', now);
      headBtn.setAttribute('aria-expanded', String(now));
      headBtn.title = now ? t('conv.collapse') : t('conv.expand', { name: who });
      if (now) build();
    };
    headBtn.addEventListener('click', toggle);
    if (open) build();
    li.append(headBtn, detail);
    return li;
  });
  return h('div', { class: 'conversation' },
    h('header', { class: 'reader-head' },
      h('h2', { class: 'reader-subject', id: 'reader-subject', tabindex: '-1' }, bidiText(subject)),
      h('p', { class: 'conv-count muted' }, t('conv.count', { n: emails.length }))),
    h('ol', { class: 'conv-list', role: 'list' }, items));
}
