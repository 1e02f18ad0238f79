// Unit tests of web/js/ical.js: unfolding, content lines and parameters, text
// escapes, UTC / TZID / floating / date-only values, the invitation, and the
// iTIP REPLY (RFC 5546 3.2.3) with folded lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unfold, parseLine, unescapeText, escapeText, parseDateValue, parseInvite, parseDuration, buildReply, findMe, foldLine, formatWhen, zonedToUtc } from '../js/ical.js';

const INVITE = [
  'BEGIN:VCALENDAR', 'PRODID:-//Example//EN', 'VERSION:2.0', 'METHOD:REQUEST',
  'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'UID:abc-123@example.test',
  'SEQUENCE:2',
  'DTSTAMP:20261201T090000Z',
  'DTSTART;TZID=Europe/Berlin:20261208T100000',
  'DTEND;TZID=Europe/Berlin:20261208T113000',
  'SUMMARY:Planung Q1\\, Budget',
  'LOCATION:Raum 4\\; 2. OG',
  'DESCRIPTION:Agenda:\\n1. Zahlen\\n2. Ziele und ein sehr langer Text der gefalte',
  ' t wurde',
  'ORGANIZER;CN="Boss, The":mailto:boss@example.test',
  'ATTENDEE;CN=Alice;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:Alice@Example.test',
  'ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:bob@example.test',
  'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('unfold joins continuation lines (space or tab)', () => {
  assert.equal(unfold('A:b\r\n c\r\n\td\r\nE:f'), 'A:bcd\nE:f');
});

test('content lines: quoted parameters keep colons and commas', () => {
  const p = parseLine('ORGANIZER;CN="Doe, J: PhD";SENT-BY="mailto:x@y":mailto:j@d.test');
  assert.equal(p.name, 'ORGANIZER');
  assert.equal(p.params.CN, 'Doe, J: PhD');
  assert.equal(p.params['SENT-BY'], 'mailto:x@y');
  assert.equal(p.value, 'mailto:j@d.test');
  assert.deepEqual(parseLine('ATTENDEE;MEMBER="a","b":mailto:c').params.MEMBER, ['a', 'b']);
  assert.equal(parseLine('no colon here'), null);
  assert.equal(parseLine('X;CN="open:value'), null);
});

test('text escapes round trip', () => {
  assert.equal(unescapeText('a\\, b\\; c\\\\d\\ne\\Nf'), 'a, b; c\\d\ne\nf');
  assert.equal(escapeText('a, b; c\\d\ne'), 'a\\, b\\; c\\\\d\\ne');
  assert.equal(unescapeText(escapeText('x,;\\\n')), 'x,;\\\n');
});

test('date values: UTC, TZID across DST, floating, date-only', () => {
  const utc = parseDateValue(parseLine('DTSTART:20261208T090000Z'));
  assert.equal(new Date(utc.time).toISOString(), '2026-12-08T09:00:00.000Z');
  const winter = parseDateValue(parseLine('DTSTART;TZID=Europe/Berlin:20261208T100000'));
  assert.equal(new Date(winter.time).toISOString(), '2026-12-08T09:00:00.000Z');
  const summer = parseDateValue(parseLine('DTSTART;TZID=Europe/Berlin:20260708T100000'));
  assert.equal(new Date(summer.time).toISOString(), '2026-07-08T08:00:00.000Z');
  const ny = parseDateValue(parseLine('DTSTART;TZID=Eastern Standard Time:20261208T100000'));
  assert.equal(new Date(ny.time).toISOString(), '2026-12-08T15:00:00.000Z');
  const fl = parseDateValue(parseLine('DTSTART:20261208T100000'));
  assert.equal(fl.floating, true);
  assert.equal(fl.time, new Date(2026, 11, 8, 10, 0, 0).getTime());
  assert.deepEqual(parseDateValue(parseLine('DTSTART;VALUE=DATE:20261224')), { date: true, y: 2026, m: 12, d: 24 });
  assert.equal(parseDateValue(parseLine('DTSTART:2026-12-08')), null);
  // DST change in Berlin: 2026-03-29 02:00 -> 03:00; 03:30 local is 01:30 UTC
  assert.equal(new Date(zonedToUtc(Date.UTC(2026, 2, 29, 3, 30), 'Europe/Berlin')).toISOString(), '2026-03-29T01:30:00.000Z');
  assert.equal(zonedToUtc(0, 'Not/AZone'), null);
});

test('durations', () => {
  assert.equal(parseDuration('PT1H30M'), 5400000);
  assert.equal(parseDuration('P1W'), 604800000);
  assert.equal(parseDuration('-P1DT1S'), -86401000);
  assert.equal(parseDuration('P'), null);
  assert.equal(parseDuration('1H'), null);
});

test('an invitation: when, where, who', () => {
  const inv = parseInvite(INVITE);
  assert.equal(inv.method, 'REQUEST');
  const ev = inv.event;
  assert.equal(ev.uid, 'abc-123@example.test');
  assert.equal(ev.summary, 'Planung Q1, Budget');
  assert.equal(ev.location, 'Raum 4; 2. OG');
  assert.equal(ev.description, 'Agenda:\n1. Zahlen\n2. Ziele und ein sehr langer Text der gefaltet wurde');
  assert.equal(ev.sequence, 2);
  assert.equal(new Date(ev.end.time) - new Date(ev.start.time), 5400000);
  assert.equal(ev.organizer.name, 'Boss, The');
  assert.equal(ev.organizer.email, 'boss@example.test');
  assert.deepEqual(ev.attendees.map((a) => [a.email, a.partstat, a.role, a.rsvp]),
    [['Alice@Example.test', 'NEEDS-ACTION', 'REQ-PARTICIPANT', true], ['bob@example.test', 'ACCEPTED', 'OPT-PARTICIPANT', false]]);
  assert.equal(findMe(inv, ['alice@example.test']).name, 'Alice');
  assert.equal(findMe(inv, ['carol@example.test']), null);
  assert.equal(parseInvite('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'), null);
  assert.equal(parseInvite('not a calendar'), null);
});

test('DURATION instead of DTEND', () => {
  const inv = parseInvite('BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20261208T090000Z\nDURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n');
  assert.equal(inv.event.end.time - inv.event.start.time, 45 * 60000);
});

test('the iTIP REPLY names only me, keeps UID, SEQUENCE and ORGANIZER', () => {
  const inv = parseInvite(INVITE);
  const me = findMe(inv, ['alice@example.test']);
  const r = buildReply(inv, me, 'ACCEPTED', Date.UTC(2026, 11, 7, 14, 0, 5));
  const lines = unfold(r).split('\n').filter(Boolean);
  assert.deepEqual(lines, ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//postamt//webmail//EN', 'METHOD:REPLY', 'BEGIN:VEVENT',
    'UID:abc-123@example.test', 'DTSTAMP:20261207T140005Z', 'SEQUENCE:2', 'ORGANIZER;CN="Boss, The":mailto:boss@example.test',
    'ATTENDEE;PARTSTAT=ACCEPTED;CN=Alice:mailto:Alice@Example.test', 'SUMMARY:Planung Q1\\, Budget', 'END:VEVENT', 'END:VCALENDAR']);
  assert.ok(r.endsWith('\r\n'));
  assert.throws(() => buildReply(inv, me, 'MAYBE', 0));
  // the reply parses back: the attendee's new state
  assert.equal(parseInvite(r).event.attendees[0].partstat, 'ACCEPTED');
  assert.equal(parseInvite(r).method, 'REPLY');
});

test('folding: 75 octets, UTF-8 sequences whole', () => {
  const long = 'SUMMARY:' + 'ü'.repeat(60);
  const f = foldLine(long);
  for (const l of f.split('\r\n')) assert.ok(new TextEncoder().encode(l).length <= 75);
  assert.equal(unfold(f), long);
  assert.equal(foldLine('SHORT:x'), 'SHORT:x');
});

test('when: the reader\'s zone, one date for same-day events, all-day ranges', () => {
  const inv = parseInvite(INVITE);
  const s = formatWhen(inv.event.start, inv.event.end, 'en-GB', 'America/New_York');
  assert.match(s, /8 Dec 2026.*04:00 – 05:30$/);
  const de = formatWhen(inv.event.start, inv.event.end, 'de-DE', 'Europe/Berlin');
  assert.match(de, /8\. Dez\. 2026.*10:00 – 11:30$/);
  const allDay = formatWhen({ date: true, y: 2026, m: 12, d: 24 }, { date: true, y: 2026, m: 12, d: 27 }, 'en-GB');
  assert.match(allDay, /24 Dec 2026 – .*26 Dec 2026/);
  assert.equal(formatWhen({ date: true, y: 2026, m: 12, d: 24 }, { date: true, y: 2026, m: 12, d: 25 }, 'en-GB'), 'Thu, 24 Dec 2026');
});

test('the answer kept as a keyword on the invitation: read back, one at a time', async () => {
  const { answerFromKeywords, rsvpPatch, RSVP_KEYWORDS } = await import('../js/ical.js');
  assert.equal(answerFromKeywords(undefined), null);
  assert.equal(answerFromKeywords({ $seen: true, $answered: true }), null);
  assert.equal(answerFromKeywords({ $seen: true, $rsvp_declined: true }), 'DECLINED');
  assert.equal(answerFromKeywords({ '$RSVP_Tentative': true }), 'TENTATIVE');
  assert.equal(answerFromKeywords({ $rsvp_accepted: false }), null);
  assert.deepEqual(rsvpPatch('TENTATIVE'), {
    'keywords/$answered': true, 'keywords/$rsvp_accepted': null, 'keywords/$rsvp_tentative': true, 'keywords/$rsvp_declined': null,
  });
  // every keyword is a valid IMAP flag-keyword (atom-char, no "\" or "]")
  for (const k of Object.values(RSVP_KEYWORDS)) assert.match(k, /^\$[a-z_]+$/);
});
