// Unit tests of web/js/mailboxes.js: folder order and the JMAP objects for
// drafts and sending (search parsing: search.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxTree, findRole, draftEmail, envelopeFor, sentPatch } from '../js/mailboxes.js';

const boxes = [
  { id: 'z', name: 'Zeta', role: null, parentId: null },
  { id: 't', name: 'Trash', role: 'trash', parentId: null },
  { id: 'c', name: 'child', role: null, parentId: 'a' },
  { id: 'i', name: 'INBOX', role: 'inbox', parentId: null },
  { id: 'a', name: 'alpha', role: null, parentId: null },
  { id: 's', name: 'Sent', role: 'sent', parentId: null },
  { id: 'j', name: 'Junk', role: 'junk', parentId: null },
  { id: 'd', name: 'Drafts', role: 'drafts', parentId: null },
  { id: 'r', name: 'Archive', role: 'archive', parentId: null },
  { id: 'o', name: 'orphan', role: null, parentId: 'gone' },
  { id: 'n', name: 'Ordner 10', role: null, parentId: null, sortOrder: 0 },
  { id: 'm', name: 'Ordner 9', role: null, parentId: null, sortOrder: 0 },
];

test('special-use folders first in the usual order, then by name, children under parents', () => {
  const tree = mailboxTree(boxes, 'en');
  assert.deepEqual(tree.map((x) => x.mailbox.id), ['i', 'd', 's', 'r', 'j', 't', 'a', 'c', 'm', 'n', 'o', 'z']);
  assert.equal(tree.find((x) => x.mailbox.id === 'c').depth, 1);
  assert.equal(tree.find((x) => x.mailbox.id === 'o').depth, 0);
  assert.equal(findRole(boxes, 'junk').id, 'j');
  assert.equal(findRole(boxes, 'important'), null);
});

test('a parent cycle does not loop', () => {
  const cyc = [{ id: 'x', name: 'x', parentId: 'y' }, { id: 'y', name: 'y', parentId: 'x' }];
  assert.deepEqual(mailboxTree(cyc, 'en'), []);
});

const d = {
  from: [{ name: 'Me', email: 'me@example.test' }],
  to: [{ name: 'A', email: 'a@example.test' }],
  cc: [{ name: '', email: 'A@example.test' }, { name: '', email: 'c@example.test' }],
  bcc: [{ name: '', email: 'secret@example.test' }],
  subject: 'Hi',
  body: 'Text',
  inReplyTo: ['p@x'],
  references: ['o@x', 'p@x'],
  attachments: [],
};

test('draft without attachments: textBody + bodyValues (RFC 8621 4.6)', () => {
  const e = draftEmail(d, 'drafts');
  assert.deepEqual(e, {
    mailboxIds: { drafts: true },
    keywords: { $draft: true, $seen: true },
    from: d.from, to: d.to, cc: d.cc, bcc: d.bcc,
    subject: 'Hi',
    bodyValues: { body: { value: 'Text' } },
    inReplyTo: ['p@x'], references: ['o@x', 'p@x'],
    textBody: [{ partId: 'body', type: 'text/plain' }],
  });
});

test('draft with attachments: multipart/mixed bodyStructure', () => {
  const e = draftEmail(Object.assign({}, d, { to: [], cc: [], bcc: [], inReplyTo: null, references: null,
    attachments: [{ blobId: 'b1', name: 'a.pdf', type: 'application/pdf', size: 3 }, { blobId: null, name: 'failed' }] }), 'dr');
  assert.equal(e.textBody, undefined);
  assert.equal(e.to, undefined);
  assert.equal(e.inReplyTo, undefined);
  assert.deepEqual(e.bodyStructure, {
    type: 'multipart/mixed',
    subParts: [{ partId: 'body', type: 'text/plain' }, { blobId: 'b1', type: 'application/pdf', name: 'a.pdf', disposition: 'attachment' }],
  });
  assert.deepEqual(e.bodyValues, { body: { value: 'Text' } });
});

test('envelope has every recipient once, bcc included', () => {
  assert.deepEqual(envelopeFor(d), {
    mailFrom: { email: 'me@example.test', parameters: null },
    rcptTo: ['a@example.test', 'c@example.test', 'secret@example.test'].map((email) => ({ email, parameters: null })),
  });
});

test('after sending: out of Drafts, into Sent, $draft cleared', () => {
  assert.deepEqual(sentPatch('d', 's'), { 'keywords/$draft': null, 'mailboxIds/d': null, 'mailboxIds/s': true });
  assert.deepEqual(sentPatch(null, 's'), { 'keywords/$draft': null, 'mailboxIds/s': true });
});
