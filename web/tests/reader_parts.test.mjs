// Unit tests of the pure parts of the reading side's modules: attachment names
// and preview types (attachments.js), the invitation's reply message
// (invite.js), and the texts of i18n_reader.js in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachmentName, inlineUrl, isPreviewImage, isPdf } from '../js/attachments.js';
import { replyEmail, calendarPart } from '../js/invite.js';
import { parseInvite, unfold } from '../js/ical.js';
import { makeTranslator } from '../js/i18n.js';
import { READER_DE, READER_EN } from '../js/i18n_reader.js';

const t = makeTranslator('en');
const de = makeTranslator('de');

test('attachment names: a calendar part is named (B9), others keep theirs', () => {
  assert.equal(attachmentName({ type: 'text/calendar' }, t), 'invite.ics');
  assert.equal(attachmentName({ type: 'text/calendar' }, de), 'Einladung.ics');
  assert.equal(attachmentName({ type: 'message/rfc822' }, t), 'message.eml');
  assert.equal(attachmentName({ type: 'application/octet-stream' }, t), 'attachment');
  assert.equal(attachmentName({ type: 'text/calendar', name: 'meeting.ics' }, t), 'meeting.ics');
});

test('previews: raster images and PDF only, never SVG or HTML', () => {
  assert.ok(isPreviewImage({ type: 'image/png' }) && isPreviewImage({ type: 'IMAGE/JPEG' }));
  assert.ok(!isPreviewImage({ type: 'image/svg+xml' }) && !isPreviewImage({ type: 'text/html' }));
  assert.ok(isPdf({ type: 'application/pdf' }) && !isPdf({ type: 'application/pdfx' }));
  assert.equal(inlineUrl('/jmap/download/a/b/n?type=image%2Fpng'), '/jmap/download/a/b/n?type=image%2Fpng&disposition=inline');
  assert.equal(inlineUrl('/d/x'), '/d/x?disposition=inline');
});

const ICS = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1\r\nSEQUENCE:3\r\nDTSTART:20270112T090000Z\r\n' +
  'SUMMARY:Kickoff\r\nORGANIZER;CN=Olga:mailto:olga@x.test\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@y.test\r\n' +
  'ATTENDEE:mailto:other@y.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

test('the reply message: to the organizer, in Sent, text and iCalendar side by side', () => {
  const inv = parseInvite(ICS);
  const email = { id: 'M1', subject: 'Invitation: Kickoff', messageId: ['inv@x.test'], references: ['a@x.test'] };
  const e = replyEmail(inv, inv.event.attendees[0], 'DECLINED', email,
    { identity: { id: 'I1', name: 'Me Myself', email: 'me@y.test' }, sentId: 'S', t: de, now: Date.UTC(2027, 0, 1) });
  assert.deepEqual(e.mailboxIds, { S: true });
  assert.deepEqual(e.to, [{ name: 'Olga', email: 'olga@x.test' }]);
  assert.deepEqual(e.from, [{ name: 'Me Myself', email: 'me@y.test' }]);
  assert.equal(e.subject, 'Abgesagt: Kickoff');
  assert.deepEqual(e.inReplyTo, ['inv@x.test']);
  assert.deepEqual(e.references, ['a@x.test', 'inv@x.test']);
  assert.equal(e.bodyStructure.type, 'multipart/alternative');
  assert.deepEqual(e.bodyStructure.subParts.map((p) => p.type), ['text/plain', 'text/calendar']);
  assert.match(e.bodyValues.body.value, /Me Myself hat die Einladung „Kickoff“ abgelehnt/);
  const ics = unfold(e.bodyValues.cal.value);
  assert.match(ics, /\nATTENDEE;PARTSTAT=DECLINED;CN=Me Myself:mailto:me@y.test\n/);
  assert.match(ics, /\nSEQUENCE:3\n/);
  assert.ok(!ics.includes('other@y.test'));
});

test('the calendar part: by type, with a blob, within the size limit', () => {
  assert.equal(calendarPart({ attachments: [{ type: 'application/pdf', blobId: 'b' }] }), null);
  assert.equal(calendarPart({ attachments: [{ type: 'text/calendar', blobId: 'c', size: 900 }] }).blobId, 'c');
  assert.equal(calendarPart({ attachments: [{ type: 'text/calendar', blobId: 'c', size: 10 * 1024 * 1024 }] }), null);
});

test('reader texts: the same keys in German and English, none empty', () => {
  assert.deepEqual(Object.keys(READER_DE).sort(), Object.keys(READER_EN).sort());
  for (const d of [READER_DE, READER_EN]) for (const [k, v] of Object.entries(d)) assert.ok(v, k);
});
