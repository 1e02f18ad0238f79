// Browser end-to-end test of the postamt webmail: Debian's chromium driven by
// playwright-core against a running `postamt serve`.
//
// Started by tests/e2e/test_webmail.py, which owns the server and the real mail
// clients (smtplib, imaplib). Environment:
//   PW_MODULE   path of playwright-core's index.mjs (installed in a scratch dir)
//   BASE        https://127.0.0.1:PORT
//   USER_ADDR, PASS  the account to log in with; PEER: another local address
//   SHOTS       directory for screenshots (optional)
//   CANARY      https origin of the canary server the XSS mail's remote references
//               point at (it records what it is asked for: action canary_hits)
// Where the test needs the server side checked or changed by another client,
// it writes one line `@@ask {"action": ...}` to stdout and reads one JSON line
// from stdin ({"ok": true, "result": ...} or {"ok": false, "error": ...}).
// Exit status 0 when every step passed; progress lines start with "step:".

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ask as askHarness, axe } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const PEER = process.env.PEER;
const SHOTS = process.env.SHOTS || '';
const CANARY = process.env.CANARY;
// What the canary may be asked for once the reader clicked "Show images": images only.
const CANARY_IMAGES = ['/img', '/img-http', '/bg', '/css', '/esc-attr', '/esc-set'];
let imagesShown = false;
const T = 15000;

// the answer as {result}, as the steps below read it
const ask = async (action, args = {}) => ({ ok: true, result: await askHarness(action, args) });
function step(name) {
  process.stdout.write('step: ' + name + '\n');
}
async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png') });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

const problems = [];
const foreign = [];
async function newPage(opts = {}) {
  const ctx = await browser.newContext(Object.assign({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 820 }, locale: 'en-US' }, opts));
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', (d) => { problems.push('dialog opened: ' + d.message()); d.dismiss(); });
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith(BASE + '/') || u.startsWith('data:') || u.startsWith('blob:') || u.startsWith('about:')) return;
    // after "Show images", the mail's images (and only they) may come from the canary
    if (imagesShown && CANARY_IMAGES.some((p) => u === CANARY + p)) return;
    foreign.push(u);
  });
  page.on('console', (m) => {
    const s = m.text();
    // CSP refusals are the point of the XSS mail; anything else is a fault.
    // A server built without DOMPurify answers 404 for it: a supported mode (text only).
    const loc = (m.location() && m.location().url) || '';
    if (/vendor\/purify\.min\.js/.test(s + loc)) return;
    if (m.type() === 'error' && !/Content Security Policy|status of 401|inline event handler/.test(s)) problems.push('console: ' + s);
  });
  return { ctx, page };
}

const row = (page, subject) => page.locator('.row', { has: page.locator('.row-subject', { hasText: subject }) });

async function login(page, pass = PASS) {
  await page.goto(BASE + '/');
  await page.locator('#login-user').fill(USER);
  await page.locator('#login-pass').fill(pass);
  await page.locator('.login-card button[type=submit]').click();
}

try {
  const { ctx, page } = await newPage();

  step('login page; a wrong password is refused with a message');
  await login(page, 'wrong-' + PASS);
  await page.locator('#login-error').filter({ hasText: /Wrong address or password/ }).waitFor();
  await shot(page, 'login-light');
  await axe(page, 'sign-in page with an error');

  step('log in');
  await login(page);
  await page.locator('.folders .folder.current').waitFor();
  const hello = row(page, 'Hello from SMTP');
  await hello.waitFor();
  assert.ok(await hello.evaluate((e) => e.classList.contains('unread')), 'new message shows as unread');
  const folders = await page.locator('.folders .folder-name').allTextContents();
  assert.deepEqual(folders.slice(0, 1), ['Inbox'], 'Inbox first: ' + folders.join(', '));
  await axe(page, 'inbox');

  step('open the message delivered by SMTP; it is marked read');
  await hello.click();
  await page.locator('.reader-subject', { hasText: 'Hello from SMTP' }).waitFor();
  await page.locator('.text-body', { hasText: 'This came in over SMTP.' }).waitFor();
  await page.waitForFunction((s) => [...document.querySelectorAll('.row')].some((r) => r.textContent.includes(s) && !r.classList.contains('unread')), 'Hello from SMTP');
  await ask('imap_flags', { subject: 'Hello from SMTP', has: ['\\Seen'] });
  await shot(page, 'reader-light');
  await axe(page, 'reader');

  step('flag it; IMAP sees \\Flagged');
  await page.locator('#toggle-flag').click();
  await ask('imap_flags', { subject: 'Hello from SMTP', has: ['\\Flagged'] });
  step('mark it unread again; IMAP sees it');
  await page.locator('#toggle-seen').click();
  await ask('imap_flags', { subject: 'Hello from SMTP', lacks: ['\\Seen'] });

  step('a flag set over IMAP shows in the open page without reload');
  await ask('imap_set_flag', { subject: 'Second message', flag: '\\Flagged' });
  await row(page, 'Second message').and(page.locator('.row.flagged')).waitFor();

  step('create a folder and move a message there');
  await page.locator('.new-folder').click();
  await page.locator('dialog input[type=text]').waitFor();
  await axe(page, 'new folder dialog');
  await page.locator('dialog input[type=text]').fill('Projects');
  await page.locator('dialog button[type=submit]').click();
  await page.locator('.folders .folder-name', { hasText: 'Projects' }).waitFor();
  await row(page, 'Second message').click();
  await page.locator('.reader-subject', { hasText: 'Second message' }).waitFor();
  await page.keyboard.press('v');
  await page.locator('dialog .choose-item', { hasText: 'Projects' }).waitFor();
  await axe(page, 'move dialog');
  await page.locator('dialog .choose-item', { hasText: 'Projects' }).click();
  await row(page, 'Second message').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Second message', folder: 'Projects' });

  await row(page, 'Newsletter with tricks').click();
  await page.locator('.reader-subject', { hasText: 'Newsletter with tricks' }).waitFor();
  const havePurify = await page.evaluate(() => !!window.DOMPurify);
  if (!havePurify) {
    // The server has no /static/vendor/purify.min.js: HTML is never rendered.
    step('HTML mail without DOMPurify on the server: text only, no frame, nothing runs');
    await page.locator('.text-body', { hasText: 'Visible newsletter text' }).waitFor();
    assert.equal(await page.locator('iframe').count(), 0);
    await page.waitForTimeout(1000);
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'script ran in the page');
  } else {
  const purify = await page.evaluate(() => ({ version: window.DOMPurify.version, shadowNode: 'shadowNode' in window }));
  step('DOMPurify ' + purify.version + (purify.shadowNode ? ' (with the node-dompurify 2.4.1 workaround)' : ''));
  if (process.env.EXPECT_PURIFY) {
    assert.equal(purify.version, process.env.EXPECT_PURIFY, 'the pinned DOMPurify from npm is embedded');
    assert.equal(purify.shadowNode, false, 'DOMPurify 3 needs no workaround');
  }
  step('HTML mail: shown in the sandboxed frame; nothing runs, nothing loads');
  const frame = page.locator('iframe.html-frame');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
  const srcdoc = await frame.getAttribute('srcdoc');
  assert.match(srcdoc, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'">/);
  for (const bad of ['<script', 'onerror', 'onload', 'javascript:', 'http-equiv="refresh"', CANARY + '/css', ' src="' + CANARY, '<form']) {
    assert.ok(!srcdoc.includes(bad), 'sanitized frame still has ' + bad);
  }
  const inner = page.frameLocator('iframe.html-frame');
  await inner.locator('text=Visible newsletter text').waitFor();
  await page.locator('.reader-body .notice', { hasText: 'Remote images were blocked' }).waitFor();
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'script ran in the page');
  assert.deepEqual((await ask('canary_hits')).result, [], 'a remote reference loaded before "Show images"');
  assert.deepEqual(foreign, [], 'requests left the server before "Show images"');
  await shot(page, 'html-light');
  await axe(page, 'HTML message with images blocked');

  step('"Show images": the mail\'s remote images load (http: ones over https:), nothing else does');
  imagesShown = true;
  await page.locator('.reader-body .notice').getByRole('button', { name: 'Show images', exact: true }).click();
  await page.locator('.reader-body .notice').waitFor({ state: 'detached' });
  const shown = page.locator('iframe.html-frame');
  const remoteDoc = await shown.getAttribute('srcdoc');
  assert.match(remoteDoc, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: cid: https:; style-src 'unsafe-inline'">/);
  for (const bad of ['<script', 'onerror', 'javascript:', 'http-equiv="refresh"', '@import', '<form', '<iframe', '<object', 'http://']) {
    assert.ok(!remoteDoc.includes(bad), 'frame with images shown still has ' + bad);
  }
  const seen = (await ask('canary_wait', { paths: ['/img', '/img-http', '/bg', '/css'] })).result;
  const loaded = await page.frameLocator('iframe.html-frame').locator('img[alt="tracker"]').evaluate((img) => img.complete && img.naturalWidth);
  assert.equal(loaded, 1, 'the remote image is shown');
  await page.waitForTimeout(1000);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'script ran in the page');
  const after = (await ask('canary_hits')).result;
  assert.ok(after.every((p) => CANARY_IMAGES.includes(p)), 'the canary saw more than images: ' + after.join(' '));
  assert.ok(seen.length <= after.length);
  await shot(page, 'html-images-light');

  step('remote CSS spelled with escapes and image-set(): blocked with the notice; "Show images" loads the images');
  await row(page, 'Escaped CSS').click();
  await page.locator('.reader-subject', { hasText: 'Escaped CSS' }).waitFor();
  await page.frameLocator('iframe.html-frame').locator('text=Escaped CSS text').waitFor();
  await page.locator('.reader-body .notice', { hasText: 'Remote images were blocked' }).waitFor();
  const escDoc = await page.locator('iframe.html-frame').getAttribute('srcdoc');
  assert.ok(!escDoc.includes(CANARY), 'the escaped remote CSS is still in the frame');
  await page.waitForTimeout(1000);
  const escBefore = (await ask('canary_hits')).result;
  assert.ok(!escBefore.some((p) => p.startsWith('/esc-')), 'escaped CSS loaded before "Show images": ' + escBefore.join(' '));
  await page.locator('.reader-body .notice').getByRole('button', { name: 'Show images', exact: true }).click();
  await page.locator('.reader-body .notice').waitFor({ state: 'detached' });
  await ask('canary_wait', { paths: ['/esc-attr', '/esc-set'] });
  assert.ok(!(await ask('canary_hits')).result.includes('/esc-import'), '@import loaded');
  }

  step('bidi controls in the subject, the sender\'s name and a file name are shown as markers');
  const bidiRow = row(page, 'Bidi invoice');
  await bidiRow.waitFor();
  assert.equal(await bidiRow.locator('.row-subject .bidi-ctl').textContent(), 'RLO');
  assert.equal(await bidiRow.locator('.row-from .bidi-ctl').textContent(), 'RLO');
  assert.ok(!/[\u202a-\u202e\u2066-\u2069]/.test(await bidiRow.textContent()), 'a bidi control is left in the list row');
  await bidiRow.click();
  const subj = page.locator('.reader-subject', { hasText: 'Bidi invoice' });
  await subj.waitFor();
  assert.equal(await subj.locator('.bidi-ctl').textContent(), 'RLO');
  assert.equal(await subj.locator('.bidi-ctl').getAttribute('title'), 'U+202E RIGHT-TO-LEFT OVERRIDE');
  assert.equal((await subj.textContent()).trim(), 'Bidi invoiceRLOfdp.exe check');
  assert.equal(await page.locator('.reader-from .bidi-ctl').textContent(), 'RLO');
  const chip = page.locator('.attachments .attachment');
  assert.equal(await chip.locator('.att-name').textContent(), 'invoiceRLOfdp.exe');
  assert.equal(await chip.getAttribute('download'), 'invoice_fdp.exe');
  assert.ok(!/[\u202a-\u202e]/.test(await chip.getAttribute('title')), 'a bidi control is left in the tooltip');
  await shot(page, 'bidi-light');

  step('compose and send to myself and a local peer; it arrives live');
  await page.keyboard.press('c');
  const dlg = page.locator('dialog.compose-dialog');
  await dlg.waitFor();
  await dlg.locator('input[id$="-to"]').fill('not an address');
  await dlg.locator('input[id$="-subject"]').fill('Sent from the webmail');
  await dlg.locator('textarea').fill('Hello,\nthis went through EmailSubmission.\n');
  await dlg.locator('button[type=submit]').click();
  await dlg.locator('.c-error', { hasText: 'Invalid address' }).waitFor();
  await axe(page, 'compose with an error');
  await dlg.locator('input[id$="-to"]').fill(`${USER}, Peer <${PEER}>`);
  await shot(page, 'compose-light');
  await dlg.locator('button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
  await row(page, 'Sent from the webmail').waitFor({ timeout: 30000 });
  await ask('imap_in_folder', { subject: 'Sent from the webmail', folder: 'INBOX', user: 'peer' });
  await ask('imap_in_folder', { subject: 'Sent from the webmail', role: '\\Sent' });

  step('new mail delivered by SMTP appears without reload');
  await ask('smtp_deliver', { subject: 'Live delivery' });
  await row(page, 'Live delivery').waitFor({ timeout: 20000 });

  step('reply with an attachment; the reply reaches the sender');
  await row(page, 'Hello from SMTP').click();
  await page.locator('.reader-subject', { hasText: 'Hello from SMTP' }).waitFor();
  await page.keyboard.press('r');
  await dlg.waitFor();
  assert.equal(await dlg.locator('input[id$="-subject"]').inputValue(), 'Re: Hello from SMTP');
  assert.match(await dlg.locator('input[id$="-to"]').inputValue(), new RegExp(PEER.replace(/[.]/g, '\\.')));
  assert.match(await dlg.locator('textarea').inputValue(), /\n> This came in over SMTP\./);
  await dlg.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('attached notes\n') });
  await dlg.locator('.c-att', { hasText: 'notes.txt' }).filter({ hasNotText: 'uploading' }).waitFor();
  await dlg.locator('textarea').press('Control+Home');
  await dlg.locator('textarea').type('Thanks, see the notes. ');
  await dlg.locator('textarea').press('Control+Enter');
  await dlg.waitFor({ state: 'detached' });
  await ask('imap_reply_check', { subject: 'Re: Hello from SMTP', attachment: 'notes.txt', user: 'peer' });

  step('delete moves to Trash');
  await row(page, 'Live delivery').click();
  await page.locator('.reader-subject', { hasText: 'Live delivery' }).waitFor();
  await page.keyboard.press('Delete');
  await row(page, 'Live delivery').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Live delivery', role: '\\Trash' });

  step('archive and junk');
  await row(page, 'Hello from SMTP').click();
  await page.keyboard.press('e');
  await row(page, 'Hello from SMTP').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Hello from SMTP', role: '\\Archive' });

  step('spam and not spam teach the junk filter');
  await row(page, 'Escaped CSS').click();
  await page.locator('.reader-subject', { hasText: 'Escaped CSS' }).waitFor();
  await page.keyboard.press('!');
  await row(page, 'Escaped CSS').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Escaped CSS', role: '\\Junk' });
  await ask('junk_model', { spam: 1, ham: 0 });
  await page.locator('.folders .folder-name', { hasText: 'Junk' }).click();
  await row(page, 'Escaped CSS').click();
  await page.keyboard.press('x');
  await page.locator('.bulk [aria-label="Not spam"]').click();
  await row(page, 'Escaped CSS').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Escaped CSS', folder: 'INBOX' });
  await ask('junk_model', { spam: 0, ham: 1 });
  // the reader's "Spam" button in a folder other than the inbox (Archive)
  await page.locator('.folders .folder-name', { hasText: 'Archive' }).click();
  await row(page, 'Hello from SMTP').click();
  await page.locator('.reader-subject', { hasText: 'Hello from SMTP' }).waitFor();
  await page.locator('.reader-toolbar [aria-label="Spam"]').click();
  await row(page, 'Hello from SMTP').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Hello from SMTP', role: '\\Junk' });
  await ask('junk_model', { spam: 1, ham: 1 });
  await page.locator('.folders .folder-name', { hasText: 'Inbox' }).click();

  step('in German: "Spam" in the toolbars, "Kein Spam" in the Spam folder');
  const de = await newPage({ locale: 'de-DE' });
  await login(de.page);
  await row(de.page, 'Escaped CSS').click();
  await de.page.locator('.reader-toolbar [aria-label="Spam"]').waitFor();
  await de.page.keyboard.press('x');
  await de.page.locator('.bulk [aria-label="Spam"]').waitFor();
  await de.page.keyboard.press('Escape');
  await de.page.locator('.folders .folder-name', { hasText: 'Spam' }).click();
  await row(de.page, 'Hello from SMTP').click();
  await de.page.locator('.reader-subject', { hasText: 'Hello from SMTP' }).waitFor();
  await de.page.locator('.reader-toolbar [aria-label="Kein Spam"]').click();
  await row(de.page, 'Hello from SMTP').waitFor({ state: 'detached' });
  await ask('imap_in_folder', { subject: 'Hello from SMTP', folder: 'INBOX' });
  await ask('junk_model', { spam: 0, ham: 2 });
  await de.ctx.close();

  step('search');
  await page.keyboard.press('/');
  await page.locator('#search').fill('subject:Newsletter');
  await page.locator('#search').press('Enter');
  await page.locator('#list-title', { hasText: 'Search results' }).waitFor();
  // The old rows stay until the result arrives: wait for exactly the one match.
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('.row');
    return rows.length === 1 && rows[0].textContent.includes('Newsletter with tricks');
  });
  await axe(page, 'search results');
  await page.locator('#search').fill('');
  await page.locator('#search').press('Enter');

  step('quota and the mail-program settings the server announces');
  await page.locator('.quota .quota-text', { hasText: 'of 50 MB used' }).waitFor();
  await page.locator('#clients-btn').click();
  const table = page.locator('dialog .clients-table');
  await table.waitFor();
  const cells = await table.locator('tbody tr').allInnerTexts();
  assert.ok(cells.some((r) => /IMAP/.test(r) && r.includes(process.env.IMAPS_PORT) && /SSL\/TLS/.test(r)), cells.join(' | '));
  assert.ok(cells.some((r) => /SMTP/.test(r) && r.includes(process.env.SUBMISSIONS_PORT) && /SSL\/TLS/.test(r)), cells.join(' | '));
  if (await page.locator('dialog a[href="/api/mobileconfig"]').count()) {
    const status = await page.evaluate(async () => (await fetch('/api/mobileconfig', { headers: { 'X-Postamt-CSRF': '1' } })).status);
    assert.equal(status, 200);
  }
  await shot(page, 'clients-light');
  await axe(page, 'mail programs dialog');
  await page.keyboard.press('Escape');

  step('dark mode and phone width');
  const dark = await newPage({ colorScheme: 'dark', locale: 'de-DE' });
  await login(dark.page);
  await dark.page.locator('.row').first().waitFor();
  assert.equal(await dark.page.locator('.folders .folder-name').first().textContent(), 'Posteingang');
  await shot(dark.page, 'list-dark-de');
  await axe(dark.page, 'inbox, dark, German');
  await dark.ctx.close();
  const phone = await newPage({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await login(phone.page);
  const hitsBefore = (await ask('canary_hits')).result.length;
  await row(phone.page, 'Newsletter with tricks').click();
  await phone.page.locator('.reader-pane .reader-subject').waitFor();
  if (havePurify) {
    // "Show images" was for that page: a new one blocks them again
    await phone.page.locator('.reader-body .notice', { hasText: 'Remote images were blocked' }).waitFor();
    await phone.page.waitForTimeout(1000);
    assert.equal((await ask('canary_hits')).result.length, hitsBefore, 'remote images loaded without "Show images"');
  }
  await shot(phone.page, 'phone-reader');
  await axe(phone.page, 'reader at phone width');
  await phone.page.locator('.reader-toolbar button[aria-label="Back"]').click();
  await phone.page.locator('.topbar button[aria-label="Menu"]').click();
  await phone.page.locator('.sidebar .compose-btn').waitFor();
  await phone.page.waitForTimeout(400); // the drawer slides in
  await shot(phone.page, 'phone-folders');
  await axe(phone.page, 'folders drawer at phone width');
  await phone.ctx.close();

  step('log out');
  await page.locator('#logout').click();
  await page.locator('#login-user').waitFor();
  const check = await page.evaluate(async () => (await fetch('/api/session-check', { headers: { 'X-Postamt-CSRF': '1' } })).status);
  assert.equal(check, 401);

  step('sign out everywhere ends the sessions of other browsers too');
  const other = await newPage();
  await login(other.page);
  await other.page.locator('#logout-everywhere').waitFor();
  await login(page);
  await page.locator('#logout-everywhere').click();
  await page.locator('.dialog .btn.danger').waitFor();
  await axe(page, 'sign out everywhere: confirm dialog');
  await page.locator('.dialog .btn.danger').click();
  await page.locator('#login-user').waitFor();
  const otherCheck = await other.page.evaluate(async () => (await fetch('/api/session-check', { headers: { 'X-Postamt-CSRF': '1' } })).status);
  assert.equal(otherCheck, 401);
  await other.ctx.close();
  await ctx.close();

  assert.deepEqual(foreign, [], 'requests left the server');
  assert.deepEqual(problems, [], 'problems in the page');
  step('done');
  await browser.close();
  process.exit(0);
} catch (e) {
  process.stdout.write('FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
  if (problems.length) process.stdout.write('page problems:\n  ' + problems.join('\n  ') + '\n');
  if (foreign.length) process.stdout.write('foreign requests:\n  ' + foreign.join('\n  ') + '\n');
  await browser.close();
  process.exit(1);
}
