// Unit tests (node --test tests/web/) of the widget's port of the teacher's peel (web/src/garment-mask.js
// trimBackdropFringe, GarmentMasker.peel) on drawn photos. Against Python's trim_backdrop_fringe on real photos:
// tests/web/test_peel_parity.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GarmentMasker, trimBackdropFringe } from '../../web/src/garment-mask.js';
import { PEEL_RULES } from './fixtures.mjs';

const W = 224;
const H = 224;
const inside = (x, y) => x >= 60 && x < 164 && y >= 40 && y < 190; // the garment: a 104-px-wide block

/**
 * A garment photo on white paper with a ring of `ring` colour `width` pixels round the garment, and a mask holding
 * the garment and the ring (as a cut-out takes a ring a few CIELAB units off the paper).
 * @param {(x: number, y: number) => boolean} [where] which ring pixels get the colour (default: all round)
 */
function photo(garment, ring, width, where = () => true) {
  const data = new Uint8Array(W * H * 3).fill(255);
  const mask = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      let near = false;
      for (let d = 1; d <= width && !near; d++) {
        near = inside(x - d, y) || inside(x + d, y) || inside(x, y - d) || inside(x, y + d);
      }
      if (inside(x, y)) { data.set(garment, 3 * p); mask[p] = 1; } else if (near && where(x, y)) {
        data.set(ring, 3 * p); mask[p] = 1;
      }
    }
  }
  return { image: { data, width: W, height: H }, mask: { data: mask, width: W, height: H } };
}

/** Pixels of `mask` over 0.5 that `pick(x, y)` selects. */
function kept(mask, pick) {
  let n = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) n += pick(x, y) && mask.data[y * W + x] > 0.5 ? 1 : 0;
  return n;
}

test('the paper tinted by a yellow garment is peeled; a pale yellow garment keeps its edge', () => {
  // JPEG's halved chroma round a yellow tee on white: (255, 253, 221) beside (248, 220, 50), 3-15 CIELAB units off
  // the paper, beyond the fringe's 2.5.
  const { image, mask } = photo([248, 220, 50], [255, 253, 221], 2);
  const out = trimBackdropFringe(image, mask, PEEL_RULES);
  const ring = (x, y) => !inside(x, y);
  assert.ok(kept(mask, ring) > 800);
  assert.ok(kept(out, ring) < 0.05 * kept(mask, ring), `${kept(out, ring)} of ${kept(mask, ring)} ring pixels kept`);
  assert.equal(kept(out, inside), kept(mask, inside));
  // A pale garment's edge is its own colour, not tinted paper: it stays.
  const pale = photo([255, 250, 215], [255, 250, 215], 0);
  const palePeeled = trimBackdropFringe(pale.image, pale.mask, PEEL_RULES);
  assert.ok(kept(palePeeled, inside) > 0.97 * kept(pale.mask, inside));
});

test('a dark garment\'s grey shadow under its hem is peeled, its own grey is not', () => {
  const below = (x, y) => y >= 190; // the shadow falls below the hem
  const { image, mask } = photo([25, 25, 30], [205, 205, 205], 4, below);
  const out = trimBackdropFringe(image, mask, PEEL_RULES);
  assert.ok(kept(mask, below) > 400);
  assert.ok(kept(out, below) < 0.1 * kept(mask, below), `${kept(out, below)} of ${kept(mask, below)} kept`);
  assert.equal(kept(out, inside), kept(mask, inside));
  // A grey garment with the same grey at its hem: the grey is one of its colours there, so it is no shadow.
  const grey = photo([205, 205, 205], [205, 205, 205], 4, below);
  const greyPeeled = trimBackdropFringe(grey.image, grey.mask, PEEL_RULES);
  assert.ok(kept(greyPeeled, below) > 0.9 * kept(grey.mask, below));
});

test('a mask with nothing to peel comes back as it is', () => {
  const { image, mask } = photo([30, 60, 160], [0, 0, 0], 0);
  assert.equal(trimBackdropFringe(image, mask, PEEL_RULES), mask);
  assert.equal(trimBackdropFringe({ ...image, width: W - 1 }, mask, PEEL_RULES), mask); // sizes differ
});

test('the masker peels the categories the manifest names, with the manifest\'s thresholds only', () => {
  const { image, mask } = photo([248, 220, 50], [255, 253, 221], 2);
  const masker = new GarmentMasker(async () => [], { size: [128, 96], ...PEEL_RULES });
  assert.notEqual(masker.peel(image, mask, 'tops'), mask);
  assert.notEqual(masker.peel(image, mask, 'one-pieces'), mask);
  assert.equal(masker.peel(image, mask, 'bottoms'), mask); // the teacher draws bottoms from the whole mask
  // A manifest from before the peel, or the cut-out alone without the segmenter's rules: the whole mask.
  assert.equal(new GarmentMasker(async () => [], { size: [128, 96] }).peel(image, mask, 'tops'), mask);
  assert.equal(new GarmentMasker(null, null).peel(image, mask, 'tops'), mask);
});
