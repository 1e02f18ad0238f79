// address.js: parsing, validating and formatting e-mail addresses as a person
// types them into To/Cc/Bcc (RFC 5322 section 3.4, the forms people use).
//
// parseAddressList("Anna <anna@example.test>, bob@example.test; \"Doe, J\" <j@x.test>")
//   -> {addresses: [{name, email}], invalid: [text]}

// A practical check of addr-spec: dot-atom local part (or a quoted string),
// a domain of labels with at least one dot, or a literal; no spaces.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\u0080-\\uFFFF-]+";
const LOCAL_RE = new RegExp(`^(?:${ATOM}(?:\\.${ATOM})*|"(?:[^"\\\\\\r\\n]|\\\\.)*")$`);
const LABEL_RE = /^(?!-)[A-Za-z0-9\u0080-\uFFFF-]{1,63}(?<!-)$/;

export function isValidEmail(email) {
  if (typeof email !== 'string' || email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || !LOCAL_RE.test(local)) return false;
  if (/^\[[^\]\s]+\]$/.test(domain)) return true;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => LABEL_RE.test(l));
}

// Splits on , or ; outside quotes and angle brackets.
function splitList(text) {
  const parts = [];
  let cur = '';
  let quote = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      cur += ch;
      if (ch === '\\' && i + 1 < text.length) cur += text[++i];
      else if (ch === '"') quote = false;
      continue;
    }
    if (ch === '"') quote = true;
    else if (ch === '<') angle++;
    else if (ch === '>' && angle > 0) angle--;
    else if (ch === '(') comment++;
    else if (ch === ')' && comment > 0) comment--;
    else if ((ch === ',' || ch === ';') && angle === 0 && comment === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function unquote(name) {
  name = name.trim();
  if (name.length >= 2 && name[0] === '"' && name[name.length - 1] === '"') {
    name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return name.trim();
}

// One mailbox: "Name <addr>", "<addr>", "addr", "addr (Name)".
export function parseAddress(text) {
  const t = text.trim();
  const m = /^(.*)<([^<>]*)>\s*$/.exec(t);
  if (m) {
    const email = m[2].trim();
    return isValidEmail(email) ? { name: unquote(m[1]), email } : null;
  }
  const c = /^([^\s()]+)\s*\(([^()]*)\)$/.exec(t);
  if (c && isValidEmail(c[1])) return { name: c[2].trim(), email: c[1] };
  return isValidEmail(t) ? { name: '', email: t } : null;
}

export function parseAddressList(text) {
  const addresses = [];
  const invalid = [];
  for (const part of splitList(text || '')) {
    const a = parseAddress(part);
    if (a) addresses.push(a);
    else invalid.push(part);
  }
  return { addresses, invalid };
}

// For a header field or an input box. Names with specials are quoted.
export function formatAddress(a) {
  if (!a) return '';
  if (!a.name) return a.email;
  const name = /[",;<>@()\[\]:\\.]/.test(a.name) ? '"' + a.name.replace(/(["\\])/g, '\\$1') + '"' : a.name;
  return `${name} <${a.email}>`;
}

export function formatAddressList(list) {
  return (list || []).map(formatAddress).join(', ');
}

// What to show for a sender in a list: the name, else the address.
export function displayName(a) {
  if (!a) return '';
  return a.name || a.email || '';
}

// Removes duplicates (case-insensitive address) and any in `exclude` (emails).
export function dedupeAddresses(list, exclude = []) {
  const seen = new Set(exclude.map((e) => e.toLowerCase()));
  const out = [];
  for (const a of list || []) {
    if (!a || !a.email) continue;
    const k = a.email.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}
