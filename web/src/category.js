/**
 * The garment category check of `category="auto"` in the browser: the twin of `tryon.garment.category`
 * (`classify_garment` on the silhouette of `tryon.garment.landmarks.analyse_shape`), so that a photo of trousers,
 * a skirt or a dress uploaded as the garment is refused in the widget as the server refuses it.
 *
 * One source of truth: the rules' thresholds are not written here but read from the manifest's
 * `garment_category.rules` (written by `tryon export` from the Python module's constants), and the categories
 * refused are those the student does not dress (the manifest's `categories`). The geometry (normalisation to a
 * 384 px tall main component, convexity defects, the top landmarks the length rule reads) follows the Python
 * code step by step; `tests/e2e/test_category_parity.py` runs both on the same masks in Chromium and holds them
 * to a stated agreement. Method and measured figures: `docs/garment-category.md`.
 *
 * Masks are `{data, width, height}` row-major, values in [0, 1]; points are `[x, y]` working pixels;
 * `*_left` is the wearer's left = image right, as in Python.
 *
 * @module category
 */

import {
  components, gaussianBlur, labInto, median, percentile, resize, resizeMaskArea, roundHalfEven,
} from './processing.js';
import { CATEGORY_EXAMPLES, ErrorName, REFUSALS, namedError, normaliseCategory } from './protocol.js';

// ------------------------------------------------------------------------------------- small numpy helpers

const pyMod = (a, n) => ((a % n) + n) % n;
/** numpy's argmin over `f(0..n-1)`: the first index of the smallest value. */
const argmin = (n, f) => {
  let b = 0; let bv = Infinity;
  for (let i = 0; i < n; i++) { const v = f(i); if (v < bv) { bv = v; b = i; } }
  return b;
};
const argmax = (n, f) => argmin(n, (i) => -f(i));

/** Binary mask helper: `{m: Uint8Array, w, h}`. */
const at = (B, x, y) => B.m[y * B.w + x];
/** Columns of row y that are set. */
function rowCols(B, y) {
  const out = [];
  for (let x = 0; x < B.w; x++) if (B.m[y * B.w + x]) out.push(x);
  return out;
}

// ------------------------------------------------------------------------------------------ normalisation

/** `_main_component`: the largest 8-connected component, holes filled except a long sleeve's slots. */
function mainComponent(m, w, h) {
  const { lbl, stats } = components(m, w, h, true);
  if (stats.length <= 1) throw new Error('empty garment mask');
  let k = 1;
  for (let i = 2; i < stats.length; i++) if (stats[i].area > stats[k].area) k = i;
  const comp = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) comp[i] = lbl[i] === k ? 1 : 0;
  // Filling the outer contour = every background pixel not 4-connected to the outside.
  const outside = new Uint8Array(w * h);
  const stack = [];
  const seed = (p) => { if (!comp[p] && !outside[p]) { outside[p] = 1; stack.push(p); } };
  for (let x = 0; x < w; x++) { seed(x); seed((h - 1) * w + x); }
  for (let y = 0; y < h; y++) { seed(y * w); seed(y * w + w - 1); }
  while (stack.length) {
    const p = stack.pop();
    const x = p % w; const y = (p - x) / w;
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const xx = x + dx; const yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const q = yy * w + xx;
      if (!comp[q] && !outside[q]) { outside[q] = 1; stack.push(q); }
    }
  }
  const filled = new Uint8Array(w * h);
  const holes = new Uint8Array(w * h);
  let any = false;
  for (let i = 0; i < w * h; i++) {
    filled[i] = outside[i] ? 0 : 1;
    holes[i] = filled[i] && !comp[i] ? 1 : 0;
    any ||= holes[i] === 1;
  }
  if (any) {
    let ymin = h; let ymax = -1; let xmin = w; let xmax = -1; let sx = 0; let n = 0;
    for (let i = 0; i < w * h; i++) {
      if (!filled[i]) continue;
      const x = i % w; const y = (i - x) / w;
      if (y < ymin) ymin = y; if (y > ymax) ymax = y; if (x < xmin) xmin = x; if (x > xmax) xmax = x;
      sx += x; n++;
    }
    const gH = ymax - ymin + 1; const gW = xmax - xmin + 1; const gCx = sx / n;
    const hc = components(holes, w, h, false);
    for (let i = 1; i < hc.stats.length; i++) {
      const s = hc.stats[i];
      const hw = s.x1 - s.x0 + 1; const hh = s.y1 - s.y0 + 1;
      if (hh >= 0.08 * gH && Math.abs(s.x0 + (hw - 1) / 2 - gCx) >= 0.25 * gW && s.y0 >= ymin + 0.2 * gH) {
        for (let p = 0; p < w * h; p++) if (hc.lbl[p] === i) filled[p] = 0;
      }
    }
  }
  return filled;
}

// OpenCV's 8 directions (CV_INIT_3X3_DELTAS): right, up-right, up, up-left, left, down-left, down, down-right.
const DIRS = [[1, 0], [1, -1], [0, -1], [-1, -1], [-1, 0], [-1, 1], [0, 1], [1, 1]];

/**
 * The outer border of the component holding the first set pixel in raster order, every pixel (Suzuki & Abe's
 * border following, as OpenCV's `findContours(RETR_EXTERNAL, CHAIN_APPROX_NONE)` walks it).
 * @returns {Int32Array[]} points [x, y]
 */
function outerContour(B) {
  const { w, h } = B;
  const on = (x, y) => x >= 0 && y >= 0 && x < w && y < h && B.m[y * w + x] === 1;
  let start = -1;
  for (let i = 0; i < w * h; i++) if (B.m[i]) { start = i; break; }
  const x0 = start % w; const y0 = (start - x0) / w;
  let s = 4;
  let found = false;
  for (let k = 0; k < 8; k++) {
    s = (s - 1) & 7;
    if (on(x0 + DIRS[s][0], y0 + DIRS[s][1])) { found = true; break; }
    if (s === 4) break;
  }
  if (!found) return [[x0, y0]];
  const x1 = x0 + DIRS[s][0]; const y1 = y0 + DIRS[s][1];
  const pts = [];
  let x3 = x0; let y3 = y0;
  for (let guard = 0; guard < 8 * w * h; guard++) {
    let x4 = x3; let y4 = y3;
    for (let k = 0; k < 8; k++) {
      s = (s + 1) & 7;
      if (on(x3 + DIRS[s][0], y3 + DIRS[s][1])) { x4 = x3 + DIRS[s][0]; y4 = y3 + DIRS[s][1]; break; }
    }
    pts.push([x3, y3]);
    if (x4 === x0 && y4 === y0 && x3 === x1 && y3 === y1) break;
    x3 = x4; y3 = y4;
    s = (s + 4) & 7;
  }
  return pts;
}

/** Indices of the convex hull of `pts` (no collinear points), ascending. */
function hullIndices(pts) {
  const order = pts.map((_, i) => i).sort((a, b) => (pts[a][0] - pts[b][0]) || (pts[a][1] - pts[b][1]) || (a - b));
  const uniq = [];
  for (const i of order) {
    const l = uniq[uniq.length - 1];
    if (l === undefined || pts[l][0] !== pts[i][0] || pts[l][1] !== pts[i][1]) uniq.push(i);
  }
  const cross = (o, a, b) => (pts[a][0] - pts[o][0]) * (pts[b][1] - pts[o][1])
    - (pts[a][1] - pts[o][1]) * (pts[b][0] - pts[o][0]);
  const half = (list) => {
    const st = [];
    for (const i of list) {
      while (st.length >= 2 && cross(st[st.length - 2], st[st.length - 1], i) <= 0) st.pop();
      st.push(i);
    }
    st.pop();
    return st;
  };
  const hull = uniq.length < 3 ? uniq : [...half(uniq), ...half([...uniq].reverse())];
  return [...new Set(hull)].sort((a, b) => a - b);
}

/** `cv2.convexityDefects` (start, end, farthest, depth in px) on a hull of ascending indices. */
function convexityDefects(pts, hull) {
  const out = [];
  const n = pts.length;
  for (let k = 0; k < hull.length; k++) {
    const a = hull[k]; const b = hull[(k + 1) % hull.length];
    const [ax, ay] = pts[a]; const [bx, by] = pts[b];
    const dx = bx - ax; const dy = by - ay;
    const len = Math.hypot(dx, dy);
    const scale = len === 0 ? 0 : 1 / len;
    let best = -1; let depth = 0;
    for (let j = (a + 1) % n; j !== b; j = (j + 1) % n) {
      const d = Math.abs((pts[j][0] - ax) * dy - (pts[j][1] - ay) * dx) * scale;
      if (d > depth) { depth = d; best = j; }
    }
    if (best >= 0) out.push([a, b, best, Math.round(depth * 256) / 256]);
  }
  return out;
}

/**
 * `analyse_shape`: the mask normalised to its main component, 384 px tall (`rules.work_height`), and measured.
 * @param {{data: ArrayLike<number>, width: number, height: number}} mask values in [0, 1]
 * @param {object} rules the manifest's `garment_category.rules`
 * @returns {object} `{B, contour, cx, top, bottom, left, right, armpit, depth}` (working pixels)
 * @throws {Error} the mask is empty
 */
export function analyseShape(mask, rules) {
  const { width: W, height: H, data } = mask;
  let ymin = H; let ymax = -1;
  for (let i = 0; i < W * H; i++) {
    if (data[i] <= 0.5) continue;
    const y = Math.floor(i / W);
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  if (ymax < 0) throw new Error('empty garment mask');
  const s = rules.work_height / (ymax - ymin + 1);
  const w = Math.max(8, roundHalfEven(W * s)); const h = Math.max(8, roundHalfEven(H * s));
  const bin = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) bin[i] = data[i] > 0.5 ? 1 : 0;
  const small = new Uint8Array(w * h);
  if (s > 1) { // INTER_NEAREST: source index floor(x * src / dst)
    for (let y = 0; y < h; y++) {
      const sy = Math.min(H - 1, Math.floor(y * (H / h)));
      for (let x = 0; x < w; x++) small[y * w + x] = bin[sy * W + Math.min(W - 1, Math.floor(x * (W / w)))];
    }
  } else { // INTER_AREA on 0/1 bytes, rounded to a byte, then > 0
    const cover = resizeMaskArea({ data: bin, width: W, height: H }, [h, w]);
    for (let i = 0; i < w * h; i++) small[i] = roundHalfEven(cover[i]) > 0 ? 1 : 0;
  }
  const B = { m: mainComponent(small, w, h), w, h };
  let top = h; let bottom = -1; let left = w; let right = -1;
  for (let i = 0; i < w * h; i++) {
    if (!B.m[i]) continue;
    const x = i % w; const y = (i - x) / w;
    if (y < top) top = y; if (y > bottom) bottom = y; if (x < left) left = x; if (x > right) right = x;
  }
  let sx = 0; let n = 0; let sxAll = 0; let nAll = 0;
  for (let i = 0; i < w * h; i++) {
    if (!B.m[i]) continue;
    const x = i % w; const y = (i - x) / w;
    sxAll += x; nAll++;
    if (y < top + (bottom - top) / 3) { sx += x; n++; }
  }
  const cx = n ? sx / n : sxAll / nAll;
  const contour = outerContour(B);
  const width = right - left + 1;
  const hgt = bottom - top + 1;
  const armpit = { left: null, right: null };
  const depth = { left: 0, right: 0 };
  if (contour.length >= 3) {
    for (const [, , f, d] of convexityDefects(contour, hullIndices(contour))) {
      const [fx, fy] = contour[f];
      if (d < 0.03 * hgt) continue;
      if (!(top + 0.12 * hgt < fy && fy < bottom - 0.08 * hgt)) continue;
      if (Math.abs(fx - cx) < 0.12 * width) continue;
      const side = fx > cx ? 'left' : 'right';
      if (d > depth[side]) { depth[side] = d; armpit[side] = [fx, fy]; }
    }
  }
  return { B, contour, cx, top, bottom, left, right, armpit, depth, height: hgt, width };
}

// -------------------------------------------------------------------------------------------- features

/** `_leg_gap`: share of the height, in its lower 65 %, with a narrow gap between two legs at the centre. */
function legGap({ B, cx, top, bottom }) {
  const h = bottom - top + 1;
  const ci = roundHalfEven(cx);
  const band = Math.max(1, Math.trunc(0.015 * B.w));
  let gap = 0;
  for (let y = Math.trunc(top + 0.35 * h); y <= bottom; y++) {
    let centre = false;
    for (let x = Math.max(0, ci - band); x < Math.min(B.w, ci + band + 1) && !centre; x++) centre = at(B, x, y) === 1;
    if (centre) continue;
    let lmin = Infinity; let lmax = -Infinity; let rmin = Infinity; let rmax = -Infinity;
    for (let x = 0; x < B.w; x++) {
      if (!at(B, x, y)) continue;
      if (x < ci) { lmin = Math.min(lmin, x); lmax = Math.max(lmax, x); }
      if (x > ci) { rmin = Math.min(rmin, x); rmax = Math.max(rmax, x); }
    }
    if (lmax >= 0 && rmax > -Infinity && rmin - lmax < 0.45 * (rmax - lmin)) gap++;
  }
  return gap / h;
}

/**
 * `shape_features`: the silhouette measurements the rules read (`ShapeFeatures` in Python; all relative to the
 * garment's bounding box).
 * @param {object} sa {@link analyseShape}'s result
 * @param {object} rules the manifest's `garment_category.rules`
 * @returns {{aspect: number, top_width: number, shoulder_width: number, width_10: number, width_90: number,
 *   flat_top: number, armhole: number, leg_gap: number, edge_ratio: number, strap_rows: number,
 *   box_fill: number, has_shoulders: boolean}}
 */
export function shapeFeatures(sa, rules) {
  const { B, top, left } = sa;
  const h = sa.height; const w = sa.width;
  const ext = new Float64Array(h); const fill = new Float64Array(h);
  let area = 0;
  for (let r = 0; r < h; r++) {
    let lo = -1; let hi = -1; let cnt = 0;
    for (let c = 0; c < w; c++) if (at(B, left + c, top + r)) { if (lo < 0) lo = c; hi = c; cnt++; }
    if (lo < 0) { lo = 0; hi = 0; }
    ext[r] = (hi - lo + 1) / w;
    fill[r] = cnt / Math.max(1, hi - lo + 1);
    area += cnt;
  }
  const rows = (a, b) => {
    const i = Math.trunc(a * h);
    return Array.from(ext.subarray(i, Math.max(i + 1, Math.trunc(b * h))));
  };
  const y8 = Math.trunc(0.08 * h);
  let c0 = -1; let c1 = -1;
  for (let c = 0; c < w; c++) if (at(B, left + c, top + y8)) { if (c0 < 0) c0 = c; c1 = c; }
  const colTop = [];
  for (let c = c0; c <= c1; c++) {
    let r = 0;
    while (r < h && !at(B, left + c, top + r)) r++;
    colTop.push((r < h ? r : 0) / h);
  }
  const edge = percentile(colTop, 20);
  const flat = colTop.filter((t) => Math.abs(t - edge) <= 0.04).length / colTop.length;
  const extAt = (frac) => ext[Math.min(h - 1, Math.trunc(frac * h))];
  const edgeRatio = extAt(edge + 0.03) / Math.max(1e-6, extAt(edge + 0.15));
  let straps = 0;
  for (let r = 0; r < Math.trunc(0.25 * h); r++) if (fill[r] < 0.4) straps++;
  const f = {
    aspect: h / w, top_width: median(rows(0.005, 0.03)), shoulder_width: Math.max(...rows(0.04, 0.25)),
    width_10: median(rows(0.08, 0.12)), width_90: median(rows(0.8, 0.95)), flat_top: flat,
    armhole: Math.max(sa.depth.left, sa.depth.right) / w, leg_gap: legGap(sa), edge_ratio: edgeRatio,
    strap_rows: straps / h, box_fill: area / (h * w),
  };
  f.has_shoulders = f.armhole >= rules.armhole_min || f.strap_rows >= rules.straps_min
    || (f.shoulder_width >= rules.shoulder_min && f.top_width <= rules.neck_max * f.shoulder_width);
  return f;
}

// ------------------------------------------------------------------------------------------- landmarks

function nearestIndex(c, p) {
  return argmin(c.length, (i) => (c[i][0] - p[0]) ** 2 + (c[i][1] - p[1]) ** 2);
}

function contourPath(c, a, b, viaTop) {
  const n = c.length;
  const p1 = []; for (let k = 0; k <= pyMod(b - a, n); k++) p1.push(c[(a + k) % n]);
  const p2 = []; for (let k = 0; k <= pyMod(a - b, n); k++) p2.push(c[(b + k) % n]);
  p2.reverse();
  const mean = (p) => p.reduce((s, q) => s + q[1], 0) / p.length;
  const hi1 = mean(p1); const hi2 = mean(p2);
  return viaTop ? (hi1 < hi2 ? p1 : p2) : (hi1 >= hi2 ? p1 : p2);
}

function farthestFromChord(path, a, b) {
  const d = [b[0] - a[0], b[1] - a[1]];
  const len = Math.hypot(d[0], d[1]) + 1e-9;
  const nx = d[1] / len; const ny = -d[0] / len;
  const sign = ny > 0 ? -1 : 1;
  const i = argmax(path.length, (k) => sign * ((path[k][0] - a[0]) * nx + (path[k][1] - a[1]) * ny));
  return [path[i][0], path[i][1]];
}

function bottomAt(B, x) {
  const xi = Math.min(B.w - 1, Math.max(0, roundHalfEven(x)));
  for (let y = B.h - 1; y >= 0; y--) {
    for (let xx = Math.max(0, xi - 1); xx < Math.min(B.w, xi + 2); xx++) if (at(B, xx, y)) return y;
  }
  return B.h - 1;
}

/** Least-squares line x = a + b y (`np.polyfit(y, x, 1)`). */
function fitLine(ys, xs) {
  const n = ys.length;
  const my = ys.reduce((s, v) => s + v, 0) / n; const mx = xs.reduce((s, v) => s + v, 0) / n;
  let num = 0; let den = 0;
  for (let i = 0; i < n; i++) { num += (ys[i] - my) * (xs[i] - mx); den += (ys[i] - my) ** 2; }
  const b = den ? num / den : 0;
  const a = mx - b * my;
  return (y) => a + b * y;
}

function halfWidths(B, cx, y0, y1) {
  const out = [];
  for (let y = y0; y < y1; y++) {
    if (y < 0 || y >= B.h) continue;
    const cols = rowCols(B, y);
    if (cols.length) out.push(Math.max(cols[cols.length - 1] - cx, cx - cols[0]));
  }
  return out;
}

function narrowTop(B, cx, sa, shoulderY) {
  const y0 = Math.trunc(Math.max(shoulderY, sa.top));
  const ht = halfWidths(B, cx, y0, Math.trunc(y0 + 0.04 * sa.height) + 1);
  const hb = halfWidths(B, cx, Math.trunc(sa.top + 0.4 * sa.height), Math.trunc(sa.top + 0.8 * sa.height));
  if (ht.length && hb.length && Math.max(...ht) < 0.8 * median(hb)) return true;
  const fills = [];
  for (let y = Math.trunc(y0 + 0.01 * sa.height); y < Math.trunc(y0 + 0.05 * sa.height) + 1; y++) {
    if (y < 0 || y >= B.h) continue;
    const cols = rowCols(B, y);
    if (cols.length > 1) fills.push(cols.length / (cols[cols.length - 1] - cols[0] + 1));
  }
  return fills.length > 0 && median(fills) < 0.55;
}

function torsoSides(B, cx, sa, shHalf, shoulderY) {
  const out = { left: null, right: null };
  const ci = roundHalfEven(cx);
  const edges = { left: [], right: [] };
  for (let y = Math.trunc(sa.top + 0.42 * sa.height); y < Math.trunc(sa.bottom - 0.15 * sa.height); y++) {
    if (!at(B, ci, y)) continue;
    let r = ci; while (r < B.w && at(B, r, y)) r++;
    let l = ci; while (l >= 0 && at(B, l, y)) l--;
    edges.left.push([y, r - 1]);
    edges.right.push([y, l + 1]);
  }
  for (const side of ['left', 'right']) {
    const e = edges[side];
    if (e.length < 5) continue;
    const half = e.map(([, x]) => Math.abs(x - cx));
    let ok = half.map((v) => v < 1.15 * shHalf);
    if (ok.filter(Boolean).length < 5 && narrowTop(B, cx, sa, shoulderY)) {
      const ref = median(half.slice(Math.trunc(0.6 * half.length)));
      ok = half.map((v) => v < 1.12 * ref);
    }
    if (ok.filter(Boolean).length < 5) continue;
    const sel = e.filter((_, i) => ok[i]);
    out[side] = fitLine(sel.map((p) => p[0]), sel.map((p) => p[1]));
  }
  return out;
}

function sideEdgeNear(B, y, sgn, xRef) {
  const ends = [];
  for (let x = 0; x < B.w; x++) {
    const v = at(B, x, y);
    if (sgn > 0 && v && (x === B.w - 1 || !at(B, x + 1, y))) ends.push(x);
    if (sgn < 0 && v && (x === 0 || !at(B, x - 1, y))) ends.push(x);
  }
  if (!ends.length) return null;
  return ends[argmin(ends.length, (i) => Math.abs(ends[i] - xRef))];
}

function walkUpSide(B, sa, line, sgn, shoulderY) {
  if (!line) return null;
  const tol = Math.max(2, 0.025 * sa.width);
  const yStart = Math.trunc(sa.top + 0.7 * sa.height);
  const yStop = Math.trunc(Math.max(shoulderY + 2, sa.top + 0.12 * sa.height));
  let last = null; let misses = 0;
  for (let y = yStart; y > yStop; y--) {
    const e = sideEdgeNear(B, y, sgn, line(y));
    if (e === null || Math.abs(e - line(y)) > tol) {
      misses++;
      if (misses >= 3) break;
      continue;
    }
    misses = 0;
    last = [e, y];
  }
  if (last === null || last[1] >= yStart - 2) return null;
  return last;
}

function hasSleeves(sa, shoulder, armpit, sideLine) {
  const { B } = sa;
  let votes = 0;
  for (const [side, sgn] of [['left', 1], ['right', -1]]) {
    const [ax, ay] = armpit[side];
    const y0 = Math.trunc(Math.min(shoulder[side][1], ay));
    const y1 = Math.trunc(Math.min(sa.bottom, ay + 0.2 * sa.height));
    let worst = 0;
    for (let y = y0; y <= y1; y++) {
      if (y < 0 || y >= B.h) continue;
      const cols = rowCols(B, y);
      if (!cols.length) continue;
      const ext = sgn > 0 ? cols[cols.length - 1] : cols[0];
      const ref = sideLine[side] && y > ay ? sideLine[side](y) : ax;
      worst = Math.max(worst, sgn * (ext - ref));
    }
    if (worst > 0.07 * sa.width) votes++;
  }
  return votes >= 1;
}

function pressedSleeves(B, cx, sa, strap) {
  for (const [side, sgn] of [['left', 1], ['right', -1]]) {
    const sh = strap[side];
    const halfSh = Math.abs(sh[0] - cx);
    const ext = [];
    for (let y = Math.trunc(Math.max(sh[1], sa.top)); y <= sa.bottom; y++) {
      const cols = rowCols(B, y);
      ext.push(cols.length ? (sgn > 0 ? cols[cols.length - 1] - cx : cx - cols[0]) : 0);
    }
    if (ext.length < 8 || halfSh < 1) return false;
    const ym = argmax(ext.length, (i) => ext[i]);
    let run = -Infinity; let dip = 0;
    for (let i = 0; i <= ym; i++) { run = Math.max(run, ext[i]); dip = Math.max(dip, run - ext[i]); }
    if (!(ext[ym] >= 1.7 * halfSh && sh[1] + ym >= sa.top + 0.6 * sa.height && dip <= 0.02 * sa.width)) return false;
  }
  return true;
}

function pressedSleevePoints(sa, sgn, shoulder, shHalf) {
  const { B, cx } = sa;
  const c = sa.contour;
  const armpit = [cx + sgn * 0.95 * shHalf, shoulder[1] + 0.8 * shHalf];
  let side = c.filter((p) => sgn * (p[0] - cx) > 1.05 * shHalf);
  if (side.length < 3) side = c.filter((p) => sgn * (p[0] - cx) > 0);
  const yCuff = Math.max(...side.map((p) => p[1]));
  const band = side.filter((p) => p[1] >= yCuff - 0.04 * sa.height);
  const outer = band[argmax(band.length, (i) => sgn * band[i][0])];
  const cols = rowCols(B, Math.min(B.h - 1, Math.max(0, roundHalfEven(outer[1]))));
  const reach = cols.length ? (sgn > 0 ? cols[cols.length - 1] - cx : cx - cols[0]) : Math.abs(outer[0] - cx);
  const wCuff = Math.min(0.7 * shHalf, Math.max(0.3 * shHalf, reach - 0.95 * shHalf));
  return [armpit, [[outer[0], outer[1]], [outer[0] - sgn * wCuff, yCuff]]];
}

function sleeveEnd(sa, sgn, shoulder, armpit, sideLine) {
  const c = sa.contour;
  const [sx, sy] = shoulder; const [ax, ay] = armpit;
  const root = [(sx + ax) / 2, (sy + ay) / 2];
  const d = [ax - sx, ay - sy];
  const dl = Math.hypot(d[0], d[1]) + 1e-9;
  let nrm = [d[1] / dl, -d[0] / dl];
  if (sgn * nrm[0] < 0) nrm = [-nrm[0], -nrm[1]];
  const n = c.length;
  const off = c.map((p) => (p[0] - sx) * nrm[0] + (p[1] - sy) * nrm[1]);
  const sel = c.map((p, i) => {
    const sideX = p[1] > ay ? (sideLine ? sideLine(p[1]) : ax) : -Infinity * sgn;
    return off[i] > 1 && p[1] >= sy - 2 && sgn * (p[0] - sideX) > Math.max(2, 0.03 * sa.width);
  });
  const ai = nearestIndex(c, armpit);
  if (Math.hypot(c[ai][0] - armpit[0], c[ai][1] - armpit[1]) < 3) {
    const si = nearestIndex(c, shoulder);
    const fwdLen = pyMod(ai - si, n) + 1; const bwdLen = pyMod(si - ai, n) + 1;
    const onPath = new Uint8Array(n);
    if (fwdLen <= bwdLen) for (let k = 0; k < fwdLen; k++) onPath[(si + k) % n] = 1;
    else for (let k = 0; k < bwdLen; k++) onPath[(ai + k) % n] = 1;
    for (let i = 0; i < n; i++) sel[i] = sel[i] && onPath[i] === 1;
  }
  const idx = []; for (let i = 0; i < n; i++) if (sel[i]) idx.push(i);
  if (idx.length < 3) return [[sx + sgn * 2, sy + 4], [ax + sgn * 2, ay]];
  const cand = idx.map((i) => c[i]);
  const far = cand[argmax(cand.length, (k) => Math.hypot(cand[k][0] - root[0], cand[k][1] - root[1]) + off[idx[k]])];
  const fl = Math.hypot(far[0] - root[0], far[1] - root[1]) + 1e-9;
  const axis = [(far[0] - root[0]) / fl, (far[1] - root[1]) / fl];
  const proj = cand.map((p) => (p[0] - root[0]) * axis[0] + (p[1] - root[1]) * axis[1]);
  const pmax = Math.max(...proj);
  const end = cand.filter((_, k) => proj[k] >= pmax - 0.04 * sa.height);
  let perp = [axis[1], -axis[0]];
  if (sgn * perp[0] - perp[1] < 0) perp = [-perp[0], -perp[1]];
  const q = end.map((p) => (p[0] - root[0]) * perp[0] + (p[1] - root[1]) * perp[1]);
  const outer = end[argmax(end.length, (k) => q[k])];
  const inner = end[argmin(end.length, (k) => q[k])];
  return [[outer[0], outer[1]], [inner[0], inner[1]]];
}

/** `cv2.fillPoly` of one closed polygon (pixel centres inside or on an edge). */
function fillPolygon(poly, w, h) {
  const keep = new Uint8Array(w * h);
  const p = poly.map(([x, y]) => [roundHalfEven(x), roundHalfEven(y)]);
  for (let y = 0; y < h; y++) {
    const xs = [];
    for (let i = 0; i < p.length; i++) {
      const [x0, y0] = p[i]; const [x1, y1] = p[(i + 1) % p.length];
      if ((y0 <= y && y < y1) || (y1 <= y && y < y0)) xs.push(x0 + ((y - y0) * (x1 - x0)) / (y1 - y0));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(xs[k] - 1e-9));
      const x1 = Math.min(w - 1, Math.floor(xs[k + 1] + 1e-9));
      for (let x = x0; x <= x1; x++) keep[y * w + x] = 1;
    }
  }
  return keep;
}

function torsoMask(sa, res, sleeves) {
  const { B } = sa;
  if (!sleeves) return B;
  const { w: W, h: H } = B;
  const poly = [];
  for (const side of ['right', 'left']) {
    const sh = res[`shoulder_${side}`]; const ap = res[`armpit_${side}`];
    const sgn = side === 'left' ? 1 : -1;
    const si = res[`sleeve_${side}_inner`];
    const innerY = si[1];
    const bx = ap[0] + sgn * (innerY > ap[1] + 0.1 * sa.height ? 0.04 * sa.height : W);
    let pts = [[sh[0], -1], sh, ap, [bx, H]];
    if (innerY > ap[1] + 0.1 * sa.height && sgn * (si[0] - bx) < 0.04 * sa.height) {
      let cut = ap[0] + sgn * Math.max(0, sgn * (si[0] - sgn * 0.03 * sa.height - ap[0]));
      cut = sgn > 0 ? Math.min(cut, bx) : Math.max(cut, bx);
      pts = [[sh[0], -1], sh, ap, [cut, si[1]], [cut, H]];
    }
    poly.push(side === 'left' ? pts : [...pts].reverse());
  }
  const keep = fillPolygon([...poly[0], ...poly[1]], W, H);
  const m = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) m[i] = B.m[i] && keep[i] ? 1 : 0;
  return { m, w: W, h: H };
}

/**
 * `_landmarks_work` without the front neckline (which the category rules do not read): neck, shoulder and
 * armpit points and the hem's centre, working pixels.
 * @param {object} sa {@link analyseShape}'s result
 * @returns {Object<string, [number, number]>}
 */
export function topLandmarks(sa) {
  const { B, cx, contour } = sa;
  const hgt = sa.height; const wid = sa.width;
  const topOf = (x) => { for (let y = 0; y < B.h; y++) if (at(B, x, y)) return y; return B.h + 1; };
  const band = Math.trunc(Math.max(3, 0.28 * wid));
  const neck = {};
  for (const [side, sgn] of [['left', 1], ['right', -1]]) {
    const xs = [];
    const c0 = roundHalfEven(cx);
    for (let x = c0 + sgn * 2; sgn * (c0 + sgn * band - x) > 0; x += sgn) if (x >= 0 && x < B.w) xs.push(x);
    const i = argmin(xs.length, (k) => topOf(xs[k]) + 0.02 * Math.abs(xs[k] - cx));
    neck[side] = [xs[i], topOf(xs[i])];
  }
  const res = { neck_left: neck.left, neck_right: neck.right };
  const shoulder = {}; const armpit = {}; const sleeve = {};
  for (const [side, sgn] of [['left', 1], ['right', -1]]) {
    const ext = contour[argmax(contour.length, (k) => sgn * contour[k][0] - 0.05 * contour[k][1])];
    const path = contourPath(contour, nearestIndex(contour, neck[side]), nearestIndex(contour, ext), true);
    shoulder[side] = farthestFromChord(path, neck[side], ext);
  }
  const shHalf = Math.max(3, (shoulder.left[0] - shoulder.right[0]) / 2);
  const sideLine = torsoSides(B, cx, sa, shHalf, Math.min(shoulder.left[1], shoulder.right[1]));
  for (const [side, sgn] of [['left', 1], ['right', -1]]) {
    let a = walkUpSide(B, sa, sideLine[side], sgn, shoulder[side][1]);
    // A valley farther out than the shoulders is a dent in a sleeve's outer edge, not the armpit.
    const valley = sa.armpit[side];
    if (a === null && valley !== null && Math.abs(valley[0] - cx) <= 1.1 * shHalf) a = valley;
    if (a === null) {
      const y = Math.min(shoulder[side][1] + 0.8 * shHalf, sa.top + 0.45 * hgt);
      let x = sideLine[side] ? sideLine[side](y) : cx + sgn * 0.9 * shHalf;
      const cols = rowCols(B, Math.min(B.h - 1, Math.max(0, Math.trunc(y))));
      const lim = cols.length ? (sgn > 0 ? cols[cols.length - 1] - cx : cx - cols[0]) : shHalf;
      x = cx + sgn * Math.min(Math.abs(x - cx), 0.98 * lim);
      a = [x, y];
    }
    armpit[side] = a;
  }
  const found = hasSleeves(sa, shoulder, armpit, sideLine);
  const strap = {};
  for (const side of ['left', 'right']) {
    const path = contourPath(contour, nearestIndex(contour, neck[side]), nearestIndex(contour, armpit[side]), true);
    strap[side] = farthestFromChord(path, neck[side], armpit[side]);
  }
  const pressed = !found && pressedSleeves(B, cx, sa, strap);
  const sleeves = found || pressed;
  let shoulders = shoulder;
  if (!sleeves) shoulders = strap;
  else if (pressed) {
    for (const [side, sgn] of [['left', 1], ['right', -1]]) {
      [armpit[side], sleeve[side]] = pressedSleevePoints(sa, sgn, shoulder[side], shHalf);
    }
  } else {
    for (const [side, sgn] of [['left', 1], ['right', -1]]) {
      sleeve[side] = sleeveEnd(sa, sgn, shoulder[side], armpit[side], sideLine[side]);
      const propY = shoulder[side][1] + 0.8 * shHalf;
      const slot = sleeve[side][1][1] > armpit[side][1] + 0.3 * hgt && armpit[side][1] > propY;
      if (slot || armpit[side][1] > propY + 0.1 * hgt) {
        const line = sideLine[side];
        const x = line ? line(propY) : armpit[side][0];
        armpit[side] = [cx + sgn * Math.min(Math.abs(x - cx), 0.98 * shHalf), propY];
      }
    }
  }
  for (const side of ['left', 'right']) {
    res[`shoulder_${side}`] = shoulders[side];
    res[`armpit_${side}`] = armpit[side];
    if (sleeves) [res[`sleeve_${side}_outer`], res[`sleeve_${side}_inner`]] = sleeve[side];
  }
  let torso = torsoMask(sa, res, sleeves);
  if (!torso.m.some((v) => v)) torso = B;
  res.hem_center = [cx, bottomAt(torso, cx)];
  return res;
}

/**
 * `tryon.garment.landmarks._sleeve_seams`: true when the photo shows, on both sides, a line running down inside the
 * outline at a steady distance from it (6-30 % of the width in): the inner edge of a long sleeve lying flat against
 * the torso, which the silhouette cannot tell from a folded block's straight side. Per row of 40-85 % of the
 * height, the strongest horizontal lightness step (CIELAB L on 0-255, Gaussian sigma 1.5, Sobel over 8) at those
 * distances; at least `seam_steady` of the rows within 2 % of the width of their median distance, and a median step
 * of `seam_step`.
 * @param {import('./processing.js').RGBImage} image the garment photo
 * @param {object} sa {@link analyseShape}'s result
 * @param {object} rules the manifest's `garment_category.rules`
 * @returns {boolean}
 */
export function sleeveSeams(image, sa, rules) {
  const { B } = sa;
  const { w, h } = B;
  const small = resize(image, [h, w]).data;
  const light = new Float32Array(w * h);
  const lab = [0, 0, 0];
  for (let p = 0; p < w * h; p++) {
    labInto(lab, 0, small[3 * p], small[3 * p + 1], small[3 * p + 2]);
    light[p] = Math.round(lab[0] * 255 / 100); // OpenCV's 8-bit L
  }
  const blur = gaussianBlur(light, w, h, 1, 1.5);
  const at = (x, y) => blur[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  const gx = (x, y) => Math.abs((at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1))
    - (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1))) / 8;
  const d0 = Math.trunc(0.06 * sa.width); const d1 = Math.trunc(0.3 * sa.width);
  for (const sgn of [1, -1]) {
    const offs = []; const steps = [];
    for (let y = Math.trunc(sa.top + 0.4 * sa.height); y < Math.trunc(sa.top + 0.85 * sa.height); y++) {
      const cols = rowCols(B, y);
      if (!cols.length) continue;
      const edge = sgn > 0 ? cols[cols.length - 1] : cols[0];
      let best = -1; let bestD = -1;
      for (let d = d0; d < d1; d++) {
        const x = edge - sgn * d;
        if (x < 0 || x >= w) continue;
        const v = gx(x, y) * B.m[y * w + x];
        if (v > best) { best = v; bestD = d; }
      }
      if (bestD < 0) continue;
      offs.push(bestD);
      steps.push(best);
    }
    if (offs.length < 8) return false;
    const med = median(offs);
    const steady = offs.filter((o) => Math.abs(o - med) <= 0.02 * sa.width).length / offs.length;
    if (steady < rules.seam_steady || median(steps) < rules.seam_step) return false;
  }
  return true;
}

// --------------------------------------------------------------------------------------------- the rules

/** `tryon.garment.category.FOLDED`: the reason given for a garment photographed folded. */
export const FOLDED = 'folded: a filled block with no sleeves, armholes or neckline laid out';
/** `tryon.garment.category.FOLDED_ADVICE`: the refusal of a folded garment (a photo laid flat, not a category). */
export const FOLDED_ADVICE = 'this garment is photographed folded, so its sleeves and neckline cannot be read: '
  + 'photograph it laid flat, front view, with its sleeves spread out (or on a hanger), on a plain background, or pick a garment whose photo shows it laid out';

/**
 * `classify_garment` without the sleeve type: the garment's category from its mask, `uncertain` when unsure.
 * Rules and their order (thresholds from `rules`, i.e. the Python module's constants):
 * two legs → lower; a folded block (`folded_fill`, `folded_aspect`) → uncertain, reason FOLDED; a waistband and
 * no shoulders → lower (leg gap, widening or tall) or uncertain; then the neck-to-hem length over the torso
 * width: above `dress_length` → dress, from `top_length` → uncertain, else top. A straight top edge narrower than
 * `hung_top` of the garment below it with a hanger above it (`hangerAbove`) is a top's neckline the hanger's bar
 * was cut from, not a waistband (Python's `_hung_by_neckline`).
 *
 * @param {{data: ArrayLike<number>, width: number, height: number}} mask the garment mask, values in [0, 1]
 * @param {object} rules the manifest's `garment_category.rules`
 * @param {{hangerAbove?: () => boolean, image?: import('./processing.js').RGBImage}} [photo] what the photo says:
 *   `hangerAbove()` is true when a hanger stands above the garment (`garment-mask.js` `hangerAbove`; without it no
 *   garment counts as hung); `image`, the garment photo, lets the second folded-shirt rule look for sleeves' seams
 *   ({@link sleeveSeams}; without it that rule is not applied)
 * @returns {{category: 'top'|'dress'|'lower'|'uncertain', reason: string, features: object}}
 * @throws {Error} the mask is empty
 */
export function classifyGarment(mask, rules, { hangerAbove = null, image = null } = {}) {
  const sa = analyseShape(mask, rules);
  const f = shapeFeatures(sa, rules);
  const out = (category, reason) => ({ category, reason, features: f });
  if (f.leg_gap > rules.leg_gap_trousers) return out('lower', 'two legs');
  if (f.box_fill >= rules.folded_fill && f.aspect <= rules.folded_aspect) return out('uncertain', FOLDED);
  const hung = () => Boolean(hangerAbove && rules.hung_top && f.top_width < rules.hung_top * f.width_10
    && hangerAbove());
  if (f.flat_top >= rules.waistband_flat && f.edge_ratio >= rules.waistband_edge && !f.has_shoulders && !hung()) {
    if (f.leg_gap > rules.leg_gap_short || f.width_90 >= f.width_10 + rules.widening || f.aspect >= rules.tall) {
      return out('lower', 'a waistband and no shoulders');
    }
    return out('uncertain', 'a straight top edge and no shoulders or sleeves');
  }
  // A folded shirt less full than `folded_fill` (its collar and shoulders rounded) reads as a sleeveless top. Python
  // asks its landmarks whether the photo shows sleeves; of their cues only the sleeves' seams are ported, which on
  // the 582 garment photos of ../shared decides as Python does on all but one (a shirt laid out with its sleeves
  // against its body, refused here with the advice to spread them).
  if (image && rules.folded_fill_no_sleeves && f.box_fill >= rules.folded_fill_no_sleeves
      && f.aspect <= rules.folded_aspect_no_sleeves && f.top_width < rules.folded_top
      && f.width_90 >= rules.folded_bottom && !sleeveSeams(image, sa, rules)) {
    return out('uncertain', FOLDED);
  }
  const p = topLandmarks(sa);
  const torsoW = Math.max(1, p.armpit_left[0] - p.armpit_right[0], p.shoulder_left[0] - p.shoulder_right[0]);
  const length = (p.hem_center[1] - Math.min(p.neck_left[1], p.neck_right[1])) / torsoW;
  f.length = length;
  if (length > rules.dress_length) return out('dress', `long: ${length.toFixed(1)} torso widths from neck to hem`);
  if (length >= rules.top_length) return out('uncertain', 'between a long top and a short dress');
  return out('top', "shoulders and a top's length");
}

/**
 * `tryon.garment.category.require_laid_out`: the refusal of a garment photographed folded, whatever category was
 * named ({@link FOLDED_ADVICE}), else null.
 * @param {{category: string, reason: string}} info {@link classifyGarment}'s result
 * @returns {string|null}
 */
export function laidOutRefusal(info) {
  return info.category === 'uncertain' && info.reason === FOLDED ? FOLDED_ADVICE : null;
}

/**
 * `tryon.garment.category.also_folded`: a person photo's pose refusal that names the garment photo's fold too,
 * `"<poseMessage>. Also, "` and {@link FOLDED_ADVICE} (the teacher's and the student runner's words; tested).
 * @param {string} poseMessage a `PoseError`'s message (no full stop at its end, as every refusal's)
 * @returns {string}
 */
export function alsoFolded(poseMessage) {
  return `${poseMessage}. Also, ${FOLDED_ADVICE}`;
}

/**
 * Whether an error is the refusal of a garment photographed folded ({@link laidOutRefusal}, or {@link refusal}
 * under `auto`): an `UnsupportedCategoryError` saying {@link FOLDED_ADVICE}.
 * @param {{name?: string, message?: string}|null|undefined} err
 * @returns {boolean}
 */
export function isFoldedRefusal(err) {
  return err?.name === ErrorName.UNSUPPORTED_CATEGORY && err.message === FOLDED_ADVICE;
}

/**
 * What to throw for a garment photo's refusal, with the person photo framed too when the garment is folded
 * (`StudentRunner.refuse_with_pose`): a shopper who picked a garment laid out was refused again for the pose. A
 * `PoseError` of the framing (any: a back or side view, a lean, the pose gate, the body part out of view, a person
 * too small) gives one `PoseError` naming both ({@link alsoFolded}). No person or several people, any other error
 * of the framing (read here for more words only) or a photo framed leave `refusal` as it was; a refusal other than
 * the fold's is returned at once, without framing.
 * @param {Error} refusal the garment photo's refusal
 * @param {() => Promise<unknown>} frame frames the person photo as the run would (throws its refusals)
 * @returns {Promise<Error>} `refusal`, or a new `PoseError`
 */
export async function foldedWithPose(refusal, frame) {
  if (!isFoldedRefusal(refusal)) return refusal;
  try {
    await frame();
  } catch (err) {
    if (err?.name === ErrorName.POSE) return namedError(ErrorName.POSE, alsoFolded(err.message));
    if (!REFUSALS.has(err?.name)) console.warn(`tryon: framing the person photo of a folded garment failed (${err?.message})`);
  }
  return refusal;
}

/**
 * The refusal `require_supported` would raise for a classified garment, or null when the student dresses it.
 * @param {{category: string, reason: string}} info {@link classifyGarment}'s result
 * @param {string[]} dressed the FASHN categories the student dresses (the manifest's `categories`)
 * @returns {string|null} the message of an `UnsupportedCategoryError`
 */
export function refusal(info, dressed) {
  const list = dressed.map((c) => `${c} (${CATEGORY_EXAMPLES[c] || c})`).join(', ');
  const folded = laidOutRefusal(info);
  if (folded) return folded;
  if (info.category === 'uncertain') {
    return `could not tell what kind of garment this is (${info.reason}): name its category instead of auto `
      + `(category="${dressed[0]}" for ${CATEGORY_EXAMPLES[dressed[0]] || dressed[0]}); this model dresses ${list}`;
  }
  const name = normaliseCategory(info.category); // the classifier's top / lower / dress -> FASHN's names
  if (dressed.includes(name)) return null;
  return `this garment looks like '${name}' (${CATEGORY_EXAMPLES[name]}); this model dresses ${list} only`;
}
