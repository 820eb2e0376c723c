/**
 * Person framing before the parser-free student: the JavaScript twin of `tryon.framing` (Python), run in the
 * inference worker.
 *
 * The student was trained on VITON-style frames (one upright person, shoulders about a third of the way down,
 * hips at about 70 %), so a photo is framed before it: MediaPipe selfie segmentation finds the person (mask,
 * share of the photo, number of separate people), BlazePose GHUM lite gives 33 keypoints in two passes (a
 * first ROI from the mask's bounding box, then MediaPipe's tracking ROI from the first pass's auxiliary
 * keypoints), BlazeFace says whether there is a face around the nose keypoint, and the upper-body box puts the
 * keypoints where the training frames had them. Every rule and constant comes from the manifest's `framing`
 * object (written by `tryon export` from `tryon.framing.FramingConfig`); the only numbers here are the models'
 * tensor layouts and the ROI rules of MediaPipe's graphs, as `tryon.person.pose` has them.
 *
 * Layout: pure functions on plain typed arrays (testable under Node, `tests/web/`), and {@link Framer}, which
 * calls the three models through injected async runners, so this module never touches onnxruntime itself.
 *
 * Conventions:
 * - Images are `RGBImage`s of `processing.js` (`{data: Uint8Array, width, height}`, H × W × 3 RGB).
 * - Keypoints are a `Float32Array(33 * 4)`: x, y in photo pixels, z (relative depth, photo-pixel scale),
 *   visibility in [0, 1]; BlazePose's order (`tryon.person.pose.POSE_LANDMARKS`; left/right are the person's).
 * - A box is `[x0, y0, width, height]` in integer photo pixels; it may reach past the photo's edges.
 * - A `Roi` is `{cx, cy, side, rotation}`: a square of `side` px centred on (cx, cy), rotated by `rotation`
 *   radians (the body upright in the crop).
 *
 * Sources: Bazarevsky et al., "BlazePose: On-device Real-time Body Pose tracking" (CVPR-W 2020) and
 * MediaPipe's `pose_landmark_by_roi` / `pose_landmarks_to_roi` graphs (ROI rules, input [0, 1], zero
 * border); Bazarevsky et al., "BlazeFace" (CVPR-W 2019) and MediaPipe's `face_detection_short_range` graph
 * (input [-1, 1], scores clipped at ±100); the MediaPipe Selfie Segmentation model card (input [0, 1]);
 * Casiez, Roussel, Vogel, "1€ Filter" (CHI 2012) for live mode.
 *
 * @module framing
 */

import { resize, roundHalfEven } from './processing.js';
import * as G from './guard.js';
import { ErrorName, namedError, normaliseCategory } from './protocol.js';

const f32 = Math.fround;

/** Model tensor layouts (fixed by the MediaPipe models). */
export const SEG_SIZE = 256; // selfie segmentation: (1, 256, 256, 3) NHWC in [0, 1] -> (1, 256, 256, 1)
export const POSE_SIZE = 256; // BlazePose: (1, 256, 256, 3) NHWC in [0, 1] -> Identity (1, 195) = 39 x 5
export const FACE_SIZE = 128; // BlazeFace short range: (1, 128, 128, 3) NHWC in [-1, 1] -> classificators (1, 896, 1)
const POSE_LANDMARKS = 39; // 33 body + 6 auxiliary; 33 = hip centre, 34 = body half-extent point
const POSE_VALUES = 5; // x, y, z in 256-px ROI units, visibility logit, presence logit

/** MediaPipe graph constants, as `tryon.person.pose` has them (not framing rules). */
const ROI_SCALE = 1.25; // RectTransformationCalculator scale of the tracking ROI
const MIN_ROI_SIDE = 8; // a degenerate tracking ROI is never smaller than this, px
const MIN_FACE_CROP = 16; // tryon.framing.PersonFramer.face_score: smallest face crop side, px

/** BlazePose landmark indices used here. */
export const KP = Object.freeze({
  NOSE: 0, L_EYE: 2, R_EYE: 5, L_EAR: 7, R_EAR: 8, L_SHOULDER: 11, R_SHOULDER: 12, L_HIP: 23, R_HIP: 24,
  L_KNEE: 25, R_KNEE: 26, L_ANKLE: 27, R_ANKLE: 28,
});

/**
 * Whether a manifest deploys the student with framing. `tryon export --no-framing` (and stand-ins) write an empty
 * `framing` object: the whole photo is then letterboxed, as `tryon.student_runner` does.
 * @param {object} manifest the parsed `manifest.json`
 */
export function hasFraming(manifest) {
  return Boolean(manifest.framing) && Object.keys(manifest.framing).length > 0;
}

/** The keys `manifest.framing` must have (every one is read below). */
export const FRAMING_KEYS = Object.freeze([
  'segmentation_model', 'pose_model', 'face_model', 'face_crop_scales', 'face_crop_min_eyes', 'min_face_score',
  'shoulder_y', 'hip_y', 'centre_x', 'torso_per_shoulder', 'min_torso_per_shoulder', 'min_visibility',
  'min_person_fraction', 'second_person_ratio', 'min_box_height_px', 'back_view_margin', 'mask_threshold',
  'track_min_presence', 'one_euro_min_cutoff', 'one_euro_beta', 'one_euro_d_cutoff', 'cut_min_bottom_share',
  'cut_roi_extensions', 'max_proportion_error', 'shoulders_per_ear', 'neck_per_ear', 'max_lean_deg',
  'guard_person_dilation', 'guard_head_width', 'guard_head_above', 'guard_chin', 'guard_feather',
]);

/**
 * The keys each box of `tryon.framing.BOX_KINDS` reads beyond {@link FRAMING_KEYS} (checked when a category that
 * uses the box is framed: manifests written before per-category framing have only the upper-body ones).
 */
export const BOX_KEYS = Object.freeze({
  upper_body: [],
  lower_body: ['lower_hip_y', 'lower_ankle_y', 'shin_per_thigh'],
  full_body: ['full_shoulder_y', 'full_ankle_y', 'shin_per_thigh', 'thigh_per_torso', 'cut_legs_boxes', 'cut_knee_margin',
    'cut_bottom_band', 'cut_torso_per_shoulder'],
});

/**
 * Which box a garment category gets (`FramingConfig.category_boxes`), its keys checked.
 * @param {object} cfg the manifest's framing
 * @param {string} [category='tops'] any spelling `normaliseCategory` accepts, not `auto`
 * @returns {string} one of the keys of {@link BOX_KEYS}
 * @throws {Error} `TypeError` for `auto` or an unknown name; `UnsupportedCategoryError` when the rules frame no
 *   box for it; `ManifestError` when the manifest lacks the box's keys
 */
export function boxKind(cfg, category = 'tops') {
  const name = normaliseCategory(category);
  if (name === 'auto') {
    throw namedError('TypeError', 'framing needs the garment\'s category (tops, bottoms or one-pieces), not auto');
  }
  // A manifest written before per-category framing has no category_boxes: it framed tops only.
  const boxes = cfg.category_boxes || { tops: 'upper_body' };
  const kind = boxes[name];
  if (BOX_KEYS[kind] === undefined) {
    throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `these framing rules frame no box for ${name} (they frame `
      + `${Object.keys(boxes).sort().join(', ') || 'nothing'}): re-export the student with \`tryon export\``);
  }
  const missing = BOX_KEYS[kind].filter((k) => cfg[k] === undefined);
  if (missing.length) {
    throw namedError(ErrorName.MANIFEST, `the manifest's framing lacks ${missing.join(', ')}: re-export the student `
      + 'with `tryon export`');
  }
  return kind;
}

/**
 * Check a manifest's `framing` object and its `framing_files` entries.
 * @param {object} manifest the parsed `manifest.json`
 * @returns {{config: object, files: {segmentation: object, pose: object, face: object}}} the rules and the
 *   file entries (`{path, sha256, bytes}`) of the three models
 * @throws {Error} `ManifestError` naming what is missing (re-export with `tryon export`)
 */
export function framingFromManifest(manifest) {
  const cfg = manifest.framing;
  const missing = FRAMING_KEYS.filter((k) => cfg[k] === undefined);
  if (missing.length) {
    throw namedError(ErrorName.MANIFEST, `the manifest's framing lacks ${missing.join(', ')}: re-export the student `
      + 'with `tryon export`');
  }
  const entries = manifest.framing_files || [];
  const entry = (path) => {
    const e = entries.find((f) => f.path === path);
    if (!e) throw namedError(ErrorName.MANIFEST, `the manifest's framing_files do not list ${path}`);
    return e;
  };
  return {
    config: cfg,
    files: { segmentation: entry(cfg.segmentation_model), pose: entry(cfg.pose_model), face: entry(cfg.face_model) },
  };
}

// ---------------------------------------------------------------------------------------------- segmentation

/**
 * The selfie segmenter's input: the photo resized to fit 256 × 256 (aspect kept; INTER_AREA when shrinking,
 * bilinear when enlarging, uint8 rounding) and centred on zeros, in [0, 1]: `SelfieSegmenter.low_res`.
 * @param {import('./processing.js').RGBImage} image
 * @returns {{tensor: Float32Array, top: number, left: number, rh: number, rw: number, scale: number}}
 *   tensor (1, 256, 256, 3) NHWC; the photo occupies rows top..top+rh, columns left..left+rw; photo pixel
 *   x · scale = segmentation pixel (pixel edges)
 */
export function segmentationInput(image) {
  const { width: w, height: h } = image;
  const scale = SEG_SIZE / Math.max(h, w);
  const rh = Math.max(1, roundHalfEven(h * scale));
  const rw = Math.max(1, roundHalfEven(w * scale));
  const top = Math.floor((SEG_SIZE - rh) / 2);
  const left = Math.floor((SEG_SIZE - rw) / 2);
  const small = resize(image, [rh, rw]).data;
  const tensor = new Float32Array(SEG_SIZE * SEG_SIZE * 3);
  for (let y = 0; y < rh; y++) {
    const o = ((top + y) * SEG_SIZE + left) * 3;
    const s = y * rw * 3;
    for (let i = 0; i < rw * 3; i++) tensor[o + i] = f32(small[s + i] / 255);
  }
  return { tensor, top, left, rh, rw, scale };
}

/**
 * The segmenter's 256 × 256 output cropped back to the photo's region, clipped to [0, 1].
 * @param {Float32Array} output (1, 256, 256, 1) person probability
 * @param {{top: number, left: number, rh: number, rw: number, scale: number}} seg from {@link segmentationInput}
 * @returns {{data: Float32Array, width: number, height: number, scale: number}} (rh, rw) mask
 */
export function lowResMask(output, { top, left, rh, rw, scale }) {
  const data = new Float32Array(rh * rw);
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) data[y * rw + x] = Math.min(1, Math.max(0, output[(top + y) * SEG_SIZE + left + x]));
  }
  return { data, width: rw, height: rh, scale };
}

/**
 * Share of a mask above a threshold.
 * @param {{data: Float32Array}} mask
 * @param {number} threshold
 */
export function personFraction(mask, threshold) {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i] > threshold) n++;
  return n / mask.data.length;
}

/**
 * Number of people: the mask's 8-connected components at least `ratio` × the largest and at least
 * `minFraction` of the mask's area (`tryon.person.analysis.count_people` without BodyPix parts).
 * @param {{data: Float32Array, width: number, height: number}} mask
 * @param {{threshold: number, ratio: number, minFraction: number}} rules
 * @returns {number} 0 when the mask is empty
 */
export function countPeople({ data, width: w, height: h }, { threshold, ratio, minFraction }) {
  const label = new Int32Array(w * h);
  const areas = [];
  const stack = new Int32Array(w * h);
  for (let p = 0; p < w * h; p++) {
    if (label[p] || !(data[p] > threshold)) continue;
    const id = areas.length + 1;
    let top = 0;
    let area = 0;
    stack[top++] = p;
    label[p] = id;
    while (top) {
      const q = stack[--top];
      area++;
      const qx = q % w;
      const qy = (q - qx) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const y = qy + dy;
        if (y < 0 || y >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = qx + dx;
          if (x < 0 || x >= w) continue;
          const r = y * w + x;
          if (!label[r] && data[r] > threshold) { label[r] = id; stack[top++] = r; }
        }
      }
    }
    areas.push(area);
  }
  if (!areas.length) return 0;
  const largest = Math.max(...areas);
  return areas.filter((a) => a >= ratio * largest && a >= minFraction * h * w).length;
}

// ---------------------------------------------------------------------------------------------- ROIs

/**
 * 2 × 3 affine matrix (row-major `[a, b, tx, c, d, ty]`) mapping photo pixels into a `size` × `size` crop of
 * the ROI, the body upright (`tryon.person.pose.Roi.matrix`).
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi
 * @param {number} [size=POSE_SIZE]
 * @returns {number[]}
 */
export function roiMatrix({ cx, cy, side, rotation }, size = POSE_SIZE) {
  const s = size / side;
  const c = Math.cos(rotation);
  const n = Math.sin(rotation);
  const a = c * s; const b = n * s; const cc = -n * s; const d = c * s;
  return [a, b, size / 2 - (a * cx + b * cy), cc, d, size / 2 - (cc * cx + d * cy)];
}

/** Inverse of a 2 × 3 affine matrix. */
export function invertAffine([a, b, tx, c, d, ty]) {
  const det = a * d - b * c;
  const ia = d / det; const ib = -b / det; const ic = -c / det; const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/**
 * Crop-space points (model-input pixels) to photo pixels.
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi
 * @param {ArrayLike<number>} xy interleaved x, y
 * @param {number} [size=POSE_SIZE]
 * @returns {Float64Array} interleaved photo x, y
 */
export function roiToImage(roi, xy, size = POSE_SIZE) {
  const [a, b, tx, c, d, ty] = invertAffine(roiMatrix(roi, size));
  const out = new Float64Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = a * xy[i] + b * xy[i + 1] + tx;
    out[i + 1] = c * xy[i] + d * xy[i + 1] + ty;
  }
  return out;
}

/**
 * MediaPipe's tracking ROI (`pose_landmarks_to_roi`; `PoseEstimator.roi_from_landmarks`): centred on the hip
 * centre (auxiliary landmark 33), side 2 × 1.25 × its distance to landmark 34, rotated so that 33 → 34 points
 * up in the crop.
 * @param {Float32Array} raw (39 × 5) landmarks of a pass, in that pass's crop pixels
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi that pass's ROI
 * @returns {{cx: number, cy: number, side: number, rotation: number}} in photo pixels
 */
export function roiFromLandmarks(raw, roi) {
  const aux = roiToImage(roi, [raw[33 * POSE_VALUES], raw[33 * POSE_VALUES + 1], raw[34 * POSE_VALUES],
    raw[34 * POSE_VALUES + 1]]);
  const dx = aux[2] - aux[0];
  const dy = aux[3] - aux[1];
  let rotation = Math.PI / 2 - Math.atan2(-dy, dx);
  // Python's (r + pi) % (2 pi) - pi: a floored modulo, into [-pi, pi).
  const twoPi = 2 * Math.PI;
  rotation = (((rotation + Math.PI) % twoPi) + twoPi) % twoPi - Math.PI;
  const side = 2 * Math.hypot(dx, dy) * ROI_SCALE;
  return { cx: aux[0], cy: aux[1], side: Math.max(side, MIN_ROI_SIDE), rotation };
}

/**
 * Live tracking: the next frame's pose ROI from this frame's keypoints. The ROI keeps the detection's size and
 * rotation and moves with the (smoothed) upper-body frame. Why not MediaPipe's rule (the tracking ROI of the
 * auxiliary keypoints, {@link roiFromLandmarks}, every frame): BlazePose lite's body scale follows its ROI far
 * more than the person, so any ROI whose size is fed back from the keypoints random-walks. Measured on a still,
 * noisy waist-up webcam frame: MediaPipe's rule grew the ROI by 60 % in 8 frames (the hips slid out of the
 * frame), the same rule calibrated at detection drifted 10-40 % over 25-40 frames, a box-height feedback 84 %;
 * and at a fixed ROI a person 1.3 x bigger kept the same shoulder width. A person who comes closer or steps back
 * is reframed when tracking is lost and detection runs again.
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi the detection's final pose ROI
 * @param {{cx: number, cy: number}} anchor the upper-body frame ({@link upperBodyFrame}) at detection
 * @param {{cx: number, cy: number}} frame this frame's (smoothed) upper-body frame
 * @returns {{cx: number, cy: number, side: number, rotation: number}}
 */
export function followRoi(roi, anchor, frame) {
  return { cx: roi.cx + frame.cx - anchor.cx, cy: roi.cy + frame.cy - anchor.cy, side: roi.side, rotation: roi.rotation };
}

// ---------------------------------------------------------------------------------------------- crops

/**
 * `cv2.warpAffine(image, m, (size, size), INTER_LINEAR, BORDER_CONSTANT 0)` into an NHWC float tensor
 * `round(pixel) · mul + add`. OpenCV 5 (which the Python side uses) samples at the exact position with float
 * weights (OpenCV 4 quantised positions to 1/32 px); each bilinear tap outside the photo reads 0.
 * @param {import('./processing.js').RGBImage} image
 * @param {number[]} m 2 × 3 photo → crop matrix
 * @param {number} size crop side, px
 * @param {number} mul e.g. 1/255 for [0, 1]
 * @param {number} add e.g. 0
 * @returns {Float32Array} (1, size, size, 3)
 */
export function warpCrop(image, m, size, mul, add) {
  const [a, b, tx, c, d, ty] = invertAffine(m);
  const { data, width: W, height: H } = image;
  const out = new Float32Array(size * size * 3);
  const px = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const X = f32(a * x + b * y + tx);
      const Y = f32(c * x + d * y + ty);
      const ix = Math.floor(X);
      const iy = Math.floor(Y);
      const fx = f32(X - ix);
      const fy = f32(Y - iy);
      px[0] = 0; px[1] = 0; px[2] = 0;
      for (let k = 0; k < 4; k++) {
        const sx = ix + (k & 1);
        const sy = iy + (k >> 1);
        if (sx < 0 || sy < 0 || sx >= W || sy >= H) continue;
        const wgt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        if (wgt === 0) continue;
        const o = (sy * W + sx) * 3;
        px[0] += wgt * data[o]; px[1] += wgt * data[o + 1]; px[2] += wgt * data[o + 2];
      }
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = f32(Math.min(255, roundHalfEven(px[ch])) * mul + add);
    }
  }
  return out;
}

/**
 * BlazePose's input for a ROI: (1, 256, 256, 3) NHWC in [0, 1], zero border.
 * @param {import('./processing.js').RGBImage} image
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi
 */
export function poseInput(image, roi) {
  return warpCrop(image, roiMatrix(roi), POSE_SIZE, 1 / 255, 0);
}

/**
 * Photo keypoints of a pass: x, y through the ROI, z scaled to photo pixels, visibility = sigmoid(logit).
 * @param {Float32Array} raw (39 × 5) BlazePose `Identity`
 * @param {{cx: number, cy: number, side: number, rotation: number}} roi
 * @returns {Float32Array} (33 × 4)
 */
export function decodeKeypoints(raw, roi) {
  const xy = new Float64Array(33 * 2);
  for (let i = 0; i < 33; i++) { xy[2 * i] = raw[i * POSE_VALUES]; xy[2 * i + 1] = raw[i * POSE_VALUES + 1]; }
  const img = roiToImage(roi, xy);
  const kp = new Float32Array(33 * 4);
  for (let i = 0; i < 33; i++) {
    kp[4 * i] = img[2 * i];
    kp[4 * i + 1] = img[2 * i + 1];
    kp[4 * i + 2] = raw[i * POSE_VALUES + 2] * roi.side / POSE_SIZE;
    kp[4 * i + 3] = sigmoid(raw[i * POSE_VALUES + 3]);
  }
  return kp;
}

function sigmoid(x) { return 1 / (1 + Math.exp(-Math.min(60, Math.max(-60, x)))); }

const dist = (kp, i, j) => Math.hypot(kp[4 * i] - kp[4 * j], kp[4 * i + 1] - kp[4 * j + 1]);

/**
 * The square crops BlazeFace scores (`PersonFramer.face_score`): centred on the nose keypoint, sides
 * `face_crop_scales` × the shoulder width, at least `face_crop_min_eyes` × the inter-eye distance and 16 px.
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {object} cfg the manifest's framing
 * @returns {{cx: number, cy: number, side: number}[]}
 */
export function faceCrops(kp, cfg) {
  const shoulderW = dist(kp, KP.L_SHOULDER, KP.R_SHOULDER);
  const eyes = dist(kp, KP.L_EYE, KP.R_EYE);
  const cx = kp[4 * KP.NOSE];
  const cy = kp[4 * KP.NOSE + 1];
  return cfg.face_crop_scales.map((k) => ({
    cx, cy, side: Math.max(k * shoulderW, cfg.face_crop_min_eyes * eyes, MIN_FACE_CROP),
  }));
}

/**
 * BlazeFace's input for a crop: (1, 128, 128, 3) NHWC in [-1, 1], zero border (`FaceDetector.score`).
 * @param {import('./processing.js').RGBImage} image
 * @param {{cx: number, cy: number, side: number}} crop
 */
export function faceInput(image, { cx, cy, side }) {
  const s = FACE_SIZE / Math.max(side, 1);
  return warpCrop(image, [s, 0, FACE_SIZE / 2 - s * cx, 0, s, FACE_SIZE / 2 - s * cy], FACE_SIZE, 1 / 127.5, -1);
}

/**
 * Best face probability of BlazeFace's anchors: sigmoid of the largest logit clipped to ±100.
 * @param {Float32Array} classificators (1, 896, 1) logits
 */
export function faceScore(classificators) {
  let best = -Infinity;
  for (let i = 0; i < classificators.length; i++) if (classificators[i] > best) best = classificators[i];
  return 1 / (1 + Math.exp(-Math.min(100, Math.max(-100, best))));
}

// ---------------------------------------------------------------------------------------------- the box

const seen = (kp, idx, cfg) => idx.every((i) => kp[4 * i + 3] >= cfg.min_visibility);

/**
 * Whether both shoulders are seen (visibility ≥ `min_visibility`).
 * @param {Float32Array} kp
 * @param {object} cfg
 */
export function shouldersSeen(kp, cfg) { return seen(kp, [KP.L_SHOULDER, KP.R_SHOULDER], cfg); }

const inside = (kp, idx, [ih, iw]) => idx.every((i) => kp[4 * i] >= 0 && kp[4 * i] < iw && kp[4 * i + 1] >= 0
  && kp[4 * i + 1] < ih);
const seenInside = (kp, idx, size, cfg) => seen(kp, idx, cfg) && inside(kp, idx, size);
const meanOf = (kp, idx, c) => idx.reduce((a, i) => a + kp[4 * i + c], 0) / idx.length;

/** `PoseError` when a left/right pair is mirrored (a back view); returns the pair's distance, px. */
function refuseBackView(kp, L, R, cfg) {
  const width = dist(kp, L, R);
  // A front-facing person's left shoulder (and hip) is on the image's right.
  if (kp[4 * L] - kp[4 * R] < -cfg.back_view_margin * Math.max(width, 1)) {
    throw namedError(ErrorName.POSE, 'the photo seems to show you from the back: use a photo taken from the front');
  }
  return width;
}

/** Both knees when both are seen inside the photo, else none (knees cut off by the frame are guesses). */
const seenKnees = (kp, size, cfg) => (seenInside(kp, [KP.L_KNEE, KP.R_KNEE], size, cfg) ? [KP.L_KNEE, KP.R_KNEE] : []);

/**
 * Whether the person mask leaves the photo at its bottom edge (`tryon.framing.bottom_cut`): at least
 * `cut_min_bottom_share` of its columns are person in its bottom `cut_bottom_band` of rows (at least one).
 * @param {{data: Float32Array, width: number, height: number}} low person probability over the whole photo
 * @param {object} cfg the manifest's framing
 * @returns {boolean}
 */
export function bottomCut({ data, width, height }, cfg) {
  if (!width || !height) return false;
  const rows = Math.max(1, Math.ceil((cfg.cut_bottom_band ?? 0) * height));
  let n = 0;
  for (let x = 0; x < width; x++) {
    for (let y = height - rows; y < height; y++) {
      if (data[y * width + x] > cfg.mask_threshold) { n++; break; }
    }
  }
  return n / width >= cfg.cut_min_bottom_share;
}

/**
 * Whether the legs leave the photo at its bottom edge above the knees, not a knee hidden inside it
 * (`tryon.framing.knees_cut`): the hips seen inside the photo, the knees and the ankles not both; then the person
 * mask leaving the photo at its bottom edge (`bottom`, {@link bottomCut}), or every knee not seen inside the
 * photo placed below its bottom edge or less than `cut_knee_margin` estimated thighs (`thigh_per_torso` × the
 * vertical shoulder-to-hip distance) above it.
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {[number, number]} imageSize (height, width)
 * @param {object} cfg the manifest's framing
 * @param {boolean|null} [bottom=null] the person mask leaves the photo at its bottom edge (null: not known)
 * @returns {boolean}
 */
export function kneesCut(kp, imageSize, cfg, bottom = null) {
  if (!seenInside(kp, [KP.L_HIP, KP.R_HIP], imageSize, cfg) || seenInside(kp, [KP.L_KNEE, KP.R_KNEE], imageSize, cfg)
    || seenInside(kp, [KP.L_ANKLE, KP.R_ANKLE], imageSize, cfg)) return false;
  if (bottom) return true;
  const out = [KP.L_KNEE, KP.R_KNEE].filter((k) => !seenInside(kp, [k], imageSize, cfg));
  const thigh = cfg.thigh_per_torso * (meanOf(kp, [KP.L_HIP, KP.R_HIP], 1) - meanOf(kp, [KP.L_SHOULDER, KP.R_SHOULDER], 1));
  const edge = imageSize[0] - cfg.cut_knee_margin * Math.max(thigh, 0);
  return out.every((k) => kp[4 * k + 1] >= edge);
}

/**
 * The torso of a photo cut at the thighs, px (`tryon.framing._cut_torso`): the vertical shoulder-to-hip distance,
 * at least `cut_torso_per_shoulder` × the shoulder width when the shoulders are seen inside the photo (BlazePose
 * squeezes a body cut at the thighs into the photo: its hips come out too high).
 */
function cutTorso(kp, imageSize, cfg) {
  const torso = meanOf(kp, [KP.L_HIP, KP.R_HIP], 1) - meanOf(kp, [KP.L_SHOULDER, KP.R_SHOULDER], 1);
  if (!seenInside(kp, [KP.L_SHOULDER, KP.R_SHOULDER], imageSize, cfg)) return torso;
  return Math.max(torso, cfg.cut_torso_per_shoulder * dist(kp, KP.L_SHOULDER, KP.R_SHOULDER));
}

/**
 * Vertical hip-to-ankle distance, px: measured when both ankles are seen inside the photo, else
 * (1 + `shin_per_thigh`) × the hip-to-knee distance; with `cutOk`, when the legs leave the photo at its bottom
 * edge above the knees ({@link kneesCut}), the hip-to-knee distance is `thigh_per_torso` × the torso
 * ({@link cutTorso}; `tryon.framing._leg_length`).
 * @throws {Error} `PoseError` when the knees are not both seen inside the photo, nor (`cutOk`) cut off by its
 *   bottom edge
 */
function legLength(kp, imageSize, cfg, view, cutOk = false, bottom = null) {
  const hips = [KP.L_HIP, KP.R_HIP];
  const hipY = meanOf(kp, hips, 1);
  let thigh;
  if (seenInside(kp, [KP.L_KNEE, KP.R_KNEE], imageSize, cfg)) {
    thigh = meanOf(kp, [KP.L_KNEE, KP.R_KNEE], 1) - hipY;
  } else if (cutOk && kneesCut(kp, imageSize, cfg, bottom)) {
    return (1 + cfg.shin_per_thigh) * cfg.thigh_per_torso * cutTorso(kp, imageSize, cfg);
  } else if (cutOk && seenInside(kp, hips, imageSize, cfg)) {
    throw namedError(ErrorName.POSE, 'the legs are not in view: a knee is hidden (crossed legs, a long skirt or coat, '
      + `or something in front of it): take a photo that shows you ${view}, standing with nothing in front of your `
      + 'legs (knees visible), facing the camera');
  } else {
    throw namedError(ErrorName.POSE, `the legs are not in view: take a photo that shows you ${view}, facing the camera`);
  }
  let leg = (1 + cfg.shin_per_thigh) * thigh;
  if (seenInside(kp, [KP.L_ANKLE, KP.R_ANKLE], imageSize, cfg)) leg = meanOf(kp, [KP.L_ANKLE, KP.R_ANKLE], 1) - hipY;
  if (!(leg > 0)) {
    throw namedError(ErrorName.POSE, 'your body is upside down or lying: use a photo where you stand or sit upright');
  }
  return leg;
}

/**
 * The box of a garment category before rounding (`tryon.framing.category_frame`): the body's centre line, the
 * anchor point (shoulder centre; hip centre for the lower-body box), its fraction of the box height, and how
 * tall the box must be. Live mode smooths cx, cy and height.
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {[number, number]} imageSize (height, width)
 * @param {object} cfg the manifest's framing
 * @param {string} [category='tops'] the garment's category
 * @param {boolean|null} [bottom=null] the person mask leaves the photo at its bottom edge ({@link bottomCut}; null:
 *   judged from the keypoints alone, {@link kneesCut})
 * @returns {{cx: number, cy: number, height: number, anchorY: number, hipsSeen: boolean, kind: string,
 *   part: string}} photo pixels
 * @throws {Error} `PoseError`: the body part the category needs is not seen inside the photo, a back view, a body
 *   leaning more than `max_lean_deg`, or one turned sideways (`min_front_width`); see {@link boxKind} for the others
 */
export function categoryFrame(kp, imageSize, cfg, category = 'tops', bottom = null) {
  const kind = boxKind(cfg, category);
  const [ih] = imageSize;
  const L = KP.L_SHOULDER; const R = KP.R_SHOULDER;
  const hips = [KP.L_HIP, KP.R_HIP];
  if (kind === 'lower_body') {
    const view = 'from the waist down to at least the knees (trousers: down to the feet)';
    if (!seenInside(kp, hips, imageSize, cfg)) {
      throw namedError(ErrorName.POSE, `the hips are not in view: take a photo that shows you ${view}, facing the camera`);
    }
    if (seenInside(kp, [L, R], imageSize, cfg)) {
      refuseBackView(kp, L, R, cfg);
      refusePosture(kp, cfg);
    } else {
      refuseBackView(kp, KP.L_HIP, KP.R_HIP, cfg);
    }
    const leg = legLength(kp, imageSize, cfg, view, (cfg.cut_legs_boxes || []).includes(kind), bottom);
    return {
      cx: meanOf(kp, [KP.L_HIP, KP.R_HIP, ...seenKnees(kp, imageSize, cfg)], 0), cy: meanOf(kp, hips, 1),
      height: leg / (cfg.lower_ankle_y - cfg.lower_hip_y), anchorY: cfg.lower_hip_y, hipsSeen: true, kind,
      part: 'lower body',
    };
  }
  const view = kind === 'upper_body' ? 'from the shoulders down to at least the chest'
    : 'from the shoulders down to at least the knees (long dresses: down to the feet)';
  if (!seenInside(kp, [L, R], imageSize, cfg)) {
    throw namedError(ErrorName.POSE, `the shoulders are not in view: use a photo that shows you ${view}, facing the camera`);
  }
  const shoulderW = refuseBackView(kp, L, R, cfg);
  const sx = (kp[4 * L] + kp[4 * R]) / 2;
  const sy = (kp[4 * L + 1] + kp[4 * R + 1]) / 2;
  const hipsSeen = seen(kp, hips, cfg) && kp[4 * KP.L_HIP + 1] < ih && kp[4 * KP.R_HIP + 1] < ih;
  if (kind === 'full_body') {
    if (!hipsSeen) {
      throw namedError(ErrorName.POSE, `the legs are not in view: take a photo that shows you ${view}, facing the camera`);
    }
    refusePosture(kp, cfg);
    const cutOk = cfg.cut_legs_boxes.includes(kind);
    const cutBody = cutTorso(kp, imageSize, cfg) * (1 + (1 + cfg.shin_per_thigh) * cfg.thigh_per_torso);
    let body;
    if (cutOk && kneesCut(kp, imageSize, cfg, bottom)) {
      body = cutBody;
    } else {
      body = meanOf(kp, hips, 1) - sy + legLength(kp, imageSize, cfg, view, cutOk, bottom);
      if (cutOk && bottom && !seenInside(kp, [KP.L_ANKLE, KP.R_ANKLE], imageSize, cfg) && seenInside(kp, hips, imageSize, cfg)) {
        // Legs leaving the photo at its bottom edge with the knees called seen: BlazePose may have squeezed them
        // into the photo (a thigh too short), so the body is at least the torso's estimate.
        body = Math.max(body, cutBody);
      }
    }
    return {
      // Knees cut off by the frame are BlazePose's guesses: the centre line from the seen joints only.
      cx: meanOf(kp, [L, R, KP.L_HIP, KP.R_HIP, ...seenKnees(kp, imageSize, cfg)], 0), cy: sy,
      height: body / (cfg.full_ankle_y - cfg.full_shoulder_y), anchorY: cfg.full_shoulder_y, hipsSeen: true, kind,
      part: 'body',
    };
  }
  let torso;
  let cx;
  if (hipsSeen) {
    refusePosture(kp, cfg);
    torso = meanOf(kp, hips, 1) - sy;
    cx = (sx + meanOf(kp, hips, 0)) / 2;
  } else {
    torso = cfg.torso_per_shoulder * shoulderW;
    cx = sx;
  }
  torso = Math.max(torso, cfg.min_torso_per_shoulder * shoulderW);
  return {
    cx, cy: sy, height: torso / (cfg.hip_y - cfg.shoulder_y), anchorY: cfg.shoulder_y, hipsSeen, kind,
    part: 'upper body', shoulderW,
  };
}

/**
 * The upper-body frame (tops) before rounding: {@link categoryFrame} for `tops`.
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {[number, number]} imageSize (height, width)
 * @param {object} cfg the manifest's framing
 */
export function upperBodyFrame(kp, imageSize, cfg) { return categoryFrame(kp, imageSize, cfg, 'tops'); }

function gcd(a, b) { return b ? gcd(b, a % b) : a; }

/**
 * Round a body frame to the integer box with the model's exact aspect (height a multiple of the aspect's
 * terms), the anchor at `anchorY` of the height (`tryon.framing.box_from_frame`).
 * @param {{cx: number, cy: number, height: number, anchorY: number, part: string}} frame from
 *   {@link categoryFrame} (or smoothed)
 * @param {[number, number]} modelSize (height, width) of the student's input, e.g. [256, 192]
 * @param {object} cfg the manifest's framing
 * @returns {[number, number, number, number]} x0, y0, width, height
 * @throws {Error} `PoseError`: the box is shorter than `min_box_height_px`
 */
export function boxFromFrame({ cx, cy, height, anchorY, part }, [mh, mw], cfg) {
  const g = gcd(mh, mw);
  const ah = mh / g;
  const aw = mw / g;
  const k = Math.max(1, roundHalfEven(height / ah));
  const bh = k * ah;
  const bw = k * aw;
  if (bh < cfg.min_box_height_px) {
    throw namedError(ErrorName.POSE, `you are too small in the photo (your ${part} is about ${bh} px tall; at least `
      + `${cfg.min_box_height_px} px are needed): come closer to the camera or crop the photo`);
  }
  return [roundHalfEven(cx - cfg.centre_x * bw), roundHalfEven(cy - anchorY * bh), bw, bh];
}

/**
 * The upper-body box that puts the keypoints where the student's training frames had them
 * (`tryon.framing.upper_body_box`).
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {[number, number]} imageSize (height, width)
 * @param {[number, number]} modelSize (height, width)
 * @param {object} cfg the manifest's framing
 * @returns {{box: [number, number, number, number], hipsSeen: boolean}}
 * @throws {Error} `PoseError` (see {@link upperBodyFrame}, {@link boxFromFrame})
 */
export function upperBodyBox(kp, imageSize, modelSize, cfg) { return categoryBox(kp, imageSize, modelSize, cfg, 'tops'); }

/**
 * The box a student of `category` sees (`tryon.framing.category_box`).
 * @param {Float32Array} kp (33 × 4) keypoints
 * @param {[number, number]} imageSize (height, width)
 * @param {[number, number]} modelSize (height, width)
 * @param {object} cfg the manifest's framing
 * @param {string} [category='tops']
 * @param {boolean|null} [bottom=null] the person mask leaves the photo at its bottom edge ({@link bottomCut})
 * @returns {{box: [number, number, number, number], hipsSeen: boolean}}
 * @throws {Error} see {@link categoryFrame}, {@link boxFromFrame}
 */
export function categoryBox(kp, imageSize, modelSize, cfg, category = 'tops', bottom = null) {
  const frame = categoryFrame(kp, imageSize, cfg, category, bottom);
  return { box: boxFromFrame(frame, modelSize, cfg), hipsSeen: frame.hipsSeen };
}

/**
 * `PoseError` when the shoulder-to-hip line leans more than `max_lean_deg` (`tryon.framing._refuse_lean`), or the
 * person is turned sideways: shoulders and hips seen, the shoulders' distance under `min_front_width` of the
 * shoulders-to-hips distance (`tryon.framing.refuse_side_view`; manifests written before the rule lack the key
 * and skip it).
 */
function refusePosture(kp, cfg) {
  const lean = G.leanDegrees(kp);
  if (lean > cfg.max_lean_deg) {
    throw namedError(ErrorName.POSE, `your body is tilted ${Math.round(lean)} degrees from upright: use a photo where `
      + 'you stand or sit upright');
  }
  const minFront = cfg.min_front_width ?? 0;
  if (minFront > 0 && seen(kp, [KP.L_SHOULDER, KP.R_SHOULDER, KP.L_HIP, KP.R_HIP], cfg)) {
    const mid = (a, b, c) => (kp[4 * a + c] + kp[4 * b + c]) / 2;
    const torso = Math.hypot(mid(KP.L_SHOULDER, KP.R_SHOULDER, 0) - mid(KP.L_HIP, KP.R_HIP, 0),
      mid(KP.L_SHOULDER, KP.R_SHOULDER, 1) - mid(KP.L_HIP, KP.R_HIP, 1));
    if (torso > 0 && dist(kp, KP.L_SHOULDER, KP.R_SHOULDER) < minFront * torso) {
      throw namedError(ErrorName.POSE, 'the photo seems to show you from the side: use a photo taken from the front, '
        + 'facing the camera');
    }
  }
}

/**
 * `PoseError` when a pose-only signal of the teacher's quality gate scores at most `minScore`
 * (`tryon.framing.refuse_pose_gate`; the scores are `guard.js`'s `poseGateScores`). Ties name the signal first
 * in the manifest's `pose_gate` order.
 * @param {Float32Array} kp keypoints in photo pixels
 * @param {[number, number]} imageSize (height, width)
 * @param {object} cfg the manifest's framing
 * @param {number} [minScore=cfg.pose_gate_min_score] live mode passes `pose_gate_resume_score` after a refusal
 * @param {string} [category='tops'] the garment's category (see `guard.js`'s `poseGateScores`)
 * @param {string[]} [ignore=[]] signals left out (live mode's {@link LIVE_UNGATED})
 * @returns {Object<string, number>} the scores, when nothing is refused
 * @throws {Error} `PoseError` saying what is wrong and what to change
 */
export function refusePoseGate(kp, imageSize, cfg, minScore = cfg.pose_gate_min_score, category = 'tops',
  ignore = []) {
  const scores = G.poseGateScores(kp, imageSize, cfg, normaliseCategory(category));
  for (const k of ignore) delete scores[k];
  let weakest = null;
  for (const k of Object.keys(scores)) if (weakest === null || scores[k] < scores[weakest]) weakest = k;
  if (weakest !== null && scores[weakest] <= minScore) {
    const spec = cfg.pose_gate[weakest];
    throw namedError(ErrorName.POSE, `${spec.what}: ${spec.advice}`);
  }
  return scores;
}

/**
 * `LowConfidenceError` when the output gate's weakest signal scores at most `output_gate_min_score`
 * (`tryon.framing.refuse_output_gate`).
 * @param {{confidence: number, weakest: string}} quality from `guard.js`'s `outputGateScores`
 * @param {object} cfg the manifest's framing
 * @throws {Error} `LowConfidenceError` saying what is wrong and what to change (also as its `what` and `advice`)
 */
export function refuseOutputGate(quality, cfg) {
  if (quality.weakest && quality.confidence <= cfg.output_gate_min_score) {
    const spec = cfg.output_gate[quality.weakest];
    const err = namedError(ErrorName.LOW_CONFIDENCE, `${spec.what}: ${spec.advice}`);
    err.what = spec.what; // the widget's consent prompt says what is wrong, then offers the server or the advice
    err.advice = spec.advice;
    throw err;
  }
}

/**
 * Pose-gate signals live mode leaves out. `forearm_raised`: a webcam frame is mostly waist-up with the hands below
 * it, where BlazePose guesses them folded back at the shoulders, on some noisy frames seen at 0.92 or more; the
 * live garment then paused for a shopper standing still (`tests/e2e/test_live_framing.py`). A raised hand in front
 * of a webcam passes in a moment; photos keep the signal.
 */
export const LIVE_UNGATED = ['forearm_raised'];

/**
 * Live mode's pose gate with hysteresis: {@link refusePoseGate} at `pose_gate_min_score` while the garment is shown;
 * once it is hidden (a refusal of any kind, {@link PoseGateHysteresis#hide}), at `pose_gate_resume_score` until a
 * frame passes, so a pose at the refusal's edge does not make the garment flicker. Hidden at the start (no one
 * tracked yet). A manifest without `pose_gate` gates nothing.
 */
export class PoseGateHysteresis {
  /** @param {object} cfg the manifest's framing */
  constructor(cfg) { this.cfg = cfg; this.hidden = true; }

  /** The garment was hidden (the person lost or a frame refused). */
  hide() { this.hidden = true; }

  /**
   * Refuse a frame's pose, or let it through (the garment shown from then on).
   * @param {Float32Array} kp keypoints in photo pixels
   * @param {[number, number]} imageSize (height, width)
   * @param {string} [category='tops'] the garment's category
   * @throws {Error} `PoseError` (see {@link refusePoseGate}); the garment stays hidden
   */
  check(kp, imageSize, category = 'tops') {
    if (!this.cfg.pose_gate) return;
    const limit = this.hidden ? this.cfg.pose_gate_resume_score : this.cfg.pose_gate_min_score;
    try {
      refusePoseGate(kp, imageSize, this.cfg, limit, category, LIVE_UNGATED);
    } catch (err) {
      this.hidden = true;
      throw err;
    }
    this.hidden = false;
  }
}

/**
 * The refusals of `PersonFramer.__call__`, in its order, then the box (refused after it by the pose gate,
 * {@link refusePoseGate}).
 * @param {{keypoints: Float32Array, personFraction: number, people: number, face: number}} d from
 *   {@link Framer#detect}
 * @param {[number, number]} imageSize (height, width)
 * @param {[number, number]} modelSize (height, width)
 * @param {object} cfg the manifest's framing
 * @param {string} [category='tops'] the garment's category: which box ({@link categoryBox})
 * @returns {{box: [number, number, number, number], hipsSeen: boolean}}
 * @throws {Error} `NoPersonError`, `MultiplePeopleError`, `PoseError`, with Python's messages
 */
export function decide(d, imageSize, modelSize, cfg, category = 'tops') {
  const kp = d.keypoints;
  if (d.personFraction < cfg.min_person_fraction) {
    throw namedError(ErrorName.NO_PERSON, 'no person found in the photo: use a photo of yourself, facing the camera, from '
      + 'the head to at least the chest (a photo of a garment goes in the garment slot)');
  }
  if (d.people >= 2) {
    throw namedError(ErrorName.MULTIPLE_PEOPLE, `${d.people} people found in the photo; use a photo of one person`);
  }
  if (seen(kp, [KP.L_SHOULDER, KP.R_SHOULDER, KP.L_HIP, KP.R_HIP], cfg)) refusePosture(kp, cfg); // no face upside down
  if (d.face < cfg.min_face_score) {
    if (shouldersSeen(kp, cfg) && kp[4 * KP.L_SHOULDER] < kp[4 * KP.R_SHOULDER]) {
      throw namedError(ErrorName.POSE, 'the photo seems to show you from the back: use a photo taken from the front');
    }
    throw namedError(ErrorName.NO_PERSON, 'no face found in the photo: use a photo of yourself facing the camera, face '
      + 'visible (a photo of a garment goes in the garment slot)');
  }
  const framed = categoryBox(kp, imageSize, modelSize, cfg, category, d.bottomCut ?? null);
  refusePoseGate(kp, imageSize, cfg, cfg.pose_gate_min_score, category);
  return framed;
}

/** Photo → model frame transform of a box: defined once, in `guard.js` (`tryon.framing.box_transform`). */
export { boxTransform } from './guard.js';

/**
 * Crop `box` from the photo (`fill` outside it) and resize to `modelSize` (`tryon.framing.crop_to_box`).
 * @param {import('./processing.js').RGBImage} image
 * @param {[number, number, number, number]} box
 * @param {[number, number]} modelSize (height, width)
 * @param {number} [fill=255]
 * @returns {import('./processing.js').RGBImage}
 */
export function cropToBox(image, [x0, y0, bw, bh], modelSize, fill = 255) {
  const { data, width: iw, height: ih } = image;
  const canvas = new Uint8Array(bw * bh * 3).fill(fill);
  const sx0 = Math.max(0, x0); const sy0 = Math.max(0, y0);
  const sx1 = Math.min(iw, x0 + bw); const sy1 = Math.min(ih, y0 + bh);
  if (sx1 > sx0 && sy1 > sy0) {
    for (let y = sy0; y < sy1; y++) {
      canvas.set(data.subarray((y * iw + sx0) * 3, (y * iw + sx1) * 3), ((y - y0) * bw + (sx0 - x0)) * 3);
    }
  }
  return resize({ data: canvas, width: bw, height: bh }, modelSize);
}

// ---------------------------------------------------------------------------------------------- live mode

/**
 * The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) on a vector: a first-order low-pass filter whose
 * cut-off rises with the signal's speed, so a still box stays still (low cut-off: jitter removed) and a moving
 * one follows without lag (high cut-off).
 *
 * `cutoff = minCutoff + beta · |dx̂/dt|`, `α(fc, Δt) = 1 / (1 + τ/Δt)` with `τ = 1 / (2π fc)`; the speed is
 * itself low-passed at `dCutoff`. Units: Hz for the cut-offs, seconds for timestamps, `beta` per unit of the
 * signal per second (here photo pixels per second).
 */
export class OneEuroFilter {
  /**
   * @param {{minCutoff: number, beta: number, dCutoff: number}} p e.g. from the manifest's
   *   `one_euro_min_cutoff`, `one_euro_beta`, `one_euro_d_cutoff`
   */
  constructor({ minCutoff, beta, dCutoff }) {
    Object.assign(this, { minCutoff, beta, dCutoff });
    this.reset();
  }

  /** Forget the past (the next value passes through unchanged). */
  reset() { this.x = null; this.dx = null; this.t = null; }

  static alpha(cutoff, dt) { return 1 / (1 + 1 / (2 * Math.PI * cutoff * dt)); }

  /**
   * Filter one sample.
   * @param {number[]} value the new sample (any length, fixed across calls)
   * @param {number} t its timestamp, seconds (increasing)
   * @returns {number[]} the filtered sample
   */
  filter(value, t) {
    if (this.x === null || this.x.length !== value.length) {
      this.x = value.slice(); this.dx = value.map(() => 0); this.t = t;
      return this.x.slice();
    }
    const dt = t - this.t;
    if (!(dt > 0)) return this.x.slice(); // same or older timestamp: nothing new to learn
    this.t = t;
    const ad = OneEuroFilter.alpha(this.dCutoff, dt);
    for (let i = 0; i < value.length; i++) {
      const speed = (value[i] - this.x[i]) / dt;
      this.dx[i] = ad * speed + (1 - ad) * this.dx[i];
      const a = OneEuroFilter.alpha(this.minCutoff + this.beta * Math.abs(this.dx[i]), dt);
      this.x[i] = a * value[i] + (1 - a) * this.x[i];
    }
    return this.x.slice();
  }
}

// ---------------------------------------------------------------------------------------------- the models

/**
 * @typedef {object} FramingRunners the three models, as async functions of their input tensors
 * @property {(input: Float32Array) => Promise<Float32Array>} segment (1, 256, 256, 3) → (1, 256, 256, 1)
 * @property {(input: Float32Array) => Promise<{landmarks: Float32Array, presence: number}>} pose
 *   (1, 256, 256, 3) → `Identity` (1, 195) and `Identity_1` (pose presence, the graph's own sigmoid)
 * @property {(input: Float32Array) => Promise<Float32Array>} face (1, 128, 128, 3) → `classificators`
 *   (1, 896, 1)
 */

/**
 * `tryon.framing.PersonFramer` on injected model runners, plus the tracking pass of live mode.
 */
export class Framer {
  /**
   * @param {FramingRunners} runners
   * @param {object} config the manifest's framing
   */
  constructor(runners, config) {
    this.runners = runners;
    this.config = config;
  }

  /**
   * Two BlazePose passes: on `roi`, then on the tracking ROI of the first (`PoseEstimator.__call__`).
   * @returns {Promise<{keypoints: Float32Array, presence: number, roi: object, next: object}>} `roi`: the
   *   final pass's; `next`: the tracking ROI for the next video frame
   */
  async pose(image, roi) {
    const first = await this.runners.pose(poseInput(image, roi));
    return this.posePass(image, roiFromLandmarks(first.landmarks, roi));
  }

  /**
   * One BlazePose pass on a ROI (live mode's tracking step).
   * @param {import('./processing.js').RGBImage} image
   * @param {{cx: number, cy: number, side: number, rotation: number}} roi
   * @returns {Promise<{keypoints: Float32Array, presence: number, roi: object, next: object}>}
   */
  async posePass(image, roi) {
    const out = await this.runners.pose(poseInput(image, roi));
    return {
      keypoints: decodeKeypoints(out.landmarks, roi), presence: out.presence, roi,
      next: roiFromLandmarks(out.landmarks, roi),
    };
  }

  /**
   * Everything the refusals and the box are decided from (`PersonFramer.detect`), without refusing.
   * @param {import('./processing.js').RGBImage} image
   * @returns {Promise<{keypoints: Float32Array, presence: number, personFraction: number, people: number,
   *   face: number, bottomCut: boolean, roi: object, next: object,
   *   ms: {segmentation: number, pose: number, face: number}}>}
   */
  async detect(image) {
    const cfg = this.config;
    const t0 = performance.now();
    const seg = segmentationInput(image);
    const low = lowResMask(await this.runners.segment(seg.tensor), seg);
    const personFractionValue = personFraction(low, cfg.mask_threshold);
    const people = countPeople(low, {
      threshold: cfg.mask_threshold, ratio: cfg.second_person_ratio, minFraction: cfg.min_person_fraction,
    });
    const t1 = performance.now();
    // A body cut by the bottom edge (a waist-up selfie) is tried with extended ROIs, the most person-like kept.
    let best = null;
    const rois = G.seedRois(low, seg.scale, [image.height, image.width], cfg);
    for (let i = 0; i < rois.length; i++) {
      const p = await this.pose(image, rois[i]);
      const err = G.proportionError(p.keypoints, cfg);
      if (best === null || err < best.err) best = { err, p };
      if (i === 0 && err <= cfg.max_proportion_error) break; // the mask's own box gave a believable body
    }
    const t2 = performance.now();
    const face = await this.faceScore(image, best.p.keypoints);
    return {
      ...best.p, personFraction: personFractionValue, people, face, personLow: low, lowScale: seg.scale,
      bottomCut: bottomCut(low, cfg), ms: { segmentation: t1 - t0, pose: t2 - t1, face: performance.now() - t2 },
    };
  }

  /**
   * Best BlazeFace score over {@link faceCrops}.
   * @param {import('./processing.js').RGBImage} image
   * @param {Float32Array} keypoints
   */
  async faceScore(image, keypoints) {
    let best = 0;
    for (const crop of faceCrops(keypoints, this.config)) {
      best = Math.max(best, faceScore(await this.runners.face(faceInput(image, crop))));
    }
    return best;
  }

  /**
   * Frame the person of a photo (`PersonFramer.__call__`).
   * @param {import('./processing.js').RGBImage} image
   * @param {[number, number]} modelSize (height, width)
   * @param {string} [category='tops'] the garment's category: which box ({@link categoryBox})
   * @returns {Promise<{box: number[], hipsSeen: boolean, keypoints: Float32Array, presence: number,
   *   personFraction: number, face: number, next: object, ms: object}>}
   * @throws {Error} `NoPersonError`, `MultiplePeopleError`, `PoseError`
   */
  async frame(image, modelSize, category = 'tops') {
    const d = await this.detect(image);
    const { box, hipsSeen } = decide(d, [image.height, image.width], modelSize, this.config, category);
    return { ...d, box, hipsSeen };
  }

  /**
   * Whether a photo shows a person with a face (`PersonFramer.is_person_photo`), to refuse a person photo given
   * as the garment.
   * @param {import('./processing.js').RGBImage} image
   * @param {number} [minFace=config.min_face_score] the face score that counts (a garment photo is judged at
   *   `garment_face_score`)
   */
  async isPersonPhoto(image, minFace = this.config.min_face_score) {
    const d = await this.detect(image);
    return d.personFraction >= this.config.min_person_fraction && d.face >= minFace;
  }
}
