// Unit tests of the conversation list's state (web/js/state.js takeThreads,
// actionIds, threadCount, emailOrMember) and its row (listview.js rowModel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newState, takeThreads, actionIds, threadCount, emailOrMember, resetList } from '../js/state.js';
import { rowModel } from '../js/listview.js';

function state() {
  const s = newState('me');
  s.current = 'inbox';
  s.ids = ['a3', 'b1'];
  s.total = 2;
  s.emails.set('a3', { id: 'a3', threadId: 'A', mailboxIds: { inbox: true }, keywords: {} });
  s.emails.set('b1', { id: 'b1', threadId: 'B', mailboxIds: { inbox: true }, keywords: {} });
  takeThreads(s, [{ id: 'A', emailIds: ['a1', 'a2', 'a3'] }, { id: 'B', emailIds: ['b1'] }], [
    { id: 'a1', mailboxIds: { inbox: true }, keywords: { $seen: true } },
    { id: 'a2', mailboxIds: { sent: true }, keywords: { $seen: true } },
    { id: 'a3', mailboxIds: { inbox: true }, keywords: {} },
    { id: 'b1', mailboxIds: { inbox: true }, keywords: {} },
  ]);
  return s;
}

test('a conversation row counts its thread and acts on its emails in the folder shown', () => {
  const s = state();
  assert.equal(threadCount(s, s.emails.get('a3')), 3);
  assert.equal(threadCount(s, s.emails.get('b1')), 1);
  assert.deepEqual(actionIds(s, ['a3']), ['a3', 'a1']); // a2 is in Sent: it stays
  assert.deepEqual(actionIds(s, ['a3', 'b1']), ['a3', 'a1', 'b1']);
  assert.deepEqual(emailOrMember(s, 'a1').mailboxIds, { inbox: true });
  assert.equal(emailOrMember(s, 'nope'), undefined);
  // in a search, a row is its email alone
  s.search = 'x';
  assert.deepEqual(actionIds(s, ['a3']), ['a3']);
});

test('as messages (no threads loaded) an action is on the rows alone', () => {
  const s = state();
  resetList(s);
  assert.equal(s.threads.size, 0);
  assert.deepEqual(actionIds(s, ['a3']), ['a3']);
  assert.equal(threadCount(s, { threadId: 'A' }), 0);
});

test('the row shows the count from two emails on', () => {
  const e = { id: 'a3', keywords: {}, from: [{ name: 'Anna', email: 'a@x' }], subject: 's' };
  assert.equal(rowModel(e, { count: 3 }).count, 3);
  assert.equal(rowModel(e, { count: 1 }).count, 0);
  assert.equal(rowModel(e, {}).count, 0);
});
