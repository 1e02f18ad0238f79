// Unit tests of web/js/quote.js: reply/forward subjects, recipients,
// In-Reply-To/References, quoting, HTML to text and linkify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replySubject, forwardSubject, baseSubject, quoteText, referencesFor, buildReply, buildForward, htmlToText, linkify } from '../js/quote.js';
import { makeTranslator } from '../js/i18n.js';

const t = makeTranslator('en');
const de = makeTranslator('de');
const formatDate = (d) => 'DATE(' + d + ')';

test('subjects', () => {
  assert.equal(replySubject('Hello'), 'Re: Hello');
  assert.equal(replySubject('Re: Hello'), 'Re: Hello');
  assert.equal(replySubject('AW: Re: Hallo'), 'Re: Hallo');
  assert.equal(replySubject('RE[2]: x'), 'Re: x');
  assert.equal(replySubject(''), 'Re: ');
  assert.equal(replySubject(null), 'Re: ');
  assert.equal(forwardSubject('Hello'), 'Fwd: Hello');
  assert.equal(forwardSubject('Fwd: Hello'), 'Fwd: Hello');
  assert.equal(forwardSubject('WG: Hallo'), 'Fwd: Hallo');
  assert.equal(baseSubject('Re: Fwd: AW: x'), 'x');
});

test('quoting', () => {
  assert.equal(quoteText('a\nb\n\n> c\n'), '> a\n> b\n>\n>> c');
  assert.equal(quoteText('x\r\ny'), '> x\n> y');
  assert.equal(quoteText(''), '>');
});

test('References and In-Reply-To (RFC 5322 3.6.4)', () => {
  assert.deepEqual(referencesFor({ messageId: ['m3@x'], references: ['m1@x', 'm2@x'], inReplyTo: ['m2@x'] }), ['m1@x', 'm2@x', 'm3@x']);
  assert.deepEqual(referencesFor({ messageId: ['m3@x'], references: null, inReplyTo: ['m2@x'] }), ['m2@x', 'm3@x']);
  assert.deepEqual(referencesFor({ messageId: ['m3@x'] }), ['m3@x']);
  assert.deepEqual(referencesFor({ messageId: null }), []);
  assert.deepEqual(referencesFor({ messageId: ['a@x'], references: ['a@x'] }), ['a@x']);
});

const original = {
  from: [{ name: 'Anna', email: 'anna@example.test' }],
  to: [{ name: 'Me', email: 'me@example.test' }, { name: 'Bob', email: 'bob@example.test' }],
  cc: [{ name: 'Carl', email: 'carl@example.test' }, { name: 'Anna again', email: 'ANNA@example.test' }],
  replyTo: null,
  subject: 'Plan',
  messageId: ['p1@example.test'],
  references: null,
  inReplyTo: null,
  sentAt: '2025-01-02T10:00:00Z',
  text: 'Line 1\nLine 2',
};

test('reply goes to the sender (or Reply-To) only', () => {
  const r = buildReply(original, ['me@example.test'], { t, formatDate });
  assert.deepEqual(r.to.map((a) => a.email), ['anna@example.test']);
  assert.deepEqual(r.cc, []);
  assert.equal(r.subject, 'Re: Plan');
  assert.deepEqual(r.inReplyTo, ['p1@example.test']);
  assert.deepEqual(r.references, ['p1@example.test']);
  assert.equal(r.body, '\n\nOn DATE(2025-01-02T10:00:00Z), Anna wrote:\n> Line 1\n> Line 2\n');
  const withReplyTo = Object.assign({}, original, { replyTo: [{ name: 'List', email: 'list@example.test' }] });
  assert.deepEqual(buildReply(withReplyTo, ['me@example.test'], { t, formatDate }).to.map((a) => a.email), ['list@example.test']);
  assert.match(buildReply(original, [], { t: de, formatDate }).body, /^\n\nAm DATE\(.*\) schrieb Anna:\n/);
});

test('reply all: everyone else in Cc, without me and without duplicates', () => {
  const r = buildReply(original, ['ME@example.test'], { all: true, t, formatDate });
  assert.deepEqual(r.to.map((a) => a.email), ['anna@example.test']);
  assert.deepEqual(r.cc.map((a) => a.email), ['bob@example.test', 'carl@example.test']);
});

test('reply to a message I sent goes to its recipients', () => {
  const mine = Object.assign({}, original, { from: [{ name: 'Me', email: 'me@example.test' }], to: [{ name: 'Bob', email: 'bob@example.test' }] });
  const r = buildReply(mine, ['me@example.test'], { all: true, t, formatDate });
  assert.deepEqual(r.to.map((a) => a.email), ['bob@example.test']);
  assert.deepEqual(r.cc.map((a) => a.email), ['carl@example.test', 'ANNA@example.test']);
});

test('forward carries a header block and the text', () => {
  const f = buildForward(original, { t, formatDate });
  assert.equal(f.subject, 'Fwd: Plan');
  assert.deepEqual(f.to, []);
  assert.equal(f.inReplyTo, null);
  assert.ok(f.body.includes('-------- Forwarded Message --------\nSubject: Plan\nDate: DATE(2025-01-02T10:00:00Z)\nFrom: Anna <anna@example.test>\nTo: Me <me@example.test>, Bob <bob@example.test>\n'));
  assert.ok(f.body.includes('\nLine 1\nLine 2\n'));
});

test('HTML to text for quoting', () => {
  assert.equal(htmlToText('<p>Hello&nbsp;<b>you</b></p><p>a &amp; b &lt;c&gt; &#228;&#x1F600;</p><script>x()</script><style>p{}</style>line<br>two'),
    'Hello\u00a0you\na & b <c> ä😀\nline\ntwo');
  assert.equal(htmlToText('<ul><li>one</li><li>two</li></ul>'), '• one\n• two');
  assert.equal(htmlToText(''), '');
});

test('linkify finds http(s), mailto and www links, leaves trailing punctuation', () => {
  assert.deepEqual(linkify('see https://example.test/a?b=1. Or (www.example.test/x).'), [
    { text: 'see ' }, { href: 'https://example.test/a?b=1', text: 'https://example.test/a?b=1' }, { text: '. Or (' },
    { href: 'https://www.example.test/x', text: 'www.example.test/x' }, { text: ').' }]);
  assert.deepEqual(linkify('https://en.wikipedia.test/wiki/Foo_(bar)'), [{ href: 'https://en.wikipedia.test/wiki/Foo_(bar)', text: 'https://en.wikipedia.test/wiki/Foo_(bar)' }]);
  assert.deepEqual(linkify('javascript:alert(1) mailto:a@example.test'), [{ text: 'javascript:alert(1) ' }, { href: 'mailto:a@example.test', text: 'mailto:a@example.test' }]);
  assert.deepEqual(linkify('no links'), [{ text: 'no links' }]);
});
