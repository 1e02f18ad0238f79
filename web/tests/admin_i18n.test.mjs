// Unit tests of web/js/admin_i18n.js: both languages have every text, slots fill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_DICTS, adminTranslator } from '../js/admin_i18n.js';

test('German and English have the same keys, none empty', () => {
  const de = Object.keys(ADMIN_DICTS.de).sort();
  const en = Object.keys(ADMIN_DICTS.en).sort();
  assert.deepEqual(de, en);
  for (const lang of ['de', 'en']) {
    for (const [k, v] of Object.entries(ADMIN_DICTS[lang])) assert.ok(v.length > 0, lang + ' ' + k);
  }
});

test('slots are filled; unknown keys and languages fall back', () => {
  const de = adminTranslator('de');
  assert.equal(de('dash.cert.sub', { days: 12 }), 'noch 12 Tage');
  assert.equal(adminTranslator('fr')('nav.queue'), 'Queue');
  assert.equal(de('no.such.key'), 'no.such.key');
  assert.equal(de('dns.found', {}), 'Im DNS: {v}');
});
