// suggest.js: the address being typed in a To/Cc/Bcc field, and putting a chosen
// suggestion in its place. Addresses are separated by "," or ";" (as address.js
// parses them). Pure: no DOM, unit-tested.

// The token around the caret: {start, end, text} (text trimmed of leading blanks).
export function currentToken(value, caret) {
  const pos = caret === undefined || caret === null ? value.length : caret;
  let start = pos;
  while (start > 0 && value[start - 1] !== ',' && value[start - 1] !== ';') start--;
  let end = pos;
  while (end < value.length && value[end] !== ',' && value[end] !== ';') end++;
  let s = start;
  while (s < end && /\s/.test(value[s])) s++;
  return { start: s, end, text: value.slice(s, end).trim() };
}

// A contact as an address-list entry: "Name <a@b>" (name quoted when needed) or "a@b".
export function formatContact(c) {
  if (!c.name) return c.email;
  const name = /[",;<>@()[\]:\\]/.test(c.name) ? '"' + c.name.replace(/(["\\])/g, '\\$1') + '"' : c.name;
  return `${name} <${c.email}>`;
}

// value with the token at caret replaced by the contact and ", " after it; returns
// {value, caret}.
export function replaceToken(value, caret, contact) {
  const tok = currentToken(value, caret);
  const before = value.slice(0, tok.start);
  const after = value.slice(tok.end).replace(/^[,;]\s*/, '');
  const ins = formatContact(contact) + ', ';
  const v = before + ins + after;
  return { value: v, caret: before.length + ins.length };
}

// The suggestions worth showing for a token: a prefix of at least one character
// that is not already a complete address in the field.
export function wantsSuggestions(token) {
  return token.text.length >= 1 && !/>\s*$/.test(token.text);
}
