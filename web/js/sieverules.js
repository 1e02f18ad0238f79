// sieverules.js: the settings page's simple filter rules and the Sieve script
// (RFC 5228) they become. Pure: no DOM, no network; unit-tested under Node.
//
// A rule is {field, value, action, target}:
//   field   'from' | 'to' | 'subject' | 'listid'   (which header "contains" value)
//   action  'move' (target: the folder's full name, "/" between levels) | 'read' |
//           'flag' | 'forward' (target: an address) | 'delete'
// generateScript(rules) writes a script that carries the rules as JSON in one
// comment line, so parseRules(script) gives them back; a script edited by hand
// (its text differs from what its rules generate) is reported as such.

export const FIELDS = ['from', 'to', 'subject', 'listid'];
export const ACTIONS = ['move', 'read', 'flag', 'forward', 'delete'];
export const SCRIPT_NAME = 'webmail';
const MARK = '# postamt-rules: ';
// Limits of one rule (the server limits the whole script too).
export const MAX_VALUE = 500;
export const MAX_RULES = 200;

// The headers each field tests. Sender: From and Sender; recipient: To and Cc.
const HEADERS = {
  from: ['from', 'sender'],
  to: ['to', 'cc'],
  subject: ['subject'],
  listid: ['list-id'],
};

// A Sieve quoted string (RFC 5228 §2.4.2): `"` and `\` escaped; line breaks and
// other control characters (which a one-line field cannot mean) become spaces.
export function sieveString(s) {
  const clean = String(s).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return '"' + clean.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function stringList(list) {
  return list.length === 1 ? sieveString(list[0]) : '[' + list.map(sieveString).join(', ') + ']';
}

const ADDRESS = /^[^\s@"\\<>(),;:]+@[^\s@"\\<>(),;:]+\.[^\s@"\\<>(),;:]+$/;

// Why a rule cannot be used: null when it is fine, else an i18n key
// ('rules.err.value', 'rules.err.folder', 'rules.err.address', 'rules.err.field',
// 'rules.err.action').
export function ruleError(r) {
  if (!r || !FIELDS.includes(r.field)) return 'rules.err.field';
  if (!ACTIONS.includes(r.action)) return 'rules.err.action';
  const v = typeof r.value === 'string' ? r.value.trim() : '';
  if (!v || v.length > MAX_VALUE) return 'rules.err.value';
  if (r.action === 'move' && !(typeof r.target === 'string' && r.target.trim())) return 'rules.err.folder';
  if (r.action === 'forward' && !(typeof r.target === 'string' && ADDRESS.test(r.target.trim()))) return 'rules.err.address';
  return null;
}

// Only the properties a rule has, trimmed (what is stored in the script).
export function normalizeRule(r) {
  const out = { field: r.field, value: String(r.value || '').trim(), action: r.action };
  if (r.action === 'move' || r.action === 'forward') out.target = String(r.target || '').trim();
  return out;
}

function actionLines(r) {
  switch (r.action) {
    case 'move': return ['fileinto ' + sieveString(r.target) + ';'];
    case 'read': return ['addflag "\\\\Seen";'];
    case 'flag': return ['addflag "\\\\Flagged";'];
    case 'forward': return ['redirect :copy ' + sieveString(r.target) + ';'];
    case 'delete': return ['discard;', 'stop;'];
    default: throw new Error('unknown action ' + r.action);
  }
}

// The Sieve script for rules (every rule must pass ruleError; throws otherwise).
// Flag rules (read, flag) come first so that they apply to every copy filed later,
// whatever their place in the list; the others follow in the list's order. A
// message that no rule moves or deletes stays in the inbox (implicit keep).
export function generateScript(rules) {
  if (rules.length > MAX_RULES) throw new Error('too many rules');
  const norm = rules.map((r) => {
    const e = ruleError(r);
    if (e) throw new Error(e);
    return normalizeRule(r);
  });
  const need = new Set();
  for (const r of norm) {
    if (r.action === 'move') need.add('fileinto');
    if (r.action === 'read' || r.action === 'flag') need.add('imap4flags');
    if (r.action === 'forward') need.add('copy');
  }
  const lines = [
    '# Filter rules of the postamt webmail (Settings, Rules). Change them there:',
    '# saving the rules replaces this script.',
    MARK + JSON.stringify(norm),
  ];
  const req = ['fileinto', 'imap4flags', 'copy'].filter((x) => need.has(x));
  if (req.length) lines.push('require ' + stringList(req) + ';');
  const flagsFirst = norm.filter((r) => r.action === 'read' || r.action === 'flag');
  const rest = norm.filter((r) => r.action !== 'read' && r.action !== 'flag');
  for (const r of flagsFirst.concat(rest)) {
    lines.push('if header :contains ' + stringList(HEADERS[r.field]) + ' ' + sieveString(r.value) + ' {');
    for (const l of actionLines(r)) lines.push('    ' + l);
    lines.push('}');
  }
  return lines.join('\r\n') + '\r\n';
}

// The rules a script carries: {rules, edited}; rules is null when the script has no
// rules line (not written by the webmail) or it cannot be read; edited is true when
// the script's text is not what its rules generate (changed by hand or by another
// program).
export function parseRules(script) {
  const text = String(script || '');
  const line = text.split(/\r?\n/).find((l) => l.startsWith(MARK));
  if (!line) return { rules: null, edited: text.trim() !== '' };
  let rules;
  try {
    rules = JSON.parse(line.slice(MARK.length));
  } catch (e) {
    return { rules: null, edited: true };
  }
  if (!Array.isArray(rules) || rules.some((r) => ruleError(r))) return { rules: null, edited: true };
  rules = rules.map(normalizeRule);
  let edited;
  try {
    edited = generateScript(rules).replace(/\r\n/g, '\n') !== text.replace(/\r\n/g, '\n');
  } catch (e) {
    edited = true;
  }
  return { rules, edited };
}

// Moves rule i by delta places (-1 up, +1 down) in a copy of the list.
export function moveRule(rules, i, delta) {
  const j = i + delta;
  const out = rules.slice();
  if (i < 0 || i >= out.length || j < 0 || j >= out.length) return out;
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

// A folder's full name for fileinto: its ancestors' names and its own, joined by
// "/" (the hierarchy delimiter). mailboxes: JMAP Mailbox objects.
export function folderPath(mailboxes, id) {
  const byId = new Map(mailboxes.map((m) => [m.id, m]));
  const parts = [];
  const seen = new Set();
  let m = byId.get(id);
  while (m && !seen.has(m.id)) {
    seen.add(m.id);
    parts.unshift(m.role === 'inbox' && !m.parentId ? 'INBOX' : m.name);
    m = m.parentId ? byId.get(m.parentId) : null;
  }
  return parts.join('/');
}

// Vacation dates: the value of an <input type="date"> ("2026-12-24") as a JMAP
// UTCDate at the start (or, for an end date, the end) of that day in UTC, and back.
export function dateToUtc(value, end) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value || '')) return null;
  return value + (end ? 'T23:59:59Z' : 'T00:00:00Z');
}
export function utcToDate(utc) {
  return typeof utc === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(utc) ? utc.slice(0, 10) : '';
}
