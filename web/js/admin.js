// admin.js: the admin pages at /admin (docs/admin.md): the frame (top bar with the
// areas, the view under it), the router (#dashboard, #domains, #dns/DOMAIN, ...)
// and the API client. The server sends this page only to admins (others get 404)
// and checks the admin flag again on every API request; the page never decides
// what an account may do.
//
// API contract (docs/admin-api.md): GET /admin/api/AREA reads, POST
// /admin/api/AREA/ACTION with a JSON object changes; every POST carries
// X-Postamt-CSRF: 1 (the login cookie is SameSite=Strict too). Errors are
// {"error": TEXT} with 400, 403, 404, 405, 409, 429 or 503.

import { h, clear } from './dom.js';
import { at, adminLang } from './admin_i18n.js';
import { VIEWS } from './admin_views.js';

const AREAS = ['dashboard', 'domains', 'users', 'aliases', 'queue', 'certificate', 'events', 'spam'];

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET when body is undefined, else POST with body as JSON. Resolves with the
// decoded answer; rejects with ApiError.
export async function api(path, body) {
  const opts = { credentials: 'same-origin', headers: { 'X-Postamt-CSRF': '1' } };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/admin/api/' + path, opts);
  } catch (e) {
    throw new ApiError(0, String(e));
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || res.statusText);
  return data;
}

function topbar(current, me) {
  return h('header', { class: 'topbar admin-top' },
    h('span', { class: 'brand' }, 'postamt · ' + at('title')),
    h('nav', { class: 'admin-nav', 'aria-label': at('title') },
      AREAS.map((a) => h('a', { href: '#' + a, id: 'nav-' + a, 'aria-current': a === current ? 'page' : null }, at('nav.' + a)))),
    h('span', { class: 'account-name', title: me.address }, me.address),
    h('a', { class: 'btn small', href: '/' }, at('mailbox')));
}

function denied(app, text, link) {
  clear(app).append(h('div', { class: 'admin-denied card' }, h('p', { id: 'admin-denied' }, text),
    link ? h('a', { class: 'btn primary', href: '/' }, at('err.login.link')) : null));
}

let me = null;

async function route() {
  const app = document.getElementById('app');
  const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || 'dashboard';
  const [area, arg] = hash.split('/', 2);
  const view = VIEWS[area] || VIEWS.dashboard;
  const current = AREAS.includes(area) ? area : area === 'dns' ? 'domains' : 'dashboard';
  const main = h('main', { class: 'admin-main', id: 'admin-main', 'aria-busy': 'true' }, h('p', { class: 'muted' }, at('loading')));
  clear(app).append(topbar(current, me), main);
  try {
    await view(main, { api, arg, go: (h2) => { location.hash = h2; }, reload: route });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return denied(app, at('err.login'), true);
    if (e instanceof ApiError && e.status === 403) return denied(app, at('err.denied'), false);
    clear(main).append(h('p', { class: 'admin-msg error', role: 'alert' }, at('err.generic', { msg: e.message })));
  } finally {
    main.setAttribute('aria-busy', 'false');
  }
}

async function start() {
  document.documentElement.lang = adminLang;
  document.title = 'postamt · ' + at('title');
  const app = document.getElementById('app');
  try {
    me = await api('me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return denied(app, at('err.login'), true);
    return denied(app, e.status === 403 ? at('err.denied') : at('err.generic', { msg: e.message }), false);
  }
  window.addEventListener('hashchange', route);
  await route();
}

start();
