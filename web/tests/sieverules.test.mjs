// Unit tests of web/js/sieverules.js: the Sieve script the settings page's filter
// rules become, quoting of user text, reading the rules back, hand-edit detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sieveString, generateScript, parseRules, ruleError, moveRule, folderPath, dateToUtc, utcToDate } from '../js/sieverules.js';

test('quoted strings escape " and \\ and drop control characters', () => {
  assert.equal(sieveString('plain'), '"plain"');
  assert.equal(sieveString('say "hi"'), '"say \\"hi\\""');
  assert.equal(sieveString('C:\\temp\\'), '"C:\\\\temp\\\\"');
  assert.equal(sieveString('\\"'), '"\\\\\\""');
  assert.equal(sieveString('a\r\nb\tc\u0000'), '"a  b c "');
  assert.equal(sieveString('Grüße ✉'), '"Grüße ✉"');
  assert.equal(sieveString(''), '""');
});

test('subject contains X: move to a folder', () => {
  const s = generateScript([{ field: 'subject', value: 'Invoice', action: 'move', target: 'Work/Bills' }]);
  const lines = s.split('\r\n');
  assert.ok(s.endsWith('\r\n'));
  assert.ok(lines.includes('require "fileinto";'), s);
  assert.ok(lines.includes('if header :contains "subject" "Invoice" {'), s);
  assert.ok(lines.includes('    fileinto "Work/Bills";'), s);
  assert.ok(!/imap4flags|copy/.test(s.split('# postamt-rules')[0] + lines.filter((l) => l.startsWith('require')).join('')));
});

test('every field and action', () => {
  const rules = [
    { field: 'from', value: 'boss@example.test', action: 'flag' },
    { field: 'to', value: 'team@', action: 'forward', target: 'me@elsewhere.test' },
    { field: 'listid', value: 'announce.example.test', action: 'read' },
    { field: 'subject', value: 'lottery', action: 'delete' },
  ];
  const s = generateScript(rules);
  const body = s.split('\r\n').filter((l) => !l.startsWith('#')).join('\n');
  assert.equal(body, [
    'require ["imap4flags", "copy"];',
    'if header :contains ["from", "sender"] "boss@example.test" {',
    '    addflag "\\\\Flagged";',
    '}',
    'if header :contains "list-id" "announce.example.test" {',
    '    addflag "\\\\Seen";',
    '}',
    'if header :contains ["to", "cc"] "team@" {',
    '    redirect :copy "me@elsewhere.test";',
    '}',
    'if header :contains "subject" "lottery" {',
    '    discard;',
    '    stop;',
    '}',
    '',
  ].join('\n'));
});

test('flag rules come before moves, whatever their place', () => {
  const s = generateScript([
    { field: 'subject', value: 'a', action: 'move', target: 'A' },
    { field: 'subject', value: 'b', action: 'read' },
  ]);
  assert.ok(s.indexOf('addflag') < s.indexOf('fileinto "A"'), s);
});

test('user text with quotes and backslashes stays one string', () => {
  const s = generateScript([{ field: 'subject', value: 'a "quoted" \\ back\\"slash', action: 'move', target: 'F "x" \\y' }]);
  assert.ok(s.includes('if header :contains "subject" "a \\"quoted\\" \\\\ back\\\\\\"slash" {'), s);
  assert.ok(s.includes('fileinto "F \\"x\\" \\\\y";'), s);
  // a newline in the text cannot end the string or start a new command
  const n = generateScript([{ field: 'subject', value: 'x";\ndiscard;#', action: 'read' }]);
  assert.ok(n.includes('"x\\"; discard;#"'), n);
  assert.equal(n.split('\r\n').filter((l) => l.trim() === 'discard;').length, 0, n);
});

test('no rules: a script with no require and no command', () => {
  const s = generateScript([]);
  assert.ok(!s.includes('require'));
  assert.deepEqual(parseRules(s), { rules: [], edited: false });
});

test('rules round-trip through the script', () => {
  const rules = [
    { field: 'subject', value: ' Rechnung "März" \\ ', action: 'move', target: 'Büro' },
    { field: 'from', value: 'x', action: 'forward', target: 'a@b.test' },
    { field: 'listid', value: 'l', action: 'delete', target: 'ignored' },
  ];
  const back = parseRules(generateScript(rules));
  assert.equal(back.edited, false);
  assert.deepEqual(back.rules, [
    { field: 'subject', value: 'Rechnung "März" \\', action: 'move', target: 'Büro' },
    { field: 'from', value: 'x', action: 'forward', target: 'a@b.test' },
    { field: 'listid', value: 'l', action: 'delete' },
  ]);
  // LF line ends (a client that rewrote them) are still the same script
  assert.equal(parseRules(generateScript(rules).replace(/\r\n/g, '\n')).edited, false);
});

test('hand-edited and foreign scripts are recognised', () => {
  const s = generateScript([{ field: 'subject', value: 'a', action: 'read' }]);
  assert.equal(parseRules(s + 'keep;\r\n').edited, true);
  assert.deepEqual(parseRules('require "fileinto";\nfileinto "x";\n'), { rules: null, edited: true });
  assert.deepEqual(parseRules(''), { rules: null, edited: false });
  assert.deepEqual(parseRules('# postamt-rules: {not json\nkeep;'), { rules: null, edited: true });
  assert.deepEqual(parseRules('# postamt-rules: [{"field":"body","value":"x","action":"read"}]\n'), { rules: null, edited: true });
});

test('invalid rules are named and refused by the generator', () => {
  assert.equal(ruleError({ field: 'subject', value: '  ', action: 'read' }), 'rules.err.value');
  assert.equal(ruleError({ field: 'subject', value: 'x'.repeat(501), action: 'read' }), 'rules.err.value');
  assert.equal(ruleError({ field: 'body', value: 'x', action: 'read' }), 'rules.err.field');
  assert.equal(ruleError({ field: 'subject', value: 'x', action: 'reject' }), 'rules.err.action');
  assert.equal(ruleError({ field: 'subject', value: 'x', action: 'move', target: '' }), 'rules.err.folder');
  assert.equal(ruleError({ field: 'subject', value: 'x', action: 'forward', target: 'not an address' }), 'rules.err.address');
  assert.equal(ruleError({ field: 'subject', value: 'x', action: 'forward', target: 'a"b@c.test' }), 'rules.err.address');
  assert.equal(ruleError({ field: 'subject', value: 'x', action: 'forward', target: 'me@host.test' }), null);
  assert.throws(() => generateScript([{ field: 'subject', value: '', action: 'read' }]), /rules\.err\.value/);
});

test('reordering', () => {
  const r = ['a', 'b', 'c'];
  assert.deepEqual(moveRule(r, 0, 1), ['b', 'a', 'c']);
  assert.deepEqual(moveRule(r, 2, -1), ['a', 'c', 'b']);
  assert.deepEqual(moveRule(r, 0, -1), r);
  assert.deepEqual(moveRule(r, 2, 1), r);
  assert.deepEqual(r, ['a', 'b', 'c'], 'the input is not changed');
});

test('folder paths for fileinto', () => {
  const mbs = [
    { id: 'i', name: 'Inbox', role: 'inbox', parentId: null },
    { id: 'w', name: 'Work', parentId: null },
    { id: 'b', name: 'Bills', parentId: 'w' },
    { id: 's', name: 'Sub', parentId: 'i' },
  ];
  assert.equal(folderPath(mbs, 'b'), 'Work/Bills');
  assert.equal(folderPath(mbs, 'i'), 'INBOX');
  assert.equal(folderPath(mbs, 's'), 'INBOX/Sub');
  assert.equal(folderPath(mbs, 'nope'), '');
});

test('vacation dates', () => {
  assert.equal(dateToUtc('2026-12-24'), '2026-12-24T00:00:00Z');
  assert.equal(dateToUtc('2026-12-24', true), '2026-12-24T23:59:59Z');
  assert.equal(dateToUtc(''), null);
  assert.equal(dateToUtc('24.12.2026'), null);
  assert.equal(utcToDate('2026-12-24T00:00:00Z'), '2026-12-24');
  assert.equal(utcToDate(null), '');
});
