// Browser test of the small bugs of the outside review (B11, B13-B19), each a
// check that failed before its fix. Started by tests/e2e/test_webmail_reader.py
// (test_small_bugs_in_chromium), which seeds the mailbox. Same protocol as run.mjs: `@@ask {"action": ...}` on stdout,
// one JSON line back on stdin. Environment: PW_MODULE, BASE, USER_ADDR, PASS,
// CHROMIUM, SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, check, end, failed as reportFailure, failures as failed, launch, newPage as openPage, PHONE, shot, step } from './harness.mjs';



const browser = await launch();
const problems = [];
const newPage = (opts = {}) => openPage(browser, problems, { colorScheme: 'light', timezoneId: 'America/New_York', ...opts });
const row = (page, subject) => page.locator('.row', { has: page.locator('.row-subject', { hasText: subject }) }).first();
async function open(page, subject) {
  await row(page, subject).click();
  await page.locator('.reader-subject', { hasText: subject }).first().waitFor();
}


try {
  const { ctx, page } = await newPage();
  await check('B11: "Empty trash" is not offered while the trash is empty', async () => {
    await page.locator('.folders .folder', { hasText: 'Trash' }).click();
    await page.locator('.list-title', { hasText: 'Trash' }).waitFor();
    await page.locator('.list-count').waitFor({ state: 'attached' });
    assert.equal(await page.locator('.list-tools button', { hasText: 'Empty trash' }).isVisible(), false);
  });

  await check('B15: one number format: the badge reads 1,000 like the list header', async () => {
    const bulk = page.locator('.folders .folder', { hasText: 'Rechnungen 2026' });
    assert.equal(await bulk.locator('.badge').textContent(), '1,000');
    await bulk.click();
    await page.locator('.list-count', { hasText: '1,000 messages' }).waitFor({ state: 'attached' });
  });

  await page.locator('.folders .folder', { hasText: 'Inbox' }).click();
  await page.locator('.list-title', { hasText: 'Inbox' }).waitFor();
  await check('B13: the English help names the Delete key in English', async () => {
    await page.locator('#message-list').focus();
    await page.keyboard.press('?');
    const help = page.locator('dialog dl.shortcuts');
    await help.waitFor();
    await axe(page, 'shortcuts help');
    const keys = (await help.locator('kbd').allTextContents()).join(' | ');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    assert.ok(keys.includes('Delete / #') && !keys.includes('Entf'), keys);
  });

  await row(page, 'Long report').click();
  await page.locator('.reader-subject', { hasText: 'Long report' }).waitFor();
  await page.keyboard.press('v');
  const dlg = page.locator('dialog .choose-list');
  await dlg.waitFor();
  await check('axe: the move dialog', () => axe(page, 'move dialog'));
  await check('B17: the first choice\'s focus ring is not cut off', async () => {
    const gap = await dlg.evaluate((list) => {
      const item = list.querySelector('.choose-item');
      item.focus({ focusVisible: true });
      const st = getComputedStyle(item); // the dialog focuses it: its ring as drawn
      const ring = Math.max(2, (parseFloat(st.outlineWidth) || 0) + (parseFloat(st.outlineOffset) || 0));
      return item.getBoundingClientRect().top - list.getBoundingClientRect().top - ring;
    });
    assert.ok(gap >= 0, 'the ring of the first item sticks out of the list by ' + (-gap) + ' px');
  });
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });
  await check('B16: after the move dialog, focus is back on the list or the message', async () => {
    const focused = await page.evaluate(() => {
      const a = document.activeElement;
      return a ? (a.closest('#message-list') ? 'list' : a.closest('#reader') ? 'reader' : a.getAttribute('aria-label') || a.tagName) : 'none';
    });
    assert.ok(focused === 'list' || focused === 'reader', 'focus went to ' + focused);
  });

  await check('B18: Ctrl+click after opening a message includes the open one', async () => {
    await row(page, 'Photos and the contract').click({ modifiers: ['Control'] });
    await row(page, 'Quarterly plan').click({ modifiers: ['Control'] });
    await page.locator('.bulk-count', { hasText: '3 selected' }).waitFor({ timeout: 3000 });
    await axe(page, 'three selected: the bulk bar');
  });
  await ctx.close();

  const de = await newPage({ locale: 'de-DE', viewport: { width: 1440, height: 900 } });
  await check('B14: German at 1440 px: the folder name is whole, the search hint is German', async () => {
    // a long folder name next to "1.000 Nachrichten" and the sort choice
    await de.page.locator('.folders .folder', { hasText: 'Rechnungen 2026' }).click();
    await de.page.locator('.list-count', { hasText: /^1\.000/ }).waitFor();
    const title = de.page.locator('.list-title', { hasText: 'Rechnungen 2026' });
    await title.waitFor();
    const fit = await title.evaluate((e) => {
      const w = (sel) => { const x = document.querySelector(sel); return x ? Math.round(x.getBoundingClientRect().width) : -1; };
      return { ok: e.scrollWidth <= e.clientWidth, sizes: `title ${e.scrollWidth}/${e.clientWidth}, count ${w('.list-count')}, tools ${w('.list-tools')}, head ${w('.list-head')}` };
    });
    assert.ok(fit.ok, 'the title is cut: ' + fit.sizes);
    await de.page.locator('.folders .folder', { hasText: 'Posteingang' }).click();
    await de.page.locator('.list-title', { hasText: 'Posteingang' }).waitFor();
    // the hint is German (the operators are the same words in every language, search.js)
    assert.match(await de.page.locator('input[type=search]').first().getAttribute('placeholder'), /^Alle Ordner durchsuchen/);
  });
  await check('B15 (German): the badge reads 1.000', async () => {
    assert.equal(await de.page.locator('.folders .folder', { hasText: 'Rechnungen 2026' }).locator('.badge').textContent(), '1.000');
  });
  await check('B13 (German): the help names the key "Entf"', async () => {
    await de.page.locator('#message-list').focus();
    await de.page.keyboard.press('?');
    const kbd = await de.page.locator('dialog dl.shortcuts kbd').allTextContents();
    await de.page.keyboard.press('Escape');
    assert.ok(kbd.includes('Entf / #'), kbd.join(' | '));
  });
  await de.ctx.close();

  for (const colorScheme of ['light', 'dark']) {
    await check('B19: phone compose footer on one line, ' + colorScheme, async () => {
      const ph = await newPage({ viewport: PHONE, colorScheme });
      try {
        await ph.page.locator('#message-list').focus();
        await ph.page.keyboard.press('c');
        const c = ph.page.locator('dialog.compose-dialog');
        await c.waitFor();
        await shot(ph.page, 'compose-phone-' + colorScheme);
        await axe(ph.page, 'compose at phone width, ' + colorScheme);
        // every control's middle on one line: nothing wrapped below the Send button
        const mids = await c.locator('.c-foot').evaluate((f) => [...f.querySelectorAll('button')].filter((e) => e.offsetParent !== null)
          .map((e) => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }));
        assert.ok(mids.length >= 4 && Math.max(...mids) - Math.min(...mids) < 4, 'the footer wraps: ' + mids.join(','));
      } finally {
        await ph.ctx.close();
      }
    });
  }

  assert.deepEqual(failed, [], 'bugs back:\n' + failed.join('\n'));
  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  reportFailure(e, problems);
} finally {
  await end(browser);
}
