// prefs.js: the account's webmail preferences (postamt's Settings/get|set,
// urn:postamt:params:jmap:settings), loaded once per page and applied: density
// as a class on <body>, the language remembered in the browser for i18n.js (it
// applies at the next load). Without the capability the defaults hold.

import { CAP } from './jmap.js';

export const DEFAULTS = { showImagesFromKnown: false, notifications: false, density: 'comfortable', language: '', undoSendSeconds: 5, imagesFrom: [] };

let current = Object.assign({}, DEFAULTS);
let loading = null;

export function prefs() {
  return current;
}

function apply(p) {
  if (typeof document !== 'undefined' && document.body) document.body.classList.toggle('density-compact', p.density === 'compact');
  try {
    if (p.language) localStorage.setItem('postamt.lang', p.language);
    else localStorage.removeItem('postamt.lang');
  } catch (e) {
    /* storage refused: the browser's language stays */
  }
}

// Loads the preferences (once; later calls share the first).
export function loadPrefs(client) {
  if (!client.hasCapability(CAP.settings)) return Promise.resolve(current);
  if (!loading) {
    loading = client.call('Settings/get', { ids: ['singleton'] }).then((r) => {
      current = Object.assign({}, DEFAULTS, (r.list || [])[0] || {});
      apply(current);
      return current;
    }).catch((e) => { loading = null; throw e; });
  }
  return loading;
}

// Saves a change; resolves to the new preferences, or throws the SetError.
export async function savePrefs(client, patch) {
  const r = await client.call('Settings/set', { update: { singleton: patch } });
  const err = (r.notUpdated || {}).singleton;
  if (err) {
    const e = new Error(err.description || err.type);
    e.type = err.type;
    e.detail = err;
    throw e;
  }
  current = Object.assign({}, current, patch);
  apply(current);
  return current;
}
