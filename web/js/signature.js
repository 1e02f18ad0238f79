// signature.js: HTML signatures (an identity's htmlSignature, RFC 8621 section
// 6). Messages are written as text; the plain-text signature stays what
// compose puts in. When the sender identity also has an HTML signature, the
// message goes out with an HTML version as well (multipart/alternative): the
// text as HTML, with the signature block replaced by the formatted one.
//
// An HTML signature is only ever used cleaned (cleanSignature: DOMPurify with a
// short list of formatting tags, links to https:, mailto: and tel: only, no
// pictures, no styles): when the settings save it, when they show its preview,
// and when compose puts it into a message, so one stored by another client
// with a script in it never reaches a page or a message as it was.

export const SIG_SEPARATOR = '-- \n'; // RFC 3676 section 4.3

export const SIGNATURE_TAGS = ['a', 'b', 'strong', 'i', 'em', 'u', 's', 'br', 'p', 'div', 'span', 'small', 'sub', 'sup', 'ul', 'ol', 'li'];
export const SIGNATURE_PURIFY = {
  ALLOWED_TAGS: SIGNATURE_TAGS,
  ALLOWED_ATTR: ['href', 'title'],
  ALLOWED_URI_REGEXP: /^(?:https:|mailto:|tel:)/i,
  ALLOW_DATA_ATTR: false,
  KEEP_CONTENT: true,
};
export const SIGNATURE_MAX = 16 * 1024;

// The cleaned HTML ('' when nothing is left or no purifier is at hand: then
// the HTML signature is not used at all).
export function cleanSignature(purify, html) {
  if (!purify || typeof html !== 'string' || !html.trim()) return '';
  const out = String(purify.sanitize(html.slice(0, SIGNATURE_MAX), SIGNATURE_PURIFY)).trim();
  return /\S/.test(out.replace(/<[^>]*>/g, '')) ? out : '';
}

export function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function textToHtml(text) {
  return escapeHtml(text.replace(/\r\n?/g, '\n')).replace(/\n/g, '<br>\n');
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

// A text version of cleaned signature HTML (for the text part when the identity
// has no text signature): line breaks for <br> and blocks, a link's address
// after its text when it differs.
export function signatureHtmlToText(html) {
  return String(html)
    .replace(/<a\b[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (m, href, inner) => {
      const text = inner.replace(/<[^>]*>/g, '');
      const addr = href.replace(/^mailto:/i, '');
      return text.trim() === addr || text.trim() === href ? text : `${text} \u0002${addr}\u0003`;
    })
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|ul|ol)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#39|[a-z]+);/gi, (m, n) => ENTITIES[n.toLowerCase()] ?? m)
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\u0002/g, '<').replace(/\u0003/g, '>')
    .trim();
}

// Where the signature block ("-- \n" + sigText at the start of a line) is in
// the text: {before, after}, or null when the writer removed or changed it.
export function splitSignature(body, sigText) {
  if (!sigText) return null;
  const block = SIG_SEPARATOR + sigText;
  let i = body.indexOf(block);
  while (i > 0 && body[i - 1] !== '\n') i = body.indexOf(block, i + 1);
  if (i < 0) return null;
  return { before: body.slice(0, i), after: body.slice(i + block.length) };
}

// The HTML version of a message written as text, with the HTML signature in
// place of its text one; null when there is no signature block to replace.
export function htmlBodyFor(body, sigText, sigHtml) {
  if (!sigHtml) return null;
  const parts = splitSignature(body.replace(/\r\n?/g, '\n'), sigText);
  if (!parts) return null;
  const after = parts.after.replace(/^\n/, '');
  return '<!DOCTYPE html><html><body><div>' + textToHtml(parts.before) + '</div>'
    + '<div class="signature">-- <br>\n' + sigHtml + '</div>'
    + (after ? '<div><br>\n' + textToHtml(after) + '</div>' : '') + '</body></html>';
}
