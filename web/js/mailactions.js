// mailactions.js: what the list's and the reader's actions do to messages:
// read, flag, move, archive, delete (to Trash, or for good), spam, on one
// message or on the checked ones, and the undo of the last move (toast button
// "Undo", key z). The patches are actions.js's; this applies them locally at
// once (state.js), sends them, and on a refusal has the list loaded anew.
//
// Undo keeps a copy of each message's mailboxIds and keywords from before the
// action (not the list's objects, which refreshes replace), so it works after
// the list has changed; it is one Email/set of undoPatch (actions.js) and then
// a reload of the list where it is.

import { confirmDialog, chooseDialog } from './dom.js';
import { CAP, JmapMethodError, setResult } from './jmap.js';
import { patchEmail, removeId, checkedIds, actionIds, emailOrMember } from './state.js';
import { movePatch, junkPatch, seenPatch, flagPatch, bulkPatches, flagToggle, undoPatches, snapshot } from './actions.js';

// How long the Undo button (and z) stays offered.
export const UNDO_MS = 10000;

// app: {state, client, t, list, reader(), toast(text, {error, action, ms}),
// fail(e), recover(), refresh(), role(r), mailboxName(m), isIn(e, r),
// removeFromList(id), closeMessage(), renderList(), moveChoices()}.
export function mailActions(app) {
  const { state, client, t } = app;
  let offered = null; // {patches, toast} of the last undoable action

  // Applies a patch locally at once, then on the server; the push brings
  // the truth back either way.
  async function updateEmail(id, patch, { remove = false } = {}) {
    const e = patchEmail(state, id, patch);
    if (remove) app.removeFromList(id);
    else app.list.updateRow(id);
    app.reader().refreshFlags(id, e);
    try {
      const res = await client.call('Email/set', { update: { [id]: patch } });
      if (res.notUpdated && res.notUpdated[id]) throw new JmapMethodError('Email/set', res.notUpdated[id]);
    } catch (err) {
      app.fail(err);
      app.recover();
    }
  }

  const emailFor = (id) => { const r = app.reader(); return emailOrMember(state, id) || (r.email && r.email.id === id ? r.email : null); };
  // where an email not loaded is taken to be: the folder shown
  const placeOf = (id) => snapshot(emailFor(id)) || { mailboxIds: { [state.current]: true }, keywords: {} };

  // A move of the row id (as conversations: with its thread's emails in the
  // folder) by patchOf(before) for each email: out of the list at once, one
  // Email/set, the toast with Undo.
  async function moveRow(id, patchOf, message) {
    const ids = actionIds(state, [id]);
    const befores = {};
    const patches = {};
    for (const x of ids) {
      befores[x] = placeOf(x);
      patches[x] = patchOf(befores[x]);
      patchEmail(state, x, patches[x]);
    }
    app.removeFromList(id);
    offerUndo(message, patches, befores);
    try {
      setResult('Email/set', await client.call('Email/set', { update: patches }));
    } catch (err) {
      app.fail(err);
      app.recover();
    }
  }

  // The toast of an action that can be undone: its text with an Undo button.
  function offerUndo(message, patches, befores) {
    if (offered && offered.toast) offered.toast.remove();
    const undo = undoPatches(patches, (id) => befores[id]);
    const me = { patches: undo };
    me.toast = app.toast(message, { ms: UNDO_MS, action: { label: t('undo'), run: () => runUndo(me) } });
    offered = me;
    setTimeout(() => { if (offered === me) offered = null; }, UNDO_MS);
  }

  async function runUndo(me) {
    if (!me || offered !== me) return;
    offered = null;
    if (me.toast) me.toast.remove();
    const ids = Object.keys(me.patches);
    if (!ids.length) return;
    for (const id of ids) patchEmail(state, id, me.patches[id]);
    try {
      setResult('Email/set', await client.call('Email/set', { update: me.patches }));
      app.toast(t('status.undone'));
    } catch (err) {
      app.fail(err);
    }
    // the messages are back in the list where they were: load it there anew
    app.recover();
  }

  function setSeen(id, seen) {
    const e = emailFor(id);
    if (!e || !!(e.keywords && e.keywords.$seen) === seen) return;
    updateEmail(id, seenPatch(seen));
  }
  function toggleSeen(id) {
    const e = emailFor(id);
    if (e) updateEmail(id, seenPatch(!(e.keywords && e.keywords.$seen)));
  }
  function toggleFlag(id) {
    const e = emailFor(id);
    if (e) updateEmail(id, flagPatch(!(e.keywords && e.keywords.$flagged)));
  }

  async function moveEmail(id, toId, message) {
    if (!toId || toId === state.current && !state.search) return;
    const m = state.byId.get(toId);
    await moveRow(id, (b) => movePatch(b.mailboxIds, toId), message || t('status.moved', { name: m ? app.mailboxName(m) : '' }));
  }

  async function moveDialog(id) {
    const to = await chooseDialog(t('move.to'), app.moveChoices());
    if (to) moveEmail(id, to);
  }

  function archive(id) {
    const a = app.role('archive');
    if (!a) { app.toast(t('status.noArchive'), { error: true }); return; }
    moveEmail(id, a.id, t('status.archived'));
  }

  async function remove(id) {
    const e = emailFor(id);
    const trash = app.role('trash');
    if (!e) return;
    if (!trash || app.isIn(e, 'trash')) {
      if (!(await confirmDialog(t('deleteForever.confirm'), { okLabel: t('deleteForever'), danger: true }))) return;
      const ids = actionIds(state, [id]);
      app.removeFromList(id);
      try {
        setResult('Email/set', await client.call('Email/set', { destroy: ids }));
        app.toast(t('status.destroyed'));
      } catch (err) {
        app.fail(err);
        app.recover();
      }
      return;
    }
    moveEmail(id, trash.id, t('status.deleted'));
  }

  async function junk(id) {
    const e = emailFor(id);
    if (!e) return;
    const j = app.role('junk');
    const inbox = app.role('inbox');
    const inJunk = app.isIn(e, 'junk');
    // Not junk: back to the inbox, remember the verdict.
    if (inJunk && !inbox) return;
    const to = inJunk ? inbox.id : j ? j.id : null;
    const message = inJunk ? t('status.notJunk') : t('status.junk');
    if (to) { await moveRow(id, (b) => junkPatch(b.mailboxIds, to, !inJunk), message); return; }
    // no Junk folder: the keyword only, the message stays
    const patch = junkPatch(e.mailboxIds, null, true);
    offerUndo(message, { [id]: patch }, { [id]: snapshot(e) });
    await updateEmail(id, patch);
  }

  // action: read | unread | flag | archive | move | junk | notjunk | delete
  async function bulk(action) {
    const rows = checkedIds(state);
    if (!rows.length) return;
    const ids = actionIds(state, rows);
    const emailOf = (id) => emailOrMember(state, id);
    let kind = action;
    let target = null;
    let message = '';
    if (action === 'flag') kind = flagToggle(rows.map((id) => emailOf(id) || {}));
    else if (action === 'archive') { target = app.role('archive'); if (!target) { app.toast(t('status.noArchive'), { error: true }); return; } message = t('status.archived'); kind = 'move'; }
    else if (action === 'junk') { target = app.role('junk'); message = t('status.junk'); }
    else if (action === 'notjunk') { target = app.role('inbox'); if (!target) return; message = t('status.notJunk'); }
    else if (action === 'move') {
      const to = await chooseDialog(t('move.to'), app.moveChoices());
      if (!to) return;
      target = state.byId.get(to);
      message = t('status.moved', { name: app.mailboxName(target) });
    } else if (action === 'delete') {
      target = app.role('trash');
      const cur = state.byId.get(state.current);
      if (!target || (cur && cur.role === 'trash')) { destroyAll(rows, ids); return; }
      message = t('status.deleted');
      kind = 'move';
    }
    const befores = {};
    for (const id of ids) befores[id] = placeOf(id);
    const { patches, remove } = bulkPatches(kind, ids, emailOf, { toId: target ? target.id : null, fallbackMailbox: state.current });
    for (const id of ids) patchEmail(state, id, patches[id]);
    state.checked.clear();
    if (remove && rows.includes(state.selected)) {
      state.selected = null;
      app.closeMessage();
      document.body.classList.remove('reading');
    }
    if (remove) for (const id of rows) removeId(state, id);
    app.renderList();
    if (message) offerUndo(message, patches, befores);
    try {
      setResult('Email/set', await client.call('Email/set', { update: patches }));
    } catch (err) {
      app.fail(err);
      app.recover();
    }
  }

  // Deletes checked messages for good (in Trash, or without a Trash folder):
  // the rows, and ids (the rows' emails, as conversations their threads').
  async function destroyAll(rows, ids) {
    if (!(await confirmDialog(t('bulk.destroyConfirm', { count: ids.length }), { okLabel: t('deleteForever'), danger: true }))) return;
    state.checked.clear();
    if (rows.includes(state.selected)) { state.selected = null; app.closeMessage(); }
    for (const id of rows) app.removeFromList(id);
    app.renderList();
    try {
      setResult('Email/set', await client.call('Email/set', { destroy: ids }));
      app.toast(t('status.destroyed'));
    } catch (err) {
      app.fail(err);
      app.recover();
    }
  }

  async function emptyFolder() {
    const cur = state.byId.get(state.current);
    if (!cur) return;
    const count = cur.totalEmails || state.total;
    if (!(await confirmDialog(t('folder.emptyTrashConfirm', { count }), { okLabel: cur.role === 'junk' ? t('folder.emptyJunk') : t('folder.emptyTrash'), danger: true }))) return;
    try {
      const maxSet = (client.session.capabilities[CAP.core] || {}).maxObjectsInSet || 500;
      for (let round = 0; round < 1000; round++) {
        const q = await client.call('Email/query', { filter: { inMailbox: cur.id }, limit: Math.min(maxSet, 500) });
        if (!q.ids.length) break;
        await client.call('Email/set', { destroy: q.ids });
      }
      state.selected = null;
      app.closeMessage();
      await app.refresh();
      app.toast(t('status.destroyed'));
    } catch (e) {
      app.fail(e);
    }
  }

  return {
    updateEmail, emailFor, setSeen, toggleSeen, toggleFlag, moveEmail, moveDialog, archive, remove, junk,
    bulk, emptyFolder,
    // z: the last action back while its Undo is offered
    undo: () => runUndo(offered),
    get undoOffered() { return !!offered; },
  };
}
