// listsync.js: fills the message list (state.js) from the server and keeps it
// current. A new list loads its first page; the list view asks for the
// positions it shows that are not loaded (load); a change on the server
// (push, or after an action failed) is applied through Email/queryChanges and
// Email/changes (sync), so a refresh costs the changes, not the list: no
// request ever names more than the session's maxObjectsInGet ids.
//
// As conversations (query() says collapseThreads) the list has one row per
// thread, its newest email; each page also asks the rows' threads (Thread/get)
// and their emails' mailboxIds and keywords, for the count on the row and for
// actions on the whole conversation (state.threads). The server cannot say the
// changes of such a query (canCalculateChanges false), so a refresh loads the
// rows shown anew.

import { RequestBuilder, CAP, JmapMethodError } from './jmap.js';
import { LIST_PROPERTIES } from './mailboxes.js';
import { takePage, resetList, applyQueryChanges, changedLoaded, forgetUnlisted, takeThreads } from './state.js';

export const PAGE = 50;

export class ListSync {
  // query(): {filter, sort, collapseThreads} of the list shown; onChange(): draw it again.
  constructor(client, state, { query, onChange }) {
    this.client = client;
    this.state = state;
    this.query = query;
    this.onChange = onChange;
    this.epoch = 0; // a new list makes answers for the old one void
    this.inflight = []; // [from, to) of page loads under way
    this.canChanges = true;
    this.snippetAsked = new Set();
    // ranges loaded at a query state: asked again only at another one (an id
    // the query lists but Email/get does not find stays a hole, not a loop)
    this.tried = new Set();
  }

  get maxGet() {
    const core = this.client.session.capabilities[CAP.core] || {};
    return Math.max(1, core.maxObjectsInGet || 500);
  }

  async page(position, limit) {
    const { filter, sort, collapseThreads = false } = this.query();
    const b = new RequestBuilder();
    const q = b.call('Email/query', { filter, sort, collapseThreads, position, limit: Math.min(limit, this.maxGet), calculateTotal: true });
    const g = b.call('Email/get', { '#ids': q.ref('/ids'), properties: LIST_PROPERTIES });
    const th = collapseThreads ? b.call('Thread/get', { '#ids': g.ref('/list/*/threadId') }) : null;
    const m = th ? b.call('Email/get', { '#ids': th.ref('/list/*/emailIds'), properties: ['id', 'threadId', 'mailboxIds', 'keywords'] }) : null;
    const r = await this.client.send(b);
    return { q: r.get(q), g: r.get(g), threads: th ? { list: r.get(th).list || [], emails: r.get(m).list || [] } : null };
  }

  place(qr, gr, threads) {
    const s = this.state;
    if (threads) takeThreads(s, threads.list, threads.emails);
    const fresh = s.queryState === null;
    const dropped = takePage(s, { position: qr.position || 0, ids: qr.ids, list: gr.list, total: qr.total, queryState: qr.queryState });
    // the Email state the loaded emails are current to: only when the page is
    // all of what is loaded, else a refresh would skip the others' changes
    if (fresh || dropped) s.known.Email = gr.state;
    this.canChanges = qr.canCalculateChanges !== false;
  }

  // A new list (folder, search or sort) from its first page.
  async open() {
    const epoch = ++this.epoch;
    this.inflight = [];
    this.snippetAsked = new Set();
    resetList(this.state);
    const { q, g, threads } = await this.page(0, PAGE);
    if (epoch !== this.epoch) return;
    this.place(q, g, threads);
    this.onChange();
  }

  // Loads positions [from, to) (the list view shows them as holes).
  async load(from, to) {
    if (this.inflight.some(([a, b]) => a <= from && to <= b)) return;
    const key = this.state.queryState + ':' + from + ':' + to;
    if (this.tried.has(key)) return;
    const epoch = this.epoch;
    const limit = Math.min(this.maxGet, Math.max(PAGE, to - from));
    const range = [from, from + limit];
    this.inflight.push(range);
    try {
      const { q, g, threads } = await this.page(from, limit);
      if (epoch !== this.epoch) return;
      this.tried.add(key);
      this.place(q, g, threads);
      this.onChange();
    } finally {
      this.inflight = this.inflight.filter((x) => x !== range);
    }
  }

  // The list as it is on the server now, from the changes since it was loaded.
  async sync(around = 0) {
    const s = this.state;
    if (s.queryState === null || !this.canChanges || !s.known.Email) return this.reload(around);
    const epoch = this.epoch;
    const { filter, sort, collapseThreads = false } = this.query();
    const b = new RequestBuilder();
    const qc = b.call('Email/queryChanges', { filter, sort, collapseThreads, sinceQueryState: s.queryState, calculateTotal: true });
    const ch = b.call('Email/changes', { sinceState: s.known.Email });
    const r = await this.client.send(b);
    if (epoch !== this.epoch) return;
    let q;
    let c;
    try {
      q = r.get(qc);
      c = r.get(ch);
    } catch (e) {
      // cannotCalculateChanges, tooManyChanges: the server cannot say; load anew
      if (e instanceof JmapMethodError) return this.reload(around);
      throw e;
    }
    const need = new Set(applyQueryChanges(s, q));
    for (const id of changedLoaded(s, c.updated || [])) need.add(id);
    for (const id of c.destroyed || []) s.emails.delete(id);
    await this.fetch([...need], epoch);
    if (epoch !== this.epoch) return;
    s.known.Email = c.newState;
    forgetUnlisted(s, s.selected);
    this.onChange();
  }

  // Email/get of ids in requests of at most maxObjectsInGet.
  async fetch(ids, epoch) {
    for (let i = 0; i < ids.length; i += this.maxGet) {
      const chunk = ids.slice(i, i + this.maxGet);
      const res = await this.client.call('Email/get', { ids: chunk, properties: LIST_PROPERTIES });
      if (epoch !== this.epoch) return;
      for (const e of res.list) this.state.emails.set(e.id, e);
      for (const id of res.notFound || []) this.state.emails.delete(id);
    }
  }

  // SearchSnippet/get (RFC 8621 5.1) of the search shown, for those of ids
  // not asked for yet; the answers land in state.snippets. Returns whether
  // any came.
  async loadSnippets(ids) {
    const s = this.state;
    const want = ids.filter((id) => !this.snippetAsked.has(id));
    if (!want.length) return false;
    for (const id of want) this.snippetAsked.add(id);
    const epoch = this.epoch;
    const { filter } = this.query();
    let got = false;
    for (let i = 0; i < want.length; i += this.maxGet) {
      const res = await this.client.call('SearchSnippet/get', { filter, emailIds: want.slice(i, i + this.maxGet) });
      if (epoch !== this.epoch) return false;
      for (const sn of res.list || []) { s.snippets.set(sn.emailId, sn); got = true; }
    }
    return got;
  }

  // Loads the list anew where it is shown (around: the first position in view).
  async reload(around = 0) {
    const epoch = ++this.epoch;
    this.inflight = [];
    const from = Math.max(0, around);
    const { q, g, threads } = await this.page(from, PAGE);
    if (epoch !== this.epoch) return;
    const keep = this.state.selected;
    this.snippetAsked = new Set();
    resetList(this.state);
    this.place(q, g, threads);
    forgetUnlisted(this.state, keep);
    this.onChange();
  }
}
