// jmap.js: a small JMAP client (RFC 8620 core, RFC 8621 mail).
//
// Pure parts (request building with back-references, URI template expansion,
// response matching, the text/event-stream parser) have no DOM or network
// dependency and are unit-tested under Node. JmapClient adds the network: it
// takes a fetch function, so tests and the browser share one code path.

export const CAP = {
  core: 'urn:ietf:params:jmap:core',
  mail: 'urn:ietf:params:jmap:mail',
  submission: 'urn:ietf:params:jmap:submission',
  quota: 'urn:ietf:params:jmap:quota',
  sieve: 'urn:ietf:params:jmap:sieve',
  vacation: 'urn:ietf:params:jmap:vacationresponse',
  junk: 'urn:postamt:params:jmap:junk',
  settings: 'urn:postamt:params:jmap:settings',
  contacts: 'urn:postamt:params:jmap:contacts',
};

// Header every request of ours carries (the server's CSRF check).
export const CSRF_HEADER = 'X-Postamt-CSRF';

// Which capability a method needs (RFC 8621 section 1.3, RFC 9425, RFC 9661;
// JunkSettings, Settings and ContactSuggestion are postamt's own).
export function capabilityFor(method) {
  const type = method.split('/')[0];
  if (type === 'Core') return CAP.core;
  if (type === 'EmailSubmission' || type === 'Identity') return CAP.submission;
  if (type === 'Quota') return CAP.quota;
  if (type === 'SieveScript') return CAP.sieve;
  if (type === 'VacationResponse') return CAP.vacation;
  if (type === 'JunkSettings') return CAP.junk;
  if (type === 'Settings') return CAP.settings;
  if (type === 'ContactSuggestion') return CAP.contacts;
  return CAP.mail;
}

// RFC 6570 level 1 expansion, as RFC 8620 section 2 requires for downloadUrl,
// uploadUrl and eventSourceUrl. Every variable value is percent-encoded
// (unreserved characters stay); unknown variables expand to "".
export function expandUriTemplate(template, vars) {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name) => {
    const v = vars[name];
    if (v === undefined || v === null) return '';
    return encodeURIComponent(String(v)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  });
}

// A method call inside a request; ref() makes a ResultReference (RFC 8620 3.7).
export class Call {
  constructor(name, args, id) {
    this.name = name;
    this.args = args;
    this.id = id;
  }
  ref(path, name) {
    return { resultOf: this.id, name: name || this.name, path };
  }
}

// Builds one JMAP request: calls in order, ids c0, c1, ...; the "using" list is
// the capabilities of the methods used (core always).
export class RequestBuilder {
  constructor() {
    this.calls = [];
  }
  call(name, args) {
    const c = new Call(name, args || {}, 'c' + this.calls.length);
    this.calls.push(c);
    return c;
  }
  build() {
    const using = new Set([CAP.core]);
    for (const c of this.calls) using.add(capabilityFor(c.name));
    return {
      using: [...using],
      methodCalls: this.calls.map((c) => [c.name, c.args, c.id]),
    };
  }
}

// A method-level error ("error" response, RFC 8620 3.6.2).
export class JmapMethodError extends Error {
  constructor(call, err) {
    super(`${call}: ${err.type}${err.description ? ' (' + err.description + ')' : ''}`);
    this.type = err.type;
    this.detail = err;
  }
}

// A /set response (RFC 8620 section 5.3) whose notCreated, notUpdated or
// notDestroyed is not empty fails as its first SetError; res otherwise.
export function setResult(call, res) {
  const errs = Object.values(Object.assign({}, res.notCreated, res.notUpdated, res.notDestroyed));
  if (errs.length) throw new JmapMethodError(call, errs[0]);
  return res;
}

// A request-level failure: HTTP status, and the problem details if any.
export class JmapRequestError extends Error {
  constructor(status, body) {
    const type = body && typeof body === 'object' && body.type ? body.type : '';
    super(`HTTP ${status}${type ? ' ' + type : ''}`);
    this.status = status;
    this.type = type;
    this.body = body;
  }
}

// Matches methodResponses to the builder's calls. Returns an object with
// get(call) -> arguments (throws JmapMethodError on an error response) and
// all(call) -> every response with that call id (a method may add implicit
// calls with the same id, e.g. EmailSubmission/set's implicit Email/set).
export function matchResponses(builder, response) {
  if (!response || !Array.isArray(response.methodResponses)) {
    throw new JmapRequestError(200, { type: 'notAResponse' });
  }
  const byId = new Map();
  for (const r of response.methodResponses) {
    if (!Array.isArray(r) || r.length !== 3) continue;
    const [name, args, id] = r;
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id).push({ name, args });
  }
  return {
    sessionState: response.sessionState,
    all(call) {
      return byId.get(call.id) || [];
    },
    get(call) {
      const list = byId.get(call.id) || [];
      const err = list.find((r) => r.name === 'error');
      if (err) throw new JmapMethodError(call.name, err.args || {});
      const mine = list.find((r) => r.name === call.name) || list[0];
      if (!mine) throw new JmapMethodError(call.name, { type: 'missingResponse' });
      return mine.args;
    },
    error(call) {
      const list = byId.get(call.id) || [];
      const err = list.find((r) => r.name === 'error');
      return err ? err.args : null;
    },
  };
}

// Incremental text/event-stream parser (HTML Living Standard, "server-sent
// events"). feed() takes decoded text in any chunking; onEvent receives
// {type, data, id} for each dispatched event.
export function createSseParser(onEvent) {
  let buf = '';
  let data = [];
  let type = '';
  let lastId = '';
  let sawData = false;
  let skipLF = false;
  function line(l) {
    if (l === '') {
      if (sawData) onEvent({ type: type || 'message', data: data.join('\n'), id: lastId });
      data = [];
      type = '';
      sawData = false;
      return;
    }
    if (l[0] === ':') return;
    const colon = l.indexOf(':');
    let field = l;
    let value = '';
    if (colon >= 0) {
      field = l.slice(0, colon);
      value = l.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
    }
    if (field === 'data') {
      data.push(value);
      sawData = true;
    } else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
  }
  return {
    feed(text) {
      // A CR ends a line at once; an LF right after it (maybe in the next
      // chunk) belongs to the same line end.
      if (skipLF && text[0] === '\n') text = text.slice(1);
      skipLF = false;
      buf += text;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        if (!m) break;
        line(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
        if (m[0] === '\r' && buf === '') skipLF = true;
      }
    },
    get lastEventId() {
      return lastId;
    },
  };
}

// From a StateChange object (RFC 8620 7.1), the types whose state differs from
// `known` (a map type -> state) for accountId.
export function changedTypes(stateChange, accountId, known) {
  if (!stateChange || stateChange['@type'] !== 'StateChange' || !stateChange.changed) return [];
  const acc = stateChange.changed[accountId];
  if (!acc) return [];
  return Object.keys(acc).filter((t) => known[t] !== acc[t]);
}

// The client. opts: {fetch, sessionUrl, onUnauthorized}
export class JmapClient {
  constructor(opts = {}) {
    this.fetch = opts.fetch || ((...a) => globalThis.fetch(...a));
    this.sessionUrl = opts.sessionUrl || '/.well-known/jmap';
    this.onUnauthorized = opts.onUnauthorized || (() => {});
    this.session = null;
    this.accountId = null;
  }

  headers(extra) {
    return Object.assign({ [CSRF_HEADER]: '1' }, extra || {});
  }

  async fetchSession() {
    const res = await this.fetch(this.sessionUrl, {
      credentials: 'same-origin',
      headers: this.headers({ Accept: 'application/json' }),
    });
    if (res.status === 401) {
      this.onUnauthorized();
      throw new JmapRequestError(401, null);
    }
    if (!res.ok) throw new JmapRequestError(res.status, null);
    const s = await res.json();
    this.session = s;
    const prim = s.primaryAccounts || {};
    this.accountId = prim[CAP.mail] || Object.keys(s.accounts || {})[0] || null;
    return s;
  }

  hasCapability(cap) {
    return !!(this.session && this.session.capabilities && this.session.capabilities[cap]);
  }

  accountCapability(cap) {
    const acc = this.session && this.session.accounts && this.session.accounts[this.accountId];
    return (acc && acc.accountCapabilities && acc.accountCapabilities[cap]) || null;
  }

  // Sends a built request; returns matchResponses(). Adds accountId to every
  // call that lacks it.
  async send(builder) {
    for (const c of builder.calls) {
      if (c.args.accountId === undefined && this.accountId) c.args.accountId = this.accountId;
    }
    const body = builder.build();
    const res = await this.fetch(this.session.apiUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: this.headers({ 'Content-Type': 'application/json', Accept: 'application/json' }),
      body: JSON.stringify(body),
    });
    if (res.status === 401) {
      this.onUnauthorized();
      throw new JmapRequestError(401, null);
    }
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    if (!res.ok) throw new JmapRequestError(res.status, json);
    return matchResponses(builder, json);
  }

  // Convenience: one method call, returns its arguments.
  async call(name, args) {
    const b = new RequestBuilder();
    const c = b.call(name, args);
    const r = await this.send(b);
    return r.get(c);
  }

  downloadUrl(blobId, name, type) {
    return expandUriTemplate(this.session.downloadUrl, {
      accountId: this.accountId,
      blobId,
      name: name || 'download',
      type: type || 'application/octet-stream',
    });
  }

  // Uploads a Blob/File; returns {blobId, type, size}. onProgress is not
  // available with fetch; callers show an indeterminate state.
  async upload(blob, type) {
    const url = expandUriTemplate(this.session.uploadUrl, { accountId: this.accountId });
    const res = await this.fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: this.headers({ 'Content-Type': type || blob.type || 'application/octet-stream' }),
      body: blob,
    });
    if (res.status === 401) {
      this.onUnauthorized();
      throw new JmapRequestError(401, null);
    }
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    if (!res.ok) throw new JmapRequestError(res.status, json);
    return json;
  }

  eventSourceUrl(types) {
    return expandUriTemplate(this.session.eventSourceUrl, {
      types: (types || ['*']).join(','),
      closeafter: 'no',
      ping: 30,
    });
  }
}

// Push: reads the event source with fetch (so it carries our header and
// cookie), parses it, reconnects with backoff. onState(stateChange) for every
// "state" event; onStatus(connected:boolean). Returns {close()}.
export function openPush(client, { onState, onStatus, types, setTimeout: st, TextDecoder: TD } = {}) {
  const sleep = st || globalThis.setTimeout;
  const Decoder = TD || globalThis.TextDecoder;
  let closed = false;
  let controller = null;
  let delay = 1000;
  async function run() {
    while (!closed) {
      controller = new AbortController();
      try {
        const res = await client.fetch(client.eventSourceUrl(types), {
          credentials: 'same-origin',
          headers: client.headers({ Accept: 'text/event-stream' }),
          signal: controller.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          client.onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error('push: HTTP ' + res.status);
        onStatus && onStatus(true);
        delay = 1000;
        const parser = createSseParser((ev) => {
          if (ev.type !== 'state') return;
          try {
            onState(JSON.parse(ev.data));
          } catch (e) {
            /* a malformed event is skipped */
          }
        });
        const reader = res.body.getReader();
        const dec = new Decoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(dec.decode(value, { stream: true }));
        }
      } catch (e) {
        if (closed) return;
      }
      onStatus && onStatus(false);
      if (closed) return;
      await new Promise((r) => sleep(r, delay));
      delay = Math.min(delay * 2, 30000);
      // After a gap, let the app resynchronise everything once.
      onState && onState(null);
    }
  }
  run();
  return {
    close() {
      closed = true;
      if (controller) controller.abort();
    },
  };
}
