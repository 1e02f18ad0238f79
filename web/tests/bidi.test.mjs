// Unit tests of web/js/bidi.js: bidirectional controls in subjects, names and file
// names are shown as markers, never obeyed (file-name spoofing such as
// `invoice\u202Efdp.exe`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIDI_CONTROLS, bidiSegments, hasBidiControls, showBidi, safeFileName } from '../js/bidi.js';

const ALL = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];

test('every explicit directional control is known by name', () => {
  assert.deepEqual([...BIDI_CONTROLS.keys()].sort((a, b) => a - b), ALL);
  for (const cp of ALL) {
    const s = 'a' + String.fromCodePoint(cp) + 'b';
    assert.equal(hasBidiControls(s), true, cp.toString(16));
    const segs = bidiSegments(s);
    assert.equal(segs.length, 3);
    assert.equal(segs[1].code, 'U+' + cp.toString(16).toUpperCase().padStart(4, '0'));
    assert.equal(segs[1].abbr, BIDI_CONTROLS.get(cp)[0]);
    assert.ok(!/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(showBidi(s)), 'shown as a marker: ' + showBidi(s));
  }
});

test('a spoofed file name shows its override; the rest stays intact', () => {
  const name = 'invoice\u202Efdp.exe';
  assert.deepEqual(bidiSegments(name), ['invoice', { code: 'U+202E', abbr: 'RLO', name: 'RIGHT-TO-LEFT OVERRIDE' }, 'fdp.exe']);
  assert.equal(showBidi(name), 'invoice[RLO]fdp.exe');
  assert.equal(safeFileName(name), 'invoice_fdp.exe');
  assert.equal(showBidi('Re: \u2067abc\u2069 \u200f'), 'Re: [RLI]abc[PDI] [RLM]');
  assert.deepEqual(bidiSegments('\u202Dx'), [{ code: 'U+202D', abbr: 'LRO', name: 'LEFT-TO-RIGHT OVERRIDE' }, 'x']);
});

test('text without controls, right-to-left scripts and other format characters are kept', () => {
  for (const s of ['', 'Hello', 'שלום עולם', 'مرحبا', 'a\u200db', 'x\u00adý', '日本語']) {
    assert.equal(hasBidiControls(s), false, s);
    assert.equal(showBidi(s), s);
    assert.equal(safeFileName(s), s);
    assert.deepEqual(bidiSegments(s), s ? [s] : []);
  }
  assert.equal(showBidi(undefined), '');
  assert.equal(showBidi(null), '');
});
