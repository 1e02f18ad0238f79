// The settings view's texts: every key settings.js and sieverules.js use exists in
// German and English (settings.js needs a DOM, so its source is read, not run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DICTS } from '../js/i18n.js';
import { FIELDS, ACTIONS } from '../js/sieverules.js';

test('every settings text exists in both languages', () => {
  const src = fs.readFileSync(new URL('../js/settings.js', import.meta.url), 'utf8');
  const rules = fs.readFileSync(new URL('../js/sieverules.js', import.meta.url), 'utf8');
  const keys = new Set([...src.matchAll(/\bt\('([A-Za-z.]+[A-Za-z])'/g)].map((m) => m[1]));
  for (const m of rules.matchAll(/'(rules\.err\.[a-z]+)'/g)) keys.add(m[1]);
  for (const f of FIELDS) keys.add('rules.field.' + f);
  for (const a of ACTIONS) keys.add('rules.action.' + a);
  assert.ok(keys.size > 60, 'found ' + keys.size + ' keys');
  for (const k of keys) {
    assert.ok(DICTS.de[k], 'German text missing: ' + k);
    assert.ok(DICTS.en[k], 'English text missing: ' + k);
  }
  assert.match(DICTS.en['junkfilter.learning'], /\{spam\} spam \/ \{ham\} ham of \{min\} each/);
});
