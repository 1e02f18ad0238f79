// Unit tests of web/js/signature.js (HTML signatures) and the HTML version in
// draftEmail (mailboxes.js). The real DOMPurify runs in the browser test
// (tests/e2e/webmail/signature.mjs); here a stand-in checks what is asked of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanSignature, SIGNATURE_PURIFY, textToHtml, splitSignature, htmlBodyFor, signatureHtmlToText } from '../js/signature.js';
import { draftEmail } from '../js/mailboxes.js';

test('cleanSignature: through the purifier with the short list; empty without one or when nothing is left', () => {
  const seen = [];
  const purify = { sanitize: (html, cfg) => { seen.push(cfg); return html.replace(/<script>.*?<\/script>/g, ''); } };
  assert.equal(cleanSignature(purify, '<b>Anna</b><script>x()</script>'), '<b>Anna</b>');
  assert.equal(seen[0], SIGNATURE_PURIFY);
  assert.ok(!SIGNATURE_PURIFY.ALLOWED_TAGS.includes('img'));
  assert.ok(!SIGNATURE_PURIFY.ALLOWED_TAGS.includes('style'));
  assert.ok(!SIGNATURE_PURIFY.ALLOWED_ATTR.includes('style'));
  assert.ok(!SIGNATURE_PURIFY.ALLOWED_URI_REGEXP.test('javascript:x'));
  assert.ok(!SIGNATURE_PURIFY.ALLOWED_URI_REGEXP.test('http://x'));
  assert.ok(SIGNATURE_PURIFY.ALLOWED_URI_REGEXP.test('https://x'));
  assert.equal(cleanSignature(null, '<b>x</b>'), '');
  assert.equal(cleanSignature(purify, '<script>x()</script>'), '');
  assert.equal(cleanSignature(purify, '   '), '');
});

test('textToHtml escapes and keeps the lines', () => {
  assert.equal(textToHtml('a < b & "c"\r\n> quoted'), 'a &lt; b &amp; &quot;c&quot;<br>\n&gt; quoted');
});

test('splitSignature: the block at the start of a line, or null when it was changed', () => {
  assert.deepEqual(splitSignature('Hi\n\n-- \nAnna\nTeam\n> q', 'Anna\nTeam'), { before: 'Hi\n\n', after: '\n> q' });
  assert.equal(splitSignature('Hi\n\n-- \nAnn\n', 'Anna\nTeam'), null);
  assert.equal(splitSignature('x-- \nAnna', 'Anna'), null);
  assert.equal(splitSignature('-- \nAnna', ''), null);
  assert.deepEqual(splitSignature('-- \nAnna', 'Anna'), { before: '', after: '' });
});

test('htmlBodyFor: the text as HTML with the HTML signature in place of the text one', () => {
  const html = htmlBodyFor('Hello <you>\n\n-- \nAnna A.\n> quoted', 'Anna A.', '<b>Anna</b> A.');
  assert.match(html, /^<!DOCTYPE html><html><body><div>Hello &lt;you&gt;<br>\n<br>\n<\/div>/);
  assert.match(html, /<div class="signature">-- <br>\n<b>Anna<\/b> A\.<\/div>/);
  assert.match(html, /<div><br>\n&gt; quoted<\/div><\/body><\/html>$/);
  assert.ok(!html.includes('Anna A.<'), 'the text signature is replaced');
  assert.equal(htmlBodyFor('Hello', 'Anna', '<b>Anna</b>'), null);
  assert.equal(htmlBodyFor('Hello\n-- \nAnna', 'Anna', ''), null);
});

test('signatureHtmlToText: breaks for <br> and blocks, link addresses, entities', () => {
  assert.equal(signatureHtmlToText('<b>Anna</b> &amp; Co<br><a href="https://example.org">Web</a><div>Tel</div><a href="mailto:a@x">a@x</a>'),
    'Anna & Co\nWeb <https://example.org>Tel\na@x');
});

test('draftEmail: an HTML version makes the text part multipart/alternative, with or without attachments', () => {
  const d = { from: [{ email: 'a@x' }], subject: 's', body: 'text', html: '<p>h</p>' };
  const e = draftEmail(d, 'D');
  assert.equal(e.textBody, undefined);
  assert.deepEqual(e.bodyStructure, { type: 'multipart/alternative', subParts: [{ partId: 'body', type: 'text/plain' }, { partId: 'html', type: 'text/html' }] });
  assert.deepEqual(e.bodyValues, { body: { value: 'text' }, html: { value: '<p>h</p>' } });
  const m = draftEmail(Object.assign({}, d, { attachments: [{ blobId: 'B', type: 'image/png', name: 'p.png' }] }), 'D');
  assert.equal(m.bodyStructure.type, 'multipart/mixed');
  assert.equal(m.bodyStructure.subParts[0].type, 'multipart/alternative');
  assert.equal(m.bodyStructure.subParts[1].blobId, 'B');
  const plain = draftEmail(Object.assign({}, d, { html: null }), 'D');
  assert.deepEqual(plain.textBody, [{ partId: 'body', type: 'text/plain' }]);
  assert.deepEqual(plain.bodyValues, { body: { value: 'text' } });
});
