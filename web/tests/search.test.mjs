// Unit tests of web/js/search.js: the search box's operators as a JMAP filter,
// hints for what is not understood, and snippet highlighting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery, parseDay, wantsSnippets, snippetParts } from '../js/search.js';

const boxes = [
  { id: 'i', name: 'INBOX', role: 'inbox' }, { id: 's', name: 'Sent', role: 'sent' }, { id: 'a', name: 'Archive', role: 'archive' },
  { id: 'j', name: 'Junk', role: 'junk' }, { id: 't', name: 'Trash', role: 'trash' }, { id: 'p', name: 'Projects', role: null },
];
const q = (s, now) => parseQuery(s, { mailboxes: boxes, now });
const NOT_JT = { inMailboxOtherThan: ['j', 't'] };
const day = (y, m, d) => new Date(y, m - 1, d).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('plain words: all folders but Junk and Trash', () => {
  assert.deepEqual(q('invoice march'), { filter: Object.assign({ text: 'invoice march' }, NOT_JT), folder: null, all: false, hints: [] });
  assert.deepEqual(q('"exact phrase" http://x.test:80/a').filter, Object.assign({ text: 'exact phrase http://x.test:80/a' }, NOT_JT));
  assert.equal(q('   ').filter, null);
  assert.deepEqual(parseQuery('x', { mailboxes: [] }).filter, { text: 'x' });
});

test('field operators, quoted values, German aliases; a repeated field makes an AND', () => {
  assert.deepEqual(q('from:anna subject:"big news" invoice').filter, Object.assign({ from: 'anna', subject: 'big news', text: 'invoice' }, NOT_JT));
  assert.deepEqual(q('von:anna betreff:x an:bob@example.test').filter, Object.assign({ from: 'anna', subject: 'x', to: 'bob@example.test' }, NOT_JT));
  assert.deepEqual(q('from:a from:b').filter, { operator: 'AND', conditions: [{ from: 'a' }, { from: 'b' }, NOT_JT] });
  assert.deepEqual(q('cc:c bcc:d body:e').filter, Object.assign({ cc: 'c', bcc: 'd', body: 'e' }, NOT_JT));
});

test('in: a folder by name or role word (English or German); in:all includes Junk and Trash', () => {
  const r = q('in:archive report');
  assert.equal(r.folder.id, 'a');
  assert.deepEqual(r.filter, { text: 'report', inMailbox: 'a' });
  assert.equal(q('in:Papierkorb').filter.inMailbox, 't');
  assert.equal(q('in:projects x').filter.inMailbox, 'p');
  assert.equal(q('in:posteingang x').filter.inMailbox, 'i');
  assert.deepEqual(q('in:all x'), { filter: { text: 'x' }, folder: null, all: true, hints: [] });
  assert.deepEqual(q('in:alle x').filter, { text: 'x' });
  const unknown = q('in:nowhere x');
  assert.deepEqual(unknown.hints, [{ key: 'search.hint.folder', vars: { name: 'nowhere' } }]);
  assert.deepEqual(unknown.filter, Object.assign({ text: 'x' }, NOT_JT));
});

test('dates: before:/after: on local days, older_than:/newer_than: from now', () => {
  assert.deepEqual(q('before:2024-03-01').filter, Object.assign({ before: day(2024, 3, 1) }, NOT_JT));
  assert.deepEqual(q('after:1.2.2024').filter, Object.assign({ after: day(2024, 2, 1) }, NOT_JT));
  assert.deepEqual(q('nach:2024/02/01 vor:2024-02-29').filter, Object.assign({ after: day(2024, 2, 1), before: day(2024, 2, 29) }, NOT_JT));
  const now = new Date('2025-03-10T12:00:00Z');
  assert.deepEqual(q('older_than:7d', now).filter, Object.assign({ before: '2025-03-03T12:00:00Z' }, NOT_JT));
  assert.deepEqual(q('newer_than:2w', now).filter, Object.assign({ after: '2025-02-24T12:00:00Z' }, NOT_JT));
  assert.equal(q('older_than:1y', now).filter.before, '2024-03-10T12:00:00Z');
  assert.deepEqual(q('before:2024-02-30').hints, [{ key: 'search.hint.date', vars: { value: '2024-02-30' } }]);
  assert.deepEqual(q('older_than:soon').hints, [{ key: 'search.hint.age', vars: { value: 'soon' } }]);
  assert.equal(parseDay('31.12.2024').getDate(), 31);
  assert.equal(parseDay('2024-13-01'), null);
  assert.equal(parseDay('yesterday'), null);
});

test('has: and is:, English and German', () => {
  assert.deepEqual(q('is:unread has:attachment is:flagged').filter, Object.assign({ notKeyword: '$seen', hasAttachment: true, hasKeyword: '$flagged' }, NOT_JT));
  assert.deepEqual(q('ist:ungelesen hat:anhang').filter, Object.assign({ notKeyword: '$seen', hasAttachment: true }, NOT_JT));
  assert.deepEqual(q('is:read is:flagged').filter, { operator: 'AND', conditions: [{ hasKeyword: '$seen' }, { hasKeyword: '$flagged' }, NOT_JT] });
});

test('what is not understood is said, not dropped silently', () => {
  const r = q('colour:red is:shiny has:wings x');
  assert.deepEqual(r.hints, [
    { key: 'search.hint.operator', vars: { op: 'colour' } },
    { key: 'search.hint.value', vars: { op: 'is', value: 'shiny' } },
    { key: 'search.hint.value', vars: { op: 'has', value: 'wings' } },
  ]);
  // the unknown operator is searched as text
  assert.equal(r.filter.text, 'colour:red x');
  assert.deepEqual(q('from:').hints, [{ key: 'search.hint.value', vars: { op: 'from', value: '' } }]);
  assert.deepEqual(q('at 10:30').hints, []);
});

test('snippets wanted only for text, body or subject', () => {
  assert.equal(wantsSnippets(q('is:unread').filter), false);
  assert.equal(wantsSnippets(q('invoice').filter), true);
  assert.equal(wantsSnippets(q('from:a from:b subject:c').filter), true);
  assert.equal(wantsSnippets(null), false);
  assert.equal(wantsSnippets({ operator: 'NOT', conditions: [{ text: 'x' }] }), false);
});

test('snippet highlighting is text with marks, never markup', () => {
  assert.deepEqual(snippetParts('The <mark>invoice</mark> for &lt;March&gt; &amp; <mark>April</mark>'), [
    { text: 'The ', mark: false }, { text: 'invoice', mark: true }, { text: ' for <March> & ', mark: false }, { text: 'April', mark: true },
  ]);
  assert.deepEqual(snippetParts('&lt;script&gt;alert(1)&lt;/script&gt;'), [{ text: '<script>alert(1)</script>', mark: false }]);
  assert.deepEqual(snippetParts('<mark>&quot;x&#39;</mark>'), [{ text: '"x\'', mark: true }]);
  assert.equal(snippetParts(null), null);
});
