// images.js: when the reader shows a message's remote images without being
// asked. Never by default (sanitize.js blocks them); automatically only for a
// sender the user chose ("Always show images from this sender": the Settings
// object's imagesFrom) or, with the preference showImagesFromKnown, for a
// sender the user has written to (a contact with uses > 0, asked with
// ContactSuggestion/query exact; received mail alone does not make a sender
// known). Never for a message in Junk. Either way the frame stays sandboxed
// under the same policy as after "Show images".

export const IMAGES_FROM_MAX = 200;

export function senderOf(email) {
  const f = email && email.from && email.from[0];
  return f && typeof f.email === 'string' && f.email.includes('@') ? f.email.toLowerCase() : '';
}

export function listHas(list, address) {
  const a = (address || '').toLowerCase();
  return !!a && Array.isArray(list) && list.some((x) => String(x).toLowerCase() === a);
}

// The list with address added (lower case, once; the oldest entries dropped
// beyond IMAGES_FROM_MAX).
export function withSender(list, address) {
  const a = (address || '').toLowerCase();
  const out = (Array.isArray(list) ? list : []).map((x) => String(x).toLowerCase()).filter((x) => x !== a);
  if (a) out.push(a);
  return out.slice(Math.max(0, out.length - IMAGES_FROM_MAX));
}

export function withoutSender(list, address) {
  const a = (address || '').toLowerCase();
  return (Array.isArray(list) ? list : []).filter((x) => String(x).toLowerCase() !== a);
}

// The decision without asking the server: 'yes', 'no', or 'ask' (look the
// sender up in the contacts).
export function imagesDecision(prefs, address, { inJunk = false, canAsk = true } = {}) {
  if (!address || inJunk) return 'no';
  if (listHas(prefs && prefs.imagesFrom, address)) return 'yes';
  return prefs && prefs.showImagesFromKnown && canAsk ? 'ask' : 'no';
}

// A contact entry (ContactSuggestion/query) makes its address known when the
// user wrote to it.
export function isKnownContact(list, address) {
  const a = (address || '').toLowerCase();
  return Array.isArray(list) && list.some((c) => c && (c.email || '').toLowerCase() === a && Number(c.uses) > 0);
}

// Remembers the answers per page: address -> Promise<boolean>.
export class KnownSenders {
  constructor(client) {
    this.client = client;
    this.cache = new Map();
  }

  known(address) {
    if (!this.cache.has(address)) {
      const p = this.client.call('ContactSuggestion/query', { prefix: address, exact: true })
        .then((r) => isKnownContact(r.list, address))
        .catch(() => { this.cache.delete(address); return false; });
      this.cache.set(address, p);
    }
    return this.cache.get(address);
  }
}
