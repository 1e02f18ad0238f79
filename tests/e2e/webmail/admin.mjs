// Browser end-to-end test of the admin pages (/admin): Debian's chromium driven by
// playwright-core against a running `postamt serve` (started by
// tests/e2e/test_admin_pages.py, which also queued a message for an unreachable
// host). Environment:
//   PW_MODULE  playwright-core's index.mjs;  BASE  https://127.0.0.1:PORT
//   ADMIN, USER_ADDR, PASS  an admin and a plain account (same password)
//   SHOTS      directory for the screenshots of docs/admin.md (optional)
// Exit status 0 when every step passed; progress lines start with "step:".

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { axe } from './harness.mjs';

const { chromium } = await import(process.env.PW_MODULE);
const BASE = process.env.BASE;
const ADMIN = process.env.ADMIN;
const USER = process.env.USER_ADDR;
const PASS = process.env.PASS;
const SHOTS = process.env.SHOTS || '';
const T = 15000;

function step(name) {
  process.stdout.write('step: ' + name + '\n');
}
async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const problems = [];

async function newPage(opts = {}) {
  const ctx = await browser.newContext(Object.assign({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, locale: 'en-US' }, opts));
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('request', (r) => { if (!r.url().startsWith(BASE + '/')) problems.push('foreign request: ' + r.url()); });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (400|401|403|404|409)/.test(m.text())) problems.push('console: ' + m.text());
  });
  return { ctx, page };
}

async function login(page, user) {
  await page.goto(BASE + '/');
  await page.locator('#login-user').fill(user);
  await page.locator('#login-pass').fill(PASS);
  await page.locator('.login-card button[type=submit]').click();
  await page.locator('.folders .folder.current').waitFor();
}

const rowOf = (page, table, text) => page.locator(`#${table} tbody tr`, { hasText: text });

try {
  step('not logged in: /admin leads to the login page');
  {
    const { ctx, page } = await newPage();
    await page.goto(BASE + '/admin');
    await page.locator('#login-user').waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    await ctx.close();
  }

  step('a non-admin gets nothing: the page is 404, the API 403');
  {
    const { ctx, page } = await newPage();
    await login(page, USER);
    const api = await page.evaluate(async () => {
      const r = await fetch('/admin/api/users', { headers: { 'X-Postamt-CSRF': '1' } });
      return { status: r.status, body: await r.text() };
    });
    assert.equal(api.status, 403);
    assert.ok(!api.body.includes('@'), 'no addresses in the refusal: ' + api.body);
    const js = await page.evaluate(async () => (await fetch('/static/admin.html')).status);
    assert.equal(js, 404, '/static/admin.html is not a way around /admin');
    const resp = await page.goto(BASE + '/admin');
    assert.equal(resp.status(), 404);
    const text = await page.locator('body').innerText();
    assert.ok(!/admin|domain|queue/i.test(text), 'no admin content: ' + text);
    await ctx.close();
  }

  const { ctx, page } = await newPage();
  step('an admin: the dashboard');
  await login(page, ADMIN);
  await page.goto(BASE + '/admin');
  await page.locator('#dash-queue .value').filter({ hasText: '1' }).waitFor();
  await page.locator('#dash-cert').waitFor();
  assert.match(await page.locator('#dash-disk .value').innerText(), /\d+ %/);
  assert.equal(await page.locator('#nav-dashboard').getAttribute('aria-current'), 'page');
  await shot(page, 'admin-dashboard');
  await axe(page, 'the dashboard');

  step('domains: add one, its DNS records and DKIM keys, check them');
  await page.locator('#nav-domains').click();
  await page.locator('#domain-new').fill('shop.test');
  await page.locator('#domain-add button[type=submit]').click();
  await rowOf(page, 'domains-table', 'shop.test').waitFor();
  await rowOf(page, 'domains-table', 'shop.test').locator('a.btn').click();
  await page.locator('#dns-table').waitFor();
  assert.equal(await page.locator('#dkim-table tbody tr').count(), 2);
  assert.ok((await page.locator('#dns-table .state.unchecked').count()) > 3);
  await page.locator('#dns-check').click();
  await page.locator('#dns-table .state.missing').first().waitFor();
  assert.equal(await page.locator('#dns-table .state.unchecked').count(), 0);
  await shot(page, 'admin-dns');
  await axe(page, 'the DNS records and DKIM keys of a domain, checked');

  step('users: add one with a quota, make it an admin');
  await page.locator('#nav-users').click();
  await page.locator('#user-new').fill('carol@shop.test');
  await page.locator('#user-new-pass').fill('carol-pass-1');
  await page.locator('#user-new-quota').fill('200M');
  await page.locator('#user-add button[type=submit]').click();
  const carol = rowOf(page, 'users-table', 'carol@shop.test');
  await carol.waitFor();
  assert.match(await carol.innerText(), /200(\.0)? MB/);
  await carol.getByRole('button', { name: 'Make admin' }).click();
  await rowOf(page, 'users-table', 'carol@shop.test').getByRole('button', { name: 'Revoke admin' }).waitFor();
  await shot(page, 'admin-users');
  await axe(page, 'the users with a new admin');
  step('users: a bad address is refused with the reason');
  await page.locator('#user-new').fill('bad@@shop.test');
  await page.locator('#user-new-pass').fill('x');
  await page.locator('#user-new-quota').fill('');
  await page.locator('#user-new').evaluate((e) => { e.type = 'text'; });
  await page.locator('#user-add button[type=submit]').click();
  await page.locator('.admin-msg.error').filter({ hasText: /address/ }).waitFor();
  await axe(page, 'users with a refused address and its reason');

  step('aliases: a catch-all for the new domain, then removed');
  await page.locator('#nav-aliases').click();
  await page.locator('#alias-new').fill('@shop.test');
  await page.locator('#alias-targets').fill('carol@shop.test');
  await page.locator('#alias-add button[type=submit]').click();
  await rowOf(page, 'aliases-table', '@shop.test').waitFor();
  await shot(page, 'admin-aliases');
  await axe(page, 'the aliases with a catch-all');
  await rowOf(page, 'aliases-table', '@shop.test').getByRole('button', { name: 'Remove' }).click();
  await page.locator('#aliases-table-empty').waitFor();

  step('queue: the held message, retried, then bounced');
  await page.locator('#nav-queue').click();
  const held = page.locator('#queue-table tbody tr').first();
  await held.waitFor();
  assert.match(await held.innerText(), /far@far\.test/);
  const before = Number(await held.locator('td.num').innerText());
  await shot(page, 'admin-queue');
  await axe(page, 'the queue with a held message');
  await held.locator('.q-retry').click();
  for (let i = 0; i < 100; i++) {
    await page.reload();
    await page.locator('#queue-table').waitFor();
    if (Number(await page.locator('#queue-table tbody tr td.num').first().innerText()) > before) break;
    await page.waitForTimeout(100);
  }
  assert.ok(Number(await page.locator('#queue-table tbody tr td.num').first().innerText()) > before, 'retried');
  await page.locator('#queue-table .q-bounce').first().click();
  await page.locator('.dialog .btn.primary').waitFor();
  await axe(page, 'the confirmation to bounce a queued message');
  await page.locator('.dialog .btn.primary').click();
  await page.locator('#queue-empty').waitFor();

  step('certificate, deliveries, spam');
  await page.locator('#nav-certificate').click();
  assert.match(await page.locator('#cert').innerText(), /localhost/);
  await axe(page, 'the certificate');
  await page.locator('#nav-events').click();
  await page.locator('#events-q').fill('far.test');
  await page.locator('form[role=search] button').click();
  await page.locator('#events-table tbody tr', { hasText: 'bounced' }).waitFor();
  await shot(page, 'admin-events');
  await axe(page, 'the deliveries searched');
  await page.locator('#nav-spam').click();
  await page.locator('#spam-received').waitFor();
  await axe(page, 'the spam page');

  await ctx.close();

  step('phone width, dark, German');
  {
    const p = await newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', locale: 'de-DE' });
    await login(p.page, ADMIN);
    await p.page.goto(BASE + '/admin#users');
    await p.page.locator('#users-table').waitFor();
    assert.equal(await p.page.locator('#nav-dashboard').innerText(), 'Übersicht');
    const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, 'the page fits the phone width (tables scroll inside): ' + overflow);
    await shot(p.page, 'admin-phone-dark-de');
    await axe(p.page, 'users at phone width, dark, German');
    await p.ctx.close();
  }

  assert.deepEqual(problems, [], 'problems in the page');
  step('done');
  await browser.close();
  process.exit(0);
} catch (e) {
  process.stdout.write('FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
  if (problems.length) process.stdout.write('page problems:\n  ' + problems.join('\n  ') + '\n');
  await browser.close();
  process.exit(1);
}
