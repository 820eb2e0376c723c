// Unit tests (node --test tests/web/) of web/src/framing.js: ROI geometry, people count, the upper-body box and
// its refusals, crops, the student guard and the One Euro filter. The agreement with tryon.framing on the same
// inputs is tests/web/test_framing_golden.py; with the real models in the browser, tests/e2e/test_framing.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as F from '../../web/src/framing.js';
import * as G from '../../web/src/guard.js';
import { DEFAULT_CATEGORIES, ErrorName, normaliseCategory, resolveCategory } from '../../web/src/protocol.js';
import { CFG, FRONT, keypoints } from './fixtures.mjs';

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);
const throwsNamed = (fn, name) => assert.throws(fn, (e) => e.name === name);

test('roiMatrix maps the ROI centre to the crop centre and roiToImage inverts it', () => {
  const roi = { cx: 321.5, cy: 120.25, side: 400, rotation: 0.7 };
  const [a, b, tx, c, d, ty] = F.roiMatrix(roi);
  close(a * roi.cx + b * roi.cy + tx, F.POSE_SIZE / 2, 1e-9);
  close(c * roi.cx + d * roi.cy + ty, F.POSE_SIZE / 2, 1e-9);
  const back = F.roiToImage(roi, [0, 0, 256, 256]);
  // The crop's corners are side / sqrt(2) · sqrt(2) = side / 2 · sqrt(2) from the centre.
  close(Math.hypot(back[0] - roi.cx, back[1] - roi.cy), roi.side / Math.SQRT2, 1e-6);
  close(Math.hypot(back[2] - roi.cx, back[3] - roi.cy), roi.side / Math.SQRT2, 1e-6);
});

test('roiFromLandmarks: MediaPipe tracking ROI from the auxiliary keypoints', () => {
  const raw = new Float32Array(39 * 5);
  const roi = { cx: 128, cy: 128, side: 256, rotation: 0 }; // crop pixels = photo pixels
  raw.set([100, 200], 33 * 5); // hip centre
  raw.set([100, 150], 34 * 5); // straight above: upright body
  let r = F.roiFromLandmarks(raw, roi);
  close(r.cx, 100, 1e-6); close(r.cy, 200, 1e-6); close(r.side, 2 * 50 * 1.25, 1e-6); close(r.rotation, 0, 1e-9);
  raw.set([150, 200], 34 * 5); // to the right: the body lies on its side
  r = F.roiFromLandmarks(raw, roi);
  close(Math.abs(r.rotation), Math.PI / 2, 1e-9);
  raw.set([100, 200.001], 34 * 5); // degenerate: the side has a floor
  assert.equal(F.roiFromLandmarks(raw, roi).side, 8);
});

test('seedRois: 1.25 x the longer side of the mask box; extended downwards when the body is cut', () => {
  const w = 40; const h = 30;
  const data = new Float32Array(w * h);
  for (let y = 5; y < 15; y++) for (let x = 10; x < 30; x++) data[y * w + x] = 0.9;
  assert.deepEqual(G.seedRois({ data, width: w, height: h }, 1, [h, w], CFG), [{ cx: 20, cy: 10, side: 25, rotation: 0 }]);
  assert.deepEqual(G.seedRois({ data: new Float32Array(w * h), width: w, height: h }, 1, [h, w], CFG),
    [{ cx: 20, cy: 15, side: 40, rotation: 0 }]);
  for (let y = 15; y < h; y++) for (let x = 10; x < 30; x++) data[y * w + x] = 0.9; // now touches the bottom
  const rois = G.seedRois({ data, width: w, height: h }, 1, [h, w], CFG);
  assert.equal(rois.length, CFG.cut_roi_extensions.length);
  assert.ok(rois.every((r, i) => i === 0 || r.side > rois[i - 1].side));
});

test('a body leaning past max_lean_deg is refused; an upright one is framed', () => {
  const lying = keypoints({ ...FRONT, 23: [300, 140], 24: [300, 60] });
  assert.ok(G.leanDegrees(lying) > CFG.max_lean_deg);
  assert.throws(() => F.upperBodyFrame(lying, [400, 400], CFG), (e) => e.name === ErrorName.POSE && /tilted/.test(e.message));
  assert.ok(G.leanDegrees(keypoints(FRONT)) < 5);
});

test('a body turned sideways (shoulders nearly overlapping) is refused; a manifest without the rule frames it', () => {
  // Shoulders 30 px apart over a 160-px torso (0.19 < min_front_width): a profile.
  const side = keypoints({ ...FRONT, 11: [115, 100], 12: [85, 100], 23: [108, 260], 24: [92, 260] });
  assert.throws(() => F.upperBodyFrame(side, [400, 400], CFG), (e) => e.name === ErrorName.POSE && /from the side/.test(e.message));
  const { min_front_width: _unused, ...older } = CFG;
  assert.ok(F.upperBodyFrame(side, [400, 400], older).height > 0);
  assert.ok(F.upperBodyFrame(keypoints(FRONT), [400, 400], CFG).height > 0);
});

test('countPeople: 8-connected components, big enough and not tiny next to the largest', () => {
  const w = 100; const h = 100;
  const mask = () => ({ data: new Float32Array(w * h), width: w, height: h });
  const fill = (m, x0, y0, x1, y1) => { for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m.data[y * w + x] = 1; };
  const rules = { threshold: 0.5, ratio: 0.25, minFraction: 0.01 };
  const m = mask();
  assert.equal(F.countPeople(m, rules), 0);
  fill(m, 10, 10, 40, 90); // 2400 px
  assert.equal(F.countPeople(m, rules), 1);
  fill(m, 60, 10, 90, 40); // 900 px >= 0.25 x 2400
  assert.equal(F.countPeople(m, rules), 2);
  const d = mask();
  fill(d, 10, 10, 40, 90);
  fill(d, 40, 90, 70, 100); // touches only at a corner: one component under 8-connectivity
  assert.equal(F.countPeople(d, rules), 1);
  const s = mask();
  fill(s, 10, 10, 40, 90);
  fill(s, 60, 10, 80, 20); // 200 px < 0.25 x 2400: a hand or a bag
  assert.equal(F.countPeople(s, rules), 1);
});

test('upperBodyBox: exact aspect, half-to-even rounding, shoulders a third down', () => {
  const { box, hipsSeen } = F.upperBodyBox(keypoints(FRONT), [400, 300], [256, 192], CFG);
  // torso 160 / (0.705 - 0.33) = 426.67 -> k = round(106.67) = 107 -> 428 x 321
  assert.deepEqual(box, [-60, -41, 321, 428]); // x0 = round(100 - 160.5) = -60 (half to even)
  assert.equal(hipsSeen, true);
  assert.equal(box[2] * 256, box[3] * 192);
});

test('upperBodyBox without hips: from the shoulder width; with a bent torso: at least min_torso_per_shoulder', () => {
  const noHips = keypoints({ ...FRONT, 23: [120, 260, 0.1], 24: [80, 260, 0.1] });
  const a = F.upperBodyFrame(noHips, [400, 300], CFG);
  assert.equal(a.hipsSeen, false);
  close(a.height, (1.36 * 60) / 0.375, 1e-4);
  const hipsBelow = keypoints({ ...FRONT, 23: [120, 420], 24: [80, 420] }); // below the photo: not seen
  assert.equal(F.upperBodyFrame(hipsBelow, [400, 300], CFG).hipsSeen, false);
  const bent = keypoints({ ...FRONT, 23: [120, 130], 24: [80, 130] });
  close(F.upperBodyFrame(bent, [400, 300], CFG).height, 60 / 0.375, 1e-4);
});

test('upperBodyBox refuses: shoulders unseen or outside, back view, too small', () => {
  throwsNamed(() => F.upperBodyBox(keypoints({ ...FRONT, 11: [130, 100, 0.2] }), [400, 300], [256, 192], CFG),
    ErrorName.POSE);
  throwsNamed(() => F.upperBodyBox(keypoints({ ...FRONT, 11: [310, 100] }), [400, 300], [256, 192], CFG),
    ErrorName.POSE);
  throwsNamed(() => F.upperBodyBox(keypoints({ ...FRONT, 11: [70, 100], 12: [130, 100] }), [400, 300], [256, 192], CFG),
    ErrorName.POSE);
  const small = keypoints({ 11: [112, 100], 12: [98, 100], 23: [108, 130], 24: [102, 130] });   // (facing the camera)
  assert.throws(() => F.upperBodyBox(small, [400, 300], [256, 192], CFG), /too small/);
});

test('decide: the refusal order of PersonFramer.__call__', () => {
  const kp = keypoints(FRONT);
  const ok = { keypoints: kp, personFraction: 0.3, people: 1, face: 0.9 };
  const args = [[400, 300], [256, 192], CFG];
  assert.deepEqual(F.decide(ok, ...args).box, [-60, -41, 321, 428]);
  throwsNamed(() => F.decide({ ...ok, personFraction: 0.001, people: 2 }, ...args), ErrorName.NO_PERSON);
  throwsNamed(() => F.decide({ ...ok, people: 2, face: 0 }, ...args), ErrorName.MULTIPLE_PEOPLE);
  throwsNamed(() => F.decide({ ...ok, face: 0.1 }, ...args), ErrorName.NO_PERSON);
  const back = keypoints({ ...FRONT, 11: [70, 100], 12: [130, 100] });
  throwsNamed(() => F.decide({ ...ok, keypoints: back, face: 0.1 }, ...args), ErrorName.POSE);
});

test('cropToBox pads white outside the photo and boxTransform maps the box onto the model frame', () => {
  const w = 8; const h = 8;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([i, 100, 7], 3 * i);
  const img = { data, width: w, height: h };
  const crop = F.cropToBox(img, [-2, 4, 6, 8], [8, 6]); // same size: no resampling
  assert.deepEqual([...crop.data.subarray(0, 3)], [255, 255, 255]); // (x -2, y 4): outside
  assert.deepEqual([...crop.data.subarray(6, 9)], [32, 100, 7]); // (x 0, y 4)
  assert.deepEqual([...crop.data.subarray(((4 * 6) + 2) * 3, ((4 * 6) + 3) * 3)], [255, 255, 255]); // y 8: below
  const [sx, sy, ox, oy] = F.boxTransform([-2, 4, 6, 8], [16, 12]);
  close(0 * sx + ox, (0.5 + 2) * 2 - 0.5); // photo pixel (0, 4) centre -> box column 2.5 x 2 - 0.5
  close(4 * sy + oy, 0.5 * 2 - 0.5);
});

test('warpCrop: a translation copies pixels, taps outside the photo read 0', () => {
  const w = 6; const h = 5;
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 7) % 256);
  const out = F.warpCrop({ data, width: w, height: h }, [1, 0, -2, 0, 1, -1], 4, 1, 0); // crop (x, y) = photo (x+2, y+1)
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) {
      const inside = x + 2 < w && y + 1 < h;
      for (let c = 0; c < 3; c++) {
        assert.equal(out[(y * 4 + x) * 3 + c], inside ? data[((y + 1) * w + x + 2) * 3 + c] : 0);
      }
    }
  }
  const half = F.warpCrop({ data: new Uint8Array([200, 200, 200]), width: 1, height: 1 }, [1, 0, 0.5, 0, 1, 0], 1, 1, 0);
  assert.equal(half[0], 100); // half of a bilinear tap on the zero border
});

test('faceCrops: nose-centred, scaled by the shoulder width, floored by the eyes', () => {
  const crops = F.faceCrops(keypoints(FRONT), CFG);
  assert.deepEqual(crops.map((c) => [c.cx, c.cy]), [[100, 60], [100, 60]]);
  close(crops[0].side, 6.0 * 16, 1e-4); // 1.2 x 60 = 72 < 6 x 16 eye distance
  close(crops[1].side, 2.0 * 60, 1e-4);
  close(F.faceScore(new Float32Array([-300, 0, -2])), 0.5);
});

test('guardMask: the head and the background are guarded, the torso is not', () => {
  const [mh, mw] = [64, 48];
  const box = [0, 0, 48, 64];
  const kp = keypoints({ 0: [24, 16], 2: [27, 13], 5: [21, 13], 7: [30, 15], 8: [18, 15], 11: [34, 30], 12: [14, 30],
    23: [32, 60], 24: [16, 60] });
  const low = { data: new Float32Array(mw * mh), width: mw, height: mh };
  for (let y = 0; y < mh; y++) for (let x = 12; x < 36; x++) low.data[y * mw + x] = 1; // the person's column
  const g = G.guardMask(kp, box, low, 1, [mh, mw], CFG);
  assert.ok(g[16 * mw + 24] > 0.99); // the face
  assert.ok(g[45 * mw + 24] < 0.01); // the torso
  assert.ok(g[45 * mw + 1] > 0.99); // beside the person, past the dilation
  const headOnly = G.guardMask(kp, box, null, 1, [mh, mw], CFG);
  assert.ok(headOnly[16 * mw + 24] > 0.99 && headOnly[45 * mw + 1] === 0);
});

test('One Euro filter: passes the first sample, removes jitter at rest, follows a move', () => {
  const p = { minCutoff: CFG.one_euro_min_cutoff, beta: CFG.one_euro_beta, dCutoff: CFG.one_euro_d_cutoff };
  const f = new F.OneEuroFilter(p);
  assert.deepEqual(f.filter([10, 20], 0), [10, 20]);
  // alpha(1 Hz, 1/30 s) = 1 / (1 + 30 / (2 pi)): the first step of a jump moves that share of the way.
  const a = F.OneEuroFilter.alpha(1, 1 / 30);
  close(a, 1 / (1 + 30 / (2 * Math.PI)), 1e-12);
  // Jitter: +-3 px alternating around 100 at 30 FPS.
  f.reset();
  let maxDev = 0;
  for (let i = 0; i < 90; i++) {
    const [x] = f.filter([100 + (i % 2 ? 3 : -3)], i / 30);
    if (i > 30) maxDev = Math.max(maxDev, Math.abs(x - 100));
  }
  assert.ok(maxDev < 1.0, `jitter after filtering ${maxDev} px`);
  // A move at 300 px/s: the cut-off rises with the speed, so the lag stays small.
  const g = new F.OneEuroFilter(p);
  const still = new F.OneEuroFilter({ ...p, beta: 0 });
  let lagG = 0; let lagStill = 0;
  for (let i = 0; i <= 30; i++) {
    const v = 10 * i;
    lagG = v - g.filter([v], i / 30)[0];
    lagStill = v - still.filter([v], i / 30)[0];
  }
  assert.ok(lagG < lagStill / 2, `lag ${lagG} px with beta, ${lagStill} px without`);
  assert.deepEqual(g.filter([5], 1), g.filter([7], 1)); // no time passed: no new estimate
});

test('framingFromManifest needs every rule and the three files', () => {
  const files = [CFG.segmentation_model, CFG.pose_model, CFG.face_model].map((path) => ({ path, sha256: 'x', bytes: 1 }));
  const got = F.framingFromManifest({ framing: CFG, framing_files: files });
  assert.equal(got.files.pose.path, 'pose_landmark_lite.onnx');
  const { hip_y: _drop, ...partial } = CFG;
  throwsNamed(() => F.framingFromManifest({ framing: partial, framing_files: files }), ErrorName.MANIFEST);
  throwsNamed(() => F.framingFromManifest({ framing: CFG, framing_files: files.slice(1) }), ErrorName.MANIFEST);
});

test('a folder without categories (tops only): tops and auto pass, bottoms and one-pieces are refused', () => {
  // The widget's check before any model loads: auto passes (the worker classifies), a named category is resolved.
  const check = (c) => { if (normaliseCategory(c) !== 'auto') resolveCategory(c, DEFAULT_CATEGORIES); };
  for (const c of [undefined, '', 'auto', 'tops', 'Top', 'upper_body']) check(c);
  for (const c of ['bottoms', 'lower', 'lower_body', 'one-pieces', 'dress']) {
    throwsNamed(() => check(c), ErrorName.UNSUPPORTED_CATEGORY);
  }
  throwsNamed(() => check('hat'), 'TypeError');
});

test('followRoi: the detection ROI moved with the body, its size and rotation kept', () => {
  const roi = { cx: 200, cy: 330, side: 510, rotation: -0.02 };
  const anchor = { cx: 190, cy: 260 };
  assert.deepEqual(F.followRoi(roi, anchor, anchor), roi);
  assert.deepEqual(F.followRoi(roi, anchor, { cx: 230, cy: 250 }), { cx: 240, cy: 320, side: 510, rotation: -0.02 });
});

// A standing full-body person: FRONT with knees (25, 26) and ankles (27, 28).
const LEGS = { ...FRONT, 25: [118, 400], 26: [82, 400], 27: [117, 540], 28: [83, 540] };
const CAT_CFG = {
  ...CFG, category_boxes: { tops: 'upper_body', bottoms: 'lower_body', 'one-pieces': 'full_body' },
  lower_hip_y: 0.3, lower_ankle_y: 0.92, shin_per_thigh: 0.88, full_shoulder_y: 0.12, full_ankle_y: 0.94,
  thigh_per_torso: 0.8, cut_legs_boxes: ['full_body'], cut_knee_margin: 0.25, cut_bottom_band: 0.05,
  cut_torso_per_shoulder: 1.41,
};

test('categoryBox: lower body puts the hips at lower_hip_y and the ankles at lower_ankle_y; full body the shoulders', () => {
  const kp = keypoints(LEGS);
  const { box: [, y0, , h] } = F.categoryBox(kp, [600, 400], [256, 192], CAT_CFG, 'lower');
  close((260 - y0) / h, 0.3, 0.01);
  close((540 - y0) / h, 0.92, 0.01);
  const { box: [, fy0, , fh] } = F.categoryBox(kp, [600, 400], [256, 192], CAT_CFG, 'dress');
  close((100 - fy0) / fh, 0.12, 0.01);
  close((540 - fy0) / fh, 0.94, 0.01);
  // Cut at the shins: the leg is (1 + shin_per_thigh) x hip-to-knee.
  const { box: [, , , hc] } = F.categoryBox(kp, [480, 400], [256, 192], CAT_CFG, 'bottoms');
  close(hc * (0.92 - 0.3), 1.88 * 140, 4);
  // Cut at the thighs (knees below the photo): one-pieces estimate the thigh as thigh_per_torso x the torso.
  const { box: [, ty0, , th] } = F.categoryBox(kp, [330, 400], [256, 192], CAT_CFG, 'one-pieces');
  close(th * (0.94 - 0.12), 160 + 1.88 * 0.8 * 160, 4);
  assert.ok(ty0 + th > 330 + 100);
  // Knees called seen 50 px below the hips of a photo whose legs leave it at its bottom edge: the torso's estimate.
  const squeezed = keypoints({ ...LEGS, 25: [118, 310], 26: [82, 310], 27: [117, 430], 28: [83, 430] });
  const { box: [, , , sh] } = F.categoryBox(squeezed, [330, 400], [256, 192], CAT_CFG, 'one-pieces', true);
  close(sh * (0.94 - 0.12), 160 * (1 + 1.88 * 0.8), 4);
  const { box: [, , , mh] } = F.categoryBox(squeezed, [330, 400], [256, 192], CAT_CFG, 'one-pieces');
  close(mh * (0.94 - 0.12), 160 + 1.88 * 50, 4);
});

test('bottomCut: the person mask in the bottom rows of the photo', () => {
  const width = 10; const height = 200; const data = new Float32Array(width * height);
  assert.equal(F.bottomCut({ data, width, height }, CAT_CFG), false);
  data[(height - 10) * width + 3] = 0.9; // in the bottom 5 % (10 rows), the last rows empty
  assert.equal(F.bottomCut({ data, width, height }, CAT_CFG), true);
  data.fill(0); data[(height - 11) * width + 3] = 0.9; // above it
  assert.equal(F.bottomCut({ data, width, height }, CAT_CFG), false);
});

test('categoryFrame refuses a photo without the legs, naming what to take', () => {
  assert.throws(() => F.categoryFrame(keypoints(FRONT), [600, 400], CAT_CFG, 'bottoms'),
    (e) => e.name === ErrorName.POSE && e.message.startsWith('the legs are not in view: take a photo that shows you from the waist down'));
  assert.throws(() => F.categoryFrame(keypoints(LEGS), [250, 400], CAT_CFG, 'one-pieces'),
    (e) => e.name === ErrorName.POSE && /legs are not in view.*from the shoulders down to at least the knees/.test(e.message));
  // A knee hidden inside the photo (crossed legs) is refused; the person mask leaving the photo at its bottom
  // edge makes the same keypoints a photo cut at the thighs.
  const hidden = keypoints({ ...LEGS, 25: [118, 330, 0.2], 26: [82, 330, 0.2], 27: [117, 540, 0.1], 28: [83, 540, 0.1] });
  assert.throws(() => F.categoryFrame(hidden, [600, 400], CAT_CFG, 'one-pieces'),
    (e) => e.name === ErrorName.POSE && /a knee is hidden/.test(e.message));
  assert.equal(F.categoryFrame(hidden, [600, 400], CAT_CFG, 'one-pieces', true).kind, 'full_body');
  assert.throws(() => F.categoryFrame(hidden, [600, 400], CAT_CFG, 'bottoms', true),
    (e) => e.name === ErrorName.POSE && /legs are not in view/.test(e.message));
  throwsNamed(() => F.categoryFrame(keypoints(LEGS), [600, 400], CAT_CFG, 'auto'), 'TypeError');
});

test('boxKind: a manifest written before per-category framing frames tops only', () => {
  assert.equal(F.boxKind(CFG, 'tops'), 'upper_body');
  throwsNamed(() => F.boxKind(CFG, 'bottoms'), ErrorName.UNSUPPORTED_CATEGORY);
  const { lower_hip_y: _, ...lacking } = CAT_CFG;
  throwsNamed(() => F.boxKind(lacking, 'bottoms'), ErrorName.MANIFEST);
  assert.deepEqual(F.upperBodyBox(keypoints(LEGS), [600, 400], [256, 192], CFG),
    F.categoryBox(keypoints(LEGS), [600, 400], [256, 192], CAT_CFG, 'tops'));
});

test('resolveCategory: the manifest categories are dressed, auto is the only one, others are refused', () => {
  assert.equal(resolveCategory('auto', ['tops']), 'tops');
  assert.equal(resolveCategory(undefined, ['bottoms']), 'bottoms');
  assert.equal(resolveCategory('lower', ['tops', 'bottoms']), 'bottoms');
  assert.throws(() => resolveCategory('tops', ['bottoms']),
    (e) => e.name === ErrorName.UNSUPPORTED_CATEGORY && e.message.includes("'tops'") && e.message.includes('only bottoms'));
  throwsNamed(() => resolveCategory('auto', ['tops', 'bottoms']), ErrorName.UNSUPPORTED_CATEGORY);
  throwsNamed(() => resolveCategory('hats', ['tops']), 'TypeError');
});

// ---------------------------------------------------------------------------------------------- pose gate
// The pose gate's rules as `tryon export` writes them (FramingConfig.pose_gate from the teacher gate's ramps).
const GATE_CFG = {
  ...CFG,
  pose_gate: {
    stance: { bad: 0.4, good: 0.25, what: 'one of your legs is raised', advice: 'stand with both feet on the ground' },
    pose: { bad: 0.6, good: 0.9, what: 'your body is not clearly visible', advice: 'face the camera' },
  },
  pose_gate_min_score: 0.0,
  pose_gate_resume_score: 0.25,
};

/** A person standing facing the camera in a 1000 × 600 photo, every joint seen; `ankle` = the left ankle's y. */
function standing(ankle = 900) {
  const points = {};
  for (const [[l, r], y, half] of [[[11, 12], 200, 80], [[13, 14], 350, 95], [[15, 16], 480, 100], [[23, 24], 500, 55],
    [[25, 26], 700, 50], [[27, 28], 900, 48]]) {
    points[l] = [300 + half, y, 0.95];
    points[r] = [300 - half, y, 0.95];
  }
  points[27][1] = ankle;
  return keypoints(points);
}

test('pose gate: a raised leg is refused, a foot lifted a little is not', () => {
  assert.deepEqual(F.refusePoseGate(standing(), [1000, 600], GATE_CFG), { stance: 1, pose: 1 });
  assert.throws(() => F.refusePoseGate(standing(620), [1000, 600], GATE_CFG),
    (e) => e.name === ErrorName.POSE && e.message === 'one of your legs is raised: stand with both feet on the ground');
  F.refusePoseGate(standing(860), [1000, 600], GATE_CFG);
  // A manifest exported before the pose gate gates nothing.
  assert.deepEqual(F.refusePoseGate(standing(620), [1000, 600], CFG), {});
});

test('pose gate in live mode: once hidden, the garment returns only above the resume score (no flicker)', () => {
  const edge = standing(770); // stance 0.39: score 0.08, above the refusal's 0 and below the resume score 0.25
  const score = G.poseGateScores(edge, [1000, 600], GATE_CFG).stance;
  assert.ok(score > 0 && score < 0.25, String(score));
  const gate = new F.PoseGateHysteresis(GATE_CFG);
  assert.throws(() => gate.check(edge, [1000, 600]), { name: ErrorName.POSE }); // hidden at the start
  gate.check(standing(), [1000, 600]); // clearly fine: shown
  gate.check(edge, [1000, 600]); // shown, and the edge pose keeps it shown
  assert.throws(() => gate.check(standing(620), [1000, 600]), { name: ErrorName.POSE }); // a jump: hidden
  assert.throws(() => gate.check(edge, [1000, 600]), { name: ErrorName.POSE }); // the edge pose keeps it hidden
  gate.check(standing(), [1000, 600]);
  gate.hide(); // the person was lost
  assert.throws(() => gate.check(edge, [1000, 600]), { name: ErrorName.POSE });
  // A manifest without pose_gate: nothing to gate.
  new F.PoseGateHysteresis(CFG).check(standing(620), [1000, 600]);
});
