// app.js: the mail app after login. Folder list, message list, reading pane,
// actions, live updates (JMAP push) and keyboard shortcuts. The reading pane
// and the compose window live in reader.js and compose.js, what the actions do
// (and their undo) in mailactions.js, the folder tree in folders.js.

import { h, clear, icon, iconButton, confirmDialog, infoDialog } from './dom.js';
import { showBidi } from './bidi.js';
import { t, lang } from './i18n.js';
import { JmapClient, RequestBuilder, openPush, CAP } from './jmap.js';
import { mailboxTree, findRole } from './mailboxes.js';
import { FolderList, ROLE_ICON } from './folders.js';
import { parseQuery, wantsSnippets } from './search.js';
import { SearchBox } from './searchbox.js';
import { AddressBar } from './route.js';
import { formatSize } from './format.js';
import { newState, setMailboxes, removeId, toggleCheck as stateToggleCheck, checkRange as stateCheckRange,
  pruneChecks, checkedIds, stepIndex, threadCount } from './state.js';
import { conversationsOn, setConversations } from './conversation.js';
import { seenToggle } from './actions.js';
import { mailActions } from './mailactions.js';
import { ListView } from './listview.js';
import { ListSync, PAGE } from './listsync.js';
import { keyAction, isAppKey, LIST_KEYS, HELP } from './keys.js';
import { Reader } from './reader.js';
import { Composer } from './compose.js';
import { showClients } from './clientsview.js';
import { openSettings } from './settings.js';
import { errorText, isNetworkError } from './errors.js';
import { loadPrefs, prefs } from './prefs.js';
import { noticeInbox } from './notify.js';

export async function startApp(root, { username, purifier, onLogout, onLogoutEverywhere, onExpired }) {
  const client = new JmapClient({ onUnauthorized: () => expired() });
  let expiredOnce = false;
  const expired = () => {
    if (expiredOnce) return;
    expiredOnce = true;
    // signed in again over the open page (main.js): go on where we were
    Promise.resolve(onExpired()).then((ok) => { if (ok) { expiredOnce = false; refresh(); } });
  };
  await client.fetchSession();
  const prefsLoaded = loadPrefs(client).catch(() => {}); // the list waits for it (conversations)
  const phone = window.matchMedia('(max-width: 760px)');

  const state = newState(username || client.session.username || '');

  // ---- layout -----------------------------------------------------------
  const toastRegion = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  const offline = h('div', { class: 'offline', role: 'status', hidden: true }, t('status.offline'));
  const searchBox = new SearchBox({
    t, phone, onSearch: (q) => { if (q !== state.search) runSearch(q); },
    folders: () => mailboxTree(state.mailboxes, lang).map(({ mailbox, depth }) => ({ label: mailboxName(mailbox), value: mailbox.name, depth })),
  });
  const searchInput = searchBox.input;
  const topbar = h('header', { class: 'topbar' },
    iconButton('menu', t('menu'), () => document.body.classList.toggle('nav-open'), { class: 'icon-btn only-phone', 'aria-controls': 'sidebar' }),
    h('div', { class: 'brand' }, icon('mail', 'brand-icon'), h('span', null, 'postamt')),
    searchBox.form,
    h('div', { class: 'account' },
      iconButton('keyboard', t('shortcuts.title'), () => showHelp(), { class: 'icon-btn hide-phone' }),
      iconButton('sliders', t('settings.title'), () => showSettings(), { id: 'settings-btn' }),
      iconButton('settings', t('clients.title'), () => showClients({ client, t, username: state.username }), { id: 'clients-btn' }),
      h('span', { class: 'account-name hide-phone', title: t('user', { name: state.username }) }, state.username),
      iconButton('logoutAll', t('logoutEverywhere'), async () => {
        if (await confirmDialog(t('logoutEverywhere.confirm'), { okLabel: t('logoutEverywhere'), danger: true })) onLogoutEverywhere();
      }, { id: 'logout-everywhere', class: 'icon-btn hide-phone' }),
      iconButton('logout', t('logout'), () => onLogout(), { id: 'logout' })));

  const folderList = h('ul', { class: 'folders', role: 'list' });
  const quota = h('div', { class: 'quota', hidden: true });
  const sidebar = h('nav', { class: 'sidebar', id: 'sidebar', 'aria-label': t('folders') },
    h('button', { type: 'button', class: 'btn primary compose-btn', onclick: () => compose({}) }, icon('compose'), h('span', null, t('compose'))),
    folderList,
    h('button', { type: 'button', class: 'btn subtle new-folder', onclick: () => folders.create() }, icon('plus'), h('span', null, t('folder.new'))),
    quota);
  const scrim = h('div', { class: 'scrim', onclick: () => document.body.classList.remove('nav-open') });

  // the page's one h1 names the folder or the search shown (the reader's subject is an h2)
  const listTitle = h('h1', { class: 'list-title', id: 'list-title' });
  const listCount = h('span', { class: 'list-count muted' });
  const sortSelect = h('select', { class: 'sort', 'aria-label': t('list.sort') },
    h('option', { value: 'desc' }, t('list.newest')), h('option', { value: 'asc' }, t('list.oldest')));
  sortSelect.addEventListener('change', () => { state.ascending = sortSelect.value === 'asc'; openList(); });
  // Messages or conversations (conversation.js; the reader's button is the same choice)
  const convBtn = iconButton('thread', t('list.conversations'), () => setConversations(!conversationsOn(), client).catch(fail),
    { id: 'list-conv-toggle', class: 'icon-btn' });
  const showConvChoice = () => { convBtn.setAttribute('aria-pressed', String(conversationsOn())); convBtn.classList.toggle('on', conversationsOn()); };
  window.addEventListener('postamt:conversations', onConversations);
  function onConversations() { showConvChoice(); openList(); }
  const emptyBtn = h('button', { type: 'button', class: 'btn subtle small', hidden: true, onclick: () => acts.emptyFolder() });
  const rows = h('div', { class: 'rows', role: 'listbox', tabindex: '0', 'aria-labelledby': 'list-title', id: 'message-list', 'aria-multiselectable': 'true' });
  const bulkCount = h('span', { class: 'bulk-count', 'aria-live': 'polite' });
  // "Spam", or "Not spam" in the Junk folder (renderFolders sets which)
  const bulkJunkBtn = iconButton('junk', t('junk'), () => acts.bulk(inJunkFolder() ? 'notjunk' : 'junk'));
  const bulkBar = h('div', { class: 'bulk', role: 'toolbar', 'aria-label': t('bulk.label'), hidden: true },
    iconButton('close', t('bulk.clear'), () => clearChecks(), { class: 'icon-btn' }), bulkCount,
    h('span', { class: 'bulk-actions' },
      iconButton('mailOpen', t('markRead'), () => acts.bulk('read')), iconButton('mail', t('markUnread'), () => acts.bulk('unread')),
      iconButton('flag', t('flag'), () => acts.bulk('flag')), iconButton('archive', t('archive'), () => acts.bulk('archive')),
      iconButton('move', t('move'), () => acts.bulk('move')), bulkJunkBtn,
      iconButton('trash', t('delete'), () => acts.bulk('delete'))));
  const listStatus = h('p', { class: 'list-status muted' });
  const listScroll = h('div', { class: 'list-scroll' }, rows, listStatus);
  const listPane = h('section', { class: 'list-pane', 'aria-labelledby': 'list-title' },
    h('div', { class: 'list-head' }, h('div', { class: 'list-heading' }, listTitle, listCount), h('div', { class: 'list-tools' }, emptyBtn, convBtn, sortSelect)),
    searchBox.bar,
    bulkBar,
    listScroll);

  const readerPane = h('section', { class: 'reader-pane', 'aria-label': t('reader.htmlFrame'), id: 'reader' });
  const fab = h('button', { type: 'button', class: 'fab only-phone', 'aria-label': t('compose'), title: t('compose'), onclick: () => compose({}) }, icon('compose'));
  const main = h('main', { class: 'layout' }, sidebar, scrim, listPane, readerPane, fab);
  root.append(h('a', { class: 'skip', href: '#message-list' }, t('skip')), topbar, offline, main, toastRegion);

  // ---- helpers ------------------------------------------------------------
  // action: {label, run}: a button in the toast (Undo); returns the toast.
  function toast(text, { error = false, action = null, ms = 0 } = {}) {
    const el = h('div', { class: 'toast' + (error ? ' error' : '') + (action ? ' with-action' : '') }, h('span', null, text),
      action ? h('button', { type: 'button', class: 'btn small toast-action', onclick: () => { el.remove(); action.run(); } }, action.label) : null);
    toastRegion.append(el);
    setTimeout(() => el.remove(), ms || (error ? 8000 : 4000));
    return el;
  }
  function fail(e) {
    if (e && e.status === 401) return;
    console.error(e);
    // no answer at all: the one offline banner, not a toast per failed request
    if (isNetworkError(e)) { offline.hidden = false; return; }
    toast(errorText(e, t, lang), { error: true });
  }
  const role = (r) => findRole(state.mailboxes, r);
  const mailboxName = (m) => (m.role && ROLE_ICON[m.role] && !m.parentId ? t('folder.' + m.role) : m.name);
  const isIn = (email, r) => { const m = role(r); return !!(m && email.mailboxIds && email.mailboxIds[m.id]); };
  const inJunkFolder = () => { const cur = state.byId.get(state.current); return !!cur && cur.role === 'junk' && !state.search; };

  // ---- mailboxes --------------------------------------------------------
  const folders = new FolderList(folderList, {
    state, client, t, lang, mailboxName, fail, toast, reload: () => loadMailboxes(),
    onSelect: (id) => { selectMailbox(id); document.body.classList.remove('nav-open'); },
    onDrop: (emailId, id) => acts.moveEmail(emailId, id),
    inbox: () => (role('inbox') || {}).id,
  });
  async function loadMailboxes() {
    const b = new RequestBuilder();
    const g = b.call('Mailbox/get', { ids: null, properties: ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails', 'myRights'] });
    const r = await client.send(b);
    const res = r.get(g);
    state.known.Mailbox = res.state;
    setMailboxes(state, res.list);
    renderFolders();
    noticeInbox(state.mailboxes, prefs().notifications, t);
  }

  function renderFolders() {
    folders.render();
    const cur = state.byId.get(state.current);
    listTitle.textContent = state.search ? t('search.results') : cur ? mailboxName(cur) : '';
    document.title = state.search ? showBidi(state.search) + ' – ' + t('search.results') + ' – postamt'
      : (cur && cur.unreadEmails && cur.role === 'inbox' ? `(${cur.unreadEmails}) ` : '') + (cur ? showBidi(mailboxName(cur)) + ' – ' : '') + 'postamt';
    const notJunk = inJunkFolder();
    bulkJunkBtn.setAttribute('aria-label', notJunk ? t('notJunk') : t('junk'));
    bulkJunkBtn.title = notJunk ? t('notJunk') : t('junk');
    bulkJunkBtn.setAttribute('aria-pressed', notJunk ? 'true' : 'false');
    const r = cur && (cur.role === 'trash' || cur.role === 'junk') ? cur.role : null;
    emptyBtn.hidden = !r || state.search || !cur.totalEmails; // nothing to empty (review B11)
    emptyBtn.textContent = r === 'junk' ? t('folder.emptyJunk') : t('folder.emptyTrash');
  }

  async function loadQuota() {
    if (!client.hasCapability(CAP.quota)) return;
    try {
      const res = await client.call('Quota/get', { ids: null });
      const q = (res.list || []).find((x) => x.resourceType === 'octets') || null;
      clear(quota);
      if (!q) { quota.hidden = true; return; }
      quota.hidden = false;
      const limit = q.hardLimit || q.limit || 0;
      const used = q.used || 0;
      const text = limit ? t('quota.used', { used: formatSize(used, lang), limit: formatSize(limit, lang) }) : t('quota.usedNoLimit', { used: formatSize(used, lang) });
      const pct = limit ? Math.min(100, Math.round((used / limit) * 100)) : 0;
      quota.append(h('div', { class: 'quota-label' }, h('span', null, t('quota.label')), h('span', { class: 'muted' }, limit ? pct + ' %' : '')));
      if (limit) {
        quota.append(h('div', { class: 'meter' + (pct >= 90 ? ' full' : ''), role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': t('quota.label') },
          h('div', { class: 'meter-fill', style: `width:${pct}%` })));
      }
      quota.append(h('div', { class: 'quota-text muted' }, text));
    } catch (e) {
      quota.hidden = true;
    }
  }

  // ---- message list -----------------------------------------------------
  function filter() {
    return state.search ? state.searchFilter : { inMailbox: state.current };
  }

  const list = new ListView({ rows, scroll: listScroll, status: listStatus, count: listCount }, {
    t, lang,
    outgoing: () => { const cur = state.byId.get(state.current); return !!cur && !state.search && (cur.role === 'sent' || cur.role === 'drafts'); },
    // results across folders say where each one is
    mailboxOf: (e) => (state.search && !state.searchFolder ? Object.keys(e.mailboxIds || {}).map((id) => state.byId.get(id))
      .filter(Boolean).map(mailboxName).join(', ') : ''),
    snippetOf: (id) => state.snippets.get(id),
    threadCount: (e) => threadCount(state, e),
    onWindow: (ids) => {
      if (!state.search || !wantsSnippets(state.searchFilter)) return;
      sync.loadSnippets(ids).then((got) => { if (got) list.draw(); }).catch(() => { /* no highlights: the rows stand */ });
    },
    onMissing: (from, to) => { sync.load(from, to).catch(fail); },
    onClick: (id, ev) => {
      if (ev.shiftKey && state.anchor && state.ids.includes(state.anchor)) { ev.preventDefault(); checkRange(state.anchor, id); return; }
      if (ev.ctrlKey || ev.metaKey) {
        ev.preventDefault();
        // the open message counts as chosen (review B18)
        if (!state.checked.size && state.selected && state.selected !== id) toggleCheck(state.selected);
        toggleCheck(id);
        return;
      }
      if (state.checked.size) clearChecks();
      state.anchor = id;
      select(id, { open: true });
    },
    onDragStart: (id, ev) => {
      ev.dataTransfer.setData('application/x-postamt-email', id);
      ev.dataTransfer.effectAllowed = 'move';
    },
  });

  const sync = new ListSync(client, state, {
    query: () => ({ filter: filter(), sort: [{ property: 'receivedAt', isAscending: state.ascending }], collapseThreads: conversationsOn() && !state.search }),
    onChange: () => renderList(),
  });

  // A new list (folder, search, sort) from the top.
  async function openList() {
    list.reset();
    list.showLoading(t('list.loading'));
    try {
      await sync.open();
    } catch (e) {
      list.showLoading('');
      fail(e);
    }
  }

  // ---- several messages at once -------------------------------------------
  function renderChecks() {
    pruneChecks(state);
    bulkBar.hidden = state.checked.size === 0;
    bulkCount.textContent = t('bulk.count', { count: state.checked.size });
  }
  function toggleCheck(id) {
    if (!id) return;
    stateToggleCheck(state, id);
    list.updateRow(id);
    renderChecks();
  }
  function checkRange(a, b) {
    stateCheckRange(state, a, b);
    renderList();
  }
  function clearChecks() {
    if (!state.checked.size) return;
    state.checked.clear();
    renderList();
  }

  function moveChoices() {
    return mailboxTree(state.mailboxes, lang).filter(({ mailbox }) => mailbox.id !== state.current)
      .map(({ mailbox, depth }) => ({ label: mailboxName(mailbox), value: mailbox.id, depth, icon: ROLE_ICON[mailbox.role] || 'folder' }));
  }

  function renderList() {
    renderChecks();
    list.render(state);
  }

  function onListKey(e) {
    const a = LIST_KEYS[e.key];
    if (!a) return;
    if (a === 'open') { if (state.selected) { e.preventDefault(); select(state.selected, { open: true }); } return; }
    e.preventDefault();
    if (a === 'down') step(1, false);
    else if (a === 'up') step(-1, false);
    else if (a === 'first') selectIndex(0, { open: false });
    else if (a === 'last') selectIndex(state.total - 1, { open: false });
  }
  rows.addEventListener('keydown', onListKey);

  function step(dir, open = true) {
    selectIndex(stepIndex(state, dir), { open: open && !phone.matches, stepping: true });
  }

  // Selects the row at position i, loading it first when it is not loaded
  // (End goes to the folder's real end).
  async function selectIndex(i, opts) {
    if (i < 0 || i >= state.total) return;
    if (state.ids[i] === undefined || !state.emails.has(state.ids[i])) {
      try { await sync.load(Math.max(0, i - PAGE + 1), i + 1); } catch (e) { fail(e); return; }
      if (state.ids[i] === undefined) return;
    }
    select(state.ids[i], opts);
  }

  function select(id, { open, stepping = false }) {
    state.selected = id;
    list.reveal(state.ids.indexOf(id));
    const e = state.emails.get(id);
    if (open !== false || !phone.matches) {
      if (e && e.keywords && e.keywords.$draft && isIn(e, 'drafts') && open) {
        openDraft(id);
        return;
      }
      openMessage(id, { stepping });
      if (phone.matches && open) document.body.classList.add('reading');
    }
  }

  // ---- URLs (route.js) ------------------------------------------------------
  const address = new AddressBar({
    here: () => ({ folder: state.search ? null : state.current, search: state.search || null, msg: state.opened || null }),
    follow: async (r) => {
      if (r.search !== null) {
        if (r.search !== state.search) runSearch(r.search);
      } else {
        // a folder that is gone: the inbox
        const f = state.byId.has(r.folder) ? r.folder : (role('inbox') || {}).id;
        if (f && (state.search || f !== state.current)) await selectMailbox(f);
      }
      if (r.msg && r.msg !== state.opened) {
        state.selected = r.msg;
        list.draw();
        openMessage(r.msg);
      } else if (!r.msg && state.opened) {
        closeMessage();
        document.body.classList.remove('reading');
      }
    },
    fail,
  });
  function openMessage(id, { stepping = false } = {}) {
    state.opened = id;
    reader.show(id);
    address.go({ stepping });
  }
  function closeMessage() {
    state.opened = null;
    reader.clear();
    address.go();
  }
  // Middle click on a row: the message in a new tab.
  rows.addEventListener('auxclick', (ev) => {
    const row = ev.button === 1 && ev.target.closest('.row[data-id]');
    if (!row) return;
    ev.preventDefault();
    window.open(address.urlOf(Object.assign(address.here(), { msg: row.dataset.id })), '_blank', 'noopener');
  });

  async function selectMailbox(id) {
    if (!id) return;
    state.current = id;
    state.search = '';
    searchBox.value = '';
    searchBox.hide();
    state.selected = null;
    closeMessage();
    document.body.classList.remove('reading');
    renderFolders();
    await openList();
  }

  // q: the search box's text ('' ends the search). The list shows the results
  // across folders, or of the folder of in:.
  function runSearch(q) {
    searchBox.value = q;
    if (!q) {
      if (!state.search) return;
      state.search = '';
      searchBox.hide();
      renderFolders();
      address.go();
      openList();
      return;
    }
    const parsed = parseQuery(q, { mailboxes: state.mailboxes });
    searchBox.show(parsed);
    if (!parsed.filter) return; // only hints so far ("from:" while typing)
    state.search = q;
    state.searchFilter = parsed.filter;
    state.searchFolder = parsed.folder;
    state.selected = null;
    closeMessage();
    renderFolders();
    openList();
  }

  // ---- actions ----------------------------------------------------------
  function removeFromList(id) {
    const gone = removeId(state, id);
    if (!gone) return;
    renderList();
    if (state.selected === id) {
      state.selected = null;
      const next = gone.next;
      if (next && !phone.matches) select(next, { open: true, stepping: true });
      else { closeMessage(); document.body.classList.remove('reading'); if (next) select(next, { open: false }); }
    }
  }

  const acts = mailActions({
    state, client, t, list, reader: () => reader, toast, fail, recover: () => recover(), refresh: () => refresh(), role, mailboxName, isIn,
    removeFromList, closeMessage: () => closeMessage(), renderList, moveChoices,
  });

  // ---- compose ------------------------------------------------------------
  let composer = null;
  function compose(init) {
    if (composer) composer.close(false);
    composer = new Composer({
      client, t, lang, identities: state.identities, username: state.username, mailboxes: () => state.mailboxes,
      toast, fail,
      onClose: () => { composer = null; refresh(); },
    });
    composer.open(init);
  }
  async function openDraft(id) {
    try {
      const email = await reader.fetchFull(id);
      compose({ draft: email });
    } catch (e) {
      fail(e);
    }
  }
  function replyTo(id, mode) {
    const email = reader.email && reader.email.id === id ? reader.email : null;
    if (!email) return;
    compose({ mode, source: email, sourceText: reader.textForQuote() });
  }

  // ---- reader -----------------------------------------------------------
  const reader = new Reader(readerPane, {
    client, t, lang, purifier,
    mailboxName: (id) => { const m = state.byId.get(id); return m ? mailboxName(m) : ''; },
    isIn, phone, toast,
    me: () => ({ identities: state.identities, username: state.username, sentId: (role('sent') || {}).id }),
    onLoaded: (email) => {
      if (!(email.keywords && email.keywords.$seen)) acts.setSeen(email.id, true);
    },
    actions: {
      // phone: the list again, and the URL of the list (the reader stays filled, hidden)
      back: () => { document.body.classList.remove('reading'); state.opened = null; address.go(); rows.focus(); },
      reply: (id) => replyTo(id, 'reply'),
      replyAll: (id) => replyTo(id, 'replyAll'),
      forward: (id) => replyTo(id, 'forward'),
      archive: acts.archive, remove: acts.remove, junk: acts.junk, move: acts.moveDialog, toggleSeen: acts.toggleSeen, toggleFlag: acts.toggleFlag,
      editDraft: (id) => openDraft(id),
    },
    fail,
  });

  // ---- live updates -----------------------------------------------------
  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      do {
        again = false;
        try {
          await loadMailboxes();
          await sync.sync(list.window.from);
          if (reader.email) reader.syncFrom(state.emails.get(reader.email.id));
        } catch (e) {
          fail(e);
        }
      } while (again && !state.destroyed);
    })();
    try { await refreshing; } finally { refreshing = null; }
  }
  // After an action the server refused: what was changed locally (rows taken
  // out at once) has no change on the server to undo it, so load anew.
  function recover() {
    state.queryState = null;
    refresh();
  }
  let quotaTimer = null;
  let starting = true;
  const pendingPush = [];
  function onPushState(change) {
    // During the start the first list and folders are on their way: a
    // state event now (the server sends one on connect) waits for them, so
    // that it does not load both a second time in parallel; afterwards it
    // is compared with what the start learnt.
    if (starting) { pendingPush.push(change); return; }
    if (change) {
      const acc = change.changed && change.changed[client.accountId];
      if (!acc) return;
      // EmailDelivery is not compared: a delivery changes the Email state too,
      // and the page never learns an EmailDelivery state by itself.
      const interesting = ['Email', 'Mailbox'].some((k) => acc[k] && acc[k] !== state.known[k]);
      if (!interesting) return;
    }
    refresh();
    clearTimeout(quotaTimer);
    quotaTimer = setTimeout(loadQuota, 1500);
  }
  const push = client.session.eventSourceUrl
    ? openPush(client, {
      types: ['Email', 'Mailbox', 'Thread', 'EmailDelivery'],
      onStatus: (ok) => { offline.hidden = ok; },
      onState: onPushState,
    })
    : null;
  // Without push (or while it is down) poll now and then.
  const poll = setInterval(() => { if (!push || !offline.hidden) refresh(); }, 60000);

  // ---- keyboard ---------------------------------------------------------
  function showHelp() {
    infoDialog(t('shortcuts.title'), h('dl', { class: 'shortcuts' }, HELP.map(([k, d]) => [h('dt', null, h('kbd', null, k.startsWith('key.') ? t(k) : k)), h('dd', null, t(d))])));
  }

  // The settings view (settings.js) takes the place of the three panes.
  let settingsView = null;
  function showSettings() {
    if (settingsView) return;
    document.body.classList.remove('nav-open');
    main.hidden = true;
    settingsView = openSettings(root, {
      client, t, lang, mailboxes: () => state.mailboxes, toast, fail, identities: state.identities,
      onClose: () => { settingsView = null; main.hidden = false; rows.focus({ preventScroll: true }); },
    });
    toastRegion.before(root.lastChild); // keep the toasts last, above the view
  }

  // What each action of the key table (keys.js) does; id: the selected message.
  const KEY_ACTIONS = {
    check: (id) => toggleCheck(id),
    clearChecks: () => clearChecks(),
    bulkSeen: () => acts.bulk(seenToggle(checkedIds(state).map((c) => state.emails.get(c) || {}))),
    bulkDelete: () => acts.bulk('delete'), bulkArchive: () => acts.bulk('archive'), bulkFlag: () => acts.bulk('flag'),
    bulkJunk: () => acts.bulk('junk'), bulkMove: () => acts.bulk('move'),
    next: () => step(1), prev: () => step(-1),
    search: () => { searchInput.focus(); searchInput.select(); },
    compose: () => compose({}),
    help: () => showHelp(),
    escape: () => {
      if (document.body.classList.contains('nav-open')) document.body.classList.remove('nav-open');
      else if (document.body.classList.contains('reading')) { document.body.classList.remove('reading'); rows.focus(); }
      else if (state.search) runSearch('');
    },
    reply: (id) => { if (reader.email && reader.email.id === id) replyTo(id, 'reply'); },
    replyAll: (id) => { if (reader.email && reader.email.id === id) replyTo(id, 'replyAll'); },
    forward: (id) => { if (reader.email && reader.email.id === id) replyTo(id, 'forward'); },
    delete: (id) => acts.remove(id), archive: (id) => acts.archive(id), flag: (id) => acts.toggleFlag(id), seen: (id) => acts.toggleSeen(id),
    junk: (id) => acts.junk(id), move: (id) => acts.moveDialog(id),
    undo: () => acts.undo(),
  };

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]') || composer || settingsView) return;
    if (!isAppKey(e, e.target)) {
      if (e.key === 'Escape' && e.target === searchInput) { searchInput.blur(); rows.focus(); }
      return;
    }
    const k = keyAction(e.key, { checked: state.checked.size > 0, selected: !!state.selected });
    if (!k) return;
    if (k.prevent) e.preventDefault();
    KEY_ACTIONS[k.action](state.selected);
  }
  document.addEventListener('keydown', onKey);

  // ---- start ------------------------------------------------------------
  // The identities (only compose needs them) load beside the folders and the
  // first rows, not before them: one round trip less to the first row.
  async function loadIdentities() {
    try {
      const b = new RequestBuilder();
      const ids = client.hasCapability(CAP.submission) ? b.call('Identity/get', { ids: null }) : null;
      if (ids) {
        const r = await client.send(b);
        state.identities = r.get(ids).list || [];
      }
      // A server may start an account without identities (RFC 8621 6: the server
      // decides); EmailSubmission needs one, so make the obvious one: the login
      // address.
      if (ids && !state.identities.length && state.username.includes('@')) {
        const b2 = new RequestBuilder();
        b2.call('Identity/set', { create: { me: { name: '', email: state.username } } });
        const g2 = b2.call('Identity/get', { ids: null });
        const r2 = await client.send(b2);
        state.identities = r2.get(g2).list || [];
      }
    } catch (e) {
      state.identities = state.identities || [];
    }
  }
  const identitiesLoaded = loadIdentities();
  await loadMailboxes();
  // A URL (reload, bookmark, new tab) says where to start.
  const start = address.start();
  address.following = true; // the address bar already says where
  if (start && start.folder !== null && state.byId.has(start.folder)) state.current = start.folder;
  await prefsLoaded;
  showConvChoice();
  if (start && start.search !== null) runSearch(start.search);
  else await openList();
  if (start && start.msg) { state.selected = start.msg; openMessage(start.msg); }
  await identitiesLoaded;
  address.following = false;
  address.settle();
  renderFolders();
  loadQuota();
  rows.focus({ preventScroll: true });
  starting = false;
  // the events that came during the start, against what it learnt (one
  // refresh at most: it coalesces)
  for (const change of pendingPush.splice(0)) onPushState(change);

  return {
    destroy() {
      state.destroyed = true;
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('postamt:conversations', onConversations);
      address.destroy();
      if (push) push.close();
      clearInterval(poll);
      if (composer) composer.close(false);
      if (settingsView) settingsView.close();
      document.body.classList.remove('reading', 'nav-open');
    },
  };
}
