// format.js: dates and sizes in the reader's language (Intl), pure and testable.

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// In the message list: today -> time; this year -> day and month; else the date.
// timeZone is for tests; the browser uses the local zone.
export function formatListDate(value, { locale, now = new Date(), timeZone } = {}) {
  const d = value instanceof Date ? value : new Date(value);
  if (isNaN(d)) return '';
  const tz = timeZone ? { timeZone } : {};
  const local = (x) => (timeZone ? new Date(x.toLocaleString('en-US', { timeZone })) : x);
  const ld = local(d);
  const ln = local(now);
  if (sameDay(ld, ln)) {
    return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...tz }).format(d);
  }
  const yesterday = new Date(ln);
  yesterday.setDate(ln.getDate() - 1);
  if (sameDay(ld, yesterday)) {
    try {
      return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(-1, 'day');
    } catch (e) {
      /* fall through */
    }
  }
  if (ld.getFullYear() === ln.getFullYear()) {
    return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', ...tz }).format(d);
  }
  return new Intl.DateTimeFormat(locale, { day: '2-digit', month: '2-digit', year: 'numeric', ...tz }).format(d);
}

// In the reading pane and in reply attributions: full date and time.
export function formatFullDate(value, { locale, timeZone } = {}) {
  const d = value instanceof Date ? value : new Date(value);
  if (isNaN(d)) return '';
  return new Intl.DateTimeFormat(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(timeZone ? { timeZone } : {}),
  }).format(d);
}

// 1536 -> "1.5 KB" / "1,5 KB" (decimal separator of the locale).
export function formatSize(bytes, locale) {
  const n = Number(bytes) || 0;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(v) + ' ' + units[i];
}

// RFC 8621 dates are RFC 3339 UTC strings.
export function toUTCDate(d = new Date()) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
