// listview.js: the message list on screen. rowModel(), listSummary() and
// windowFor() are pure (what a row and the list's footer say, which rows are
// drawn; unit-tested); ListView puts them into the DOM.
//
// The list is virtual: the listbox is as tall as the whole result (padding
// stands for the rows not drawn) and only the rows in view, and a few around,
// are elements. Drawing costs the same at row 20,000 as at row 1; rows are
// kept by id and made again only when what they show changed. Positions not
// loaded yet show as empty rows, and the view asks for them (onMissing).

import { h, icon, bidiText } from './dom.js';
import { displayName } from './address.js';
import { formatListDate, formatFullDate } from './format.js';
import { snippetParts } from './search.js';

// Rows drawn above and below the visible ones, so that scrolling a little
// shows drawn rows at once.
export const OVERSCAN = 10;

// What one row shows. ctx: {outgoing: the folder is Sent or Drafts (show the
// recipients), selected: the selected id, checked: Set of checked ids,
// mailbox: the folder's name, shown in results across folders, snippet: the
// SearchSnippet of a search, its matches highlighted, count: the number of
// emails of its thread, as conversations (shown from 2)}.
export function rowModel(e, { outgoing = false, selected = null, checked = new Set(), mailbox = '', snippet = null, count = 0 } = {}) {
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
    mailbox,
    count: count > 1 ? count : 0,
    // [{text, mark}] of the snippet, or null: the subject or preview as it is
    subjectParts: snippet ? snippetParts(snippet.subject) : null,
    previewParts: snippet ? snippetParts(snippet.preview) : null,
  };
}

// The footer and heading of the list: status line (empty list) and count.
export function listSummary({ total, search }, t, locale) {
  return {
    status: total ? '' : search ? t('list.emptySearch') : t('list.empty'),
    count: total === 1 ? t('list.countOne') : total ? t('list.count', { count: total.toLocaleString(locale) }) : '',
  };
}

// Which rows to draw: [from, to) for a viewport of `height` pixels scrolled to
// `top` over `total` rows of `rowHeight` pixels.
export function windowFor(top, height, rowHeight, total, overscan = OVERSCAN) {
  if (!total || rowHeight <= 0) return { from: 0, to: 0 };
  const first = Math.floor(Math.max(0, top) / rowHeight);
  const last = Math.ceil((Math.max(0, top) + Math.max(0, height)) / rowHeight);
  const from = Math.max(0, Math.min(total, first - overscan));
  return { from, to: Math.max(from, Math.min(total, last + overscan)) };
}

// The scrollTop that shows row i whole, moving as little as possible from top.
export function scrollFor(i, top, height, rowHeight) {
  const y = i * rowHeight;
  if (y < top) return y;
  if (y + rowHeight > top + height) return Math.max(0, y + rowHeight - height);
  return top;
}

// Snippet parts as text nodes, the matches in <mark>.
const marked = (parts) => parts.map((p) => (p.mark ? h('mark', null, bidiText(p.text)) : bidiText(p.text)));

export class ListView {
  // els: {rows, scroll, status, count}; opts: {t, lang, onClick(id, ev),
  // onDragStart(id, ev), onMissing(from, to), outgoing(): bool,
  // mailboxOf(email): folder name to show (results across folders) or ''}.
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.state = null;
    this.rowHeight = 0;
    this.cache = new Map(); // id -> {el, key}
    this.frame = 0;
    this.window = { from: 0, to: 0 };
    const later = () => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
    };
    this.scroll.addEventListener('scroll', later);
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(later).observe(this.scroll);
  }

  rowFor(e, m) {
    const { t, lang } = this.opts;
    const who = m.outgoing ? t('list.to', { name: m.people }) : m.people;
    const row = h('div', {
      class: m.className, role: 'option', id: 'msg-' + m.id, 'aria-selected': m.ariaSelected ? 'true' : 'false', draggable: 'true',
      dataset: { id: m.id },
    },
    h('span', { class: 'row-mark', 'aria-hidden': 'true' }, m.checked ? icon('check') : null),
    h('div', { class: 'row-main' },
      h('div', { class: 'row-top' },
        h('span', { class: 'row-from' }, m.draft ? h('span', { class: 'draft-tag' }, t('list.draft') + ' ') : null, bidiText(who || '—'),
          m.count ? h('span', { class: 'row-count', title: t('list.threadCount', { n: m.count }) }, String(m.count)) : null),
        h('span', { class: 'row-icons' },
          m.attachment ? h('span', { class: 'att', title: t('list.attachment') }, icon('clip')) : null,
          m.flagged ? h('span', { class: 'flag', title: t('list.flagged') }, icon('flag')) : null),
        h('time', { class: 'row-date', datetime: m.date, title: formatFullDate(m.date, { locale: lang }) }, formatListDate(m.date, { locale: lang }))),
      h('div', { class: 'row-subject' }, m.mailbox ? h('span', { class: 'row-folder' }, bidiText(m.mailbox)) : null,
        m.subjectParts ? marked(m.subjectParts) : bidiText(m.subject || t('list.noSubject'))),
      h('div', { class: 'row-preview' }, m.previewParts ? marked(m.previewParts) : bidiText(m.preview))),
    h('span', { class: 'sr-only' }, [m.count ? t('list.threadCount', { n: m.count }) : '', m.seen ? '' : t('list.unread'), m.flagged ? t('list.flagged') : '', m.attachment ? t('list.attachment') : ''].filter(Boolean).join(', ')));
    row.addEventListener('click', (ev) => this.opts.onClick(m.id, ev));
    row.addEventListener('dragstart', (ev) => this.opts.onDragStart(m.id, ev));
    return row;
  }

  // The element of row i: kept from the last draw when it shows the same.
  element(i) {
    const s = this.state;
    const id = s.ids[i];
    const e = id !== undefined ? s.emails.get(id) : undefined;
    let el;
    if (!e) {
      el = h('div', { class: 'row row-placeholder', role: 'option', 'aria-selected': 'false', 'aria-busy': 'true',
        style: this.rowHeight ? `height:${this.rowHeight}px` : null },
        h('span', { class: 'sr-only' }, this.opts.t('list.loading')));
    } else {
      const snippet = this.opts.snippetOf(id) || null;
      const count = this.opts.threadCount ? this.opts.threadCount(e) : 0;
      const m = rowModel(e, { outgoing: this.opts.outgoing(), selected: s.selected, checked: s.checked, mailbox: this.opts.mailboxOf(e), snippet, count });
      // e is replaced by every Email/get and patched in place by actions
      // (then updateRow drops the cached row), so identity + flags say "same"
      const key = [m.className, m.ariaSelected, m.mailbox, snippet ? 's' : '', m.count].join('|');
      const c = this.cache.get(id);
      if (c && c.e === e && c.key === key) el = c.el;
      else { el = this.rowFor(e, m); this.cache.set(id, { el, e, key }); }
    }
    el.setAttribute('aria-posinset', String(i + 1));
    el.setAttribute('aria-setsize', String(s.total));
    return el;
  }

  // Draws the rows in view; asks for the positions among them not loaded.
  draw() {
    const s = this.state;
    if (!s) return;
    if (!this.rowHeight && s.total) {
      // one row's height, measured: density and font size are the stylesheet's
      this.rows.style.paddingTop = '0px';
      const probe = this.element(0);
      this.rows.replaceChildren(probe);
      this.rowHeight = probe.getBoundingClientRect().height || 64;
    }
    const top = this.scroll.scrollTop - this.rows.offsetTop;
    const w = windowFor(top, this.scroll.clientHeight, this.rowHeight, s.total);
    this.window = w;
    const els = [];
    for (let i = w.from; i < w.to; i++) els.push(this.element(i));
    this.rows.style.paddingTop = w.from * this.rowHeight + 'px';
    this.rows.style.paddingBottom = (s.total - w.to) * this.rowHeight + 'px';
    this.rows.replaceChildren(...els);
    // rows change height with the density setting and the window's width
    const real = els.find((el) => !el.classList.contains('row-placeholder'));
    const hh = real ? real.getBoundingClientRect().height : 0;
    if (hh && Math.abs(hh - this.rowHeight) > 0.5) {
      this.rowHeight = hh;
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
    }
    if (this.cache.size > 4 * (w.to - w.from) + 200) {
      const shown = new Set(s.ids.slice(w.from, w.to));
      for (const id of [...this.cache.keys()]) if (!shown.has(id)) this.cache.delete(id);
    }
    if (s.selected && this.rowEl(s.selected)) this.rows.setAttribute('aria-activedescendant', 'msg-' + s.selected);
    else this.rows.removeAttribute('aria-activedescendant');
    const holes = [];
    for (let i = w.from; i < w.to; i++) if (s.ids[i] === undefined) holes.push(i);
    if (holes.length) this.opts.onMissing(holes[0], holes[holes.length - 1] + 1);
    const shown = s.ids.slice(w.from, w.to).filter((id) => id !== undefined && s.emails.has(id));
    if (shown.length) this.opts.onWindow(shown);
  }

  render(s) {
    this.state = s;
    const sum = listSummary(s, this.opts.t, this.opts.lang);
    this.status.textContent = sum.status;
    this.count.textContent = sum.count;
    this.draw();
  }

  // A new list (folder, search, sort): from the top, nothing kept.
  reset() {
    this.cache.clear();
    this.scroll.scrollTop = 0;
  }

  rowEl(id) {
    const c = this.cache.get(id);
    return c && c.el.isConnected ? c.el : null;
  }

  updateRow(id) {
    this.cache.delete(id);
    this.draw();
  }

  // Shows row i (scrolling as little as needed) and draws.
  reveal(i) {
    if (i < 0 || !this.rowHeight) { this.draw(); return; }
    const top = this.scroll.scrollTop - this.rows.offsetTop;
    const want = scrollFor(i, top, this.scroll.clientHeight, this.rowHeight);
    if (want !== top) this.scroll.scrollTop = want + this.rows.offsetTop;
    this.draw();
  }

  showLoading(text) {
    this.status.textContent = text;
  }
}
