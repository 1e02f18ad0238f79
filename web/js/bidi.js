// bidi.js: makes Unicode bidirectional controls in mail headers visible.
//
// A sender controls the subject, the display names and the attachment file names.
// With U+202E RIGHT-TO-LEFT OVERRIDE in it, `invoice\u202Efdp.exe` is shown as
// `invoiceexe.pdf`: the file name lies about its type. So every explicit
// directional control (the embeddings, overrides and isolates of UAX #9 and the
// three marks) is shown as a marker with its short name, in a small box in the
// page (dom.js bidiText) and as `[RLO]` in plain text (the document title, title
// attributes); the rest of the text is kept as it is. Saved file names get `_`
// instead, as the server's Content-Disposition does.

// code point -> [short name, Unicode name]
export const BIDI_CONTROLS = new Map([
  [0x061c, ['ALM', 'ARABIC LETTER MARK']],
  [0x200e, ['LRM', 'LEFT-TO-RIGHT MARK']],
  [0x200f, ['RLM', 'RIGHT-TO-LEFT MARK']],
  [0x202a, ['LRE', 'LEFT-TO-RIGHT EMBEDDING']],
  [0x202b, ['RLE', 'RIGHT-TO-LEFT EMBEDDING']],
  [0x202c, ['PDF', 'POP DIRECTIONAL FORMATTING']],
  [0x202d, ['LRO', 'LEFT-TO-RIGHT OVERRIDE']],
  [0x202e, ['RLO', 'RIGHT-TO-LEFT OVERRIDE']],
  [0x2066, ['LRI', 'LEFT-TO-RIGHT ISOLATE']],
  [0x2067, ['RLI', 'RIGHT-TO-LEFT ISOLATE']],
  [0x2068, ['FSI', 'FIRST STRONG ISOLATE']],
  [0x2069, ['PDI', 'POP DIRECTIONAL ISOLATE']],
]);

const BIDI_RE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// True if the text has a bidi control.
export function hasBidiControls(text) {
  return new RegExp(BIDI_RE.source).test(String(text ?? ''));
}

// The text cut at its controls: strings, and for each control
// {code: 'U+202E', abbr: 'RLO', name: 'RIGHT-TO-LEFT OVERRIDE'}. Empty strings
// are left out.
export function bidiSegments(text) {
  const s = String(text ?? '');
  const out = [];
  let last = 0;
  for (const m of s.matchAll(BIDI_RE)) {
    if (m.index > last) out.push(s.slice(last, m.index));
    const cp = m[0].codePointAt(0);
    const [abbr, name] = BIDI_CONTROLS.get(cp);
    out.push({ code: 'U+' + cp.toString(16).toUpperCase().padStart(4, '0'), abbr, name });
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

// Plain text with each control as `[RLO]` (document title, attributes).
export function showBidi(text) {
  return String(text ?? '').replace(BIDI_RE, (c) => '[' + BIDI_CONTROLS.get(c.codePointAt(0))[0] + ']');
}

// A file name to save under: each control becomes `_`.
export function safeFileName(name) {
  return String(name ?? '').replace(BIDI_RE, '_');
}
