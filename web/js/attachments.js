// attachments.js: the attachment chips of a message, with image thumbnails,
// an image viewer (a modal dialog: previous/next with the arrow keys, Esc
// closes and gives focus back to the chip) and PDFs opened in the browser's own
// viewer. Previews load from the download URL with ?disposition=inline, which
// the server honours only for PDF and raster images (src/webd/jmap_http.c):
// an attacker's SVG or HTML is never shown, only saved.

import { h, icon, iconButton, bidiText } from './dom.js';
import { showBidi, safeFileName } from './bidi.js';
import { formatSize } from './format.js';

// Thumbnails are the image itself, scaled by the browser: above this size the
// chip shows the icon instead, so a message with large photos stays fast.
export const MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/i;

export function isPreviewImage(p) {
  return IMAGE_TYPES.test(p.type || '');
}

export function isPdf(p) {
  return /^application\/pdf$/i.test(p.type || '');
}

// A name for a part that has none (review B9: an invitation showed as a
// nameless "attachment").
export function attachmentName(p, t) {
  if (p.name) return p.name;
  const type = (p.type || '').toLowerCase();
  if (type === 'text/calendar' || type === 'application/ics') return t('att.invite');
  if (type === 'message/rfc822') return t('att.message');
  return t('att.unnamed');
}

export function inlineUrl(downloadUrl) {
  return downloadUrl + (downloadUrl.includes('?') ? '&' : '?') + 'disposition=inline';
}

// The attachments section. o: {t, lang, client, download(url, name)}.
export function attachmentsSection(list, o) {
  const { t, lang, client } = o;
  const images = list.filter(isPreviewImage);
  const items = list.map((p) => {
    const name = attachmentName(p, t);
    const url = client.downloadUrl(p.blobId, name, p.type);
    const size = h('span', { class: 'att-size muted' }, formatSize(p.size, lang));
    const dl = iconButton('download', t('reader.download') + ': ' + showBidi(name), () => o.download(url, safeFileName(name)), { class: 'icon-btn att-dl-btn' });
    if (isPreviewImage(p) || isPdf(p)) {
      const thumb = isPreviewImage(p) && p.size <= MAX_THUMBNAIL_BYTES
        ? h('img', { class: 'att-thumb', src: inlineUrl(url), alt: '', loading: 'lazy', decoding: 'async' })
        : icon(isPdf(p) ? 'clip' : 'image');
      const open = h('button', { type: 'button', class: 'attachment att-preview', title: t('att.preview', { name: showBidi(name) }) },
        thumb, h('span', { class: 'att-name' }, bidiText(name)), size);
      open.addEventListener('click', () => {
        if (isPdf(p)) window.open(inlineUrl(url), '_blank', 'noopener,noreferrer');
        else openViewer(images, images.indexOf(p), o, open);
      });
      return h('li', { class: 'att-item' }, open, dl);
    }
    const a = h('a', { class: 'attachment', href: url, download: safeFileName(name), title: t('reader.download') + ': ' + showBidi(name) },
      icon(/calendar/i.test(p.type || '') ? 'mail' : 'clip'), h('span', { class: 'att-name' }, bidiText(name)), size, icon('download', 'att-dl'));
    a.addEventListener('click', (ev) => { ev.preventDefault(); o.download(url, safeFileName(name)); });
    return h('li', { class: 'att-item' }, a);
  });
  return h('section', { class: 'attachments', 'aria-label': t('reader.attachments') }, h('ul', { role: 'list' }, items));
}

// The image viewer: one image at a time, fitted to the window.
export function openViewer(images, start, o, returnTo) {
  const { t, client } = o;
  let i = Math.max(0, start);
  const img = h('img', { class: 'viewer-img', alt: '' });
  const caption = h('p', { class: 'viewer-caption', id: 'viewer-caption' });
  const prev = iconButton('back', t('att.prev'), () => go(-1), { class: 'icon-btn viewer-prev' });
  const next = iconButton('next', t('att.next'), () => go(1), { class: 'icon-btn viewer-next' });
  const close = iconButton('close', t('att.close'), () => dlg.close(), { class: 'icon-btn viewer-close' });
  const save = h('button', { type: 'button', class: 'btn small' }, icon('download'), t('reader.download'));
  const dlg = h('dialog', { class: 'viewer', 'aria-label': t('att.viewer'), 'aria-describedby': 'viewer-caption' },
    h('div', { class: 'viewer-bar' }, caption, save, close),
    h('div', { class: 'viewer-stage' }, prev, img, next));
  function show() {
    const p = images[i];
    const name = attachmentName(p, t);
    const url = client.downloadUrl(p.blobId, name, p.type);
    img.src = inlineUrl(url);
    img.alt = showBidi(name);
    caption.textContent = showBidi(name) + (images.length > 1 ? ' · ' + t('att.count', { i: i + 1, n: images.length }) : '');
    save.onclick = () => o.download(url, safeFileName(name));
    prev.hidden = next.hidden = images.length < 2;
  }
  function go(d) {
    i = (i + d + images.length) % images.length;
    show();
  }
  dlg.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') { e.preventDefault(); go(-1); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); go(1); }
  });
  dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (returnTo && returnTo.isConnected) returnTo.focus({ preventScroll: true });
  });
  show();
  document.body.append(dlg);
  dlg.showModal();
  close.focus();
  return dlg;
}
