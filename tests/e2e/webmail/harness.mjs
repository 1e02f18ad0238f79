// harness.mjs: what every browser scenario shares with its Python side (run_browser in
// tests/e2e/test_webmail.py): a request to the test goes out as `@@ask {"action": ...}`
// on stdout and is answered by one JSON line on stdin; `step:` lines mark progress (the
// test wants `step: done`), `timing:` lines are figures the test prints; screenshots go
// to $SHOTS when it is set. A scenario closes `rl` at its end: stdin keeps node running.
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

export async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
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
