// Unit tests of web/js/keys.js: the key table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYS, LIST_KEYS, HELP, keyAction, isAppKey } from '../js/keys.js';

test('keys act on the selected message, or on the checked ones while any are checked', () => {
  assert.deepEqual(keyAction('e', { selected: true }), { action: 'archive', prevent: true });
  assert.deepEqual(keyAction('e', { selected: true, checked: true }), { action: 'bulkArchive', prevent: true });
  assert.equal(keyAction('e', {}), null);
  assert.equal(keyAction('#', { selected: true }).action, 'delete');
  assert.equal(keyAction('Backspace', { checked: true }).action, 'bulkDelete');
  assert.equal(keyAction('m', { selected: true }).action, 'move');
  // keys without a bulk meaning still work while messages are checked
  assert.equal(keyAction('r', { selected: true, checked: true }).action, 'reply');
  assert.equal(keyAction('j', { checked: true }).action, 'next');
  assert.equal(keyAction('x', {}).action, 'check');
});

test('Escape clears the checks first, else leaves its default alone', () => {
  assert.deepEqual(keyAction('Escape', { checked: true }), { action: 'clearChecks', prevent: true });
  assert.deepEqual(keyAction('Escape', { selected: true }), { action: 'escape', prevent: false });
});

test('the table has no key twice in one mode', () => {
  for (const mode of ['bulk', 'any', 'one']) {
    const keys = KEYS.filter((k) => k.mode === mode).flatMap((k) => k.keys);
    assert.equal(new Set(keys).size, keys.length, mode);
  }
  assert.equal(LIST_KEYS.End, 'last');
  assert.equal(LIST_KEYS[' '], 'open');
  for (const [k, d] of HELP) { assert.ok(k); assert.match(d, /^shortcuts\./); }
});

test('typing in a field and modified keys are not the app\'s', () => {
  assert.equal(isAppKey({}, { tagName: 'DIV' }), true);
  assert.equal(isAppKey({}, { tagName: 'INPUT' }), false);
  assert.equal(isAppKey({}, { tagName: 'DIV', isContentEditable: true }), false);
  assert.equal(isAppKey({ ctrlKey: true }, null), false);
  assert.equal(isAppKey({ defaultPrevented: true }, null), false);
  assert.equal(isAppKey({}, null), true);
});
