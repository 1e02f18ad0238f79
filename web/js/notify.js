// notify.js: desktop notifications for new mail, opt-in (the "notifications"
// preference, prefs.js, and the browser's permission). Only while the page is
// not being looked at, only when the inbox's unread count went up, one
// notification replacing the last (same tag). The decision is pure and tested.

// True when a notification is due: the count rose since the last look (not the
// first look after loading), the user opted in and the page is hidden.
export function shouldNotify(prev, unread, { enabled, permission, hidden }) {
  return prev !== null && unread > prev && !!enabled && permission === 'granted' && !!hidden;
}

let last = null;

// Called with the mailboxes after each load; t for the text.
export function noticeInbox(mailboxes, enabled, t) {
  const inbox = (mailboxes || []).find((m) => m.role === 'inbox');
  if (!inbox) return;
  const unread = inbox.unreadEmails || 0;
  const permission = typeof Notification !== 'undefined' ? Notification.permission : 'denied';
  const hidden = typeof document !== 'undefined' && document.hidden;
  if (shouldNotify(last, unread, { enabled, permission, hidden })) {
    const n = new Notification(t('notify.title'), { body: t('notify.body', { count: unread }), tag: 'postamt-new-mail' });
    n.onclick = () => { window.focus(); n.close(); };
  }
  last = unread;
}
