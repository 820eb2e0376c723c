/**
 * The widget's garment mask for an uploaded garment photo: `tryon.garment.mask.garment_mask`'s combination rule.
 *
 * The classical cut-out (`processing.js` `garmentCutout`: border colour, flood fill) is kept where it is sure of
 * itself (its confidence, the stability of the cut-out when the background tolerance halves or doubles, at least
 * the manifest's `garment_mask.confident`); elsewhere (white on white, a print the paper's colour touching the
 * outline, tinted or graded paper) the learned segmenter deployed with the student (`garment_seg.onnx`,
 * `tryon.garment.segmenter.attach_segmenter`; U-Net with a MobileNetV2 encoder, 128×96, 0.015 GMAC) gives it. A
 * border that is not one plain colour but smooth (a gradient, a vignette) goes to the segmenter too, and is refused
 * after all when that mask covers more of the photo's border than `max_border_cover` (a wall or a floor). Every
 * threshold is read from the manifest's `garment_mask` (`tryon.garment.segmenter.browser_rules`): one source of
 * truth with Python. Method and figures: `docs/garment-mask.md`.
 *
 * A camisole's strap loops are then given back to the backdrop ({@link dropStrapLoops}) and a clothes hanger is
 * taken out ({@link dropHanger}), as `tryon.garment.mask._finish` does. The mask the student is given is then peeled
 * as the teacher draws the garment ({@link GarmentMasker#peel}, {@link trimBackdropFringe}: the backdrop's fringe
 * along the outline, the garment's shadow and the paper tinted by its colour), as `tryon.student_runner` peels it.
 *
 * Not ported (Python only): the cut-out's CIELAB background plane, edge evidence and GrabCut (the segmenter stands
 * in where they matter).
 */
import * as P from './processing.js';

const BOX_3 = [0, 1, 2].map(() => new Uint8Array([1, 1, 1])); // np.ones((3, 3))
const ELLIPSE_3 = P.ellipseKernel(3);
const ELLIPSE_9 = P.ellipseKernel(9);

/**
 * @typedef {object} GarmentMaskRules the manifest's `garment_mask`
 * @property {[number, number]} size the segmenter's input (height, width)
 * @property {[number, number]} input_range pixel range of its input ([-1, 1])
 * @property {number} confident cut-out confidence from which the cut-out is kept
 * @property {number[]} confidence_scales tolerance factors of the confidence
 * @property {number} min_component smallest kept component of the learned mask (share of the largest)
 * @property {number} max_border_cover largest share of the photo's border the learned mask may cover on a
 *   border that is not plain
 * @property {number} smooth_border_noise high-pass noise (CIELAB units) up to which a not-plain border counts as
 *   studio paper
 * @property {number} plain_border_fraction share of the border of one colour for a plain background
 * @property {number} min_extent smallest share of the photo's height and width the garment must span
 * @property {number} [hanger_peak] {@link dropHanger}'s thresholds (`tryon.garment.mask.HANGER_*`); absent in
 *   manifests from before the hanger rule, which then keep hangers
 * @property {number} [hanger_hook]
 * @property {number} [hanger_contrast]
 * @property {number} [strap_tol] {@link dropStrapLoops}'s thresholds (`tryon.garment.mask.STRAP_*`); absent in
 *   older manifests, which then keep strap loops
 * @property {number} [strap_wall]
 * @property {number} [fringe_depth] {@link trimBackdropFringe}'s thresholds
 *   (`tryon.garment.landmarks_onepiece._FRINGE_*`, `_BLEED_*`, `_SHADOW_*`): the fringe's greatest depth (share of
 *   the mask's widest row); absent in manifests from before the peel, which then give the student the whole mask
 * @property {number} [fringe_de] CIELAB distance to the backdrop within which a ring pixel is fringe
 * @property {number} [bleed_l] L* distance to the backdrop within which a pixel may be tinted paper
 * @property {number} [bleed_share] ... its a*b* less than this share of the way to the garment's colour
 * @property {number} [bleed_min_chroma] ... where that colour is at least this a*b* distance from the backdrop
 * @property {number} [bleed_rings] rings of tinted paper peeled at most
 * @property {number} [shadow_chroma] a*b* distance to the backdrop within which a pixel may be shadow
 * @property {[number, number]} [shadow_l] ... darker than the backdrop by this many L* units (least, most)
 * @property {number} [shadow_apart] ... and this CIELAB distance or more from the garment's colours near it
 * @property {number} [shadow_below] share of the garment's height at its top where nothing is shadow
 * @property {number} [shadow_colours] k-means centres of the garment's colours near its outline
 * @property {string[]} [peeled_categories] the categories whose mask is peeled (the teacher draws bottoms from the
 *   whole mask)
 */

/**
 * Cuts garment photos out, with the learned segmenter where the classical cut-out is unsure.
 *
 * @example
 *   const masker = new GarmentMasker(async (x, shape) => logitsOf(x, shape), manifest.garment_mask);
 *   const { mask, method } = await masker.mask(photo); // method: 'cutout' | 'segmenter'
 */
export class GarmentMasker {
  /**
   * @param {((x: Float32Array, shape: number[]) => Promise<ArrayLike<number>>)|null} segment runs the
   *   segmenter: input (1, 3, h, w) NCHW float32 in `input_range`, returns its logits (h × w, row-major); null =
   *   the classical cut-out alone (a deployment without the segmenter)
   * @param {GarmentMaskRules|null} rules the manifest's `garment_mask`; required with `segment`
   */
  constructor(segment, rules) {
    if (segment && !rules?.size) throw new Error('GarmentMasker: a segmenter needs the manifest\'s garment_mask rules');
    this.segment = segment;
    this.rules = rules;
  }

  /**
   * The garment mask of a photo.
   * @param {import('./processing.js').RGBImage} image the garment photo (any size)
   * @returns {Promise<{mask: import('./processing.js').Mask, method: 'cutout'|'segmenter', confidence: number}>}
   *   mask: (H, W) in [0, 1] at the photo's size, soft edge; confidence: the cut-out's (0 on a border that is not
   *   plain)
   * @throws {P.BusyBackgroundError} the background is not plain (nor smooth paper the segmenter can cut out),
   *   nothing but background was found, or what was found spans less than `min_extent` of the photo (a print
   *   left of a white tee lost on white paper)
   */
  async mask(image) {
    const r = this.rules;
    const size = [image.height, image.width];
    if (!this.segment) return { mask: P.garmentMask(image), method: 'cutout', confidence: 1 };
    const cut = P.garmentCutout(image, { scales: r.confidence_scales, plainFraction: r.plain_border_fraction,
      smoothNoise: r.smooth_border_noise });
    if (cut.plain && cut.confidence >= r.confident) {
      const mask = this.finish(image, P.softenCutout(cut, size));
      return { mask, method: 'cutout', confidence: cut.confidence };
    }
    let mask = await this.learned(image);
    let garment = 0;
    for (let i = 0; i < mask.data.length; i++) garment += mask.data[i] > 0.5 ? 1 : 0;
    if (garment < 0.005 * mask.data.length) {
      throw new P.BusyBackgroundError('no garment found: the photo seems to show only a plain background');
    }
    if (!cut.plain && borderCover(mask, 2) > r.max_border_cover) {
      throw new P.BusyBackgroundError(cut.why); // a smooth border the network fills: a wall or a floor
    }
    mask = this.finish(image, mask);
    return { mask, method: 'segmenter', confidence: cut.confidence };
  }

  /**
   * The mask the student is given for an uploaded photo's garment of `category`: {@link trimBackdropFringe} with the
   * manifest's thresholds (`tryon.student_runner.StudentRunner.analyse_garment`, the teacher's peel) for a category in
   * `peeled_categories`; the category is read from the whole mask before. A catalogue garment's exact mask is not
   * peeled (it never comes here).
   * @param {import('./processing.js').RGBImage} image the garment photo
   * @param {import('./processing.js').Mask} mask its mask from {@link GarmentMasker#mask}
   * @param {string} category the category it is dressed as (FASHN's `tops | bottoms | one-pieces`)
   * @returns {import('./processing.js').Mask} the peeled mask; `mask` itself for another category, and without the
   *   segmenter or with a manifest from before the peel (no thresholds)
   */
  peel(image, mask, category) {
    const r = this.rules;
    return r?.fringe_depth && r.peeled_categories?.includes(category) ? trimBackdropFringe(image, mask, r) : mask;
  }

  /** `tryon.garment.mask._finish`: strap loops given back, the hanger taken out, then the extent checked. */
  finish(image, mask) {
    const r = this.rules;
    let out = r.strap_wall ? dropStrapLoops(image, mask, r) : mask;
    out = r.hanger_peak ? dropHanger(image, out, r) : out;
    checkExtent(out, r.min_extent);
    return out;
  }

  /**
   * The segmenter's soft mask at the photo's size: `tryon.garment.segmenter.GarmentSegmenter.__call__` (frame rule
   * stripped, squashed to the network's size with INTER_AREA, sigmoid, components under `min_component` of the
   * largest dropped with the soft rim of the kept ones, bilinear back up).
   * @param {import('./processing.js').RGBImage} image
   * @returns {Promise<import('./processing.js').Mask>}
   */
  async learned(image) {
    const [h, w] = this.rules.size;
    const [lo, hi] = this.rules.input_range;
    const small = P.resize(P.stripFrame(image), [h, w]).data;
    const x = new Float32Array(3 * h * w);
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) x[c * h * w + p] = lo + (hi - lo) * (small[3 * p + c] / 255);
    }
    const logits = await this.segment(x, [1, 3, h, w]);
    const prob = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) prob[p] = 1 / (1 + Math.exp(-logits[p]));
    const hard = Uint8Array.from(prob, (v) => (v > 0.5 ? 1 : 0));
    const { lbl, stats } = P.components(hard, w, h);
    if (stats.length > 2) {
      const least = this.rules.min_component * Math.max(...stats.slice(1).map((st) => st.area));
      const keep = Uint8Array.from(lbl, (l) => (l && stats[l].area >= least ? 1 : 0));
      // The soft rim just outside a kept component stays (a 3×3 dilation of the kept set); everything else goes.
      const near = P.morph(keep, w, h, BOX_3, true);
      for (let p = 0; p < h * w; p++) if (!near[p]) prob[p] = 0;
    }
    return P.resizeMask({ data: prob, width: w, height: h }, [image.height, image.width]);
  }
}

/** Share of a mask's `width`-pixel border ring that is garment (> 0.5). */
function borderCover({ data, width: w, height: h }, width) {
  let n = 0;
  let on = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y >= width && y < h - width && x >= width && x < w - width) continue;
      n++;
      on += data[y * w + x] > 0.5 ? 1 : 0;
    }
  }
  return on / Math.max(1, n);
}

/**
 * `tryon.garment.mask.check_extent`: refuse a mask whose garment spans less than `minExtent` of the photo's height
 * or width (a print or a speck, not a garment filling the frame).
 * @throws {P.BusyBackgroundError}
 */
function checkExtent({ data, width: w, height: h }, minExtent) {
  if (!minExtent) return; // a manifest from before the rule
  const g = garmentBox(binary(data), w, h);
  const dy = g.count ? g.gh / h : 0;
  const dx = g.count ? g.gw / w : 0;
  if (Math.min(dy, dx) < minExtent) {
    const pct = (v) => `${Math.round(v * 100)}%`;
    throw new P.BusyBackgroundError(`no garment found: what stands apart from the background spans only ${pct(dy)} `
      + `of the photo's height and ${pct(dx)} of its width (at least ${pct(minExtent)} each): use a photo in which `
      + 'the garment fills most of the frame, on a background of another colour or shade than the garment');
  }
}

// ------------------------------------------------------------------------------------------------ hangers

/**
 * `tryon.garment.mask.border_stats`: the backdrop's colour as a plane per CIELAB channel, robustly fitted to the
 * photo's 3 px border ring, and the noise (MAD sigma) of the ring about it.
 * @param {Float32Array} lab (h × w × 3)
 * @returns {{bg: (x: number, y: number) => number[], coef: number[][], noise: number}} bg: the fitted colour at a
 *   pixel; coef: per channel [c0, c1, c2] of c0 + c1 x / w + c2 y / h
 */
function borderStats(lab, w, h) {
  const ring = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (y < 3 || y >= h - 3 || x < 3 || x >= w - 3) ring.push(y * w + x);
  }
  const med = [0, 1, 2].map((c) => P.median(ring.map((p) => lab[3 * p + c])));
  const d = ring.map((p) => Math.hypot(lab[3 * p] - med[0], lab[3 * p + 1] - med[1], lab[3 * p + 2] - med[2]));
  const cut = Math.max(6, P.percentile(d, 50) * 3);
  const kept = ring.filter((_, i) => d[i] < cut);
  let coef = [0, 1, 2].map((c) => [med[c], 0, 0]);
  if (kept.length >= 20) {
    // Least squares of v = c0 + c1 x/w + c2 y/h, by the normal equations (3 × 3, Gaussian elimination).
    coef = [0, 1, 2].map((c) => {
      const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
      const b = [0, 0, 0];
      for (const p of kept) {
        const x = p % w;
        const row = [1, x / w, (p - x) / w / h];
        for (let i = 0; i < 3; i++) {
          b[i] += row[i] * lab[3 * p + c];
          for (let j = 0; j < 3; j++) A[i][j] += row[i] * row[j];
        }
      }
      for (let i = 0; i < 3; i++) { // forward elimination with partial pivoting
        let piv = i;
        for (let r = i + 1; r < 3; r++) if (Math.abs(A[r][i]) > Math.abs(A[piv][i])) piv = r;
        [A[i], A[piv]] = [A[piv], A[i]];
        [b[i], b[piv]] = [b[piv], b[i]];
        if (Math.abs(A[i][i]) < 1e-12) return [med[c], 0, 0];
        for (let r = i + 1; r < 3; r++) {
          const f = A[r][i] / A[i][i];
          for (let j = i; j < 3; j++) A[r][j] -= f * A[i][j];
          b[r] -= f * b[i];
        }
      }
      const out = [0, 0, 0];
      for (let i = 2; i >= 0; i--) {
        let acc = b[i];
        for (let j = i + 1; j < 3; j++) acc -= A[i][j] * out[j];
        out[i] = acc / A[i][i];
      }
      return out;
    });
  }
  const bg = (x, y) => coef.map(([c0, c1, c2]) => c0 + c1 * x / w + c2 * y / h);
  const res = ring.map((p) => {
    const x = p % w;
    const b = bg(x, (p - x) / w);
    return Math.hypot(lab[3 * p] - b[0], lab[3 * p + 1] - b[1], lab[3 * p + 2] - b[2]);
  });
  const p60 = P.percentile(res, 60) + 1e-6;
  const low = res.filter((v) => v < p60);
  return { bg, coef, noise: low.length ? 1.4826 * P.median(low) : 0 };
}

/** A soft mask's pixels over 0.5, as 0/1 (a plain loop: photos of millions of pixels). */
function binary(data) {
  const out = new Uint8Array(data.length);
  for (let p = 0; p < data.length; p++) out[p] = data[p] > 0.5 ? 1 : 0;
  return out;
}

/**
 * The garment's box in a 0/1 mask and its centre line (the mean column of its top third), as the Python hanger
 * rules read them.
 * @returns {{count: number, top: number, gh: number, gw: number, cx: number}} pixels; gh, gw: box height, width
 */
function garmentBox(m, w, h) {
  let top = h; let bottom = -1; let left = w; let right = -1; let count = 0;
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++, p++) {
      if (!m[p]) continue;
      count++;
      if (y < top) top = y;
      bottom = y;
      if (x < left) left = x;
      if (x > right) right = x;
    }
  }
  const gh = bottom - top + 1;
  let sx = 0; let k = 0;
  for (let y = top, p = top * w; y >= 0 && y < top + gh / 3; y++) {
    for (let x = 0; x < w; x++, p++) if (m[p]) { sx += x; k++; }
  }
  return { count, top, gh, gw: right - left + 1, cx: k ? sx / k : NaN };
}

/** `cv2.cvtColor(RGB2GRAY)` of one pixel (OpenCV's fixed-point weights, rounded). */
const gray = (d, i) => (d[i] * 4899 + d[i + 1] * 9617 + d[i + 2] * 1868 + 8192) >> 14;

/**
 * `tryon.garment.mask._above_share`: share of the rows within `hook` of the garment's height above photo row `y`
 * in which something other than backdrop (grey level 25 off the row's median, or the mask) lies within 8 % of the
 * garment's width of column `cx` (photo pixels).
 */
function aboveShare(image, mask, y, cx, gh, gw, hook) {
  const { width: W, data } = image;
  const y1 = Math.trunc(y);
  const y0 = Math.max(0, Math.trunc(y - hook * gh));
  const x0 = Math.max(0, Math.trunc(cx - 0.08 * gw));
  const x1 = Math.min(W, Math.trunc(cx + 0.08 * gw) + 1);
  if (y1 - y0 < 3 || x1 <= x0) return 0;
  let rows = 0;
  for (let yy = y0; yy < y1; yy++) {
    const row = new Float64Array(W);
    for (let x = 0; x < W; x++) row[x] = gray(data, 3 * (yy * W + x));
    const m = P.median(row);
    let seen = false;
    for (let x = x0; x < x1 && !seen; x++) seen = Math.abs(row[x] - m) > 25 || mask.data[yy * W + x] > 0.5;
    rows += seen;
  }
  return rows / (y1 - y0);
}

/**
 * `tryon.garment.mask.hanger_above`: a hanger stands above the garment (most rows just above the mask's top at its
 * centre line show something: the bar and hook, taken out of the mask or left in). A garment laid flat has only
 * backdrop there. The category rules read it: a top whose hanger was taken out has a straight top edge, which is
 * no waistband when the hanger is above it.
 * @param {import('./processing.js').RGBImage} image the garment photo
 * @param {import('./processing.js').Mask} mask its mask (same size)
 * @param {{hanger_hook: number}} rules the manifest's `garment_mask`
 * @returns {boolean}
 */
export function hangerAbove(image, mask, rules) {
  const { width: w, height: h, data } = mask;
  const hard = binary(data);
  const g = garmentBox(hard, w, h);
  if (g.count < 64) return false;
  const { top, gh, gw, cx } = g;
  const x0 = Math.trunc(Math.max(0, cx - 0.05 * gw)); const x1 = Math.trunc(cx + 0.05 * gw) + 1;
  let first = 0;
  search: for (let y = 0; y < h; y++) {
    for (let x = x0; x < Math.min(w, x1); x++) if (data[y * w + x] > 0.5) { first = y; break search; }
  }
  return aboveShare(image, mask, first, cx, gh, gw, rules.hanger_hook) >= 0.6;
}

/**
 * `tryon.garment.mask.drop_hanger`: take a clothes hanger (and the backdrop it walls off above the neckline) out of
 * a garment mask. Its three signs, all needed: the mask's top at the centre line (thin parts opened away) stands
 * `hanger_peak` of the garment's height above the top 15 % of the width to either side; most rows in the
 * `hanger_hook` above it show something near the centre line (the hook); the apex differs from the body's colour by
 * `hanger_contrast` CIELAB units. Then the pixels nearer the apex's colour than the body's connected to it in the
 * top 30 %, the hook, and the backdrop-coloured pixels they walled off are removed, unless that is over 15 % of the
 * mask. A second pass follows one that removed something (a hook can hide the bar). Hand-set in Python on the
 * wild-dev hangers (`docs/garment-mask.md`, "Hangers"); the thresholds are read from the manifest.
 * @param {import('./processing.js').RGBImage} image the garment photo
 * @param {import('./processing.js').Mask} mask its mask (same size)
 * @param {{hanger_peak: number, hanger_hook: number, hanger_contrast: number}} rules the manifest's `garment_mask`
 * @returns {import('./processing.js').Mask} the mask itself when no hanger is seen, else a copy with it at 0
 */
export function dropHanger(image, mask, rules) {
  const out = dropHangerOnce(image, mask, rules);
  return out !== mask ? dropHangerOnce(image, out, rules) : out;
}

function dropHangerOnce(image, mask, rules) {
  const { width: w0, height: h0 } = mask;
  const s = 320 / Math.max(h0, w0);
  const w = Math.max(16, P.roundHalfEven(w0 * s));
  const h = Math.max(16, P.roundHalfEven(h0 * s));
  const m = Uint8Array.from(P.resizeMask(mask, [h, w]).data, (v) => (v > 0.5 ? 1 : 0));
  const g = garmentBox(m, w, h);
  if (g.count < 64) return mask;
  const { top, gh, gw, count } = g;
  const cx = P.roundHalfEven(g.cx);
  const side = Math.trunc(0.15 * gw);
  const lo = Math.max(0, cx - side); const hi = Math.min(w, cx + side + 1);
  const lab = P.labOf(P.resize(image, [h, w]).data, w, h);
  const { bg, noise } = borderStats(lab, w, h);
  const tolBg = Math.max(3, 4 * noise + 1.5);
  const backdropLike = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const x = p % w; const b = bg(x, (p - x) / w);
    backdropLike[p] = Math.hypot(lab[3 * p] - b[0], lab[3 * p + 1] - b[1], lab[3 * p + 2] - b[2]) < tolBg ? 1 : 0;
  }
  // The bar: the mask's top at the centre line once thin parts (a hook it kept) are opened away, without the
  // backdrop it holds near the top (a segmenter's halo round the hanger, a hook's loop it filled).
  const topBand = top + 0.3 * gh;
  const mBar = Uint8Array.from(m, (v, p) => (v && !(backdropLike[p] && Math.floor(p / w) < topBand) ? 1 : 0));
  const kern = P.ellipseKernel(Math.max(3, Math.trunc(0.04 * gw)) | 1);
  const thick = P.morph(P.morph(mBar, w, h, kern, false), w, h, kern, true);
  const colTop = new Int32Array(w).fill(h);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) if (thick[y * w + x]) { colTop[x] = y; break; }
  let barY = h;
  for (let x = lo; x < hi; x++) barY = Math.min(barY, colTop[x]);
  if (barY >= h) return mask;
  const beside = Math.min(colTop[Math.max(0, cx - side)], colTop[Math.min(w - 1, cx + side)]);
  if (beside - barY < rules.hanger_peak * gh) return mask;
  if (aboveShare(image, mask, barY / s, cx / s, gh / s, gw / s, rules.hanger_hook) < 0.6) return mask;
  // Colours of the body (40-75 % of the height) and of the apex (the top 4 rows of the centre band).
  const bodyPx = [];
  for (let y = Math.trunc(top + 0.4 * gh); y < Math.trunc(top + 0.75 * gh); y++) {
    for (let x = 0; x < w; x++) if (m[y * w + x]) bodyPx.push(y * w + x);
  }
  const seed = new Uint8Array(w * h);
  const b0 = Math.max(0, cx - Math.trunc(0.05 * gw)); const b1 = Math.min(w, cx + Math.trunc(0.05 * gw) + 1);
  for (let x = b0; x < b1; x++) {
    for (let y = colTop[x]; y < Math.min(h, colTop[x] + 4); y++) if (m[y * w + x]) seed[y * w + x] = 1;
  }
  const seedPx = [];
  for (let p = 0; p < w * h; p++) if (seed[p]) seedPx.push(p);
  if (!seedPx.length || !bodyPx.length) return mask;
  const colour = (px) => [0, 1, 2].map((c) => P.median(px.map((p) => lab[3 * p + c])));
  const body = colour(bodyPx);
  const apex = colour(seedPx);
  const dist = (p, c) => Math.hypot(lab[3 * p] - c[0], lab[3 * p + 1] - c[1], lab[3 * p + 2] - c[2]);
  const contrast = Math.hypot(apex[0] - body[0], apex[1] - body[1], apex[2] - body[2]);
  if (contrast < rules.hanger_contrast) return mask;
  // The hanger: pixels nearer the apex's colour than the body's, connected to the apex, in the top 30 %.
  const near = new Uint8Array(w * h);
  const reach = Math.min(0.5 * contrast, 20);
  const nearEnd = Math.trunc(top + 0.3 * gh);
  for (let p = 0; p < nearEnd * w; p++) {
    if (m[p] && dist(p, apex) < reach && dist(p, apex) < dist(p, body)) near[p] = 1;
  }
  const { lbl } = P.components(near, w, h, true);
  const hit = new Set();
  for (const p of seedPx) if (near[p]) hit.add(lbl[p]);
  let hanger = Uint8Array.from(lbl, (l) => (l && hit.has(l) ? 1 : 0));
  if (!hanger.some((v) => v)) return mask;
  for (let y = 0; y <= barY; y++) for (let x = lo; x < hi; x++) hanger[y * w + x] |= m[y * w + x]; // the hook
  hanger = P.morph(hanger, w, h, ELLIPSE_3, true);
  // The backdrop it walled off: backdrop-coloured mask pixels above the body reached from outside the mask. The
  // way out crosses the hanger grown by one more pixel: the bar's anti-aliased rim, neither the apex's colour nor
  // the backdrop's, walled the patch in here where it did not in Python (the browser's blur differs from OpenCV's
  // fixed-point one by a level, which moves that rim's colours by half a CIELAB unit).
  const passable = P.morph(hanger, w, h, ELLIPSE_3, true);
  const open = new Uint8Array(w * h);
  const backdrop = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    backdrop[p] = backdropLike[p] && m[p] && !hanger[p] && p < nearEnd * w ? 1 : 0;
    open[p] = !m[p] || passable[p] || backdrop[p] ? 1 : 0;
  }
  const reached = P.components(open, w, h, false).lbl;
  const outside = new Set();
  for (let p = 0; p < w * h; p++) if (!m[p]) outside.add(reached[p]);
  const drop = new Uint8Array(w * h);
  let dropped = 0;
  for (let p = 0; p < w * h; p++) {
    drop[p] = hanger[p] || (backdrop[p] && outside.has(reached[p])) ? 1 : 0;
    dropped += drop[p];
  }
  if (dropped > 0.15 * count) return mask; // the body must stay whole: the hanger is small next to it
  const keep = Uint8Array.from(m, (v, p) => (v && !drop[p] ? 1 : 0));
  const full = P.resizeMask({ data: Float32Array.from(keep), width: w, height: h }, [h0, w0]).data;
  const gone = P.resizeMask({ data: Float32Array.from(drop), width: w, height: h }, [h0, w0]).data;
  const data = Float32Array.from(mask.data);
  for (let p = 0; p < w0 * h0; p++) if (gone[p] > 0.5 && !(full[p] > 0.5)) data[p] = 0;
  return { data, width: w0, height: h0 };
}

// ------------------------------------------------------------------------------------------ strap loops

/**
 * `tryon.garment.mask.drop_strap_loops`: give back to the backdrop the loops a camisole's straps hang in beside
 * the cups (walled-off wedges of paper that the border flood cannot reach, drawn on the person as a white triangle
 * on each shoulder). At the photo's resolution, in the garment's top 30 %: 4-connected pieces of the mask within
 * `strap_tol` CIELAB units (chroma halved) of the fitted backdrop, starting in the top 20 %, at least 5 % of the
 * garment's height tall, a quarter of its width off the centre line, with garment all round them, walled on the
 * outside by at most `strap_wall` of its width, as smooth as the paper (lightness spread within 1.6 × its noise) and
 * ringed by pixels clearly unlike the backdrop. Thresholds from the manifest's `garment_mask`.
 * @param {import('./processing.js').RGBImage} image the garment photo
 * @param {import('./processing.js').Mask} mask its mask (same size)
 * @param {{strap_tol: number, strap_wall: number}} rules
 * @returns {import('./processing.js').Mask} the mask itself when no loop is found, else a copy without them
 */
export function dropStrapLoops(image, mask, rules) {
  const { width: w, height: h, data } = mask;
  const hard = binary(data);
  const g = garmentBox(hard, w, h);
  if (g.count < 20 || g.gh < 20 || g.gw < 20) return mask;
  const { top: gTop, gh: gH, gw: gW } = g;
  const y1 = Math.min(h, gTop + Math.trunc(0.3 * gH));
  // CIELAB of the photo (no blur, as Python reads it here) where it is read: the border ring and the rows above y1.
  const lab = new Float32Array(w * h * 3);
  const px = image.data;
  const toLab = (p) => P.labInto(lab, 3 * p, px[3 * p], px[3 * p + 1], px[3 * p + 2]);
  for (let p = 0; p < y1 * w; p++) toLab(p);
  for (let y = y1; y < h; y++) {
    if (y < 3 || y >= h - 3) for (let x = 0; x < w; x++) toLab(y * w + x);
    else for (const x of [0, 1, 2, w - 3, w - 2, w - 1]) toLab(y * w + x);
  }
  const { coef, noise } = borderStats(lab, w, h);
  const n = y1 * w;
  const dist = new Float32Array(n);
  const cand = new Uint8Array(n);
  const [[a0, a1, a2], [b0, b1, b2], [d0, d1, d2]] = coef;
  for (let y = 0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const u = x / w; const v = y / h;
      const e0 = lab[3 * p] - (a0 + a1 * u + a2 * v);
      const e1 = lab[3 * p + 1] - (b0 + b1 * u + b2 * v);
      const e2 = lab[3 * p + 2] - (d0 + d1 * u + d2 * v);
      dist[p] = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2);
      cand[p] = hard[p] && dist[p] < rules.strap_tol ? 1 : 0;
    }
  }
  let sx = 0;
  for (let y = 0, p = 0; y < h; y++) for (let x = 0; x < w; x++, p++) if (hard[p]) sx += x;
  const gCx = sx / g.count;
  const { lbl: labels, stats } = P.components(cand, w, y1, false);
  const drop = new Uint8Array(n);
  let any = false;
  stats.forEach((st, id) => {
    if (!st) return;
    const { x0: bx0, y0: by0, x1: bx1, y1: by1, area } = st;
    const bw = bx1 - bx0 + 1; const bh = by1 - by0 + 1;
    if (by0 >= gTop + 0.2 * gH || bh < 0.05 * gH || area < 2e-4 * gH * gW) return;
    const cx = bx0 + 0.5 * bw;
    if (Math.abs(cx - gCx) < 0.25 * gW) return;
    const inComp = (x, y) => x >= 0 && x < w && y >= 0 && y < y1 && labels[y * w + x] === id;
    // A hole: garment on every side (a fringe of backdrop along the outline touches the outside).
    let rim = 0; let open = 0; let ring = 0; let far = 0;
    const L = [];
    for (let y = Math.max(0, by0 - 4); y <= Math.min(y1 - 1, by1 + 4); y++) {
      for (let x = Math.max(0, bx0 - 4); x <= Math.min(w - 1, bx1 + 4); x++) {
        const p = y * w + x;
        if (labels[p] === id) { L.push(lab[3 * p]); continue; }
        let near3 = false; let near9 = false;
        for (let dy = -4; dy <= 4 && !near9; dy++) {
          const row = ELLIPSE_9[dy + 4];
          for (let dx = -4; dx <= 4; dx++) {
            if (!row[dx + 4] || !inComp(x + dx, y + dy)) continue;
            near9 = true;
            break;
          }
        }
        for (let dy = -1; dy <= 1 && !near3; dy++) {
          for (let dx = -1; dx <= 1; dx++) if (inComp(x + dx, y + dy)) { near3 = true; break; }
        }
        if (near3) { rim++; open += hard[p] ? 0 : 1; }
        if (near9 && hard[p]) { ring++; far += dist[p] > 12 ? 1 : 0; }
      }
    }
    if (open / Math.max(1, rim) > 0.02) return;
    if (outerWall(labels, id, hard, w, by0, by1, cx > gCx ? 1 : -1) > rules.strap_wall * gW) return;
    const mean = L.reduce((a, b) => a + b, 0) / L.length;
    const sd = Math.sqrt(L.reduce((a, b) => a + (b - mean) ** 2, 0) / L.length);
    if (sd > Math.max(0.6, 1.6 * noise)) return; // a white stripe of the fabric has its weave; paper is smooth
    if (ring && far / ring > 0.35) {
      for (let p = 0; p < n; p++) if (labels[p] === id) drop[p] = 1;
      any = true;
    }
  });
  if (!any) return mask;
  // The soft edge round the wedge goes too (the backdrop's anti-aliased rim).
  const gone = P.morph(drop, w, y1, BOX_3, true);
  const out = Float32Array.from(data);
  for (let p = 0; p < n; p++) if (gone[p]) out[p] = 0;
  return { data: out, width: w, height: h };
}


/** `tryon.garment.mask._outer_wall`: median width of the garment between a patch and the outside, per row. */
function outerWall(labels, id, hard, w, y0, y1, sgn) {
  const walls = [];
  for (let y = y0; y <= y1; y++) {
    let edge = -1;
    for (let x = 0; x < w; x++) {
      if (labels[y * w + x] !== id) continue;
      if (edge < 0 || (sgn > 0 ? x > edge : x < edge)) edge = x;
    }
    if (edge < 0) continue;
    let run = 0;
    for (let x = edge + sgn; x >= 0 && x < w && hard[y * w + x]; x += sgn) run++;
    walls.push(run);
  }
  return P.median(walls);
}

// ------------------------------------------------------------------------------------- backdrop fringe

/** A wide blur is taken at the reduced size where its sigma is this many pixels, as Python takes the shadow's. */
const WIDE_BLUR = 8;
/**
 * Python's fringe and garment-colour blurs are taken at full size unless that costs more taps (pixels × kernel
 * width) than this: a 224-px shop photo's widest costs 4 million, a 2-megapixel photo's 400 million.
 */
const FULL_BLUR_TAPS = 25e6;
const f32 = Math.fround;

/**
 * `tryon.garment.landmarks_onepiece.trim_backdrop_fringe`, the teacher's peel: the garment mask without the fringe
 * of backdrop along its outline, the garment's shadow on the backdrop, and the paper tinted by its colour (JPEG's
 * halved chroma). Peeled from the outside in, one 8-connected ring of pixels at a time:
 *
 * - for up to `fringe_depth` of the mask's widest row, ring pixels within `fringe_de` CIELAB units of the backdrop
 *   just outside (a normalised convolution of the pixels beyond the outline);
 * - for up to twice that, the garment's shadow ({@link garmentShadow});
 * - then up to `bleed_rings` more rings of the paper tinted by the garment's colour ({@link chromaBleed}).
 *
 * The soft edge beyond the peeled pixels goes with them. CIELAB is read as Python reads it (OpenCV's 8-bit
 * conversion, full chroma: {@link lab8}). One deviation: on a large photo the blurs Python takes at full size are
 * taken at the reduced size it takes the shadow's backdrop at ({@link backdropField}); at full size the widest blurs
 * of a 2-megapixel photo cost seconds in the browser. Every threshold comes from the manifest's
 * `garment_mask` (`tryon.garment.segmenter.browser_rules`). Parity with Python on real photos:
 * `tests/web/test_peel_parity.py`; method and figures: `docs/garment-mask.md`.
 * @param {import('./processing.js').RGBImage} image the garment photo
 * @param {import('./processing.js').Mask} mask its garment mask (same size), soft edge
 * @param {GarmentMaskRules} rules the manifest's `garment_mask` (`fringe_*`, `bleed_*`, `shadow_*`)
 * @returns {import('./processing.js').Mask} the mask itself when nothing is peeled (or the sizes differ), else a
 *   copy with the peeled pixels at 0
 */
export function trimBackdropFringe(image, mask, rules) {
  const { width: w, height: h, data: m } = mask;
  if (image.width !== w || image.height !== h) return mask;
  const solid = binary(m);
  let wmax = 0; let top = h; let bottom = -1;
  for (let y = 0; y < h; y++) {
    let n = 0;
    for (let x = 0; x < w; x++) n += solid[y * w + x];
    if (n) { wmax = Math.max(wmax, n); top = Math.min(top, y); bottom = y; }
  }
  if (!wmax) return mask;
  const depth = Math.max(1, P.roundHalfEven(rules.fringe_depth * wmax));
  // How deep inside the garment each pixel is, and how far outside it: every erosion and dilation below.
  const inside = P.chessboardDistance(solid, w, h);
  const away = P.chessboardDistance(solid.map((v) => 1 - v), w, h);
  const beyond = (r) => { // the backdrop within r of the garment
    const out = new Uint8Array(w * h);
    for (let p = 0; p < w * h; p++) out[p] = away[p] <= r && m[p] < 0.05 ? 1 : 0;
    return out;
  };
  const outside = beyond(depth);
  if (!outside.includes(1)) return mask;
  const lab = lab8(image.data, w, h);
  const shrunk = new Map(); // the photo's CIELAB at the reduced sizes of wide blurs, shared by them
  const ext = backdropField(lab, outside, w, h, depth, shrunk, true);
  // A shadow reaches further out than a fringe: up to twice as deep, against the backdrop beyond it.
  const sdepth = 2 * depth;
  const far = backdropField(lab, beyond(sdepth), w, h, 2 * depth, shrunk, false);
  const shadow = garmentShadow(lab, far, inside, w, h, sdepth, top + rules.shadow_below * (bottom - top), rules);
  const bleed = chromaBleed(lab, ext, inside, w, h, depth, rules, shrunk);
  const e = [0, 0, 0];
  const nearExt = (p) => {
    if (!(ext(p % w, Math.floor(p / w), e) > 1e-3)) return false;
    return Math.hypot(lab[3 * p] - e[0], lab[3 * p + 1] - e[1], lab[3 * p + 2] - e[2]) < rules.fringe_de;
  };
  const cur = Uint8Array.from(solid);
  let ring = [];
  for (let p = 0; p < w * h; p++) if (inside[p] === 1) ring.push(p);
  ring = peelRings(cur, w, h, ring, sdepth, (p, i) => shadow(p) || (i < depth && nearExt(p)));
  ring = peelRings(cur, w, h, ring, Math.min(depth, rules.bleed_rings), bleed);
  const out = Float32Array.from(m);
  let gone = false;
  for (let p = 0; p < w * h; p++) {
    if (!solid[p] || cur[p]) continue;
    gone = true;
    // The soft edge beyond the peeled pixels goes with them.
    forNeighbours(p, w, h, (q) => { if (!solid[q]) out[q] = 0; });
    out[p] = 0;
  }
  return gone ? { data: out, width: w, height: h } : mask;
}

/** Calls `fn` with each of pixel `p`'s 8 neighbours inside the (h × w) image. */
function forNeighbours(p, w, h, fn) {
  const x = p % w; const y = (p - x) / w;
  for (let dy = -1; dy <= 1; dy++) {
    if (y + dy < 0 || y + dy >= h) continue;
    for (let dx = -1; dx <= 1; dx++) {
      if ((dx || dy) && x + dx >= 0 && x + dx < w) fn(p + dy * w + dx);
    }
  }
}

/**
 * Peels `cur` (0/1, changed in place) from the outside in: at most `iterations` times, the pixels of its outer ring
 * (set, with an unset 8-neighbour inside the image: `cur & ~cv2.erode(cur, 3 × 3)`) that pass `test(p, i)` are
 * unset; stops at the first ring with none. The ring is kept up to date from the unset pixels' neighbours, not
 * recomputed over the photo.
 * @param {number[]} ring the current ring
 * @param {(p: number, i: number) => boolean} test pixel index, iteration
 * @returns {number[]} the ring where the peel stopped
 */
function peelRings(cur, w, h, ring, iterations, test) {
  const inRing = new Uint8Array(w * h);
  let now = ring;
  for (const p of now) inRing[p] = 1;
  for (let i = 0; i < iterations; i++) {
    const peel = now.filter((p) => test(p, i));
    if (!peel.length) break;
    for (const p of peel) { cur[p] = 0; inRing[p] = 0; }
    now = now.filter((p) => cur[p]);
    for (const p of peel) {
      forNeighbours(p, w, h, (q) => { if (cur[q] && !inRing[q]) { inRing[q] = 1; now.push(q); } });
    }
  }
  return now;
}

/**
 * OpenCV's tables of its 8-bit RGB → CIELAB conversion (`cv2.cvtColor(..., COLOR_RGB2LAB)` on uint8, `RGB2Lab_b`):
 * sRGB's gamma (×2040), the D65-normalised sRGB → XYZ matrix (×4096) and f(t) (cube root, linear below (6/29)³;
 * ×32768), built once.
 * @type {{gamma: Int32Array, coef: number[], cbrt: Int32Array}|null}
 */
let labTables = null;

/** {@link labTables}, built on first use. */
function lab8Tables() {
  if (labTables) return labTables;
  const gamma = Int32Array.from({ length: 256 }, (_, i) => {
    const x = i / 255;
    return P.roundHalfEven(2040 * (x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
  });
  const xyz = [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]];
  const white = [0.950456, 1, 1.088754];
  const coef = xyz.flatMap((row, i) => row.map((v) => P.roundHalfEven(4096 * v / white[i])));
  const cbrt = Int32Array.from({ length: 3072 }, (_, i) => {
    const t = f32(f32(1 / 2040) * i); // OpenCV builds it in float32
    return P.roundHalfEven(32768 * (t < f32(216 / 24389) ? f32(t * f32(841 / 108) + f32(16 / 116)) : Math.cbrt(t)));
  });
  // OpenCV's own cube root puts this entry (9454.50044 in double precision) just under the half. With it the
  // conversion equals OpenCV's (5.1) on all 16.7 million colours.
  cbrt[49] = 9454;
  labTables = { gamma, coef, cbrt };
  return labTables;
}

/**
 * CIELAB of an RGB image as `tryon.garment.landmarks_onepiece._lab` reads it: OpenCV's 8-bit conversion in its
 * integer arithmetic ({@link lab8Tables}; L × 255 / 100, a and b + 128, each a level), read back to L in 0-100 and
 * signed a, b, full chroma: equal to OpenCV's on every colour. The JS's float conversion ({@link P.labInto})
 * rounded to levels put 1-2 % of a photo's pixels one level off; one pixel off is enough to move the k-means centres
 * of the shadow rule.
 * @param {Uint8Array|Uint8ClampedArray} rgb (h × w × 3)
 * @returns {Float32Array} (h × w × 3) L, a, b
 */
function lab8(rgb, w, h) {
  const { gamma, coef: [c0, c1, c2, c3, c4, c5, c6, c7, c8], cbrt } = lab8Tables();
  const out = new Float32Array(w * h * 3);
  const level = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
  const toL = f32(100 / 255);
  for (let i = 0; i < 3 * w * h; i += 3) {
    const r = gamma[rgb[i]]; const g = gamma[rgb[i + 1]]; const b = gamma[rgb[i + 2]];
    const fx = cbrt[(r * c0 + g * c1 + b * c2 + 2048) >> 12];
    const fy = cbrt[(r * c3 + g * c4 + b * c5 + 2048) >> 12];
    const fz = cbrt[(r * c6 + g * c7 + b * c8 + 2048) >> 12];
    // L = (296 fY - 40.8 × 2^15) / 2^15 with OpenCV's integer constants (296 = (116 × 255 + 50) / 100), rounded.
    out[i] = level((296 * fy - 1336934 + 16384) >> 15) * toL; // float32 product, as numpy's
    out[i + 1] = level((500 * (fx - fy) + 128 * 32768 + 16384) >> 15) - 128;
    out[i + 2] = level((200 * (fy - fz) + 128 * 32768 + 16384) >> 15) - 128;
  }
  return out;
}

/**
 * A normalised convolution of CIELAB: the Gaussian-weighted mean colour of the pixels where `weight` is set,
 * `cv2.GaussianBlur(lab * weight) / cv2.GaussianBlur(weight)` with BORDER_REFLECT_101. Python takes the shadow's
 * backdrop (`far` in `trim_backdrop_fringe`) at a reduced size: INTER_AREA down to where its sigma is
 * {@link WIDE_BLUR}, the mean there, bilinear back up. The others it takes at full size, and so does this unless
 * that would cost over {@link FULL_BLUR_TAPS} (a large photo): then it too is taken at the reduced size.
 * @param {Float32Array} lab (h × w × 3) from {@link lab8}
 * @param {Uint8Array} weight (h × w) 0/1
 * @param {number} sigma the blur's sigma, photo pixels
 * @param {Map<string, Float32Array>} shrunk `lab` at reduced sizes ("w x h"), filled as needed and shared
 * @param {boolean} fullSize Python takes this blur at full size
 * @returns {(x: number, y: number, out: number[]) => number} writes the mean L, a, b at photo pixel (x, y) into
 *   `out` and returns the blurred weight there (the mean means nothing where it is about 0)
 */
function backdropField(lab, weight, w, h, sigma, shrunk, fullSize) {
  const f = fullSize && w * h * (8 * sigma + 1) <= FULL_BLUR_TAPS ? 1 : Math.min(1, WIDE_BLUR / sigma);
  const sw = Math.max(1, P.roundHalfEven(w * f));
  const sh = Math.max(1, P.roundHalfEven(h * f));
  const small = sw !== w || sh !== h;
  const key = `${sw}x${sh}`;
  if (small && !shrunk.has(key)) shrunk.set(key, P.resizeArea(lab, w, h, 3, sw, sh));
  const v = small ? shrunk.get(key) : lab;
  const wt = small ? P.resizeArea(weight, w, h, 1, sw, sh) : weight;
  // L a b times the weight, and the weight: blurred together, read only along the outline.
  const src = new Float32Array(sw * sh * 4);
  for (let p = 0; p < sw * sh; p++) {
    for (let c = 0; c < 3; c++) src[4 * p + c] = v[3 * p + c] * wt[p];
    src[4 * p + 3] = wt[p];
  }
  const { values, index } = P.gaussianBlurAt(src, sw, sh, 4, sigma * f);
  // cv2.resize INTER_LINEAR back to the photo's size, read at one pixel (half-pixel centres, replicated border).
  const axis = (d, n, s) => {
    const t = Math.max(0, (d + 0.5) * (s / n) - 0.5);
    const i = Math.min(Math.floor(t), s - 1);
    return [i, Math.min(i + 1, s - 1), i >= s - 1 ? 0 : t - i];
  };
  return (x, y, out) => {
    const [x0, x1, fx] = axis(x, w, sw);
    const [y0, y1, fy] = axis(y, h, sh);
    const i00 = index(x0, y0); const i01 = index(x1, y0); const i10 = index(x0, y1); const i11 = index(x1, y1);
    // The mean colour at each corner (the division before the resize, as Python divides), then bilinear.
    const at = (c, mean) => {
      const v = (i) => (mean ? values[i + c] / Math.max(values[i + 3], 1e-6) : values[i + c]);
      return (v(i00) * (1 - fx) + v(i01) * fx) * (1 - fy) + (v(i10) * (1 - fx) + v(i11) * fx) * fy;
    };
    for (let c = 0; c < 3; c++) out[c] = at(c, true);
    return at(3, false);
  };
}

/**
 * `tryon.garment.landmarks_onepiece._garment_shadow`: is a ring pixel the garment's shadow on the backdrop? In the
 * outline's band `depth` deep, below row `below`, of the backdrop's hue (within `shadow_chroma` a*b* units of `far`,
 * the backdrop beyond it), darker than it by `shadow_l` L* units, and at least `shadow_apart` CIELAB units from
 * every colour of the garment seen within 6 depths (`shadow_colours` k-means centres of its pixels 2-6 depths in;
 * where none of the garment is seen that deep, nothing is shadow). The colours are found on the first candidate.
 * @param {Float32Array} lab (h × w × 3) from {@link lab8}
 * @param {ReturnType<typeof backdropField>} far the backdrop beyond the outline
 * @param {Uint16Array} inside (h × w) chessboard distance of each pixel into the garment mask, 0 outside it
 *   ({@link P.chessboardDistance})
 * @param {number} depth the shadow's greatest depth, pixels
 * @param {number} below photo row above which nothing is shadow (a collar's rib in shade is as grey)
 * @returns {(p: number) => boolean} pixel index → shadow
 */
function garmentShadow(lab, far, inside, w, h, depth, below, rules) {
  const [lo, hi] = rules.shadow_l;
  const b = [0, 0, 0];
  let colours;
  return (p) => {
    const x = p % w; const y = (p - x) / w;
    // The outline's band: in the garment, no deeper than `depth` (a pixel outside it is not in a ring).
    if (!inside[p] || inside[p] > depth || y <= below || !(far(x, y, b) > 1e-3)) return false;
    const darker = b[0] - lab[3 * p];
    if (darker < lo || darker > hi) return false;
    if (Math.hypot(lab[3 * p + 1] - b[1], lab[3 * p + 2] - b[2]) >= rules.shadow_chroma) return false;
    colours ??= garmentColours(lab, inside, w, h, depth, rules.shadow_colours);
    if (!colours) return false;
    const { centres, seen, nearSeen } = colours;
    if (!nearSeen[p]) return false;
    for (let c = 0; c < centres.length; c++) {
      const d = Math.hypot(lab[3 * p] - centres[c][0], lab[3 * p + 1] - centres[c][1], lab[3 * p + 2] - centres[c][2]);
      if (seen[c][p] && d <= rules.shadow_apart) return false;
    }
    return true;
  };
}

/**
 * The garment's colours near its outline, for {@link garmentShadow}: k-means centres ({@link kmeans}) of its pixels
 * 2-6 `depth`s inside the outline (at most about 20,000 of them, evenly taken), each pixel labelled with its nearest
 * centre, and where each centre is seen (within 6 depths of a pixel it labels).
 * @returns {{centres: Float32Array[], seen: Uint8Array[], nearSeen: Uint8Array}|null} null when fewer pixels than
 *   colours lie that deep
 */
function garmentColours(lab, inside, w, h, depth, k) {
  const near = new Uint8Array(w * h);
  let count = 0;
  for (let p = 0; p < w * h; p++) {
    near[p] = inside[p] > 2 * depth && inside[p] <= 6 * depth ? 1 : 0;
    count += near[p];
  }
  if (count < k) return null;
  const idx = new Int32Array(count);
  for (let p = 0, i = 0; p < w * h; p++) if (near[p]) idx[i++] = p;
  const step = Math.max(1, Math.floor(count / 20000));
  const n = Math.ceil(count / step);
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) data.set(lab.subarray(3 * idx[i * step], 3 * idx[i * step] + 3), 3 * i);
  const centres = kmeans(data, n, k);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = nearest(lab, idx[i], centres);
  const mine = new Uint8Array(w * h);
  const seen = centres.map((_, c) => {
    for (let i = 0; i < count; i++) mine[idx[i]] = labels[i] === c ? 1 : 0;
    return P.boxMorph(mine, w, h, 6 * depth, true);
  });
  return { centres, seen, nearSeen: P.boxMorph(near, w, h, 6 * depth, true) };
}

/**
 * OpenCV's `theRNG()` (multiply-with-carry, seeded 0xffffffff as `cv2.setRNGSeed(0)` seeds it): `next()` is
 * `(unsigned)rng`, `uniform()` is `(double)rng` (two draws, 64 bits).
 */
function cvRng() {
  let state = 0xffffffffn;
  const next = () => {
    state = ((state & 0xffffffffn) * 4164903690n + (state >> 32n)) & 0xffffffffffffffffn;
    return Number(state & 0xffffffffn);
  };
  const uniform = () => { // ((uint64)next() << 32 | next()) / 2^64
    const hi = next();
    return (hi * 4294967296 + next()) * 5.4210108624275221700372640043497e-20;
  };
  return { next, uniform };
}

/** OpenCV's `hal::normL2Sqr_` of a 3-D point `data[3i..]` and `c`: squared distance summed in float32. */
function normL2Sqr(data, i, c) {
  let d = 0;
  for (let j = 0; j < 3; j++) {
    const t = f32(data[3 * i + j] - c[j]);
    d = f32(d + f32(t * t));
  }
  return d;
}

/**
 * `cv2.kmeans(data, k, None, (EPS + MAX_ITER, 20, 0.5), 2, KMEANS_PP_CENTERS)` on 3-D float32 points, OpenCV's
 * arithmetic followed: two attempts of k-means++ seeding (3 trials per centre) and Lloyd iterations until no centre
 * moves by more than 0.5 or 20 iterations, an empty cluster given the farthest point of the largest; the centres
 * of the more compact attempt. The random draws are OpenCV's generator from a fresh seed ({@link cvRng}): the
 * widget's centres are the same every time, Python's come from wherever its process's generator stands (two runs
 * of Python's peel on one photo can differ; after `cv2.setRNGSeed(0)` they are these).
 * @param {Float32Array} data (n × 3) points
 * @returns {Float32Array[]} k centres [L, a, b]
 */
function kmeans(data, n, k) {
  const rng = cvRng();
  const labels = new Int32Array(n);
  let best = null; let bestCompact = Infinity;
  for (let attempt = 0; attempt < 2; attempt++) {
    let centres = seedCentres(data, n, k, rng);
    for (let iter = 0; ;) {
      let shift = iter === 0 ? Infinity : 0;
      if (iter > 0) {
        const next = clusterMeans(data, n, k, labels);
        for (let j = 0; j < k; j++) {
          let d = 0;
          for (let c = 0; c < 3; c++) d += (next[j][c] - centres[j][c]) ** 2;
          shift = Math.max(shift, d);
        }
        centres = next;
      }
      if (++iter === 20 || shift <= 0.25) break;
      for (let i = 0; i < n; i++) labels[i] = nearest(data, i, centres);
    }
    let compact = 0;
    for (let i = 0; i < n; i++) compact += normL2Sqr(data, i, centres[labels[i]]);
    if (compact < bestCompact) { bestCompact = compact; best = centres; }
  }
  return best;
}

/** Index of the centre nearest to point `i` of `data` (float32 squared distance, first of equals), as OpenCV's. */
function nearest(data, i, centres) {
  let best = 0; let bestD = Infinity;
  for (let c = 0; c < centres.length; c++) {
    const d = normL2Sqr(data, i, centres[c]);
    if (d < bestD) { bestD = d; best = c; }
  }
  return best;
}

/** OpenCV's `generateCentersPP` (k-means++ with 3 trials per centre): k centres drawn from the points. */
function seedCentres(data, n, k, rng) {
  const pt = (i) => data.slice(3 * i, 3 * i + 3);
  const chosen = [rng.next() % n];
  let dist = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) { dist[i] = normL2Sqr(data, i, pt(chosen[0])); sum += dist[i]; }
  for (let c = 1; c < k; c++) {
    let bestSum = Infinity; let bestAt = -1; let bestDist = null;
    for (let t = 0; t < 3; t++) {
      let r = rng.uniform() * sum;
      let i = 0;
      for (; i < n - 1; i++) if ((r -= dist[i]) <= 0) break;
      const centre = pt(i);
      const trial = Float32Array.from(dist, (v, j) => Math.min(normL2Sqr(data, j, centre), v));
      // Summed as OpenCV's unrolled loop sums it: eight float32 terms at a time, then into a double.
      let s = 0;
      let j = 0;
      for (; j + 7 < n; j += 8) {
        let block = trial[j];
        for (let u = 1; u < 8; u++) block = f32(block + trial[j + u]);
        s += block;
      }
      for (; j < n; j++) s += trial[j];
      if (s < bestSum) { bestSum = s; bestAt = i; bestDist = trial; }
    }
    chosen.push(bestAt);
    sum = bestSum;
    dist = bestDist;
  }
  return chosen.map(pt);
}

/**
 * The Lloyd update of `cv2.kmeans` (float32 sums): each cluster's mean; an empty cluster takes the point of the
 * largest cluster farthest from its mean (`labels` changed accordingly).
 */
function clusterMeans(data, n, k, labels) {
  const sums = Array.from({ length: k }, () => new Float32Array(3));
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const s = sums[labels[i]];
    for (let c = 0; c < 3; c++) s[c] += data[3 * i + c];
    counts[labels[i]]++;
  }
  for (let j = 0; j < k; j++) {
    if (counts[j]) continue;
    let big = 0;
    for (let j1 = 1; j1 < k; j1++) if (counts[big] < counts[j1]) big = j1;
    const scale = f32(1 / counts[big]);
    const mean = sums[big].map((v) => v * scale);
    let far = -1; let farD = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== big) continue;
      const d = normL2Sqr(data, i, mean);
      if (farD <= d) { farD = d; far = i; }
    }
    counts[big]--; counts[j]++; labels[far] = j;
    for (let c = 0; c < 3; c++) { sums[big][c] -= data[3 * far + c]; sums[j][c] += data[3 * far + c]; }
  }
  return sums.map((s, j) => { const scale = f32(1 / counts[j]); return s.map((v) => v * scale); });
}

/**
 * `tryon.garment.landmarks_onepiece._chroma_bleed`: is a ring pixel the paper tinted by the garment's colour (a
 * JPEG's halved chroma)? Within `bleed_l` L* of the backdrop just outside, its a*b* offset from the backdrop reaching
 * less than `bleed_share` of the way to the garment's own colour (its pixels `depth` or more inside the outline, a
 * normalised convolution over twice that), where that colour is at least `bleed_min_chroma` a*b* units from the
 * backdrop's. A white rib on a black tee, a pale garment's edge and a grey edge are not taken.
 * @param {Float32Array} lab (h × w × 3) from {@link lab8}
 * @param {ReturnType<typeof backdropField>} ext the backdrop just outside the mask
 * @param {Uint16Array} inside (h × w) chessboard distance of each pixel into the garment mask, 0 outside it
 *   ({@link P.chessboardDistance})
 * @param {number} depth the fringe's greatest depth, pixels
 * @param {Map<string, Float32Array>} shrunk {@link backdropField}'s reduced CIELAB, shared
 * @returns {(p: number) => boolean} pixel index → tinted paper
 */
function chromaBleed(lab, ext, inside, w, h, depth, rules, shrunk) {
  const core = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) core[p] = inside[p] > depth ? 1 : 0;
  const inner = backdropField(lab, core, w, h, Math.max(1, 2 * depth), shrunk, true);
  const e = [0, 0, 0];
  const g = [0, 0, 0];
  return (p) => {
    const x = p % w; const y = (p - x) / w;
    if (!inside[p] || !(ext(x, y, e) > 1e-3) || !(Math.abs(lab[3 * p] - e[0]) < rules.bleed_l)) return false;
    if (!(inner(x, y, g) > 1e-3)) return false;
    const ta = g[1] - e[1]; const tb = g[2] - e[2];
    const reach2 = ta * ta + tb * tb;
    const along = (lab[3 * p + 1] - e[1]) * ta + (lab[3 * p + 2] - e[2]) * tb;
    return reach2 > rules.bleed_min_chroma ** 2 && along < rules.bleed_share * reach2;
  };
}
