// ical.js: the part of iCalendar (RFC 5545) a calendar invitation needs, and the
// iTIP reply (RFC 5546 section 3.2.3) to one. Pure: no DOM, no network; the
// reader shows the event as a card and sends the reply through Email/set.
//
// Parsing: lines are unfolded (a line break followed by a space or tab is
// removed), each content line becomes {name, params, value}, components nest by
// BEGIN/END. Values: TEXT unescaped (\n \, \; \\), DATE-TIME as UTC ("Z"), with a
// TZID (converted with the browser's time zone database; Windows zone names of
// the common Outlook invitations mapped), floating (the reader's local time), or
// DATE (an all-day event).

const MAX_LINES = 20000; // a limit on what we look at: invitations are small

// Outlook and Exchange name zones the Windows way; these are the ones their
// invitations carry most. Others fall back to the floating (local) reading.
const WINDOWS_ZONES = {
  'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest',
  'Romance Standard Time': 'Europe/Paris',
  'Central European Standard Time': 'Europe/Warsaw',
  'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'E. Europe Standard Time': 'Europe/Chisinau',
  'FLE Standard Time': 'Europe/Kiev',
  'Russian Standard Time': 'Europe/Moscow',
  'Eastern Standard Time': 'America/New_York',
  'Central Standard Time': 'America/Chicago',
  'Mountain Standard Time': 'America/Denver',
  'Pacific Standard Time': 'America/Los_Angeles',
  'India Standard Time': 'Asia/Kolkata',
  'China Standard Time': 'Asia/Shanghai',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  UTC: 'UTC',
};

export function unfold(text) {
  return String(text || '').replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '');
}

export function unescapeText(v) {
  return v.replace(/\\([\\;,nN])/g, (_, c) => (c === 'n' || c === 'N' ? '\n' : c));
}

export function escapeText(v) {
  return String(v).replace(/[\\;,]/g, (c) => '\\' + c).replace(/\r?\n/g, '\\n');
}

// One content line: name *(";" param) ":" value. Parameter values may be
// quoted and then hold ":" ";" ",". Returns null for a line that is not one.
export function parseLine(line) {
  const m = /^([A-Za-z0-9-]+)/.exec(line);
  if (!m) return null;
  const name = m[1].toUpperCase();
  const params = {};
  let i = m[1].length;
  while (line[i] === ';') {
    const pm = /^;([A-Za-z0-9-]+)=/.exec(line.slice(i));
    if (!pm) return null;
    i += pm[0].length;
    const vals = [];
    for (;;) {
      if (line[i] === '"') {
        const end = line.indexOf('"', i + 1);
        if (end < 0) return null;
        vals.push(line.slice(i + 1, end));
        i = end + 1;
      } else {
        let j = i;
        while (j < line.length && !';:,'.includes(line[j])) j++;
        vals.push(line.slice(i, j));
        i = j;
      }
      if (line[i] !== ',') break;
      i++;
    }
    params[pm[1].toUpperCase()] = vals.length === 1 ? vals[0] : vals;
  }
  if (line[i] !== ':') return null;
  return { name, params, value: line.slice(i + 1) };
}

// The component tree: {name, props: [{name, params, value}], comps: [...]}.
export function parseComponents(text) {
  const root = { name: 'ROOT', props: [], comps: [] };
  const stack = [root];
  const lines = unfold(text).split('\n');
  for (let n = 0; n < lines.length && n < MAX_LINES; n++) {
    const line = lines[n];
    if (!line.trim()) continue;
    const p = parseLine(line);
    if (!p) continue; // tolerant: a broken line loses only itself
    const top = stack[stack.length - 1];
    if (p.name === 'BEGIN') {
      const c = { name: p.value.trim().toUpperCase(), props: [], comps: [] };
      top.comps.push(c);
      stack.push(c);
    } else if (p.name === 'END') {
      if (stack.length > 1 && top.name === p.value.trim().toUpperCase()) stack.pop();
    } else {
      top.props.push(p);
    }
  }
  return root;
}

function prop(comp, name) {
  return comp.props.find((p) => p.name === name) || null;
}

// The UTC offset (ms) of an IANA zone at instant t, or null if the zone is unknown.
const zoneFormats = new Map();
function zoneOffset(zone, t) {
  let f = zoneFormats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch (e) {
      f = null;
    }
    zoneFormats.set(zone, f);
  }
  if (!f) return null;
  const parts = {};
  for (const p of f.formatToParts(new Date(t))) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
  return wall - Math.floor(t / 1000) * 1000;
}

// A wall-clock time in a zone to the instant: guess with the offset at the
// wall time read as UTC, then correct once (right across DST changes except in
// the skipped hour, which does not exist anyway).
export function zonedToUtc(wallMs, zone) {
  const o1 = zoneOffset(zone, wallMs);
  if (o1 === null) return null;
  const o2 = zoneOffset(zone, wallMs - o1);
  return wallMs - o2;
}

// A DATE or DATE-TIME property: {date: true, y, m, d} for all-day values,
// otherwise {time: ms since the epoch, floating: bool, tzid}. null if invalid.
export function parseDateValue(p) {
  if (!p) return null;
  const v = p.value.trim();
  const dm = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (dm || p.params.VALUE === 'DATE') {
    if (!dm) return null;
    return { date: true, y: +dm[1], m: +dm[2], d: +dm[3] };
  }
  const tm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/.exec(v);
  if (!tm) return null;
  const wall = Date.UTC(+tm[1], +tm[2] - 1, +tm[3], +tm[4], +tm[5], +tm[6]);
  if (Number.isNaN(wall)) return null;
  if (tm[7]) return { time: wall, floating: false, tzid: 'UTC' };
  const tzid = typeof p.params.TZID === 'string' ? p.params.TZID.replace(/^\//, '') : '';
  if (tzid) {
    const zone = WINDOWS_ZONES[tzid] || tzid;
    const t = zonedToUtc(wall, zone);
    if (t !== null) return { time: t, floating: false, tzid };
  }
  // Floating (or an unknown zone): the same wall time wherever the reader is.
  const d = new Date(+tm[1], +tm[2] - 1, +tm[3], +tm[4], +tm[5], +tm[6]);
  return { time: d.getTime(), floating: true, tzid };
}

// "mailto:a@b" (any case) to "a@b".
function calAddress(v) {
  return v.trim().replace(/^mailto:/i, '');
}

function person(p) {
  if (!p) return null;
  const name = typeof p.params.CN === 'string' ? p.params.CN : '';
  return {
    email: calAddress(p.value), name,
    partstat: (typeof p.params.PARTSTAT === 'string' ? p.params.PARTSTAT : 'NEEDS-ACTION').toUpperCase(),
    role: (typeof p.params.ROLE === 'string' ? p.params.ROLE : 'REQ-PARTICIPANT').toUpperCase(),
    rsvp: String(p.params.RSVP || '').toUpperCase() === 'TRUE',
    raw: p,
  };
}

// The invitation in a text/calendar body: {method, event} with the first
// VEVENT (a series' master when there are several), or null when there is none.
export function parseInvite(text) {
  const root = parseComponents(text);
  const cal = root.comps.find((c) => c.name === 'VCALENDAR');
  if (!cal) return null;
  const events = cal.comps.filter((c) => c.name === 'VEVENT');
  const ev = events.find((e) => !prop(e, 'RECURRENCE-ID')) || events[0];
  if (!ev) return null;
  const txt = (n) => { const p = prop(ev, n); return p ? unescapeText(p.value) : ''; };
  const method = prop(cal, 'METHOD');
  const start = parseDateValue(prop(ev, 'DTSTART'));
  let end = parseDateValue(prop(ev, 'DTEND'));
  const dur = prop(ev, 'DURATION');
  if (!end && start && dur && !start.date) {
    const ms = parseDuration(dur.value);
    if (ms !== null) end = { ...start, time: start.time + ms };
  }
  const seq = parseInt(txt('SEQUENCE'), 10);
  return {
    method: method ? method.value.trim().toUpperCase() : '',
    event: {
      uid: txt('UID'), summary: txt('SUMMARY'), location: txt('LOCATION'), description: txt('DESCRIPTION'),
      status: txt('STATUS').toUpperCase(), sequence: Number.isFinite(seq) ? seq : 0,
      recurrenceId: prop(ev, 'RECURRENCE-ID'), recurring: !!prop(ev, 'RRULE'),
      start, end,
      organizer: person(prop(ev, 'ORGANIZER')),
      attendees: ev.props.filter((p) => p.name === 'ATTENDEE').map(person),
    },
  };
}

// DURATION (RFC 5545 3.3.6) in ms: [+-]P[nW] or P[nD][T[nH][nM][nS]].
export function parseDuration(v) {
  const m = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(String(v).trim());
  if (!m || /^[+-]?PT?$/.test(String(v).trim())) return null;
  const n = (x) => (x ? +x : 0);
  const ms = ((n(m[2]) * 7 + n(m[3])) * 86400 + n(m[4]) * 3600 + n(m[5]) * 60 + n(m[6])) * 1000;
  return m[1] === '-' ? -ms : ms;
}

// Lines of at most 75 octets, continued with a space (RFC 5545 3.1), never
// splitting a UTF-8 sequence.
export function foldLine(line) {
  const enc = new TextEncoder();
  if (enc.encode(line).length <= 75) return line;
  const out = [];
  let cur = '';
  let curLen = 0;
  for (const ch of line) {
    const l = enc.encode(ch).length;
    const max = out.length ? 74 : 75; // continuation lines start with the space
    if (curLen + l > max) { out.push(cur); cur = ''; curLen = 0; }
    cur += ch;
    curLen += l;
  }
  out.push(cur);
  return out.join('\r\n ');
}

function utcStamp(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function paramValue(v) {
  return /[;:,]/.test(v) ? '"' + v.replace(/"/g, '') + '"' : v;
}

export const PARTSTATS = ['ACCEPTED', 'TENTATIVE', 'DECLINED'];

// The iTIP REPLY of one attendee (RFC 5546 3.2.3): METHOD:REPLY, the event's
// UID, SEQUENCE and RECURRENCE-ID, the ORGANIZER, and only the replying
// ATTENDEE with its new PARTSTAT. me: the attendee's address as the invitation
// names it (see findMe); now: ms for DTSTAMP.
export function buildReply(invite, me, partstat, now) {
  if (!PARTSTATS.includes(partstat)) throw new Error('bad partstat ' + partstat);
  const ev = invite.event;
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//postamt//webmail//EN', 'METHOD:REPLY', 'BEGIN:VEVENT',
    'UID:' + ev.uid, 'DTSTAMP:' + utcStamp(now)];
  if (ev.recurrenceId) lines.push(rawLine(ev.recurrenceId));
  if (ev.sequence) lines.push('SEQUENCE:' + ev.sequence);
  if (ev.organizer) lines.push(rawLine(ev.organizer.raw));
  const cn = me.name ? ';CN=' + paramValue(me.name) : '';
  lines.push('ATTENDEE;PARTSTAT=' + partstat + cn + ':mailto:' + me.email);
  if (ev.summary) lines.push('SUMMARY:' + escapeText(ev.summary));
  lines.push('END:VEVENT', 'END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

// A parsed property written back as it came (parameters re-quoted as needed).
function rawLine(p) {
  let s = p.name;
  for (const [k, v] of Object.entries(p.params)) s += ';' + k + '=' + (Array.isArray(v) ? v.map(paramValue).join(',') : paramValue(v));
  return s + ':' + p.value;
}

// Which attendee the user is: the first whose address is one of mine (case-
// insensitive), or null when the invitation does not name the user.
export function findMe(invite, mine) {
  const set = new Set((mine || []).map((a) => a.toLowerCase()));
  return invite.event.attendees.find((a) => set.has(a.email.toLowerCase())) || null;
}

// "Tue, 8 Dec 2026, 10:00 – 11:30" in the reader's time zone (tz for tests);
// all-day events show dates only, their DTEND being the day after (exclusive).
export function formatWhen(start, end, locale, tz) {
  if (!start) return '';
  const opt = tz ? { timeZone: tz } : {};
  if (start.date) {
    const day = (v) => new Date(Date.UTC(v.y, v.m - 1, v.d));
    const f = new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    const last = end && end.date ? new Date(day(end).getTime() - 86400000) : null;
    return last && last > day(start) ? f.format(day(start)) + ' – ' + f.format(last) : f.format(day(start));
  }
  const full = new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', ...opt });
  if (!end || end.date) return full.format(new Date(start.time));
  const dayKey = (t) => new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', ...opt }).format(new Date(t));
  const timeOnly = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...opt });
  const tail = dayKey(start.time) === dayKey(end.time) ? timeOnly.format(new Date(end.time)) : full.format(new Date(end.time));
  return full.format(new Date(start.time)) + ' – ' + tail;
}

// The user's answer kept on the invitation itself, so the card shows it after a
// reload: one keyword per answer ($rsvp_accepted ...), set with $answered when
// the reply is sent, the others cleared.
export const RSVP_KEYWORDS = { ACCEPTED: '$rsvp_accepted', TENTATIVE: '$rsvp_tentative', DECLINED: '$rsvp_declined' };

export function answerFromKeywords(keywords) {
  if (!keywords) return null;
  const set = new Set(Object.keys(keywords).filter((k) => keywords[k]).map((k) => k.toLowerCase()));
  return PARTSTATS.find((ps) => set.has(RSVP_KEYWORDS[ps])) || null;
}

// The Email/set patch for the invitation after answering ps.
export function rsvpPatch(ps) {
  const patch = { 'keywords/$answered': true };
  for (const p of PARTSTATS) patch['keywords/' + RSVP_KEYWORDS[p]] = p === ps ? true : null;
  return patch;
}
