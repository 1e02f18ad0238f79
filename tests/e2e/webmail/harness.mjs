// harness.mjs: what every browser scenario shares with its Python side (run_browser in
// tests/e2e/test_webmail.py): a request to the test goes out as `@@ask {"action": ...}`
// on stdout and is answered by one JSON line on stdin; `step:` lines mark progress (the
// test wants `step: done`), `timing:` lines are figures the test prints; screenshots go
// to $SHOTS when it is set. A scenario closes `rl` at its end: stdin keeps node running.
// launch() and newPage() start Chromium and a watched, signed-in page.
// axe(page, label) checks the page with axe-core (installed from the same lock file as
// playwright-core, next to it) and throws on a serious or critical finding.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const SHOTS = process.env.SHOTS || '';
export const rl = readline.createInterface({ input: process.stdin });
const lines = [];
const waiters = [];
rl.on('line', (l) => (waiters.length ? waiters.shift()(l) : lines.push(l)));

export async function ask(action, args = {}) {
  process.stdout.write('@@ask ' + JSON.stringify(Object.assign({ action }, args)) + '\n');
  const line = lines.length ? lines.shift() : await new Promise((r) => waiters.push(r));
  const res = JSON.parse(line);
  if (!res.ok) throw new Error(`${action}: ${res.error}`);
  return res.result;
}

export const step = (name) => process.stdout.write('step: ' + name + '\n');
export const timing = (name, ms) => process.stdout.write(`timing: ${name}: ${Math.round(ms)} ms\n`);

// axe-core's browser bundle, read once: the node_modules that holds playwright-core
// ($PW_MODULE is its index.mjs) holds axe-core too (tests/e2e/webmail/package-lock.json).
let axeSource = null;
const AXE_FAIL = ['serious', 'critical'];
// how often axe() ran in this scenario and how long it took altogether
export const axeStats = { runs: 0, ms: 0 };

// Runs axe-core in page (its own document and open shadow roots; the frames of HTML
// mail are the sender's, not the webmail's, and are left out) and throws, naming
// each rule, its targets and help, when a finding is serious or critical; the
// others are printed as `axe:` lines. label says which state of the page this is.
export async function axe(page, label) {
  if (axeSource === null) {
    const dir = path.dirname(path.dirname(process.env.PW_MODULE));
    axeSource = fs.readFileSync(path.join(dir, 'axe-core', 'axe.min.js'), 'utf8');
  }
  // evaluated over the DevTools protocol: the page's CSP (no inline scripts) does not apply
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const t0 = Date.now();
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { iframes: false, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\s+/g, ' ').trim() + ')' : '')) }));
  });
  axeStats.runs++;
  axeStats.ms += Date.now() - t0;
  const bad = found.filter((v) => AXE_FAIL.includes(v.impact));
  for (const v of found.filter((x) => !AXE_FAIL.includes(x.impact))) {
    process.stdout.write(`axe: ${label}: ${v.impact} ${v.id}: ${v.help}: ${v.nodes.slice(0, 3).join('; ')}\n`);
  }
  step('axe: ' + label + (bad.length ? ': ' + bad.length + ' serious or critical' : ': no serious or critical finding')
    + ` (${Date.now() - t0} ms)`);
  if (bad.length) {
    throw new Error('axe-core, ' + label + ':\n' + bad.map((v) => `  ${v.impact} ${v.id}: ${v.help}\n    ` + v.nodes.join('\n    ')).join('\n'));
  }
}

export async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

// One headless Chromium for a scenario ($CHROMIUM or Debian's), from $PW_MODULE.
export async function launch() {
  const { chromium } = await import(process.env.PW_MODULE);
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 800 };
export const TIMEOUT = 15000;

// Records what goes wrong in page into problems: script errors, a native dialog
// (dismissed: the webmail has none), console errors other than DOMPurify's own
// and the 401 of a request made while signed out.
export function watch(page, problems) {
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', (d) => { problems.push('dialog opened: ' + d.message()); d.dismiss(); });
  page.on('console', (m) => {
    const loc = (m.location() && m.location().url) || '';
    if (/vendor\/purify\.min\.js/.test(m.text() + loc)) return;
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console: ' + m.text());
  });
}

// A page in a new browser context (opts: locale, viewport, colorScheme, timezoneId),
// watched; signed in as $USER_ADDR unless opts.signIn is false.
export async function newPage(browser, problems, opts = {}) {
  const { locale = 'en-US', viewport = DESKTOP, signIn: doSignIn = true, ...rest } = opts;
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport, locale, ...rest });
  const page = await ctx.newPage();
  watch(page, problems);
  if (doSignIn) await signIn(page);
  return { ctx, page };
}

// The sign-in form filled and sent; returns when the folder list shows.
export async function signIn(page, user = process.env.USER_ADDR, pass = process.env.PASS) {
  await page.goto(process.env.BASE + '/');
  await page.locator('#login-user').fill(user);
  await page.locator('#login-pass').fill(pass);
  await page.locator('.login-card button[type=submit]').click();
  await page.locator('.folders .folder.current').waitFor();
}

// Checks that go on after a failure, so that one does not hide the others: check()
// runs fn as a step and records a failure in failures, which the scenario asserts
// to be empty at its end.
export const failures = [];
export async function check(name, fn) {
  step(name);
  try {
    await fn();
  } catch (e) {
    failures.push(name + ': ' + (e && e.message ? e.message.split('\n')[0] : e));
    process.stdout.write('CHECK FAILED: ' + name + ': ' + (e && e.stack ? e.stack : e) + '\n');
  }
}

// The end of every scenario: `} catch (e) { failed(e, problems); } finally { await end(browser); }`.
// A failure prints the error and the page problems seen so far and sets the exit status.
export function failed(e, problems) {
  process.stdout.write('FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
  if (problems.length) process.stdout.write('problems: ' + problems.join('\n') + '\n');
  process.exitCode = 1;
}

export async function end(browser) {
  await browser.close();
  rl.close(); // stdin would keep node running
  process.exit(process.exitCode || 0);
}
