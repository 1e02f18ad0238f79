// Browser test of the webmail's URLs (web/js/route.js): every folder, message and
// search has one; Back and Forward, reload, a bookmark opened after signing in, and
// a message opened in a new tab land where they should. Started by
// tests/e2e/test_webmail_list.py (test_urls_in_chromium), which fills the account.
// Same protocol as run.mjs. Environment: PW_MODULE, BASE, USER_ADDR, PASS, CHROMIUM.

import assert from 'node:assert/strict';
import { axe, rl, step } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const T = 15000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const problems = [];
function watch(page) {
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    const loc = (m.location() && m.location().url) || '';
    if (/vendor\/purify\.min\.js/.test(m.text() + loc)) return;
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console: ' + m.text());
  });
  return page;
}
async function newContext() {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
}
async function signIn(page) {
  await page.locator('#login-user').fill(USER);
  await page.locator('#login-pass').fill(PASS);
  await page.locator('.login-card button[type=submit]').click();
  await page.locator('#message-list .row:not(.row-placeholder)').first().waitFor();
}
const hash = (page) => page.evaluate(() => location.hash);
// The address bar is written when the app is there (after the list loaded): wait for it.
async function expectHash(page, want) {
  try {
    await page.waitForFunction((h) => location.hash === h, want, { timeout: 5000 });
  } catch (e) {
    assert.equal(await hash(page), want);
  }
}
const title = (page) => page.locator('#list-title').textContent();
const opened = (page, subject) => page.locator('#reader-subject', { hasText: subject }).waitFor();
const row = (page, subject) => page.locator('#message-list .row', { has: page.locator('.row-subject', { hasText: subject }) });

try {
  const ctx = await newContext();
  const page = watch(await ctx.newPage());
  await page.goto(BASE + '/');
  await signIn(page);

  step('the inbox has a URL');
  const inboxId = await page.locator('.folders .folder.current').getAttribute('data-id');
  await expectHash(page, '#/folder/' + encodeURIComponent(inboxId));
  await axe(page, 'the inbox at its URL');

  step('a folder and a message have URLs; Back and Forward go through them');
  const projects = page.locator('.folders .folder', { hasText: 'Projects' });
  const projectsId = await projects.getAttribute('data-id');
  await projects.click();
  await page.locator('#list-title', { hasText: 'Projects' }).waitFor();
  await row(page, 'Bulk message 00019').waitFor();
  await expectHash(page, '#/folder/' + encodeURIComponent(projectsId));
  await row(page, 'Bulk message 00019').click();
  await opened(page, 'Bulk message 00019');
  const msgId = await row(page, 'Bulk message 00019').getAttribute('data-id');
  const msgUrl = '#/folder/' + encodeURIComponent(projectsId) + '/msg/' + encodeURIComponent(msgId);
  await expectHash(page, msgUrl);
  await axe(page, 'a message in a folder at its URL');
  // j/k steps replace the entry: Back after them goes to the folder, not the message before
  await page.locator('#message-list').focus();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.locator('#reader-subject', { hasText: 'Bulk message 00009' }).waitFor();
  assert.match(await hash(page), /\/msg\//);
  await page.goBack();
  await page.locator('.reader-empty').waitFor();
  await expectHash(page, '#/folder/' + encodeURIComponent(projectsId));
  await page.goBack();
  await page.locator('#list-title', { hasText: 'Inbox' }).waitFor();
  await expectHash(page, '#/folder/' + encodeURIComponent(inboxId));
  await page.goForward();
  await page.locator('#list-title', { hasText: 'Projects' }).waitFor();
  await page.goForward();
  await page.locator('#reader-subject', { hasText: 'Bulk message 00009' }).waitFor();

  step('reload keeps the folder and the message');
  await page.goto(BASE + '/' + msgUrl);
  await opened(page, 'Bulk message 00019');
  await page.reload();
  await page.locator('#message-list .row:not(.row-placeholder)').first().waitFor();
  await opened(page, 'Bulk message 00019');
  assert.equal(await title(page), 'Projects');
  await expectHash(page, msgUrl);
  await axe(page, 'the message URL after a reload');

  step('a search has a URL; its result opened, reload keeps both');
  const box = page.locator('#search');
  await box.fill('subject:"Bulk message 0004"');
  await box.press('Enter');
  await page.locator('.list-count', { hasText: '10 messages' }).waitFor();
  await expectHash(page, '#/search/' + encodeURIComponent('subject:"Bulk message 0004"'));
  await row(page, 'Bulk message 00042').click();
  await opened(page, 'Bulk message 00042');
  const searchUrl = await hash(page);
  assert.match(searchUrl, /^#\/search\/.+\/msg\/.+/);
  await page.reload();
  await opened(page, 'Bulk message 00042');
  await page.locator('.list-count', { hasText: '10 messages' }).waitFor();
  assert.equal(await box.inputValue(), 'subject:"Bulk message 0004"');
  await axe(page, 'a search result at its URL after a reload');
  step('Back from the search returns to the folder');
  await page.goBack();
  await page.locator('.reader-empty').waitFor();
  await page.goBack();
  await page.locator('#list-title', { hasText: 'Projects' }).waitFor();
  assert.equal(await page.locator('.search-bar').isVisible(), false);
  assert.equal(await box.inputValue(), '');
  await axe(page, 'the folder after Back from the search');

  step('a middle click opens the message in a new tab');
  await row(page, 'Bulk message 00019').waitFor();
  const [tab] = await Promise.all([ctx.waitForEvent('page'), row(page, 'Bulk message 00019').click({ button: 'middle' })]);
  watch(tab);
  await tab.waitForLoadState();
  await opened(tab, 'Bulk message 00019');
  await expectHash(tab, msgUrl);
  await axe(tab, 'the message opened in a new tab');
  await tab.close();

  step('a bookmark opened without a session: sign in, then the message');
  const fresh = await newContext();
  const other = watch(await fresh.newPage());
  await other.goto(BASE + '/' + searchUrl);
  await other.locator('#login-user').waitFor();
  await axe(other, 'the sign-in page of a bookmarked search');
  await signIn(other);
  await opened(other, 'Bulk message 00042');
  await other.locator('.list-count', { hasText: '10 messages' }).waitFor();
  await axe(other, 'the bookmarked search after signing in');
  await fresh.close();

  step('a URL of a folder that is gone: the inbox, and the URL says so');
  await page.goto(BASE + '/#/folder/nosuchfolder');
  await page.locator('#list-title', { hasText: 'Inbox' }).waitFor();
  // the URL is corrected once the inbox's list is there
  await page.waitForFunction((h) => location.hash === h, '#/folder/' + encodeURIComponent(inboxId));
  await axe(page, 'the inbox in place of a folder that is gone');

  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  process.stdout.write('FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
  if (problems.length) process.stdout.write('problems: ' + problems.join('\n') + '\n');
  process.exitCode = 1;
} finally {
  await browser.close();
  rl.close();
  process.exit(process.exitCode || 0);
}
