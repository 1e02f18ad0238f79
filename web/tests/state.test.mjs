// Unit tests of web/js/state.js: the app's state and its operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newState, setMailboxes, takePage, applyPatch, patchEmail, removeId, toggleCheck, checkRange, pruneChecks,
  checkedIds, stepIndex, allHave } from '../js/state.js';

const em = (id, kw = {}) => ({ id, keywords: kw, mailboxIds: { i: true } });
const page = (ids, total) => ({ ids, list: ids.map((id) => em(id)), total });

test('mailboxes: the current one is kept, else the inbox', () => {
  const s = newState('anna@example.test');
  setMailboxes(s, [{ id: 'x', name: 'X' }, { id: 'i', name: 'INBOX', role: 'inbox' }]);
  assert.equal(s.current, 'i');
  s.current = 'x';
  setMailboxes(s, [{ id: 'x', name: 'X' }, { id: 'i', name: 'INBOX', role: 'inbox' }]);
  assert.equal(s.current, 'x');
  setMailboxes(s, [{ id: 'y', name: 'Y' }]);
  assert.equal(s.current, 'y');
  assert.equal(s.byId.get('y').name, 'Y');
  setMailboxes(s, []);
  assert.equal(s.current, null);
});

test('pages append, reset starts anew, ids without an email and repeats are left out', () => {
  const s = newState();
  takePage(s, page(['a', 'b'], 5), true);
  takePage(s, { ids: ['b', 'c', 'gone'], list: [em('c')], total: 5 }, false);
  assert.deepEqual(s.ids, ['a', 'b', 'c']);
  assert.equal(s.total, 5);
  takePage(s, { ids: ['z'], list: [em('z')] }, true);
  assert.deepEqual(s.ids, ['z']);
  assert.equal(s.total, 1);
  assert.equal(s.emails.has('a'), false);
});

test('patches: keywords set and removed, escaped keys, whole properties', () => {
  const e = { keywords: { $seen: true }, mailboxIds: { i: true } };
  const before = e.keywords;
  applyPatch(e, { 'keywords/$seen': null, 'keywords/$flagged': true, 'mailboxIds/a~1b~0c': true, subject: 'x' });
  assert.deepEqual(e.keywords, { $flagged: true });
  assert.deepEqual(e.mailboxIds, { i: true, 'a/b~c': true });
  assert.equal(e.subject, 'x');
  assert.deepEqual(before, { $seen: true }, 'the old object is not changed (rows may still hold it)');
  const s = newState();
  takePage(s, page(['a'], 1), true);
  assert.equal(patchEmail(s, 'nope', { subject: 'y' }), null);
  assert.equal(patchEmail(s, 'a', { subject: 'y' }).subject, 'y');
});

test('removing: the next row takes the place, or the one before at the end', () => {
  const s = newState();
  takePage(s, page(['a', 'b', 'c'], 10), true);
  s.checked.add('b');
  assert.deepEqual(removeId(s, 'b'), { next: 'c' });
  assert.equal(s.checked.has('b'), false);
  assert.equal(s.total, 9);
  assert.deepEqual(removeId(s, 'c'), { next: 'a' });
  assert.equal(removeId(s, 'c'), null);
  assert.deepEqual(removeId(s, 'a'), { next: null });
  assert.equal(s.total, 7);
});

test('checks: toggle, ranges both ways, pruning after a refresh, list order', () => {
  const s = newState();
  takePage(s, page(['a', 'b', 'c', 'd', 'e'], 5), true);
  toggleCheck(s, 'd');
  assert.equal(s.anchor, 'd');
  checkRange(s, 'd', 'b');
  assert.deepEqual(checkedIds(s), ['b', 'c', 'd']);
  toggleCheck(s, 'c');
  assert.deepEqual(checkedIds(s), ['b', 'd']);
  toggleCheck(s, null);
  checkRange(s, 'a', 'unknown');
  assert.deepEqual(checkedIds(s), ['b', 'd']);
  takePage(s, page(['a', 'd'], 2), true);
  pruneChecks(s);
  assert.deepEqual([...s.checked], ['d']);
});

test('stepping stays inside the list; from nothing it starts at the top', () => {
  const s = newState();
  assert.equal(stepIndex(s, 1), -1);
  takePage(s, page(['a', 'b', 'c'], 3), true);
  assert.equal(stepIndex(s, 1), 0);
  s.selected = 'b';
  assert.equal(stepIndex(s, 1), 2);
  assert.equal(stepIndex(s, -5), 0);
  s.selected = 'c';
  assert.equal(stepIndex(s, 1), 2);
});

test('allHave', () => {
  const s = newState();
  takePage(s, { ids: ['a', 'b'], list: [em('a', { $seen: true }), em('b')], total: 2 }, true);
  assert.equal(allHave(s, ['a'], '$seen'), true);
  assert.equal(allHave(s, ['a', 'b'], '$seen'), false);
  assert.equal(allHave(s, [], '$seen'), false);
});
