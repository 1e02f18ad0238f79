// Unit tests of web/js/jmap.js: request building, back-references, URI
// templates, response matching, the event-stream parser and the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBuilder, CAP, expandUriTemplate, matchResponses, JmapMethodError, createSseParser, changedTypes, JmapClient, capabilityFor } from '../js/jmap.js';

test('request with a back-reference (RFC 8620 3.7)', () => {
  const b = new RequestBuilder();
  const q = b.call('Email/query', { filter: { inMailbox: 'm1' }, limit: 50 });
  b.call('Email/get', { '#ids': q.ref('/ids'), properties: ['id'] });
  assert.deepEqual(b.build(), {
    using: [CAP.core, CAP.mail],
    methodCalls: [
      ['Email/query', { filter: { inMailbox: 'm1' }, limit: 50 }, 'c0'],
      ['Email/get', { '#ids': { resultOf: 'c0', name: 'Email/query', path: '/ids' }, properties: ['id'] }, 'c1'],
    ],
  });
});

test('using lists the capabilities of the methods', () => {
  const b = new RequestBuilder();
  b.call('Identity/get', {});
  b.call('Quota/get', {});
  b.call('Mailbox/get', {});
  assert.deepEqual(b.build().using, [CAP.core, CAP.submission, CAP.quota, CAP.mail]);
  assert.equal(capabilityFor('EmailSubmission/set'), CAP.submission);
  assert.equal(capabilityFor('Thread/get'), CAP.mail);
  assert.equal(capabilityFor('Core/echo'), CAP.core);
  assert.equal(capabilityFor('SieveScript/validate'), 'urn:ietf:params:jmap:sieve');
  assert.equal(capabilityFor('VacationResponse/set'), 'urn:ietf:params:jmap:vacationresponse');
  assert.equal(capabilityFor('JunkSettings/get'), 'urn:postamt:params:jmap:junk');
});

test('ref() with another name (implicit Email/set of EmailSubmission/set)', () => {
  const b = new RequestBuilder();
  const s = b.call('EmailSubmission/set', {});
  assert.deepEqual(s.ref('/updated', 'Email/set'), { resultOf: 'c0', name: 'Email/set', path: '/updated' });
});

test('URI templates are expanded with percent-encoding', () => {
  const t = 'https://h/jmap/download/{accountId}/{blobId}/{name}?accept={type}';
  assert.equal(expandUriTemplate(t, { accountId: 'A 1', blobId: 'B/2', name: "Prüfung (1).pdf", type: 'application/pdf' }),
    'https://h/jmap/download/A%201/B%2F2/Pr%C3%BCfung%20%281%29.pdf?accept=application%2Fpdf');
  assert.equal(expandUriTemplate('/es?types={types}&closeafter={closeafter}&ping={ping}', { types: '*', closeafter: 'no', ping: 30 }),
    '/es?types=%2A&closeafter=no&ping=30');
  assert.equal(expandUriTemplate('/x/{missing}/y', {}), '/x//y');
});

test('responses are matched by call id; errors become JmapMethodError', () => {
  const b = new RequestBuilder();
  const a = b.call('Mailbox/get', {});
  const c = b.call('Email/get', {});
  const d = b.call('EmailSubmission/set', {});
  const r = matchResponses(b, {
    sessionState: 's1',
    methodResponses: [
      ['Mailbox/get', { list: [1] }, 'c0'],
      ['error', { type: 'invalidArguments', description: 'bad' }, 'c1'],
      ['EmailSubmission/set', { created: { x: {} } }, 'c2'],
      ['Email/set', { updated: { e: null } }, 'c2'],
    ],
  });
  assert.deepEqual(r.get(a), { list: [1] });
  assert.throws(() => r.get(c), (e) => e instanceof JmapMethodError && e.type === 'invalidArguments');
  assert.deepEqual(r.error(c), { type: 'invalidArguments', description: 'bad' });
  assert.deepEqual(r.get(d), { created: { x: {} } });
  assert.equal(r.all(d).length, 2);
  assert.equal(r.sessionState, 's1');
  assert.throws(() => matchResponses(b, { nope: 1 }));
});

test('event-stream parser: fields, comments, CRLF, any chunking', () => {
  const text = ': ping\r\nevent: state\r\ndata: {"a":\r\ndata: 1}\r\nid: 7\r\n\r\nevent: state\ndata:x\n\n:c\n\ndata: y\r\r';
  const want = [{ type: 'state', data: '{"a":\n1}', id: '7' }, { type: 'state', data: 'x', id: '7' }, { type: 'message', data: 'y', id: '7' }];
  for (const size of [1, 2, 3, 7, text.length]) {
    const got = [];
    const p = createSseParser((e) => got.push(e));
    for (let i = 0; i < text.length; i += size) p.feed(text.slice(i, i + size));
    assert.deepEqual(got, want, 'chunk size ' + size);
  }
});

test('changedTypes picks the types whose state moved', () => {
  const sc = { '@type': 'StateChange', changed: { A: { Email: '5', Mailbox: '3' }, B: { Email: '9' } } };
  assert.deepEqual(changedTypes(sc, 'A', { Email: '4', Mailbox: '3' }), ['Email']);
  assert.deepEqual(changedTypes(sc, 'C', {}), []);
  assert.deepEqual(changedTypes({ changed: {} }, 'A', {}), []);
});

function fakeFetch(routes) {
  const calls = [];
  const f = async (url, init = {}) => {
    calls.push({ url, init });
    const r = routes(url, init);
    return {
      ok: r.status >= 200 && r.status < 300,
      status: r.status,
      json: async () => r.body,
    };
  };
  f.calls = calls;
  return f;
}

const SESSION = {
  capabilities: { [CAP.core]: {}, [CAP.mail]: {} },
  accounts: { A1: { name: 'x' } },
  primaryAccounts: { [CAP.mail]: 'A1' },
  apiUrl: '/jmap/api/',
  downloadUrl: '/jmap/download/{accountId}/{blobId}/{name}?type={type}',
  uploadUrl: '/jmap/upload/{accountId}/',
  eventSourceUrl: '/jmap/es?types={types}&closeafter={closeafter}&ping={ping}',
};

test('client: session, accountId, CSRF header on every request, same-origin credentials', async () => {
  const f = fakeFetch((url, init) => {
    if (url === '/.well-known/jmap') return { status: 200, body: SESSION };
    if (url === '/jmap/api/') {
      const body = JSON.parse(init.body);
      return { status: 200, body: { sessionState: 'x', methodResponses: body.methodCalls.map(([n, a, id]) => [n, { echo: a }, id]) } };
    }
    if (url.startsWith('/jmap/upload/A1/')) return { status: 201, body: { blobId: 'b1', size: 3, type: 'text/plain' } };
    return { status: 404, body: null };
  });
  const c = new JmapClient({ fetch: f });
  await c.fetchSession();
  assert.equal(c.accountId, 'A1');
  const res = await c.call('Mailbox/get', { ids: null });
  assert.deepEqual(res.echo, { ids: null, accountId: 'A1' });
  const up = await c.upload({ type: 'text/plain' });
  assert.equal(up.blobId, 'b1');
  for (const call of f.calls) {
    assert.equal(call.init.headers['X-Postamt-CSRF'], '1', call.url);
    assert.equal(call.init.credentials, 'same-origin');
  }
  assert.equal(f.calls[1].init.method, 'POST');
  assert.equal(c.downloadUrl('B 1', 'a.pdf', 'application/pdf'), '/jmap/download/A1/B%201/a.pdf?type=application%2Fpdf');
  assert.equal(c.eventSourceUrl(['Email', 'Mailbox']), '/jmap/es?types=Email%2CMailbox&closeafter=no&ping=30');
});

test('client: 401 calls onUnauthorized; request errors carry the problem type', async () => {
  let unauth = 0;
  const f = fakeFetch((url) => {
    if (url === '/.well-known/jmap') return { status: 200, body: SESSION };
    return { status: 400, body: { type: 'urn:ietf:params:jmap:error:notRequest', status: 400 } };
  });
  const c = new JmapClient({ fetch: f, onUnauthorized: () => unauth++ });
  await c.fetchSession();
  await assert.rejects(c.call('Mailbox/get', {}), (e) => e.status === 400 && e.type === 'urn:ietf:params:jmap:error:notRequest');
  const g = new JmapClient({ fetch: fakeFetch(() => ({ status: 401, body: null })), onUnauthorized: () => unauth++ });
  await assert.rejects(g.fetchSession(), (e) => e.status === 401);
  assert.equal(unauth, 1);
});

test('setResult: the first SetError of a /set response fails, nothing else', async () => {
  const { setResult, JmapMethodError } = await import('../js/jmap.js');
  const ok = { updated: { a: null }, destroyed: ['b'] };
  assert.equal(setResult('Email/set', ok), ok);
  assert.doesNotThrow(() => setResult('Email/set', { notUpdated: {}, notDestroyed: null }));
  for (const key of ['notCreated', 'notUpdated', 'notDestroyed']) {
    assert.throws(() => setResult('Mailbox/set', { [key]: { x: { type: 'forbidden', description: 'no' } } }),
      (e) => e instanceof JmapMethodError && e.type === 'forbidden' && e.message === 'Mailbox/set: forbidden (no)');
  }
});
