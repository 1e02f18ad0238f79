// Unit tests of web/js/address.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidEmail, parseAddress, parseAddressList, formatAddress, formatAddressList, dedupeAddresses, displayName } from '../js/address.js';

test('valid and invalid addresses', () => {
  for (const ok of ['a@example.test', 'first.last+tag@sub.example.test', 'x@[127.0.0.1]', '"john doe"@example.test', 'jörg@bücher.example', "o'brien@example.test"]) {
    assert.ok(isValidEmail(ok), ok);
  }
  for (const bad of ['', 'a', 'a@', '@b.c', 'a@b', 'a b@example.test', 'a..b@example.test', '.a@example.test', 'a@-x.test', 'a@x-.test',
    'a@example..test', 'a@b.c@d.e', 'x'.repeat(65) + '@example.test', 'a@' + 'x'.repeat(250) + '.test', 'a<b@example.test']) {
    assert.ok(!isValidEmail(bad), bad);
  }
});

test('one mailbox in its usual forms', () => {
  assert.deepEqual(parseAddress('Anna Schmidt <anna@example.test>'), { name: 'Anna Schmidt', email: 'anna@example.test' });
  assert.deepEqual(parseAddress('"Schmidt, Anna" <anna@example.test>'), { name: 'Schmidt, Anna', email: 'anna@example.test' });
  assert.deepEqual(parseAddress('<anna@example.test>'), { name: '', email: 'anna@example.test' });
  assert.deepEqual(parseAddress('  anna@example.test  '), { name: '', email: 'anna@example.test' });
  assert.deepEqual(parseAddress('anna@example.test (Anna)'), { name: 'Anna', email: 'anna@example.test' });
  assert.deepEqual(parseAddress('"a \\"b\\"" <c@example.test>'), { name: 'a "b"', email: 'c@example.test' });
  assert.equal(parseAddress('Anna <anna@>'), null);
  assert.equal(parseAddress('just text'), null);
});

test('lists split on comma and semicolon outside quotes and brackets', () => {
  const r = parseAddressList('Anna <anna@example.test>, bob@example.test; "Doe, J" <j@example.test>,, nonsense , <c@example.test>');
  assert.deepEqual(r.addresses.map((a) => a.email), ['anna@example.test', 'bob@example.test', 'j@example.test', 'c@example.test']);
  assert.equal(r.addresses[2].name, 'Doe, J');
  assert.deepEqual(r.invalid, ['nonsense']);
  assert.deepEqual(parseAddressList(''), { addresses: [], invalid: [] });
  assert.deepEqual(parseAddressList('  ,  ; '), { addresses: [], invalid: [] });
});

test('formatting quotes names with specials and round-trips', () => {
  assert.equal(formatAddress({ name: '', email: 'a@example.test' }), 'a@example.test');
  assert.equal(formatAddress({ name: 'Anna', email: 'a@example.test' }), 'Anna <a@example.test>');
  assert.equal(formatAddress({ name: 'Schmidt, Anna', email: 'a@example.test' }), '"Schmidt, Anna" <a@example.test>');
  assert.equal(formatAddress({ name: 'say "hi"', email: 'a@example.test' }), '"say \\"hi\\"" <a@example.test>');
  const list = [{ name: 'Schmidt, Anna', email: 'a@example.test' }, { name: 'A. B.', email: 'b@example.test' }, { name: '', email: 'c@example.test' }];
  assert.deepEqual(parseAddressList(formatAddressList(list)).addresses, list);
});

test('dedupe ignores case and excludes given addresses', () => {
  const l = [{ name: 'A', email: 'A@example.test' }, { name: 'a', email: 'a@example.test' }, { name: 'me', email: 'me@example.test' }, null];
  assert.deepEqual(dedupeAddresses(l, ['ME@example.test']), [{ name: 'A', email: 'A@example.test' }]);
  assert.equal(displayName({ name: '', email: 'x@example.test' }), 'x@example.test');
  assert.equal(displayName(null), '');
});
