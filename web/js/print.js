// print.js: the print view of one message (review B3: the whole app printed,
// the message squeezed and cut after one page). On Print, or Ctrl+P while a
// message is open, a .print-view is put at the end of <body> and the print
// stylesheet (css/reader.css, @media print) hides everything else: subject,
// From/To/Cc/Date, the body at full length, the attachment list.
//
// The HTML body cannot print from the reading frame: a frame is one box that
// the browser does not split across pages. It is put into a shadow root
// instead: the mail's styles stay inside it, DOMPurify has already removed
// scripts and handlers (and remote addresses unless the reader allowed them),
// and the page's CSP forbids inline script and remote fonts and styles.

import { h, bidiText } from './dom.js';
import { formatAddress } from './address.js';
import { formatFullDate, formatSize } from './format.js';
import { getPurifier, sanitizeEmailHtml } from './sanitize.js';
import { attachmentName } from './attachments.js';

const MAIL_STYLE = ':host{display:block;font:11pt/1.45 system-ui,sans-serif;color:#000}' +
  '*{position:static!important;max-width:100%!important;overflow:visible!important}' +
  'img{height:auto}pre{white-space:pre-wrap}table{max-width:100%}' +
  'blockquote{margin:0 0 0 .5em;padding-left:1em;border-left:2px solid #999}';

// email: as Reader has it; body: {html, text} (html null for text mail).
export function buildPrintView(email, body, o) {
  const { t, lang } = o;
  const line = (label, list) => (list && list.length
    ? h('tr', null, h('th', { scope: 'row' }, label), h('td', null, bidiText(list.map(formatAddress).join(', ')))) : null);
  const head = h('table', { class: 'print-head' }, h('tbody', null,
    line(t('reader.from'), email.from), line(t('reader.to'), email.to), line(t('reader.cc'), email.cc),
    h('tr', null, h('th', { scope: 'row' }, t('reader.date')), h('td', null, formatFullDate(email.sentAt || email.receivedAt, { locale: lang }))),
  ));
  const content = h('div', { class: 'print-body' });
  const purify = getPurifier(window);
  const res = body.html !== null && purify ? sanitizeEmailHtml(purify, body.html, { allowRemote: !!o.allowRemote, cidUrls: o.cidUrls || new Map() }) : null;
  if (res) {
    const root = content.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = MAIL_STYLE;
    const holder = document.createElement('div');
    holder.innerHTML = res.html; // sanitized above; the page CSP runs no inline script
    root.append(style, holder);
  } else {
    content.append(h('pre', { class: 'print-text' }, body.text || ''));
  }
  const atts = (email.attachments || []).filter((p) => p.disposition === 'attachment' || !p.cid);
  return h('article', { class: 'print-view', 'aria-hidden': 'true' },
    h('h1', { class: 'print-subject' }, bidiText(email.subject || t('list.noSubject'))),
    head,
    atts.length ? h('div', { class: 'print-atts' }, h('strong', null, t('reader.attachments') + ': '),
      atts.map((p) => attachmentName(p, t) + ' (' + formatSize(p.size, lang) + ')').join(', ')) : null,
    content);
}

// Puts the view in place for one print; it leaves after printing.
export function installPrintView(view) {
  for (const old of document.querySelectorAll('.print-view')) old.remove();
  document.body.append(view);
  document.body.classList.add('printing');
  const done = () => {
    view.remove();
    if (!document.querySelector('.print-view')) document.body.classList.remove('printing');
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
}
