// actions.js: the Email/set update patches of the app's actions (read, flag,
// move, archive, delete to Trash, spam), for one email or several. Pure; the
// app applies a patch locally at once (state.js applyPatch) and sends the same
// patch to the server, whose push brings the truth back either way.

// Moves an email out of every mailbox it is in (mailboxIds, its mailboxIds
// property; null or empty: only joins) into toId, a mailbox id or a set of
// them ({id: true}, as mailboxIds). The one place a move is written: single
// moves, bulk moves, archive, delete to Trash, spam and their undo use it.
export function movePatch(mailboxIds, toId) {
  const to = typeof toId === 'string' ? { [toId]: true } : Object.assign({}, toId);
  if (!Object.keys(to).length) throw new Error('movePatch: no target mailbox');
  const p = {};
  for (const f of Object.keys(mailboxIds || {})) if (!to[f]) p['mailboxIds/' + f] = null;
  for (const f of Object.keys(to)) p['mailboxIds/' + f] = true;
  return p;
}

// Spam / Not spam: the email moves to toId (Junk for spam, the inbox for not
// spam; null: stays where it is) and gets $junk or $notjunk (the other one
// cleared). The server learns from both the move and the keyword (docs/spam.md,
// "Training the filter").
export function junkPatch(mailboxIds, toId, spam) {
  const p = { 'keywords/$junk': spam ? true : null, 'keywords/$notjunk': spam ? null : true };
  return toId ? Object.assign(p, movePatch(mailboxIds, toId)) : p;
}

export const seenPatch = (seen) => ({ 'keywords/$seen': seen ? true : null });
export const flagPatch = (flagged) => ({ 'keywords/$flagged': flagged ? true : null });

const has = (e, k) => !!(e && e.keywords && e.keywords[k]);

// The patches of one action over several emails (the bulk bar, or one email).
// action: read | unread | flag | unflag | move | junk | notjunk; toId: the
// target mailbox of move/junk/notjunk (junk without a Junk folder: null);
// emailOf(id): the email's list properties (undefined when not loaded: then
// it is taken to be in fallbackMailbox only). Returns {patches, remove}:
// remove says the emails leave the list shown.
export function bulkPatches(action, ids, emailOf, { toId = null, fallbackMailbox = null } = {}) {
  const patches = {};
  const where = (id) => { const e = emailOf(id); return (e && e.mailboxIds) || (fallbackMailbox ? { [fallbackMailbox]: true } : {}); };
  let remove = false;
  if (action === 'read' || action === 'unread') {
    for (const id of ids) patches[id] = seenPatch(action === 'read');
  } else if (action === 'flag' || action === 'unflag') {
    for (const id of ids) patches[id] = flagPatch(action === 'flag');
  } else if (action === 'junk' || action === 'notjunk') {
    for (const id of ids) patches[id] = junkPatch(where(id), toId, action === 'junk');
    remove = !!toId;
  } else if (action === 'move') {
    if (!toId) throw new Error('bulkPatches: move without a target');
    for (const id of ids) patches[id] = movePatch(where(id), toId);
    remove = true;
  } else {
    throw new Error('bulkPatches: unknown action ' + action);
  }
  return { patches, remove };
}

// The flag toggle over several emails: unflags when all are flagged, else flags.
export const flagToggle = (emails) => (emails.length && emails.every((e) => has(e, '$flagged')) ? 'unflag' : 'flag');
// "u" over several emails: marks unread when all are read, else read.
export const seenToggle = (emails) => (emails.length && emails.every((e) => has(e, '$seen')) ? 'unread' : 'read');

// Undo of a move, archive, delete to Trash or spam (toast "Undo", key z).
// before: the email's mailboxIds and keywords before the action (a copy taken
// then); patch: the action's patch. Returns the patch that puts the email
// back: into exactly the mailboxes it was in (through movePatch, from where
// the action put it) and with the keywords the action touched ($junk,
// $notjunk) as they were; keywords changed since (read, flagged) stay.
export function undoPatch(before, patch) {
  const was = (before && before.mailboxIds) || {};
  const now = Object.assign({}, was);
  let moved = false;
  const p = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('mailboxIds/')) {
      moved = true;
      const id = k.slice('mailboxIds/'.length);
      if (v) now[id] = true;
      else delete now[id];
    } else if (k.startsWith('keywords/')) {
      const kw = k.slice('keywords/'.length);
      p[k] = before && before.keywords && before.keywords[kw] ? true : null;
    } else {
      throw new Error('undoPatch: cannot undo ' + k);
    }
  }
  return moved && Object.keys(was).length ? Object.assign(p, movePatch(now, was)) : p;
}

// The undo of one action over several emails: {id: patch}. beforeOf(id): the
// copy of the email taken before the action (or undefined: not undoable).
export function undoPatches(patches, beforeOf) {
  const out = {};
  for (const [id, patch] of Object.entries(patches)) {
    const b = beforeOf(id);
    if (b) out[id] = undoPatch(b, patch);
  }
  return out;
}

// What undo needs of an email, copied before the action changes it.
export const snapshot = (e) => (e ? { mailboxIds: Object.assign({}, e.mailboxIds), keywords: Object.assign({}, e.keywords) } : undefined);
