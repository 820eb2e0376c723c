/**
 * The typed message protocol between `<tryon-widget>` and its inference worker (`worker.js`).
 *
 * Every request carries an `id`; every reply to it carries the same `id`. Pixel data travels as transferred
 * `ImageBitmap`s (or RGB `ArrayBuffer`s), never copied. The element never touches onnxruntime itself.
 *
 * Requests (element → worker):
 * - `init`    {id, manifestUrl, backend: 'auto'|'webgpu'|'wasm', ortUrl, cacheName, numThreads, debug}
 * - `run`     {id, person: PixelSource, garment: PixelSource, garmentMask?: PixelSource, live?: boolean,
 *              smoothing?: number, output?: 'blob'|'bitmap'}
 * - `dispose` {id}
 *
 * Replies (worker → element):
 * - `progress` {id, status: 'initiate'|'download'|'progress'|'done', file, loaded, total}
 * - `ready`    {id, backend: 'webgpu'|'wasm', dtype, name, version, ortVersion, adapter, inputSize, threads,
 *               fallbacks: [{backend, reason}]}
 * - `result`   {id, blob?|bitmap?, width, height, backend, ms, timings, debug?}
 * - `error`    {id, name, message, local: boolean}  (local: no in-browser backend can run, try the server)
 *
 * @module protocol
 */

/** Request types. */
export const Request = Object.freeze({ INIT: 'init', RUN: 'run', DISPOSE: 'dispose' });

/** Reply types. */
export const Reply = Object.freeze({ PROGRESS: 'progress', READY: 'ready', RESULT: 'result', ERROR: 'error' });

/** Progress statuses (the transformers.js vocabulary; `ready` is the element's own event status). */
export const ProgressStatus = Object.freeze({
  INITIATE: 'initiate', DOWNLOAD: 'download', PROGRESS: 'progress', DONE: 'done', READY: 'ready',
});

/** Backends, in the `auto` order. */
export const BACKENDS = Object.freeze(['webgpu', 'wasm', 'server']);

/**
 * @typedef {ImageBitmap | {data: ArrayBuffer, width: number, height: number, channels: 3|4}} PixelSource
 * @typedef {{type: 'init', id: number, manifestUrl: string, backend: string, ortUrl: string,
 *            cacheName: string, numThreads: number, debug: boolean}} InitRequest
 * @typedef {{type: 'run', id: number, person: PixelSource, garment: PixelSource, garmentMask?: PixelSource,
 *            live?: boolean, smoothing?: number, output?: 'blob'|'bitmap'}} RunRequest
 * @typedef {{type: 'dispose', id: number}} DisposeRequest
 */

/** Error names the widget reports (in `error` events' `detail.name`). */
export const ErrorName = Object.freeze({
  INTEGRITY: 'IntegrityError', // a model file's sha256 differs from the manifest
  MANIFEST: 'ManifestError', // the manifest is missing, not JSON, or lacks the student's tensors
  NOT_AN_IMAGE: 'NotAnImageError', // an upload is not a decodable image
  BUSY_BACKGROUND: 'BusyBackgroundError', // the garment photo has no plain background
  BACKEND: 'BackendUnavailableError', // no backend can run (and the server is not allowed or not set)
  CONSENT: 'ConsentDeclinedError', // the shopper declined sending the photo to the server
  SERVER: 'ServerError', // the fallback API answered an error (its own `error` name is kept when present)
  INFERENCE: 'InferenceError', // the model failed while running
  ABORT: 'AbortError', // disposed while running
  CORS: 'CORSError', // the model's host does not allow this page's origin (tryon serve --cors-origin)
});

/** Build an `Error` with a given `name` (for errors crossing the worker boundary). */
export function namedError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}
