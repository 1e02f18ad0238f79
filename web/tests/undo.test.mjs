// Unit tests of undo (web/js/actions.js undoPatch/undoPatches/snapshot) and of
// the key z (keys.js): the patch that puts messages back where they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { movePatch, junkPatch, bulkPatches, undoPatch, undoPatches, snapshot } from '../js/actions.js';
import { applyPatch } from '../js/state.js';
import { keyAction, HELP } from '../js/keys.js';

// The email after patch, then after its undo: as before for what the action touched.
function roundTrip(before, patch) {
  const e = applyPatch(JSON.parse(JSON.stringify(before)), patch);
  return applyPatch(e, undoPatch(snapshot(before), patch));
}

test('movePatch takes a set of targets too (the undo of a move)', () => {
  assert.deepEqual(movePatch({ t: true }, { a: true, b: true }), { 'mailboxIds/t': null, 'mailboxIds/a': true, 'mailboxIds/b': true });
  assert.deepEqual(movePatch({ a: true, t: true }, { a: true }), { 'mailboxIds/t': null, 'mailboxIds/a': true });
  assert.throws(() => movePatch({ a: true }, {}), /no target/);
});

test('undo of a move, archive or delete puts the email back into exactly its mailboxes', () => {
  const before = { id: 'e1', mailboxIds: { inbox: true, label: true }, keywords: { $seen: true } };
  const patch = movePatch(before.mailboxIds, 'trash');
  const undo = undoPatch(snapshot(before), patch);
  assert.deepEqual(undo, { 'mailboxIds/trash': null, 'mailboxIds/inbox': true, 'mailboxIds/label': true });
  assert.deepEqual(roundTrip(before, patch), before);
});

test('undo of spam removes $junk, restores $notjunk as it was, and leaves Junk', () => {
  const before = { mailboxIds: { inbox: true }, keywords: { $seen: true, $notjunk: true } };
  const patch = junkPatch(before.mailboxIds, 'junk', true);
  const undo = undoPatch(snapshot(before), patch);
  assert.equal(undo['keywords/$junk'], null);
  assert.equal(undo['keywords/$notjunk'], true);
  assert.equal(undo['mailboxIds/junk'], null);
  assert.equal(undo['mailboxIds/inbox'], true);
  assert.deepEqual(roundTrip(before, patch), before);
  // Not spam, from Junk back to the inbox: undone, it is in Junk with $junk again
  const spam = { mailboxIds: { junk: true }, keywords: { $junk: true } };
  assert.deepEqual(roundTrip(spam, junkPatch(spam.mailboxIds, 'inbox', false)), spam);
  // spam without a Junk folder: only the keywords
  assert.deepEqual(undoPatch(snapshot(before), junkPatch(before.mailboxIds, null, true)), { 'keywords/$junk': null, 'keywords/$notjunk': true });
});

test('undo leaves keywords the action did not touch (read since, flagged since)', () => {
  const before = { mailboxIds: { inbox: true }, keywords: {} };
  const undo = undoPatch(snapshot(before), movePatch(before.mailboxIds, 'archive'));
  assert.equal(Object.keys(undo).some((k) => k.startsWith('keywords/')), false);
});

test('the snapshot is a copy: later changes to the list object do not change the undo', () => {
  const e = { mailboxIds: { inbox: true }, keywords: { $seen: true } };
  const snap = snapshot(e);
  e.mailboxIds.archive = true;
  delete e.mailboxIds.inbox;
  assert.deepEqual(snap.mailboxIds, { inbox: true });
  assert.equal(snapshot(undefined), undefined);
});

test('undo of a bulk action: one patch per email, each back to its own mailboxes', () => {
  const emails = new Map([
    ['a', { id: 'a', mailboxIds: { inbox: true }, keywords: {} }],
    ['b', { id: 'b', mailboxIds: { inbox: true, projects: true }, keywords: { $flagged: true } }],
  ]);
  const befores = Object.fromEntries([...emails].map(([id, e]) => [id, snapshot(e)]));
  const { patches } = bulkPatches('move', ['a', 'b', 'c'], (id) => emails.get(id), { toId: 'trash', fallbackMailbox: 'inbox' });
  const undo = undoPatches(patches, (id) => befores[id]);
  assert.deepEqual(Object.keys(undo).sort(), ['a', 'b']); // c: nothing known, not undone
  assert.deepEqual(undo.b, { 'mailboxIds/trash': null, 'mailboxIds/inbox': true, 'mailboxIds/projects': true });
  assert.throws(() => undoPatch(snapshot(emails.get('a')), { subject: 'x' }), /cannot undo/);
});

test('z undoes, with or without a selection, and the help lists it', () => {
  assert.deepEqual(keyAction('z', {}), { action: 'undo', prevent: true });
  assert.equal(keyAction('z', { checked: true, selected: true }).action, 'undo');
  assert.ok(HELP.some(([k, d]) => k === 'z' && d === 'shortcuts.undo'));
});
