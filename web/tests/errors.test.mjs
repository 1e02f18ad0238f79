// errors.js: every error kind gets its own sentence in both languages, network
// failures are recognised, and the attachment size arithmetic is RFC 2045's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { errorText, isNetworkError, encodedSize, largestFile, plainSize } from '../js/errors.js';
import { DICTS, makeTranslator } from '../js/i18n.js';

const en = makeTranslator('en');
const de = makeTranslator('de');

test('network failures are told apart from server answers', () => {
  assert.equal(isNetworkError(new TypeError('Failed to fetch')), true);
  assert.equal(isNetworkError(new TypeError('NetworkError when attempting to fetch resource.')), true);
  assert.equal(isNetworkError({ type: 'serverFail', message: 'x' }), false);
  assert.equal(isNetworkError({ status: 500, message: 'HTTP 500' }), false);
  assert.equal(errorText(new TypeError('Failed to fetch'), en), en('err.network'));
});

test('JMAP errors become sentences, without the technical wording', () => {
  const rcpt = { type: 'invalidRecipients', detail: { type: 'invalidRecipients', invalidRecipients: ['nobody@example.test'] } };
  assert.equal(errorText(rcpt, en), 'This address does not exist: nobody@example.test');
  assert.match(errorText(rcpt, de), /nobody@example\.test/);
  const big = { type: 'tooLarge', detail: { maxSize: 52428800 } };
  assert.equal(errorText(big, en, 'en'), 'The message is too large: at most 52.4 MB is allowed.');
  for (const type of ['overQuota', 'forbiddenFrom', 'forbiddenToSend', 'rateLimit', 'invalidProperties', 'serverFail', 'stateMismatch']) {
    const s = errorText({ type, detail: {} }, en);
    assert.ok(!s.includes(type), type + ' leaks: ' + s);
    assert.notEqual(errorText({ type, detail: {} }, de), s, type + ' has no German text');
  }
  assert.equal(errorText({ status: 401 }, en), en('err.session'));
  assert.equal(errorText({ status: 503, message: 'HTTP 503' }, en), en('err.server'));
  assert.match(errorText({ type: 'weird', detail: {} }, en), /weird/);
});

test('every err.* key used exists in both languages', () => {
  const src = fs.readFileSync(new URL('../js/errors.js', import.meta.url), 'utf8');
  const keys = [...src.matchAll(/t\('(err\.[A-Za-z]+)'/g)].map((m) => m[1]);
  assert.ok(keys.length > 15);
  for (const k of keys) {
    assert.ok(DICTS.de[k], 'German missing: ' + k);
    assert.ok(DICTS.en[k], 'English missing: ' + k);
  }
});

test('base64 growth is counted (B6)', () => {
  assert.equal(encodedSize(0), 0);
  assert.equal(encodedSize(3), 4 + 2);
  assert.equal(encodedSize(57), 76 + 2);
  assert.equal(encodedSize(58), 80 + 4);
  // 52,000,000 bytes are under 50 MiB but not after encoding
  assert.ok(52000000 < 52428800 && encodedSize(52000000) > 52428800);
  const n = largestFile(52428800, 0);
  assert.ok(encodedSize(n) + 4096 <= 52428800);
  assert.ok(encodedSize(n + 1000) + 4096 > 52428800);
  assert.equal(largestFile(1000, 2000), 0);
  assert.equal(plainSize(49600000, 'en'), '49.6 MB');
});
