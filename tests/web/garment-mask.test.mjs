// Unit tests (node --test tests/web/) of the widget's garment cut-out without a model (web/src/processing.js
// garmentCutout, stripFrame; web/src/garment-mask.js without a segmenter). With the real segmenter the combination
// is tested against Python in tests/garment/test_segmenter.py, and in the widget by tests/e2e/test_widget.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GarmentMasker } from '../../web/src/garment-mask.js';
import * as P from '../../web/src/processing.js';

const W = 180;
const H = 240;

/** A photo: `paper(x, y)` everywhere, `garment(x, y)` inside the rectangle [45, 135) x [40, 200). */
function photo(paper, garment) {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside = x >= 45 && x < 135 && y >= 40 && y < 200;
      data.set(inside ? garment(x, y) : paper(x, y), (y * W + x) * 3);
    }
  }
  return { data, width: W, height: H };
}

const grain = (x, y) => ((x * 7 + y * 13) % 3) - 1; // paper grain of ±1 level
const lightGrey = (x, y) => [242 + grain(x, y), 242 + grain(x, y), 242 + grain(x, y)]; // stripes 12-14 levels off
const stripes = (x, y) => (Math.floor(y / 6) % 2 ? [255, 255, 255] : [30, 40, 80]); // white stripes reach the outline

function iouWithRectangle(mask) {
  let inter = 0;
  let union = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = mask.data[y * W + x] > 0.5;
      const b = x >= 45 && x < 135 && y >= 40 && y < 200;
      inter += a && b;
      union += a || b;
    }
  }
  return inter / union;
}

test('a striped garment on light grey paper keeps its white stripes (the tolerance follows the paper\'s noise)', () => {
  const image = photo(lightGrey, stripes);
  const cut = P.garmentCutout(image);
  assert.equal(cut.plain, true);
  assert.ok(iouWithRectangle(P.softenCutout(cut, [H, W])) > 0.95);
  // At the fixed tolerance the widget used before (14 levels) the flood ran through the white stripes.
  const fixed = P.garmentCutout(image, { minTolerance: 14 });
  assert.ok(iouWithRectangle(P.softenCutout(fixed, [H, W])) < 0.7);
});

test('the cut-out is unsure of a white garment on white paper', () => {
  const cut = P.garmentCutout(photo((x, y) => [250 + grain(x, y), 250 + grain(x, y), 250 + grain(x, y)],
    (x, y) => [238 + grain(x, y), 238 + grain(x, y), 236 + grain(x, y)]));
  assert.ok(cut.confidence < 0.8, `confidence ${cut.confidence}`);
});

test('a frame rule round the photo is stripped before the border is read', () => {
  const image = photo(lightGrey, stripes);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) if (x < 2 || y < 2 || x >= W - 2 || y >= H - 2) image.data.set([90, 90, 90], (y * W + x) * 3);
  }
  const stripped = P.stripFrame(image);
  assert.deepEqual(Array.from(stripped.data.subarray(0, 3)), lightGrey(2, 2));
  assert.ok(iouWithRectangle(P.garmentMask(image)) > 0.95); // refused as "not plain" before
});

test('a smooth graded border goes to the segmenter, a textured one is refused', () => {
  // Peach paper lit from the left, darkening across the photo: no colour covers the border's half.
  const graded = (x) => { const k = 1 - 0.35 * (x / W); return [240 * k, 220 * k, 200 * k].map(Math.round); };
  const image = photo(graded, stripes);
  const cut = P.garmentCutout(image, { smoothNoise: 0.75 });
  assert.equal(cut.plain, false);
  assert.equal(cut.hard, null);
  assert.throws(() => P.garmentCutout(image), { name: 'BusyBackgroundError', message: /not plain/ });
  const textured = photo((x, y) => { const v = (x * 7919 + y * 104729) % 120 + 100; return [v, v, v]; }, stripes);
  assert.throws(() => P.garmentCutout(textured, { smoothNoise: 0.75 }), { name: 'BusyBackgroundError' });
});

test('without a segmenter the masker is the cut-out alone', async () => {
  const image = photo(lightGrey, stripes);
  const { mask, method } = await new GarmentMasker(null, null).mask(image);
  assert.equal(method, 'cutout');
  assert.deepEqual(Array.from(mask.data), Array.from(P.garmentMask(image).data));
  assert.throws(() => new GarmentMasker(async () => [], null), /garment_mask rules/);
});
