// keys.js: the keyboard shortcuts as a table. Pure: keyAction() maps a key and
// what the app shows to an action name; app.js has one function per action.
// The help dialog (?) is made from HELP, so table and help stay together.

// mode: 'bulk' while messages are checked (x), 'any' always, 'one' when a
// message is selected. Looked up in that order, so checked messages take the
// action keys. prevent: false leaves the key's default alone (Escape).
export const KEYS = [
  { mode: 'bulk', keys: ['Escape'], action: 'clearChecks' },
  { mode: 'bulk', keys: ['u'], action: 'bulkSeen' },
  { mode: 'bulk', keys: ['Delete', '#', 'Backspace'], action: 'bulkDelete' },
  { mode: 'bulk', keys: ['e'], action: 'bulkArchive' },
  { mode: 'bulk', keys: ['s'], action: 'bulkFlag' },
  { mode: 'bulk', keys: ['!'], action: 'bulkJunk' },
  { mode: 'bulk', keys: ['v', 'm'], action: 'bulkMove' },
  { mode: 'any', keys: ['x'], action: 'check' },
  { mode: 'any', keys: ['j'], action: 'next' },
  { mode: 'any', keys: ['k'], action: 'prev' },
  { mode: 'any', keys: ['/'], action: 'search' },
  { mode: 'any', keys: ['c'], action: 'compose' },
  { mode: 'any', keys: ['?'], action: 'help' },
  { mode: 'any', keys: ['z'], action: 'undo' },
  { mode: 'any', keys: ['Escape'], action: 'escape', prevent: false },
  { mode: 'one', keys: ['r'], action: 'reply' },
  { mode: 'one', keys: ['a'], action: 'replyAll' },
  { mode: 'one', keys: ['f'], action: 'forward' },
  { mode: 'one', keys: ['Delete', '#', 'Backspace'], action: 'delete' },
  { mode: 'one', keys: ['e'], action: 'archive' },
  { mode: 'one', keys: ['s'], action: 'flag' },
  { mode: 'one', keys: ['u'], action: 'seen' },
  { mode: 'one', keys: ['!'], action: 'junk' },
  { mode: 'one', keys: ['v', 'm'], action: 'move' },
];

// Keys of the focused message list (a listbox: arrows, Home/End, Enter/Space).
export const LIST_KEYS = {
  ArrowDown: 'down', ArrowUp: 'up', Home: 'first', End: 'last', Enter: 'open', ' ': 'open',
};

// key: KeyboardEvent.key; ctx: {checked: messages are checked, selected: a
// message is selected}. Returns {action, prevent} or null.
export function keyAction(key, { checked = false, selected = false } = {}) {
  for (const mode of ['bulk', 'any', 'one']) {
    if (mode === 'bulk' && !checked) continue;
    if (mode === 'one' && !selected) continue;
    const k = KEYS.find((e) => e.mode === mode && e.keys.includes(key));
    if (k) return { action: k.action, prevent: k.prevent !== false };
  }
  return null;
}

// Whether a keydown is the app's at all: not with Ctrl/Alt/Meta (the browser's
// and the system's), not while typing in a field.
export function isAppKey({ ctrlKey, metaKey, altKey, defaultPrevented }, target) {
  if (defaultPrevented || ctrlKey || metaKey || altKey) return false;
  return !(target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || '')));
}

// The help dialog: [keys as shown (or an i18n key "key.*" where the key's
// name differs by language), i18n key of the description].
export const HELP = [['j / ↓', 'shortcuts.next'], ['k / ↑', 'shortcuts.prev'], ['Enter', 'shortcuts.open'], ['r', 'shortcuts.reply'],
  ['a', 'shortcuts.replyAll'], ['f', 'shortcuts.forward'], ['key.delete', 'shortcuts.delete'], ['e', 'shortcuts.archive'],
  ['s', 'shortcuts.flag'], ['u', 'shortcuts.unread'], ['x', 'shortcuts.check'], ['!', 'shortcuts.junk'], ['v', 'shortcuts.move'], ['/', 'shortcuts.search'],
  ['z', 'shortcuts.undo'], ['c', 'shortcuts.compose'], ['Ctrl+Enter', 'shortcuts.sendKey'], ['Esc', 'shortcuts.escape'], ['?', 'shortcuts.help']];
