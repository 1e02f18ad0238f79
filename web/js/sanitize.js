// sanitize.js: HTML mail for the sandboxed reading frame.
//
// Three layers, each enough on its own against scripts:
//  1. DOMPurify (loaded from /static/vendor/purify.min.js) removes scripts,
//     event handlers, javascript: URLs, forms, <meta>/<base>/<link>.
//  2. The frame has `sandbox` without allow-scripts and without
//     allow-same-origin: nothing in it runs, and it cannot reach our origin.
//  3. The frame's document carries its own CSP (FRAME_CSP): nothing may load
//     but data: and cid: images and inline styles. Remote images, CSS url()
//     beacons and fonts are blocked unless the reader asks for images.
// "Show images": the frame is rebuilt from the mail with allowRemote, its CSP
// becomes FRAME_CSP_REMOTE (images, and only images, from https: as well) and
// http:// or //host image addresses are rewritten to https://. A srcdoc frame
// also inherits the page's CSP, whose img-src therefore has https: (and only
// that remote scheme): the frame's own policy is what keeps remote images out
// until the click, besides layer 1 taking their addresses out.
// Without DOMPurify (not installed on the server) no HTML is rendered at all:
// getPurifier() returns null and the caller shows the text version.

import { rewriteCssUrls, isRemoteAddress } from './css.js';

export const FRAME_CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'";
export const FRAME_CSP_REMOTE = "default-src 'none'; img-src data: cid: https:; style-src 'unsafe-inline'";
export const SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

const FORBID_TAGS = ['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input',
  'button', 'textarea', 'select', 'option', 'meta', 'link', 'base', 'audio', 'video', 'source', 'track',
  'portal', 'noscript', 'template', 'dialog', 'title'];
const FORBID_ATTR = ['srcset', 'ping', 'formaction', 'action', 'xlink:href', 'autofocus', 'popover'];

export const PURIFY_CONFIG = {
  WHOLE_DOCUMENT: false,
  // Keeps <style> from the mail's <head> (parsed into the body instead of dropped).
  FORCE_BODY: true,
  FORBID_TAGS,
  FORBID_ATTR,
  ADD_ATTR: ['target'],
  ALLOW_UNKNOWN_PROTOCOLS: false,
  USE_PROFILES: { html: true },
};

// window.DOMPurify if it is usable, else null. Probes it once. The server
// embeds DOMPurify 3 from npm (pinned in web/vendor-lock), which passes the
// probe as it is. Only its fallback, Debian bookworm's node-dompurify
// 2.4.1+dfsg+~2.4.0-2+deb12u1 (the CVE-2024-47875 backport), needs help: it
// reads an undeclared `shadowNode` in sanitize() and throws a ReferenceError
// on every string with a tag. That line is a leftover: the per-node depth
// check it duplicates runs inside the node loop. A frozen global with depth 0
// turns the leftover into the no-op it was meant to be; if the probe still
// fails, HTML is not rendered at all.
export function getPurifier(win) {
  const p = win && win.DOMPurify;
  if (!p || typeof p.sanitize !== 'function' || typeof p.addHook !== 'function') return null;
  if (p.isSupported === false) return null;
  if (p.__postamtProbe === undefined) p.__postamtProbe = probe(win, p);
  return p.__postamtProbe ? p : null;
}

function probe(win, p) {
  const test = () => String(p.sanitize('<b>x</b><script>y</script><a href="javascript:z">w</a>')) === '<b>x</b><a>w</a>';
  try {
    return test();
  } catch (e) {
    if (!(e instanceof win.ReferenceError) || !/shadowNode/.test(e.message) || 'shadowNode' in win) return false;
  }
  try {
    Object.defineProperty(win, 'shadowNode', { value: Object.freeze({ __depth: 0 }), writable: false, configurable: false });
    return test();
  } catch (e) {
    return false;
  }
}

const REMOTE_URL = /^\s*(https?:)?\/\//i;

// Removes remote references from CSS text: every address that isRemoteAddress()
// in url() (however it is spelled: escapes, comments, case), in image-set(),
// -webkit-image-set(), image(), cross-fade() and src(), and every @import rule
// (css.js has the tokenizer). Returns {css, found}; css is the text as it was when
// nothing was found.
export function stripRemoteCss(css) {
  const r = rewriteCssUrls(css, (u) => (isRemoteAddress(u) ? null : u));
  if (!r.changed && r.imports === 0) return { css: String(css), found: false };
  return { css: r.css, found: true };
}

// With remote images allowed: http:// and protocol-relative addresses in CSS
// become https:// (the only remote scheme both CSPs allow), other remote schemes
// go; @import still goes (remote style sheets are not images, and no CSP allows
// them). The text comes back written from its tokens (escapes decoded).
export function upgradeRemoteCss(css) {
  const r = rewriteCssUrls(css, (u) => {
    if (!isRemoteAddress(u)) return u;
    return REMOTE_URL.test(u) ? upgradeRemoteUrl(u) : null;
  });
  return r.css;
}

// An image address with remote images allowed: https:// for http:// and //host.
export function upgradeRemoteUrl(v) {
  return String(v).trim().replace(/^(https?:)?\/\//i, 'https://');
}

// The per-element work, run by DOMPurify's afterSanitizeAttributes hook.
// el needs tagName, getAttribute, setAttribute, removeAttribute, hasAttribute.
// state: {allowRemote, cidUrls: Map(contentId -> url), remoteFound}
export function rewriteElement(el, state) {
  const tag = (el.tagName || '').toLowerCase();
  if (tag === 'a' || tag === 'area') {
    if (el.hasAttribute('href')) {
      const href = el.getAttribute('href');
      if (/^\s*#/.test(href)) {
        el.removeAttribute('target');
      } else {
        el.setAttribute('target', '_blank');
        el.setAttribute('rel', 'noopener noreferrer');
      }
    } else {
      el.removeAttribute('target');
    }
  } else if (el.hasAttribute && el.hasAttribute('target')) {
    el.removeAttribute('target');
  }
  for (const attr of ['src', 'background', 'poster']) {
    if (!el.hasAttribute(attr)) continue;
    const v = el.getAttribute(attr) || '';
    const cid = /^\s*cid:(.*)$/i.exec(v);
    if (cid) {
      const id = decodeURIComponent(cid[1]).replace(/^<|>$/g, '');
      const url = state.cidUrls && state.cidUrls.get(id);
      if (url) el.setAttribute(attr, url);
      else el.removeAttribute(attr);
    } else if (REMOTE_URL.test(v)) {
      state.remoteFound = true;
      if (!state.allowRemote) {
        el.removeAttribute(attr);
        el.setAttribute('data-blocked-' + attr, v);
      } else {
        el.setAttribute(attr, upgradeRemoteUrl(v));
      }
    } else if (!/^\s*data:image\//i.test(v)) {
      el.removeAttribute(attr);
    }
  }
  if (el.hasAttribute('style')) {
    const r = stripRemoteCss(el.getAttribute('style'));
    if (r.found) {
      state.remoteFound = true;
      el.setAttribute('style', state.allowRemote ? upgradeRemoteCss(el.getAttribute('style')) : r.css);
    }
  }
}

// Sanitizes an HTML body. Returns null when DOMPurify is missing or fails
// (render as text then); else {html, remoteFound}.
export function sanitizeEmailHtml(purify, html, { allowRemote = false, cidUrls = new Map() } = {}) {
  if (!purify) return null;
  const state = { allowRemote, cidUrls, remoteFound: false };
  const onElement = (node, data) => {
    if (data && data.tagName === 'style' && node.textContent) {
      const r = stripRemoteCss(node.textContent);
      if (r.found) {
        state.remoteFound = true;
        node.textContent = allowRemote ? upgradeRemoteCss(node.textContent) : r.css;
      }
    }
  };
  const onAttrs = (node) => {
    if (node && typeof node.getAttribute === 'function') rewriteElement(node, state);
  };
  purify.addHook('uponSanitizeElement', onElement);
  purify.addHook('afterSanitizeAttributes', onAttrs);
  let out;
  try {
    out = purify.sanitize(String(html || ''), PURIFY_CONFIG);
  } catch (e) {
    return null;
  } finally {
    purify.removeHook('afterSanitizeAttributes');
    purify.removeHook('uponSanitizeElement');
  }
  return { html: String(out), remoteFound: state.remoteFound };
}

// The complete document for <iframe sandbox srcdoc>. bodyHtml must already be
// sanitized. The CSP meta comes first in <head> so it governs everything.
export function buildSrcdoc(bodyHtml, { allowRemote = false } = {}) {
  const csp = allowRemote ? FRAME_CSP_REMOTE : FRAME_CSP;
  return (
    '<!DOCTYPE html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    '<meta name="referrer" content="no-referrer">' +
    '<meta name="color-scheme" content="light">' +
    '<style>html{background:#fff;color:#1d232b}body{margin:16px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
    'overflow-wrap:anywhere}img{max-width:100%;height:auto}pre{white-space:pre-wrap}table{max-width:100%}' +
    'blockquote{margin:0 0 0 .5em;padding-left:1em;border-left:3px solid #c9d1db;color:#4a5563}</style>' +
    '</head><body>' +
    bodyHtml +
    '</body></html>'
  );
}
