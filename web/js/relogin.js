// relogin.js: signing in again over the open app when the session has really
// ended (signed out elsewhere, password changed, expired). A modal dialog on top
// of everything, the compose window included, so the page and any unsent
// message stay as they are; the address is fixed to the account that was
// signed in (another person signs in from the login page, with a fresh app).

import { h } from './dom.js';

// Resolves true once signed in again as username, false when the user chose to
// sign in as someone else. api(path, body) is main.js's fetch wrapper.
export function reloginDialog({ username, api, t }) {
  return new Promise((resolve) => {
    const pass = h('input', { id: 'relogin-pass', type: 'password', autocomplete: 'current-password', required: true });
    const user = h('input', { id: 'relogin-user', type: 'email', autocomplete: 'username', value: username, readonly: true });
    const err = h('p', { class: 'login-error', role: 'alert', id: 'relogin-error' });
    const btn = h('button', { type: 'submit', class: 'btn primary' }, t('login.submit'));
    const other = h('button', { type: 'button', class: 'btn subtle', id: 'relogin-other' }, t('relogin.other'));
    const form = h('form', { class: 'relogin', novalidate: true },
      h('h2', { id: 'relogin-title' }, t('relogin.title')),
      h('p', { class: 'muted', id: 'relogin-intro' }, t('relogin.intro')),
      h('div', { class: 'field' }, h('label', { for: 'relogin-user' }, t('login.address')), user),
      h('div', { class: 'field' }, h('label', { for: 'relogin-pass' }, t('login.password')), pass),
      err, h('div', { class: 'relogin-actions' }, btn, other));
    const dlg = h('dialog', { class: 'relogin-dialog', id: 'relogin', 'aria-labelledby': 'relogin-title', 'aria-describedby': 'relogin-intro' }, form);
    const done = (ok) => {
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    // Escape would leave the app without a session: it stays open
    dlg.addEventListener('cancel', (e) => e.preventDefault());
    other.addEventListener('click', () => done(false));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      if (!pass.value) { err.textContent = t('login.failed'); pass.focus(); return; }
      btn.disabled = true;
      let res = null;
      try {
        res = await api('/api/login', { username, password: pass.value });
      } catch (ex) {
        res = null;
      }
      btn.disabled = false;
      if (res && res.ok) {
        pass.value = '';
        done(true);
        return;
      }
      err.textContent = !res ? t('login.network') : res.status === 429 ? t('login.tooMany') : res.status === 401 || res.status === 400 ? t('login.failed') : t('login.network');
      pass.value = '';
      pass.focus();
    });
    document.body.append(dlg);
    dlg.showModal();
    pass.focus();
  });
}
