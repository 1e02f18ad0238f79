// Unit tests of web/js/listview.js: what a row and the list's footer say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowModel, listSummary, windowFor, scrollFor, OVERSCAN } from '../js/listview.js';
import { makeTranslator } from '../js/i18n.js';

const e = {
  id: 'm1', keywords: { $flagged: true, $draft: true }, from: [{ name: 'Anna', email: 'anna@x.test' }],
  to: [{ name: null, email: 'bob@y.test' }], subject: 'Hi', preview: 'text', receivedAt: '2025-03-10T08:00:00Z', hasAttachment: true,
};

test('a row: unread, flagged, draft, sender or recipients', () => {
  const m = rowModel(e);
  assert.equal(m.className, 'row unread flagged');
  assert.equal(m.people, 'Anna');
  assert.equal(m.draft, true);
  assert.equal(m.attachment, true);
  assert.equal(m.ariaSelected, false);
  assert.equal(rowModel(e, { outgoing: true }).people, 'bob@y.test');
  const seen = rowModel(Object.assign({}, e, { keywords: { $seen: true } }));
  assert.equal(seen.className, 'row');
});

test('selected and checked rows; aria-selected follows the checks while any exist', () => {
  assert.equal(rowModel(e, { selected: 'm1' }).className, 'row unread selected flagged');
  assert.equal(rowModel(e, { selected: 'm1' }).ariaSelected, true);
  assert.equal(rowModel(e, { selected: 'm1', checked: new Set(['other']) }).ariaSelected, false);
  const c = rowModel(e, { checked: new Set(['m1']) });
  assert.equal(c.className, 'row unread flagged checked');
  assert.equal(c.ariaSelected, true);
});

test('footer: empty list, empty search, count with the right plural (B12)', () => {
  const t = makeTranslator('en');
  assert.deepEqual(listSummary({ total: 0, search: '' }, t, 'en'), { status: t('list.empty'), count: '' });
  assert.equal(listSummary({ total: 0, search: 'x' }, t, 'en').status, t('list.emptySearch'));
  const s = listSummary({ total: 1250, search: '' }, t, 'en');
  assert.equal(s.status, '');
  assert.equal(s.count, '1,250 messages');
  assert.equal(listSummary({ total: 1, search: 'x' }, t, 'en').count, '1 message');
  assert.equal(listSummary({ total: 1, search: 'x' }, makeTranslator('de'), 'de').count, '1 Nachricht');
  assert.equal(listSummary({ total: 20000, search: '' }, makeTranslator('de'), 'de').count, '20.000 Nachrichten');
});

test('the window of drawn rows: the visible ones and OVERSCAN around, inside the list', () => {
  assert.deepEqual(windowFor(0, 600, 60, 20000), { from: 0, to: 10 + OVERSCAN });
  assert.deepEqual(windowFor(60 * 1250, 600, 60, 20000), { from: 1250 - OVERSCAN, to: 1260 + OVERSCAN });
  assert.deepEqual(windowFor(60 * 19995, 600, 60, 20000), { from: 19995 - OVERSCAN, to: 20000 });
  assert.deepEqual(windowFor(-50, 600, 60, 3), { from: 0, to: 3 });
  assert.deepEqual(windowFor(0, 600, 60, 0), { from: 0, to: 0 });
  assert.deepEqual(windowFor(0, 600, 0, 5), { from: 0, to: 0 });
});

test('revealing a row scrolls as little as needed', () => {
  assert.equal(scrollFor(5, 0, 600, 60), 0); // in view
  assert.equal(scrollFor(12, 0, 600, 60), 13 * 60 - 600); // below: its bottom at the bottom
  assert.equal(scrollFor(2, 600, 600, 60), 120); // above: its top at the top
  assert.equal(scrollFor(19999, 0, 600, 60), 20000 * 60 - 600);
});

test('results across folders name the folder', () => {
  assert.equal(rowModel(e, { mailbox: 'Archive' }).mailbox, 'Archive');
  assert.equal(rowModel(e).mailbox, '');
});

test('a search snippet highlights subject and preview; none leaves them as they are', () => {
  const m = rowModel(e, { snippet: { emailId: 'm1', subject: '<mark>Hi</mark> &amp; more', preview: null } });
  assert.deepEqual(m.subjectParts, [{ text: 'Hi', mark: true }, { text: ' & more', mark: false }]);
  assert.equal(m.previewParts, null);
  assert.equal(rowModel(e).subjectParts, null);
});
