// Unit tests (node --test tests/web/) of the widget's outfit check (web/src/outfit.js); the demo page's picks and
// the widget's refusal in a browser are covered by tests/e2e/test_outfit_widget.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TUCKS, checkOutfit } from '../../web/src/outfit.js';

const top = { src: 't.png', category: 'tops', alt: 'Tee' };

test('tucks: out first (the default)', () => {
  assert.deepEqual([...TUCKS], ['out', 'in']);
});

test('one garment per category, a one-piece alone', () => {
  assert.throws(() => checkOutfit([top, { src: 'u.png', category: 'top', alt: 'Tank' }]),
    { name: 'UnsupportedCategoryError', message: /two tops in one outfit \(Tee and Tank\)/ });
  assert.throws(() => checkOutfit([{ src: 'd.png', category: 'dress', alt: 'Dress' }, { src: 'j.png', category: 'lower' }]),
    { name: 'UnsupportedCategoryError', message: /a one-piece \(Dress\) dresses the whole body/ });
  assert.throws(() => checkOutfit([top, { src: 'j.png', category: 'auto' }]),
    { name: 'TypeError', message: /garment 2: name its category/ });
  assert.throws(() => checkOutfit([]), { name: 'TypeError' });
});

test('a category the in-browser student does not dress is refused naming the garment', () => {
  assert.throws(() => checkOutfit([top, { src: 'j.png', category: 'bottoms', alt: 'Jeans' }]),
    { name: 'UnsupportedCategoryError', message: /^Jeans: this garment looks like 'bottoms'/ });
  assert.deepEqual(checkOutfit([top]).map((g) => g.category), ['tops']);
});

test('with a model that dresses bottoms, a top and a bottom pass in the order given', () => {
  const jeans = { src: 'j.png', category: 'lower_body', alt: 'Jeans' };
  assert.deepEqual(checkOutfit([top, jeans], ['tops', 'bottoms']).map((g) => [g.category, g.label]),
    [['tops', 'Tee'], ['bottoms', 'Jeans']]);
  assert.throws(() => checkOutfit([top, { src: 'x.png', category: 'hats' }]), { name: 'TypeError', message: /unknown garment category/ });
});
