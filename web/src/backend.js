/**
 * Backend choice: capability detection, the fallback order WebGPU → WASM → server, the model file each
 * backend runs, and the client of the server fallback API.
 *
 * - WebGPU runs fp32 unless the manifest's measured `preferred_dtype.webgpu` says fp16, and fp16 only when the
 *   adapter has `shader-f16` (onnxruntime-web's JSEP build returns garbage, silently, for fp16 without it). `backend="auto"` skips software adapters
 *   (`isFallbackAdapter`, e.g. SwiftShader: ~100× slower than WASM) unless `env.rejectFallbackAdapter` is off.
 * - WASM runs a quantized file when the manifest lists one (static QDQ `int8` first, then `int8_dynamic`; int8
 *   brings WebGPU nothing), else fp32.
 * - The server (`POST {server}/v1/run`, `Prefer: wait`) only with the shopper's consent (see the element).
 *
 * @module backend
 */

import { ErrorName, namedError } from './protocol.js';

/**
 * WebGPU capabilities of this context (window or worker).
 * @returns {Promise<{available: boolean, shaderF16: boolean, isFallbackAdapter: boolean, info: object|null,
 *   reason: string}>}
 */
export async function detectWebGPU() {
  const none = (reason) => ({ available: false, shaderF16: false, isFallbackAdapter: false, info: null, reason });
  if (typeof navigator === 'undefined' || !navigator.gpu) return none('this browser has no WebGPU');
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return none(`requestAdapter failed: ${err.message}`);
  }
  if (!adapter) return none('no WebGPU adapter (GPU blocklisted or unavailable)');
  const info = adapter.info || {};
  return {
    available: true,
    shaderF16: adapter.features.has('shader-f16'),
    isFallbackAdapter: Boolean(info.isFallbackAdapter),
    info: { vendor: info.vendor || '', architecture: info.architecture || '', isFallbackAdapter: Boolean(info.isFallbackAdapter) },
    reason: '',
  };
}

/**
 * Ordered in-browser backends to try, with the reasons others were skipped.
 * @param {'auto'|'webgpu'|'wasm'} requested
 * @param {{available: boolean, isFallbackAdapter: boolean, reason: string}} gpu from detectWebGPU
 * @param {{rejectFallbackAdapter: boolean}} options
 * @returns {{order: string[], skipped: {backend: string, reason: string}[]}}
 */
export function planBackends(requested, gpu, { rejectFallbackAdapter = true } = {}) {
  const skipped = [];
  const order = [];
  const wantGpu = requested === 'auto' || requested === 'webgpu';
  if (wantGpu) {
    if (!gpu.available) skipped.push({ backend: 'webgpu', reason: gpu.reason });
    else if (requested === 'auto' && gpu.isFallbackAdapter && rejectFallbackAdapter) {
      skipped.push({ backend: 'webgpu', reason: 'software WebGPU adapter (slower than WASM)' });
    } else order.push('webgpu');
  }
  // An explicit backend="webgpu" still falls back to WASM when WebGPU fails: the element reports it.
  order.push('wasm');
  return { order, skipped };
}

/**
 * WASM threads when `env.numThreads` is 0. Threads need `SharedArrayBuffer`, i.e. a cross-origin isolated
 * page; then half the logical cores (two hyper-threads share one core's SIMD units), at least 2 and at most 4
 * (onnxruntime-web gains little beyond 4 on a network this small).
 * @param {boolean} isolated `crossOriginIsolated`
 * @param {number} cores `navigator.hardwareConcurrency`
 * @returns {number}
 */
export function defaultThreads(isolated, cores) {
  if (!isolated || !(cores >= 2)) return 1;
  return Math.min(4, Math.max(2, Math.floor(cores / 2)));
}

/**
 * The names a model file's precision has in the manifest (`files[].dtype`): a mirror of Python's
 * `tryon.manifest.DTYPES`, which `tests/web/test_dtypes.py` checks.
 */
export const DTYPE = Object.freeze({ FP32: 'fp32', FP16: 'fp16', INT8: 'int8', INT8_DYNAMIC: 'int8_dynamic' });

/**
 * The manifest file a backend runs: the one `manifest.preferred_dtype[backend]` names when it is listed (measured
 * fastest at equal quality there, `tryon.quantize.choice`; on WebGPU fp16 only with `shader-f16`); else on WebGPU fp32
 * (fp16 with `shader-f16` only when the folder has no fp32 file); on WASM the static QDQ int8 file (calibrated on real inputs, so usually closer to
 * fp32), the dynamic int8 file, or fp32.
 * @param {{files: {path: string, dtype: string}[], preferred_dtype?: Object<string, string>}} manifest
 * @param {'webgpu'|'wasm'} backend
 * @param {{shaderF16: boolean}} gpu
 * @returns {{path: string, dtype: string, sha256: string, bytes: number}}
 * @throws {Error} ManifestError when the manifest has no usable file
 */
export function chooseFile(manifest, backend, gpu) {
  const by = (dtype) => manifest.files.find((f) => f.dtype === dtype);
  // WebGPU: fp32 unless fp16 was measured faster on a GPU (tryon bench-browser --record): a reduced precision is
  // deployed only where a run showed it at least as fast at equal quality (tryon.quantize.choice).
  const prefs = backend === 'webgpu' ? (gpu.shaderF16 ? [DTYPE.FP32, DTYPE.FP16] : [DTYPE.FP32])
    : [DTYPE.INT8, DTYPE.INT8_DYNAMIC, DTYPE.FP32];
  const measured = (manifest.preferred_dtype || {})[backend];
  // A measured file is trusted on WASM whatever its precision (fp16 runs there, upcast by onnxruntime-web); on
  // WebGPU fp16 still needs shader-f16.
  const runnable = backend === 'wasm' || prefs.includes(measured);
  if (measured && runnable && by(measured)) return by(measured);
  for (const dtype of prefs) {
    const f = by(dtype);
    if (f) return f;
  }
  throw namedError(ErrorName.MANIFEST, `the manifest lists no ${prefs.join(' or ')} model file for ${backend} `
    + `(has ${manifest.files.map((f) => f.dtype).join(', ') || 'none'})`);
}

/** Student tensors the widget needs (tryon.server.pipeline REQUIRED_INPUTS / REQUIRED_OUTPUTS). */
export const REQUIRED_INPUTS = Object.freeze(['person', 'garment', 'garment_mask']);
export const REQUIRED_OUTPUTS = Object.freeze(['tryon', 'grid', 'composition_mask']);

/**
 * Check a parsed manifest (`tryon.manifest.Manifest` JSON) has the student's tensors and NCHW image shapes.
 * @returns {{size: [number, number], garmentSize: [number, number]}} model input sizes (height, width)
 * @throws {Error} ManifestError
 */
export function validateManifest(m) {
  const names = (list) => (Array.isArray(list) ? list.map((t) => t.name) : []);
  const missing = REQUIRED_INPUTS.filter((n) => !names(m.inputs).includes(n))
    .concat(REQUIRED_OUTPUTS.filter((n) => !names(m.outputs).includes(n)));
  if (missing.length || !Array.isArray(m.files)) {
    throw namedError(ErrorName.MANIFEST, `not a try-on student manifest (missing ${missing.join(', ') || 'files'})`);
  }
  const shape = (n) => m.inputs.find((t) => t.name === n).shape;
  const [, , h, w] = shape('person');
  const [, , gh, gw] = shape('garment');
  return { size: [h, w], garmentSize: [gh, gw] };
}

/**
 * Explain a fetch that failed with a network error (a `TypeError`) on a URL of another origin. Browsers do not
 * say whether the host is down or CORS refused the page, so this asks the same host for a URL it serves to any
 * origin (the widget's own module): when that answers, the host is up and CORS blocked `url`.
 * @param {string} url the URL whose fetch failed
 * @param {{pageOrigin: string, publicUrl: string, what: string, fetch?: typeof fetch}} options `pageOrigin`
 *   is `location.origin`; `publicUrl` a URL any origin may load; `what` names the resource for people
 * @returns {Promise<Error|null>} a `CORSError` saying how to start the server, or null when CORS is not the cause
 */
export async function explainNetworkError(url, { pageOrigin, publicUrl, what, fetch: f = fetch }) {
  const { origin } = new URL(url);
  if (origin === pageOrigin || new URL(publicUrl).origin !== origin) return null;
  try {
    if (!(await f(publicUrl, { method: 'HEAD', cache: 'no-store' })).ok) return null;
  } catch {
    return null; // the host does not answer at all: not a CORS refusal
  }
  return namedError(ErrorName.CORS, `This page (${pageOrigin}) may not load ${what} from ${origin}: the browser `
    + `blocked it (CORS). The try-on server must be started with --cors-origin ${pageOrigin}`);
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(namedError(ErrorName.ABORT, 'aborted')); });
});

/**
 * What the fallback server serves (`GET {server}/v1/models`): its categories (each entry's `categories`, with the
 * student or the server-only teacher; `engines` says which), FASHN's names, and whether a teacher there dresses
 * what the student's output gate refuses (an entry's `gated_to`).
 *
 * @param {string} server base URL of the API (as for `runOnServer`)
 * @param {{fetch?: typeof fetch}} [options]
 * @returns {Promise<{categories: string[], gatedTo: string|null}>} no categories when the server cannot be asked
 *   (unreachable, no model, not our API): the caller then refuses what the browser does not dress, as without a
 *   server
 */
export async function serverInfo(server, { fetch: f = fetch } = {}) {
  const base = new URL(server.endsWith('/') ? server : `${server}/`, globalThis.location?.href);
  try {
    const response = await f(new URL('v1/models', base), { headers: { Accept: 'application/json' } });
    if (!response.ok) return { categories: [], gatedTo: null };
    const json = await response.json();
    const models = Array.isArray(json) ? json : [];
    return {
      categories: [...new Set(models.flatMap((m) => m?.categories || []))],
      gatedTo: models.find((m) => m?.gated_to)?.gated_to || null,
    };
  } catch {
    return { categories: [], gatedTo: null };
  }
}

/**
 * Run a try-on on the fallback server: `POST {server}/v1/run` (multipart, `Prefer: wait=N`), then poll
 * `GET /v1/status/{id}` if the job outlives the wait; once the result is read, `DELETE /v1/status/{id}` removes
 * it from the server.
 *
 * @param {string} server base URL of the API (e.g. `https://shop.example/tryon`, no `/v1`)
 * @param {Blob} person person photo
 * @param {Blob|Array<{blob: Blob, category: string}>} garment in-shop garment photo, or an outfit's garments
 *   (sent as repeated `garment_image` parts with their `garment_category`, in order)
 * @param {{category?: string, tuck?: string, waitSeconds?: number, signal?: AbortSignal, fetch?: typeof fetch}} [options]
 *   `category`: the element's category, sent as it is (`auto`, the default, lets the server classify the
 *   garment and refuse one of a category it does not dress, or one it cannot tell, with
 *   `UnsupportedCategoryError`); `tuck`: an outfit's layering (`out` or `in`)
 * @returns {Promise<{blob: Blob, id: string, metrics: object}>} the result image
 * @throws {Error} ServerError (name kept from the API's `error` when it sends one)
 */
export async function runOnServer(server, person, garment, {
  category = 'auto', tuck, waitSeconds = 60, signal, fetch: f = fetch,
} = {}) {
  const base = new URL(server.endsWith('/') ? server : `${server}/`, globalThis.location?.href);
  const form = new FormData();
  form.append('person_image', person, 'person');
  if (Array.isArray(garment)) {
    garment.forEach((g, i) => {
      form.append('garment_image', g.blob, `garment${i}`);
      form.append('garment_category', g.category || 'auto');
    });
    if (tuck) form.append('tuck', tuck);
  } else {
    form.append('garment_image', garment, 'garment');
    form.append('category', category || 'auto');
  }
  form.append('output_format', 'png');
  const fail = async (response) => {
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    const name = typeof body.error === 'string' ? body.error : ErrorName.SERVER;
    return namedError(name, body.message || `the try-on server answered HTTP ${response.status}`);
  };
  let response = await f(new URL('v1/run', base), {
    method: 'POST', body: form, headers: { Prefer: `wait=${waitSeconds}` }, signal,
  });
  if (!response.ok) throw await fail(response);
  let job = await response.json();
  while (job.status !== 'completed') {
    if (job.status === 'failed' || job.status === 'canceled') {
      throw namedError(job.error?.name || ErrorName.SERVER, job.error?.message || `the server job ${job.status}`);
    }
    const retry = Number(response.headers.get('Retry-After')) || 1;
    await sleep(retry * 1000, signal);
    response = await f(new URL(`v1/status/${job.id}`, base), { signal });
    if (!response.ok) throw await fail(response);
    job = await response.json();
  }
  if (!job.output?.length) throw namedError(ErrorName.SERVER, 'the server finished without an output image');
  const blob = await (await f(job.output[0])).blob();
  // The result is the shopper's photo: once it is here, the server need not keep it (best effort).
  f(new URL(`v1/status/${job.id}`, base), { method: 'DELETE' }).catch(() => {});
  return { blob, id: job.id, metrics: job.metrics || {} };
}
