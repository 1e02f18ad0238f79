// css.js: finds and rewrites every resource address in CSS text, the way a
// browser's CSS tokenizer sees it (CSS Syntax Level 3 §4.3), for sanitize.js.
//
// Matching the text `url(` is not enough: a browser decodes escapes in names and
// strings first (`u\72l(`, `\75 rl(`, `@\69mport`, `url("\68ttps://…")`), and
// loads resources through other functions too (`image-set("…" 1x)`,
// `-webkit-image-set()`, `image("…")`, `cross-fade()`, `src("…")`). So the text is
// tokenized here: comments become a space, escapes are decoded, and the tokens
// are written back in a plain spelling that tokenizes the same (characters that
// could matter to HTML or CSS, such as `<`, `(` or quotes in names, stay escaped as
// `\HEX `). Every url token, and every string that is a url() argument or an
// argument of a loading function, is handed to a callback that keeps, replaces
// or drops it. Every @import rule is dropped whole (no CSP of ours allows remote
// style sheets).

// Functions whose string arguments are addresses (vendor prefixes removed).
const LOADERS = new Set(['url', 'src', 'image-set', 'image', 'cross-fade']);

const isHex = (c) => /^[0-9a-fA-F]$/.test(c);
const isWs = (c) => c === ' ' || c === '\t' || c === '\n';
const isNameStart = (c) => c !== undefined && (/^[a-zA-Z_]$/.test(c) || c.codePointAt(0) >= 0x80);
const isName = (c) => c !== undefined && (isNameStart(c) || /^[0-9-]$/.test(c));
const isNonPrintable = (c) => /^[\x00-\x08\x0b\x0e-\x1f\x7f]$/.test(c);

// §3.3: CR LF, CR and FF become LF; NUL becomes U+FFFD.
function preprocess(s) {
  return Array.from(String(s).replace(/\r\n?|\f/g, '\n').replace(/\0/g, '\uFFFD'));
}

// CSS text as a list of code points with a cursor, and the token readers.
class Tokenizer {
  constructor(css) {
    this.c = preprocess(css);
    this.i = 0;
  }

  at(k = 0) {
    return this.c[this.i + k];
  }

  // §4.3.8: a backslash not followed by a newline (or the end).
  validEscape(k = 0) {
    return this.at(k) === '\\' && this.at(k + 1) !== '\n' && this.at(k + 1) !== undefined;
  }

  // §4.3.9: would the next code points start an ident sequence?
  startsIdent(k = 0) {
    const a = this.at(k);
    if (a === '-') return isNameStart(this.at(k + 1)) || this.at(k + 1) === '-' || this.validEscape(k + 1);
    if (a === '\\') return this.validEscape(k);
    return isNameStart(a);
  }

  // §4.3.7: after the backslash. Up to 6 hex digits and one whitespace, or one code point.
  escape() {
    let c = this.at();
    if (c === undefined) return '\uFFFD';
    if (isHex(c)) {
      let hex = '';
      while (hex.length < 6 && isHex(this.at())) hex += this.c[this.i++];
      if (isWs(this.at())) this.i++;
      const n = parseInt(hex, 16);
      return n === 0 || (n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff ? '\uFFFD' : String.fromCodePoint(n);
    }
    this.i++;
    return c;
  }

  // §4.3.11: the name, escapes decoded.
  name() {
    let s = '';
    for (;;) {
      const c = this.at();
      if (isName(c)) {
        s += c;
        this.i++;
      } else if (this.validEscape()) {
        this.i++;
        s += this.escape();
      } else {
        return s;
      }
    }
  }

  // §4.3.5, after the opening quote: {value, bad}. A bad string ends before its newline.
  string(quote) {
    let s = '';
    for (;;) {
      const c = this.at();
      if (c === undefined) return { value: s, bad: false };
      if (c === quote) {
        this.i++;
        return { value: s, bad: false };
      }
      if (c === '\n') return { value: s, bad: true };
      this.i++;
      if (c === '\\') {
        if (this.at() === undefined) continue;
        if (this.at() === '\n') this.i++;
        else s += this.escape();
      } else {
        s += c;
      }
    }
  }

  // §4.3.6, after `url(` and its whitespace: {value, bad}.
  unquotedUrl() {
    let s = '';
    for (;;) {
      const c = this.at();
      if (c === undefined) return { value: s, bad: false };
      this.i++;
      if (c === ')') return { value: s, bad: false };
      if (isWs(c)) {
        while (isWs(this.at())) this.i++;
        if (this.at() === ')' || this.at() === undefined) {
          if (this.at() === ')') this.i++;
          return { value: s, bad: false };
        }
        this.badUrlRest();
        return { value: s, bad: true };
      }
      if (c === '"' || c === "'" || c === '(' || isNonPrintable(c)) {
        this.badUrlRest();
        return { value: s, bad: true };
      }
      if (c === '\\') {
        if (this.validEscape(-1)) {
          s += this.escape();
        } else {
          this.badUrlRest();
          return { value: s, bad: true };
        }
      } else {
        s += c;
      }
    }
  }

  // §4.3.14: the rest of a bad url, up to and with its `)`.
  badUrlRest() {
    for (;;) {
      const c = this.at();
      if (c === undefined) return;
      if (c === ')') {
        this.i++;
        return;
      }
      if (this.validEscape()) {
        this.i++;
        this.escape();
      } else {
        this.i++;
      }
    }
  }
}

// A name written back: safe characters as they are, anything else as `\HEX `.
function serializeName(s) {
  const cps = Array.from(s);
  if (s === '-') return '\\-';
  return cps
    .map((c, k) => {
      const digitStart = /^[0-9]$/.test(c) && (k === 0 || (k === 1 && cps[0] === '-'));
      if (!digitStart && (isName(c) && c !== '\uFFFD')) return c;
      return '\\' + c.codePointAt(0).toString(16) + ' ';
    })
    .join('');
}

// A string written back with double quotes; quotes, backslashes, newlines and
// anything that HTML or CSS could read otherwise stay escaped.
function serializeString(s) {
  return '"' + Array.from(s).map((c) => (/^[\x20-\x7e]$/.test(c) && !/["'\\<>&]/.test(c)) || c.codePointAt(0) >= 0xa0 ? c : '\\' + c.codePointAt(0).toString(16) + ' ').join('') + '"';
}

// An unquoted url() value written back.
function serializeUrl(s) {
  return Array.from(s).map((c) => (/^[\x21-\x7e]$/.test(c) && !/["'()\\<>&]/.test(c)) || c.codePointAt(0) >= 0xa0 ? c : '\\' + c.codePointAt(0).toString(16) + ' ').join('');
}

// The lower-case function name without a vendor prefix: `-webkit-image-set` → `image-set`.
function baseName(name) {
  return name.toLowerCase().replace(/^-[a-z]+-(?=[a-z])/, '');
}

// Rewrites the resource addresses of CSS text. onUrl(address) returns the address
// to write (the same to keep it, another to replace it) or null to drop it. Returns
// {css, changed, imports}: the text written back from its tokens, whether any
// address was replaced or dropped, and the number of @import rules dropped.
export function rewriteCssUrls(css, onUrl) {
  const t = new Tokenizer(css);
  const out = [];
  const stack = []; // enclosing functions ('' for a plain parenthesis)
  let changed = false;
  let imports = 0;
  let skip = null; // while dropping an @import: {depth}
  const emit = (s) => {
    if (!skip) out.push(s);
  };
  const address = (value) => {
    if (skip) return null;
    const v = onUrl(value);
    if (v !== value) changed = true;
    return v;
  };
  const open = (name) => {
    stack.push(name);
    if (skip) skip.depth++;
  };
  const close = () => {
    stack.pop();
    if (skip && skip.depth > 0) skip.depth--;
  };
  const inLoader = () => stack.length > 0 && LOADERS.has(stack[stack.length - 1]);

  while (t.at() !== undefined) {
    const c = t.at();
    if (c === '/' && t.at(1) === '*') {
      t.i += 2;
      while (t.at() !== undefined && !(t.at() === '*' && t.at(1) === '/')) t.i++;
      if (t.at() !== undefined) t.i += 2;
      emit(' ');
    } else if (c === '"' || c === "'") {
      t.i++;
      const s = t.string(c);
      if (!s.bad && inLoader()) {
        const v = address(s.value);
        if (v !== null) emit(serializeString(v));
        else if (stack[stack.length - 1] !== 'url') emit('""');
      } else {
        emit(s.bad ? serializeString(s.value).slice(0, -1) : serializeString(s.value));
      }
    } else if (c === '@' && t.startsIdent(1)) {
      t.i++;
      const name = t.name();
      if (name.toLowerCase() === 'import' && !skip) {
        imports++;
        skip = { depth: 0 };
      }
      emit('@' + serializeName(name));
    } else if (t.startsIdent()) {
      const start = t.i;
      const name = t.name();
      if (t.at() !== '(') {
        emit(serializeName(name));
        continue;
      }
      t.i++;
      if (name.toLowerCase() === 'url') {
        while (isWs(t.at())) t.i++;
        if (t.at() === '"' || t.at() === "'") {
          emit('url(');
          open('url');
          continue;
        }
        const u = t.unquotedUrl();
        if (u.bad) {
          emit(t.c.slice(start, t.i).join(''));
          continue;
        }
        const v = address(u.value);
        emit('url(' + (v === null ? '' : serializeUrl(v)) + ')');
        continue;
      }
      emit(serializeName(name) + '(');
      open(baseName(name));
    } else if (c === '(' || c === '[' || c === '{') {
      t.i++;
      emit(c);
      if (c === '(') open('');
      else if (skip) skip.depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      t.i++;
      // a `}` that closes the block around an @import (invalid there) ends it
      if (skip && skip.depth === 0 && c === '}') skip = null;
      emit(c);
      if (c === ')') {
        close();
      } else if (skip && skip.depth > 0) {
        skip.depth--;
        if (skip.depth === 0 && c === '}') skip = null; // the @import's own block
      }
    } else if (c === ';') {
      t.i++;
      emit(c);
      if (skip && skip.depth === 0) skip = null;
    } else {
      t.i++;
      emit(c);
    }
  }
  return { css: out.join(''), changed, imports };
}

// The address as a remote one, or null: http(s), protocol-relative, or any other
// scheme but data: and cid: (those are shown without asking).
export function isRemoteAddress(v) {
  const s = String(v).trim();
  if (/^(https?:)?\/\//i.test(s)) return true;
  return /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^(data|cid):/i.test(s);
}
