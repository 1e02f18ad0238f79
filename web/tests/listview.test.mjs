// Unit tests of web/js/listview.js: what a row and the list's footer say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowModel, listSummary } from '../js/listview.js';
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

test('footer: empty list, empty search, count, more to load', () => {
  const t = makeTranslator('en');
  assert.deepEqual(listSummary({ ids: [], total: 0, search: '' }, t, 'en'), { status: t('list.empty'), count: '', more: false });
  assert.equal(listSummary({ ids: [], total: 0, search: 'x' }, t, 'en').status, t('list.emptySearch'));
  const s = listSummary({ ids: ['a'], total: 1250, search: '' }, t, 'en');
  assert.equal(s.status, '');
  assert.match(s.count, /1,250/);
  assert.equal(s.more, true);
});
