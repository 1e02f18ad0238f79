// Unit tests of web/js/sanitize.js: the DOMPurify wrapper (with a stand-in
// purifier: the real one needs a DOM and is exercised in the browser tests),
// element rewriting, CSS stripping and the frame document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPurifier, sanitizeEmailHtml, rewriteElement, stripRemoteCss, upgradeRemoteCss, upgradeRemoteUrl, buildSrcdoc, FRAME_CSP, FRAME_CSP_REMOTE, PURIFY_CONFIG, SANDBOX } from '../js/sanitize.js';

class FakeEl {
  constructor(tagName, attrs = {}) {
    this.tagName = tagName.toUpperCase();
    this.attrs = new Map(Object.entries(attrs));
  }
  getAttribute(n) { return this.attrs.has(n) ? this.attrs.get(n) : null; }
  setAttribute(n, v) { this.attrs.set(n, String(v)); }
  removeAttribute(n) { this.attrs.delete(n); }
  hasAttribute(n) { return this.attrs.has(n); }
  obj() { return Object.fromEntries(this.attrs); }
}

// A stand-in with DOMPurify's API: runs the hooks on given elements and
// returns a fixed string.
function fakePurify(elements, output = '<p>ok</p>') {
  const hooks = {};
  return {
    isSupported: true,
    config: null,
    addHook(name, fn) { (hooks[name] = hooks[name] || []).push(fn); },
    removeHook(name) { (hooks[name] || []).pop(); },
    hooks,
    sanitize(html, cfg) {
      this.config = cfg;
      for (const el of elements) {
        for (const fn of hooks.uponSanitizeElement || []) fn(el, { tagName: el.tagName.toLowerCase() });
        for (const fn of hooks.afterSanitizeAttributes || []) fn(el);
      }
      return output;
    },
  };
}

test('no DOMPurify: no purifier, sanitize returns null (text only)', () => {
  assert.equal(getPurifier({}), null);
  assert.equal(getPurifier(null), null);
  assert.equal(getPurifier({ DOMPurify: { sanitize: 1 } }), null);
  assert.equal(getPurifier({ DOMPurify: { sanitize() {}, addHook() {}, isSupported: false } }), null);
  assert.equal(sanitizeEmailHtml(null, '<b>x</b>'), null);
});

test('a purifier that fails its probe or throws is not used', () => {
  const broken = { sanitize: () => '<b>x</b><script>y</script>', addHook() {}, removeHook() {} };
  assert.equal(getPurifier({ DOMPurify: broken, ReferenceError }), null);
  const throwing = { sanitize() { throw new Error('boom'); }, addHook() {}, removeHook() {} };
  assert.equal(getPurifier({ DOMPurify: throwing, ReferenceError }), null);
  assert.equal(sanitizeEmailHtml(throwing, '<b>x</b>'), null);
});

test('the Debian 2.4.1+deb12u1 shadowNode leftover is neutralised', () => {
  const win = { ReferenceError };
  win.DOMPurify = {
    addHook() {}, removeHook() {},
    sanitize(s) {
      if (!('shadowNode' in win)) throw new ReferenceError('shadowNode is not defined');
      assert.equal(win.shadowNode.__depth, 0);
      return s.replace(/<script>.*?<\/script>/, '').replace(' href="javascript:z"', '');
    },
  };
  assert.equal(getPurifier(win), win.DOMPurify);
  assert.ok(Object.isFrozen(win.shadowNode));
  assert.equal(getPurifier(win), win.DOMPurify); // probed once
});

test('config forbids active and loading elements', () => {
  for (const tag of ['script', 'iframe', 'object', 'embed', 'form', 'input', 'meta', 'link', 'base']) assert.ok(PURIFY_CONFIG.FORBID_TAGS.includes(tag), tag);
  assert.equal(PURIFY_CONFIG.WHOLE_DOCUMENT, false);
  const p = fakePurify([]);
  sanitizeEmailHtml(p, '<p>x</p>');
  assert.equal(p.config, PURIFY_CONFIG);
  assert.deepEqual(p.hooks.afterSanitizeAttributes, []);
  assert.deepEqual(p.hooks.uponSanitizeElement, []);
});

test('remote images are blocked and reported; allowed on request', () => {
  const mk = () => [new FakeEl('img', { src: 'https://tracker.example/p.gif', alt: 'x' }), new FakeEl('td', { background: '//cdn.example/bg.png' }), new FakeEl('img', { src: 'data:image/png;base64,AAAA' })];
  let els = mk();
  const r = sanitizeEmailHtml(fakePurify(els), 'ignored');
  assert.equal(r.remoteFound, true);
  assert.deepEqual(els[0].obj(), { alt: 'x', 'data-blocked-src': 'https://tracker.example/p.gif' });
  assert.deepEqual(els[1].obj(), { 'data-blocked-background': '//cdn.example/bg.png' });
  assert.deepEqual(els[2].obj(), { src: 'data:image/png;base64,AAAA' });
  els = mk();
  const r2 = sanitizeEmailHtml(fakePurify(els), 'ignored', { allowRemote: true });
  assert.equal(r2.remoteFound, true);
  assert.equal(els[0].getAttribute('src'), 'https://tracker.example/p.gif');
  assert.equal(els[1].getAttribute('background'), 'https://cdn.example/bg.png');
  const plain = new FakeEl('img', { src: ' http://old.example/p.gif' });
  sanitizeEmailHtml(fakePurify([plain]), 'ignored', { allowRemote: true });
  assert.equal(plain.getAttribute('src'), 'https://old.example/p.gif', 'http: images are asked for over https:');
  const none = sanitizeEmailHtml(fakePurify([new FakeEl('p')]), 'x');
  assert.equal(none.remoteFound, false);
});

test('cid: images map to loaded data URLs or disappear', () => {
  const els = [new FakeEl('img', { src: 'cid:logo@x' }), new FakeEl('img', { src: 'cid:%3Cother@x%3E' }), new FakeEl('img', { src: 'cid:missing@x' }), new FakeEl('img', { src: 'file:///etc/passwd' })];
  sanitizeEmailHtml(fakePurify(els), 'x', { cidUrls: new Map([['logo@x', 'data:image/png;base64,AA'], ['other@x', 'data:image/gif;base64,BB']]) });
  assert.equal(els[0].getAttribute('src'), 'data:image/png;base64,AA');
  assert.equal(els[1].getAttribute('src'), 'data:image/gif;base64,BB');
  assert.equal(els[2].hasAttribute('src'), false);
  assert.equal(els[3].hasAttribute('src'), false);
});

test('links open in a new tab without referrer; in-page anchors stay', () => {
  const a = new FakeEl('a', { href: 'https://example.test/' });
  const b = new FakeEl('a', { href: '#top', target: '_top' });
  const d = new FakeEl('div', { target: '_top' });
  const state = { allowRemote: false, cidUrls: new Map(), remoteFound: false };
  for (const el of [a, b, d]) rewriteElement(el, state);
  assert.deepEqual(a.obj(), { href: 'https://example.test/', target: '_blank', rel: 'noopener noreferrer' });
  assert.deepEqual(b.obj(), { href: '#top' });
  assert.deepEqual(d.obj(), {});
});

test('CSS url() beacons and @import are stripped from style attributes and <style>', () => {
  assert.deepEqual(stripRemoteCss('background:url("https://t.example/x.gif") ; color:red'), { css: 'background:url() ; color:red', found: true });
  assert.deepEqual(stripRemoteCss("a{background-image:url(//t.example/y)}"), { css: 'a{background-image:url()}', found: true });
  assert.deepEqual(stripRemoteCss('@import url(https://t.example/a.css); p{}'), { css: ' p{}', found: true });
  assert.deepEqual(stripRemoteCss('p{background:url(data:image/png;base64,AA)}'), { css: 'p{background:url(data:image/png;base64,AA)}', found: false });
  assert.deepEqual(stripRemoteCss('p{background:url(cid:x)}'), { css: 'p{background:url(cid:x)}', found: false });
  assert.equal(stripRemoteCss('p{background:url(ftp://x/y)}').found, true);
  const el = new FakeEl('div', { style: 'background:url(https://t.example/x)' });
  const style = new FakeEl('style');
  style.textContent = 'p{background:url(https://t.example/y)}';
  const r = sanitizeEmailHtml(fakePurify([el, style]), 'x');
  assert.equal(r.remoteFound, true);
  assert.equal(el.getAttribute('style'), 'background:url()');
  assert.equal(style.textContent, 'p{background:url()}');
});

test('shown remote images: CSS url() upgraded to https:, @import still removed', () => {
  assert.equal(upgradeRemoteCss('a{background:url( "http://t.example/x")} b{background:url(//t.example/y)}'),
    'a{background:url("https://t.example/x")} b{background:url(https://t.example/y)}');
  assert.equal(upgradeRemoteCss('@import url(https://t.example/a.css); p{background:url(https://t.example/z)}'), ' p{background:url(https://t.example/z)}');
  assert.equal(upgradeRemoteCss('p{background:url(data:image/png;base64,AA)}'), 'p{background:url(data:image/png;base64,AA)}');
  assert.equal(upgradeRemoteUrl(' //cdn.example/a'), 'https://cdn.example/a');
  assert.equal(upgradeRemoteUrl('HTTP://cdn.example/a'), 'https://cdn.example/a');
  assert.equal(upgradeRemoteUrl('https://cdn.example/a'), 'https://cdn.example/a');
  const el = new FakeEl('div', { style: 'background:url(http://t.example/x)' });
  const style = new FakeEl('style');
  style.textContent = '@import "https://t.example/s.css"; p{background:url(//t.example/y)}';
  const r = sanitizeEmailHtml(fakePurify([el, style]), 'x', { allowRemote: true });
  assert.equal(r.remoteFound, true);
  assert.equal(el.getAttribute('style'), 'background:url(https://t.example/x)');
  assert.equal(style.textContent, ' p{background:url(https://t.example/y)}');
});

test('frame document: CSP meta first, no scripts allowed anywhere', () => {
  const doc = buildSrcdoc('<p>hi</p>');
  assert.ok(doc.startsWith('<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="' + FRAME_CSP + '">'));
  assert.ok(doc.endsWith('<body><p>hi</p></body></html>'));
  assert.equal(FRAME_CSP, "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'");
  assert.ok(buildSrcdoc('x', { allowRemote: true }).includes(FRAME_CSP_REMOTE));
  // after "show images": remote images over https: only, still nothing else
  assert.equal(FRAME_CSP_REMOTE, "default-src 'none'; img-src data: cid: https:; style-src 'unsafe-inline'");
  assert.ok(!/script-src|unsafe-eval/.test(FRAME_CSP_REMOTE));
  assert.ok(!SANDBOX.includes('allow-scripts'));
  assert.ok(!SANDBOX.includes('allow-same-origin'));
});

// Finding 12 of the December 2026 review: the first layer must see every spelling
// of a remote CSS reference that a browser would load, not only the text `url(`.
test('escaped, commented and other CSS loaders are found and blocked', () => {
  const remote = [
    ['escaped url(', 'background:u\\72l(https://t.example/a)'],
    ['escaped first letter', 'background:\\75rl(https://t.example/a)'],
    ['escape with its whitespace', 'background:\\75 rl(https://t.example/a)'],
    ['escape with CRLF', 'background:\\75\r\nrl(https://t.example/a)'],
    ['six-digit escape', 'background:\\000075rl(https://t.example/a)'],
    ['upper case', 'background:URL(https://t.example/a)'],
    ['escaped upper case', 'background:\\55 RL(https://t.example/a)'],
    ['escaped address', 'background:url(\\68ttps://t.example/a)'],
    ['escaped address in a string', 'background:url("\\68ttps://t.example/a")'],
    ['escaped slashes', "background:url('https:\\2f\\2ft.example/a')"],
    ['comment inside', 'background:image-set(/**/"https://t.example/a"/**/ 1x)'],
    ['comment before', 'background:/*x*/url(https://t.example/a)'],
    ['image-set', "background-image:image-set('https://t.example/a' 1x)"],
    ['image-set with url()', 'background-image:image-set(url(https://t.example/a) 1x)'],
    ['-webkit-image-set', 'background-image:-webkit-image-set("//t.example/a" 1x, "https://t.example/b" 2x)'],
    ['escaped image-set', 'background-image:\\69mage-set("https://t.example/a" 1x)'],
    ['image()', 'background-image:image("https://t.example/a")'],
    ['cross-fade', 'background-image:cross-fade(url(https://t.example/a), url(data:image/png;base64,AA) 50%)'],
    ['-webkit-cross-fade', 'background-image:-webkit-cross-fade(url(//t.example/a), url(//t.example/b), 50%)'],
    ['src()', 'background-image:src("https://t.example/a")'],
    ['escaped @import', "@\\69mport 'https://t.example/s.css'; p{}"],
    ['@import with a comment', '@import/**/"https://t.example/s.css"; p{}'],
    ['@IMPORT', '@IMPORT url(https://t.example/s.css); p{}'],
    ['font-face src', "@font-face{font-family:x;src:u\\rl(https://t.example/f.woff)}"],
  ];
  for (const [name, css] of remote) {
    const r = stripRemoteCss(css);
    assert.equal(r.found, true, name);
    assert.ok(!/t\.example/.test(r.css), name + ': ' + r.css);
    assert.ok(!/\\/.test(r.css.replace(/\\[0-9a-f]+ /g, '')), name + ': stray escape in ' + r.css);
  }
  // what stays, stays (and comments in a text without remote content are kept)
  for (const css of ['p{background:u\\72l(data:image/png;base64,AA)}', 'p{background:image-set("cid:a" 1x)}',
    'p/*c*/{color:red}', 'p{content:"url(https://t.example/not-a-load)"}', 'p{font-family:"Image Set"}',
    'p{background:u/**/rl(https://t.example/two-tokens)}', 'p{background:url(/**/"https://t.example/bad-url")}']) {
    assert.deepEqual(stripRemoteCss(css), { css, found: false }, css);
  }
  // what is written back keeps its meaning, and nothing decodes into markup
  assert.equal(stripRemoteCss('p{color:r\\65 d;background:u\\72l(https://t.example/a)}').css, 'p{color:red;background:url()}');
  assert.equal(stripRemoteCss('p{content:"\\3c/style>";background:url(//t.example/a)}').css, 'p{content:"\\3c /style\\3e ";background:url()}');
  assert.equal(stripRemoteCss('@import "x.css"; p{background:image-set("https://t.example/a" 1x, "b.png" 2x)}').css,
    ' p{background:image-set("" 1x, "b.png" 2x)}');
  assert.equal(stripRemoteCss('@media print{@import "https://t.example/s.css"}p{background:url(//t.example/a)}').css,
    '@media print{}p{background:url()}');
});

test('escaped CSS loaders in style attributes and <style>: blocked with the notice, shown on request', () => {
  const mk = () => {
    const el = new FakeEl('div', { style: 'background:u\\72l(https://t.example/x)' });
    const style = new FakeEl('style');
    style.textContent = "@\\69mport 'https://t.example/s.css'; p{background:-webkit-image-set('http://t.example/y' 1x)}";
    return [el, style];
  };
  let [el, style] = mk();
  const r = sanitizeEmailHtml(fakePurify([el, style]), 'x');
  assert.equal(r.remoteFound, true, 'the "Remote images were blocked" notice shows');
  assert.equal(el.getAttribute('style'), 'background:url()');
  assert.equal(style.textContent, ' p{background:-webkit-image-set("" 1x)}');
  [el, style] = mk();
  const shown = sanitizeEmailHtml(fakePurify([el, style]), 'x', { allowRemote: true });
  assert.equal(shown.remoteFound, true);
  assert.equal(el.getAttribute('style'), 'background:url(https://t.example/x)');
  assert.equal(style.textContent, ' p{background:-webkit-image-set("https://t.example/y" 1x)}');
  assert.equal(upgradeRemoteCss('p{background:url(ftp://t.example/z)}'), 'p{background:url()}', 'no CSP allows other schemes');
});
