import { test } from 'node:test';
import assert from 'node:assert/strict';
import { senderOf, listHas, withSender, withoutSender, imagesDecision, isKnownContact, KnownSenders, IMAGES_FROM_MAX } from '../js/images.js';

test('senderOf: the first From address, lower case; nothing without one', () => {
  assert.equal(senderOf({ from: [{ name: 'A', email: 'Ann@Example.ORG' }] }), 'ann@example.org');
  assert.equal(senderOf({ from: [] }), '');
  assert.equal(senderOf({ from: [{ email: 'no-at-sign' }] }), '');
  assert.equal(senderOf({}), '');
});

test('withSender / withoutSender: once, lower case, capped', () => {
  assert.deepEqual(withSender(['a@x'], 'B@X'), ['a@x', 'b@x']);
  assert.deepEqual(withSender(['a@x', 'b@x'], 'A@x'), ['b@x', 'a@x']);
  assert.deepEqual(withSender(undefined, 'a@x'), ['a@x']);
  const full = Array.from({ length: IMAGES_FROM_MAX }, (_, i) => `s${i}@x`);
  const next = withSender(full, 'new@x');
  assert.equal(next.length, IMAGES_FROM_MAX);
  assert.equal(next[next.length - 1], 'new@x');
  assert.ok(!next.includes('s0@x'));
  assert.deepEqual(withoutSender(['a@x', 'b@x'], 'A@X'), ['b@x']);
  assert.ok(listHas(['a@x'], 'A@x'));
  assert.ok(!listHas(['a@x'], ''));
});

test('imagesDecision: never in Junk or without a sender; the chosen list; known only with the preference', () => {
  const p = { showImagesFromKnown: false, imagesFrom: ['ann@example.org'] };
  assert.equal(imagesDecision(p, 'ann@example.org'), 'yes');
  assert.equal(imagesDecision(p, 'ann@example.org', { inJunk: true }), 'no');
  assert.equal(imagesDecision(p, 'bob@example.org'), 'no');
  assert.equal(imagesDecision({ showImagesFromKnown: true, imagesFrom: [] }, 'bob@example.org'), 'ask');
  assert.equal(imagesDecision({ showImagesFromKnown: true }, 'bob@example.org', { canAsk: false }), 'no');
  assert.equal(imagesDecision({ showImagesFromKnown: true }, 'bob@example.org', { inJunk: true }), 'no');
  assert.equal(imagesDecision({ showImagesFromKnown: true }, ''), 'no');
});

test('isKnownContact: written to (uses > 0), not only received from', () => {
  assert.ok(isKnownContact([{ email: 'Bob@x', uses: 1, received: 0 }], 'bob@x'));
  assert.ok(!isKnownContact([{ email: 'bob@x', uses: 0, received: 7 }], 'bob@x'));
  assert.ok(!isKnownContact([{ email: 'bobby@x', uses: 3 }], 'bob@x'));
  assert.ok(!isKnownContact(undefined, 'bob@x'));
});

test('KnownSenders asks once per address (exact), and again after a failure', async () => {
  const calls = [];
  let fail = true;
  const client = {
    call: async (name, args) => {
      calls.push([name, args]);
      if (args.prefix === 'err@x' && fail) { fail = false; throw new Error('offline'); }
      return { list: args.prefix === 'bob@x' ? [{ email: 'bob@x', uses: 2 }] : [] };
    },
  };
  const k = new KnownSenders(client);
  assert.equal(await k.known('bob@x'), true);
  assert.equal(await k.known('bob@x'), true);
  assert.equal(await k.known('eve@x'), false);
  assert.deepEqual(calls.slice(0, 2), [['ContactSuggestion/query', { prefix: 'bob@x', exact: true }], ['ContactSuggestion/query', { prefix: 'eve@x', exact: true }]]);
  assert.equal(await k.known('err@x'), false);
  assert.equal(await k.known('err@x'), false);
  assert.equal(calls.filter((c) => c[1].prefix === 'err@x').length, 2);
});
