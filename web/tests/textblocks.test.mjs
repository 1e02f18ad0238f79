// Unit tests of web/js/textblocks.js: new text, quoted history with its
// attribution line, signatures, short quotes left in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBlocks } from '../js/textblocks.js';

const kinds = (text) => splitBlocks(text).map((b) => b.kind + ':' + b.lines.length);

test('reply with attribution, quote and signature', () => {
  const text = 'Sounds good.\n\nOn Mon, 7 Dec 2026, Anna <a@x.test> wrote:\n> line one\n> line two\n>\n> line three\n\n-- \nBob\nExample Ltd\n';
  const b = splitBlocks(text);
  assert.deepEqual(b.map((x) => x.kind), ['text', 'quote', 'text', 'signature']);
  assert.deepEqual(b[0].lines, ['Sounds good.', '']);
  assert.equal(b[1].lines[0], 'On Mon, 7 Dec 2026, Anna <a@x.test> wrote:');
  assert.equal(b[1].lines.length, 5);
  assert.deepEqual(b[3].lines, ['-- ', 'Bob', 'Example Ltd']);
});

test('German attribution and interleaved answers', () => {
  assert.deepEqual(kinds('Am 07.12.2026 um 10:00 schrieb Anna:\n> a\n> b\n> c\nAntwort\n> d\nEnde'),
    ['quote:4', 'text:3']);
});

test('a signature inside quoted text stays in the quote', () => {
  assert.deepEqual(kinds('Hi\n> x\n> -- \n> sig\n> y'), ['text:1', 'quote:4']);
  // a "-- " followed by quoted lines is no signature of the new text
  assert.deepEqual(kinds('Hi\n-- \nme\n> q1\n> q2\n> q3'), ['text:3', 'quote:3']);
});

test('short quotes and blank input', () => {
  assert.deepEqual(kinds('> one\nreply'), ['text:2']);
  assert.deepEqual(kinds(''), ['text:1']);
  assert.deepEqual(kinds('plain\ntext'), ['text:2']);
  assert.deepEqual(kinds('text\r\n-- \r\nsig'), ['text:1', 'signature:2']);
});
