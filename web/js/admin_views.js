// admin_views.js: one function per admin page (admin.js routes to them). Each gets
// the <main> element and {api, arg, go, reload}, reads what it shows through the
// admin API and builds the page with dom.js's h(); actions POST and then redraw
// the page. Nothing here is trusted by the server: it validates every field again.

import { h, clear, confirmDialog, promptDialog } from './dom.js';
import { formatSize } from './format.js';
import { at, adminLang } from './admin_i18n.js';

const locale = adminLang === 'de' ? 'de-DE' : 'en-GB';

function size(n) {
  return formatSize(n || 0, locale);
}

function when(iso) {
  if (!iso || iso === 'now') return iso || '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

function age(seconds) {
  if (seconds < 120) return seconds + ' s';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min';
  if (seconds < 172800) return Math.round(seconds / 3600) + ' h';
  return Math.round(seconds / 86400) + ' d';
}

function table(id, headers, rows) {
  if (!rows.length) return h('p', { class: 'admin-empty', id: id + '-empty' }, at('none'));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'admin-table', id },
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows)));
}

function msgLine() {
  return h('p', { class: 'admin-msg', role: 'status', 'aria-live': 'polite' });
}

// Runs a change; shows its error in line (and keeps the page), or redraws.
async function act(line, fn, reload) {
  line.className = 'admin-msg';
  line.textContent = '';
  try {
    await fn();
  } catch (e) {
    line.className = 'admin-msg error';
    line.textContent = at('err.generic', { msg: e.message });
    return false;
  }
  if (reload) await reload();
  return true;
}

function field(label, attrs) {
  return h('label', null, label, h('input', attrs));
}

function state(s) {
  return h('span', { class: 'state ' + s }, at('dns.' + s));
}

function card(label, value, sub, bad, id) {
  return h('div', { class: bad ? 'card bad' : 'card', id }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, String(value)), sub ? h('div', { class: 'sub' }, sub) : null);
}

async function dashboard(main, { api }) {
  const o = await api('overview');
  const cards = [
    card(at('dash.queue'), o.queueMessages ?? '–', o.queueMessages ? at('dash.queue.sub', { age: age(o.queueOldestSeconds) }) : '',
      o.queueOldestSeconds > 3600, 'dash-queue'),
    card(at('dash.delivered'), o.deliveredLastHour, '', false, 'dash-delivered'),
    card(at('dash.refused'), o.refusedLastHour, '', false, 'dash-refused'),
    card(at('dash.bounced'), o.bouncedLastHour, '', o.bouncedLastHour > 0, 'dash-bounced'),
  ];
  if (o.disk) {
    cards.push(card(at('dash.disk'), o.disk.usedPercent + ' %', at('dash.disk.sub', { free: size(o.disk.freeBytes) }),
      o.disk.usedPercent >= 90, 'dash-disk'));
  }
  cards.push(card(at('dash.store'), size(o.storeBytes), at('dash.store.sub', { n: o.accounts }), false, 'dash-store'));
  if (o.certificate) {
    cards.push(card(at('dash.cert'), when(o.certificate.notAfter).split(',')[0], at('dash.cert.sub', { days: o.certificate.daysLeft }),
      o.certificate.daysLeft < 14, 'dash-cert'));
  }
  cards.push(card(at('dash.dns'), o.dnsProblems.length, o.dnsProblems.map((d) => d.domain).join(', '), o.dnsProblems.length > 0, 'dash-dns'));
  const parts = [h('h1', null, at('nav.dashboard')), h('div', { class: 'cards' }, cards)];
  if (o.dnsProblems.length) {
    parts.push(h('h2', null, at('dash.dns')), h('ul', { id: 'dash-dns-list' },
      o.dnsProblems.map((d) => h('li', null, h('a', { href: '#dns/' + encodeURIComponent(d.domain) }, d.domain), ': ' + d.problems))));
  }
  if (o.quotaNearlyFull.length) {
    parts.push(h('h2', null, at('dash.quota')), table('dash-quota', [at('user.address'), at('user.used'), at('user.quota')],
      o.quotaNearlyFull.map((u) => h('tr', null, h('td', null, u.address), h('td', { class: 'num' }, size(u.usedBytes)),
        h('td', { class: 'num' }, size(u.quota))))));
  }
  clear(main).append(...parts);
}

async function domains(main, { api, reload }) {
  const list = await api('domains');
  const line = msgLine();
  const input = h('input', { id: 'domain-new', type: 'text', required: true, autocomplete: 'off', maxlength: '253', placeholder: 'example.org' });
  const form = h('form', { class: 'admin-form', id: 'domain-add', onsubmit: (e) => {
    e.preventDefault();
    act(line, () => api('domains/add', { domain: input.value.trim() }), reload);
  } }, h('label', null, at('domain.name'), input), h('button', { class: 'btn primary', type: 'submit' }, at('add')));
  const rows = list.map((d) => h('tr', { dataset: { domain: d.domain } },
    h('td', null, h('a', { href: '#dns/' + encodeURIComponent(d.domain) }, d.domain)),
    h('td', { class: 'actions' },
      h('a', { class: 'btn small', href: '#dns/' + encodeURIComponent(d.domain) }, at('domain.dns')),
      h('button', { class: 'btn small', type: 'button', onclick: async () => {
        if (await act(line, () => api('dkim/rotate', { domain: d.domain }))) location.hash = '#dns/' + encodeURIComponent(d.domain);
      } }, at('domain.rotate')),
      h('button', { class: 'btn small', type: 'button', onclick: async () => {
        if (await confirmDialog(at('domain.removeConfirm', { d: d.domain }), { okLabel: at('remove'), danger: true })) {
          act(line, () => api('domains/remove', { domain: d.domain }), reload);
        }
      } }, at('remove')))));
  clear(main).append(h('h1', null, at('nav.domains')), form, line, table('domains-table', [at('domain.name'), at('actions')], rows));
}

async function dns(main, { api, arg }) {
  const domain = arg || '';
  const draw = async (check) => {
    const [recs, keys] = await Promise.all([api('dns?check=' + (check ? 1 : 0) + '&domain=' + encodeURIComponent(domain)),
      api('dkim?domain=' + encodeURIComponent(domain))]);
    const rows = recs.records.map((r) => h('tr', { class: 'rec' },
      h('td', { class: 'mono' }, r.name + '.'), h('td', null, r.type), h('td', null, r.what),
      h('td', { class: 'mono' }, r.data), h('td', null, state(r.state),
        r.found ? h('div', { class: 'muted mono' }, at('dns.found', { v: r.found })) : null,
        r.error ? h('div', { class: 'muted' }, r.error) : null)));
    const krows = keys.map((k) => h('tr', null, h('td', { class: 'mono' }, k.selector), h('td', null, k.algorithm),
      h('td', null, k.state), h('td', null, when(k.created))));
    clear(main).append(h('h1', null, at('dns.title', { d: domain })),
      h('div', { class: 'admin-form' }, h('button', { class: 'btn primary', id: 'dns-check', type: 'button', onclick: () => draw(true) }, at('dns.check'))),
      table('dns-table', [at('dns.name'), at('dns.type'), at('dns.what'), at('dns.data'), at('dns.state')], rows),
      h('h2', null, at('dkim.title')),
      table('dkim-table', [at('dkim.selector'), at('dkim.algorithm'), at('dkim.state'), at('dkim.created')], krows));
  };
  await draw(false);
}

async function users(main, { api, reload }) {
  const list = await api('users');
  const line = msgLine();
  const addr = h('input', { id: 'user-new', type: 'email', required: true, autocomplete: 'off', maxlength: '254' });
  const pass = h('input', { id: 'user-new-pass', type: 'password', required: true, autocomplete: 'new-password', maxlength: '1024' });
  const quota = h('input', { id: 'user-new-quota', type: 'text', autocomplete: 'off', placeholder: '1G', size: '6' });
  const form = h('form', { class: 'admin-form', id: 'user-add', onsubmit: (e) => {
    e.preventDefault();
    const body = { address: addr.value.trim(), password: pass.value };
    if (quota.value.trim()) body.quota = quota.value.trim();
    act(line, () => api('users/add', body), reload);
  } }, h('label', null, at('user.address'), addr), h('label', null, at('user.password'), pass),
  h('label', null, at('user.quota'), quota), h('button', { class: 'btn primary', type: 'submit' }, at('add')));
  const rows = list.map((u) => h('tr', { dataset: { address: u.address } },
    h('td', null, u.address), h('td', { class: 'num' }, size(u.usedBytes)),
    h('td', { class: 'num' }, u.quota ? size(u.quota) : at('user.unlimited')), h('td', { class: 'num' }, u.messages),
    h('td', null, u.admin ? at('yes') : at('no')),
    h('td', null, u.lastLogin ? [when(u.lastLogin.time), h('div', { class: 'muted' }, u.lastLogin.protocol + ', ' + u.lastLogin.ip)] : at('user.never')),
    h('td', { class: 'actions' },
      h('button', { class: 'btn small', type: 'button', onclick: async () => {
        const p = await promptDialog(at('user.passwordPrompt', { a: u.address }));
        if (p) act(line, () => api('users/password', { address: u.address, password: p }), reload);
      } }, at('user.setPassword')),
      h('button', { class: 'btn small', type: 'button', onclick: async () => {
        const q = await promptDialog(at('user.quotaPrompt', { a: u.address }), u.quota ? String(u.quota) : '0');
        if (q) act(line, () => api('users/quota', { address: u.address, quota: /^\d+$/.test(q) ? Number(q) : q }), reload);
      } }, at('user.setQuota')),
      h('button', { class: 'btn small', type: 'button', onclick: () => act(line, () => api('users/admin', { address: u.address, admin: !u.admin }), reload) },
        u.admin ? at('user.unmakeAdmin') : at('user.makeAdmin')),
      h('button', { class: 'btn small', type: 'button', onclick: async () => {
        const c = await promptDialog(at('user.deletePrompt', { a: u.address }));
        if (c) act(line, () => api('users/delete', { address: u.address, confirm: c }), reload);
      } }, at('delete')))));
  clear(main).append(h('h1', null, at('nav.users')), form, line,
    table('users-table', [at('user.address'), at('user.used'), at('user.quota'), at('user.messages'), at('user.admin'), at('user.lastLogin'), at('actions')], rows));
}

async function aliases(main, { api, reload }) {
  const list = await api('aliases');
  const line = msgLine();
  const addr = h('input', { id: 'alias-new', type: 'text', required: true, autocomplete: 'off', maxlength: '254' });
  const targets = h('input', { id: 'alias-targets', type: 'text', required: true, autocomplete: 'off', size: '36' });
  const form = h('form', { class: 'admin-form', id: 'alias-add', onsubmit: (e) => {
    e.preventDefault();
    const tl = targets.value.split(/[\s,]+/).filter(Boolean);
    act(line, () => api('aliases/add', { address: addr.value.trim(), targets: tl }), reload);
  } }, h('label', null, at('alias.address'), addr), h('label', null, at('alias.targets'), targets),
  h('button', { class: 'btn primary', type: 'submit' }, at('add')));
  const rows = list.map((a) => h('tr', { dataset: { address: a.address } },
    h('td', null, a.address, a.catchAll ? h('span', { class: 'muted' }, ' (' + at('alias.catchAll') + ')') : null),
    h('td', null, a.targets.join(', ')),
    h('td', { class: 'actions' }, h('button', { class: 'btn small', type: 'button', onclick: () => act(line, () => api('aliases/remove', { address: a.address }), reload) }, at('remove')))));
  clear(main).append(h('h1', null, at('nav.aliases')), form, line, table('aliases-table', [at('user.address'), at('alias.targets'), at('actions')], rows));
}

async function queue(main, { api, reload }) {
  const list = await api('queue');
  const line = msgLine();
  const rows = list.map((m) => h('tr', { dataset: { id: m.id } },
    h('td', { class: 'mono' }, m.id), h('td', null, m.sender || '<>'),
    h('td', null, m.recipients.map((r) => h('div', null, r.address + ' ', h('span', { class: 'state ' + (r.state === 'failed' ? 'failed' : '') }, r.state)))),
    h('td', { class: 'num' }, m.attempts), h('td', null, when(m.nextAttempt)),
    h('td', { class: 'mono' }, m.recipients.map((r) => r.lastError).filter(Boolean).join('; ')),
    h('td', { class: 'actions' },
      h('button', { class: 'btn small q-retry', type: 'button', onclick: () => act(line, () => api('queue/retry', { id: m.id }), reload) }, at('queue.retry')),
      h('button', { class: 'btn small q-bounce', type: 'button', onclick: async () => {
        if (await confirmDialog(at('queue.bounceConfirm', { id: m.id }), { okLabel: at('queue.bounce') })) act(line, () => api('queue/bounce', { id: m.id }), reload);
      } }, at('queue.bounce')),
      h('button', { class: 'btn small q-delete', type: 'button', onclick: async () => {
        if (await confirmDialog(at('queue.deleteConfirm', { id: m.id }), { okLabel: at('delete'), danger: true })) act(line, () => api('queue/delete', { id: m.id }), reload);
      } }, at('delete')))));
  clear(main).append(h('h1', null, at('nav.queue')), line,
    rows.length ? table('queue-table', [at('queue.id'), at('queue.sender'), at('queue.recipients'), at('queue.attempts'), at('queue.next'), at('queue.error'), at('actions')], rows)
      : h('p', { class: 'admin-empty', id: 'queue-empty' }, at('queue.empty')));
}

async function certificate(main, { api }) {
  const c = await api('certificate');
  const kv = [['cert.subject', c.subject], ['cert.issuer', c.issuer], ['cert.names', c.names], ['cert.notBefore', when(c.notBefore)],
    ['cert.notAfter', when(c.notAfter)], ['cert.daysLeft', c.daysLeft], ['cert.source', c.source]];
  clear(main).append(h('h1', null, at('nav.certificate')),
    h('div', { class: c.daysLeft < 14 ? 'card bad' : 'card' }, h('dl', { class: 'kv', id: 'cert' }, kv.map(([k, v]) => [h('dt', null, at(k)), h('dd', null, String(v))]))));
}

async function events(main, { api }) {
  const q = h('input', { id: 'events-q', type: 'search', autocomplete: 'off', maxlength: '256', placeholder: 'name@example.org' });
  const out = h('div');
  const draw = async () => {
    const list = await api('events' + (q.value.trim() ? '?q=' + encodeURIComponent(q.value.trim()) : ''));
    clear(out).append(table('events-table', [at('events.time'), at('events.what'), at('events.from'), at('events.to'), at('events.detail')],
      list.map((e) => h('tr', null, h('td', null, when(e.time)), h('td', null, e.what), h('td', null, e.from), h('td', null, e.to),
        h('td', { class: 'mono' }, e.detail)))));
  };
  const form = h('form', { class: 'admin-form', role: 'search', onsubmit: (e) => { e.preventDefault(); draw(); } },
    h('label', null, at('events.search'), q), h('button', { class: 'btn primary', type: 'submit' }, at('events.search')));
  clear(main).append(h('h1', null, at('nav.events')), form, out);
  await draw();
}

async function spam(main, { api }) {
  const s = await api('spam');
  const verdicts = ['accepted', 'junk', 'refused', 'tempfail'];
  const rec = Object.entries(s.received).map(([k, v]) => h('tr', null, h('td', null, k), verdicts.map((x) => h('td', { class: 'num' }, v[x]))));
  const ref = Object.entries(s.refused).map(([k, v]) => h('tr', null, h('td', null, k), h('td', { class: 'num' }, v)));
  const jf = s.junkFilters.map((f) => h('tr', null, h('td', null, f.address), h('td', null, f.enabled ? at('yes') : at('no')),
    h('td', { class: 'num' }, f.learnedSpam), h('td', { class: 'num' }, f.learnedHam)));
  clear(main).append(h('h1', null, at('nav.spam')),
    h('h2', null, at('spam.received')), table('spam-received', [at('spam.kind'), ...verdicts], rec),
    h('h2', null, at('spam.refused')), table('spam-refused', [at('spam.reason'), at('spam.count')], ref),
    h('h2', null, at('spam.filters')), table('spam-filters', [at('user.address'), at('spam.enabled'), at('spam.learnedSpam'), at('spam.learnedHam')], jf));
}

export const VIEWS = { dashboard, domains, dns, users, aliases, queue, certificate, events, spam };
