// textblocks.js: a plain text body cut into what the reader shows and what it
// folds away: the new text, quoted history ("> " lines, with the "On ... wrote:"
// line that introduces them) and the signature (from the "-- " separator of
// RFC 3676 section 4.3 to the end). Pure.

// Attribution lines of the common clients, English and German:
// "On Mon, 7 Dec 2026, Anna <a@x> wrote:", "Am 07.12.2026 um 10:00 schrieb Anna:".
const ATTRIBUTION = /^(On\b.*\bwrote:|Am\b.*\bschrieb\b.*:|-{2,}\s*(Original Message|Ursprüngliche Nachricht)\s*-{2,})\s*$/i;
// A quote block only folds when it is worth a click.
export const MIN_FOLD_LINES = 3;

// Returns [{kind: 'text'|'quote'|'signature', lines: [...]}], consecutive and
// covering every line once. A short quote (under MIN_FOLD_LINES) stays text.
export function splitBlocks(text) {
  const lines = String(text || '').replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  const blocks = [];
  const push = (kind, line) => {
    const last = blocks[blocks.length - 1];
    if (last && last.kind === kind) last.lines.push(line);
    else blocks.push({ kind, lines: [line] });
  };
  let sig = -1;
  // The last "-- " line starts the signature, unless quoted text follows it
  // (then it is a quoted message's signature, part of the quote).
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i] === '-- ' || lines[i] === '--') {
      if (!lines.slice(i + 1).some((l) => /^\s*>/.test(l))) sig = i;
      break;
    }
  }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (sig >= 0 && i >= sig) push('signature', l);
    else if (/^\s*>/.test(l)) push('quote', l);
    else if (ATTRIBUTION.test(l.trim()) && nextQuoted(lines, i + 1)) push('quote', l);
    else if (!l.trim() && blocks.length && blocks[blocks.length - 1].kind === 'quote' && nextQuoted(lines, i + 1)) push('quote', l);
    else push('text', l);
  }
  // Short quotes are read in place: fold only what is long enough.
  const out = [];
  for (const b of blocks) {
    const kind = b.kind === 'quote' && b.lines.length < MIN_FOLD_LINES ? 'text' : b.kind;
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.lines.push(...b.lines);
    else out.push({ kind, lines: [...b.lines] });
  }
  return out;
}

// True if the next non-empty line from i on is quoted.
function nextQuoted(lines, i) {
  for (; i < lines.length; i++) {
    if (lines[i].trim()) return /^\s*>/.test(lines[i]);
  }
  return false;
}
