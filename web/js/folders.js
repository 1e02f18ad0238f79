// folders.js: the folder list on the left. Special-use folders first, then
// the user's own as a tree: sub-folders indented under their parent, a
// parent's sub-folders shown or hidden by the arrow before it (remembered in
// the browser). New folder asks for a name and a parent; rename and delete
// through each own folder's "…" menu. Folders are dropped onto to move
// messages. The tree's order and collapsing are mailboxes.js's (pure).

import { h, clear, icon, iconButton, confirmDialog, promptDialog, promptChoiceDialog, chooseDialog } from './dom.js';
import { setResult } from './jmap.js';
import { mailboxTree, visibleTree, folderCreate } from './mailboxes.js';

export const ROLE_ICON = { inbox: 'inbox', drafts: 'drafts', sent: 'sent', archive: 'archive', junk: 'junk', trash: 'trash' };
const KEY = 'postamt.collapsedFolders';

function loadCollapsed() {
  try {
    return new Set(JSON.parse(localStorage.getItem(KEY) || '[]'));
  } catch (e) {
    return new Set();
  }
}

export class FolderList {
  // el: the <ul>; o: {state, client, t, lang, mailboxName(m), onSelect(id),
  // onDrop(emailId, mailboxId), reload() (Mailbox/get again), fail(e), toast,
  // inbox() (its id, where deleting the current folder goes)}.
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.collapsed = loadCollapsed();
  }

  render() {
    const { state, t, lang, mailboxName } = this.o;
    clear(this.el);
    for (const { mailbox: m, depth, parent, open } of visibleTree(mailboxTree(state.mailboxes, lang), this.collapsed)) {
      const unread = m.role === 'sent' || m.role === 'drafts' || m.role === 'trash' || m.role === 'junk' ? 0 : m.unreadEmails || 0;
      const count = m.role === 'drafts' ? m.totalEmails || 0 : unread;
      const current = m.id === state.current && !state.search;
      const btn = h('button', {
        type: 'button', class: 'folder' + (current ? ' current' : '') + (unread ? ' has-unread' : ''),
        style: depth ? `padding-left:${12 + depth * 16}px` : null,
        'aria-current': current ? 'page' : null,
        dataset: { id: m.id },
        onclick: () => this.o.onSelect(m.id),
      }, icon(ROLE_ICON[m.role] || 'folder'), h('span', { class: 'folder-name' }, mailboxName(m)),
      count ? h('span', { class: 'badge', 'aria-label': unread ? t('folder.unread', { count }) : String(count) }, count.toLocaleString(lang)) : null);
      // Drop target for dragged messages.
      btn.addEventListener('dragover', (e) => { if (e.dataTransfer.types.includes('application/x-postamt-email')) { e.preventDefault(); btn.classList.add('drop'); } });
      btn.addEventListener('dragleave', () => btn.classList.remove('drop'));
      btn.addEventListener('drop', (e) => {
        e.preventDefault();
        btn.classList.remove('drop');
        const id = e.dataTransfer.getData('application/x-postamt-email');
        if (id) this.o.onDrop(id, m.id);
      });
      const li = h('li', { class: 'folder-row' + (parent ? ' folder-parent' : '') }, btn);
      if (parent) {
        const name = mailboxName(m);
        li.prepend(h('button', {
          type: 'button', class: 'folder-twist', style: `left:${depth * 16 - 4}px`, 'aria-expanded': String(open),
          'aria-label': open ? t('folder.collapse', { name }) : t('folder.expand', { name }), title: open ? t('folder.collapse', { name }) : t('folder.expand', { name }),
          onclick: () => this.toggle(m.id),
        }, icon('down')));
      }
      if (!m.role) {
        li.append(iconButton('more', t('folder.actions') + ': ' + m.name, () => this.menu(m), { class: 'icon-btn folder-more' }));
      }
      this.el.append(li);
    }
  }

  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    try {
      localStorage.setItem(KEY, JSON.stringify([...this.collapsed]));
    } catch (e) {
      /* storage refused: collapsed for this page */
    }
    this.render();
    const b = this.el.querySelector(`.folder[data-id="${CSS.escape(id)}"]`);
    const twist = b && b.parentNode.querySelector('.folder-twist');
    if (twist) twist.focus();
  }

  // The folders a new one can go under: the top level, then every folder.
  parentOptions() {
    const { state, t, lang, mailboxName } = this.o;
    return [{ label: t('folder.topLevel'), value: '', depth: 0 },
      ...mailboxTree(state.mailboxes, lang).map(({ mailbox, depth }) => ({ label: mailboxName(mailbox), value: mailbox.id, depth: depth + 1 }))];
  }

  // New folder: a name and a parent (preset: the folder shown when it is the
  // user's own). A name with "/" makes the path of folders.
  async create() {
    const { state, t } = this.o;
    const cur = state.byId.get(state.current);
    const r = await promptChoiceDialog(t('folder.newPrompt'),
      { label: t('folder.parent'), options: this.parentOptions(), value: cur && !cur.role && !state.search ? cur.id : '' });
    if (!r) return;
    const create = folderCreate(state.mailboxes, r.choice || null, r.text);
    if (!create) { this.o.toast(t('folder.exists', { name: r.text }), { error: true }); return; }
    if (r.choice) this.collapsed.delete(r.choice); // the new folder shows
    await this.set({ create });
  }

  async menu(m) {
    const { t } = this.o;
    const choice = await chooseDialog(m.name, [
      { label: t('folder.rename'), value: 'rename', icon: 'compose' },
      { label: t('folder.delete'), value: 'delete', icon: 'trash' },
    ]);
    if (choice === 'rename') {
      const name = await promptDialog(t('folder.renamePrompt', { name: m.name }), m.name);
      if (!name || name === m.name) return;
      if (name.includes('/')) { this.o.toast(t('folder.badName'), { error: true }); return; }
      this.set({ update: { [m.id]: { name } } });
    } else if (choice === 'delete') {
      if (!(await confirmDialog(t('folder.deleteConfirm', { name: m.name }), { okLabel: t('delete'), danger: true }))) return;
      await this.set({ destroy: [m.id], onDestroyRemoveEmails: true });
      if (this.o.state.current === m.id) this.o.onSelect(this.o.inbox());
    }
  }

  async set(args) {
    try {
      const res = await this.o.client.call('Mailbox/set', args);
      await this.o.reload(); // a path may be made in part
      setResult('Mailbox/set', res);
    } catch (e) {
      this.o.fail(e);
    }
  }
}
