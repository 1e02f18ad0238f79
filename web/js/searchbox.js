// searchbox.js: the search field in the top bar (search as you type, after a
// pause; Enter at once) and the search bar above the results: where the search
// looks (a folder choice that writes in: into the query) and the hints of
// search.js for what was not understood.

import { h, icon, clear } from './dom.js';

// Typing pauses this long before the search runs: long enough not to search
// for every letter, short enough to feel immediate.
export const DEBOUNCE_MS = 250;

// The query without its in: operators (the scope choice puts its own).
export function withScope(query, scope) {
  const rest = query.replace(/(^|\s)in:(?:"[^"]*"|\S*)/gi, ' ').replace(/\s+/g, ' ').trim();
  if (!scope) return rest;
  const word = /[\s"]/.test(scope) ? '"' + scope.replace(/"/g, '') + '"' : scope;
  return (rest ? rest + ' ' : '') + 'in:' + word;
}

export class SearchBox {
  // opts: {t, phone (MediaQueryList), onSearch(query, {now}), folders():
  // [{label, value, depth}] for the scope choice}
  constructor(opts) {
    const { t, phone } = opts;
    this.opts = opts;
    this.timer = 0;
    this.input = h('input', { id: 'search', type: 'search', placeholder: t('search.placeholder'), autocomplete: 'off',
      'aria-label': t('search'), enterkeyhint: 'search', 'aria-describedby': 'search-hint' });
    this.form = h('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); this.fire(true); } },
      icon('search', 'search-icon'), this.input);
    this.input.addEventListener('input', () => this.fire(false));
    // The long hint does not fit at phone width.
    const placeholder = () => { this.input.placeholder = phone.matches ? t('search') : t('search.placeholder'); };
    placeholder();
    phone.addEventListener('change', placeholder);
    this.scope = h('select', { id: 'search-scope', class: 'sort', 'aria-label': t('search.scope') });
    this.scope.addEventListener('change', () => {
      this.input.value = withScope(this.input.value, this.scope.value);
      this.fire(true);
    });
    this.hint = h('p', { id: 'search-hint', class: 'search-hint muted', role: 'status', 'aria-live': 'polite' });
    this.bar = h('div', { class: 'search-bar', hidden: true }, h('label', { class: 'muted', for: 'search-scope' }, t('search.scope')), this.scope, this.hint);
  }

  // now: Enter (at once); else after DEBOUNCE_MS without typing.
  fire(now) {
    clearTimeout(this.timer);
    const run = () => this.opts.onSearch(this.input.value.trim());
    if (now) run();
    else this.timer = setTimeout(run, DEBOUNCE_MS);
  }

  set value(q) {
    clearTimeout(this.timer);
    this.input.value = q;
  }

  // Shows the bar of a search: parsed is search.js parseQuery's answer.
  show(parsed) {
    const { t } = this.opts;
    this.bar.hidden = false;
    clear(this.scope);
    const cur = parsed.folder ? parsed.folder.name : parsed.all ? 'all' : '';
    this.scope.append(h('option', { value: '' }, t('search.scopeAll')), h('option', { value: 'all' }, t('search.scopeEverywhere')));
    for (const f of this.opts.folders()) {
      this.scope.append(h('option', { value: f.value }, '\u00a0'.repeat(2 * f.depth) + f.label));
    }
    this.scope.value = cur;
    if (this.scope.value !== cur) this.scope.value = ''; // a folder named like a role word
    this.hint.textContent = parsed.hints.map((x) => t(x.key, x.vars)).join(' ');
  }

  hide() {
    this.bar.hidden = true;
    this.hint.textContent = '';
  }
}
