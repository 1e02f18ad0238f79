// Browser test of the webmail's reading side: conversations with folded quotes,
// attachment previews (thumbnails, the image viewer, a PDF inline), decoded sizes,
// a calendar invitation answered with Accept, and the print view. Started by
// tests/e2e/test_webmail_reader.py, which seeds the mailbox and checks the iTIP
// reply over IMAP. Same protocol as run.mjs: `@@ask {"action": ...}` on stdout,
// one JSON line back on stdin. Environment: PW_MODULE, BASE, USER_ADDR, PASS,
// CHROMIUM, SHOTS (optional).

import assert from 'node:assert/strict';
import { ask, axe, end, failed, launch, newPage as openPage, PHONE, shot, step } from './harness.mjs';



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

  step('attachments: decoded sizes, thumbnails, the viewer, a PDF inline');
  await open(page, 'Photos and the contract');
  const pdfChip = page.locator('.att-item', { hasText: 'contract.pdf' });
  await pdfChip.locator('.att-size', { hasText: /^758 B$/ }).waitFor();
  const thumbs = page.locator('.attachments img.att-thumb');
  assert.equal(await thumbs.count(), 2);
  await page.waitForFunction(() => [...document.querySelectorAll('img.att-thumb')].every((i) => i.complete && i.naturalWidth === 1));
  await axe(page, 'reader with thumbnails');
  await page.locator('.att-item', { hasText: 'grey.png' }).locator('button.att-preview').click();
  const viewer = page.locator('dialog.viewer');
  await viewer.waitFor();
  await viewer.locator('.viewer-caption', { hasText: 'grey.png · 2 of 2' }).waitFor();
  await page.keyboard.press('ArrowRight');
  await viewer.locator('.viewer-caption', { hasText: 'red.png · 1 of 2' }).waitFor();
  assert.equal(await viewer.locator('img.viewer-img').getAttribute('alt'), 'red.png');
  await shot(page, 'viewer-light');
  await axe(page, 'image viewer');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.textContent.includes('grey.png')), true,
    'focus goes back to the chip that opened the viewer');
  // the PDF opens in a new tab, inline, under a policy that loads nothing
  const [tab] = await Promise.all([ctx.waitForEvent('page'), pdfChip.locator('button.att-preview').click()]);
  await tab.waitForLoadState('domcontentloaded').catch(() => {});
  assert.match(tab.url(), /disposition=inline/);
  const heads = await page.evaluate(async (url) => {
    const r = await fetch(url, { credentials: 'same-origin' });
    return { cd: r.headers.get('content-disposition'), csp: r.headers.get('content-security-policy'), type: r.headers.get('content-type'), len: (await r.arrayBuffer()).byteLength };
  }, tab.url());
  await tab.close();
  assert.match(heads.cd, /^inline; filename="contract.pdf"/);
  assert.match(heads.csp, /default-src 'none'/);
  assert.equal(heads.type, 'application/pdf');
  assert.equal(heads.len, 758);
  // what the server will not show inline: an HTML type asked for inline stays a download
  const html = await page.evaluate(async (url) => (await fetch(url.replace('type=application%2Fpdf', 'type=text%2Fhtml'))).headers.get('content-disposition'), tab.url());
  assert.match(html, /^attachment;/);

  step('calendar invitation: a card in the reader\'s time zone, Accept sends the iTIP reply');
  await open(page, 'Invitation: Planning 2027');
  const card = page.locator('.invite-card');
  await card.waitFor();
  await card.locator('.inv-summary', { hasText: 'Planning 2027, kickoff' }).waitFor();
  // 10:00 in Berlin is 04:00 in New York (the browser's zone here)
  await card.locator('dd', { hasText: /Jan.*2027.*04:00\s*(AM)?\s*–\s*05:30/ }).waitFor();
  await card.locator('dd', { hasText: 'Room 4; 2nd floor' }).waitFor();
  await card.locator('dd', { hasText: 'Peer Example' }).waitFor();
  // the calendar part has a name (review B9), not "attachment"
  await page.locator('.attachments .att-name', { hasText: /^invite\.ics$/ }).waitFor();
  await card.locator('button[data-partstat=ACCEPTED]').click();
  await card.locator('.inv-status', { hasText: 'Your answer: accepted' }).waitFor();
  await ask('rsvp_arrived', { subject: 'Accepted: Planning 2027, kickoff', partstat: 'ACCEPTED' });
  await shot(page, 'invite-light');
  await axe(page, 'invitation card, answered');

  step('conversation view: switch on (remembered), newest open, older collapsed, quotes folded');
  await open(page, 'Quarterly plan');
  await page.locator('#conv-toggle').click();
  const conv = page.locator('.conversation');
  await conv.waitFor();
  await conv.locator('.conv-count', { hasText: '3 messages in this conversation' }).waitFor();
  const msgs = conv.locator('.conv-msg');
  assert.equal(await msgs.count(), 3);
  // oldest first; the newest is open, the first collapsed to one line
  assert.equal(await msgs.nth(2).evaluate((e) => e.classList.contains('open')), true);
  assert.equal(await msgs.nth(0).locator('.conv-detail').isVisible(), false);
  await msgs.nth(2).locator('.text-body', { hasText: 'March is fine as it is.' }).waitFor();
  const fold = msgs.nth(2).locator('.fold-quote');
  assert.equal(await fold.locator('.fold-body').isVisible(), false, 'the quote is folded');
  await fold.locator('.fold-toggle').click();
  await fold.locator('.fold-body', { hasText: 'Looks good, one question about March.' }).waitFor();
  await msgs.nth(0).locator('.conv-head').click();
  await msgs.nth(0).locator('.text-body', { hasText: 'here is the plan for Q1.' }).waitFor();
  assert.equal(await msgs.nth(0).locator('.fold-signature .fold-body').isVisible(), false, 'the signature is folded');
  assert.ok(!/\bnull\b|undefined/.test(await conv.innerText()), 'no stray null/undefined text');
  await shot(page, 'conversation-light');
  await axe(page, 'conversation, a quote unfolded');
  // an HTML-only reply in a conversation shows its inline (cid:) image
  await open(page, 'Logo draft');
  await page.locator('.conv-count', { hasText: '2 messages in this conversation' }).waitFor();
  await page.waitForFunction(() => /data:image\/png/.test((document.querySelector('.conv-msg.open iframe.html-frame') || {}).srcdoc || ''));
  await page.reload();
  await page.locator('.folders .folder.current').waitFor();
  await open(page, 'Quarterly plan');
  await page.locator('.conversation .conv-msg').first().waitFor();
  assert.equal(await page.locator('#conv-toggle').getAttribute('aria-pressed'), 'true', 'the choice is remembered');

  step('timing: open a message and a conversation (median of 5, printed, not asserted)');
  const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const timeOpen = async (subject, ready) => {
    const runs = [];
    for (let i = 0; i < 5; i++) {
      await row(page, 'Photos and the contract').click();
      await page.locator('.reader-subject', { hasText: 'Photos and the contract' }).waitFor();
      const t0 = Date.now();
      await row(page, subject).click();
      await page.locator(ready).first().waitFor();
      runs.push(Date.now() - t0);
    }
    return median(runs);
  };
  const convMs = await timeOpen('Quarterly plan', '.conversation .conv-msg.open .text-body');
  const singleMs = await timeOpen('Long report', '.reader-body .text-body');
  process.stdout.write(`timing: open conversation (3 messages) ${convMs} ms; open message (conversations on, thread of 1) ${singleMs} ms\n`);

  step('print: only the message, at full length');
  await open(page, 'Long report');
  await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed++; }; });
  await page.locator('#print-btn').click();
  assert.equal(await page.evaluate(() => window.__printed), 1);
  const view = page.locator('.print-view');
  await view.locator('.print-subject', { hasText: 'Long report' }).waitFor({ state: 'attached' });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await view.isVisible(), true);
  assert.equal(await page.locator('.layout').isVisible(), false, 'the app does not print');
  assert.match(await view.locator('.print-text').textContent(), /THE LAST LINE/);
  const pdf = await page.pdf({ format: 'A4' });
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.ok(pages >= 3, `180 lines print on several pages, not one (got ${pages})`);
  await page.emulateMedia({ media: 'screen' });
  await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  await view.waitFor({ state: 'detached' });

  step('print an HTML message: all of it, its styles kept inside, no script');
  await open(page, 'HTML newsletter to print');
  await page.locator('#print-btn').click();
  await page.emulateMedia({ media: 'print' });
  const hv = page.locator('.print-view');
  await hv.locator('p', { hasText: 'HTML LAST PARAGRAPH' }).waitFor(); // the locator pierces the shadow root
  assert.equal(await hv.locator('p', { hasText: 'HTML LAST PARAGRAPH' }).isVisible(), true);
  // the mail's fixed overlay neither covers the page nor leaks its style out of the shadow root
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor === 'rgb(255, 0, 0)'), false);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  const hpdf = await page.pdf({ format: 'A4' });
  const hpages = (hpdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.ok(hpages >= 2, `120 paragraphs print on several pages (got ${hpages})`);
  await page.emulateMedia({ media: 'screen' });
  await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  await hv.waitFor({ state: 'detached' });
  // conversations are the account's choice (Settings): off again, so the German browser starts with single messages
  const saved = page.waitForResponse((r) => /\/jmap\/api/.test(r.url()) && /Settings\/set/.test(r.request().postData() || ''));
  await page.locator('#list-conv-toggle').click();
  await saved;
  await page.locator('#list-conv-toggle[aria-pressed="false"]').waitFor();
  await ctx.close();

  step('German, phone width, dark: invitation card and conversation');
  const de = await newPage({ locale: 'de-DE', viewport: PHONE, colorScheme: 'dark' });
  await open(de.page, 'Invitation: Planning 2027');
  const dcard = de.page.locator('.invite-card');
  await dcard.locator('.inv-kind', { hasText: 'Einladung' }).waitFor();
  await dcard.locator('button[data-partstat=DECLINED]', { hasText: 'Absagen' }).waitFor();
  const wide = await dcard.evaluate((e) => e.scrollWidth <= e.clientWidth + 1);
  assert.equal(wide, true, 'the card fits the phone width');
  await shot(de.page, 'invite-de-phone-dark');
  await axe(de.page, 'invitation card, German, phone, dark');
  await de.page.locator('.reader-toolbar .only-phone').click();
  await open(de.page, 'Quarterly plan');
  assert.equal(await de.page.locator('#conv-toggle').getAttribute('aria-label'), 'Unterhaltungen');
  await de.page.locator('#conv-toggle').click();
  await de.page.locator('.conv-count', { hasText: '3 Nachrichten in dieser Unterhaltung' }).waitFor();
  await de.page.locator('.conv-msg.open .fold-toggle[aria-label^="Zitierten Text zeigen"]').first().waitFor();
  await shot(de.page, 'conversation-de-phone-dark');
  await axe(de.page, 'conversation, German, phone, dark');
  await de.ctx.close();

  assert.deepEqual(problems, [], 'no page errors or console errors');
  step('done');
} catch (e) {
  failed(e, problems);
} finally {
  await end(browser);
}
