// Unit tests of web/js/route.js: the app's URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute, routeHash, isNewPlace } from '../js/route.js';

const R = (folder, search, msg) => ({ folder, search, msg });

test('folder, message and search URLs, and back', () => {
  for (const r of [R('M1', null, null), R('M1', null, 'E42'), R(null, 'from:anna "big news" in:Archive', null), R(null, 'a/b#c?d%', 'E7')]) {
    const h = routeHash(r);
    assert.match(h, /^#\//);
    assert.deepEqual(parseRoute(h), r, h);
  }
  assert.equal(routeHash(R('M1', null, 'E42')), '#/folder/M1/msg/E42');
  assert.equal(routeHash(R(null, 'is:unread x', null)), '#/search/is%3Aunread%20x');
  assert.equal(routeHash(R(null, null, null)), '');
});

test('other fragments are not routes', () => {
  for (const h of ['', '#', '#message-list', '#/', '#/folder/', '#/search/', '#/search/%20', '#/other/x', '#/folder/M1/junk/x', '#/search/%E0%A4%A']) {
    assert.equal(parseRoute(h), null, h);
  }
  assert.deepEqual(parseRoute('#/folder/M1/'), R('M1', null, null));
});

test('history: new places are pushed, steps within one replaced', () => {
  const f1 = R('M1', null, null);
  assert.equal(isNewPlace(null, f1), true);
  assert.equal(isNewPlace(f1, R('M2', null, null)), true); // another folder
  assert.equal(isNewPlace(f1, R('M1', null, 'E1')), true); // a message opened
  assert.equal(isNewPlace(R('M1', null, 'E1'), R('M1', null, 'E2')), true); // another one clicked
  assert.equal(isNewPlace(R('M1', null, 'E1'), R('M1', null, 'E2'), { stepping: true }), false); // j/k
  assert.equal(isNewPlace(R('M1', null, 'E1'), f1), false); // the message closed (deleted, moved)
  assert.equal(isNewPlace(f1, R(null, 'a', null)), true); // a search started
  assert.equal(isNewPlace(R(null, 'a', null), R(null, 'ab', null)), false); // typing on
  assert.equal(isNewPlace(R(null, 'ab', null), R(null, 'ab', 'E1')), true); // a result opened
  assert.equal(isNewPlace(R(null, 'ab', null), R('M1', null, null)), true); // back to a folder
});
