// Unit tests of web/js/format.js and web/js/i18n.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListDate, formatFullDate, formatSize, toUTCDate } from '../js/format.js';
import { pickLanguage, makeTranslator, DICTS } from '../js/i18n.js';

const now = new Date('2025-03-10T12:00:00Z');
const tz = 'Europe/Berlin';

test('list dates: time today, "yesterday", day and month this year, full date before', () => {
  assert.equal(formatListDate('2025-03-10T08:05:00Z', { locale: 'de', now, timeZone: tz }), '09:05');
  assert.equal(formatListDate('2025-03-09T08:05:00Z', { locale: 'de', now, timeZone: tz }), 'gestern');
  assert.equal(formatListDate('2025-03-09T08:05:00Z', { locale: 'en', now, timeZone: tz }), 'yesterday');
  assert.equal(formatListDate('2025-01-02T08:05:00Z', { locale: 'de', now, timeZone: tz }), '2. Jan.');
  assert.equal(formatListDate('2025-01-02T08:05:00Z', { locale: 'en', now, timeZone: tz }), 'Jan 2');
  assert.equal(formatListDate('2023-01-02T08:05:00Z', { locale: 'de', now, timeZone: tz }), '02.01.2023');
  assert.equal(formatListDate('2023-01-02T08:05:00Z', { locale: 'en', now, timeZone: tz }), '01/02/2023');
  assert.equal(formatListDate('garbage', { locale: 'en', now }), '');
});

test('the day boundary is the reader\'s time zone', () => {
  // 23:30 UTC on the 9th is already the 10th in Berlin
  assert.equal(formatListDate('2025-03-09T23:30:00Z', { locale: 'de', now, timeZone: tz }), '00:30');
});

test('full dates', () => {
  assert.equal(formatFullDate('2023-01-02T08:05:00Z', { locale: 'de', timeZone: tz }), 'Mo., 2. Januar 2023 um 09:05');
  assert.match(formatFullDate('2023-01-02T08:05:00Z', { locale: 'en', timeZone: tz }), /^Mon, January 2, 2023(,| at) 09:05 AM$/);
  assert.equal(formatFullDate(undefined, { locale: 'en' }), '');
});

test('sizes', () => {
  assert.equal(formatSize(0, 'en'), '0 B');
  assert.equal(formatSize(1023, 'en'), '1,023 B');
  assert.equal(formatSize(1536, 'en'), '1.5 KB');
  assert.equal(formatSize(1536, 'de'), '1,5 KB');
  assert.equal(formatSize(5 * 1024 * 1024, 'en'), '5 MB');
  assert.equal(formatSize(150 * 1024 * 1024, 'de'), '150 MB');
  assert.equal(formatSize(2 * 1024 ** 3, 'en'), '2 GB');
  assert.equal(toUTCDate(new Date('2025-03-10T12:00:00.123Z')), '2025-03-10T12:00:00Z');
});

test('language choice and translation', () => {
  assert.equal(pickLanguage(['de-AT', 'en']), 'de');
  assert.equal(pickLanguage(['fr-FR', 'en-GB']), 'en');
  assert.equal(pickLanguage(['fr']), 'en');
  assert.equal(pickLanguage('DE'), 'de');
  assert.equal(pickLanguage([undefined]), 'en');
  const de = makeTranslator('de');
  assert.equal(de('folder.inbox'), 'Posteingang');
  assert.equal(de('quota.used', { used: '1 MB', limit: '2 MB' }), '1 MB von 2 MB belegt');
  assert.equal(de('no.such.key'), 'no.such.key');
  assert.equal(makeTranslator('en')('folder.unread', { count: 3 }), '3 unread');
});

test('German and English have the same keys', () => {
  assert.deepEqual(Object.keys(DICTS.de).sort(), Object.keys(DICTS.en).sort());
});
