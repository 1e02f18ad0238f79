// listview.js: the message list on screen. rowModel() and listSummary() are
// pure (what a row and the list's footer say, unit-tested); ListView puts them
// into the DOM: a listbox of rows, one per loaded email of state.ids.

import { h, clear, icon, bidiText } from './dom.js';
import { displayName } from './address.js';
import { formatListDate, formatFullDate } from './format.js';

// What one row shows. ctx: {outgoing: the folder is Sent or Drafts (show the
// recipients), selected: the selected id, checked: Set of checked ids}.
export function rowModel(e, { outgoing = false, selected = null, checked = new Set() } = {}) {
  const kw = e.keywords || {};
  const seen = !!kw.$seen;
  const flagged = !!kw.$flagged;
  const isChecked = checked.has(e.id);
  const isSelected = e.id === selected;
  return {
    id: e.id,
    seen, flagged, draft: !!kw.$draft,
    checked: isChecked,
    selected: isSelected,
    className: 'row' + (seen ? '' : ' unread') + (isSelected ? ' selected' : '') + (flagged ? ' flagged' : '') + (isChecked ? ' checked' : ''),
    // a checked row is selected for assistive technology; the selected one only while none is checked
    ariaSelected: isChecked || (isSelected && !checked.size),
    outgoing,
    people: ((outgoing ? e.to : e.from) || []).map(displayName).join(', '),
    date: e.receivedAt,
    subject: e.subject || '',
    preview: e.preview || '',
    attachment: !!e.hasAttachment,
  };
}

// The footer and heading of the list: status line (empty list), count, and
// whether more can be loaded.
export function listSummary({ ids, total, search }, t, locale) {
  return {
    status: ids.length ? '' : search ? t('list.emptySearch') : t('list.empty'),
    count: total ? t('list.count', { count: total.toLocaleString(locale) }) : '',
    more: ids.length < total,
  };
}

export class ListView {
  // els: {rows, scroll, status, more, count}; opts: {t, lang, onClick(id, ev),
  // onDragStart(id, ev), onNearEnd(), outgoing(): bool}.
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.state = null;
    this.scroll.addEventListener('scroll', () => {
      if (this.scroll.scrollTop + this.scroll.clientHeight > this.scroll.scrollHeight - 400) this.opts.onNearEnd();
    });
  }

  rowFor(e) {
    const { t, lang } = this.opts;
    const s = this.state;
    const m = rowModel(e, { outgoing: this.opts.outgoing(), selected: s.selected, checked: s.checked });
    const who = m.outgoing ? t('list.to', { name: m.people }) : m.people;
    const row = h('div', {
      class: m.className, role: 'option', id: 'msg-' + m.id, 'aria-selected': m.ariaSelected ? 'true' : 'false', draggable: 'true',
      dataset: { id: m.id },
    },
    h('span', { class: 'row-mark', 'aria-hidden': 'true' }, m.checked ? icon('check') : null),
    h('div', { class: 'row-main' },
      h('div', { class: 'row-top' },
        h('span', { class: 'row-from' }, m.draft ? h('span', { class: 'draft-tag' }, t('list.draft') + ' ') : null, bidiText(who || '—')),
        h('span', { class: 'row-icons' },
          m.attachment ? h('span', { class: 'att', title: t('list.attachment') }, icon('clip')) : null,
          m.flagged ? h('span', { class: 'flag', title: t('list.flagged') }, icon('flag')) : null),
        h('time', { class: 'row-date', datetime: m.date, title: formatFullDate(m.date, { locale: lang }) }, formatListDate(m.date, { locale: lang }))),
      h('div', { class: 'row-subject' }, bidiText(m.subject || t('list.noSubject'))),
      h('div', { class: 'row-preview' }, bidiText(m.preview))),
    h('span', { class: 'sr-only' }, [m.seen ? '' : t('list.unread'), m.flagged ? t('list.flagged') : '', m.attachment ? t('list.attachment') : ''].filter(Boolean).join(', ')));
    row.addEventListener('click', (ev) => this.opts.onClick(m.id, ev));
    row.addEventListener('dragstart', (ev) => this.opts.onDragStart(m.id, ev));
    return row;
  }

  render(s) {
    this.state = s;
    clear(this.rows);
    for (const id of s.ids) this.rows.append(this.rowFor(s.emails.get(id)));
    const sum = listSummary(s, this.opts.t, this.opts.lang);
    this.status.textContent = sum.status;
    this.count.textContent = sum.count;
    this.more.hidden = !sum.more;
    if (s.selected && s.emails.has(s.selected)) this.rows.setAttribute('aria-activedescendant', 'msg-' + s.selected);
    else this.rows.removeAttribute('aria-activedescendant');
  }

  rowEl(id) {
    return this.rows.querySelector(`[data-id="${CSS.escape(id)}"]`);
  }

  updateRow(id) {
    const e = this.state && this.state.emails.get(id);
    const old = this.rowEl(id);
    if (e && old) old.replaceWith(this.rowFor(e));
  }

  // Marks id as the selected row and scrolls it into view.
  highlight(id) {
    for (const r of this.rows.querySelectorAll('.row.selected')) { r.classList.remove('selected'); r.setAttribute('aria-selected', 'false'); }
    const r = this.rowEl(id);
    if (!r) return;
    r.classList.add('selected');
    r.setAttribute('aria-selected', 'true');
    this.rows.setAttribute('aria-activedescendant', r.id);
    r.scrollIntoView({ block: 'nearest' });
  }

  showLoading(text) {
    this.status.textContent = text;
  }
}
