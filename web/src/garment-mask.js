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
 * Not ported (Python only): the cut-out's CIELAB background plane, edge evidence and GrabCut; the clothes-hanger
 * and strap-loop rules; the backdrop-fringe and shadow peel the teacher draws with.
 */
import * as P from './processing.js';

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
    if (!this.segment) {
      const cut = P.garmentCutout(image, { scales: [] });
      return { mask: P.softenCutout(cut, size), method: 'cutout', confidence: 1 };
    }
    const cut = P.garmentCutout(image, { scales: r.confidence_scales, plainFraction: r.plain_border_fraction,
      smoothNoise: r.smooth_border_noise });
    if (cut.plain && cut.confidence >= r.confident) {
      const mask = P.softenCutout(cut, size);
      checkExtent(mask, r.min_extent);
      return { mask, method: 'cutout', confidence: cut.confidence };
    }
    const mask = await this.learned(image);
    let garment = 0;
    for (let i = 0; i < mask.data.length; i++) garment += mask.data[i] > 0.5 ? 1 : 0;
    if (garment < 0.005 * mask.data.length) {
      throw new P.BusyBackgroundError('no garment found: the photo seems to show only a plain background');
    }
    if (!cut.plain && borderCover(mask, 2) > r.max_border_cover) {
      throw new P.BusyBackgroundError(cut.why); // a smooth border the network fills: a wall or a floor
    }
    checkExtent(mask, r.min_extent);
    return { mask, method: 'segmenter', confidence: cut.confidence };
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
    const { labels, areas } = P.components(hard, w, h);
    if (areas.length > 1) {
      const big = Math.max(...areas);
      const keep = new Uint8Array(h * w);
      for (let p = 0; p < h * w; p++) keep[p] = labels[p] && areas[labels[p] - 1] >= this.rules.min_component * big ? 1 : 0;
      // The soft rim just outside a kept component stays (a 3×3 dilation of the kept set); everything else goes.
      for (let y = 0; y < h; y++) {
        for (let x0 = 0; x0 < w; x0++) {
          let near = 0;
          for (let dy = -1; dy <= 1 && !near; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const yy = y + dy;
              const xx = x0 + dx;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w && keep[yy * w + xx]) { near = 1; break; }
            }
          }
          if (!near) prob[y * w + x0] = 0;
        }
      }
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
  let y0 = h; let y1 = -1; let x0 = w; let x1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x] <= 0.5) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
  }
  const dy = y1 < 0 ? 0 : (y1 - y0 + 1) / h;
  const dx = x1 < 0 ? 0 : (x1 - x0 + 1) / w;
  if (Math.min(dy, dx) < minExtent) {
    const pct = (v) => `${Math.round(v * 100)}%`;
    throw new P.BusyBackgroundError(`no garment found: what stands apart from the background spans only ${pct(dy)} `
      + `of the photo's height and ${pct(dx)} of its width (at least ${pct(minExtent)} each): use a photo in which `
      + 'the garment fills most of the frame, on a background of another colour or shade than the garment');
  }
}
