// invite.js: a calendar invitation (a text/calendar part, METHOD:REQUEST) as a
// card above the message: what, when (in the reader's time zone), where, who,
// and Accept / Maybe / Decline. The answer is an iTIP REPLY (RFC 5546 3.2.3,
// built by ical.js) sent over iMIP (RFC 6047) the normal way: Email/set
// creates the message in Sent, EmailSubmission/set sends it to the organizer,
// in one request; the invitation gets $answered and the answer as a keyword
// (ical.js RSVP_KEYWORDS), which the card shows after a reload. Replies
// (METHOD:REPLY) and cancellations show as a card without buttons.

import { h, icon, bidiText } from './dom.js';
import { RequestBuilder, JmapMethodError } from './jmap.js';
import { parseInvite, buildReply, findMe, formatWhen, PARTSTATS, answerFromKeywords, rsvpPatch } from './ical.js';
import { referencesFor } from './quote.js';

// An invitation is a few KB; anything far larger is not read.
export const MAX_INVITE_BYTES = 256 * 1024;
const SHOWN_ATTENDEES = 6;

export function calendarPart(email) {
  const all = [...(email.attachments || []), ...(email.textBody || [])];
  return all.find((p) => /^(text\/calendar|application\/ics)$/i.test(p.type || '') && p.blobId && p.size <= MAX_INVITE_BYTES) || null;
}

// Fetches and parses the invitation of an email; null if it has none.
export async function loadInvite(email, client) {
  const p = calendarPart(email);
  if (!p) return null;
  const res = await client.fetch(client.downloadUrl(p.blobId, 'invite.ics', 'text/calendar'), { credentials: 'same-origin', headers: client.headers() });
  if (!res.ok) return null;
  const inv = parseInvite(await res.text());
  return inv && inv.event.uid ? inv : null;
}

// o: {t, lang, client, me() -> {identities, sentId, username}, toast, fail, onAnswered(partstat)}
export function inviteCard(inv, email, o) {
  const { t, lang } = o;
  const ev = inv.event;
  const who = (p) => (p.name ? p.name + ' <' + p.email + '>' : p.email);
  const title = inv.method === 'REPLY' ? t('invite.reply') : inv.method === 'CANCEL' ? t('invite.cancel') : t('invite.title');
  const row = (label, value) => (value ? h('div', { class: 'inv-row' }, h('dt', null, label), h('dd', null, value)) : null);
  const attendees = ev.attendees.slice(0, SHOWN_ATTENDEES).map((a) =>
    h('li', null, bidiText(who(a)), h('span', { class: 'muted' }, ' · ' + t('partstat.' + a.partstat))));
  if (ev.attendees.length > SHOWN_ATTENDEES) attendees.push(h('li', { class: 'muted' }, t('invite.more', { n: ev.attendees.length - SHOWN_ATTENDEES })));
  const whoBlock = h('div', null,
    ev.organizer ? h('div', null, bidiText(who(ev.organizer)), h('span', { class: 'muted' }, ' · ' + t('invite.organizer'))) : null,
    attendees.length ? h('ul', { class: 'inv-people' }, attendees) : null);
  const status = h('p', { class: 'inv-status', role: 'status' });
  const card = h('section', { class: 'invite-card', 'aria-labelledby': 'inv-title' },
    h('div', { class: 'inv-head' }, icon('mail'), h('span', { class: 'inv-kind' }, title)),
    h('h3', { class: 'inv-summary', id: 'inv-title' }, bidiText(ev.summary || email.subject || '')),
    h('dl', { class: 'inv-facts' },
      row(t('invite.when'), formatWhen(ev.start, ev.end, lang) + (ev.recurring ? ' · ' + t('invite.recurring') : '')),
      row(t('invite.where'), ev.location ? bidiText(ev.location) : null),
      row(t('invite.who'), whoBlock)),
    status);
  if (inv.method !== 'REQUEST') return card;
  const ctx = o.me();
  const mine = [...(ctx.identities || []).map((i) => i.email), ctx.username].filter(Boolean);
  const me = findMe(inv, mine);
  if (!me || !ev.organizer) {
    status.textContent = t('invite.notInvited');
    return card;
  }
  // the answer sent from here (a keyword on the invitation) wins over the
  // PARTSTAT the organizer put in it
  const given = answerFromKeywords(email.keywords) || (me.partstat !== 'NEEDS-ACTION' ? me.partstat : null);
  if (given) status.textContent = t('invite.yourAnswer', { answer: t('partstat.' + given) });
  const labels = { ACCEPTED: 'invite.accept', TENTATIVE: 'invite.tentative', DECLINED: 'invite.decline' };
  const buttons = PARTSTATS.map((ps) => h('button', {
    type: 'button', class: 'btn small' + (ps === 'ACCEPTED' ? ' primary' : ''), 'data-partstat': ps,
    'aria-pressed': given ? (given === ps ? 'true' : 'false') : null,
    onclick: () => answer(ps),
  }, t(labels[ps])));
  card.append(h('div', { class: 'inv-actions' }, buttons));
  async function answer(ps) {
    for (const b of buttons) b.disabled = true;
    status.textContent = t('invite.sending');
    try {
      await sendReply(inv, me, ps, email, o);
      status.textContent = t('invite.yourAnswer', { answer: t('partstat.' + ps) });
      for (const b of buttons) b.setAttribute('aria-pressed', b.dataset.partstat === ps ? 'true' : 'false');
      o.toast(t('invite.sent'));
      if (o.onAnswered) o.onAnswered(ps);
    } catch (e) {
      status.textContent = t('invite.failed', { error: e.message || String(e) });
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
  return card;
}

// The reply message: text for people, the iCalendar REPLY for their calendar
// (multipart/alternative, as calendar clients send it), to the organizer only.
export function replyEmail(inv, me, ps, email, { identity, sentId, t, now }) {
  const ev = inv.event;
  const name = identity.name || me.name || identity.email;
  const ics = buildReply(inv, { email: me.email, name: identity.name || me.name }, ps, now);
  const e = {
    mailboxIds: { [sentId]: true },
    keywords: { $seen: true },
    from: [{ name: identity.name || '', email: identity.email }],
    to: [{ name: ev.organizer.name || '', email: ev.organizer.email }],
    subject: t('invite.subject.' + ps, { summary: ev.summary || email.subject || '' }),
    bodyValues: {
      body: { value: t('invite.body.' + ps, { name, summary: ev.summary || '' }) + '\n' },
      cal: { value: ics },
    },
    bodyStructure: { type: 'multipart/alternative', subParts: [{ partId: 'body', type: 'text/plain' }, { partId: 'cal', type: 'text/calendar' }] },
  };
  const refs = referencesFor(email);
  if (refs.length) {
    e.references = refs;
    if (Array.isArray(email.messageId) && email.messageId.length) e.inReplyTo = [email.messageId[0]];
  }
  return e;
}

async function sendReply(inv, me, ps, email, o) {
  const { t } = o;
  const ctx = o.me();
  const ids = ctx.identities || [];
  const identity = ids.find((i) => i.email.toLowerCase() === me.email.toLowerCase()) || ids[0];
  if (!identity || !ctx.sentId) throw new Error(!identity ? 'no identity' : 'no Sent folder');
  const b = new RequestBuilder();
  const set = b.call('Email/set', { create: { rsvp: replyEmail(inv, me, ps, email, { identity, sentId: ctx.sentId, t, now: Date.now() }) } });
  const sub = b.call('EmailSubmission/set', {
    create: { send: { identityId: identity.id, emailId: '#rsvp', envelope: { mailFrom: { email: identity.email, parameters: null }, rcptTo: [{ email: inv.event.organizer.email, parameters: null }] } } },
  });
  const mark = b.call('Email/set', { update: { [email.id]: rsvpPatch(ps) } });
  const r = await o.client.send(b);
  const sr = r.get(set);
  if (!sr.created || !sr.created.rsvp) throw new JmapMethodError('Email/set', (sr.notCreated || {}).rsvp || { type: 'serverFail' });
  const subr = r.get(sub);
  if (!subr.created || !subr.created.send) throw new JmapMethodError('EmailSubmission/set', (subr.notCreated || {}).send || { type: 'serverFail' });
  if (!r.error(mark)) {
    const kw = Object.assign({}, email.keywords);
    for (const [k, v] of Object.entries(rsvpPatch(ps))) {
      if (v) kw[k.slice(9)] = true;
      else delete kw[k.slice(9)];
    }
    email.keywords = kw;
  }
}
