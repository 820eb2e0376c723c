/**
 * The framing rules that run after (and around) BlazePose, twin of `tryon.framing` in Python: the first-pass pose
 * ROIs of a body cut by the photo's bottom edge, the body-proportion check that chooses among them, the upright
 * check, the student guard (no change on the head or away from the person) and the pose gate's scores (the
 * teacher quality gate's keypoint-only signals, `tryon.framing.pose_gate_scores`). Every constant comes from the
 * manifest's `framing` (a `tryon.framing.FramingConfig` written by `tryon export`); none is repeated here.
 * `tests/web/test_guard_golden.py` compares these functions with Python on the same bytes.
 *
 * Keypoints are BlazePose's 33 landmarks as a flat array of 33 × 4 numbers (x, y in photo pixels, z,
 * visibility), or an array of 33 `[x, y, z, visibility]`. Images and masks are `{data, width, height}`, row-major.
 *
 * @module guard
 */

const NOSE = 0;
const L_EAR = 7;
const R_EAR = 8;
const L_SHOULDER = 11;
const R_SHOULDER = 12;
const L_ELBOW = 13;
const R_ELBOW = 14;
const L_WRIST = 15;
const R_WRIST = 16;
const L_HIP = 23;
const R_HIP = 24;
const L_KNEE = 25;
const R_KNEE = 26;
const L_ANKLE = 27;
const R_ANKLE = 28;
/** MediaPipe-style padding of the person mask's box for the first pose pass (`tryon.person.pose.MASK_ROI_SCALE`). */
const MASK_ROI_SCALE = 1.25;

/** Keypoint `i` as `[x, y, z, visibility]` from a flat or nested array. */
export function kpAt(kp, i) {
  if (Array.isArray(kp[0]) || ArrayBuffer.isView(kp[0])) return kp[i];
  return [kp[4 * i], kp[4 * i + 1], kp[4 * i + 2], kp[4 * i + 3]];
}

/** Round half up, as `tryon.framing._round` (JavaScript's `Math.round`). */
const round = (x) => Math.floor(x + 0.5);

/**
 * First-pass pose ROIs from the segmenter's low-resolution person mask (`tryon.framing.seed_rois`).
 *
 * @param {{data: Float32Array, width: number, height: number}} low person probability, cropped to the photo
 * @param {number} scale segmenter pixels per photo pixel
 * @param {[number, number]} imageSize photo (height, width)
 * @param {object} cfg the manifest's `framing`
 * @returns {{cx: number, cy: number, side: number, rotation: number}[]} upright square ROIs in photo pixels: the
 *   mask box (side 1.25 × its longer side) first, then, when the person touches the bottom edge, the box extended
 *   downwards by each of `cut_roi_extensions`
 */
export function seedRois(low, scale, [ih, iw], cfg) {
  const { data, width, height } = low;
  let x0 = Infinity; let x1 = -Infinity; let y0 = Infinity; let y1 = -Infinity;
  let bottom = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] > cfg.mask_threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (y === height - 1) bottom++;
      }
    }
  }
  if (x1 < 0) return [{ cx: iw / 2, cy: ih / 2, side: Math.max(ih, iw), rotation: 0 }];
  x1 += 1; y1 += 1;
  const cut = bottom / width >= cfg.cut_min_bottom_share;
  const extensions = cut ? [1.0, ...cfg.cut_roi_extensions.filter((e) => e !== 1.0)] : [1.0];
  return extensions.map((e) => {
    const h = (y1 - y0) * e;
    return { cx: (x0 + x1) / 2 / scale, cy: (y0 + h / 2) / scale, side: MASK_ROI_SCALE * Math.max(x1 - x0, h) / scale, rotation: 0 };
  });
}

/**
 * How far a pose's proportions are from a person's (`tryon.framing.proportion_error`):
 * `|log(shoulders/ears ÷ shoulders_per_ear)| + |log(neck/ears ÷ neck_per_ear)|`, Infinity when degenerate.
 */
export function proportionError(kp, cfg) {
  const [ex0, ey0] = kpAt(kp, L_EAR);
  const [ex1, ey1] = kpAt(kp, R_EAR);
  const [sx0, sy0] = kpAt(kp, L_SHOULDER);
  const [sx1, sy1] = kpAt(kp, R_SHOULDER);
  const ears = Math.hypot(ex0 - ex1, ey0 - ey1);
  const shoulders = Math.hypot(sx0 - sx1, sy0 - sy1);
  const neck = (sy0 + sy1) / 2 - kpAt(kp, NOSE)[1];
  if (ears < 1 || shoulders < 1 || neck <= 0) return Infinity;
  return Math.abs(Math.log(shoulders / ears / cfg.shoulders_per_ear)) + Math.abs(Math.log(neck / ears / cfg.neck_per_ear));
}

/** Lean of the shoulder-to-hip line from vertical, degrees (0 upright, 180 upside down). */
export function leanDegrees(kp) {
  const [a, b, c, d] = [L_SHOULDER, R_SHOULDER, L_HIP, R_HIP].map((i) => kpAt(kp, i));
  const shx = (a[0] + b[0]) / 2; const shy = (a[1] + b[1]) / 2;
  const hx = (c[0] + d[0]) / 2; const hy = (c[1] + d[1]) / 2;
  return (Math.atan2(Math.abs(hx - shx), hy - shy) * 180) / Math.PI;
}

/** `tryon.framing.box_transform`: photo pixel centre -> model frame `[sx, sy, ox, oy]` of a box. */
export function boxTransform([x0, y0, bw, bh], [mh, mw]) {
  const sx = mw / bw; const sy = mh / bh;
  return [sx, sy, (0.5 - x0) * sx - 0.5, (0.5 - y0) * sy - 0.5];
}

/** Bilinear sample of a float mask at (x, y), 0 outside (plain float arithmetic, as `_bilinear_zero`). */
function sampleZero({ data, width, height }, x, y) {
  const x0 = Math.floor(x); const y0 = Math.floor(y);
  const fx = x - x0; const fy = y - y0;
  let out = 0;
  for (const [oy, wy] of [[0, 1 - fy], [1, fy]]) {
    for (const [ox, wx] of [[0, 1 - fx], [1, fx]]) {
      const xi = x0 + ox; const yi = y0 + oy;
      if (xi >= 0 && xi < width && yi >= 0 && yi < height) out += wx * wy * data[yi * width + xi];
    }
  }
  return out;
}

/**
 * The segmenter's person mask in the student's input frame (`tryon.framing.person_in_model`).
 * @param {{data: Float32Array, width: number, height: number}} personLow segmenter person probability
 * @param {number} lowScale segmenter pixels per photo pixel
 * @param {[number, number, number, number]} box framing box (x0, y0, width, height), photo pixels
 * @param {[number, number]} modelSize the student's input (height, width)
 * @param {object} cfg the manifest's `framing`
 * @returns {Uint8Array} (height × width) 1 on the person, row-major
 */
export function personInModel(personLow, lowScale, box, [mh, mw], cfg) {
  const [sx, sy, ox, oy] = boxTransform(box, [mh, mw]);
  const person = new Uint8Array(mh * mw);
  for (let v = 0; v < mh; v++) {
    const ly = ((v - oy) / sy + 0.5) * lowScale - 0.5;
    for (let u = 0; u < mw; u++) {
      const lx = ((u - ox) / sx + 0.5) * lowScale - 0.5;
      person[v * mw + u] = sampleZero(personLow, lx, ly) > cfg.mask_threshold ? 1 : 0;
    }
  }
  return person;
}

/**
 * The student guard (`tryon.framing.guard_mask`): 1 on the head (an ellipse from the ears and nose, hair included,
 * down to the chin) and away from the person (outside the person mask dilated by `guard_person_dilation` of the
 * box width), box-blurred over `guard_feather`. The caller blends the student's output back to the photo there:
 * `compositionMask *= 1 - guard`, `render += guard * (personLow - render)`.
 *
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {[number, number, number, number]} box framing box (x0, y0, width, height), photo pixels
 * @param {{data: Float32Array, width: number, height: number}|null} personLow segmenter person probability
 * @param {number} lowScale segmenter pixels per photo pixel
 * @param {[number, number]} modelSize the student's input (height, width)
 * @param {object} cfg the manifest's `framing`
 * @returns {Float32Array} (height × width) guard in [0, 1], row-major
 */
export function guardMask(kp, box, personLow, lowScale, [mh, mw], cfg) {
  const [sx, sy, ox, oy] = boxTransform(box, [mh, mw]);
  const n = mh * mw;
  let guard = new Float64Array(n);
  if (personLow) {
    const person = personInModel(personLow, lowScale, box, [mh, mw], cfg);
    // Dilate with a disk: stamp it from every person pixel on the mask's boundary (interior stamps add nothing).
    const r = Math.max(1, round(cfg.guard_person_dilation * mw));
    const disk = [];
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) disk.push([dx, dy]);
    const grown = new Uint8Array(n);
    for (let v = 0; v < mh; v++) {
      for (let u = 0; u < mw; u++) {
        if (!person[v * mw + u]) continue;
        grown[v * mw + u] = 1;
        const inner = u > 0 && u < mw - 1 && v > 0 && v < mh - 1 && person[v * mw + u - 1] && person[v * mw + u + 1]
          && person[(v - 1) * mw + u] && person[(v + 1) * mw + u];
        if (inner) continue;
        for (const [dx, dy] of disk) {
          const x = u + dx; const y = v + dy;
          if (x >= 0 && x < mw && y >= 0 && y < mh) grown[y * mw + x] = 1;
        }
      }
    }
    for (let i = 0; i < n; i++) guard[i] = 1 - grown[i];
  }
  const at = (i) => { const p = kpAt(kp, i); return [p[0] * sx + ox, p[1] * sy + oy]; };
  const [e0, e1, nose] = [at(L_EAR), at(R_EAR), at(NOSE)];
  const shoulderY = ((kpAt(kp, L_SHOULDER)[1] + kpAt(kp, R_SHOULDER)[1]) / 2) * sy + oy;
  const earD = Math.hypot(e0[0] - e1[0], e0[1] - e1[1]);
  if (earD >= 1) {
    const cx = (e0[0] + e1[0]) / 2; const cy = (e0[1] + e1[1]) / 2;
    const chin = nose[1] + cfg.guard_chin * Math.max(0, shoulderY - nose[1]);
    const a = (cfg.guard_head_width * earD) / 2;
    const below = Math.max(chin - cy, 1);
    for (let v = 0; v < mh; v++) {
      const b = v < cy ? cfg.guard_head_above * earD : below;
      for (let u = 0; u < mw; u++) {
        if (((u - cx) / a) ** 2 + ((v - cy) / b) ** 2 <= 1) guard[v * mw + u] = 1;
      }
    }
  }
  // Box blur, k × k, replicated border (cv2.blur with BORDER_REPLICATE), as two running-sum passes.
  const k = 2 * Math.max(1, round(cfg.guard_feather * mw)) + 1;
  const h = (k - 1) / 2;
  const tmp = new Float64Array(n);
  for (let v = 0; v < mh; v++) {
    for (let u = 0; u < mw; u++) {
      let s = 0;
      for (let d = -h; d <= h; d++) s += guard[v * mw + Math.min(mw - 1, Math.max(0, u + d))];
      tmp[v * mw + u] = s;
    }
  }
  const out = new Float32Array(n);
  for (let v = 0; v < mh; v++) {
    for (let u = 0; u < mw; u++) {
      let s = 0;
      for (let d = -h; d <= h; d++) s += tmp[Math.min(mh - 1, Math.max(0, v + d)) * mw + u];
      out[v * mw + u] = Math.min(1, Math.max(0, s / (k * k)));
    }
  }
  guard = null;
  return out;
}

// ---------------------------------------------------------------------------------------------- pose gate

/** The teacher gate's straight ramp (`tryon.teacher.gate.ramp`): 0 at `bad`, 1 at `good`, clipped; NaN scores 0. */
export function ramp(raw, bad, good) {
  if (!Number.isFinite(raw)) return 0;
  return Math.min(1, Math.max(0, (raw - bad) / (good - bad)));
}

/**
 * The body's visibility (`tryon.teacher.gate.pose_visibility`): min(lower shoulder, mean elbow, mean hip
 * visibility), elbows and hips below the photo's bottom edge counting as seen.
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {number} imageHeight the photo's height, px
 */
export function poseVisibility(kp, imageHeight) {
  const v = (i) => {
    const p = kpAt(kp, i);
    if (i !== L_SHOULDER && i !== R_SHOULDER && p[1] >= imageHeight) return 1;
    return Math.min(1, Math.max(0, p[3]));
  };
  return Math.min(v(L_SHOULDER), v(R_SHOULDER), (v(L_ELBOW) + v(R_ELBOW)) / 2, (v(L_HIP) + v(R_HIP)) / 2);
}

/**
 * How far one leg is raised (`tryon.teacher.gate.leg_raise`): the ankles' height difference over the mean leg
 * length (hip to knee to ankle), 0 when the legs have no length.
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 */
export function legRaise(kp) {
  const d = (a, b) => { const p = kpAt(kp, a); const q = kpAt(kp, b); return Math.hypot(p[0] - q[0], p[1] - q[1]); };
  const length = (d(L_HIP, L_KNEE) + d(L_KNEE, L_ANKLE) + d(R_HIP, R_KNEE) + d(R_KNEE, R_ANKLE)) / 2;
  if (length <= 0) return 0;
  return Math.abs(kpAt(kp, L_ANKLE)[1] - kpAt(kp, R_ANKLE)[1]) / length;
}

/**
 * How much of the forearms lies over the torso (`tryon.teacher.gate.arms_across`): for each forearm BlazePose sees
 * (elbow and wrist visibility at least `minVisibility`, both above the photo's bottom edge), the share of `samples`
 * points from elbow to wrist inside the shoulder-hip quadrilateral; the larger arm's, 0 when the shoulders coincide.
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {number} imageHeight photo height, pixels
 * @param {number} [samples=21]
 * @param {number} [minVisibility=0.7]
 */
export function armsAcross(kp, imageHeight, samples = 21, minVisibility = 0.7) {
  const [ls, rs, lh, rh] = [L_SHOULDER, R_SHOULDER, L_HIP, R_HIP].map((i) => kpAt(kp, i));
  const sw = Math.hypot(ls[0] - rs[0], ls[1] - rs[1]);
  if (sw < 1e-6) return 0;
  const u = [(ls[0] - rs[0]) / sw, (ls[1] - rs[1]) / sw]; // towards the person's left
  let v = [-u[1], u[0]];
  const o = [(ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2];
  if (v[0] * ((lh[0] + rh[0]) / 2 - o[0]) + v[1] * ((lh[1] + rh[1]) / 2 - o[1]) < 0) v = [-v[0], -v[1]]; // down
  const frame = (p) => [(p[0] - o[0]) * u[0] + (p[1] - o[1]) * u[1], (p[0] - o[0]) * v[0] + (p[1] - o[1]) * v[1]];
  const [aLs] = frame(ls); const [aRs] = frame(rs); const [aLh, bLh] = frame(lh); const [aRh, bRh] = frame(rh);
  const hipB = Math.max((bLh + bRh) / 2, 1e-6);
  let worst = 0;
  for (const [e, w] of [[L_ELBOW, L_WRIST], [R_ELBOW, R_WRIST]]) {
    const pe = kpAt(kp, e); const pw = kpAt(kp, w);
    if (Math.min(pe[3], pw[3]) < minVisibility) continue; // a forearm BlazePose only guesses
    if (Math.max(pe[1], pw[1]) >= imageHeight) continue; // an end below the photo: a chest-up photo's guessed hand
    let inside = 0;
    for (let i = 0; i < samples; i += 1) {
      const t = samples > 1 ? i / (samples - 1) : 0;
      const p = [pe[0] + t * (pw[0] - pe[0]), pe[1] + t * (pw[1] - pe[1])];
      const [pa, pb] = frame(p);
      const f = Math.min(1, Math.max(0, pb / hipB)); // the sides run straight from shoulder to hip
      const left = aLs + f * (aLh - aLs); const right = aRs + f * (aRh - aRs);
      if (pb >= 0 && pb <= hipB && pa <= left && pa >= right) inside += 1;
    }
    worst = Math.max(worst, inside / samples);
  }
  return worst;
}

/**
 * How far a hand is raised above its elbow (`tryon.teacher.gate.forearm_raised`): for each forearm BlazePose sees
 * (elbow and wrist visibility at least `minVisibility`, both above the photo's bottom edge), the wrist's height above
 * the elbow along the body's axis (the shoulder line's normal towards the hips), in shoulder widths; the larger
 * arm's, 0 when none is raised or the shoulders coincide.
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {number} imageHeight photo height, pixels
 * @param {number} [minVisibility=0.92]
 */
export function forearmRaised(kp, imageHeight, minVisibility = 0.92) {
  const [ls, rs, lh, rh] = [L_SHOULDER, R_SHOULDER, L_HIP, R_HIP].map((i) => kpAt(kp, i));
  const sw = Math.hypot(ls[0] - rs[0], ls[1] - rs[1]);
  if (sw < 1e-6) return 0;
  const u = [(ls[0] - rs[0]) / sw, (ls[1] - rs[1]) / sw];
  let v = [-u[1], u[0]];
  const o = [(ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2];
  if (v[0] * ((lh[0] + rh[0]) / 2 - o[0]) + v[1] * ((lh[1] + rh[1]) / 2 - o[1]) < 0) v = [-v[0], -v[1]]; // down
  let worst = 0;
  for (const [e, w] of [[L_ELBOW, L_WRIST], [R_ELBOW, R_WRIST]]) {
    const pe = kpAt(kp, e); const pw = kpAt(kp, w);
    if (Math.min(pe[3], pw[3]) < minVisibility) continue;
    if (Math.max(pe[1], pw[1]) >= imageHeight) continue;
    worst = Math.max(worst, ((pe[0] - pw[0]) * v[0] + (pe[1] - pw[1]) * v[1]) / sw);
  }
  return worst;
}

/**
 * The student's pose gate, scored (`tryon.framing.pose_gate_scores`): `pose` is {@link poseVisibility}, `stance`
 * {@link legRaise} when both knees and ankles are seen inside the photo (else 0), `arms_across` {@link armsAcross}
 * and `forearm_raised` {@link forearmRaised} for the categories their entries list, each through {@link ramp} with
 * `cfg.pose_gate`'s end points (written by `tryon export`).
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {[number, number]} imageSize photo (height, width)
 * @param {object} cfg the manifest's `framing`
 * @param {string} [category='tops'] the garment's category (FASHN's name): an entry listing `categories` is scored
 *   only for those
 * @returns {Object<string, number>} signal -> score in [0, 1]; empty when the manifest has no `pose_gate` (exported
 *   before the pose gate: re-export to apply it)
 */
export function poseGateScores(kp, [ih, iw], cfg, category = 'tops') {
  const legsSeen = [L_KNEE, R_KNEE, L_ANKLE, R_ANKLE].every((i) => {
    const p = kpAt(kp, i);
    return p[3] >= cfg.min_visibility && p[0] >= 0 && p[0] < iw && p[1] >= 0 && p[1] < ih;
  });
  const raw = {
    pose: poseVisibility(kp, ih),
    stance: legsSeen ? legRaise(kp) : 0,
    arms_across: armsAcross(kp, ih),
    forearm_raised: forearmRaised(kp, ih),
  };
  const out = {};
  for (const [k, r] of Object.entries(cfg.pose_gate || {})) {
    if (raw[k] === undefined) throw new TypeError(`the pose gate has no signal ${k} (it scores ${Object.keys(raw).join(', ')})`);
    if (r.categories && !r.categories.includes(category)) continue;
    out[k] = ramp(raw[k], r.bad, r.good);
  }
  return out;
}

// -------------------------------------------------------------------------------------------- output gate

/** The signals `outputGateRaw` measures (`tryon.framing.OUTPUT_GATE_SIGNALS`). */
const OUTPUT_GATE_SIGNALS = ['off_body', 'old_garment'];

/**
 * Skin-coloured pixels by a YCrCb box (`tryon.framing.skin_pixels`; Chai & Ngan, IEEE TCSVT 1999), plain BT.601
 * float arithmetic.
 * @param {{data: Uint8ClampedArray|Uint8Array, width: number, height: number}} image RGB, 3 bytes a pixel
 * @param {object} cfg the manifest's `framing` (`skin_cr`, `skin_cb`)
 * @returns {Uint8Array} 1 where skin-coloured, row-major
 */
export function skinPixels({ data, width, height }, cfg) {
  const n = width * height;
  const out = new Uint8Array(n);
  const [cr0, cr1] = cfg.skin_cr;
  const [cb0, cb1] = cfg.skin_cb;
  for (let i = 0; i < n; i++) {
    const r = data[3 * i]; const g = data[3 * i + 1]; const b = data[3 * i + 2];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    const cr = (r - y) * 0.713 + 128;
    const cb = (b - y) * 0.564 + 128;
    out[i] = cr >= cr0 && cr <= cr1 && cb >= cb0 && cb <= cb1 ? 1 : 0;
  }
  return out;
}

/**
 * The student's output-gate measurements (`tryon.framing.output_gate_raw`, which documents them): `off_body`, the
 * share of the composition mask's mass outside the person mask; `old_garment`, the person's non-skin pixels
 * between the shoulders and the hips, off the head, that the composition mask leaves uncovered, over its area.
 * @param {ArrayLike<number>} comp (height × width) composition mask before the guard
 * @param {{data: Uint8ClampedArray|Uint8Array, width: number, height: number}} personCrop the box as the student saw it
 * @param {ArrayLike<number>|number[][]} kp keypoints in photo pixels
 * @param {[number, number, number, number]} box framing box, photo pixels
 * @param {{data: Float32Array, width: number, height: number}|null} personLow segmenter person probability
 * @param {number} lowScale segmenter pixels per photo pixel
 * @param {[number, number]} modelSize the student's input (height, width)
 * @param {object} cfg the manifest's `framing`
 * @returns {Object<string, number>} `{off_body, old_garment}` (both 1 for an empty mask); `{}` without a person mask
 */
export function outputGateRaw(comp, personCrop, kp, box, personLow, lowScale, [mh, mw], cfg) {
  if (!personLow) return {};
  const n = mh * mw;
  const person = personInModel(personLow, lowScale, box, [mh, mw], cfg);
  let mass = 0; let shown = 0; let off = 0;
  for (let i = 0; i < n; i++) {
    mass += comp[i];
    if (comp[i] > 0.5) shown++;
    if (!person[i]) off += comp[i];
  }
  if (mass < 1 || shown === 0) return { off_body: 1, old_garment: 1 };
  const head = guardMask(kp, box, null, lowScale, [mh, mw], cfg);
  const skin = skinPixels(personCrop, cfg);
  const [, sy, , oy] = boxTransform(box, [mh, mw]);
  const shoulderY = ((kpAt(kp, L_SHOULDER)[1] + kpAt(kp, R_SHOULDER)[1]) / 2) * sy + oy;
  const hipY = ((kpAt(kp, L_HIP)[1] + kpAt(kp, R_HIP)[1]) / 2) * sy + oy;
  const top = shoulderY - 0.1 * (hipY - shoulderY);
  let left = 0;
  for (let v = 0; v < mh; v++) {
    if (!(v > top && v < hipY)) continue;
    for (let u = 0; u < mw; u++) {
      const i = v * mw + u;
      if (person[i] && head[i] < 0.5 && comp[i] < 0.5 && !skin[i]) left++;
    }
  }
  return { off_body: off / mass, old_garment: left / shown };
}

/**
 * Score {@link outputGateRaw}'s measurements by `cfg.output_gate`'s ramps (`tryon.framing.output_gate_scores`).
 * @param {Object<string, number>} raw signal -> measurement
 * @param {object} cfg the manifest's `framing`
 * @param {string} [category='tops'] the garment's category (FASHN's name)
 * @returns {{confidence: number, weakest: string, raw: Object<string, number>, scores: Object<string, number>}}
 *   confidence 1 and weakest '' when nothing is scored (no `output_gate` in the manifest, another category)
 * @throws {TypeError} a signal of `cfg.output_gate` that is not measured here
 */
export function outputGateScores(raw, cfg, category = 'tops') {
  const scores = {};
  for (const [k, r] of Object.entries(cfg.output_gate || {})) {
    if (!OUTPUT_GATE_SIGNALS.includes(k)) throw new TypeError(`the output gate has no signal ${k} (it scores ${OUTPUT_GATE_SIGNALS.join(', ')})`);
    if (r.categories && !r.categories.includes(category)) continue;
    if (raw[k] === undefined) continue;
    scores[k] = ramp(raw[k], r.bad, r.good);
  }
  let weakest = '';
  for (const k of Object.keys(scores)) if (weakest === '' || scores[k] < scores[weakest]) weakest = k;
  return { confidence: weakest ? scores[weakest] : 1, weakest, raw, scores };
}
