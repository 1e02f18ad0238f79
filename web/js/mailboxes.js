// mailboxes.js: folder order and tree, and the JMAP objects of drafts and
// sending. Pure. The patches of the list's actions (move, spam, flags) are in
// actions.js, the search box's language in search.js.

export const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

// Orders mailboxes as a tree: top level special-use folders first in
// ROLE_ORDER, then others by sortOrder and name; children under their parent.
// Returns [{mailbox, depth}].
export function mailboxTree(mailboxes, locale) {
  const byParent = new Map();
  const ids = new Set(mailboxes.map((m) => m.id));
  for (const m of mailboxes) {
    const p = m.parentId && ids.has(m.parentId) ? m.parentId : null;
    if (!byParent.has(p)) byParent.set(p, []);
    byParent.get(p).push(m);
  }
  const coll = new Intl.Collator(locale, { sensitivity: 'base', numeric: true });
  const rank = (m) => {
    const i = ROLE_ORDER.indexOf(m.role);
    return i < 0 ? ROLE_ORDER.length : i;
  };
  const cmp = (a, b) => rank(a) - rank(b) || (a.sortOrder || 0) - (b.sortOrder || 0) || coll.compare(a.name || '', b.name || '');
  const out = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    const kids = (byParent.get(parent) || []).slice().sort(cmp);
    for (const m of kids) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      out.push({ mailbox: m, depth });
      walk(m.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function findRole(mailboxes, role) {
  return mailboxes.find((m) => m.role === role) || null;
}

export const LIST_PROPERTIES = ['id', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'subject', 'receivedAt',
  'sentAt', 'preview', 'hasAttachment', 'size'];

export const READ_PROPERTIES = ['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'cc', 'bcc',
  'replyTo', 'sender', 'subject', 'receivedAt', 'sentAt', 'messageId', 'inReplyTo', 'references', 'preview',
  'hasAttachment', 'size', 'textBody', 'htmlBody', 'attachments', 'bodyValues'];

export const BODY_PROPERTIES = ['partId', 'blobId', 'size', 'name', 'type', 'charset', 'disposition', 'cid'];

// The email a draft or a message to send is made of (RFC 8621 4.6 create).
// d: {from: [addr], to, cc, bcc, subject, body, inReplyTo, references,
// attachments: [{blobId, type, name, size}]}, draftsId, keywords.
export function draftEmail(d, draftsId, keywords = { $draft: true, $seen: true }) {
  const e = {
    mailboxIds: { [draftsId]: true },
    keywords: Object.assign({}, keywords),
    from: d.from,
    subject: d.subject || '',
    bodyValues: { body: { value: d.body || '' } },
  };
  if (d.to && d.to.length) e.to = d.to;
  if (d.cc && d.cc.length) e.cc = d.cc;
  if (d.bcc && d.bcc.length) e.bcc = d.bcc;
  if (d.inReplyTo && d.inReplyTo.length) e.inReplyTo = d.inReplyTo;
  if (d.references && d.references.length) e.references = d.references;
  let text = { partId: 'body', type: 'text/plain' };
  // an HTML version (signature.js: the HTML signature) makes the text part
  // multipart/alternative
  if (d.html) {
    e.bodyValues.html = { value: d.html };
    text = { type: 'multipart/alternative', subParts: [text, { partId: 'html', type: 'text/html' }] };
  }
  const atts = (d.attachments || []).filter((a) => a.blobId);
  if (atts.length === 0 && !d.html) {
    e.textBody = [text];
  } else if (atts.length === 0) {
    e.bodyStructure = text;
  } else {
    e.bodyStructure = {
      type: 'multipart/mixed',
      subParts: [
        text,
        ...atts.map((a) => ({ blobId: a.blobId, type: a.type || 'application/octet-stream', name: a.name, disposition: 'attachment' })),
      ],
    };
  }
  return e;
}

// Recipients of the SMTP envelope (to, cc and bcc) for EmailSubmission.
export function envelopeFor(d) {
  const rcpt = [];
  const seen = new Set();
  for (const a of [...(d.to || []), ...(d.cc || []), ...(d.bcc || [])]) {
    const k = a.email.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    rcpt.push({ email: a.email, parameters: null });
  }
  return { mailFrom: { email: d.from[0].email, parameters: null }, rcptTo: rcpt };
}

// onSuccessUpdateEmail patch for a sent draft: out of Drafts into Sent,
// no longer a draft (RFC 8621 7.5).
export function sentPatch(draftsId, sentId) {
  const p = { 'keywords/$draft': null };
  if (draftsId) p['mailboxIds/' + draftsId] = null;
  if (sentId) p['mailboxIds/' + sentId] = true;
  return p;
}
