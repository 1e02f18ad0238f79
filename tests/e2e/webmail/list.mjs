// Browser test of the webmail's message list at 20,000 messages (web/js/listview.js,
// listsync.js): deep scrolling, live updates past 1,000 loaded rows, the End key.
// Started by tests/e2e/test_webmail_list.py, which owns the server (its inbox filled
// by `postamt import`) and answers over IMAP and SMTP. Same protocol as run.mjs:
// `@@ask {"action": ...}` on stdout, one JSON line back on stdin; lines starting with
// "timing:" are measurements (printed, never asserted). Environment:
//   PW_MODULE, BASE, USER_ADDR, PASS, CHROMIUM, SHOTS (optional)

import assert from 'node:assert/strict';
import { ask, axe, end, failed, shot, step, timing } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const T = 30000;

const subject = (i) => 'Bulk message ' + String(i).padStart(5, '0');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const problems = [];
// Every JMAP method call the page makes, to check the ids per call.
const calls = [];
let session = null; // the JMAP session the page fetched
async function newPage(locale = 'en-US') {
  // UTC: the dates of before:/after: are the browser's days; the mail is dated in UTC
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, locale, timezoneId: 'UTC' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', (d) => { problems.push('dialog opened: ' + d.message()); d.dismiss(); });
  page.on('console', (m) => {
    const loc = (m.location() && m.location().url) || '';
    if (/vendor\/purify\.min\.js/.test(m.text() + loc)) return;
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console: ' + m.text());
  });
  page.on('response', async (r) => {
    if (r.request().method() !== 'GET' || !/jmap/.test(r.url())) return;
    try { const j = await r.json(); if (j && j.capabilities) session = j; } catch (e) { /* not the session */ }
  });
  page.on('request', (r) => {
    if (!r.url().endsWith('/jmap/api') || r.method() !== 'POST') return;
    try { for (const c of JSON.parse(r.postData()).methodCalls) calls.push(c); } catch (e) { /* not JSON: the server says so */ }
  });
  return { ctx, page };
}
async function login(page, url = BASE + '/') {
  await page.goto(url);
  await page.locator('#login-user').fill(USER);
  await page.locator('#login-pass').fill(PASS);
  const t0 = Date.now();
  await page.locator('.login-card button[type=submit]').click();
  await page.locator('#message-list .row:not(.row-placeholder)').first().waitFor();
  return Date.now() - t0;
}

// Scrolls the list so that row i (0-based) is at the top, and waits until every
// row in view is drawn with its message; returns the time that took (in the page).
async function scrollTo(page, i) {
  return page.evaluate(async (i) => {
    const sc = document.querySelector('.list-scroll');
    const list = document.querySelector('#message-list');
    const h = list.querySelector('.row').getBoundingClientRect().height;
    const t0 = performance.now();
    sc.scrollTop = list.offsetTop + i * h;
    await new Promise((resolve) => {
      const tick = () => {
        const box = sc.getBoundingClientRect();
        const shown = [...list.querySelectorAll('.row')].filter((r) => { const b = r.getBoundingClientRect(); return b.bottom > box.top + 1 && b.top < box.bottom - 1; });
        if (shown.length && shown.every((r) => !r.classList.contains('row-placeholder'))) resolve();
        else requestAnimationFrame(tick);
      };
      tick();
    });
    return performance.now() - t0;
  }, i);
}
// The subject of the row at position i (1-based, aria-posinset) when drawn.
const rowAt = (page, pos) => page.locator(`#message-list .row[aria-posinset="${pos}"] .row-subject`);

// Types q into the search box (Enter: at once, else search as you type) and
// waits for the count `want` ("1 message"; 0: "Nothing found"); returns
// the time in ms from the last key to the count shown.
async function search(page, q, want, { enter = true } = {}) {
  const box = page.locator('#search');
  await box.fill('');
  await box.pressSequentially(q, { delay: enter ? 0 : 30 });
  const t0 = Date.now();
  if (enter) await box.press('Enter');
  if (want === 0) await page.locator('.list-status', { hasText: 'Nothing found' }).waitFor();
  else await page.locator('.list-count', { hasText: new RegExp('^' + want.toLocaleString('en-US') + ' messages?$') }).waitFor();
  await page.locator('#message-list .row-placeholder').first().waitFor({ state: 'detached' });
  return Date.now() - t0;
}

async function searchSteps(page, inbox, count) {
  step('search as you type, across folders: the folder is shown per result; "1 message" (B12)');
  await search(page, 'Bulk message 01999', 1, { enter: false });
  await page.locator('.list-title', { hasText: 'Search results' }).waitFor();
  const hit = page.locator('#message-list .row').first();
  assert.equal((await hit.locator('.row-folder').textContent()).trim(), 'Projects');
  assert.match(await hit.locator('.row-subject').textContent(), /Bulk message 01999/);
  assert.equal(await page.locator('#search-scope').inputValue(), '');
  timing('search, all folders, ' + inbox + ' messages (subject, 1 hit)', await search(page, 'Bulk message 02999', 1));
  // message i says "topic(i % 13)"
  const topic7 = Math.floor((count - 1 - 7) / 13) + 1;
  timing('search, all folders, ' + inbox + ' messages (body word, ' + topic7.toLocaleString('en-US') + ' hits)', await search(page, 'topic7', topic7));

  step('snippets: the matches are highlighted');
  await page.locator('#message-list .row-preview mark', { hasText: 'topic7' }).first().waitFor();
  await shot(page, 'search-snippets');
  await axe(page, 'search results with snippets');

  step('operators: subject:, from:, in:, before:/after:, is:');
  await search(page, 'subject:"Bulk message 0000" from:news', 10);
  await search(page, 'in:Projects topic', count - inbox);
  assert.equal(await page.locator('#search-scope').inputValue(), 'Projects');
  assert.equal(await page.locator('#message-list .row-folder').count(), 0, 'one folder: no folder per row');
  await search(page, 'subject:"Bulk message 0000" before:2024-01-02', 10);
  await search(page, 'subject:"Bulk message 0000" after:2024-01-02', 0);
  await search(page, 'subject:"Bulk message 0001" is:unread', 10);
  await page.locator('#message-list .row').first().click();
  await page.locator('#message-list .row.selected:not(.unread)').waitFor();
  await search(page, 'subject:"Bulk message 0001" is:unread', 9);

  step('the folder choice writes in: into the query');
  await page.locator('#search-scope').selectOption('Projects');
  await page.locator('.list-status', { hasText: 'Nothing found' }).waitFor();
  assert.match(await page.locator('#search').inputValue(), /^subject:"Bulk message 0001" is:unread in:Projects$/);

  step('what is not understood is said');
  await search(page, 'colour:red Bulk message 00042', 0);
  await page.locator('#search-hint', { hasText: '“colour:” is not a search operator' }).waitFor();
  await search(page, 'is:shiny Bulk message 00042', 1);
  await page.locator('#search-hint', { hasText: '“is:shiny” is not understood' }).waitFor();

  step('Escape in the list ends the search: back to the inbox');
  await page.locator('#message-list').focus();
  await page.keyboard.press('Escape');
  await page.locator('.list-count', { hasText: inbox.toLocaleString('en-US') + ' messages' }).waitFor();
  assert.equal(await page.locator('.search-bar').isVisible(), false);
}

try {
  const count = await ask('count');
  const inbox = count - Math.floor(count / 1000); // the rest is in "Projects"
  const { page } = await newPage();

  step('login: the first rows of the big inbox, the count');
  timing('login to first row (' + inbox + ' messages)', await login(page));
  await page.locator('.list-count', { hasText: inbox.toLocaleString('en-US') + ' messages' }).waitFor();
  assert.ok(session, 'the page fetched the JMAP session');
  const limit = session.capabilities['urn:ietf:params:jmap:core'].maxObjectsInGet;
  assert.ok(limit > 0 && limit < 1050, 'maxObjectsInGet ' + limit + ' is below the 1,050 rows of B1');
  // only the rows in view (and a few around) are elements
  assert.ok(await page.locator('#message-list .row').count() < 80, 'the list draws the rows in view, not all');
  await axe(page, 'inbox of ' + inbox + ' messages');

  step('scrolling page by page until 1,250 rows are loaded; each page as fast at the end as at the start (B7)');
  const times = {};
  for (let i = 50; i <= 1250; i += 50) times[i] = await scrollTo(page, i);
  timing('next page at 100 rows', times[100]);
  timing('next page at 1,250 rows', times[1250]);
  // the newest message is on top: position p shows message count-1-p (minus those in Projects)
  const top = await rowAt(page, 1251).textContent();
  assert.match(top, /Bulk message \d{5}/);

  step('1,050+ rows loaded: archive one (B1)');
  await scrollTo(page, 1040);
  const target = page.locator('#message-list .row[aria-posinset="1045"]');
  const archived = (await target.locator('.row-subject').textContent()).trim();
  await target.click();
  await page.locator('#reader-subject', { hasText: archived }).waitFor();
  const t0 = Date.now();
  await page.locator('#message-list').focus();
  await page.keyboard.press('e');
  await page.locator('.toast', { hasText: 'Archived.' }).waitFor();
  timing('archive at 1,050 rows', Date.now() - t0);
  await ask('in_folder', { folder: 'Archive', subject: archived });
  await page.locator('.list-count', { hasText: (inbox - 1).toLocaleString('en-US') + ' messages' }).waitFor();

  step('a new mail over port 25 shows on top while 1,050+ rows are loaded (B1)');
  await ask('deliver', { subject: 'Fresh delivery' });
  await page.locator('.list-count', { hasText: inbox.toLocaleString('en-US') + ' messages' }).waitFor();
  await scrollTo(page, 0);
  await rowAt(page, 1).filter({ hasText: 'Fresh delivery' }).waitFor();
  assert.equal(await page.locator('.toast.error').count(), 0, 'no error toast');

  step('no request names more ids than maxObjectsInGet (' + limit + ')');
  const tooBig = calls.filter(([, args]) => Array.isArray(args.ids) && args.ids.length > limit);
  assert.deepEqual(tooBig.map(([n, a]) => n + ' ' + a.ids.length), []);
  assert.ok(calls.some(([n]) => n === 'Email/queryChanges'), 'the refresh asked for the query changes');
  assert.ok(calls.some(([n]) => n === 'Email/changes'), 'the refresh asked for the email changes');

  step('End goes to the real end of the folder: the oldest message');
  await page.locator('#message-list').focus();
  const t1 = Date.now();
  await page.keyboard.press('End');
  await page.locator('#message-list .row.selected .row-subject', { hasText: subject(0) }).waitFor();
  timing('End key to the last of ' + inbox + ' rows', Date.now() - t1);
  assert.equal(await page.locator('#message-list .row.selected').getAttribute('aria-posinset'), String(inbox));
  await page.keyboard.press('Home');
  await page.locator('#message-list .row.selected .row-subject', { hasText: 'Fresh delivery' }).waitFor();
  await shot(page, 'list-big');

  await searchSteps(page, inbox, count);

  step('German, phone width: the count, deep scrolling, a search with its hint');
  const de = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 800 }, locale: 'de-DE', timezoneId: 'UTC' });
  const dp = await de.newPage();
  dp.setDefaultTimeout(T);
  dp.on('pageerror', (e) => problems.push('page error (de): ' + e.message));
  await login(dp);
  await dp.locator('.list-count', { hasText: inbox.toLocaleString('de-DE') + ' Nachrichten' }).waitFor();
  const geo = await dp.evaluate(() => ({ rows: document.querySelectorAll('#message-list .row').length, height: document.querySelector('.list-scroll').clientHeight }));
  process.stdout.write('phone list: ' + JSON.stringify(geo) + '\n');
  assert.ok(geo.rows < 80, 'the list draws the rows in view at phone width too: ' + JSON.stringify(geo));
  await scrollTo(dp, 1250);
  const at = await dp.evaluate(() => [...document.querySelectorAll('#message-list .row')].map((r) => r.getAttribute('aria-posinset') + (r.classList.contains('row-placeholder') ? 'p' : '')).join(' '));
  process.stdout.write('phone rows at 1250: ' + at + '\n');
  assert.match(await rowAt(dp, 1252).textContent(), /Bulk message \d{5}/);
  const deBox = dp.locator('#search');
  await deBox.fill('Bulk message 02999');
  await deBox.press('Enter');
  await dp.locator('.list-count', { hasText: /^1 Nachricht$/ }).waitFor();
  await deBox.fill('farbe:rot Bulk');
  await deBox.press('Enter');
  await dp.locator('#search-hint', { hasText: '„farbe:“ ist kein Suchoperator' }).waitFor();
  await shot(dp, 'list-de-phone');
  await de.close();

  step('timing at ' + inbox + ' messages: open a message, open a conversation, send (median of 5, printed)');
  const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const open = async (sub, ready) => {
    const t = Date.now();
    await page.locator('#message-list .row', { has: page.locator('.row-subject', { hasText: sub }) }).first().click();
    await page.locator(ready).first().waitFor();
    return Date.now() - t;
  };
  await page.locator('#message-list').focus();
  await page.keyboard.press('Home');
  const runs = [];
  for (let i = 0; i < 5; i++) {
    // two of the newest, in turn: the other one is open before each click
    await open(subject(count - 3), '#reader-subject:has-text("' + subject(count - 3) + '")');
    runs.push(await open(subject(count - 2), '.reader-body .text-body:has-text("message ' + (count - 2) + ',")'));
  }
  timing('open message (' + inbox + ' messages)', median(runs));
  await axe(page, 'reader');
  // a conversation of three: two replies to the newest message in the inbox
  const head = count - 2;
  await ask('deliver', { subject: 'Re: ' + subject(head), body: 'First reply.', refs: ['bulk' + head + '@far.test'] });
  await ask('deliver', { subject: 'Re: ' + subject(head), body: 'Second reply.', refs: ['bulk' + head + '@far.test'] });
  await page.locator('#message-list .row-subject', { hasText: 'Re: ' + subject(head) }).nth(1).waitFor();
  await page.locator('#conv-toggle').click();
  await page.locator('.conversation .conv-msg.open .text-body').first().waitFor();
  const convRuns = [];
  for (let i = 0; i < 5; i++) {
    await open(subject(count - 3), '#reader-subject:has-text("' + subject(count - 3) + '")');
    convRuns.push(await open('Re: ' + subject(head), '.conversation .conv-count:has-text("3 messages")'));
  }
  timing('open conversation of 3 (' + inbox + ' messages)', median(convRuns));
  await page.locator('.conversation .conv-msg.open .text-body').first().waitFor();
  await axe(page, 'conversation');
  await page.locator('#conv-toggle').click();
  // send: Undo send off first (else the send waits for it)
  await page.locator('#settings-btn').click();
  await page.locator('#prefs[data-loaded]').waitFor();
  await axe(page, 'settings');
  await page.locator('#pref-undo').selectOption('0');
  await page.locator('#pref-save').click();
  await page.locator('.toast', { hasText: 'Preferences saved.' }).waitFor();
  await page.locator('#settings-back').click();
  const sendRuns = [];
  for (let i = 0; i < 3; i++) {
    await page.locator('#message-list').focus();
    await page.keyboard.press('c');
    const dlg = page.locator('dialog.compose-dialog');
    await dlg.waitFor();
    await dlg.locator('input[id$="-to"]').fill(USER);
    await dlg.locator('input[id$="-subject"]').fill('Timed send ' + i);
    await dlg.locator('textarea').fill('Sent to myself.\n');
    if (i === 0) await axe(page, 'compose');
    const t = Date.now();
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' }); // closed when the server took it (Undo send is off)
    sendRuns.push(Date.now() - t);
    await page.locator('.toast', { hasText: 'Message sent.' }).first().waitFor();
    await page.locator('#message-list .row-subject', { hasText: 'Timed send ' + i }).waitFor({ timeout: 30000 });
  }
  timing('send (' + inbox + ' messages)', median(sendRuns));

  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
