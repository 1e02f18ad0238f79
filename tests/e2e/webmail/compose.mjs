// Browser test of the compose window's safety nets and the sender settings
// (issue #25: review bugs B2, B5, B6, B8): identity name and signature set in the
// settings and carried by sent mail; contact suggestions; Undo send; autosave to
// Drafts; a server restart with a message open (still signed in, nothing lost);
// the network gone (one offline banner, saved when it is back); a session ended
// elsewhere (sign in again over the open compose); an attachment too large after
// base64, refused before upload with the limit named; a refused recipient in a
// plain sentence. Started by tests/e2e/test_webmail_compose.py, which owns the
// server and checks results over JMAP (HTTP Basic) and IMAP. Protocol as run.mjs:
// `@@ask {"action": ...}` on stdout, one JSON line back on stdin. Environment:
//   PW_MODULE, BASE, USER_ADDR, PASS, PEER_ADDR, CHROMIUM, LOCALE, SHOTS (optional)

import assert from 'node:assert/strict';
import { ask, axe, rl, shot, step } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const PEER = process.env.PEER_ADDR;
const LOCALE = process.env.LOCALE || 'en-US';
const DE = LOCALE.startsWith('de');
const T = 20000;
const tx = (en, de) => (DE ? de : en);


const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const problems = [];
const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, locale: LOCALE });
const page = await ctx.newPage();
page.setDefaultTimeout(T);
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('dialog', (d) => { problems.push('browser dialog opened: ' + d.message()); d.dismiss(); });

const dlg = page.locator('dialog.compose-dialog');
const body = dlg.locator('textarea');
const status = dlg.locator('.c-status');

async function login() {
  await page.goto(BASE + '/');
  await page.locator('#login-user').fill(USER);
  await page.locator('#login-pass').fill(PASS);
  await page.locator('.login-card button[type=submit]').click();
  await page.locator('.folders .folder.current').waitFor();
}
async function openCompose() {
  await page.locator('.compose-btn').first().click();
  await dlg.waitFor();
}
// The draft is saved when the status line says so after the last edit.
async function waitSaved() {
  await status.filter({ hasText: tx('Draft saved', 'Entwurf gespeichert') }).waitFor({ timeout: 30000 });
}

try {
  await login();

  step('settings: display name and signature of the own address; Undo send 5 s');
  await page.locator('#settings-btn').click();
  await page.locator('#identities[data-loaded]').waitFor();
  await page.locator('#ident-I0-name').fill('Anna Ärmel');
  await page.locator('#ident-I0-sig').fill('Anna Ärmel\nTel. 0123');
  await page.locator('#ident-I0-save').click();
  await ask('identity', { name: 'Anna Ärmel', signature: 'Anna Ärmel\nTel. 0123' });
  await page.locator('#prefs[data-loaded]').waitFor();
  await page.locator('#pref-undo').selectOption('5');
  assert.equal(await page.locator('#pref-conversations').isChecked(), false);
  await page.locator('#pref-conversations').check();
  await page.locator('#pref-save').click();
  await ask('settings', { expect: { undoSendSeconds: 5, conversations: true } });
  await shot(page, 'settings-sender');
  await axe(page, 'settings: sender and preferences');
  await page.locator('#settings-back').click();
  // the list follows the settings page's conversation switch; switched back in the list
  await page.locator('#list-conv-toggle[aria-pressed="true"]').waitFor();
  await page.locator('#list-conv-toggle').click();
  await page.locator('#list-conv-toggle[aria-pressed="false"]').waitFor();
  await ask('settings', { expect: { conversations: false } });

  step('compose: the signature is in; a contact is suggested and taken with the keyboard');
  await ask('seed_contact');
  await openCompose();
  assert.match(await body.inputValue(), /\n-- \nAnna Ärmel\nTel\. 0123$/);
  const to = dlg.locator('input[id$="-to"]');
  await to.focus();
  await page.keyboard.type('pe');
  const option = dlg.locator('[role=listbox] [role=option]', { hasText: PEER });
  await option.waitFor();
  assert.equal(await to.getAttribute('aria-expanded'), 'true');
  await axe(page, 'compose with address suggestions');
  await page.keyboard.press('ArrowDown');
  assert.equal(await option.getAttribute('aria-selected'), 'true');
  await page.keyboard.press('Enter');
  assert.match(await to.inputValue(), new RegExp(`Peer Pan <${PEER.replace(/\./g, '\\.')}>, $`));
  assert.equal(await to.getAttribute('aria-expanded'), 'false');

  step('Undo send brings the message back; sending again delivers it with the name and signature');
  await dlg.locator('input[id$="-subject"]').fill('Undo me');
  await body.focus();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('Hello Peer,');
  await dlg.locator('button[type=submit]').click();
  const bar = page.locator('.undo-bar');
  await bar.waitFor();
  await shot(page, 'undo-send');
  await bar.locator('button').click();
  await dlg.waitFor();
  assert.equal(await dlg.evaluate((d) => d.open), true);
  assert.match(await body.inputValue(), /^Hello Peer,/);
  await dlg.locator('button[type=submit]').click();
  await bar.waitFor();
  await dlg.waitFor({ state: 'detached', timeout: 30000 });
  await ask('peer_got', { subject: 'Undo me', from_name: 'Anna Ärmel', body: 'Tel. 0123', count: 1 });

  step('autosave: a draft in Drafts 2 s after typing stops, replacing the previous one');
  await openCompose();
  await to.fill(PEER);
  await dlg.locator('input[id$="-subject"]').fill('Restart survivor');
  await body.fill('First words.');
  await waitSaved();
  await ask('draft', { subject: 'Restart survivor', body: 'First words.', count: 1 });

  step('server restart (SIGTERM) with the message open: still signed in, nothing lost (B2)');
  await ask('restart');
  await body.fill('First words. Typed after the restart.');
  await waitSaved();
  await ask('draft', { subject: 'Restart survivor', body: 'Typed after the restart.', count: 1 });
  assert.equal(await page.locator('#relogin').count(), 0, 'the restart asked for a login');
  assert.equal(await page.locator('.login-card').count(), 0);

  step('network gone: one offline banner, no pile of toasts; saved once it is back');
  await ctx.setOffline(true);
  await body.fill('First words. Typed after the restart. Typed offline.');
  await status.filter({ hasText: tx('Not saved yet', 'Noch nicht gespeichert') }).waitFor({ timeout: 30000 });
  await page.locator('.offline').waitFor();
  assert.equal(await page.locator('.toast.error').count(), 0, 'error toasts while offline');
  await shot(page, 'offline');
  await axe(page, 'offline banner over compose');
  await ctx.setOffline(false);
  await waitSaved();
  await ask('draft', { subject: 'Restart survivor', body: 'Typed offline.', count: 1 });

  step('session ended elsewhere: sign in again over the open compose, then it is saved');
  await ask('end_sessions');
  await body.fill('First words. Typed after the restart. Typed offline. Typed while signed out.');
  const relogin = page.locator('#relogin');
  await relogin.waitFor({ timeout: 30000 });
  await shot(page, 'relogin');
  await axe(page, 'sign in again over compose');
  assert.equal(await dlg.evaluate((d) => d.open), true, 'the compose window closed');
  await page.locator('#relogin-pass').fill(PASS);
  await relogin.locator('button[type=submit]').click();
  await relogin.waitFor({ state: 'detached' });
  await waitSaved();
  await ask('draft', { subject: 'Restart survivor', body: 'Typed while signed out.', count: 1 });

  step('attachment limit: shown when composing; a file too big after base64 is refused before upload (B6)');
  const limit = await dlg.locator('.c-limit').textContent();
  assert.match(limit, DE ? /Anhänge bis .*KB/ : /Attachments up to .*KB/);
  const big = await ask('near_limit_size');
  // Attach is a real button (in the tab order, named for screen readers) that opens the file chooser
  const attach = dlg.getByRole('button', { name: DE ? 'Datei anhängen' : 'Attach file' });
  assert.deepEqual(await attach.evaluate((b) => [b.tagName, b.tabIndex]), ['BUTTON', 0]);
  // a <button> is keyboard-operable by itself; headless Chromium's file chooser event
  // after a key press is racy, so the chooser is opened with a click
  const chosen = page.waitForEvent('filechooser');
  await attach.click();
  const chooser = await chosen;
  await chooser.setFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(big, 7) });
  await dlg.locator('.c-error', { hasText: 'big.bin' }).waitFor();
  assert.match(await dlg.locator('.c-error').textContent(), DE ? /zu groß/ : /too large/);
  assert.equal(await dlg.locator('.c-att').count(), 0, 'the file was uploaded anyway');
  await axe(page, 'compose: a file refused');

  step('a refused recipient is a sentence, not an error code (B8)');
  await to.fill('nobody@example.test');
  await dlg.locator('button[type=submit]').click();
  await page.locator('.undo-bar').waitFor({ state: 'detached', timeout: 30000 });
  const err = dlg.locator('.c-error', { hasText: 'nobody@example.test' });
  await err.waitFor({ timeout: 30000 });
  const text = await err.textContent();
  assert.ok(!/invalidRecipients|EmailSubmission/.test(text), text);
  assert.match(text, DE ? /gibt es nicht/ : /does not exist/);

  assert.deepEqual(problems, []);
  step('done');
} catch (e) {
  console.log('FAILED: ' + (e.stack || e));
  await shot(page, 'failure').catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  rl.close();
}
