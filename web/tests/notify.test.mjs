// notify.js: a desktop notification only for more unread mail, opted in, with the
// browser's permission, while the page is hidden; never for the first count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shouldNotify } from '../js/notify.js';
import { DICTS } from '../js/i18n.js';

const on = { enabled: true, permission: 'granted', hidden: true };

test('more unread mail while away: notify', () => {
  assert.equal(shouldNotify(3, 4, on), true);
});

test('otherwise not', () => {
  assert.equal(shouldNotify(null, 4, on), false, 'first load');
  assert.equal(shouldNotify(4, 4, on), false, 'no change');
  assert.equal(shouldNotify(5, 4, on), false, 'read elsewhere');
  assert.equal(shouldNotify(3, 4, { ...on, enabled: false }), false, 'not opted in');
  assert.equal(shouldNotify(3, 4, { ...on, permission: 'default' }), false, 'no permission');
  assert.equal(shouldNotify(3, 4, { ...on, hidden: false }), false, 'page in view');
});

test('texts in both languages', () => {
  for (const k of ['notify.title', 'notify.body']) {
    assert.ok(DICTS.de[k] && DICTS.en[k], k);
  }
});
