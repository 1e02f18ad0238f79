// Browser test of remote images from known senders (web/js/images.js, reader.js):
// the preference in the settings, a known sender's images at once, a hostile
// stranger's and a merely received sender's still blocked under the strict frame
// policy, "Always show images from …" stored and kept after a reload; German texts.
// Started by tests/e2e/test_webmail_images.py, which seeds the mail and owns the
// canary. Same protocol as run.mjs. Environment: PW_MODULE, BASE, USER_ADDR, PASS,
// CHROMIUM, SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, end, failed, launch, newPage as openPage, shot, step } from './harness.mjs';

const STRICT = `default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'`;
const IMAGES = `default-src 'none'; img-src data: cid: https:; style-src 'unsafe-inline'`;

const browser = await launch();
const problems = [];
const newPage = (locale = 'en-US') => openPage(browser, problems, { locale });
const row = (page, subject) => page.locator('.row', { has: page.locator('.row-subject', { hasText: subject }) }).first();
async function open(page, subject) {
  await row(page, subject).click();
  await page.locator('.reader-subject', { hasText: subject }).first().waitFor();
  await page.locator('.reader-body iframe.html-frame').waitFor();
}
const srcdoc = (page) => page.locator('.reader-body iframe.html-frame').getAttribute('srcdoc');
const csp = (doc) => (doc.match(/http-equiv="Content-Security-Policy" content="([^"]*)"/) || [])[1];

try {
  const { ctx, page } = await newPage();
  step('before the preference: the known sender\'s images are blocked too');
  await open(page, 'Known sender pictures');
  await page.locator('.reader-body .remote-notice').waitFor();
  assert.equal(csp(await srcdoc(page)), STRICT);

  step('the preference is switched on in the settings and stored');
  await page.locator('#settings-btn').click();
  await page.locator('#prefs[data-loaded]').waitFor();
  await page.getByText('Known means someone you have written to').waitFor();
  await page.locator('#pref-images').check();
  await page.locator('#pref-save').click();
  await page.locator('.toast', { hasText: 'Preferences saved.' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#settings').waitFor({ state: 'detached' });

  step('a known sender (written to): images load at once, no notice, still sandboxed');
  await row(page, 'Hostile stranger').click(); // away and back: the message is rendered anew
  await page.locator('.reader-subject', { hasText: 'Hostile stranger' }).waitFor();
  await open(page, 'Known sender pictures');
  await page.waitForFunction(() => /img-src data: cid: https:/.test(document.querySelector('.reader-body iframe.html-frame')?.getAttribute('srcdoc') || ''));
  assert.equal(await page.locator('.reader-body .remote-notice').count(), 0);
  const frame = page.locator('.reader-body iframe.html-frame');
  assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
  assert.equal(csp(await srcdoc(page)), IMAGES);
  await ask('canary_wait', { path: '/peer-img' });

  step('a hostile stranger: nothing remote loads, the frame policy is the strict one');
  await open(page, 'Hostile stranger');
  await page.locator('.reader-body .remote-notice').waitFor();
  await page.locator('.reader-body .images-always', { hasText: 'Always show images from stranger@elsewhere.test' }).waitFor();
  const hostile = await srcdoc(page);
  assert.equal(csp(hostile), STRICT);
  // data-blocked-* keep the address as text for "Show images"; nothing else may
  for (const m of hostile.replace(/data-blocked-[a-z]+="[^"]*"/g, '').matchAll(/.{0,60}stranger\/.{0,20}/g)) assert.fail('a remote address of the stranger is in the frame: ' + m[0]);
  await page.waitForTimeout(1500); // the known-sender lookup has answered by now
  assert.equal(await page.locator('.reader-body .remote-notice').count(), 1);
  assert.equal(csp(await srcdoc(page)), STRICT);
  assert.deepEqual(await ask('canary_hits', { prefix: '/stranger' }), []);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot(page, 'images-stranger');
  await axe(page, 'reader: remote images blocked, "always show" offered');

  step('a sender the account only received mail from is not known');
  const carl = await ask('contact', { email: 'carl@elsewhere.test' });
  assert.equal(carl.length, 1);
  assert.equal(carl[0].uses, 0);
  assert.ok(carl[0].received >= 2, JSON.stringify(carl));
  await open(page, 'Carl pictures');
  await page.locator('.reader-body .remote-notice').waitFor();
  await page.waitForTimeout(1000);
  assert.equal(csp(await srcdoc(page)), STRICT);
  assert.deepEqual(await ask('canary_hits', { prefix: '/carl' }), []);

  step('"Always show images from carl@…": loads them, stored, and kept after a reload');
  await page.locator('.reader-body .images-always').click();
  await page.waitForFunction(() => /img-src data: cid: https:/.test(document.querySelector('.reader-body iframe.html-frame')?.getAttribute('srcdoc') || ''));
  await ask('canary_wait', { path: '/carl-img' });
  assert.deepEqual(await ask('images_from'), ['carl@elsewhere.test']);
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  await open(page, 'Carl pictures');
  await page.waitForFunction(() => /img-src data: cid: https:/.test(document.querySelector('.reader-body iframe.html-frame')?.getAttribute('srcdoc') || ''));
  assert.equal(await page.locator('.reader-body .remote-notice').count(), 0);
  step('the stranger stays blocked after the reload');
  await open(page, 'Hostile stranger');
  await page.locator('.reader-body .remote-notice').waitFor();
  assert.equal(csp(await srcdoc(page)), STRICT);

  step('the settings list the sender, and removing it blocks again');
  await page.locator('#settings-btn').click();
  await page.locator('#prefs[data-loaded]').waitFor();
  await page.locator('#pref-images-from li', { hasText: 'carl@elsewhere.test' }).waitFor();
  await axe(page, 'settings: senders whose images are shown');
  await page.getByRole('button', { name: 'Remove carl@elsewhere.test' }).click();
  await page.locator('#pref-images-from li').waitFor({ state: 'detached' });
  assert.deepEqual(await ask('images_from'), []);
  await ctx.close();

  step('German: the notice, its button and the setting');
  const de = await newPage('de-DE');
  await de.page.locator('#settings-btn').click();
  await de.page.locator('#prefs[data-loaded]').waitFor();
  await de.page.getByText('Bilder von bekannten Absendern automatisch anzeigen').waitFor();
  await de.page.getByText('Bekannt ist, wem Sie schon geschrieben haben').waitFor();
  await de.page.keyboard.press('Escape');
  await open(de.page, 'Hostile stranger');
  await de.page.locator('.reader-body .images-always', { hasText: 'Bilder von stranger@elsewhere.test immer anzeigen' }).waitFor();
  assert.deepEqual(await ask('canary_hits', { prefix: '/stranger' }), []);
  await de.ctx.close();

  assert.deepEqual(problems, []);
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
