// state.js: the mail app's state and the operations on it. Pure: no DOM, no
// network; app.js calls these and then renders. The message list is `ids` (the
// loaded part of the query's result, in its order) over `emails` (the list
// properties of each loaded email by id); `total` is the query's full length.

import { findRole } from './mailboxes.js';

export function newState(username) {
  return {
    username: username || '',
    mailboxes: [],
    byId: new Map(),
    current: null, // mailbox id
    search: '',
    ascending: false,
    ids: [],
    total: 0,
    emails: new Map(),
    selected: null,
    checked: new Set(), // several messages chosen for one action (x, Ctrl+click, Shift+click)
    anchor: null,
    loading: false,
    identities: [],
    known: {}, // JMAP state strings by type, as last seen
    destroyed: false,
  };
}

// A Mailbox/get answer: keeps the current mailbox when it still exists, else
// the inbox (or the first mailbox).
export function setMailboxes(s, list) {
  s.mailboxes = list;
  s.byId = new Map(list.map((m) => [m.id, m]));
  if (!s.current || !s.byId.has(s.current)) {
    const inbox = findRole(list, 'inbox') || list[0];
    s.current = inbox ? inbox.id : null;
  }
}

// One page of Email/query + Email/get. reset: the page starts the list anew.
// Ids the get did not return (destroyed in between) are left out.
export function takePage(s, { ids, list, total }, reset) {
  if (reset) { s.ids = []; s.emails = new Map(); }
  for (const e of list) s.emails.set(e.id, e);
  const have = new Set(s.ids);
  s.ids = s.ids.concat(ids.filter((id) => s.emails.has(id) && !have.has(id)));
  s.total = total !== undefined ? total : s.ids.length;
}

const unescapePointer = (k) => k.replace(/~1/g, '/').replace(/~0/g, '~');

// Applies an Email/set update patch (RFC 8620 5.3 PatchObject, one level of
// path as the app writes them) to an email object; returns it.
export function applyPatch(e, patch) {
  for (const [k, v] of Object.entries(patch)) {
    const slash = k.indexOf('/');
    if (slash < 0) { e[k] = v; continue; }
    const prop = k.slice(0, slash);
    const key = unescapePointer(k.slice(slash + 1));
    e[prop] = Object.assign({}, e[prop]);
    if (v === null) delete e[prop][key];
    else e[prop][key] = v;
  }
  return e;
}

export function patchEmail(s, id, patch) {
  const e = s.emails.get(id);
  return e ? applyPatch(e, patch) : null;
}

// Takes id out of the list. Returns null when it was not there, else the id
// that takes its place in the list (the next one, or the one before at the end).
export function removeId(s, id) {
  const i = s.ids.indexOf(id);
  if (i < 0) return null;
  s.ids.splice(i, 1);
  s.total = Math.max(0, s.total - 1);
  s.checked.delete(id);
  return { next: s.ids[i] || s.ids[i - 1] || null };
}

export function toggleCheck(s, id) {
  if (!id) return;
  if (s.checked.has(id)) s.checked.delete(id);
  else s.checked.add(id);
  s.anchor = id;
}

// Shift+click: everything between a and b (both included) is checked.
export function checkRange(s, a, b) {
  let i = s.ids.indexOf(a);
  let j = s.ids.indexOf(b);
  if (i < 0 || j < 0) return;
  if (i > j) [i, j] = [j, i];
  for (const id of s.ids.slice(i, j + 1)) s.checked.add(id);
}

// Checked ids no longer in the list are dropped (after a refresh).
export function pruneChecks(s) {
  const inList = new Set(s.ids);
  for (const id of [...s.checked]) if (!s.emails.has(id) || !inList.has(id)) s.checked.delete(id);
}

// The checked ids in list order.
export function checkedIds(s) {
  return s.ids.filter((id) => s.checked.has(id));
}

// Index of the row j/k/arrows go to from the selected one (the first row when
// none is selected); -1 for an empty list.
export function stepIndex(s, dir) {
  if (!s.ids.length) return -1;
  const i = s.ids.indexOf(s.selected);
  return i < 0 ? 0 : Math.max(0, Math.min(s.ids.length - 1, i + dir));
}

// Whether every one of ids has the keyword (for toggles over several emails).
export function allHave(s, ids, keyword) {
  return ids.length > 0 && ids.every((id) => { const e = s.emails.get(id); return !!(e && e.keywords && e.keywords[keyword]); });
}
