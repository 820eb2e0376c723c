/**
 * The typed message protocol between `<tryon-widget>` and its inference worker (`worker.js`).
 *
 * Every request carries an `id`; every reply to it carries the same `id`. Pixel data travels as transferred
 * `ImageBitmap`s (or RGB `ArrayBuffer`s), never copied. The element never touches onnxruntime itself.
 *
 * Requests (element → worker):
 * - `init`    {id, manifestUrl, backend: 'auto'|'webgpu'|'wasm', ortUrl, cacheName, numThreads, debug}
 * - `run`     {id, person: PixelSource, garment: PixelSource, garmentMask?: PixelSource, category?: string,
 *              live?: boolean, smoothing?: number, output?: 'blob'|'bitmap'} (`category` with a new garment: the
 *              element's, `auto` has the worker classify it)
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
export const Reply = Object.freeze({
  PROGRESS: 'progress', READY: 'ready', STUDENT: 'student', RESULT: 'result', ERROR: 'error',
});

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
 *            live?: boolean, smoothing?: number, output?: 'blob'|'bitmap', category?: string}} RunRequest
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
  // Refusals: the photos cannot be dressed as they are (same names and meaning as tryon.errors in Python).
  NO_PERSON: 'NoPersonError', // no person, or no face (a product photo given as the person)
  MULTIPLE_PEOPLE: 'MultiplePeopleError', // two or more people in the person photo
  POSE: 'PoseError', // shoulders out of view, a back view, or the person too small (a folded garment photo named too)
  PHOTO_TYPE: 'PhotoTypeError', // the garment photo shows a person
  UNSUPPORTED_CATEGORY: 'UnsupportedCategoryError', // the garment is not a top (bottoms, one-pieces)
  LOW_CONFIDENCE: 'LowConfidenceError', // a quality gate refused the result (the student's output gate, the teacher's)
});

/**
 * Error names that refuse the photos rather than report a failure: the shopper must change a photo, another
 * backend would refuse them too, so the widget never falls back to another backend on them. Two go to the
 * server, with consent, when it can do what the browser cannot: a category only the server dresses, and a
 * result the in-browser student's output gate refused (the server's teacher may dress it).
 */
export const REFUSALS = Object.freeze(new Set([
  ErrorName.NO_PERSON, ErrorName.MULTIPLE_PEOPLE, ErrorName.POSE, ErrorName.PHOTO_TYPE,
  ErrorName.UNSUPPORTED_CATEGORY, ErrorName.BUSY_BACKGROUND, 'GarmentBackgroundError', ErrorName.LOW_CONFIDENCE,
]));

/** Garment categories in FASHN's vocabulary and the spellings `tryon.garment.category` accepts. */
const CATEGORY_ALIASES = Object.freeze({
  tops: 'tops', top: 'tops', upper_body: 'tops',
  bottoms: 'bottoms', bottom: 'bottoms', lower: 'bottoms', lower_body: 'bottoms',
  'one-pieces': 'one-pieces', 'one-piece': 'one-pieces', dress: 'one-pieces', dresses: 'one-pieces',
  auto: 'auto', '': 'auto',
});
/** What each category covers, in refusal messages (`tryon.garment.category._EXAMPLES`). */
export const CATEGORY_EXAMPLES = Object.freeze({
  tops: 't-shirts, shirts, blouses, sweaters, tank tops',
  bottoms: 'trousers, jeans, shorts or a skirt', 'one-pieces': 'a dress or a jumpsuit',
});

/**
 * What a manifest without `categories` dresses (`tryon.manifest.DEFAULT_CATEGORIES`): every student exported
 * before categories existed is a tops student.
 */
export const DEFAULT_CATEGORIES = Object.freeze(['tops']);

/**
 * The category a run dresses, checked against the categories the model folder's student dresses (the
 * manifest's `categories`; `tryon.garment.category.require_supported` with `Manifest.categories`).
 * `auto` (or none) is the student's category when it dresses one (the browser has no garment classifier).
 * @param {string|null|undefined} category the shop's category, in any accepted spelling
 * @param {string[]} dressed the manifest's `categories` (FASHN's vocabulary)
 * @returns {string} one of `dressed`
 * @throws {Error} `UnsupportedCategoryError` naming the category and what is dressed (or asking for a name when
 *   `auto` is ambiguous); `TypeError` for an unknown name
 */
export function resolveCategory(category, dressed) {
  const name = normaliseCategory(category);
  const what = dressed.map((c) => `${c} (${CATEGORY_EXAMPLES[c]})`).join('; ');
  if (name === 'auto') {
    if (dressed.length === 1) return dressed[0];
    throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `name the garment's category instead of auto (${dressed.join(' or ')})`);
  }
  if (!dressed.includes(name)) {
    throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `this garment looks like '${name}' (${CATEGORY_EXAMPLES[name]}); `
      + `only ${what} are dressed for now`);
  }
  return name;
}

/**
 * A category in any accepted spelling → `auto` or one of FASHN's `tops | bottoms | one-pieces`
 * (`tryon.garment.category.normalise_category`).
 * @param {string|null|undefined} category
 * @returns {string}
 * @throws {Error} `TypeError` for an unknown name
 */
export function normaliseCategory(category) {
  const key = (category || '').trim().toLowerCase();
  const name = CATEGORY_ALIASES[key];
  if (name === undefined) {
    throw namedError('TypeError', `unknown garment category ${JSON.stringify(category)}: use auto, tops, bottoms, `
      + 'one-pieces (or top, dress, lower)');
  }
  return name;
}

/** Build an `Error` with a given `name` (for errors crossing the worker boundary). */
export function namedError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}
