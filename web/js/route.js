// route.js: the app's URLs. Every folder, message and search has one, in the
// fragment so that the server serves the same page for all of them:
//   #/folder/ID                 a folder
//   #/folder/ID/msg/EMAILID     a message in it
//   #/search/QUERY[/msg/EMAILID]  a search (QUERY as typed, percent-encoded)
// Pure: parseRoute and routeHash are inverse; app.js keeps history with them
// (pushState for a new place, replaceState for stepping within one).

const enc = (s) => encodeURIComponent(s);
const dec = (s) => {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return null; // a broken %-sequence: not a route
  }
};

// hash: location.hash. Returns {folder, search, msg} (each null when absent),
// or null when the hash is not one of ours (e.g. the skip link's #message-list).
export function parseRoute(hash) {
  const h = (hash || '').replace(/^#/, '');
  if (!h.startsWith('/')) return null;
  const parts = h.slice(1).split('/');
  const r = { folder: null, search: null, msg: null };
  let i = 0;
  if (parts[0] === 'folder' && parts.length >= 2 && parts[1]) r.folder = dec(parts[1]);
  else if (parts[0] === 'search' && parts.length >= 2) r.search = dec(parts[1]);
  else return null;
  i = 2;
  if (parts[i] === 'msg' && parts[i + 1]) r.msg = dec(parts[i + 1]);
  else if (parts.length > i && parts.slice(i).join('') !== '') return null;
  if (r.folder === null && r.search === null) return null;
  if (r.search !== null && !r.search.trim()) return null;
  return r;
}

export function routeHash({ folder = null, search = null, msg = null }) {
  let h = search ? '#/search/' + enc(search) : folder ? '#/folder/' + enc(folder) : '';
  if (h && msg) h += '/msg/' + enc(msg);
  return h;
}

// Whether going from route a to route b is a new place in history (pushState)
// or a step within the same one (replaceState): typing on in a search, or
// j/k from message to message, must not fill the Back button's list.
export function isNewPlace(a, b, { stepping = false } = {}) {
  if (!a) return true;
  if (a.search !== null && b.search !== null && a.search !== b.search) return false; // typing on
  if (a.folder !== b.folder || (a.search === null) !== (b.search === null)) return true;
  if (!b.msg) return false; // the message closed (moved, deleted)
  return !stepping && a.msg !== b.msg;
}

// The app's place in the browser's history. here(): the route the app shows
// now; follow(route): show a route the address bar went to (Back, Forward, a
// fragment typed in). Not pure: it holds window.history.
export class AddressBar {
  constructor({ here, follow, fail }) {
    this.here = here;
    this.follow = follow;
    this.fail = fail;
    this.route = null; // the route the address bar shows
    this.following = false;
    this.chain = Promise.resolve();
    this.onPop = () => { this.pop(); };
    window.addEventListener('popstate', this.onPop);
  }

  // Writes where the app is into the address bar: a new history entry for a
  // new place, else the current one replaced. Not while following one.
  go({ stepping = false } = {}) {
    const next = this.here();
    const hash = routeHash(next);
    if (!this.following && hash && hash !== location.hash) {
      if (isNewPlace(this.route, next, { stepping })) history.pushState(null, '', hash);
      else history.replaceState(null, '', hash);
    }
    this.route = next;
  }

  // One after the other: a Forward while the last one's folder still loads
  // must not be undone by the end of the last one.
  pop() {
    this.chain = this.chain.then(() => this.popNow());
    return this.chain;
  }

  async popNow() {
    const hash = location.hash;
    const r = parseRoute(hash);
    if (!r) return;
    this.following = true;
    try {
      await this.follow(r);
    } catch (e) {
      this.fail(e);
    } finally {
      this.following = false;
    }
    this.route = this.here();
    if (location.hash !== hash) return; // moved on meanwhile: the next pop follows that
    // a route that led elsewhere (a folder that is gone): the URL says where
    const h = routeHash(this.route);
    if (h && h !== hash) history.replaceState(null, '', h);
  }

  // The route of the page's URL at start (reload, bookmark, new tab), or null.
  start() {
    return parseRoute(location.hash);
  }

  // After start: the URL says where the app is (a fragment that led nowhere
  // is corrected).
  settle() {
    this.route = this.here();
    history.replaceState(null, '', routeHash(this.route) || location.pathname + location.search);
  }

  urlOf(route) {
    return location.pathname + location.search + routeHash(route);
  }

  destroy() {
    window.removeEventListener('popstate', this.onPop);
  }
}
