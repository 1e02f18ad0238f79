// Browser test: the answer to a calendar invitation is shown on its card after a
// reload (the $rsvp_* keyword on the invitation, web/js/ical.js), and a changed
// answer replaces it. Started by tests/e2e/test_webmail_reader.py
// (test_invite_answer_after_reload), which seeds the invitation and checks the
// iTIP REPLY at the organizer and the keywords over IMAP. Same protocol as run.mjs.
// Environment: PW_MODULE, BASE, USER_ADDR, PASS, CHROMIUM, SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, end, failed, launch, newPage as openPage, shot, step } from './harness.mjs';

const SUBJECT = 'Invitation: Planning 2027';

const browser = await launch();
const problems = [];
const newPage = (locale = 'en-US') => openPage(browser, problems, { locale });
async function openInvite(page) {
  await page.locator('.row', { has: page.locator('.row-subject', { hasText: SUBJECT }) }).first().click();
  const card = page.locator('.invite-card');
  await card.locator('.inv-summary', { hasText: 'Planning 2027, kickoff' }).waitFor();
  return card;
}
const pressed = (card) => card.locator('button[aria-pressed=true]').getAttribute('data-partstat');

try {
  const { ctx, page } = await newPage('en-US');
  step('not answered yet: no answer on the card, no button pressed');
  let card = await openInvite(page);
  assert.equal(await card.locator('.inv-status').textContent(), '');
  assert.equal(await card.locator('button[aria-pressed=true]').count(), 0);

  step('Maybe: the reply goes out and the card says so');
  await card.locator('button[data-partstat=TENTATIVE]').click();
  await card.locator('.inv-status', { hasText: 'Your answer: maybe' }).waitFor();
  await ask('rsvp_arrived', { subject: 'Tentative: Planning 2027, kickoff', partstat: 'TENTATIVE' });
  await ask('invite_keywords', { has: ['$rsvp_tentative', '\\answered'], lacks: ['$rsvp_accepted', '$rsvp_declined'] });

  step('after a reload the card still shows the answer');
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  card = await openInvite(page);
  await card.locator('.inv-status', { hasText: 'Your answer: maybe' }).waitFor();
  assert.equal(await pressed(card), 'TENTATIVE');
  await shot(page, 'invite-answer-reload');
  await axe(page, 'invitation answered, after a reload');

  step('a changed answer (Decline) replaces it, also after a reload');
  await card.locator('button[data-partstat=DECLINED]').click();
  await card.locator('.inv-status', { hasText: 'Your answer: declined' }).waitFor();
  await ask('rsvp_arrived', { subject: 'Declined: Planning 2027, kickoff', partstat: 'DECLINED' });
  await ask('invite_keywords', { has: ['$rsvp_declined'], lacks: ['$rsvp_tentative', '$rsvp_accepted'] });
  await ctx.close();

  step('German, a new session: "abgesagt"');
  const de = await newPage('de-DE');
  card = await openInvite(de.page);
  await card.locator('.inv-status', { hasText: 'Ihre Antwort: abgesagt' }).waitFor();
  assert.equal(await pressed(card), 'DECLINED');
  await de.ctx.close();

  assert.deepEqual(problems, []);
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
