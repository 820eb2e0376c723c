/**
 * Pre- and post-processing of the try-on widget: the JavaScript twin of `tryon.processing` (letterbox,
 * NCHW conversion) and `tryon.pasteback` (full-resolution paste-back), plus a simple in-shop garment mask
 * and the temporal smoothing of live mode.
 *
 * Pure functions on plain typed arrays, no DOM: they run in the inference worker, on the main thread and in
 * Node (tests/web). Golden tests (tests/web/test_processing_golden.py) feed the same inputs to this file and
 * to the Python functions and hold them to stated tolerances, so the exact arithmetic of OpenCV is followed
 * where it matters: INTER_AREA box weights for downscaling, half-pixel bilinear upscaling, `cv2.remap`'s
 * float32 bilinear sampling (OpenCV 5), Python's round-half-to-even, and float32 intermediate rounding.
 *
 * Conventions (as in Python):
 * - An `RGBImage` is `{data: Uint8Array|Uint8ClampedArray, width, height}` holding height × width × 3
 *   bytes, RGB, row-major (numpy's (H, W, 3) uint8).
 * - A `Mask` is `{data: Float32Array, width, height}`, values in [0, 1] (numpy's (H, W) float32).
 * - Network tensors are NCHW Float32Array in [-1, 1].
 * - A `Transform` `[scaleX, scaleY, offsetX, offsetY]` maps a full-resolution pixel centre (x, y) to
 *   (x · scaleX + offsetX, y · scaleY + offsetY) in the model frame, pixel centres at integers.
 * - A sampling grid is (h, w, 2) x-then-y in [-1, 1], `grid_sample` convention with `align_corners=false`.
 *
 * @module processing
 */

const f32 = Math.fround;

/**
 * @typedef {{data: Uint8Array|Uint8ClampedArray, width: number, height: number}} RGBImage
 * @typedef {{data: Float32Array, width: number, height: number}} Mask
 * @typedef {[number, number, number, number]} Transform
 */

/** Python's `round()`: half to even (so letterbox sizes match `tryon.processing.letterbox` exactly). */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * RGBA pixels (canvas `ImageData`) → RGB image, dropping alpha.
 * @param {{data: Uint8ClampedArray|Uint8Array, width: number, height: number}} rgba
 * @returns {RGBImage}
 */
export function rgbaToRgb(rgba) {
  const { width, height } = rgba;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const src = rgba.data;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[3 * i] = src[j]; out[3 * i + 1] = src[j + 1]; out[3 * i + 2] = src[j + 2];
  }
  return { data: out, width, height };
}

/**
 * RGB image → RGBA `Uint8ClampedArray` (alpha 255), ready for `new ImageData(...)`.
 * @param {RGBImage} rgb
 * @returns {Uint8ClampedArray}
 */
export function rgbToRgba(rgb) {
  const n = rgb.width * rgb.height;
  const out = new Uint8ClampedArray(n * 4);
  const src = rgb.data;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[j] = src[3 * i]; out[j + 1] = src[3 * i + 1]; out[j + 2] = src[3 * i + 2]; out[j + 3] = 255;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- resizing

/** OpenCV's `computeResizeAreaTab`: source indices and box weights of each output index (one axis). */
function areaTable(ssize, dsize) {
  const scale = ssize / dsize;
  const idx = [];
  const wts = [];
  const start = new Int32Array(dsize + 1);
  for (let dx = 0; dx < dsize; dx++) {
    start[dx] = idx.length;
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) { idx.push(sx1 - 1); wts.push(f32((sx1 - fsx1) / cellWidth)); }
    for (let sx = sx1; sx < sx2; sx++) { idx.push(sx); wts.push(f32(1 / cellWidth)); }
    if (Math.min(Math.min(fsx2, ssize) - sx2, 1) > 1e-3) {
      idx.push(sx2); wts.push(f32(Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth));
    }
  }
  start[dsize] = idx.length;
  return { idx: Int32Array.from(idx), wts: Float32Array.from(wts), start };
}

/**
 * Box-filter (INTER_AREA) downscale of an interleaved array with `c` channels; float32 accumulation.
 * @param {ArrayLike<number>} src (sh × sw × c), row-major
 * @returns {Float32Array} (dh × dw × c)
 */
export function resizeArea(src, sw, sh, c, dw, dh) {
  const tx = areaTable(sw, dw);
  const ty = areaTable(sh, dh);
  const out = new Float32Array(dw * dh * c);
  const row = new Float32Array(dw * c);
  for (let dy = 0; dy < dh; dy++) {
    const acc = new Float32Array(dw * c);
    for (let k = ty.start[dy]; k < ty.start[dy + 1]; k++) {
      const sy = ty.idx[k];
      const beta = ty.wts[k];
      row.fill(0);
      const base = sy * sw * c;
      for (let dx = 0; dx < dw; dx++) {
        for (let j = tx.start[dx]; j < tx.start[dx + 1]; j++) {
          const a = tx.wts[j];
          const s = base + tx.idx[j] * c;
          for (let ch = 0; ch < c; ch++) row[dx * c + ch] = f32(row[dx * c + ch] + f32(src[s + ch] * a));
        }
      }
      for (let i = 0; i < dw * c; i++) acc[i] = f32(acc[i] + f32(row[i] * beta));
    }
    out.set(acc, dy * dw * c);
  }
  return out;
}

/** Half-pixel bilinear (INTER_LINEAR) resize with replicated borders, as `cv2.resize` computes it. */
function resizeLinear(src, sw, sh, c, dw, dh) {
  const out = new Float32Array(dw * dh * c);
  const xs = new Int32Array(dw * 2);
  const ax = new Float32Array(dw);
  const sxs = sw / dw;
  const sys = sh / dh;
  for (let dx = 0; dx < dw; dx++) {
    let fx = (dx + 0.5) * sxs - 0.5;
    let x0 = Math.floor(fx);
    fx -= x0;
    if (x0 < 0) { x0 = 0; fx = 0; }
    if (x0 >= sw - 1) { x0 = sw - 1; fx = 0; }
    xs[2 * dx] = x0; xs[2 * dx + 1] = Math.min(x0 + 1, sw - 1); ax[dx] = fx;
  }
  for (let dy = 0; dy < dh; dy++) {
    let fy = (dy + 0.5) * sys - 0.5;
    let y0 = Math.floor(fy);
    fy -= y0;
    if (y0 < 0) { y0 = 0; fy = 0; }
    if (y0 >= sh - 1) { y0 = sh - 1; fy = 0; }
    const y1 = Math.min(y0 + 1, sh - 1);
    for (let dx = 0; dx < dw; dx++) {
      const a = ax[dx];
      const p00 = (y0 * sw + xs[2 * dx]) * c;
      const p01 = (y0 * sw + xs[2 * dx + 1]) * c;
      const p10 = (y1 * sw + xs[2 * dx]) * c;
      const p11 = (y1 * sw + xs[2 * dx + 1]) * c;
      for (let ch = 0; ch < c; ch++) {
        const top = src[p00 + ch] * (1 - a) + src[p01 + ch] * a;
        const bot = src[p10 + ch] * (1 - a) + src[p11 + ch] * a;
        out[(dy * dw + dx) * c + ch] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}

/** Resize like `tryon.processing.resize`: INTER_AREA when the area shrinks, else INTER_LINEAR. */
function resizeAny(src, sw, sh, c, dw, dh) {
  if (sw === dw && sh === dh) return Float32Array.from(src);
  const shrink = dw * dh < sw * sh;
  return shrink ? resizeArea(src, sw, sh, c, dw, dh) : resizeLinear(src, sw, sh, c, dw, dh);
}

/** Float → uint8 like OpenCV's `saturate_cast<uchar>` (round half to even, clamp). */
function toU8(values) {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let r = Math.round(v);
    if (Math.abs(v % 1) === 0.5 && r % 2 !== 0) r -= 1;
    out[i] = r < 0 ? 0 : r > 255 ? 255 : r;
  }
  return out;
}

/**
 * Resize an RGB image to (height, width): `tryon.processing.resize`.
 * @param {RGBImage} image
 * @param {[number, number]} size (height, width)
 * @returns {RGBImage}
 */
export function resize(image, [h, w]) {
  return { data: toU8(resizeAny(image.data, image.width, image.height, 3, w, h)), width: w, height: h };
}

/**
 * Box-filter (INTER_AREA) downscale of a one-channel array, as `cv2.resize(..., INTER_AREA)` before rounding.
 * @param {{data: ArrayLike<number>, width: number, height: number}} mask
 * @param {[number, number]} size (height, width), at most the mask's
 * @returns {Float32Array} (height × width), row-major
 */
export function resizeMaskArea(mask, [h, w]) {
  if (mask.width === w && mask.height === h) return Float32Array.from(mask.data);
  return resizeArea(mask.data, mask.width, mask.height, 1, w, h);
}

/**
 * Resize a mask to (height, width), values kept in [0, 1]: `tryon.processing.resize_mask`.
 * @param {Mask} mask
 * @param {[number, number]} size (height, width)
 * @returns {Mask}
 */
export function resizeMask(mask, [h, w]) {
  const data = resizeAny(mask.data, mask.width, mask.height, 1, w, h);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, data[i]));
  return { data, width: w, height: h };
}

/**
 * Fit an image or mask into (height, width) keeping its aspect, centred, padded with `fill`:
 * `tryon.processing.letterbox` (same sizes, offsets and transform).
 * @template {RGBImage|Mask} T
 * @param {T} image RGB image (3 channels, uint8) or mask (1 channel, float32)
 * @param {[number, number]} size (height, width) of the model input
 * @param {number} [fill=255] padding value (use 0 for masks)
 * @returns {{image: T, transform: Transform}} transform: source pixel centre → letterboxed pixel centre
 */
export function letterbox(image, [h, w], fill = 255) {
  const ih = image.height;
  const iw = image.width;
  const isMask = image.data instanceof Float32Array;
  const c = isMask ? 1 : 3;
  const scale = Math.min(h / ih, w / iw);
  const nh = Math.max(1, roundHalfEven(ih * scale));
  const nw = Math.max(1, roundHalfEven(iw * scale));
  const resized = resizeAny(image.data, iw, ih, c, nw, nh);
  const inner = isMask ? resized : toU8(resized);
  const data = isMask ? new Float32Array(h * w).fill(fill) : new Uint8Array(h * w * 3).fill(fill);
  const oy = Math.floor((h - nh) / 2);
  const ox = Math.floor((w - nw) / 2);
  for (let y = 0; y < nh; y++) data.set(inner.subarray(y * nw * c, (y + 1) * nw * c), ((oy + y) * w + ox) * c);
  const sx = nw / iw;
  const sy = nh / ih;
  return { image: { data, width: w, height: h }, transform: [sx, sy, ox + 0.5 * sx - 0.5, oy + 0.5 * sy - 0.5] };
}

/**
 * Transform of a plain (aspect-changing) resize from fullSize to modelSize: `tryon.pasteback.resize_transform`.
 * @param {[number, number]} fullSize (height, width)
 * @param {[number, number]} modelSize (height, width)
 * @returns {Transform}
 */
export function resizeTransform([fh, fw], [mh, mw]) {
  const sx = mw / fw;
  const sy = mh / fh;
  return [sx, sy, 0.5 * sx - 0.5, 0.5 * sy - 0.5];
}

// ---------------------------------------------------------------------------------------------- tensors

/**
 * RGB image → (1, 3, H, W) Float32Array in [-1, 1]: `tryon.processing.to_nchw`.
 * @param {RGBImage} image
 * @returns {Float32Array}
 */
export function toNCHW(image) {
  const n = image.width * image.height;
  const out = new Float32Array(3 * n);
  const src = image.data;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) out[ch * n + i] = f32(f32(src[3 * i + ch]) / 127.5) - 1;
  }
  return out;
}

/**
 * (1, 3, H, W) in [-1, 1] → RGB image (clipped, truncated after +0.5): `tryon.processing.from_nchw`.
 * @param {Float32Array} x
 * @param {number} height
 * @param {number} width
 * @returns {RGBImage}
 */
export function fromNCHW(x, height, width) {
  const n = width * height;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = f32(f32(f32(x[ch * n + i] + 1) * 127.5) + 0.5);
      out[3 * i + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v);
    }
  }
  return { data: out, width, height };
}

// ---------------------------------------------------------------------------------------------- garment mask

/** Thrown when a garment photo has no plain background (as Python's `BusyBackgroundError`). */
export class BusyBackgroundError extends Error {
  constructor(message) { super(message); this.name = 'BusyBackgroundError'; }
}

/**
 * Replace thin frame lines (a dark or grey 1-3 px rule many shop images carry) by the next inner line:
 * `tryon.garment.mask.strip_frame`. A frame rule on the border would fail the plain-background test and, for the
 * learned segmenter, confuse the network (its training photos had none).
 * @param {RGBImage} image
 * @param {number} [depth=4] deepest line (pixels from each side) that may be a frame rule
 * @returns {RGBImage} the image itself when it has no frame, else a corrected copy
 */
export function stripFrame(image, depth = 4) {
  const { width: w, height: h } = image;
  const d = Math.min(depth, Math.floor(h / 8), Math.floor(w / 8));
  if (d < 2) return image;
  let data = null;
  // One side at a time as Python does (top, bottom, left, right), each reading the image as corrected so far.
  for (let side = 0; side < 4; side++) {
    const src = data || image.data;
    const along = side < 2 ? w : h; // pixels in one line
    const at = (i, k, c) => { // line i from the side, pixel k along it, channel c
      const y = side === 0 ? i : side === 1 ? h - 1 - i : k;
      const x = side === 0 || side === 1 ? k : side === 2 ? i : w - 1 - i;
      return 3 * (y * w + x) + c;
    };
    const lineMedian = (i) => [0, 1, 2].map((c) => {
      const v = new Float64Array(along);
      for (let k = 0; k < along; k++) v[k] = src[at(i, k, c)];
      return median(v);
    });
    const ref = lineMedian(d);
    for (let i = d - 1; i >= 0; i--) {
      const m = lineMedian(i);
      if (Math.max(...m.map((v, c) => Math.abs(v - ref[c]))) > 8) {
        if (!data) data = Uint8Array.from(image.data);
        for (let j = 0; j <= i; j++) {
          for (let k = 0; k < along; k++) for (let c = 0; c < 3; c++) data[at(j, k, c)] = data[at(i + 1, k, c)];
        }
        break;
      }
    }
  }
  return data ? { data, width: w, height: h } : image;
}

/**
 * `cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))` as row-major 0/1 rows.
 * @param {number} k odd size
 * @returns {Uint8Array[]}
 */
export function ellipseKernel(k) {
  const r = Math.floor(k / 2);
  return Array.from({ length: k }, (_, i) => {
    const row = new Uint8Array(k);
    const dy = i - r;
    const dx = r ? roundHalfEven(r * Math.sqrt((r * r - dy * dy) / (r * r))) : 0;
    row.fill(1, Math.max(r - dx, 0), Math.min(r + dx + 1, k));
    return row;
  });
}

/**
 * Dilation (or erosion) of a 0/1 mask by a structuring element; pixels outside the image are ignored (OpenCV's
 * default border).
 * @param {ArrayLike<number>} hard (h × w) 0/1
 * @param {Uint8Array[]} kernel from {@link ellipseKernel}
 * @returns {Uint8Array}
 */
export function morph(hard, w, h, kernel, dilate) {
  const r = kernel.length >> 1;
  const out = new Uint8Array(w * h);
  const hit = dilate ? 1 : 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 1 - hit;
      for (let dy = -r; dy <= r && v !== hit; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        const row = kernel[dy + r];
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || !row[dx + r]) continue;
          if ((hard[yy * w + xx] ? 1 : 0) === hit) { v = hit; break; }
        }
      }
      out[y * w + x] = v;
    }
  }
  return out;
}

/**
 * Dilation (or erosion) of a 0/1 mask by a (2r + 1) × (2r + 1) square, as `cv2.dilate` (`cv2.erode`) with
 * `np.ones((2 * r + 1,) * 2)`: pixels outside the image are ignored (OpenCV's default border). Separable running
 * counts, so its cost does not grow with `r` (the peel's windows reach 6 × its depth, hundreds of pixels).
 * @param {ArrayLike<number>} hard (h × w) 0/1
 * @param {number} r the square's half side, pixels
 * @param {boolean} dilate dilation, else erosion
 * @returns {Uint8Array}
 */
export function boxMorph(hard, w, h, r, dilate) {
  const rows = new Uint8Array(w * h);
  const out = new Uint8Array(w * h);
  const need = (span) => (dilate ? 1 : span); // set pixels the window must hold
  for (let y = 0; y < h; y++) { // along each row: a running count of the set pixels in the window
    const o = y * w;
    let count = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) count += hard[o + x] ? 1 : 0;
    for (let x = 0; x < w; x++) {
      rows[o + x] = count >= need(Math.min(w - 1, x + r) - Math.max(0, x - r) + 1) ? 1 : 0;
      if (x + r + 1 < w) count += hard[o + x + r + 1] ? 1 : 0;
      if (x - r >= 0) count -= hard[o + x - r] ? 1 : 0;
    }
  }
  const counts = new Int32Array(w); // down the columns, row by row (rows stay in cache)
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let x = 0; x < w; x++) counts[x] += rows[y * w + x];
  for (let y = 0; y < h; y++) {
    const least = need(Math.min(h - 1, y + r) - Math.max(0, y - r) + 1);
    const o = y * w;
    for (let x = 0; x < w; x++) out[o + x] = counts[x] >= least ? 1 : 0;
    if (y + r + 1 < h) for (let x = 0, q = (y + r + 1) * w; x < w; x++, q++) counts[x] += rows[q];
    if (y - r >= 0) for (let x = 0, q = (y - r) * w; x < w; x++, q++) counts[x] -= rows[q];
  }
  return out;
}

/**
 * Chessboard distance from each pixel to the nearest unset pixel of `hard` inside the image (two raster passes of a
 * 3×3 chamfer, exact for this metric). With OpenCV's default border: a pixel survives `cv2.erode` by a
 * (2r + 1) × (2r + 1) square where its distance is over r; of the complement, `cv2.dilate` sets it where it is at
 * most r. One transform answers every square the peel erodes or dilates the garment mask by.
 * @param {ArrayLike<number>} hard (h × w) 0/1
 * @returns {Uint16Array} (h × w): 0 on unset pixels, 65535 everywhere when none is unset
 */
export function chessboardDistance(hard, w, h) {
  const d = new Uint16Array(w * h);
  for (let p = 0; p < w * h; p++) d[p] = hard[p] ? 65535 : 0;
  // Forward: the neighbours left and above; backward: right and below (each one step more than its own distance).
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++, p++) {
      if (!d[p]) continue;
      let v = d[p];
      if (x > 0) v = Math.min(v, d[p - 1] + 1);
      if (y > 0) {
        v = Math.min(v, d[p - w] + 1);
        if (x > 0) v = Math.min(v, d[p - w - 1] + 1);
        if (x < w - 1) v = Math.min(v, d[p - w + 1] + 1);
      }
      d[p] = v;
    }
  }
  for (let y = h - 1, p = w * h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--, p--) {
      if (!d[p]) continue;
      let v = d[p];
      if (x < w - 1) v = Math.min(v, d[p + 1] + 1);
      if (y < h - 1) {
        v = Math.min(v, d[p + w] + 1);
        if (x < w - 1) v = Math.min(v, d[p + w + 1] + 1);
        if (x > 0) v = Math.min(v, d[p + w - 1] + 1);
      }
      d[p] = v;
    }
  }
  return d;
}

const ELLIPSE_5 = ellipseKernel(5);

/**
 * Connected components of a 0/1 mask with their boxes and areas, as `cv2.connectedComponentsWithStats` (labels in
 * raster order of their first pixel).
 * @param {ArrayLike<number>} m (h × w) 0/1
 * @param {number} w
 * @param {number} h
 * @param {boolean} [conn8=true] 8-connectivity, else 4
 * @returns {{lbl: Int32Array, stats: ({x0: number, y0: number, x1: number, y1: number, area: number}|null)[]}}
 *   lbl: 0 = background, 1..n; stats[k] of label k (inclusive box, pixels), stats[0] null
 */
export function components(m, w, h, conn8 = true) {
  const lbl = new Int32Array(w * h);
  const stats = [null];
  const stack = [];
  for (let i = 0; i < w * h; i++) {
    if (!m[i] || lbl[i]) continue;
    const k = stats.length;
    const st = { x0: w, y0: h, x1: -1, y1: -1, area: 0 };
    lbl[i] = k; stack.push(i);
    while (stack.length) {
      const p = stack.pop();
      const x = p % w; const y = (p - x) / w;
      st.area++;
      if (x < st.x0) st.x0 = x; if (x > st.x1) st.x1 = x; if (y < st.y0) st.y0 = y; if (y > st.y1) st.y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((!dx && !dy) || (!conn8 && dx && dy)) continue;
          const xx = x + dx; const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const q = yy * w + xx;
          if (m[q] && !lbl[q]) { lbl[q] = k; stack.push(q); }
        }
      }
    }
    stats.push(st);
  }
  return { lbl, stats };
}

/** `np.median` (NaN for no values). */
export function median(values) {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** `np.percentile(values, q)`: numpy's default (linear) interpolation between the closest ranks. */
export function percentile(values, q) {
  const s = Float64Array.from(values).sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Keep the components of a 0/1 mask at least `share` of the largest and `minArea` pixels. */
function keepLarge(hard, w, h, share, minArea = 0) {
  const { lbl, stats } = components(hard, w, h);
  if (stats.length <= 2) return hard;
  const big = Math.max(...stats.slice(1).map((st) => st.area));
  const out = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const a = lbl[p] ? stats[lbl[p]].area : 0;
    out[p] = a && a >= share * big && a >= minArea ? 1 : 0;
  }
  return out;
}

const SRGB_LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/**
 * sRGB → CIELAB with chroma halved, as `tryon.garment.mask._lab` (OpenCV's float conversion, D65).
 * @param {number} r 0-255 integer level (as are g, b)
 * @returns {number[]} [L (0-100), a / 2, b / 2]
 */
export function labHalfChroma(r, g, b) {
  const out = [0, 0, 0];
  labInto(out, 0, r, g, b);
  return out;
}

/**
 * {@link labHalfChroma} written into `out[i..i+2]` (no allocation: photos of millions of pixels).
 * @param {Float32Array|number[]} out
 * @param {number} i
 */
export function labInto(out, i, r, g, b) {
  const R = SRGB_LINEAR[r]; const G = SRGB_LINEAR[g]; const B = SRGB_LINEAR[b];
  const X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / 0.950456;
  const Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
  const Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.088754;
  const fX = X > 0.008856 ? Math.cbrt(X) : 7.787 * X + 16 / 116;
  const fY = Y > 0.008856 ? Math.cbrt(Y) : 7.787 * Y + 16 / 116;
  const fZ = Z > 0.008856 ? Math.cbrt(Z) : 7.787 * Z + 16 / 116;
  out[i] = Y > 0.008856 ? 116 * fY - 16 : 903.3 * Y;
  out[i + 1] = 0.5 * 500 * (fX - fY);
  out[i + 2] = 0.5 * 200 * (fY - fZ);
}

/** OpenCV's Gaussian kernel for `sigma`: `ksize`, else `cvRound(8 sigma + 1) | 1` taps (float images). */
function gaussianKernel(sigma, ksize) {
  const k = ksize || (Math.round(sigma * 8 + 1) | 1);
  const r = k >> 1;
  const weights = Array.from({ length: k }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = weights.reduce((a, b) => a + b, 0);
  return Float64Array.from(weights, (v) => v / sum);
}

/** Offsets (times `stride`) of the `k` taps of each of `n` positions along an axis, BORDER_REFLECT_101. */
function reflectedTaps(n, k, stride) {
  const r = k >> 1;
  const reflect = (i) => { while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i; return i; };
  return Int32Array.from({ length: n * k }, (_, j) => reflect(Math.floor(j / k) + (j % k) - r) * stride);
}

/**
 * The horizontal pass of a separable Gaussian blur of a (h, w, c) array. A window inside the row with no nonzero
 * pixel is 0 without being summed (the peel blurs a colour times a thin ring's weight: mostly zeros).
 */
function blurRows(src, w, h, c, kern) {
  const k = kern.length;
  const r = k >> 1;
  const tx = reflectedTaps(w, k, c);
  const tmp = new Float32Array(w * h * c);
  const nonzero = new Int32Array(w + 1); // running count of pixels with a nonzero channel along the row
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      let any = 0;
      for (let ch = 0; ch < c; ch++) any |= src[row + x * c + ch] !== 0;
      nonzero[x + 1] = nonzero[x] + any;
    }
    for (let x = 0; x < w; x++) {
      if (x - r >= 0 && x + r < w && nonzero[x + r + 1] === nonzero[x - r]) continue;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let i = 0, t = x * k; i < k; i++, t++) acc += kern[i] * src[row + ch + tx[t]];
        tmp[row + x * c + ch] = acc;
      }
    }
  }
  return tmp;
}

/** The vertical pass at one (x, y) and channel: `tmp` from {@link blurRows}, `ty` its column taps. */
function blurColumn(tmp, kern, ty, at, y) {
  let acc = 0;
  for (let i = 0, t = y * kern.length; i < kern.length; i++, t++) acc += kern[i] * tmp[at + ty[t]];
  return acc;
}

/** Separable Gaussian blur of a (h, w, c) float array, OpenCV's kernel size for `sigma` and BORDER_REFLECT_101. */
export function gaussianBlur(src, w, h, c, sigma, ksize = 0) {
  const kern = gaussianKernel(sigma, ksize);
  const tmp = blurRows(src, w, h, c, kern);
  const ty = reflectedTaps(h, kern.length, w * c);
  const out = new Float32Array(w * h * c);
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++, p++) out[p] = blurColumn(tmp, kern, ty, x * c + ch, y);
  }
  return out;
}

/**
 * {@link gaussianBlur} (no `ksize`) computed only where it is read: the horizontal pass over the array, the vertical
 * one at each (x, y) asked for, once. For the peel, which reads a wide blur along the garment's outline only.
 * @param {ArrayLike<number>} src (h × w × c)
 * @returns {{values: Float32Array, index: (x: number, y: number) => number}} `index(x, y)` computes the blur at
 *   (x, y) if need be and returns the offset of its c channels in `values`
 */
export function gaussianBlurAt(src, w, h, c, sigma) {
  const kern = gaussianKernel(sigma, 0);
  const tmp = blurRows(src, w, h, c, kern);
  const ty = reflectedTaps(h, kern.length, w * c);
  const values = new Float32Array(w * h * c);
  const done = new Uint8Array(w * h);
  const index = (x, y) => {
    const p = y * w + x;
    if (!done[p]) {
      for (let ch = 0; ch < c; ch++) values[p * c + ch] = blurColumn(tmp, kern, ty, x * c + ch, y);
      done[p] = 1;
    }
    return p * c;
  };
  return { values, index };
}

/**
 * CIELAB (chroma halved) of an RGB image after a 3×3 Gaussian blur (sigma 0.8): what `tryon.garment.mask` reads
 * colours from (`_lab(cv2.GaussianBlur(small, (3, 3), 0.8))`).
 * @param {Uint8Array} rgb (h × w × 3)
 * @returns {Float32Array} (h × w × 3) L, a/2, b/2
 */
export function labOf(rgb, w, h) {
  const pre = gaussianBlur(Float32Array.from(rgb), w, h, 3, 0.8, 3);
  const lab = new Float32Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    labInto(lab, 3 * p, Math.round(pre[3 * p]), Math.round(pre[3 * p + 1]), Math.round(pre[3 * p + 2]));
  }
  return lab;
}

/**
 * High-pass noise of the photo's border ring (CIELAB units, chroma halved, MAD sigma): the test
 * `tryon.garment.mask.garment_mask` uses to tell studio paper with a gradient or a vignette (smooth: at most
 * `SMOOTH_BORDER_NOISE`) from a floor, a wall or a room (textured).
 * @param {Uint8Array} small working-resolution RGB (h × w × 3)
 * @returns {number}
 */
function borderTexture(small, w, h, ring) {
  const lab = labOf(small, w, h);
  const low = gaussianBlur(lab, w, h, 3, 4);
  const hp = Float64Array.from(ring, (p) => Math.hypot(lab[3 * p] - low[3 * p], lab[3 * p + 1] - low[3 * p + 1],
    lab[3 * p + 2] - low[3 * p + 2])).sort();
  return 1.4826 * hp[hp.length >> 1];
}

const NOT_PLAIN = 'use an in-shop photo of the garment alone on a plain white, grey or coloured background, not a '
  + 'photo of a person or a garment in a room';

/**
 * The widget's classical garment cut-out at working resolution, with its own confidence: the border colour (the
 * per-channel median of a 3 px ring), pixels within a tolerance of it (from the border's noise) flooded from the
 * border (4-connectivity),
 * so garment pixels as light as the paper but enclosed by the silhouette stay garment; small specks dropped.
 * The confidence is `tryon.garment.mask.classical_mask`'s: the worst IoU between this cut-out and those found
 * with the tolerance scaled by each of `scales`, leaving out 2 working pixels either side of the outline. A
 * silhouette on a clear colour step does not move; white on white, or paper with a gradient, does.
 *
 * @param {RGBImage} image
 * @param {{tolerance?: number, minTolerance?: number, workSide?: number, scales?: number[], plainFraction?: number,
 *   smoothNoise?: number|null}} [options] tolerance, minTolerance: the range (per-channel distance to the border
 *   colour, 0-255; default 10-14) of the background tolerance, which is 4 times the border's noise plus 4 within
 *   it; workSide: long side of the working resolution (default 320, as in
 *   Python); scales: the tolerance factors of the confidence (default [0.5, 2]); plainFraction: share of the
 *   border that must be within tolerance for a plain background (default 0.55); smoothNoise: when given, a border
 *   that is not plain but whose high-pass noise is at most this (CIELAB units) is returned with `plain: false`
 *   (studio paper with a gradient, for the learned segmenter) instead of refused.
 * @returns {{hard: Uint8Array|null, width: number, height: number, plain: boolean, confidence: number,
 *   why: string}} hard: the working-resolution 0/1 cut-out (null when not plain); why: the refusal message a
 *   not-plain border gets
 * @throws {BusyBackgroundError} the border is neither plain nor smooth, or nothing but background was found
 */
export function garmentCutout(image, { tolerance = 14, minTolerance = 10, workSide = 320, scales = [0.5, 2],
  plainFraction = 0.55, smoothNoise = null } = {}) {
  const s = Math.min(1, workSide / Math.max(image.width, image.height));
  const w = Math.max(16, roundHalfEven(image.width * s));
  const h = Math.max(16, roundHalfEven(image.height * s));
  const small = resize(stripFrame(image), [h, w]).data;
  const ring = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (y < 3 || y >= h - 3 || x < 3 || x >= w - 3) ring.push(y * w + x);
  }
  const bg = [0, 1, 2].map((ch) => {
    const v = ring.map((p) => small[3 * p + ch]).sort((a, b) => a - b);
    return v[v.length >> 1];
  });
  const dist = new Float32Array(w * h);
  for (let p = 0; p < w * h; p++) {
    dist[p] = Math.max(Math.abs(small[3 * p] - bg[0]), Math.abs(small[3 * p + 1] - bg[1]),
      Math.abs(small[3 * p + 2] - bg[2]));
  }
  // The tolerance follows the paper's own noise (MAD sigma of the border's distances to its colour): on clean
  // paper a white stripe 11-14 levels off light grey paper must not count as background (a striped tee flooded
  // through its white stripes at a fixed 14); on grainy or JPEG-ridden paper it grows up to `tolerance`. Not
  // below 10: lower, a clean shop photo's JPEG halo joins the garment, and the folded-shirt rule (a box fill of
  // 0.9) flipped on 13 more-photos shirts at 6 (docs/garment-mask.md, "The widget's mask").
  const ringDist = Float64Array.from(ring, (p) => dist[p]).sort();
  const tol = Math.max(minTolerance, Math.min(tolerance, 4 * 1.4826 * ringDist[ringDist.length >> 1] + 4));
  const plainShare = ring.reduce((n, p) => n + (dist[p] <= tol ? 1 : 0), 0) / ring.length;
  const why = `the garment photo's background is not plain (only ${Math.round(plainShare * 100)}% of the border `
    + `is one colour): ${NOT_PLAIN}`;
  if (plainShare < plainFraction) {
    if (smoothNoise != null && borderTexture(small, w, h, ring) <= smoothNoise) {
      return { hard: null, width: w, height: h, plain: false, confidence: 0, why };
    }
    throw new BusyBackgroundError(why);
  }
  const cut = (tol) => {
    const flooded = new Uint8Array(w * h);
    const stack = [];
    for (const p of ring) if (dist[p] <= tol && !flooded[p]) { flooded[p] = 1; stack.push(p); }
    while (stack.length) {
      const p = stack.pop();
      const x = p % w;
      const y = (p - x) / w;
      const nb = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of nb) if (q >= 0 && dist[q] <= tol && !flooded[q]) { flooded[q] = 1; stack.push(q); }
    }
    const fg = new Uint8Array(w * h);
    for (let p = 0; p < w * h; p++) fg[p] = flooded[p] ? 0 : 1;
    // Specks the flood left (paper grain, a shop's logo in a corner), as the Python cut-out drops them.
    return keepLarge(fg, w, h, 0.03, 0.0005 * w * h);
  };
  const hard = cut(tol);
  let count = 0;
  for (let p = 0; p < w * h; p++) count += hard[p];
  if (count < 0.01 * w * h) {
    throw new BusyBackgroundError('no garment found: the photo seems to show only a plain background');
  }
  const dil = morph(hard, w, h, ELLIPSE_5, true);
  const ero = morph(hard, w, h, ELLIPSE_5, false);
  let confidence = 1;
  for (const scale of scales) {
    const other = cut(tol * scale);
    let inter = 0;
    let union = 0;
    for (let p = 0; p < w * h; p++) {
      if (dil[p] && !ero[p]) continue; // the outline's band
      inter += hard[p] & other[p];
      union += hard[p] | other[p];
    }
    confidence = Math.min(confidence, inter / Math.max(1, union));
  }
  return { hard, width: w, height: h, plain: true, confidence, why };
}

/**
 * A working-resolution 0/1 cut-out as a soft mask at the photo's size: a 3×3 box blur (about one working
 * pixel of soft edge), then bilinear up.
 * @param {{hard: Uint8Array, width: number, height: number}} cut
 * @param {[number, number]} size (height, width) of the photo
 * @returns {Mask}
 */
export function softenCutout({ hard, width: w, height: h }, [H, W]) {
  const soft = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          sum += hard[yy * w + xx];
        }
      }
      soft[y * w + x] = sum / 9;
    }
  }
  const mask = { data: soft, width: w, height: h };
  return (w === W && h === H) ? mask : resizeMask(mask, [H, W]);
}

/**
 * Garment mask of an in-shop photo on a plain background by the widget's classical cut-out alone
 * (`garmentCutout`, soft edge): what the widget uses when its deployment ships no learned segmenter
 * (`garment-mask.js` combines the two as `tryon.garment.mask.garment_mask` does). The catalogue ships exact masks
 * (`garment-mask-src`), and the server computes the Python mask itself.
 *
 * @param {RGBImage} image
 * @param {{tolerance?: number, minTolerance?: number, workSide?: number}} [options] as `garmentCutout`
 * @returns {Mask} at the image's resolution, soft (about one working pixel) edge
 * @throws {BusyBackgroundError} the border is not one plain colour, or nothing but background was found
 */
export function garmentMask(image, { tolerance = 14, minTolerance = 6, workSide = 320 } = {}) {
  return softenCutout(garmentCutout(image, { tolerance, minTolerance, workSide, scales: [] }),
    [image.height, image.width]);
}

/**
 * A mask from the red channel of an RGB image (a mask PNG: 0 = background, 255 = garment).
 * @param {RGBImage} image
 * @returns {Mask}
 */
export function maskFromImage(image) {
  const n = image.width * image.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = image.data[3 * i] / 255;
  return { data, width: image.width, height: image.height };
}

// ---------------------------------------------------------------------------------------------- paste-back

/**
 * Model-frame coordinates of every full-resolution pixel centre (float32): `tryon.pasteback.model_coords`.
 * Separable, so only one row of x and one column of y are stored.
 * @param {[number, number]} fullSize (height, width)
 * @param {Transform} t
 * @returns {{xs: Float32Array, ys: Float32Array}}
 */
export function modelCoords([h, w], [sx, sy, ox, oy]) {
  const xs = new Float32Array(w);
  const ys = new Float32Array(h);
  for (let x = 0; x < w; x++) xs[x] = f32(f32(x * f32(sx)) + f32(ox));
  for (let y = 0; y < h; y++) ys[y] = f32(f32(y * f32(sy)) + f32(oy));
  return { xs, ys };
}

/**
 * `cv2.remap` INTER_LINEAR position split as OpenCV 5 computes it: integer cell and float32 fraction (OpenCV 4
 * quantised fractions to 1/32 pixel; OpenCV 5, which the Python side uses, interpolates exactly in float32).
 */
function remapSplit(x) {
  const ix = Math.floor(x);
  return [ix, f32(x - ix)];
}

/**
 * The older `cv2.remap` split OpenCV 5 still uses for 2-channel float images (the flow): the position is
 * quantised to 1/32 pixel (INTER_BITS = 5, cvRound = half to even). Measured: 1-, 3- and 4-channel float
 * remaps interpolate exactly, 2-channel ones are quantised.
 */
function remapSplitQuantised(x) {
  const X = roundHalfEven(f32(x * 32));
  const ix = Math.floor(X / 32);
  return [ix, (X - ix * 32) / 32];
}

/**
 * Rebuild the student's try-on at the person photo's own resolution: `tryon.pasteback.paste_back`.
 *
 * `out = m · remap(garment_full, grid↑) + (1 − m) · (person_full + (render − person_low)↑)` with
 * `m = composition_mask↑` (↑: bilinear upsampling to the full-resolution person frame). The grid is upsampled
 * as a flow (grid − identity) and added back to the exact identity, so still regions stay pixel-exact.
 *
 * @param {RGBImage} person full-resolution person photo (H, W)
 * @param {RGBImage} garment full-resolution garment photo (the one letterboxed for the model)
 * @param {object} o
 * @param {Float32Array} o.grid (h, w, 2) x then y in [-1, 1] (the model's `grid` output, NHWC)
 * @param {Float32Array} o.compositionMask (h, w) in [0, 1]
 * @param {RGBImage} o.render the student's `tryon` output as an image (fromNCHW), (h, w)
 * @param {RGBImage} o.personLow the person input the student saw, (h, w)
 * @param {Transform} [o.personTransform] full-resolution person → model frame (default: plain resize)
 * @param {Transform} [o.garmentTransform] full-resolution garment → garment model frame (default: plain resize)
 * @param {[number, number]} [o.garmentModelSize] (height, width) of the garment model input (default (h, w))
 * @param {number} [o.fill=255] value of garment samples outside the garment photo
 * @returns {RGBImage} (H, W)
 */
export function pasteBack(person, garment, {
  grid, compositionMask, render, personLow, personTransform, garmentTransform, garmentModelSize, fill = 255,
}) {
  const h = render.height;
  const w = render.width;
  if (grid.length !== h * w * 2 || compositionMask.length !== h * w || personLow.width !== w
      || personLow.height !== h) {
    throw new RangeError(`grid, composition mask, render and person_low must share the model frame (${h}, ${w})`);
  }
  const H = person.height;
  const W = person.width;
  const [gh, gw] = garmentModelSize || [h, w];
  const pt = personTransform || resizeTransform([H, W], [h, w]);
  const [gsx, gsy, gox, goy] = garmentTransform || resizeTransform([garment.height, garment.width], [gh, gw]);
  const { xs, ys } = modelCoords([H, W], pt);

  // Low-resolution fields sampled together: flow (2), mask (1), residual (3).
  const low = new Float32Array(h * w * 6);
  for (let y = 0; y < h; y++) {
    const iy = f32(f32(f32(2 * y + 1) / h) - 1);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const ix = f32(f32(f32(2 * x + 1) / w) - 1);
      low[6 * i] = f32(grid[2 * i] - ix);
      low[6 * i + 1] = f32(grid[2 * i + 1] - iy);
      low[6 * i + 2] = compositionMask[i];
      for (let ch = 0; ch < 3; ch++) low[6 * i + 3 + ch] = render.data[3 * i + ch] - personLow.data[3 * i + ch];
    }
  }
  // The sampling positions are separable (x depends on the column, y on the row): split them once.
  const splitAxis = (coords, n, split) => {
    const i0 = new Int32Array(coords.length);
    const i1 = new Int32Array(coords.length);
    const fr = new Float32Array(coords.length);
    for (let k = 0; k < coords.length; k++) {
      const [ix, fx] = split(coords[k]);
      i0[k] = Math.min(n - 1, Math.max(0, ix));
      i1[k] = Math.min(n - 1, Math.max(0, ix + 1));
      fr[k] = fx;
    }
    return { i0, i1, fr };
  };
  const qx = splitAxis(xs, w, remapSplitQuantised); // flow: 2-channel remap, quantised
  const qy = splitAxis(ys, h, remapSplitQuantised);
  const ex = splitAxis(xs, w, remapSplit); // mask (1 channel) + residual (3): exact
  const ey = splitAxis(ys, h, remapSplit);
  const idX = new Float32Array(W);
  for (let X = 0; X < W; X++) idX[X] = f32(f32(f32(f32(2 * xs[X]) + 1) / w) - 1);

  const out = new Uint8Array(H * W * 3);
  const G = garment.data;
  const GW = garment.width;
  const GH = garment.height;
  for (let Y = 0; Y < H; Y++) {
    const my = ys[Y];
    const idY = f32(f32(f32(f32(2 * my) + 1) / h) - 1);
    const qfy = qy.fr[Y];
    const efy = ey.fr[Y];
    const qr0 = qy.i0[Y] * w;
    const qr1 = qy.i1[Y] * w;
    const er0 = ey.i0[Y] * w;
    const er1 = ey.i1[Y] * w;
    for (let X = 0; X < W; X++) {
      // Flow (grid − identity) at this pixel, bilinear with 1/32-quantised weights (BORDER_REPLICATE).
      let fx = qx.fr[X];
      let a00 = f32(f32(1 - fx) * f32(1 - qfy));
      let a01 = f32(fx * f32(1 - qfy));
      let a10 = f32(f32(1 - fx) * qfy);
      let a11 = f32(fx * qfy);
      let p00 = 6 * (qr0 + qx.i0[X]);
      let p01 = 6 * (qr0 + qx.i1[X]);
      let p10 = 6 * (qr1 + qx.i0[X]);
      let p11 = 6 * (qr1 + qx.i1[X]);
      const flowX = low[p00] * a00 + low[p01] * a01 + low[p10] * a10 + low[p11] * a11;
      const flowY = low[p00 + 1] * a00 + low[p01 + 1] * a01 + low[p10 + 1] * a10 + low[p11 + 1] * a11;
      // Composition mask and residual, bilinear with exact weights.
      fx = ex.fr[X];
      a00 = f32(f32(1 - fx) * f32(1 - efy));
      a01 = f32(fx * f32(1 - efy));
      a10 = f32(f32(1 - fx) * efy);
      a11 = f32(fx * efy);
      p00 = 6 * (er0 + ex.i0[X]);
      p01 = 6 * (er0 + ex.i1[X]);
      p10 = 6 * (er1 + ex.i0[X]);
      p11 = 6 * (er1 + ex.i1[X]);
      const mRaw = low[p00 + 2] * a00 + low[p01 + 2] * a01 + low[p10 + 2] * a10 + low[p11 + 2] * a11;
      const m = Math.min(1, Math.max(0, mRaw));

      const gx = f32(idX[X] + f32(flowX));
      const gy = f32(idY + f32(flowY));
      const u = f32(f32(f32(f32(gx + 1) * gw) - 1) * 0.5);
      const vv = f32(f32(f32(f32(gy + 1) * gh) - 1) * 0.5);
      const srcX = f32((u - gox) / gsx);
      const srcY = f32((vv - goy) / gsy);
      // Garment: cv2.remap INTER_LINEAR, BORDER_CONSTANT(fill): each tap outside reads `fill`; float32 weights,
      // rounded half to even into uint8 (measured on OpenCV 5.0).
      const ix = Math.floor(srcX);
      const iy = Math.floor(srcY);
      const gfx = f32(srcX - ix);
      const gfy = f32(srcY - iy);
      const w00 = f32(f32(1 - gfx) * f32(1 - gfy));
      const w01 = f32(gfx * f32(1 - gfy));
      const w10 = f32(f32(1 - gfx) * gfy);
      const w11 = f32(gfx * gfy);
      const in0 = iy >= 0 && iy < GH;
      const in1 = iy + 1 >= 0 && iy + 1 < GH;
      const ok0 = ix >= 0 && ix < GW;
      const ok1 = ix + 1 >= 0 && ix + 1 < GW;
      const t00 = in0 && ok0 ? 3 * (iy * GW + ix) : -1;
      const t01 = in0 && ok1 ? 3 * (iy * GW + ix + 1) : -1;
      const t10 = in1 && ok0 ? 3 * ((iy + 1) * GW + ix) : -1;
      const t11 = in1 && ok1 ? 3 * ((iy + 1) * GW + ix + 1) : -1;
      const o = 3 * (Y * W + X);
      for (let ch = 0; ch < 3; ch++) {
        const a = t00 < 0 ? fill : G[t00 + ch];
        const b = t01 < 0 ? fill : G[t01 + ch];
        const c = t10 < 0 ? fill : G[t10 + ch];
        const d = t11 < 0 ? fill : G[t11 + ch];
        const sum = f32(f32(f32(f32(a * w00) + f32(b * w01)) + f32(c * w10)) + f32(d * w11));
        const warped = Math.min(255, Math.max(0, roundHalfEven(sum)));
        const res = low[p00 + 3 + ch] * a00 + low[p01 + 3 + ch] * a01 + low[p10 + 3 + ch] * a10
          + low[p11 + 3 + ch] * a11;
        const base = f32(person.data[o + ch] + f32(res));
        const val = f32(f32(f32(m * warped) + f32(f32(1 - m) * base)) + 0.5);
        out[o + ch] = val <= 0 ? 0 : val >= 255 ? 255 : Math.floor(val);
      }
    }
  }
  return { data: out, width: W, height: H };
}

// ---------------------------------------------------------------------------------------------- live mode

/**
 * Exponential moving average in place: `prev ← alpha · next + (1 − alpha) · prev` (returns `prev`), or a copy
 * of `next` when there is no previous value or the sizes differ. Live mode smooths the sampling grid and the
 * composition mask across video frames with it, so the garment does not flicker.
 * @param {Float32Array|null} prev
 * @param {Float32Array} next
 * @param {number} alpha weight of the new frame in (0, 1]; 1 = no smoothing
 * @returns {Float32Array}
 */
export function ema(prev, next, alpha) {
  if (!prev || prev.length !== next.length || alpha >= 1) return Float32Array.from(next);
  for (let i = 0; i < next.length; i++) prev[i] = alpha * next[i] + (1 - alpha) * prev[i];
  return prev;
}
