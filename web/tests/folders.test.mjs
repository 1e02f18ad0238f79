// Unit tests of the folder tree's pure parts (web/js/mailboxes.js visibleTree,
// folderCreate): sub-folders collapsing, and a new folder under a parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxTree, visibleTree, folderCreate } from '../js/mailboxes.js';

const boxes = [
  { id: 'i', name: 'Inbox', role: 'inbox' },
  { id: 'p', name: 'Projekte', parentId: null },
  { id: 'x', name: 'Phönix 2027', parentId: 'p' },
  { id: 'y', name: 'Sub', parentId: 'x' },
  { id: 'z', name: 'Zeta', parentId: null },
];

test('the tree shows sub-folders under their parent, hidden when it is collapsed', () => {
  const tree = mailboxTree(boxes, 'de');
  const open = visibleTree(tree, new Set());
  assert.deepEqual(open.map((r) => [r.mailbox.id, r.depth, r.parent, r.open]),
    [['i', 0, false, true], ['p', 0, true, true], ['x', 1, true, true], ['y', 2, false, true], ['z', 0, false, true]]);
  assert.deepEqual(visibleTree(tree, new Set(['p'])).map((r) => r.mailbox.id), ['i', 'p', 'z']);
  assert.deepEqual(visibleTree(tree, new Set(['x'])).map((r) => r.mailbox.id), ['i', 'p', 'x', 'z']);
  assert.equal(visibleTree(tree, new Set(['p']))[1].open, false);
  // collapsing a folder without sub-folders changes nothing
  assert.deepEqual(visibleTree(tree, new Set(['z'])).map((r) => r.open), [true, true, true, true, true]);
});

test('a new folder goes under the chosen parent', () => {
  assert.deepEqual(folderCreate(boxes, 'p', 'Neu'), { f0: { name: 'Neu', parentId: 'p', isSubscribed: true } });
  assert.deepEqual(folderCreate(boxes, null, ' Oben '), { f0: { name: 'Oben', parentId: null, isSubscribed: true } });
});

test('a path makes the folders of it that do not exist, each under the one before (review B4)', () => {
  assert.deepEqual(folderCreate(boxes, null, 'Projekte/Phönix 2027/Neu'), { f0: { name: 'Neu', parentId: 'x', isSubscribed: true } });
  assert.deepEqual(folderCreate(boxes, null, 'Kunden/Müller/2027'), {
    f0: { name: 'Kunden', parentId: null, isSubscribed: true },
    f1: { name: 'Müller', parentId: '#f0', isSubscribed: true },
    f2: { name: '2027', parentId: '#f1', isSubscribed: true },
  });
  assert.equal(folderCreate(boxes, null, 'Projekte/Phönix 2027'), null); // all there
  assert.equal(folderCreate(boxes, 'p', ' / '), null);
});
