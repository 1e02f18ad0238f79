// Browser test of folders under a parent (review B4) with a collapsible tree, and
// of the list as conversations (one row per thread, the choice kept on the server,
// an action and its undo on the whole conversation). Started by
// tests/e2e/test_webmail_undo.py (test_folders_and_conversations_in_chromium), which seeds the mailbox and answers `@@ask`
// requests over IMAP. Environment: PW_MODULE, BASE, USER_ADDR, PASS, CHROMIUM,
// SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, check, end, failed as reportFailure, failures as failed, launch, newPage as openPage, PHONE, shot, step, timing } from './harness.mjs';

const browser = await launch();
const problems = [];
const newPage = (opts = {}) => openPage(browser, problems, { colorScheme: 'light', timezoneId: 'Europe/Berlin', ...opts });
const row = (page, subject) => page.locator('#message-list .row', { has: page.locator('.row-subject', { hasText: subject }) }).first();
const exactRow = (page, subject) => page.locator('#message-list .row', { has: page.locator('.row-subject', { hasText: new RegExp('^' + subject + '$') }) });
async function open(page, subject) {
  await row(page, subject).click();
  await page.locator('.reader-subject', { hasText: subject }).first().waitFor();
}
const undoButton = (page, label = 'Undo') => page.locator('.toast .toast-action', { hasText: label });


try {
  const { page } = await newPage();

  await check('B4: a folder under a parent, shown nested, and IMAP LIST says Projekte/Phönix 2027', async () => {
    await page.locator('.new-folder').click();
    const dlg = page.locator('dialog');
    await dlg.locator('input[type=text]').fill('Phönix 2027');
    await dlg.locator('select').selectOption({ label: '\u00a0\u00a0Projekte' });
    await axe(page, 'the new-folder dialog with its parent choice');
    await dlg.locator('button[type=submit]').click();
    const child = page.locator('.folders .folder', { hasText: 'Phönix 2027' });
    await child.waitFor();
    // indented under its parent (the list is drawn anew on every refresh: measured in one go)
    await page.waitForFunction(() => {
      const name = (n) => [...document.querySelectorAll('.folders .folder .folder-name')].find((el) => el.textContent === n);
      const p = name('Projekte');
      const c = name('Phönix 2027');
      return p && c && c.getBoundingClientRect().left > p.getBoundingClientRect().left + 8;
    });
    // a path at the top level makes both folders
    await page.locator('.new-folder').click();
    await dlg.locator('input[type=text]').fill('Kunden/Müller');
    await dlg.locator('button[type=submit]').click();
    await page.locator('.folders .folder', { hasText: 'Müller' }).waitFor();
    // the review's steps (B4): "Projekte/Phönix 2027" typed at the top level is that folder, already there
    await page.locator('.new-folder').click();
    await dlg.locator('input[type=text]').fill('Projekte/Phönix 2027');
    await dlg.locator('button[type=submit]').click();
    await page.locator('.toast.error', { hasText: 'The folder “Projekte/Phönix 2027” is already there.' }).waitFor();
    assert.equal(await page.locator('.folders .folder', { hasText: 'Phönix 2027' }).count(), 1);
    const list = await ask('list');
    const names = list.map(([, n]) => n);
    assert.ok(list.every(([d]) => d === '/'), JSON.stringify(list));
    assert.ok(names.includes('Projekte/Ph&APY-nix 2027'), names.join(', '));
    assert.ok(names.includes('Kunden/M&APw-ller'), names.join(', '));
    await shot(page, 'folder-tree');
    await axe(page, 'the folder tree with nested folders');
  });

  await check('the tree collapses a parent and opens it again (kept over a reload)', async () => {
    const twist = page.locator('.folder-row', { has: page.locator('.folder', { hasText: 'Projekte' }) }).locator('.folder-twist');
    assert.equal(await twist.getAttribute('aria-expanded'), 'true');
    await twist.click();
    await page.locator('.folders .folder', { hasText: 'Phönix 2027' }).waitFor({ state: 'detached' });
    await page.reload();
    await page.locator('.folders .folder.current').waitFor();
    assert.equal(await page.locator('.folders .folder', { hasText: 'Phönix 2027' }).count(), 0);
    await axe(page, 'the folder tree with a parent collapsed');
    await page.locator('.folder-row', { has: page.locator('.folder', { hasText: 'Projekte' }) }).locator('.folder-twist').click();
    await page.locator('.folders .folder', { hasText: 'Phönix 2027' }).waitFor();
  });

  await check('conversations: one row per thread with its count; opens the conversation', async () => {
    await page.locator('.folders .folder', { hasText: 'Inbox' }).click();
    const toggle = page.locator('#list-conv-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    assert.equal(await exactRow(page, 'Re: Plan').count(), 1);
    assert.equal(await exactRow(page, 'Plan').count(), 1);
    const saved = page.waitForResponse((r) => /\/jmap\/api/.test(r.url()) && /Settings\/set/.test(r.request().postData() || ''));
    const t0 = Date.now();
    await toggle.click();
    await page.locator('#message-list .row .row-count', { hasText: '3' }).waitFor();
    timing('switch to conversations, click to the rows with counts', Date.now() - t0);
    await saved; // kept in the account's settings
    await page.locator('#list-conv-toggle[aria-pressed="true"]').waitFor();
    assert.equal(await exactRow(page, 'Plan').count(), 0); // only the newest of the thread
    assert.equal(await exactRow(page, 'Re: Plan').count(), 1);
    await exactRow(page, 'Re: Plan').click();
    await page.locator('.conversation .conv-msg').nth(2).waitFor();
    assert.equal(await page.locator('.conversation .conv-msg').count(), 3);
    // new mail reloads the rows (no queryChanges for conversations): the count stays
    await ask('append', { subject: 'Fresh in conversations' });
    await row(page, 'Fresh in conversations').waitFor();
    await exactRow(page, 'Re: Plan').locator('.row-count', { hasText: '3' }).waitFor();
    await shot(page, 'conversation-list');
    await axe(page, 'the conversation list with counts and a conversation open');
  });

  await check('conversations: the choice is the account\'s (another browser has it); archive and Undo the whole conversation', async () => {
    const other = await newPage();
    await other.page.locator('#list-conv-toggle[aria-pressed="true"]').waitFor();
    await other.page.locator('#message-list .row .row-count', { hasText: '3' }).waitFor();
    await exactRow(other.page, 'Re: Plan').click();
    await other.page.locator('#message-list').focus();
    await other.page.keyboard.press('e');
    await other.page.locator('.toast', { hasText: 'Archived' }).waitFor();
    await ask('where', { subject: 'Plan', folders: ['Archive', 'Sent'] }); // both inbox messages; Sent stays
    await undoButton(other.page).click();
    await exactRow(other.page, 'Re: Plan').waitFor();
    await ask('where', { subject: 'Plan', folders: ['INBOX', 'Sent'] });
    // back to single messages, for both browsers
    await other.page.locator('#list-conv-toggle').click();
    await other.page.locator('#list-conv-toggle[aria-pressed="false"]').waitFor();
    await exactRow(other.page, 'Plan').waitFor();
    await other.ctx.close();
  });


  await check('German, phone, dark: the parent choice and the tree speak German', async () => {
    const de = await newPage({ locale: 'de-DE', viewport: PHONE, colorScheme: 'dark' });
    await de.page.locator('.topbar button[aria-controls="sidebar"]').click();
    await de.page.locator('.folder-twist[aria-label="Unterordner von „Projekte“ ausblenden"]').waitFor();
    await de.page.locator('.new-folder').click();
    const dlg = de.page.locator('dialog');
    await dlg.locator('label', { hasText: 'Übergeordneter Ordner' }).waitFor();
    await dlg.locator('option', { hasText: '(oberste Ebene)' }).waitFor({ state: 'attached' });
    await shot(de.page, 'new-folder-de-phone-dark');
    await axe(de.page, 'the new-folder dialog, German, phone, dark');
    await dlg.locator('button', { hasText: 'Abbrechen' }).click();
    assert.equal(await de.page.locator('#list-conv-toggle').getAttribute('aria-label'), 'Als Unterhaltungen anzeigen');
    await de.ctx.close();
  });

  if (problems.length) failed.push('page problems: ' + problems.join(' | '));
  assert.deepEqual(failed, [], 'failed checks:\n' + failed.join('\n'));
  step('done');
} catch (e) {
  reportFailure(e, problems);
} finally {
  await end(browser);
}
