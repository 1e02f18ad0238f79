// Unit tests of web/js/listsync.js against a small JMAP server in memory: the
// list is loaded in pages, refreshed through Email/queryChanges + Email/changes,
// and no request names more ids than maxObjectsInGet (the review's B1: a
// refresh at 1,050 loaded rows asked for all of them and failed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchResponses, CAP } from '../js/jmap.js';
import { ListSync } from '../js/listsync.js';
import { newState, removeId } from '../js/state.js';

// One mailbox, newest first; every change bumps the state and is remembered.
class FakeServer {
  constructor(n, maxGet) {
    this.maxGet = maxGet;
    this.seq = 0;
    this.emails = new Map();
    this.log = []; // [state, id] of every change
    this.biggestGet = 0;
    this.calls = [];
    for (let i = 0; i < n; i++) this.add('m' + i, false);
  }

  add(id, log = true) {
    this.seq++;
    this.emails.set(id, { id, receivedAt: this.seq, keywords: {}, mailboxIds: { inbox: true } });
    if (log) this.log.push([this.seq, id]);
  }

  update(id, patch) {
    this.seq++;
    Object.assign(this.emails.get(id), patch);
    this.log.push([this.seq, id]);
  }

  ids() {
    return [...this.emails.values()].filter((e) => e.mailboxIds.inbox).sort((a, b) => b.receivedAt - a.receivedAt).map((e) => e.id);
  }

  client() {
    return {
      session: { capabilities: { [CAP.core]: { maxObjectsInGet: this.maxGet } } },
      send: async (b) => matchResponses(b, { methodResponses: this.run(b.build().methodCalls) }),
      call: async (name, args) => {
        const [r] = this.run([[name, args, 'c0']]);
        if (r[0] === 'error') throw new Error(r[1].type);
        return r[1];
      },
    };
  }

  run(calls) {
    const out = [];
    const state = String(this.seq);
    for (const [name, args0, id] of calls) {
      const args = Object.assign({}, args0);
      if (args['#ids']) args.ids = out.find((r) => r[2] === args['#ids'].resultOf)[1].ids;
      this.calls.push(name);
      const all = this.ids();
      if (name === 'Email/query') {
        out.push([name, { ids: all.slice(args.position, args.position + args.limit), position: args.position, total: all.length, queryState: state, canCalculateChanges: true }, id]);
      } else if (name === 'Email/get') {
        this.biggestGet = Math.max(this.biggestGet, args.ids.length);
        if (args.ids.length > this.maxGet) { out.push(['error', { type: 'requestTooLarge' }, id]); continue; }
        out.push([name, { state, list: args.ids.filter((x) => this.emails.has(x)).map((x) => structuredClone(this.emails.get(x))), notFound: [] }, id]);
      } else if (name === 'Email/changes' || name === 'Email/queryChanges') {
        const since = Number(name === 'Email/changes' ? args.sinceState : args.sinceQueryState);
        const changed = [...new Set(this.log.filter(([s]) => s > since).map(([, x]) => x))];
        if (name === 'Email/changes') out.push([name, { oldState: String(since), newState: state, created: [], updated: changed, destroyed: [] }, id]);
        else {
          const added = all.map((x, index) => ({ id: x, index })).filter((a) => changed.includes(a.id));
          out.push([name, { oldQueryState: String(since), newQueryState: state, removed: changed, added, total: all.length }, id]);
        }
      } else throw new Error('unexpected ' + name);
    }
    return out;
  }
}

function setup(n, maxGet) {
  const server = new FakeServer(n, maxGet);
  const state = newState('u');
  let changes = 0;
  const sync = new ListSync(server.client(), state, {
    query: () => ({ filter: { inMailbox: 'inbox' }, sort: [{ property: 'receivedAt', isAscending: false }] }),
    onChange: () => { changes++; },
  });
  return { server, state, sync, changes: () => changes };
}

test('1,050 rows loaded, then an archive and a new mail: refreshed from the changes, never above maxObjectsInGet', async () => {
  const { server, state, sync } = setup(2000, 1000);
  await sync.open();
  assert.equal(state.total, 2000);
  for (let p = 50; p < 1050; p += 50) await sync.load(p, p + 50);
  assert.deepEqual(state.ids.slice(0, 1050), server.ids().slice(0, 1050));
  // archive the 500th: out of the list at once, then on the server
  const gone = state.ids[500];
  removeId(state, gone);
  server.update(gone, { mailboxIds: { archive: true } });
  server.add('new1');
  server.calls = [];
  await sync.sync();
  assert.deepEqual(server.calls, ['Email/queryChanges', 'Email/changes', 'Email/get']);
  assert.ok(server.biggestGet <= 1000);
  assert.equal(state.total, 2000);
  assert.equal(state.ids[0], 'new1');
  assert.equal(state.emails.get('new1').id, 'new1');
  assert.deepEqual(state.ids.slice(0, 1050), server.ids().slice(0, 1050));
  assert.equal(state.ids.includes(gone), false);
});

test('a changed flag is fetched again; a page load never asks for more than maxObjectsInGet', async () => {
  const { server, state, sync } = setup(300, 40);
  await sync.open();
  assert.equal(state.ids.filter(Boolean).length, 40); // the first page is capped too
  server.update('m299', { keywords: { $seen: true } });
  await sync.sync();
  assert.deepEqual(state.emails.get('m299').keywords, { $seen: true });
  await sync.load(200, 300); // the list view asks for 100: at most 40 come
  assert.ok(server.biggestGet <= 40);
  assert.equal(state.ids.filter(Boolean).length, 80);
});

test('End: the last page loads without the ones before it', async () => {
  const { server, state, sync } = setup(20000, 1000);
  await sync.open();
  await sync.load(19950, 20000);
  assert.equal(state.ids[19999], server.ids()[19999]);
  assert.equal(state.ids[1000], undefined);
  assert.equal(state.emails.size, 100);
});

test('a page of a newer state than the loaded ones replaces them; a new list voids old answers', async () => {
  const { server, state, sync } = setup(500, 1000);
  await sync.open();
  server.add('late');
  await sync.load(100, 150);
  assert.equal(state.total, 501);
  assert.equal(state.ids[0], undefined, 'the first page is of the old state: loaded again when shown');
  assert.deepEqual(state.ids.slice(100, 150), server.ids().slice(100, 150));
  const pending = sync.load(300, 350);
  const reopened = sync.open();
  await Promise.all([pending, reopened]);
  assert.deepEqual(state.ids.filter(Boolean), server.ids().slice(0, 50));
});

test('an id the query lists but Email/get does not find is not asked for again and again', async () => {
  const { server, state, sync } = setup(200, 1000);
  await sync.open();
  server.emails.get('m100').ghost = true;
  const run = server.run.bind(server);
  server.run = (calls) => run(calls).map((r) => (r[0] === 'Email/get' ? [r[0], Object.assign({}, r[1], { list: r[1].list.filter((e) => !e.ghost) }), r[2]] : r));
  await sync.load(80, 130);
  const asked = server.calls.length;
  await sync.load(80, 130);
  assert.equal(server.calls.length, asked);
  assert.equal(state.ids[99], undefined); // m100 is at position 99
  assert.equal(state.ids[98], 'm101');
});
