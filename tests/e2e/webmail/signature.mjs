// Browser test of HTML signatures (web/js/signature.js): edited in the settings
// with a cleaned preview, stored cleaned (Identity htmlSignature), put into the
// HTML version of a sent message in place of the text signature; a hostile one
// stored by another client is cleaned on use; without one the message stays plain
// text. Started by tests/e2e/test_webmail_signature.py, which reads the sent mail
// over IMAP. Same protocol as run.mjs. Environment: PW_MODULE, BASE, USER_ADDR,
// PASS, CHROMIUM, PEER, SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, end, failed, launch, newPage, shot, signIn, step } from './harness.mjs';

const PEER = process.env.PEER;
const HOSTILE = '<b>Anna</b> <i>Example</i><br><a href="https://example.org/team">Team page</a>'
  + '<script>window.top.__sig = 1</script><img src="x" onerror="window.top.__sig = 2">'
  + '<a href="javascript:window.top.__sig = 3">bad link</a><style>body { display: none }</style>';

const browser = await launch();
const problems = [];
const { ctx, page } = await newPage(browser, problems, { signIn: false });
const dlg = page.locator('dialog.compose-dialog');

async function send(subject) {
  await page.locator('.compose-btn').first().click();
  await dlg.waitFor();
  await dlg.locator('input[id$="-to"]').fill(PEER);
  await dlg.locator('input[id$="-subject"]').fill(subject);
  const body = dlg.locator('textarea');
  await body.press('Control+Home');
  await body.type('Hello Peer, 1 < 2 & so on.');
  await dlg.locator('button[type=submit]').click();
  await page.locator('.toast', { hasText: 'Message sent' }).waitFor();
}

try {
  await signIn(page);

  step('settings: an HTML signature with a script in it; the preview shows only the formatting');
  await page.locator('#settings-btn').click();
  await page.locator('#identities[data-loaded]').waitFor();
  await page.locator('#ident-I0-sig').fill('Anna Example\nTeam page: https://example.org/team');
  await page.locator('#ident-I0-html').fill(HOSTILE);
  const preview = page.locator('#ident-I0-preview');
  await preview.locator('b', { hasText: 'Anna' }).waitFor();
  assert.equal(await preview.locator('a[href="https://example.org/team"]').count(), 1);
  assert.equal(await preview.locator('script, img, style').count(), 0);
  assert.equal(await preview.locator('a:not([href])', { hasText: 'bad link' }).count(), 1);
  await page.locator('#ident-I0-save').click();
  await page.locator('.toast', { hasText: 'Sender saved.' }).waitFor();
  const stored = await ask('identity');
  assert.match(stored.htmlSignature, /<b>Anna<\/b>/);
  for (const bad of ['<script', 'onerror', 'javascript:', '<img', '<style']) assert.ok(!stored.htmlSignature.includes(bad), 'stored: ' + bad);
  assert.equal(stored.textSignature, 'Anna Example\nTeam page: https://example.org/team');
  await shot(page, 'signature-settings');
  await axe(page, 'settings: HTML signature and its preview');
  await page.locator('#settings-back').click();

  step('compose: the text signature in the text; sent with the HTML one in the HTML version');
  await send('With HTML signature');
  await ask('sent_mail', { subject: 'With HTML signature', html: true });

  step('a hostile HTML signature stored by another client is cleaned when used');
  await ask('set_html_signature', { html: HOSTILE + '<img src="https://example.org/track.png"><iframe src="https://example.org/"></iframe>' });
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  await send('Stored elsewhere');
  await ask('sent_mail', { subject: 'Stored elsewhere', html: true });

  step('without an HTML signature the message stays plain text (the default)');
  await ask('set_html_signature', { html: '' });
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  await send('Plain again');
  await ask('sent_mail', { subject: 'Plain again', html: false });

  assert.equal(await page.evaluate(() => window.__sig), undefined);
  assert.deepEqual(problems, []);
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
