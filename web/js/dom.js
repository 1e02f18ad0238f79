// dom.js: building DOM nodes without innerHTML, icons, and small dialogs
// (native <dialog>, so focus is trapped and Escape closes).

import { t } from './i18n.js';
import { bidiSegments } from './bidi.js';

// h('button', {class: 'x', onclick: fn, 'aria-label': '...'}, child, ...)
// Strings become text nodes; null/false children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k in el && typeof v !== 'string' && k !== 'list') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Stroke icons on a 24x24 grid, drawn for postamt.
const ICONS = {
  menu: 'M4 6h16M4 12h16M4 18h16',
  compose: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  inbox: 'M3 13l3-8h12l3 8v6H3v-6zM3 13h5l1 3h6l1-3h5',
  drafts: 'M6 3h9l4 4v14H6V3zM14 3v5h5M9 13h7M9 17h5',
  sent: 'M21 3L10 14M21 3l-7 18-4-7-7-4 18-7z',
  archive: 'M3 4h18v4H3V4zM5 8v12h14V8M10 12h4',
  junk: 'M12 3l9 16H3l9-16zM12 10v4M12 17v.01',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6',
  folder: 'M3 6h6l2 2h10v11H3V6z',
  search: 'M11 4a7 7 0 100 14 7 7 0 000-14zM16 16l5 5',
  reply: 'M10 8L4 13l6 5M4 13h10a6 6 0 016 6',
  replyAll: 'M12 8l-5 5 5 5M7 8l-5 5 5 5M7 13h8a6 6 0 016 6',
  forward: 'M14 8l6 5-6 5M20 13H10a6 6 0 00-6 6',
  flag: 'M5 21V4M5 4h11l-2 4 2 4H5',
  mail: 'M3 6h18v12H3V6zM3 7l9 6 9-6',
  mailOpen: 'M3 10l9-6 9 6v9H3v-9zM3 10l9 6 9-6',
  move: 'M3 6h6l2 2h10v11H3V6zM10 13h6M13 10l3 3-3 3',
  more: 'M5 12h.01M12 12h.01M19 12h.01',
  clip: 'M20 11l-8 8a5 5 0 01-7-7l8-8a3.5 3.5 0 015 5l-8 8a2 2 0 01-3-3l7-7',
  close: 'M6 6l12 12M18 6L6 18',
  back: 'M15 5l-7 7 7 7',
  logout: 'M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10',
  logoutAll: 'M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10M3 3l18 18',
  plus: 'M12 5v14M5 12h14',
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
  next: 'M9 5l7 7-7 7',
  print: 'M7 9V3h10v6M7 17H4v-8h16v8h-3M7 14h10v7H7v-7z',
  thread: 'M4 5h12v8H9l-4 3v-3H4V5zM18 9h2v8h-1v3l-4-3h-5v-2',
  image: 'M4 5h16v14H4V5zM4 16l5-5 4 4 3-3 4 4M15 9h.01',
  keyboard: 'M3 6h18v12H3V6zM7 10h.01M11 10h.01M15 10h.01M7 14h10',
  dot: 'M12 10a2 2 0 100 4 2 2 0 000-4z',
  check: 'M5 12l5 5 9-10',
  up: 'M6 15l6-6 6 6',
  down: 'M6 9l6 6 6-6',
  sliders: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  settings: 'M12 9a3 3 0 100 6 3 3 0 000-6zM12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9L7 7M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1',
};

export function icon(name, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon' + (cls ? ' ' + cls : ''));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[name] || ICONS.dot);
  svg.append(p);
  return svg;
}

// An icon button with an accessible name (and tooltip).
export function iconButton(name, label, onclick, attrs = {}) {
  return h('button', Object.assign({ type: 'button', class: 'icon-btn', 'aria-label': label, title: label, onclick }, attrs), icon(name));
}

// Modal dialogs. Each returns a promise.
let dialogSeq = 0;
function modal(build) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog' });
    dlg.dataset.n = String(++dialogSeq);
    let result = null;
    const done = (v) => {
      result = v;
      dlg.close();
    };
    build(dlg, done);
    // Name and describe the dialog by its title and text, for screen readers.
    const title = dlg.querySelector('.dialog-title, .dialog-label');
    const text = dlg.querySelector('.dialog-text');
    if (title) { title.id = title.id || 'dlg-title-' + dlg.dataset.n; dlg.setAttribute('aria-labelledby', title.id); }
    if (text) { text.id = 'dlg-text-' + dlg.dataset.n; dlg.setAttribute(title ? 'aria-describedby' : 'aria-labelledby', text.id); }
    const prev = document.activeElement;
    dlg.addEventListener('close', () => {
      if (prev && prev.isConnected && typeof prev.focus === 'function') prev.focus({ preventScroll: true });
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function confirmDialog(message, { okLabel, danger } = {}) {
  return modal((dlg, done) => {
    const ok = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary' }, okLabel || t('ok'));
    dlg.append(
      h('form', { method: 'dialog', onsubmit: (e) => { e.preventDefault(); done(true); } },
        h('p', { class: 'dialog-text' }, message),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => done(false) }, t('cancel')), ok)));
    setTimeout(() => ok.focus(), 0);
  }).then((v) => v === true);
}

export function promptDialog(label, value = '') {
  return modal((dlg, done) => {
    const id = 'prompt-' + Math.random().toString(36).slice(2);
    const input = h('input', { id, type: 'text', value, required: true, autocomplete: 'off', maxlength: '255' });
    dlg.append(
      h('form', { onsubmit: (e) => { e.preventDefault(); const v = input.value.trim(); if (v) done(v); } },
        h('label', { for: id, class: 'dialog-label' }, label), input,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => done(null) }, t('cancel')),
          h('button', { type: 'submit', class: 'btn primary' }, t('ok')))));
    setTimeout(() => { input.focus(); input.select(); }, 0);
  });
}

// A text and a choice from a list (a new folder's name and its parent):
// choice: {label, options: [{label, value, depth}], value}. Resolves to
// {text, choice} or null.
export function promptChoiceDialog(label, choice, value = '') {
  return modal((dlg, done) => {
    const id = 'prompt-' + Math.random().toString(36).slice(2);
    const input = h('input', { id, type: 'text', value, required: true, autocomplete: 'off', maxlength: '255' });
    const select = h('select', { id: id + '-c', class: 'dialog-select' },
      choice.options.map((o) => h('option', { value: o.value, selected: o.value === choice.value ? true : null },
        '\u00a0\u00a0'.repeat(o.depth || 0) + o.label)));
    dlg.append(
      h('form', { onsubmit: (e) => { e.preventDefault(); const v = input.value.trim(); if (v) done({ text: v, choice: select.value }); } },
        h('label', { for: id, class: 'dialog-label' }, label), input,
        h('label', { for: id + '-c', class: 'dialog-sublabel' }, choice.label), select,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => done(null) }, t('cancel')),
          h('button', { type: 'submit', class: 'btn primary' }, t('ok')))));
    setTimeout(() => { input.focus(); input.select(); }, 0);
  });
}

// A list of choices: [{label, value, depth, icon}] -> value or null.
export function chooseDialog(title, choices) {
  return modal((dlg, done) => {
    const list = h('div', { class: 'choose-list', role: 'list' },
      choices.map((c) => h('div', { role: 'listitem' },
        h('button', { type: 'button', class: 'choose-item', style: `padding-left:${12 + (c.depth || 0) * 16}px`, onclick: () => done(c.value) },
          icon(c.icon || 'folder'), h('span', null, c.label)))));
    dlg.append(h('h2', { class: 'dialog-title' }, title), list,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => done(null) }, t('cancel'))));
    setTimeout(() => { const b = list.querySelector('button'); if (b) b.focus(); }, 0);
  });
}

export function infoDialog(title, content) {
  return modal((dlg, done) => {
    const close = h('button', { type: 'button', class: 'btn primary', onclick: () => done(true) }, t('close'));
    dlg.append(h('h2', { class: 'dialog-title' }, title), content, h('div', { class: 'dialog-actions' }, close));
    setTimeout(() => close.focus(), 0);
  });
}

// Text for the page with its bidi controls shown (bidi.js): text nodes, and for each
// control a small box with its short name (`RLO`) and its code and name as tooltip.
// Use it for whatever a sender wrote that is shown as a line: subjects, names,
// file names.
export function bidiText(text) {
  return bidiSegments(text).map((seg) => (typeof seg === 'string' ? seg
    : h('span', { class: 'bidi-ctl', title: seg.code + ' ' + seg.name, 'aria-label': seg.code + ' ' + seg.name }, seg.abbr)));
}
