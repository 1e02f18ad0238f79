// actions.js: the Email/set update patches of the app's actions (read, flag,
// move, archive, delete to Trash, spam), for one email or several. Pure; the
// app applies a patch locally at once (state.js applyPatch) and sends the same
// patch to the server, whose push brings the truth back either way.

// Moves an email out of every mailbox it is in (mailboxIds, its mailboxIds
// property; null or empty: only joins) into toId. The one place a move is
// written: single moves, bulk moves, archive, delete to Trash and spam use it.
export function movePatch(mailboxIds, toId) {
  const p = {};
  for (const f of Object.keys(mailboxIds || {})) if (f !== toId) p['mailboxIds/' + f] = null;
  p['mailboxIds/' + toId] = true;
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
