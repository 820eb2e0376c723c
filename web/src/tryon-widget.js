/**
 * `<tryon-widget>`: virtual try-on in the browser. A person photo (upload, camera or `person-src`) and a
 * garment photo (`garment-src`) go in; the person wearing the garment comes out at the photo's own resolution.
 *
 * Embed with one script tag and one element:
 *
 *     <script type="module" src="/src/tryon-widget.js"></script>
 *     <tryon-widget model="/models/manifest.json" garment-src="/demo/garments/white-crew-tee.png"></tryon-widget>
 *
 * Inference runs in a Web Worker (`worker.js`) with onnxruntime-web: WebGPU (fp16 only with `shader-f16`),
 * else WASM (a quantized int8 file when the manifest lists one), else — only with the shopper's consent — the
 * server fallback API (`POST {server}/v1/run`). The public surface is documented in `web/README.md` (Attributes, Properties,
 * Methods, Events, Parts, CSS properties, Slots).
 *
 * @module tryon-widget
 */

import { env } from './env.js';
import {
  BACKENDS, CATEGORY_EXAMPLES, DEFAULT_CATEGORIES, ErrorName, REFUSALS, Reply, Request, namedError, normaliseCategory,
  resolveCategory,
} from './protocol.js';
import { explainNetworkError, runOnServer, serverInfo } from './backend.js';
import { TUCKS, checkOutfit } from './outfit.js';

export { env };

/** Attribute → property map (kebab-case attributes, camelCase twins). */
const ATTRIBUTES = Object.freeze({
  'garment-src': 'garmentSrc',
  'garment-mask-src': 'garmentMaskSrc',
  'garment-alt': 'garmentAlt',
  'person-src': 'personSrc',
  model: 'model',
  backend: 'backend',
  server: 'server',
  'server-fallback': 'serverFallback',
  category: 'category',
  tuck: 'tuck',
  'quality-gate': 'qualityGate',
});
const BACKEND_VALUES = ['auto', 'webgpu', 'wasm', 'server'];
const FALLBACK_VALUES = ['ask', 'auto', 'never'];

/** A named error that is no failure (the shopper declined the server, or a photo is still to be chosen): shown in
 * the status like a refusal, without the error box. */
function notice(name, message) {
  const err = namedError(name, message);
  err.notice = true;
  return err;
}
/** Why the server runs the try-on, in the shopper's words: the consent prompt and the errors start with it. */
const SERVER_WHY = Object.freeze({
  chosen: 'This page runs the try-on on our server.', // backend="server", or no model to run here
  unable: 'This device cannot run the try-on itself.', // no in-browser backend could load the model
  failed: 'The try-on failed on this device.', // the in-browser backend broke while running
});

/**
 * Why the server dresses a garment the browser's model does not (a category outside the manifest's
 * `categories`), in the shopper's words: the consent prompt and the decline message start with it.
 * @param {string} category FASHN's name of the garment's category
 * @param {string[]} dressed what the in-browser model dresses
 * @param {string|null} label the garment's name (`garment-alt`), when the page gives one
 */
function categoryWhy(category, dressed, label) {
  const garment = label ? `This garment (${label})` : 'This garment';
  return `${garment} is one of the ${category} (${CATEGORY_EXAMPLES[category]}); the model in your browser dresses `
    + `${dressed.join(' and ')} only, our server dresses ${category} too.`;
}

const STYLES = `
:host { display: block; position: relative; box-sizing: border-box; font: inherit;
  color: var(--tryon-color, #1d1d1f); background: var(--tryon-background, transparent);
  contain: content; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.controls { display: flex; flex-wrap: wrap; gap: var(--tryon-gap, 8px); margin-bottom: var(--tryon-gap, 8px); }
button, .btn { font: inherit; cursor: pointer; border-radius: var(--tryon-radius, 8px);
  border: 1px solid var(--tryon-accent, #2f5bea); padding: 8px 14px; background: var(--tryon-button-background, #fff);
  color: var(--tryon-accent, #2f5bea); text-decoration: none; display: inline-flex; align-items: center; }
button.primary { background: var(--tryon-accent, #2f5bea); color: var(--tryon-accent-contrast, #fff); }
button:disabled { opacity: .5; cursor: default; }
button:focus-visible, .btn:focus-visible, input:focus-visible { outline: 3px solid var(--tryon-focus, #ffbf47);
  outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.progress { height: 6px; border-radius: 3px; background: var(--tryon-progress-track, #e6e8ee); overflow: hidden;
  margin-bottom: var(--tryon-gap, 8px); }
.progress .fill { height: 100%; width: 0; background: var(--tryon-accent, #2f5bea); transition: width .15s; }
.status { min-height: 1.4em; font-size: .9em; color: var(--tryon-status-color, #555); }
.error { color: var(--tryon-error-color, #b00020); border: 1px solid currentColor; border-radius: var(--tryon-radius, 8px);
  padding: 8px 12px; margin: var(--tryon-gap, 8px) 0; }
.consent { border: 1px solid var(--tryon-accent, #2f5bea); border-radius: var(--tryon-radius, 8px); padding: 12px;
  margin: var(--tryon-gap, 8px) 0; background: var(--tryon-consent-background, #f4f6fe); }
.consent .actions { display: flex; gap: 8px; margin-top: 8px; }
.stage { position: relative; }
.compare { position: relative; margin: 0; display: inline-block; max-width: 100%; line-height: 0;
  border-radius: var(--tryon-radius, 8px); overflow: hidden; }
.compare img { display: block; max-width: 100%; height: auto; }
.preview { display: block; max-width: 100%; height: auto; border-radius: var(--tryon-radius, 8px); }
.compare .after { position: absolute; inset: 0; width: 100%; height: 100%; }
.compare .slider { position: absolute; left: 0; right: 0; bottom: 8px; width: 90%; margin: 0 5%;
  accent-color: var(--tryon-accent, #2f5bea); }
.live { position: relative; display: inline-block; max-width: 100%; line-height: 0; }
.live video { display: none; }
.live canvas { max-width: 100%; height: auto; border-radius: var(--tryon-radius, 8px); }
.fps { position: absolute; top: 8px; left: 8px; line-height: 1.3; padding: 2px 8px; border-radius: 4px;
  background: rgba(0,0,0,.6); color: #fff; font-size: .8em; }
[hidden] { display: none !important; }
@media (prefers-reduced-motion: reduce) { .progress .fill { transition: none; } }
`;

const TEMPLATE = `
<div part="base" class="base">
  <div part="controls" class="controls">
    <input class="file visually-hidden" type="file" accept="image/*" tabindex="-1" aria-hidden="true">
    <slot name="upload-button"><button part="button upload-button" class="upload" type="button">Upload your photo</button></slot>
    <button part="button camera-button" class="camera" type="button" aria-pressed="false">Use camera</button>
    <button part="button snapshot-button" class="snapshot" type="button" hidden>Take photo</button>
    <button part="button run-button" class="run primary" type="button">Try it on</button>
    <a part="button download-button" class="btn download" download="tryon.png" hidden>Download</a>
  </div>
  <div part="progress" class="progress" hidden><slot name="progress-bar"><div part="progress-bar" class="fill"></div></slot></div>
  <div part="status" class="status" role="status" aria-live="polite"></div>
  <div part="error" class="error" role="alert" hidden><slot name="error"></slot><span class="error-text"></span></div>
  <div part="consent" class="consent" role="group" aria-labelledby="consent-text" hidden>
    <div id="consent-text"><slot name="consent"><span class="consent-why"></span> Send your photo to our server to
      try it on there? The photo is used only for try-ons of this photo and is not stored; a new photo is asked
      about again.</slot></div>
    <div class="actions">
      <button part="button consent-accept" class="consent-yes primary" type="button">Send to server</button>
      <button part="button consent-decline" class="consent-no" type="button">No, thanks</button>
    </div>
  </div>
  <div part="stage" class="stage">
    <slot name="poster"></slot>
    <img part="preview" class="preview" alt="Your photo, not tried on yet" hidden>
    <figure part="compare" class="compare" hidden>
      <img part="before" class="before" alt="">
      <img part="result" class="after" alt="">
      <input part="slider" class="slider" type="range" min="0" max="100" value="50"
        aria-label="Compare: before on the right, after on the left">
    </figure>
    <div part="live" class="live" hidden>
      <video class="video" muted playsinline></video>
      <canvas class="live-canvas" aria-label="Live try-on"></canvas>
      <span part="fps" class="fps" aria-hidden="true"></span>
    </div>
  </div>
</div>`;

let sheet = null;
function styleSheet() {
  // A constructed stylesheet: no inline <style>, so the widget works under `style-src 'self'`.
  if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(STYLES); }
  return sheet;
}

/** Decode a Blob as an image, or throw NotAnImageError with a message for people. */
async function decode(blob, what) {
  try {
    return await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw namedError(ErrorName.NOT_AN_IMAGE, `The ${what} is not an image this browser can read. `
      + 'Please use a JPEG, PNG or WebP photo.');
  }
}

/**
 * A `CORSError` when a fetch of `url` failed because its host does not allow this page's origin, else null.
 * The probe is this module's own URL: our server lets any origin load the widget's code.
 */
function explainBlocked(url, what) {
  return explainNetworkError(String(url), { pageOrigin: location.origin, publicUrl: import.meta.url, what });
}

async function fetchBlob(url, what) {
  let response;
  try { response = await fetch(url); } catch (err) {
    throw (await explainBlocked(url, `the ${what}`))
      || namedError(ErrorName.NOT_AN_IMAGE, `Could not load the ${what} (${err.message}).`);
  }
  if (!response.ok) throw namedError(ErrorName.NOT_AN_IMAGE, `Could not load the ${what} (HTTP ${response.status}).`);
  return response.blob();
}

/**
 * URL to construct the inference worker from. Browsers refuse `new Worker(url)` for a script of another
 * origin, which is the case when a shop page loads this module from our host; a same-origin `blob:` module
 * that imports the worker (fetched with CORS) works, and the worker's own `import.meta.url` stays our host, so
 * its relative imports and onnxruntime-web's files still come from there.
 * @param {string} url absolute URL of `worker.js`
 * @returns {string}
 */
function workerScriptUrl(url) {
  if (typeof location === 'undefined' || new URL(url).origin === location.origin) return url;
  const source = `import ${JSON.stringify(url)};\n`;
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

/**
 * The try-on element. See the module docstring and web/README.md.
 * @fires progress  {status: 'initiate'|'download'|'progress'|'done'|'ready', file, loaded, total}
 * @fires load  {backend, dtype, modelVersion}
 * @fires result  {blob, width, height, backend, ms, timings}
 * @fires backend-change  {backend, reason}
 * @fires model-change  {category, name, modelVersion, backend, dtype}
 * @fires live-frame  {state, box, presence, reason, message, timings, fps, width, height, graph}
 * @fires error  {name, message}
 */
export class TryonWidget extends HTMLElement {
  static get observedAttributes() { return Object.keys(ATTRIBUTES); }

  #root;
  #els = {};
  #worker = null;
  #nextId = 1;
  #pending = new Map();
  #loading = null;
  #resolvedBackend = null;
  #ready = false;
  #status = 'idle';
  #personBlob = null;
  #garmentBlob = null;
  #garmentMaskBlob = null;
  #garmentSent = false;
  #outfit = null; // several garments (see the outfit property), or null for garment-src
  #consent = null; // null = not asked, true/false = the shopper's answer for the current person photo
  #consentWithdraw = null; // while the consent prompt is open: closes it unanswered (the choice changed)
  #personRefusal = null; // {blob, name, message}: the current photo was refused as not showing one person
  #previewUrl = null; // object URL of the chosen photo, shown until its try-on
  #serverWhy = 'unable'; // a key of SERVER_WHY
  #categories = null; // Promise of the manifest's `categories` (what the in-browser model dresses)
  #served = null; // {server, info: Promise<{categories, gatedTo}>}: what the fallback server serves (GET /v1/models)
  #result = null;
  #urls = [];
  #live = null;
  #loadInfo = null;

  /** Raw tensors of the last in-browser run (only with the `debug` attribute; for tests). */
  debugLastRun = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.adoptedStyleSheets = [styleSheet()];
    this.#root.innerHTML = TEMPLATE;
    const q = (s) => this.#root.querySelector(s);
    this.#els = {
      file: q('.file'), upload: q('.upload'), camera: q('.camera'), snapshot: q('.snapshot'), run: q('.run'),
      download: q('.download'), progress: q('.progress'), fill: q('.progress .fill'), status: q('.status'),
      error: q('.error'), errorText: q('.error-text'), consent: q('.consent'), yes: q('.consent-yes'),
      no: q('.consent-no'), consentWhy: q('.consent-why'), compare: q('.compare'), preview: q('.preview'),
      before: q('.before'), after: q('.after'), slider: q('.slider'), live: q('.live'), video: q('.video'), canvas: q('.live-canvas'), fps: q('.fps'),
    };
  }

  // ------------------------------------------------------------------------------------------ lifecycle
  connectedCallback() {
    const e = this.#els;
    this.#on(e.upload, 'click', () => e.file.click());
    this.#on(e.file, 'change', () => {
      const f = e.file.files?.[0];
      if (f) this.#setPerson(f, true);
      e.file.value = '';
    });
    this.#on(e.run, 'click', () => this.run().catch(() => {}));
    this.#on(e.camera, 'click', () => (this.#live ? this.stopLive() : this.startLive().catch(() => {})));
    this.#on(e.snapshot, 'click', () => this.#snapshot());
    this.#on(e.slider, 'input', () => this.#applySlider());
    // Keyboard: paste an image anywhere in the widget to use it as the person photo.
    this.#on(this, 'paste', (ev) => {
      const item = [...(ev.clipboardData?.items || [])].find((i) => i.type.startsWith('image/'));
      if (item) this.#setPerson(item.getAsFile(), true);
    });
    this.#applySlider();
    this.#setStatus(this.#status, this.#els.status.textContent || 'Choose a photo of yourself, then press “Try it on”.');
    // Say at once, not at the first try-on, when this page may not load the model at all.
    if (this.model) this.#checkModelAccess().catch((err) => this.#fail(err));
  }

  disconnectedCallback() {
    for (const [el, type, fn] of this.#listeners) el.removeEventListener(type, fn);
    this.#listeners = [];
    this.dispose();
  }

  #listeners = [];
  #on(el, type, fn) { el.addEventListener(type, fn); this.#listeners.push([el, type, fn]); }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    if (name === 'model' || name === 'backend') this.#resetModel();
    if (name === 'model') this.#categories = null;
    if (name === 'garment-src' || name === 'garment-mask-src' || name === 'category') {
      this.#garmentBlob = null; this.#garmentMaskBlob = null; this.#garmentSent = false; this.#outfit = null;
      this.#consentWithdraw?.();
    }
    if (name === 'person-src') this.#newPerson(null);
  }

  // ------------------------------------------------------------------------------------------ properties
  /** @type {'idle'|'loading'|'ready'|'running'|'done'|'error'} read-only; reflected as the `status` attribute */
  get status() { return this.#status; }
  /** @type {'webgpu'|'wasm'|'server'|null} the backend that runs (or will run) the try-on */
  get resolvedBackend() { return this.#resolvedBackend; }
  /** @type {boolean} a local model is loaded */
  get ready() { return this.#ready; }
  /** @type {Blob|null} the last result image (PNG) */
  get result() { return this.#result; }
  /** @type {object|null} details of the loaded model: {backend, dtype, name, version, ortVersion, adapter, threads} */
  get modelInfo() { return this.#loadInfo; }
  /** @type {Blob|null} the person photo (settable: a File or Blob) */
  get person() { return this.#personBlob; }
  set person(blob) { this.#setPerson(blob, false); }
  /** @type {Blob|null} the garment photo (settable: a File or Blob; overrides garment-src) */
  get garment() { return this.#garmentBlob; }
  set garment(blob) {
    this.#garmentBlob = blob; this.#garmentMaskBlob = null; this.#garmentSent = false;
    this.#consentWithdraw?.();
  }

  /**
   * @type {Array<{src: string, maskSrc?: string, category: string, alt?: string}>} the garments to dress
   * together, one per category (a top and a bottom, or a one-piece alone), each with its category named. One
   * garment is the same as setting `garment-src`, `garment-mask-src`, `category` and `garment-alt`; several are
   * checked when a try-on runs (`outfit.js`): a category the model does not dress is refused naming the garment.
   */
  get outfit() {
    if (this.#outfit) return this.#outfit.map((g) => ({ ...g }));
    return this.garmentSrc ? [{ src: this.garmentSrc, maskSrc: this.garmentMaskSrc || undefined,
      category: this.category || 'auto', alt: this.getAttribute('garment-alt') || undefined }] : [];
  }
  set outfit(list) {
    const garments = [...(list || [])];
    for (const g of garments) {
      if (!g || typeof g.src !== 'string' || !g.src) throw namedError('TypeError', 'each outfit garment needs a src');
    }
    if (garments.length <= 1) {
      const g = garments[0];
      this.#outfit = null;
      for (const [attr, value] of [['garment-src', g?.src], ['garment-mask-src', g?.maskSrc],
        ['category', g?.category], ['garment-alt', g?.alt]]) {
        if (value) this.setAttribute(attr, value); else this.removeAttribute(attr);
      }
      return;
    }
    this.#outfit = garments.map((g) => ({ src: g.src, maskSrc: g.maskSrc, category: g.category, alt: g.alt }));
    this.#consentWithdraw?.();
    this.setAttribute('garment-alt', garments.map((g, i) => g.alt || `garment ${i + 1}`).join(' and '));
  }

  get backend() {
    const v = this.getAttribute('backend') || 'auto';
    return BACKEND_VALUES.includes(v) ? v : 'auto';
  }
  set backend(v) { this.setAttribute('backend', v); }
  /** @type {'on'|'off'} the in-browser student's output gate (`off`: every result is shown, for evaluation) */
  get qualityGate() { return this.getAttribute('quality-gate') === 'off' ? 'off' : 'on'; }
  set qualityGate(v) { this.setAttribute('quality-gate', v); }

  get serverFallback() {
    const v = this.getAttribute('server-fallback') || 'ask';
    return FALLBACK_VALUES.includes(v) ? v : 'ask';
  }
  set serverFallback(v) { this.setAttribute('server-fallback', v); }

  // ------------------------------------------------------------------------------------------ methods
  /**
   * Load the model (manifest, download with progress, cache, sha256 check, session on the best backend).
   * Resolves with the backend in use; a failure of every local backend resolves with 'server' (the server is
   * asked only when a try-on runs).
   * @returns {Promise<'webgpu'|'wasm'|'server'>}
   */
  load() {
    if (!this.#loading) {
      this.#loading = this.#load().catch((err) => {
        this.#loading = null;
        this.#fail(err);
        err.reported = true; // run() rethrows it without a second error event
        throw err;
      });
    }
    return this.#loading;
  }

  async #load() {
    const requested = this.backend;
    if (requested === 'server') {
      this.#useServer('chosen', 'backend="server"');
      return 'server';
    }
    if (!this.model) {
      if (this.server) { this.#useServer('chosen', 'no model attribute'); return 'server'; }
      throw namedError(ErrorName.MANIFEST, 'the widget has neither a model (manifest URL) nor a server');
    }
    await this.#checkModelAccess();
    this.#setStatus('loading', 'Loading the try-on model…');
    this.#showProgress(0);
    this.#worker = this.#worker || this.#createWorker();
    const manifestUrl = new URL(this.model, document.baseURI).href;
    try {
      const ready = await this.#request({
        type: Request.INIT, manifestUrl, backend: requested, ortUrl: env.ortUrl, cacheName: env.cacheName,
        numThreads: env.numThreads, debug: this.hasAttribute('debug'), useCache: env.useBrowserCache,
        rejectFallbackAdapter: env.rejectFallbackAdapter,
      });
      for (const f of ready.fallbacks) {
        if (f.backend === 'webgpu' && requested === 'webgpu') console.warn(`tryon: WebGPU unavailable: ${f.reason}`);
      }
      const reason = ready.fallbacks.length
        ? ready.fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ') : `backend="${requested}"`;
      this.#switchBackend(ready.backend, reason);
      this.#ready = true;
      this.#loadInfo = {
        backend: ready.backend, dtype: ready.dtype, name: ready.name, version: ready.version,
        ortVersion: ready.ortVersion, adapter: ready.adapter, threads: ready.threads, inputSize: ready.inputSize,
        framing: ready.framing,
      };
      this.#showProgress(null);
      this.#emit('progress', { status: 'ready', file: '', loaded: 1, total: 1 });
      this.#emit('load', {
        backend: ready.backend, dtype: ready.dtype, modelVersion: ready.version, threads: ready.threads,
      });
      this.#setStatus('ready', `Ready (${this.#backendLabel(ready.backend)}).`);
      return ready.backend;
    } catch (err) {
      this.#showProgress(null);
      if (err.local) { // every in-browser backend failed: the server may still do it
        this.#useServer('unable', err.message);
        this.#setStatus('ready', 'This device cannot run the try-on; the server can.');
        return 'server';
      }
      throw err;
    }
  }

  /**
   * Run a try-on of the current person and garment photos; shows the result and resolves with it (a PNG Blob
   * at the person photo's resolution). Errors are also dispatched as `error` events.
   * @returns {Promise<Blob>}
   */
  async run() {
    // The result is named after what was sent, even when the shopper picks another garment meanwhile.
    const label = this.getAttribute('garment-alt');
    try {
      this.#hideError();
      if (this.#outfit) {
        const out = await this.#runOutfit();
        this.#showResult(await this.#personInput(), out, label);
        return out.blob;
      }
      // A category the in-browser model does not dress: the server's, with consent, when it dresses it; else
      // refused before any photo is decoded or sent anywhere.
      const why = await this.#routeCategory();
      const person = await this.#personInput();
      const garment = await this.#garmentInput();
      // Refuse a file that is not an image before downloading a model for it.
      (await decode(person, 'photo')).close();
      const backend = why ? 'server' : await this.load();
      this.#setStatus('running', 'Trying it on…');
      const t0 = performance.now();
      let out;
      if (backend === 'server') {
        out = await this.#runServer(person, garment, t0, why);
      } else {
        try {
          out = await this.#runLocal(person, garment);
        } catch (err) {
          if (err.name === ErrorName.INFERENCE) { // the backend broke while running: next one down
            out = await this.#recover(err, person, garment, t0);
          } else if (err.name === ErrorName.UNSUPPORTED_CATEGORY && err.category) {
            out = await this.#runClassified(err, person, garment, t0);
          } else if (err.name === ErrorName.LOW_CONFIDENCE) {
            out = await this.#runGated(err, person, garment, t0);
          } else throw err;
        }
      }
      this.#showResult(person, out, label);
      return out.blob;
    } catch (err) {
      this.#fail(err);
      throw err;
    }
  }

  /** Release the worker, the model session, the camera and object URLs. The element can load again later. */
  dispose() {
    this.stopLive();
    if (this.#worker) {
      this.#worker.terminate();
      this.#worker = null;
    }
    for (const [, p] of this.#pending) p.reject(namedError(ErrorName.ABORT, 'the widget was disposed'));
    this.#pending.clear();
    for (const u of this.#urls) URL.revokeObjectURL(u);
    this.#urls = [];
    this.#showPreview(null);
    this.#loading = null;
    this.#ready = false;
    this.#garmentSent = false;
  }

  /**
   * Live mode: continuous try-on on camera frames (in-browser backends only), with the sampling grid and the
   * composition mask smoothed across frames (`env.liveSmoothing`). Shows FPS and the backend.
   * @param {MediaStream} [stream] a stream to use instead of asking for the camera
   */
  async startLive(stream) {
    try {
      this.#hideError();
      if (await this.#routeCategory()) {
        throw namedError(ErrorName.UNSUPPORTED_CATEGORY, `live try-on dresses what the model in your browser `
          + `dresses (${(await this.#browserCategories()).join(', ')}); upload a photo to try this garment on, on the `
          + 'server');
      }
      const backend = await this.load();
      if (backend === 'server') {
        throw namedError(ErrorName.BACKEND, 'Live try-on needs an in-browser backend (WebGPU or WASM); '
          + 'upload a photo instead.');
      }
      const garment = await this.#garmentInput();
      const media = stream || await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      const e = this.#els;
      e.video.srcObject = media;
      await e.video.play();
      this.#live = {
        media, ownStream: !stream, frames: 0, fps: 0, last: performance.now(), stop: false, framingState: null,
      };
      e.live.hidden = false;
      e.compare.hidden = true;
      this.#showPreview(null);
      e.snapshot.hidden = false;
      e.camera.textContent = 'Stop camera';
      e.camera.setAttribute('aria-pressed', 'true');
      this.#setStatus('running', `Live try-on (${this.#backendLabel(backend)}).`);
      this.#liveLoop(garment);
    } catch (err) {
      this.#fail(err.name === 'NotAllowedError' ? namedError('CameraError', 'Camera access was denied.') : err);
      throw err;
    }
  }

  /** Stop live mode and the camera. */
  stopLive() {
    const live = this.#live;
    if (!live) return;
    live.stop = true;
    if (live.ownStream) for (const t of live.media.getTracks()) t.stop();
    this.#live = null;
    const e = this.#els;
    e.video.srcObject = null;
    e.live.hidden = true;
    e.snapshot.hidden = true;
    e.camera.textContent = 'Use camera';
    e.camera.setAttribute('aria-pressed', 'false');
    if (this.#status === 'running') this.#setStatus('ready', 'Camera stopped.');
  }

  // ------------------------------------------------------------------------------------------ internals
  #createWorker() {
    const worker = new Worker(workerScriptUrl(env.workerUrl), { type: 'module', name: 'tryon-inference' });
    worker.addEventListener('message', (ev) => this.#onMessage(ev.data));
    worker.addEventListener('error', (ev) => {
      const err = namedError(ErrorName.BACKEND, `the inference worker failed: ${ev.message || 'script error'}`);
      err.local = true;
      for (const [, p] of this.#pending) p.reject(err);
      this.#pending.clear();
    });
    return worker;
  }

  #request(msg, transfer = []) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }

  #onMessage(msg) {
    if (msg.type === Reply.STUDENT) { // a garment of another category: the student deployed for it is loaded
      this.#loadInfo = { ...this.#loadInfo, dtype: msg.dtype, name: msg.name, version: msg.version, framing: msg.framing };
      this.#showProgress(null);
      this.#emit('model-change', { category: msg.category, name: msg.name, modelVersion: msg.version,
        backend: msg.backend, dtype: msg.dtype });
      return;
    }
    if (msg.type === Reply.PROGRESS) {
      const { status, file, loaded, total, cached } = msg;
      this.#emit('progress', cached === undefined ? { status, file, loaded, total } : { status, file, loaded, total, cached });
      if (total) this.#showProgress(loaded / total);
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.type === Reply.ERROR) {
      const err = namedError(msg.name, msg.message);
      err.local = msg.local;
      err.fallbacks = msg.fallbacks;
      if (msg.category) err.category = msg.category; // an auto garment the student refused: what it looks like
      if (msg.what) { err.what = msg.what; err.advice = msg.advice; } // an output-gate refusal's two parts
      if (msg.debug) this.debugLastRun = msg.debug; // a refused run: how its garment was cut out, no tensors
      p.reject(err);
    } else p.resolve(msg);
  }

  async #runLocal(person, garment) {
    const transfer = [];
    const msg = { // the worker frames its box
      type: Request.RUN, output: 'blob', category: this.category, gate: this.qualityGate !== 'off',
    };
    msg.person = await decode(person, 'photo');
    transfer.push(msg.person);
    if (!this.#garmentSent) {
      msg.garment = await decode(garment, 'garment photo');
      msg.category = this.category; // auto: the worker classifies the garment (category.js)
      transfer.push(msg.garment);
      const mask = await this.#garmentMaskInput();
      if (mask) { msg.garmentMask = await decode(mask, 'garment mask'); transfer.push(msg.garmentMask); }
    }
    const reply = await this.#request(msg, transfer);
    this.#garmentSent = true;
    if (reply.debug) this.debugLastRun = reply.debug;
    return {
      blob: reply.blob, width: reply.width, height: reply.height, backend: reply.backend, ms: reply.ms,
      timings: reply.timings, box: reply.framing?.box ?? null, quality: reply.quality ?? null,
    };
  }

  /** `why`: a categoryWhy() text when the garment's category sends it to the server, else null (SERVER_WHY);
   * `category`: what the server is told the garment is (the element's, or what the browser's classifier found). */
  async #runServer(person, garment, t0, why = null, category = this.category) {
    const bitmap = await decode(person, 'photo'); // refuse a non-image before it leaves the device
    const { width, height } = bitmap;
    bitmap.close();
    await decode(garment, 'garment photo').then((b) => b.close());
    this.#checkNotRefused(person);
    await this.#askConsent(why);
    this.#setStatus('running', 'Trying it on, on the server…');
    let res;
    try {
      res = await runOnServer(this.server, person, garment, {
        category, waitSeconds: env.serverWaitSeconds,
      });
    } catch (err) {
      if (err.name !== 'TypeError') throw err;
      throw (await explainBlocked(new URL(this.server, document.baseURI), 'the try-on server'))
        || namedError(ErrorName.SERVER, `The try-on server cannot be reached (${err.message}).`);
    }
    const ms = performance.now() - t0;
    return { blob: res.blob, width, height, backend: 'server', ms, timings: { server: res.metrics } };
  }

  /** An outfit of several garments: checked first (nothing decoded or sent for one it refuses), then dressed by
   * the server in the `tuck` attribute's layering order (`POST /v1/run` with repeated garment parts). */
  async #runOutfit() {
    const local = await this.#browserCategories();
    let garments;
    let why = null;
    try {
      garments = checkOutfit(this.#outfit, local);
    } catch (err) { // a garment the browser does not dress: the server's, with consent, when it dresses them all
      const served = err.name === ErrorName.UNSUPPORTED_CATEGORY ? await this.#serverCategories() : [];
      if (!served.length) throw err;
      garments = checkOutfit(this.#outfit, served); // the same refusal when the server does not dress one either
      const g = garments.find((x) => !local.includes(x.category));
      why = categoryWhy(g.category, local, g.label);
    }
    const tuck = this.getAttribute('tuck') || TUCKS[0];
    if (!TUCKS.includes(tuck)) throw namedError('TypeError', `tuck ${JSON.stringify(tuck)}: use ${TUCKS.join(' or ')}`);
    const person = await this.#personInput();
    const t0 = performance.now();
    const backend = why ? 'server' : await this.load();
    if (backend !== 'server') {
      // The in-browser student dresses one garment per run; an outfit's steps run on the server.
      throw namedError(ErrorName.UNSUPPORTED_CATEGORY, 'an outfit of several garments is dressed on the server: '
        + 'set backend="server", or try the garments on one at a time');
    }
    const blobs = [];
    for (const g of garments) blobs.push({ blob: await fetchBlob(new URL(g.src, document.baseURI), `garment photo (${g.label})`), category: g.category });
    const bitmap = await decode(person, 'photo');
    const { width, height } = bitmap;
    bitmap.close();
    this.#checkNotRefused(person);
    await this.#askConsent(why);
    this.#setStatus('running', 'Trying the outfit on, on the server…');
    const res = await runOnServer(this.server, person, blobs, { tuck, waitSeconds: env.serverWaitSeconds });
    return { blob: res.blob, width, height, backend: 'server', ms: performance.now() - t0, timings: { server: res.metrics } };
  }

  /**
   * An `auto` garment the worker classified as a category the in-browser model does not dress (`err.category`,
   * set by the worker's category check): the server's, with consent and named as the classifier found it, when
   * the server dresses that category.
   * @throws {Error} `err` itself (the worker's refusal) when no server dresses it (none configured, none that
   *   dresses it, or `server-fallback="never"`)
   */
  async #runClassified(err, person, garment, t0) {
    if (!(await this.#serverCategories()).includes(err.category)) throw err;
    const why = categoryWhy(err.category, await this.#browserCategories(), this.getAttribute('garment-alt'));
    return this.#runServer(person, garment, t0, why, err.category);
  }

  /**
   * A result the in-browser student's output gate refused (`err`, a `LowConfidenceError` saying what would look
   * wrong): the server's, with consent, when a server may be asked and its teacher takes what the student's gate
   * refuses (`gated_to` in its `/v1/models`).
   * @throws {Error} `err` itself otherwise (no server, `server-fallback="never"`, or a server without a teacher)
   */
  async #runGated(err, person, garment, t0) {
    if (!(await this.#serverInfo()).gatedTo) throw err;
    const why = `The model in your browser cannot dress this photo convincingly: ${err.what || err.message}. `
      + `Our server's slower model may${err.advice ? `, or ${err.advice}` : ''}.`;
    return this.#runServer(person, garment, t0, why);
  }

  async #recover(err, person, garment, t0) {
    const from = this.#resolvedBackend;
    if (from === 'webgpu') { // WebGPU broke at run time: reload on WASM and retry once
      this.#worker?.terminate();
      this.#worker = null;
      this.#loading = null;
      this.#garmentSent = false;
      const prev = this.getAttribute('backend');
      this.setAttribute('backend', 'wasm');
      try {
        const backend = await this.load();
        if (backend !== 'server') return await this.#runLocal(person, garment);
      } finally {
        if (prev === null) this.removeAttribute('backend'); else this.setAttribute('backend', prev);
        this.#loading = Promise.resolve(this.#resolvedBackend);
      }
    }
    this.#useServer('failed', err.message);
    return this.#runServer(person, garment, t0);
  }

  /**
   * Where the element's named category is dressed: null for the browser (its model dresses it, or `auto`: the
   * worker classifies the garment), or the shopper's reason (`categoryWhy`) when the server dresses it and the
   * browser's model does not.
   * @throws {Error} `UnsupportedCategoryError` worded by `resolveCategory` when neither dresses it (or no server
   *   may be asked: none configured, or `server-fallback="never"`); `TypeError` for an unknown name
   */
  async #routeCategory() {
    const name = normaliseCategory(this.category);
    if (name === 'auto' || !this.model) return null; // no model here: the server runs it all (or load() says why)
    const local = await this.#browserCategories();
    if (local.includes(name)) return null;
    if ((await this.#serverCategories()).includes(name)) {
      return categoryWhy(name, local, this.getAttribute('garment-alt'));
    }
    resolveCategory(name, local); // throws: what is dressed here, in the words used before the server could
    return null;
  }

  /** What the in-browser models dress: the manifest's `categories` (`DEFAULT_CATEGORIES` when it has none, or
   * when it cannot be read: loading the model then reports why) and those of the students deployed with it (its
   * `students`). Read once per `model`. */
  #browserCategories() {
    if (!this.model) return Promise.resolve([]);
    if (!this.#categories) {
      const url = new URL(this.model, document.baseURI);
      this.#categories = fetch(url, { headers: { Accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : {}))
        .then((m) => [...(Array.isArray(m?.categories) && m.categories.length ? m.categories : DEFAULT_CATEGORIES),
          ...Object.keys(m?.students && typeof m.students === 'object' ? m.students : {})])
        .catch(() => [...DEFAULT_CATEGORIES]);
    }
    return this.#categories;
  }

  /** What the fallback server serves (`serverInfo`), asked once per `server` value; nothing when no server may
   * be asked (`server-fallback="never"`, or no `server`). */
  #serverInfo() {
    if (!this.server || this.serverFallback === 'never') return Promise.resolve({ categories: [], gatedTo: null });
    if (this.#served?.server !== this.server) this.#served = { server: this.server, info: serverInfo(this.server) };
    return this.#served.info;
  }

  /** What the fallback server dresses (see `#serverInfo`). */
  async #serverCategories() {
    return (await this.#serverInfo()).categories;
  }

  async #askConsent(reason = null) {
    const why = reason || SERVER_WHY[this.#serverWhy];
    if (!this.server) throw namedError(ErrorName.BACKEND, `${why} No try-on server is configured.`);
    const policy = this.serverFallback;
    if (policy === 'never') {
      throw namedError(ErrorName.BACKEND, `${why} Sending photos to the server is turned off `
        + '(server-fallback="never").');
    }
    if (policy === 'auto' || this.#consent === true) return;
    const e = this.#els;
    e.consentWhy.textContent = why;
    e.consent.hidden = false;
    this.#setStatus('running', 'Waiting for your permission to use the server.');
    this.#reveal(e.consent);
    e.yes.focus({ preventScroll: true });
    const ok = await new Promise((resolve) => {
      const done = (v) => () => {
        e.yes.removeEventListener('click', yes); e.no.removeEventListener('click', no);
        this.#consentWithdraw = null;
        resolve(v);
      };
      const yes = done(true);
      const no = done(false);
      e.yes.addEventListener('click', yes);
      e.no.addEventListener('click', no);
      // A prompt names one garment and one photo: when either changes before the answer, it no longer asks
      // about what would be sent.
      this.#consentWithdraw = done(null);
    });
    e.consent.hidden = true;
    if (ok === null) {
      this.#setStatus('idle', 'Your choice changed before you answered, so nothing was sent. Press “Try it on” '
        + 'again.');
      throw namedError(ErrorName.ABORT, 'the photo or the garment changed while the consent prompt was open');
    }
    this.#consent = ok;
    if (!ok) throw notice(ErrorName.CONSENT, `Your photo was not sent. ${why}`);
  }

  /** Before a photo leaves the device: refuse at once a photo already refused as not showing one person (here or
   * by the server), which the server would refuse again. */
  #checkNotRefused(person) {
    const r = this.#personRefusal;
    if (r && r.blob === person) throw namedError(r.name, r.message);
  }

  /** A new person photo (null: one to fetch from `person-src`): a new answer to ask for before sending it, no
   * earlier refusal, and no prompt about the previous one. */
  #newPerson(blob) {
    if (blob === this.#personBlob && blob !== null) return;
    this.#personBlob = blob;
    this.#consent = null;
    this.#personRefusal = null;
    this.#consentWithdraw?.();
  }

  /** Scroll `el` into view when it is off-screen (a phone's status under the catalogue). */
  #reveal(el) {
    const reduced = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    el.scrollIntoView({ block: 'nearest', behavior: reduced ? 'auto' : 'smooth' });
  }

  async #personInput() {
    if (this.#personBlob) return this.#personBlob;
    if (this.personSrc) {
      this.#personBlob = await fetchBlob(new URL(this.personSrc, document.baseURI), 'photo');
      return this.#personBlob;
    }
    throw notice(ErrorName.NOT_AN_IMAGE, 'Choose a photo of yourself first (upload one or use the camera).');
  }

  async #garmentInput() {
    if (this.#garmentBlob) return this.#garmentBlob;
    if (!this.garmentSrc) throw namedError(ErrorName.NOT_AN_IMAGE, 'No garment selected.');
    this.#garmentBlob = await fetchBlob(new URL(this.garmentSrc, document.baseURI), 'garment photo');
    this.#garmentSent = false;
    return this.#garmentBlob;
  }

  async #garmentMaskInput() {
    if (this.#garmentMaskBlob || !this.garmentMaskSrc) return this.#garmentMaskBlob;
    this.#garmentMaskBlob = await fetchBlob(new URL(this.garmentMaskSrc, document.baseURI), 'garment mask');
    return this.#garmentMaskBlob;
  }

  #setPerson(blob, fromUser) {
    this.#newPerson(blob);
    if (!blob) return;
    this.#hideError();
    if (fromUser) {
      this.#clearResult(); // the result of the previous photo is not this one's
      this.#setStatus(this.#status === 'error' ? 'idle' : this.#status, 'Photo chosen. Press “Try it on”.');
    }
    // Shown as soon as it decodes (the shopper sees which photo was taken); told at once when the file is not a
    // photo (run() checks again).
    decode(blob, 'photo').then((b) => {
      b.close();
      if (this.#personBlob === blob && !this.#result) this.#showPreview(blob);
    }, (err) => { if (fromUser && this.#personBlob === blob) this.#fail(err); });
  }

  /** The chosen photo on the stage before its try-on; null hides it. */
  #showPreview(blob) {
    const e = this.#els;
    if (this.#previewUrl) URL.revokeObjectURL(this.#previewUrl);
    this.#previewUrl = blob ? URL.createObjectURL(blob) : null;
    if (this.#previewUrl) e.preview.src = this.#previewUrl; else e.preview.removeAttribute('src');
    e.preview.hidden = !blob;
  }

  #showResult(person, out, label) {
    const e = this.#els;
    this.#showPreview(null);
    for (const u of this.#urls) URL.revokeObjectURL(u);
    const before = URL.createObjectURL(person);
    const after = URL.createObjectURL(out.blob);
    this.#urls = [before, after];
    e.before.src = before;
    e.after.src = after;
    const garment = label || 'the selected garment';
    e.before.alt = 'Your photo';
    e.after.alt = `You wearing ${garment} (virtual try-on)`;
    e.compare.hidden = false;
    e.download.href = after;
    e.download.hidden = false;
    this.#result = out.blob;
    this.#applySlider();
    this.#setStatus('done', `Done in ${(out.ms / 1000).toFixed(1)} s (${this.#backendLabel(out.backend)}). `
      + 'Drag the slider to compare.');
    this.#emit('result', {
      blob: out.blob, width: out.width, height: out.height, backend: out.backend, ms: out.ms, timings: out.timings,
      box: out.box ?? null, quality: out.quality ?? null,
    });
  }

  #applySlider() {
    const v = Number(this.#els.slider.value);
    // The result shows on the left of the handle, the original photo on the right.
    this.#els.after.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
    this.#els.slider.setAttribute('aria-valuetext', `${v}% try-on`);
  }

  async #liveLoop(garment) {
    const live = this.#live;
    const e = this.#els;
    const ctx = e.canvas.getContext('2d');
    let sendGarment = true;
    let mask = await this.#garmentMaskInput();
    while (!live.stop) {
      if (e.video.readyState < 2) { await new Promise((r) => setTimeout(r, 30)); continue; }
      const timestamp = performance.now(); // the One Euro filter's clock (ms)
      const frame = await createImageBitmap(e.video);
      const msg = {
        type: Request.RUN, person: frame, live: true, smoothing: env.liveSmoothing, output: 'bitmap', timestamp,
        category: this.category,
      };
      const transfer = [frame];
      if (sendGarment) {
        msg.garment = await decode(garment, 'garment photo');
        msg.category = this.category;
        transfer.push(msg.garment);
        if (mask) { msg.garmentMask = await decode(mask, 'garment mask'); transfer.push(msg.garmentMask); mask = null; }
      }
      let reply;
      try {
        reply = await this.#request(msg, transfer);
      } catch (err) {
        if (!live.stop) { this.stopLive(); this.#fail(err); }
        return;
      }
      sendGarment = false;
      this.#garmentSent = true;
      if (live.stop) { reply.bitmap.close(); return; }
      e.canvas.width = reply.width;
      e.canvas.height = reply.height;
      ctx.drawImage(reply.bitmap, 0, 0);
      reply.bitmap.close();
      const now = performance.now();
      const fps = 1000 / Math.max(1, now - live.last);
      live.last = now;
      live.fps = live.frames++ ? 0.8 * live.fps + 0.2 * fps : fps;
      e.fps.textContent = `${live.fps.toFixed(1)} FPS · ${this.#backendLabel(reply.backend)}`;
      const f = reply.framing;
      const state = f ? (f.state === 'lost' ? 'lost' : 'tracking') : 'unframed';
      if (state !== live.framingState) { // announce changes only: the status region is aria-live
        live.framingState = state;
        this.#setStatus('running', state === 'lost' ? `Live try-on paused: ${f.message}`
          : `Live try-on (${this.#backendLabel(reply.backend)}).`);
      }
      this.#emit('live-frame', {
        state: f ? f.state : 'unframed', box: f?.box ?? null, presence: f?.presence ?? null, reason: f?.reason ?? null,
        message: f?.message ?? null,
        timings: reply.timings, fps: live.fps, width: reply.width, height: reply.height,
        graph: reply.graph ?? null, // 'live' (the manifest's live graphs) or 'student'
      });
    }
  }

  async #snapshot() {
    const e = this.#els;
    if (!this.#live) return;
    const c = new OffscreenCanvas(e.video.videoWidth, e.video.videoHeight);
    c.getContext('2d').drawImage(e.video, 0, 0);
    const blob = await c.convertToBlob({ type: 'image/png' });
    this.stopLive();
    this.#setPerson(blob, true);
    this.run().catch(() => {});
  }

  /**
   * Fail, with the reason, when the page may not read the model's manifest: a host of another origin that does
   * not list this page's origin (CORS). Same-origin models need no check.
   */
  async #checkModelAccess() {
    const url = new URL(this.model, document.baseURI);
    if (url.origin === location.origin) return;
    try {
      await fetch(url, { method: 'HEAD', cache: 'no-store' });
    } catch (err) {
      throw (await explainBlocked(url, 'the try-on model'))
        || namedError(ErrorName.MANIFEST, `Could not load the try-on model from ${url.origin} (${err.message}).`);
    }
  }

  /** Use the server, for a reason of SERVER_WHY (shown to the shopper) and a technical one (`backend-change`). */
  #useServer(why, reason) {
    this.#serverWhy = why;
    this.#switchBackend('server', reason);
  }

  #switchBackend(backend, reason) {
    if (this.#resolvedBackend === backend) return;
    this.#resolvedBackend = backend;
    this.setAttribute('resolved-backend', backend);
    this.#emit('backend-change', { backend, reason });
  }

  #backendLabel(b) {
    return { webgpu: 'WebGPU, on this device', wasm: 'WebAssembly, on this device', server: 'on the server' }[b] || b;
  }

  #showProgress(fraction) {
    const e = this.#els;
    e.progress.hidden = fraction === null;
    if (fraction !== null) e.fill.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  }

  #setStatus(status, text) {
    this.#status = status;
    this.setAttribute('status', status);
    if (text !== undefined) this.#els.status.textContent = text;
    this.#els.run.disabled = status === 'running' || status === 'loading';
  }

  #hideError() { this.#els.error.hidden = true; }

  #fail(err) {
    if (err?.name === ErrorName.ABORT || err?.reported) return;
    const name = err?.name || 'Error';
    const message = err?.message || String(err);
    this.#clearResult(); // a result of earlier photos must not pass for the answer to these
    this.#showProgress(null);
    if ((name === ErrorName.NO_PERSON || name === ErrorName.MULTIPLE_PEOPLE) && this.#personBlob) {
      this.#personRefusal = { blob: this.#personBlob, name, message };
    }
    if (REFUSALS.has(name) || err?.notice) { // not a failure: what to change (or choose), in the status
      this.#setStatus('error', `${message.charAt(0).toUpperCase()}${message.slice(1)}.`.replace(/\.\.$/, '.'));
      this.#reveal(this.#els.status);
    } else {
      this.#els.errorText.textContent = message;
      this.#els.error.hidden = false;
      this.#setStatus('error', 'Something went wrong — see the message below.');
      this.#reveal(this.#els.error);
    }
    this.#emit('error', { name, message });
  }

  #clearResult() {
    const e = this.#els;
    e.compare.hidden = true;
    e.before.removeAttribute('src');
    e.after.removeAttribute('src');
    e.download.hidden = true;
    e.download.removeAttribute('href');
    for (const u of this.#urls) URL.revokeObjectURL(u);
    this.#urls = [];
    this.#result = null;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #resetModel() {
    if (this.#worker) this.dispose();
    this.#resolvedBackend = null;
    this.removeAttribute('resolved-backend');
  }
}

// String attributes with camelCase property twins (backend and server-fallback have validating accessors above).
for (const [attr, prop] of Object.entries(ATTRIBUTES)) {
  if (Object.getOwnPropertyDescriptor(TryonWidget.prototype, prop)) continue;
  Object.defineProperty(TryonWidget.prototype, prop, {
    get() { return this.getAttribute(attr) || ''; },
    set(v) { if (v === null || v === undefined) this.removeAttribute(attr); else this.setAttribute(attr, v); },
    configurable: true,
    enumerable: true,
  });
}

/**
 * Define the element under a name (default `tryon-widget`); safe to call twice.
 * @param {string} [name]
 */
let classRegistered = false;
export function defineTryonWidget(name = 'tryon-widget') {
  if (customElements.get(name)) return;
  // A class can be registered under one name only: further names get a subclass.
  customElements.define(name, classRegistered ? class extends TryonWidget {} : TryonWidget);
  classRegistered = true;
}

defineTryonWidget();

export { BACKENDS };
