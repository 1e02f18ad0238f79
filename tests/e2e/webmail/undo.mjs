// Browser test of undo: the toast's button and the key z, for one message and
// several, after the list was refreshed, in English and German. Started
// by tests/e2e/test_webmail_undo.py (test_undo_in_chromium), which seeds the mailbox and answers `@@ask`
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

  await check('delete, then Undo in the toast: back in the inbox', async () => {
    await open(page, 'Undo one');
    await page.locator('.reader-toolbar button[aria-label="Delete"]').click();
    await page.locator('.toast', { hasText: 'Moved to the trash.' }).waitFor();
    await row(page, 'Undo one').waitFor({ state: 'detached' });
    await ask('where', { subject: 'Undo one', folders: ['Trash'] });
    await shot(page, 'undo-toast');
    await axe(page, 'the toast with Undo after a delete');
    const t0 = Date.now();
    await undoButton(page).click();
    await row(page, 'Undo one').waitFor();
    timing('undo of a delete, click to the row back in the list', Date.now() - t0);
    await page.locator('.toast', { hasText: 'Undone.' }).waitFor();
    await ask('where', { subject: 'Undo one', folders: ['INBOX'] });
  });

  await check('spam, then z: back in the inbox without $junk', async () => {
    await open(page, 'Spam me');
    await page.locator('#message-list').focus();
    await page.keyboard.press('!');
    await page.locator('.toast', { hasText: 'Marked as spam.' }).waitFor();
    await ask('where', { subject: 'Spam me', folders: ['Junk'] });
    await page.keyboard.press('z');
    await row(page, 'Spam me').waitFor();
    await ask('where', { subject: 'Spam me', folders: ['INBOX'], lacks: '$junk' });
  });

  await check('archive of two checked messages, new mail refreshes the list, then Undo', async () => {
    await row(page, 'Undo two').click();
    await page.locator('#message-list').focus();
    await page.keyboard.press('x');
    await row(page, 'Undo three').click({ modifiers: ['Control'] });
    await page.locator('.bulk-count', { hasText: '2' }).waitFor();
    await page.keyboard.press('e');
    await page.locator('.toast', { hasText: 'Archived' }).waitFor();
    await row(page, 'Undo two').waitFor({ state: 'detached' });
    await row(page, 'Undo three').waitFor({ state: 'detached' });
    await axe(page, 'the toast with Undo after archiving two checked messages');
    // the list changes under the offer: new mail arrives (push, Email/queryChanges)
    await ask('append', { subject: 'Fresh while undoing' });
    await row(page, 'Fresh while undoing').waitFor();
    await undoButton(page).click();
    await row(page, 'Undo two').waitFor();
    await row(page, 'Undo three').waitFor();
    await ask('where', { subject: 'Undo two', folders: ['INBOX'] });
    await ask('where', { subject: 'Undo three', folders: ['INBOX'] });
  });

  await check('move to a folder and Undo: back; the help names z', async () => {
    await open(page, 'Move me');
    await page.locator('#message-list').focus();
    await page.keyboard.press('v');
    await page.locator('dialog .choose-item', { hasText: 'Projekte' }).click();
    await page.locator('.toast', { hasText: 'Moved to “Projekte”' }).waitFor();
    await ask('where', { subject: 'Move me', folders: ['Projekte'] });
    await undoButton(page).click();
    await ask('where', { subject: 'Move me', folders: ['INBOX'] });
    await page.locator('#message-list').focus();
    await page.keyboard.press('?');
    const help = page.locator('dialog dl.shortcuts');
    await help.locator('dt', { hasText: /^z$/ }).waitFor();
    assert.match(await help.textContent(), /Undo move, delete, archive or spam/);
    await axe(page, 'the shortcut help naming z');
    await page.keyboard.press('Escape');
  });

  await check('German, phone, dark: the toast says it in German, Rückgängig undoes', async () => {
    const de = await newPage({ locale: 'de-DE', viewport: PHONE, colorScheme: 'dark' });
    await row(de.page, 'German delete').click();
    await de.page.locator('.reader-toolbar button[aria-label="Löschen"]').click();
    await de.page.locator('.toast', { hasText: 'In den Papierkorb verschoben.' }).waitFor();
    await shot(de.page, 'undo-toast-de-phone-dark');
    await axe(de.page, 'the toast with Rückgängig, German, phone, dark');
    await undoButton(de.page, 'Rückgängig').click();
    await de.page.locator('.toast', { hasText: 'Rückgängig gemacht.' }).waitFor();
    await ask('where', { subject: 'German delete', folders: ['INBOX'] });
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
