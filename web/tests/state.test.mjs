// Unit tests of web/js/state.js: the app's state and its operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newState, setMailboxes, takePage, applyPatch, patchEmail, removeId, toggleCheck, checkRange, pruneChecks,
  checkedIds, stepIndex, allHave, resetList, prefixLength, holesIn, applyQueryChanges, changedLoaded, forgetUnlisted } from '../js/state.js';

const em = (id, kw = {}) => ({ id, keywords: kw, mailboxIds: { i: true } });
const page = (ids, total) => ({ ids, list: ids.map((id) => em(id)), total });
const pg = (ids, total) => Object.assign(page(ids, total), { position: 0 });

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

test('pages land at their positions; the rest of the result is holes', () => {
  const s = newState();
  takePage(s, Object.assign(page(['a', 'b'], 5), { position: 0, queryState: 'q1' }));
  assert.equal(s.ids.length, 5);
  assert.deepEqual(s.ids.slice(0, 2), ['a', 'b']);
  assert.equal(s.ids[2], undefined);
  assert.equal(prefixLength(s), 2);
  takePage(s, { position: 3, ids: ['d', 'gone'], list: [em('d')], total: 5, queryState: 'q1' });
  assert.deepEqual([...s.ids], ['a', 'b', undefined, 'd', undefined]);
  assert.deepEqual(holesIn(s, 0, 5), { from: 2, to: 5 });
  assert.equal(holesIn(s, 0, 2), null);
  // an id seen again elsewhere (the list moved under us) is kept only at its new place
  takePage(s, { position: 2, ids: ['b'], list: [em('b')], total: 5, queryState: 'q1' });
  assert.deepEqual([...s.ids], ['a', undefined, 'b', 'd', undefined]);
});

test('a page of a newer query state replaces what was loaded', () => {
  const s = newState();
  takePage(s, Object.assign(page(['a', 'b', 'c'], 10), { position: 0, queryState: 'q1' }));
  s.known.Email = 'q1';
  const dropped = takePage(s, { position: 5, ids: ['x', 'y'], list: [em('x'), em('y')], total: 11, queryState: 'q2' });
  assert.equal(dropped, true);
  assert.equal(s.queryState, 'q2');
  assert.equal(s.ids.length, 11);
  assert.deepEqual(s.ids.filter(Boolean), ['x', 'y']);
  assert.equal(s.emails.has('a'), false);
  resetList(s);
  assert.deepEqual([s.ids.length, s.total, s.queryState, s.emails.size], [0, 0, null, 0]);
});

test('query changes: removed out, added in at their index, beyond the loaded part left as holes', () => {
  const s = newState();
  takePage(s, Object.assign(page(['a', 'b', 'c', 'd'], 8), { position: 0, queryState: 'q1' }));
  takePage(s, { position: 6, ids: ['g'], list: [em('g')], total: 8, queryState: 'q1' });
  // new mail n1 at the top, b archived, n2 far beyond what is loaded
  const need = applyQueryChanges(s, { removed: ['b', 'n1', 'zz'], added: [{ id: 'n2', index: 7 }, { id: 'n1', index: 0 }], total: 9, newQueryState: 'q2' });
  assert.deepEqual(need, ['n1']);
  assert.deepEqual([...s.ids], ['n1', 'a', 'c', 'd', undefined, undefined, undefined, undefined, undefined]);
  assert.equal(s.total, 9);
  assert.equal(s.queryState, 'q2');
  // an email moved within the list: removed and added again
  takePage(s, { position: 0, ids: ['n1'], list: [em('n1')], total: 9, queryState: 'q2' });
  applyQueryChanges(s, { removed: ['c'], added: [{ id: 'c', index: 0 }], total: 9 });
  assert.deepEqual(s.ids.slice(0, 4), ['c', 'n1', 'a', 'd']);
  // everything gone
  applyQueryChanges(s, { removed: ['c', 'n1', 'a', 'd'], added: [], total: 0 });
  assert.deepEqual([s.ids.length, s.total], [0, 0]);
});

test('only loaded emails are fetched again after Email/changes; unlisted ones are forgotten', () => {
  const s = newState();
  takePage(s, Object.assign(page(['a', 'b'], 2), { position: 0, queryState: 'q' }));
  assert.deepEqual(changedLoaded(s, ['b', 'x']), ['b']);
  s.emails.set('old', em('old'));
  s.emails.set('open', em('open'));
  forgetUnlisted(s, 'open');
  assert.deepEqual([...s.emails.keys()].sort(), ['a', 'b', 'open']);
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
  takePage(s, pg(['a'], 1));
  assert.equal(patchEmail(s, 'nope', { subject: 'y' }), null);
  assert.equal(patchEmail(s, 'a', { subject: 'y' }).subject, 'y');
});

test('removing: the next row takes the place, or the one before at the end', () => {
  const s = newState();
  takePage(s, pg(['a', 'b', 'c'], 10));
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
  takePage(s, pg(['a', 'b', 'c', 'd', 'e'], 5));
  toggleCheck(s, 'd');
  assert.equal(s.anchor, 'd');
  checkRange(s, 'd', 'b');
  assert.deepEqual(checkedIds(s), ['b', 'c', 'd']);
  toggleCheck(s, 'c');
  assert.deepEqual(checkedIds(s), ['b', 'd']);
  toggleCheck(s, null);
  checkRange(s, 'a', 'unknown');
  assert.deepEqual(checkedIds(s), ['b', 'd']);
  takePage(s, pg(['a', 'd'], 2));
  pruneChecks(s);
  assert.deepEqual([...s.checked], ['d']);
});

test('stepping stays inside the list; from nothing it starts at the top', () => {
  const s = newState();
  assert.equal(stepIndex(s, 1), -1);
  takePage(s, pg(['a', 'b', 'c'], 3));
  assert.equal(stepIndex(s, 1), 0);
  s.selected = 'b';
  assert.equal(stepIndex(s, 1), 2);
  assert.equal(stepIndex(s, -5), 0);
  s.selected = 'c';
  assert.equal(stepIndex(s, 1), 2);
});

test('allHave', () => {
  const s = newState();
  takePage(s, { ids: ['a', 'b'], list: [em('a', { $seen: true }), em('b')], total: 2 });
  assert.equal(allHave(s, ['a'], '$seen'), true);
  assert.equal(allHave(s, ['a', 'b'], '$seen'), false);
  assert.equal(allHave(s, [], '$seen'), false);
});
