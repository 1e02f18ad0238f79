// errors.js: what went wrong, in a sentence a person understands (German or
// English through t). Network failures, HTTP statuses and JMAP error types
// (RFC 8620 section 3.6, RFC 8621 section 7.5) each have their own text; the
// technical detail stays in the console. Pure: no DOM, unit-tested.

// True when the request never got an answer (server down, network gone).
export function isNetworkError(e) {
  if (!e) return false;
  if (e.name === 'TypeError' && !e.type) return true; // fetch() rejects with TypeError
  return /Failed to fetch|NetworkError|Load failed|network/i.test(String(e.message || '')) && !e.type;
}

// Bytes as "49.6 MB" (decimal units, as the attachment chips show them).
export function plainSize(n, lang) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return new Intl.NumberFormat(lang || 'en', { maximumFractionDigits: digits }).format(v) + ' ' + units[i];
}

// The sentence for an error e. t: the translator; lang for numbers.
export function errorText(e, t, lang) {
  if (!e) return t('err.unknown', { type: '?' });
  if (isNetworkError(e)) return t('err.network');
  if (e.status === 401) return t('err.session');
  const d = e.detail || {};
  switch (e.type) {
    case 'invalidRecipients': {
      const list = (d.invalidRecipients || []).filter(Boolean).join(', ');
      return list ? t('err.invalidRecipients', { list }) : t('err.invalidRecipient');
    }
    case 'overQuota': return t('err.overQuota');
    case 'tooLarge': return d.maxSize ? t('err.tooLargeMax', { max: plainSize(d.maxSize, lang) }) : t('err.tooLarge');
    case 'forbiddenFrom':
    case 'forbiddenMailFrom': return t('err.forbiddenFrom');
    case 'forbiddenToSend': return t('err.forbiddenToSend');
    case 'tooManyRecipients': return d.maxRecipients ? t('err.tooManyRecipientsMax', { max: d.maxRecipients }) : t('err.tooManyRecipients');
    case 'noRecipients': return t('err.noRecipients');
    case 'rateLimit': return t('err.rateLimit');
    case 'stateMismatch': return t('err.stateMismatch');
    case 'requestTooLarge': return t('err.requestTooLarge');
    case 'invalidProperties': return t('err.invalidProperties');
    case 'alreadyExists': return t('err.alreadyExists');
    case 'notFound': return t('err.notFound');
    case 'forbidden': return t('err.forbidden');
    case 'serverFail':
    case 'serverUnavailable': return t('err.server');
    default: break;
  }
  if (e.status === 413) return t('err.tooLarge');
  if (e.status === 429) return t('err.rateLimit');
  if (e.status >= 500) return t('err.server');
  return t('err.unknown', { type: e.type || e.status || e.message || String(e) });
}

// RFC 2045 base64 with line breaks every 76 characters (CRLF): what a file of n
// bytes becomes in the message.
export function encodedSize(n) {
  const b64 = Math.ceil(n / 3) * 4;
  return b64 + Math.ceil(b64 / 76) * 2;
}

// The largest file that still fits when `limit` bytes is the whole message and
// `used` bytes (encoded) are taken: the inverse of encodedSize, rounded down.
export function largestFile(limit, used) {
  const room = limit - used - 4096; // headers and MIME boundaries
  if (room <= 0) return 0;
  let n = Math.floor((room * 76 / 78) * 3 / 4);
  while (n > 0 && encodedSize(n) > room) n -= 1;
  return n;
}
