// Unit tests of web/js/actions.js: the Email/set patches of the list's actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { movePatch, junkPatch, seenPatch, flagPatch, bulkPatches, flagToggle, seenToggle } from '../js/actions.js';

test('a move leaves every mailbox the email is in for the target', () => {
  assert.deepEqual(movePatch({ a: true }, 'b'), { 'mailboxIds/a': null, 'mailboxIds/b': true });
  assert.deepEqual(movePatch({ a: true, c: true }, 'b'), { 'mailboxIds/a': null, 'mailboxIds/c': null, 'mailboxIds/b': true });
  assert.deepEqual(movePatch(null, 'b'), { 'mailboxIds/b': true });
  assert.deepEqual(movePatch({ b: true }, 'b'), { 'mailboxIds/b': true });
});

test('Spam / Not spam: leave every folder for Junk or the inbox, with the keyword the server learns from', () => {
  assert.deepEqual(junkPatch({ i: true, r: true }, 'j', true), {
    'keywords/$junk': true, 'keywords/$notjunk': null, 'mailboxIds/i': null, 'mailboxIds/r': null, 'mailboxIds/j': true,
  });
  assert.deepEqual(junkPatch({ j: true }, 'i', false), {
    'keywords/$junk': null, 'keywords/$notjunk': true, 'mailboxIds/j': null, 'mailboxIds/i': true,
  });
  // no Junk folder: only the keyword
  assert.deepEqual(junkPatch({ i: true }, null, true), { 'keywords/$junk': true, 'keywords/$notjunk': null });
});

test('keyword patches set true or remove (null), never false', () => {
  assert.deepEqual(seenPatch(true), { 'keywords/$seen': true });
  assert.deepEqual(seenPatch(false), { 'keywords/$seen': null });
  assert.deepEqual(flagPatch(true), { 'keywords/$flagged': true });
  assert.deepEqual(flagPatch(false), { 'keywords/$flagged': null });
});

const emails = {
  1: { id: '1', mailboxIds: { i: true }, keywords: { $seen: true, $flagged: true } },
  2: { id: '2', mailboxIds: { i: true, l: true }, keywords: { $seen: true } },
};
const emailOf = (id) => emails[id];

test('bulk patches: one per email; moves say the emails leave the list', () => {
  assert.deepEqual(bulkPatches('read', ['1', '2'], emailOf), { patches: { 1: { 'keywords/$seen': true }, 2: { 'keywords/$seen': true } }, remove: false });
  assert.deepEqual(bulkPatches('unflag', ['1'], emailOf).patches, { 1: { 'keywords/$flagged': null } });
  const mv = bulkPatches('move', ['1', '2', '3'], emailOf, { toId: 'a', fallbackMailbox: 'i' });
  assert.equal(mv.remove, true);
  assert.deepEqual(mv.patches['2'], { 'mailboxIds/i': null, 'mailboxIds/l': null, 'mailboxIds/a': true });
  // not loaded: taken to be in the folder shown
  assert.deepEqual(mv.patches['3'], { 'mailboxIds/i': null, 'mailboxIds/a': true });
  const j = bulkPatches('junk', ['1'], emailOf, { toId: 'j' });
  assert.equal(j.remove, true);
  assert.deepEqual(j.patches['1'], junkPatch({ i: true }, 'j', true));
  const noJunk = bulkPatches('junk', ['1'], emailOf, { toId: null });
  assert.equal(noJunk.remove, false);
  assert.deepEqual(noJunk.patches['1'], { 'keywords/$junk': true, 'keywords/$notjunk': null });
  assert.throws(() => bulkPatches('move', ['1'], emailOf), /without a target/);
  assert.throws(() => bulkPatches('explode', ['1'], emailOf), /unknown action/);
});

test('toggles over several emails: undo only when all have it', () => {
  assert.equal(flagToggle([emails[1], emails[2]]), 'flag');
  assert.equal(flagToggle([emails[1]]), 'unflag');
  assert.equal(seenToggle([emails[1], emails[2]]), 'unread');
  assert.equal(seenToggle([emails[1], {}]), 'read');
  assert.equal(flagToggle([]), 'flag');
});
