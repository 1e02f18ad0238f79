// The webmail's main flows in each of the eight looks: desktop 1280x800 and phone
// 390x844, English and German (the browser's language: Accept-Language and
// navigator.language), light and dark (prefers-color-scheme). Each combination signs
// in, lists the inbox, opens a message with attachments and an invitation, writes and
// sends a message to itself (it shows up live), searches all folders for it, opens
// the shortcuts help (and on a desktop the move dialog) and the settings; axe-core
// checks every one of these states. One browser, a new context per combination,
// light and dark of a size and language at the same time.
// Started by tests/e2e/test_webmail_matrix.py. Environment: PW_MODULE, BASE,
// USER_ADDR, PASS, CHROMIUM, SHOTS (the test's temporary directory).

import assert from 'node:assert/strict';
import { axe, axeStats, end, failed, shot, step, timing } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const T = 30000; // CI runs two test workers beside the browser

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const LOCALES = { en: 'en-US', de: 'de-DE' };
const TEXT = {
  en: { inbox: 'Inbox', results: 'Search results', settings: 'Settings', sent: 'Message sent.', two: '2 messages' },
  de: { inbox: 'Posteingang', results: 'Suchergebnisse', settings: 'Einstellungen', sent: 'Nachricht gesendet.', two: '2 Nachrichten' },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const problems = [];
const row = (page, subject) => page.locator('#message-list .row', { has: page.locator('.row-subject', { hasText: subject }) }).first();

async function combination(size, lang, scheme) {
  const name = `${size} ${lang} ${scheme}`;
  const tag = name.replace(/ /g, '-');
  const tx = TEXT[lang];
  const phone = size === 'phone';
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: SIZES[size], locale: LOCALES[lang], colorScheme: scheme,
    timezoneId: 'UTC', isMobile: phone, hasTouch: phone });
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`${name}: dialog opened: ${d.message()}`); d.dismiss(); });
  page.on('console', (m) => {
    const loc = (m.location() && m.location().url) || '';
    if (/vendor\/purify\.min\.js/.test(m.text() + loc)) return;
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`${name}: console: ${m.text()}`);
  });
  try {
    step(`${name}: sign in`);
    await page.goto(BASE + '/');
    await page.locator('#login-user').waitFor();
    await axe(page, `${name}, sign-in page`);
    await page.locator('#login-user').fill(USER);
    await page.locator('#login-pass').fill(PASS);
    const t0 = Date.now();
    await page.locator('.login-card button[type=submit]').click();
    await row(page, 'Long report').waitFor();
    timing(`${name}: login to first row`, Date.now() - t0);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    assert.equal((await page.locator('.folders .folder-name').first().textContent()).trim(), tx.inbox);
    await axe(page, `${name}, inbox`);
    await shot(page, `${tag}-inbox`);

    step(`${name}: open a message with attachments, then an invitation`);
    await row(page, 'Photos and the contract').click();
    await page.locator('.reader-subject', { hasText: 'Photos and the contract' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('img.att-thumb')].length === 2
      && [...document.querySelectorAll('img.att-thumb')].every((i) => i.complete));
    await axe(page, `${name}, reader with attachments`);
    if (phone) await page.locator('.reader-toolbar .only-phone').click();
    await row(page, 'Invitation: Planning 2027').click();
    await page.locator('.invite-card .inv-summary').waitFor();
    await axe(page, `${name}, reader with an invitation`);
    if (!phone) {
      step(`${name}: the move dialog`);
      await page.keyboard.press('v');
      await page.locator('dialog .choose-list').waitFor();
      await axe(page, `${name}, move dialog`);
      await page.keyboard.press('Escape');
      await page.locator('dialog .choose-list').waitFor({ state: 'detached' });
    } else {
      await page.locator('.reader-toolbar .only-phone').click();
    }

    step(`${name}: compose and send to myself; it arrives in the inbox`);
    const subject = `Matrix ${name}`;
    await page.locator('#message-list').focus();
    await page.keyboard.press('c');
    const dlg = page.locator('dialog.compose-dialog');
    await dlg.waitFor();
    await dlg.locator('input[id$="-to"]').fill(USER);
    await dlg.locator('input[id$="-subject"]').fill(subject);
    await dlg.locator('textarea').fill(`Sent at ${size} width, ${lang}, ${scheme}.\n`);
    await axe(page, `${name}, compose`);
    await shot(page, `${tag}-compose`);
    const t1 = Date.now();
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' }); // closed when the server took it (Undo send is off)
    timing(`${name}: send`, Date.now() - t1);
    await page.locator('.toast', { hasText: tx.sent }).waitFor();
    await row(page, subject).waitFor({ timeout: 30000 });

    step(`${name}: search all folders: the inbox copy and the one in Sent`);
    const box = page.locator('#search');
    await box.fill(`subject:"${subject}"`);
    await box.press('Enter');
    await page.locator('.list-title', { hasText: tx.results }).waitFor();
    await page.locator('.list-count', { hasText: new RegExp('^' + tx.two + '$') }).waitFor();
    await page.locator('#message-list .row-placeholder').first().waitFor({ state: 'detached' });
    assert.equal(await page.locator('#message-list .row-folder').count(), 2, 'each result names its folder');
    await axe(page, `${name}, search results`);
    await page.locator('#message-list').focus();
    await page.keyboard.press('Escape');
    await page.locator('.list-title', { hasText: tx.inbox }).waitFor();

    step(`${name}: the shortcuts help`);
    await page.locator('#message-list').focus();
    await page.keyboard.press('?');
    await page.locator('dialog dl.shortcuts').waitFor();
    await axe(page, `${name}, shortcuts help`);
    await page.keyboard.press('Escape');
    await page.locator('dialog dl.shortcuts').waitFor({ state: 'detached' });

    step(`${name}: settings`);
    await page.locator('#settings-btn').click();
    await page.locator('#settings-title', { hasText: tx.settings }).waitFor();
    for (const part of ['#identities', '#prefs', '#vacation', '#rules']) await page.locator(part + '[data-loaded]').waitFor();
    await axe(page, `${name}, settings`);
    await shot(page, `${tag}-settings`);
    await page.locator('#settings-back').click();
    await page.locator('#settings').waitFor({ state: 'detached' });
    await row(page, subject).waitFor();
    step(`${name}: done`);
  } finally {
    await ctx.close();
  }
}

try {
  const t0 = Date.now();
  for (const size of ['desktop', 'phone']) {
    for (const lang of ['en', 'de']) {
      // light and dark side by side (two contexts): they share nothing but the account,
      // and each looks only for its own message
      const t1 = Date.now();
      await Promise.all(['light', 'dark'].map((scheme) => combination(size, lang, scheme)));
      timing(`${size} ${lang}, light and dark`, Date.now() - t1);
    }
  }
  timing('the whole matrix (8 combinations)', Date.now() - t0);
  timing(`axe-core, ${axeStats.runs} runs altogether`, axeStats.ms);
  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
