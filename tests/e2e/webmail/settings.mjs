// Browser test of the webmail's settings view (web/js/settings.js): out-of-office,
// filter rules, the raw Sieve editor, the junk filter switch, German and English.
// Started by tests/e2e/test_webmail_settings.py, which owns the server and checks
// the stored results over JMAP (HTTP Basic), SMTP and IMAP. Same protocol as run.mjs:
// `@@ask {"action": ...}` on stdout, one JSON line back on stdin. Environment:
//   PW_MODULE, BASE, USER_ADDR, PASS, CHROMIUM, SHOTS (optional)
//   DELIVERY=1 when the server runs Sieve at delivery (then the rule and the
//   out-of-office reply are checked with real mail, else only what is stored)

import assert from 'node:assert/strict';
import { ask, axe, end, failed, launch, newPage as openPage, shot, signIn, step } from './harness.mjs';

const DELIVERY = process.env.DELIVERY === '1';


const browser = await launch();
const problems = [];
const newPage = (locale) => openPage(browser, problems, { locale, signIn: false });
async function openSettings(page) {
  await signIn(page);
  await page.locator('#settings-btn').click();
  await page.locator('#settings').waitFor();
}

try {
  const { ctx, page } = await newPage('en-US');
  step('the settings view opens from the top bar; the message list is hidden');
  await openSettings(page);
  await page.locator('#settings-title', { hasText: 'Settings' }).waitFor();
  assert.equal(await page.locator('.layout').isVisible(), false);
  const junk = await ask('has_junk');
  if (junk) {
    step('junk filter: learning counts, switch stored');
    await page.locator('#junk[data-loaded]').waitFor();
    await page.locator('#junk-status', { hasText: /Learning: 0 spam \/ 0 ham of 20 each/ }).waitFor();
    const was = await page.locator('#junk-enabled').isChecked();
    await page.locator('#junk-enabled').click();
    await ask('junk_enabled', { enabled: !was });
    await page.locator('#junk-enabled').click();
    await ask('junk_enabled', { enabled: was });
  } else {
    step('no junk capability on this server: the switch is hidden');
    assert.equal(await page.locator('#junk').count(), 0);
  }

  step('out of office: set and stored');
  await page.locator('#vacation[data-loaded]').waitFor();
  await page.locator('#vac-enabled').check();
  await page.locator('#vac-from').fill('2020-01-01');
  await page.locator('#vac-until').fill('2099-12-31');
  await page.locator('#vac-subject').fill('Away "until" 2099');
  await page.locator('#vac-text').fill('I am away.\nBack later.');
  await page.locator('#vac-save').click();
  await page.locator('.toast', { hasText: 'Out-of-office reply saved.' }).waitFor();
  await ask('vacation', { expect: { isEnabled: true, fromDate: '2020-01-01T00:00:00Z', toDate: '2099-12-31T23:59:59Z',
    subject: 'Away "until" 2099', textBody: 'I am away.\nBack later.' } });
  if (DELIVERY) {
    step('a message over port 25 gets the out-of-office reply');
    await ask('vacation_reply', { subject: 'Are you there?', reply_subject: 'Away "until" 2099', reply_text: 'I am away.' });
  }

  step('a rule "subject contains X: move to folder Y" is written as the active script "webmail"');
  await page.locator('#rules[data-loaded]').waitFor();
  await page.locator('#rule-add').click();
  const rule = page.locator('#rules-list .rule').last();
  await rule.locator('.rule-field').selectOption('subject');
  await rule.locator('.rule-value').fill('Receipt "no. 7"');
  await rule.locator('.rule-action').selectOption('move');
  await rule.locator('.rule-target').selectOption('Receipts');
  step('a second rule, reordered above the first, then removed');
  await page.locator('#rule-add').click();
  await page.locator('#rules-list .rule').last().locator('.rule-value').fill('newsletter');
  await page.locator('#rules-list .rule').last().locator('.rule-action').selectOption('read');
  await page.locator('#rules-list .rule').last().locator('.rule-up').click();
  assert.equal(await page.locator('#rules-list .rule').first().locator('.rule-value').inputValue(), 'newsletter');
  await page.locator('#rules-list .rule').first().locator('.rule-remove').click();
  assert.equal(await page.locator('#rules-list .rule').count(), 1);
  step('an incomplete rule is refused with its reason');
  await page.locator('#rule-add').click();
  await page.locator('#rules-save').click();
  await page.locator('#rules-status', { hasText: 'Rule 2: Please enter the text to look for' }).waitFor();
  await axe(page, 'settings: filter rules with an error');
  await page.locator('#rules-list .rule').last().locator('.rule-remove').click();
  await page.locator('#rules-save').click();
  await page.locator('.toast', { hasText: 'Rules saved and active.' }).waitFor();
  await page.locator('#rules-status', { hasText: 'One rule active.' }).waitFor();
  await ask('script', { name: 'webmail', active: true, contains: ['fileinto "Receipts";', 'header :contains "subject" "Receipt \\"no. 7\\""'] });
  await shot(page, 'settings-en');
  await axe(page, 'settings');
  if (DELIVERY) {
    step('a message with that subject delivered over port 25 lands in Receipts');
    await ask('deliver_and_find', { subject: 'Your Receipt "no. 7" of today', folder: 'Receipts' });
  }
  step('the rules read back after a reload');
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  await page.locator('#settings-btn').click();
  await page.locator('#rules[data-loaded]').waitFor();
  assert.equal(await page.locator('#rules-list .rule .rule-value').inputValue(), 'Receipt "no. 7"');
  assert.equal(await page.locator('#rules-list .rule .rule-target').inputValue(), 'Receipts');
  assert.equal(await page.locator('#rules-notice').isVisible(), false);

  step('raw editor: the compiler\'s error for a broken script, then a valid one saved');
  await page.locator('#raw[data-loaded]').waitFor();
  await page.locator('#raw-pick').selectOption('');
  await page.locator('#raw-name').fill('expert');
  await page.locator('#raw-text').fill('require "fileinto";\nif true {\n  fileinto "X"\n}\n');
  await page.locator('#raw-check').click();
  await page.locator('#raw-result.error', { hasText: /Error in the script: .*line/ }).waitFor();
  await axe(page, 'settings: Sieve editor with an error');
  await page.locator('#raw-save').click();
  await page.locator('#raw-result.error', { hasText: /line/ }).waitFor();
  await page.locator('#raw-text').fill('require "fileinto";\nif true {\n  fileinto "X";\n}\n');
  await page.locator('#raw-check').click();
  await page.locator('#raw-result.ok', { hasText: 'The script is valid.' }).waitFor();
  await page.locator('#raw-save').click();
  await page.locator('#raw-result.ok', { hasText: 'Script saved.' }).waitFor();
  await ask('script', { name: 'expert', active: false, contains: ['fileinto "X";'] });
  step('the active script cannot be deleted');
  await page.locator('#raw-pick').selectOption({ label: 'webmail (active)' });
  await page.locator('#raw-delete').click();
  await page.locator('dialog .btn.danger').waitFor();
  await axe(page, 'settings: delete confirmation');
  await page.locator('dialog .btn.danger').click();
  await page.locator('#raw-result.error', { hasText: 'An active script cannot be deleted' }).waitFor();

  step('back to the mail');
  await page.locator('#settings-back').click();
  await page.locator('#settings').waitFor({ state: 'detached' });
  assert.equal(await page.locator('.layout').isVisible(), true);
  await ctx.close();

  step('German: the settings view and its texts');
  const de = await newPage('de-DE');
  await openSettings(de.page);
  await de.page.locator('#settings-title', { hasText: 'Einstellungen' }).waitFor();
  await de.page.locator('#vac-title', { hasText: 'Abwesenheitsnotiz' }).waitFor();
  await de.page.locator('#rules-title', { hasText: 'Filterregeln' }).waitFor();
  await de.page.locator('#vacation[data-loaded]').waitFor();
  assert.equal(await de.page.locator('#vac-subject').inputValue(), 'Away "until" 2099');
  await de.page.locator('#rules[data-loaded]').waitFor();
  assert.equal(await de.page.locator('#rules-list .rule .rule-action option:checked').textContent(), 'verschieben nach');
  await shot(de.page, 'settings-de');
  await axe(de.page, 'settings, German');
  await de.page.keyboard.press('Escape');
  await de.page.locator('#settings').waitFor({ state: 'detached' });
  await de.ctx.close();

  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
