/**
 * Page-wide settings of `<tryon-widget>`: one documented object, read when an element loads its model.
 * Change them before the first element loads (`import { env } from './env.js'; env.cacheName = ...`).
 *
 * @module env
 */

const here = new URL('.', import.meta.url);

/**
 * The onnxruntime-web files the widget loads, copied into `vendor/ort/` by `scripts/copy-ort.mjs`: the default
 * (JSEP) entry, its Emscripten glue and its `.wasm`, which holds both the WebGPU and the WASM execution providers.
 */
export const ORT_FILES = Object.freeze({
  entry: 'ort.min.mjs', glue: 'ort-wasm-simd-threaded.jsep.mjs', wasm: 'ort-wasm-simd-threaded.jsep.wasm',
});

/**
 * @typedef {object} TryonEnv
 * @property {string} ortUrl URL of the onnxruntime-web entry module (the default JSEP build, which holds the
 *   WebGPU and the WASM execution providers). Its `.mjs`/`.wasm` siblings are loaded from the same folder.
 *   Default: `../vendor/ort/ort.min.mjs` next to this file (copied there by `npm run vendor`), so nothing is
 *   fetched from a CDN.
 * @property {string} workerUrl URL of the inference worker module.
 * @property {boolean} useBrowserCache keep model files in the Cache API (verified by sha256 on every load).
 * @property {string} cacheName Cache API cache name.
 * @property {number} numThreads WASM threads; 0 = half the logical cores, at least 2 and at most 4, when the
 *   page is cross-origin isolated, else 1 (threads need `SharedArrayBuffer`, i.e. COOP/COEP headers on the
 *   top-level page).
 * @property {boolean} rejectFallbackAdapter `backend="auto"` skips WebGPU on a software adapter
 *   (`adapter.info.isFallbackAdapter`, e.g. SwiftShader), which is far slower than WASM. An explicit
 *   `backend="webgpu"` always uses it.
 * @property {number} liveSmoothing weight of the newest frame in live mode's moving average of the sampling
 *   grid and the composition mask (1 = no smoothing).
 * @property {number} serverWaitSeconds `Prefer: wait=N` sent to the fallback API before polling.
 */

/** @type {TryonEnv} */
export const env = {
  ortUrl: new URL(`../vendor/ort/${ORT_FILES.entry}`, here).href,
  workerUrl: new URL('./worker.js', here).href,
  useBrowserCache: true,
  cacheName: 'tryon-models-v1',
  numThreads: 0,
  rejectFallbackAdapter: true,
  liveSmoothing: 0.5,
  serverWaitSeconds: 60,
};

/** Capability flags, computed once. */
export const apis = Object.freeze({
  IS_BROWSER: typeof window !== 'undefined',
  IS_WEBGPU_AVAILABLE: typeof navigator !== 'undefined' && 'gpu' in navigator,
  IS_CACHE_AVAILABLE: typeof caches !== 'undefined',
  IS_CROSS_ORIGIN_ISOLATED: typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
});
