// search.js: the search box's language, as a JMAP Email/query filter (RFC 8621
// 4.4.1), and the highlighted snippets of SearchSnippet/get (RFC 8621 5.1).
// Pure. The operators are the same words in every language of the interface
// (German users type from: like everyone; von:, an:, betreff: and ist: are
// understood as well):
//
//   from: to: cc: bcc: subject: body:   text in that field ("quoted words" too)
//   in:FOLDER        one folder (name, or inbox/sent/drafts/archive/junk/trash in
//                    English or German); in:all also searches Junk and Trash
//   before:DATE after:DATE              received before that day / on or after it
//                    (2024-03-31, 2024/03/31 or 31.03.2024, the browser's time zone)
//   older_than:N newer_than:N           N days, weeks, months or years (7d 2w 3m 1y)
//   has:attachment   is:unread is:read is:flagged
//
// Without in: the search covers every folder except Junk and Trash. Whatever is
// not understood is said in `hints` (i18n keys), never silently dropped.

const FIELDS = { from: 'from', to: 'to', cc: 'cc', bcc: 'bcc', subject: 'subject', body: 'body', von: 'from', an: 'to', betreff: 'subject' };
const ALIASES = { ist: 'is', vor: 'before', nach: 'after', hat: 'has' };
export const OPERATORS = ['from', 'to', 'cc', 'bcc', 'subject', 'body', 'in', 'before', 'after', 'older_than', 'newer_than', 'has', 'is'];
const ROLE_WORDS = {
  inbox: 'inbox', posteingang: 'inbox', sent: 'sent', gesendet: 'sent', drafts: 'drafts', entwürfe: 'drafts', entwuerfe: 'drafts',
  archive: 'archive', archiv: 'archive', junk: 'junk', spam: 'junk', trash: 'trash', papierkorb: 'trash', bin: 'trash',
};
const ALL_WORDS = new Set(['all', 'alle', 'anywhere', 'überall', 'ueberall']);
const IS = {
  unread: { notKeyword: '$seen' }, ungelesen: { notKeyword: '$seen' }, read: { hasKeyword: '$seen' }, gelesen: { hasKeyword: '$seen' },
  flagged: { hasKeyword: '$flagged' }, starred: { hasKeyword: '$flagged' }, markiert: { hasKeyword: '$flagged' },
};
const UNITS = { d: 1, t: 1, w: 7, m: 30, y: 365, j: 365 };

// RFC 8620 1.4 UTCDate: no fractions.
const utc = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// "2024-03-31", "2024/3/31", "31.03.2024" -> local midnight of that day, or null.
export function parseDay(s) {
  let m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(s);
  let y;
  let mo;
  let d;
  if (m) [, y, mo, d] = m;
  else if ((m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s))) [, d, mo, y] = m;
  else return null;
  const date = new Date(Number(y), Number(mo) - 1, Number(d));
  if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return null;
  return date;
}

function findFolder(word, mailboxes) {
  const w = word.toLowerCase();
  const byName = mailboxes.find((m) => (m.name || '').toLowerCase() === w);
  if (byName) return byName;
  const role = ROLE_WORDS[w];
  return role ? mailboxes.find((m) => m.role === role) || null : null;
}

// query: what the user typed; mailboxes: Mailbox/get's list; now: for
// older_than/newer_than. Returns {filter, folder (the mailbox of in:, or
// null: all folders), all (in:all), hints: [{key, vars}]}. filter is null
// for an empty query.
export function parseQuery(query, { mailboxes = [], now = new Date() } = {}) {
  const re = /([\p{L}_]+):(?:"([^"]*)"|(\S*))|"([^"]*)"|(\S+)/gu;
  const conds = [];
  const text = [];
  const hints = [];
  let folder = null;
  let all = false;
  let m;
  while ((m = re.exec(query || ''))) {
    if (m[4] !== undefined || m[5] !== undefined) {
      text.push(m[4] !== undefined ? m[4] : m[5]);
      continue;
    }
    const raw = m[1].toLowerCase();
    const op = ALIASES[raw] || raw;
    const val = m[2] !== undefined ? m[2] : m[3];
    const known = FIELDS[op] || OPERATORS.includes(op);
    if (known && !val) { hints.push({ key: 'search.hint.value', vars: { op: m[1], value: '' } }); continue; }
    if (FIELDS[op]) { conds.push({ [FIELDS[op]]: val }); continue; }
    if (!known) {
      // not an operator: text ("re:" in a subject, a URL's "https:")
      text.push(m[0]);
      if (!val.startsWith('//')) hints.push({ key: 'search.hint.operator', vars: { op: m[1] } });
      continue;
    }
    const v = val.toLowerCase();
    if (op === 'in') {
      if (ALL_WORDS.has(v)) { all = true; folder = null; continue; }
      const f = findFolder(val, mailboxes);
      if (f) folder = f;
      else hints.push({ key: 'search.hint.folder', vars: { name: val } });
    } else if (op === 'before' || op === 'after') {
      const d = parseDay(val);
      if (d) conds.push({ [op]: utc(d) });
      else hints.push({ key: 'search.hint.date', vars: { value: val } });
    } else if (op === 'older_than' || op === 'newer_than') {
      const age = /^(\d{1,5})([dtwmyj])$/.exec(v);
      if (age) {
        const d = new Date(now.getTime() - Number(age[1]) * UNITS[age[2]] * 86400000);
        conds.push({ [op === 'older_than' ? 'before' : 'after']: utc(d) });
      } else {
        hints.push({ key: 'search.hint.age', vars: { value: val } });
      }
    } else if (op === 'has') {
      if (v === 'attachment' || v === 'anhang') conds.push({ hasAttachment: true });
      else hints.push({ key: 'search.hint.value', vars: { op: m[1], value: val } });
    } else if (op === 'is') {
      if (IS[v]) conds.push(Object.assign({}, IS[v]));
      else hints.push({ key: 'search.hint.value', vars: { op: m[1], value: val } });
    }
  }
  const words = text.join(' ').trim();
  if (words) conds.push({ text: words });
  if (!conds.length && !folder) return { filter: null, folder, all, hints };
  if (folder) conds.push({ inMailbox: folder.id });
  else if (!all) {
    const skip = mailboxes.filter((x) => x.role === 'junk' || x.role === 'trash').map((x) => x.id);
    if (skip.length) conds.push({ inMailboxOtherThan: skip });
  }
  return { filter: merge(conds), folder, all, hints };
}

// One FilterCondition when no property repeats; else an AND of them.
function merge(conds) {
  if (conds.length === 1) return conds[0];
  const keys = conds.flatMap((c) => Object.keys(c));
  if (new Set(keys).size === keys.length) return Object.assign({}, ...conds);
  return { operator: 'AND', conditions: conds };
}

// Whether SearchSnippet/get has anything to highlight for the filter: it
// looks at text, body and subject conditions.
export function wantsSnippets(filter) {
  if (!filter) return false;
  if (filter.conditions) return filter.operator !== 'NOT' && filter.conditions.some(wantsSnippets);
  return ['text', 'body', 'subject'].some((k) => typeof filter[k] === 'string');
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'" };
const unescape = (s) => s.replace(/&(amp|lt|gt|quot|apos|#39|#x27);/g, (_, e) => ENTITIES[e]);

// A snippet (HTML-escaped text with <mark> around the matches, RFC 8621 5.1)
// as [{text, mark}] to put into the page as text: the snippet is never parsed
// as HTML, so nothing in a mail can become markup through it.
export function snippetParts(html) {
  if (typeof html !== 'string') return null;
  const out = [];
  const re = /<mark>([\s\S]*?)<\/mark>/g;
  let last = 0;
  let m;
  while ((m = re.exec(html))) {
    if (m.index > last) out.push({ text: unescape(html.slice(last, m.index)), mark: false });
    out.push({ text: unescape(m[1]), mark: true });
    last = re.lastIndex;
  }
  if (last < html.length) out.push({ text: unescape(html.slice(last)), mark: false });
  return out.filter((p) => p.text !== '');
}
