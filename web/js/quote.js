// quote.js: what reply, reply all and forward put into a new message:
// recipients, subject, In-Reply-To/References (RFC 5322 section 3.6.4) and the
// quoted text. Pure; the caller passes the translator and a date formatter.

import { dedupeAddresses, formatAddressList } from './address.js';

// Prefixes people's clients put before a subject: Re, Aw (German), Fwd, Fw, Wg.
const REPLY_PREFIX = /^\s*((re|aw|sv|antw)(\[\d+\])?\s*:\s*)+/i;
const ANY_PREFIX = /^\s*((re|aw|sv|antw|fwd?|wg|tr)(\[\d+\])?\s*:\s*)+/i;

export function replySubject(subject) {
  const s = (subject || '').trim();
  return 'Re: ' + s.replace(REPLY_PREFIX, '');
}

export function forwardSubject(subject) {
  const s = (subject || '').trim();
  return 'Fwd: ' + s.replace(/^\s*(fwd?|wg)\s*:\s*/i, '');
}

// The subject without reply/forward prefixes (for display of threads).
export function baseSubject(subject) {
  return (subject || '').replace(ANY_PREFIX, '').trim();
}

// "> " before every line; lines already quoted get ">" only (no space), as
// format=flowed readers expect ("> > " would also be read, but ">>" is usual).
export function quoteText(text) {
  const lines = (text || '').replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  return lines.map((l) => (l.startsWith('>') ? '>' + l : l === '' ? '>' : '> ' + l)).join('\n');
}

// References of a reply: the parent's References (or its In-Reply-To), then
// its Message-ID. RFC 8621 gives these as arrays of ids without brackets.
export function referencesFor(email) {
  const refs = [];
  if (Array.isArray(email.references) && email.references.length) refs.push(...email.references);
  else if (Array.isArray(email.inReplyTo) && email.inReplyTo.length === 1) refs.push(email.inReplyTo[0]);
  if (Array.isArray(email.messageId) && email.messageId.length) refs.push(email.messageId[0]);
  const seen = new Set();
  return refs.filter((r) => (seen.has(r) ? false : (seen.add(r), true)));
}

// email: an Email object (from, to, cc, replyTo, subject, messageId, references,
// inReplyTo, sentAt/receivedAt) plus `text` (the body as plain text).
// me: the user's own addresses (strings), removed from reply-all recipients.
// opts: {all, t, formatDate}
export function buildReply(email, me, { all = false, t, formatDate }) {
  const mine = (me || []).map((e) => e.toLowerCase());
  const fromList = email.replyTo && email.replyTo.length ? email.replyTo : email.from || [];
  let to;
  let cc = [];
  const fromIsMe = (email.from || []).some((a) => mine.includes((a.email || '').toLowerCase()));
  if (fromIsMe) {
    // Replying to a message of one's own (in Sent): to its recipients again.
    to = dedupeAddresses(email.to || []);
    if (all) cc = dedupeAddresses(email.cc || [], to.map((a) => a.email));
  } else {
    to = dedupeAddresses(fromList);
    if (all) {
      const taken = [...mine, ...to.map((a) => a.email)];
      const rest = dedupeAddresses([...(email.to || []), ...(email.cc || [])], taken);
      cc = rest;
    }
  }
  const who = (email.from && email.from[0] && (email.from[0].name || email.from[0].email)) || '';
  const date = formatDate(email.sentAt || email.receivedAt);
  const body = '\n\n' + t('quote.wrote', { date, name: who }) + '\n' + quoteText(email.text || '') + '\n';
  return {
    to,
    cc,
    subject: replySubject(email.subject),
    inReplyTo: Array.isArray(email.messageId) && email.messageId.length ? [email.messageId[0]] : null,
    references: referencesFor(email),
    body,
  };
}

// Forward inline: a header block, then the text unquoted; attachments are kept
// by the caller (it re-uses their blobIds).
export function buildForward(email, { t, formatDate }) {
  const lines = ['', '', t('quote.forwarded')];
  lines.push(t('quote.subject') + ': ' + (email.subject || ''));
  lines.push(t('quote.date') + ': ' + formatDate(email.sentAt || email.receivedAt));
  lines.push(t('quote.from') + ': ' + formatAddressList(email.from));
  if (email.to && email.to.length) lines.push(t('quote.to') + ': ' + formatAddressList(email.to));
  if (email.cc && email.cc.length) lines.push(t('quote.cc') + ': ' + formatAddressList(email.cc));
  lines.push('');
  lines.push((email.text || '').replace(/\r\n?/g, '\n').replace(/\n+$/, ''));
  lines.push('');
  return {
    to: [],
    cc: [],
    subject: forwardSubject(email.subject),
    inReplyTo: null,
    references: referencesFor(email),
    body: lines.join('\n'),
  };
}

// Plain text from HTML when a message has no text part (for quoting and the
// no-DOMPurify fallback). Works on a string, without a DOM.
export function htmlToText(html) {
  let s = String(html || '');
  s = s.replace(/<(script|style|head|title)[\s\S]*?<\/\1\s*>/gi, '');
  s = s.replace(/<br\s*\/?>/gi, '\n');
  s = s.replace(/<\/(p|div|h[1-6]|li|tr|blockquote|pre|table)\s*>/gi, '\n');
  s = s.replace(/<li[^>]*>/gi, '• ');
  s = s.replace(/<[^>]*>/g, '');
  s = decodeEntities(s);
  s = s.replace(/[ \t\u00a0]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
  return s.trim();
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', shy: '' };
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      try {
        return String.fromCodePoint(code);
      } catch (err) {
        return m;
      }
    }
    const v = ENTITIES[e.toLowerCase()];
    return v !== undefined ? v : m;
  });
}

// Splits plain text into text and link runs for display: [{text}|{href,text}].
// Only http(s) and mailto links; trailing punctuation is left out of the link.
export function linkify(text) {
  const out = [];
  const re = /\b(https?:\/\/[^\s<>"]+|mailto:[^\s<>"]+|www\.[^\s<>"]+)/gi;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    let url = m[0];
    const trail = /[.,;:!?)\]}'"]+$/.exec(url);
    if (trail) {
      // keep a closing parenthesis that has its opening one inside the URL
      let cut = trail[0];
      if (cut.startsWith(')') && url.slice(0, -cut.length).includes('(')) cut = cut.slice(1);
      if (cut) url = url.slice(0, -cut.length);
    }
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    const href = /^www\./i.test(url) ? 'https://' + url : url;
    out.push({ href, text: url });
    last = m.index + url.length;
    re.lastIndex = last;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
