// main.js: start-up. Checks the session, shows the login page or the mail app.
//
// Server contract (postamt webd): POST /api/login {username, password} -> 200
// {username, accountId} and an HttpOnly cookie, 401 {error}, 429 when too many
// failures; POST /api/logout; POST /api/logout-everywhere (ends every session of
// the account); GET /api/session-check -> 200 or 401. Every
// request carries X-Postamt-CSRF: 1. Mail itself is plain JMAP.

import { h, clear, icon } from './dom.js';
import { t, lang } from './i18n.js';
import { CSRF_HEADER } from './jmap.js';
import { startApp } from './app.js';
import { reloginDialog } from './relogin.js';

const root = document.getElementById('app');
document.documentElement.lang = lang;
document.title = 'postamt';

export function api(path, body) {
  return fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: Object.assign({ [CSRF_HEADER]: '1' }, body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
}

// DOMPurify is served by the server at /static/vendor/purify.min.js (from
// Debian's node-dompurify). If it is missing, HTML mail is shown as text.
function loadPurifier() {
  return new Promise((resolve) => {
    if (window.DOMPurify) return resolve(true);
    const s = document.createElement('script');
    s.src = '/static/vendor/purify.min.js';
    s.onload = () => resolve(!!window.DOMPurify);
    s.onerror = () => resolve(false);
    document.head.append(s);
  });
}

function showLogin(notice) {
  document.body.className = 'page-login';
  clear(root);
  const user = h('input', { id: 'login-user', name: 'username', type: 'email', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', inputmode: 'email' });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'login-error', role: 'alert', id: 'login-error' });
  if (notice) err.textContent = notice;
  const btn = h('button', { type: 'submit', class: 'btn primary wide' }, t('login.submit'));
  const form = h('form', { class: 'login-card', 'aria-labelledby': 'login-title', novalidate: true },
    h('div', { class: 'brand' }, icon('mail', 'brand-icon'), h('span', null, 'postamt')),
    h('h1', { id: 'login-title' }, t('login.title')),
    h('p', { class: 'muted' }, t('login.intro')),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, t('login.address')), user),
    h('div', { class: 'field' }, h('label', { for: 'login-pass' }, t('login.password')), pass),
    err, btn,
    h('p', { class: 'login-hint' }, t('login.publicHint')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (!user.value.trim() || !pass.value) {
      err.textContent = t('login.failed');
      (user.value.trim() ? pass : user).focus();
      return;
    }
    btn.disabled = true;
    btn.textContent = t('login.busy');
    let res;
    try {
      res = await api('/api/login', { username: user.value.trim(), password: pass.value });
    } catch (ex) {
      res = null;
    }
    btn.disabled = false;
    btn.textContent = t('login.submit');
    if (res && res.ok) {
      let info = {};
      try {
        info = await res.json();
      } catch (ex) {
        info = {};
      }
      pass.value = '';
      enter(info.username || user.value.trim());
      return;
    }
    err.textContent = !res ? t('login.network') : res.status === 429 ? t('login.tooMany') : res.status === 401 || res.status === 400 ? t('login.failed') : t('login.network');
    pass.value = '';
    pass.focus();
    user.setAttribute('aria-invalid', res && res.status === 401 ? 'true' : 'false');
  });
  root.append(h('main', { class: 'login-page' }, form));
  (user.value ? pass : user).focus();
}

let app = null;

async function enter(username) {
  const purifier = await loadPurifier();
  document.body.className = 'page-app';
  clear(root);
  app = await startApp(root, {
    username,
    purifier,
    onLogout: logout,
    onLogoutEverywhere: () => logout('/api/logout-everywhere'),
    // The session ended under an open app: sign in again over it (the page and
    // an open compose stay); resolves true when the app may go on.
    onExpired: async () => {
      if (app && username && (await reloginDialog({ username, api, t }))) return true;
      if (app) app.destroy();
      app = null;
      showLogin(t('login.expired'));
      return false;
    },
  });
}

async function logout(path = '/api/logout') {
  try {
    await api(path, {});
  } catch (e) {
    /* gone anyway */
  }
  if (app) app.destroy();
  app = null;
  showLogin();
}

async function boot() {
  let res = null;
  try {
    res = await api('/api/session-check');
  } catch (e) {
    res = null;
  }
  if (res && res.ok) {
    let info = {};
    try {
      info = await res.json();
    } catch (e) {
      info = {};
    }
    enter(info.username || '');
  } else {
    showLogin(res ? '' : t('login.network'));
  }
}

boot();
