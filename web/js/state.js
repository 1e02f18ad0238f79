// state.js: the mail app's state and the operations on it. Pure: no DOM, no
// network; app.js calls these and then renders.
//
// The message list is `ids`, as long as the query's result (`total`): ids[i] is
// the email at position i, or a hole (undefined) where that part of the result
// has not been loaded. `emails` has the list properties of each loaded email by
// id. The list view loads the holes it shows, so the list stays as light at the
// end of a 100,000-message folder as at its start. `queryState` is the state of
// the query the loaded ids come from; refreshes apply Email/queryChanges to them
// (applyQueryChanges) instead of asking for them again.

import { findRole } from './mailboxes.js';

export function newState(username) {
  return {
    username: username || '',
    mailboxes: [],
    byId: new Map(),
    current: null, // mailbox id
    search: '', // the search box's text while a search is shown
    searchFilter: null, // its JMAP filter (search.js)
    searchFolder: null, // its in: folder, or null: across folders
    snippets: new Map(), // SearchSnippet/get answers by email id
    threads: new Map(), // as conversations: threadId -> [{id, mailboxIds, keywords}] of its emails
    ascending: false,
    ids: [],
    total: 0,
    queryState: null,
    emails: new Map(),
    selected: null,
    opened: null, // the message the reading pane shows (its URL says so)
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

// Empties the list for a new query (another folder, search or sort).
export function resetList(s) {
  s.ids = [];
  s.total = 0;
  s.queryState = null;
  s.emails = new Map();
  s.snippets = new Map();
  s.threads = new Map();
}

// Thread/get and the Email/get of the threads' emails (id, mailboxIds,
// keywords): what a conversation row counts and its actions act on.
export function takeThreads(s, threads, emails) {
  const byId = new Map(emails.map((e) => [e.id, e]));
  for (const th of threads) s.threads.set(th.id, th.emailIds.map((id) => byId.get(id)).filter(Boolean));
}

// The emails an action on the listed ids acts on: as conversations
// (s.threads filled), each row's thread's emails in the folder shown (in a
// search: the row's email alone), the row's own first; else the ids.
export function actionIds(s, ids) {
  const out = [];
  const seen = new Set();
  const add = (id) => { if (!seen.has(id)) { seen.add(id); out.push(id); } };
  for (const id of ids) {
    add(id);
    const e = s.emails.get(id);
    const members = e && !s.search ? s.threads.get(e.threadId) : null;
    for (const m of members || []) if (m.mailboxIds && m.mailboxIds[s.current]) add(m.id);
  }
  return out;
}

// An email's list properties, or a thread member's (id, mailboxIds, keywords).
export function emailOrMember(s, id) {
  const e = s.emails.get(id);
  if (e) return e;
  for (const list of s.threads.values()) { const m = list.find((x) => x.id === id); if (m) return m; }
  return undefined;
}

// The number of emails of the row's thread (as conversations), else 0.
export function threadCount(s, e) {
  const list = e && s.threads.get(e.threadId);
  return list ? list.length : 0;
}

// One page of Email/query + Email/get: {position, ids, list, total, queryState}.
// A page of another query state than the loaded ids' (mail came or went in
// between, and no refresh has told yet) cannot be placed among them: it then
// replaces them (every other position becomes a hole again, to be loaded
// when shown). Ids the get did not return (destroyed in between) stay holes.
// Returns whether the rest was dropped.
export function takePage(s, { position = 0, ids, list, total, queryState }) {
  let dropped = false;
  if (queryState !== undefined && s.queryState !== null && queryState !== s.queryState) {
    s.ids = [];
    dropped = true;
  }
  if (queryState !== undefined) s.queryState = queryState;
  for (const e of list) s.emails.set(e.id, e);
  s.total = total !== undefined ? total : Math.max(s.total, position + ids.length);
  s.ids.length = s.total;
  for (let k = 0; k < ids.length && position + k < s.total; k++) {
    const id = ids[k];
    if (!s.emails.has(id)) continue;
    const old = s.ids.indexOf(id);
    if (old >= 0 && old !== position + k) s.ids[old] = undefined;
    s.ids[position + k] = id;
  }
  if (dropped) forgetUnlisted(s);
  return dropped;
}

// The loaded ids from the start up to the first hole.
export function prefixLength(s) {
  for (let i = 0; i < s.ids.length; i++) if (s.ids[i] === undefined) return i;
  return s.ids.length;
}

// The first and last hole in [from, to), as a range to load; null when all
// of it is loaded.
export function holesIn(s, from, to) {
  let a = -1;
  let b = -1;
  for (let i = Math.max(0, from); i < Math.min(to, s.total); i++) {
    if (s.ids[i] === undefined) { if (a < 0) a = i; b = i; }
  }
  return a < 0 ? null : { from: a, to: b + 1 };
}

// Email/queryChanges (RFC 8620 5.6) applied to the loaded ids. Only the part
// before the first hole can be updated exactly (a removed id that was never
// loaded moves everything after it by an unknown place), so loaded ids after
// a hole are dropped; the list view loads them again when they are shown.
// Returns the added ids whose emails are not loaded yet.
export function applyQueryChanges(s, { removed = [], added = [], total, newQueryState }) {
  const ids = s.ids.slice(0, prefixLength(s));
  const gone = new Set(removed);
  const kept = ids.filter((id) => !gone.has(id));
  const need = [];
  for (const { id, index } of [...added].sort((x, y) => x.index - y.index)) {
    if (index > kept.length) continue; // beyond what is loaded: a hole covers it
    kept.splice(index, 0, id);
    if (!s.emails.has(id)) need.push(id);
  }
  s.total = total !== undefined ? total : Math.max(kept.length, s.total - gone.size + added.length);
  s.ids = kept.slice(0, s.total);
  s.ids.length = s.total;
  if (newQueryState !== undefined) s.queryState = newQueryState;
  return need;
}

// Loaded emails no longer in the list are forgotten (the ones added by
// applyQueryChanges stay until their Email/get placed them: they are listed).
export function forgetUnlisted(s, keep = null) {
  const listed = new Set(s.ids.filter((x) => x !== undefined));
  for (const id of [...s.emails.keys()]) if (!listed.has(id) && id !== keep) s.emails.delete(id);
}

// The ids of an Email/changes answer worth fetching again: the loaded ones.
export function changedLoaded(s, updated) {
  return updated.filter((id) => s.emails.has(id));
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
// that takes its place in the list (the next one, or the one before at the
// end; null when that one is not loaded).
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

// Shift+click: every loaded id between a and b (both included) is checked.
export function checkRange(s, a, b) {
  let i = s.ids.indexOf(a);
  let j = s.ids.indexOf(b);
  if (i < 0 || j < 0) return;
  if (i > j) [i, j] = [j, i];
  for (const id of s.ids.slice(i, j + 1)) if (id !== undefined) s.checked.add(id);
}

// Checked ids no longer in the list are dropped (after a refresh).
export function pruneChecks(s) {
  const inList = new Set(s.ids);
  for (const id of [...s.checked]) if (!s.emails.has(id) || !inList.has(id)) s.checked.delete(id);
}

// The checked ids in list order.
export function checkedIds(s) {
  return s.ids.filter((id) => id !== undefined && s.checked.has(id));
}

// Index of the row j/k/arrows go to from the selected one (the first row when
// none is selected); -1 for an empty list. The row may be a hole.
export function stepIndex(s, dir) {
  if (!s.total) return -1;
  const i = s.selected ? s.ids.indexOf(s.selected) : -1;
  return i < 0 ? 0 : Math.max(0, Math.min(s.total - 1, i + dir));
}

// Whether every one of ids has the keyword (for toggles over several emails).
export function allHave(s, ids, keyword) {
  return ids.length > 0 && ids.every((id) => { const e = s.emails.get(id); return !!(e && e.keywords && e.keywords[keyword]); });
}
