// suggest.js: the token under the caret in an address field and its replacement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentToken, replaceToken, formatContact, wantsSuggestions } from '../js/suggest.js';

test('the token around the caret', () => {
  assert.deepEqual(currentToken('bo', 2), { start: 0, end: 2, text: 'bo' });
  assert.deepEqual(currentToken('a@x.test, bo', 12), { start: 10, end: 12, text: 'bo' });
  assert.equal(currentToken('a@x.test; ca, d@y', 12).text, 'ca');
  assert.equal(currentToken('', 0).text, '');
  assert.equal(currentToken('x, ', 3).text, '');
});

test('a chosen contact replaces the token and the rest stays', () => {
  const c = { name: 'Bob Builder', email: 'bob@example.net' };
  assert.deepEqual(replaceToken('bo', 2, c), { value: 'Bob Builder <bob@example.net>, ', caret: 31 });
  const r = replaceToken('a@x.test, bo, z@y.test', 12, c);
  assert.equal(r.value, 'a@x.test, Bob Builder <bob@example.net>, z@y.test');
  assert.equal(r.value.slice(0, r.caret), 'a@x.test, Bob Builder <bob@example.net>, ');
});

test('names that need quoting are quoted', () => {
  assert.equal(formatContact({ name: 'Müller, Jörg', email: 'j@x.test' }), '"Müller, Jörg" <j@x.test>');
  assert.equal(formatContact({ name: null, email: 'j@x.test' }), 'j@x.test');
  assert.equal(formatContact({ name: 'A "B"', email: 'j@x.test' }), '"A \\"B\\"" <j@x.test>');
});

test('suggestions only for a partial address', () => {
  assert.equal(wantsSuggestions(currentToken('b', 1)), true);
  assert.equal(wantsSuggestions(currentToken('', 0)), false);
  assert.equal(wantsSuggestions(currentToken('Bob <b@x>', 9)), false);
});
