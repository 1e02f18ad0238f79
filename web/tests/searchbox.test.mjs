// Unit tests of web/js/searchbox.js: the scope choice rewriting in:.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withScope, DEBOUNCE_MS } from '../js/searchbox.js';

test('the scope choice replaces the in: of the query, quoting names with spaces', () => {
  assert.equal(withScope('invoice', 'Archive'), 'invoice in:Archive');
  assert.equal(withScope('in:Projects invoice is:unread', 'Archive'), 'invoice is:unread in:Archive');
  assert.equal(withScope('invoice in:"Old stuff"', ''), 'invoice');
  assert.equal(withScope('invoice', 'Old stuff'), 'invoice in:"Old stuff"');
  assert.equal(withScope('invoice', 'all'), 'invoice in:all');
  assert.equal(withScope('', 'Archive'), 'in:Archive');
  // "within:" is not in:
  assert.equal(withScope('within:x', 'A'), 'within:x in:A');
});

test('search as you type waits for a pause, not for long', () => {
  assert.ok(DEBOUNCE_MS >= 100 && DEBOUNCE_MS <= 500);
});
