/**
 * The inference worker of `<tryon-widget>`: owns onnxruntime-web and the model sessions, and does all pixel
 * work (person framing, letterbox, garment mask, NCHW, paste-back at full resolution, live-mode tracking and
 * smoothing) off the main thread. Speaks the protocol in `protocol.js`; one student session per worker (plus
 * the three framing models when the manifest has `framing`); runs are serialised (onnxruntime-web errors on
 * concurrent runs of one session).
 *
 * With `framing` in the manifest every photo goes through the steps of `tryon.student_runner.StudentRunner`:
 * a garment photo showing a person is refused (`PhotoTypeError`), the person is framed (`framing.js`: refusals
 * `NoPersonError`, `MultiplePeopleError`, `PoseError`), the student runs on the upper-body box and its result
 * is pasted back inside the box only; the photo outside the box comes back untouched. Without `framing` (a
 * stand-in or an older export) the whole photo is letterboxed, as before framing existed.
 *
 * With `garment_category` in the manifest and `category="auto"`, a garment the student does not dress, or one the
 * classifier cannot tell, is refused (`category.js`, `UnsupportedCategoryError`) before the student runs; a garment
 * photographed folded is refused whatever its category, and, for a photo whose framing refuses the pose, in one
 * `PoseError` naming both (`category.js` `foldedWithPose`, as `StudentRunner.refuse_with_pose`).
 *
 * Live mode runs the manifest's `live` graphs when it has them (`tryon.export.live`): the garment pyramid once per
 * garment, then on every frame the student on that pyramid without the flip ensemble (about twice as fast as the
 * deployed student). They are fetched on the first live frame, so a shopper who only uploads photos never
 * downloads them.
 *
 * @module worker
 */

import { chooseFile, defaultThreads, detectWebGPU, planBackends, validateManifest } from './backend.js';
import { fetchModelFile } from './cache.js';
import { ORT_FILES } from './env.js';
import * as C from './category.js';
import * as F from './framing.js';
import * as G from './guard.js';
import * as M from './garment-mask.js';
import * as P from './processing.js';
import {
  DEFAULT_CATEGORIES, ErrorName, REFUSALS, Reply, Request, namedError, normaliseCategory, resolveCategory,
} from './protocol.js';

/** Worker state (one model). */
const state = {
  ort: null,
  session: null,
  manifest: null,
  backend: null,
  dtype: null,
  size: null, // [h, w] person input
  garmentSize: null, // [h, w] garment input
  inputNames: [],
  debug: false,
  garment: null, // cached prepared garment: {full, low, transform, mask}
  live: { grid: null, mask: null }, // moving averages of live mode
  framing: null, // {framer: F.Framer, config, files: [{path, bytes, backend, ms, cached}]} when the manifest has framing
  track: null, // live mode, while a person is tracked: {filter: F.OneEuroFilter, roi0, anchor, roi: next pose ROI}
  poseGate: null, // live mode: F.PoseGateHysteresis of the loaded framing rules (see frameLive)
  liveGraphs: null, // live mode's sessions {encoder, model, features, files} once loaded, or {none: true} without them
  garmentMasker: null, // {key, masker, session, file} for uploaded garment photos, loaded on the first (garmentMaskerFor)
  fetchOptions: null, // {cacheName, useCache} of init, for files fetched later (live graphs)
  manifestUrl: null,
  students: {}, // category -> manifest URL of the student that dresses it (the loaded one's for its own)
  framingKey: null, // the loaded framing rules and models' sha256s: kept across a switch of students
  framingBackend: null,
  queue: Promise.resolve(),
};

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

/** Pixels of an ImageBitmap (drawn on an OffscreenCanvas) or of an RGB/RGBA buffer, as an RGB image. */
function toRGB(src) {
  return toCanvas(src).image;
}

/**
 * A photo on an OffscreenCanvas and as an RGB image. The result is drawn on that same canvas: only the part
 * the student changed is written back (`putImageData` of the box), the rest of the photo is already there.
 * @returns {{image: import('./processing.js').RGBImage, canvas: OffscreenCanvas, ctx: OffscreenCanvasRenderingContext2D}}
 */
function toCanvas(src) {
  const canvas = new OffscreenCanvas(src.width, src.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (src instanceof ImageBitmap) {
    ctx.drawImage(src, 0, 0);
    src.close();
    return { image: P.rgbaToRgb(ctx.getImageData(0, 0, canvas.width, canvas.height)), canvas, ctx };
  }
  const data = new Uint8Array(src.data);
  const image = src.channels === 4 ? P.rgbaToRgb({ data, width: src.width, height: src.height })
    : { data, width: src.width, height: src.height };
  ctx.putImageData(new ImageData(P.rgbToRgba(image), image.width, image.height), 0, 0);
  return { image, canvas, ctx };
}

/**
 * Where onnxruntime-web loads its glue and `.wasm` from: the folder of the entry module (our origin, no CDN).
 * The vendored runtime's files are asked for with `?v=<its version>`, so the server lets browsers keep them for a
 * year (a new runtime asks for new URLs); another entry's files load as they are named.
 */
function runtimePaths(ort, ortUrl) {
  const folder = new URL('.', ortUrl);
  const version = ort.env.versions?.web;
  if (!version || !new URL(ortUrl).pathname.endsWith(`/${ORT_FILES.entry}`)) return folder.href;
  const pinned = (name) => {
    const url = new URL(name, folder);
    url.searchParams.set('v', version);
    return url.href;
  };
  return { mjs: pinned(ORT_FILES.glue), wasm: pinned(ORT_FILES.wasm) };
}

async function loadOrt(ortUrl, numThreads) {
  if (state.ort) return state.ort;
  const ort = await import(ortUrl);
  ort.env.wasm.wasmPaths = runtimePaths(ort, ortUrl);
  ort.env.wasm.proxy = false; // we are the worker already; the proxy cannot carry WebGPU buffers
  ort.env.wasm.numThreads = numThreads > 0 ? numThreads
    : defaultThreads(self.crossOriginIsolated === true, navigator.hardwareConcurrency || 1);
  ort.env.logLevel = 'warning';
  state.ort = ort;
  return ort;
}

async function init(msg) {
  const { id, manifestUrl, backend, ortUrl, cacheName, numThreads, debug, useCache = true } = msg;
  state.debug = Boolean(debug);
  const ort = await loadOrt(ortUrl, numThreads);
  state.fetchOptions = { cacheName, useCache };
  const ready = await loadStudent(ort, manifestUrl, backend, id, msg.rejectFallbackAdapter !== false);
  // The students deployed with this one (the manifest's `students`: one per other category), loaded when a
  // garment of their category comes; this one for its own categories.
  const home = new URL(manifestUrl, self.location.href).href;
  state.students = Object.fromEntries(state.categories.map((c) => [c, home]));
  for (const [category, sub] of Object.entries(state.manifest.students || {})) {
    state.students[category] = new URL(`${sub.replace(/\/+$/, '')}/manifest.json`, home).href;
  }
  post({ type: Reply.READY, id, ...ready });
}

/**
 * Load the student of a manifest on the best backend of `backend`'s plan (with its framing models and no live
 * graphs yet) and make it the worker's model. The framing models stay loaded when the new manifest names the same
 * files (the students of one deployment share them).
 * @returns {Promise<object>} what READY reports (backend, dtype, name, version, fallbacks...)
 * @throws {Error} `ManifestError`, `IntegrityError`, or `BackendError` when no backend could load it
 */
async function loadStudent(ort, manifestUrl, backend, id, rejectFallbackAdapter = true) {
  const res = await fetch(manifestUrl, { cache: 'no-cache' });
  if (!res.ok) throw namedError(ErrorName.MANIFEST, `model manifest ${manifestUrl}: HTTP ${res.status}`);
  let manifest;
  try { manifest = await res.json(); } catch {
    throw namedError(ErrorName.MANIFEST, `model manifest ${manifestUrl} is not JSON`);
  }
  const { size, garmentSize } = validateManifest(manifest);
  const { cacheName, useCache } = state.fetchOptions;
  state.manifestUrl = manifestUrl;
  const gpu = await detectWebGPU();
  const { order, skipped } = planBackends(backend, gpu, { rejectFallbackAdapter });
  const fallbacks = [...skipped];
  const bytesByPath = new Map();
  for (const candidate of order) {
    let file;
    try {
      file = chooseFile(manifest, candidate, gpu);
      if (!bytesByPath.has(file.path)) {
        const url = new URL(file.path, new URL(manifestUrl, self.location.href)).href;
        bytesByPath.set(file.path, await fetchModelFile(url, file, {
          cacheName, useCache, onProgress: (p) => post({ type: Reply.PROGRESS, id, ...p }),
        }));
      }
      const options = { executionProviders: [candidate], graphOptimizationLevel: 'all' };
      const session = await ort.InferenceSession.create(bytesByPath.get(file.path), options);
      if (candidate === 'webgpu') {
        try {
          await validateWebGPU(ort, session, size, garmentSize);
        } catch (err) {
          await session.release();
          throw err;
        }
      }
      if (state.session) await state.session.release();
      await releaseLive();
      Object.assign(state, {
        session, manifest, backend: candidate, dtype: file.dtype, size, garmentSize,
        inputNames: session.inputNames, garment: null, live: { grid: null, mask: null }, track: null,
        categories: manifest.categories || DEFAULT_CATEGORIES, category: null,
      });
      // The framing rules and models: one deployment's students share them.
      const framingKey = F.hasFraming(manifest)
        ? JSON.stringify([manifest.framing, manifest.framing_files.map((f) => f.sha256)]) : null;
      if (!state.framing || framingKey !== state.framingKey || state.framingBackend !== candidate) {
        await releaseFraming();
        if (framingKey) {
          state.framing = await loadFraming(ort, manifest, manifestUrl, candidate, {
            cacheName, useCache, onProgress: (p) => post({ type: Reply.PROGRESS, id, ...p }),
          });
        }
        Object.assign(state, { framingKey, framingBackend: candidate });
      }
      return {
        backend: candidate, dtype: file.dtype, name: manifest.name, version: manifest.version,
        ortVersion: ort.env.versions?.web || '', adapter: gpu.info, inputSize: size, fallbacks,
        threads: ort.env.wasm.numThreads,
        framing: state.framing ? { files: state.framing.files } : null,
      };
    } catch (err) {
      // A wrong file is the model's fault, not the backend's: trying another backend cannot help.
      if (err.name === ErrorName.INTEGRITY || err.name === ErrorName.MANIFEST) throw err;
      fallbacks.push({ backend: candidate, reason: err.message });
    }
  }
  const why = fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ');
  const e = namedError(ErrorName.BACKEND, `no in-browser backend could load the model (${why})`);
  e.local = true;
  e.fallbacks = fallbacks;
  throw e;
}

/**
 * Make the student that dresses `category` the worker's model (a student deployed with the loaded one, the
 * manifest's `students`), on the backend in use; nothing when the loaded one dresses it. Posts PROGRESS while
 * its files download (once: they are cached) and STUDENT once it is loaded.
 * @returns {Promise<boolean>} whether a student dresses `category` here
 */
async function switchStudent(category, id) {
  if (state.categories.includes(category)) return true;
  const url = state.students?.[category];
  if (!url) return false;
  const ready = await loadStudent(state.ort, url, state.backend, id);
  post({ type: Reply.STUDENT, id, category, ...ready });
  return true;
}

/**
 * One warm-up run on WebGPU that also proves the graph runs there. onnxruntime-web's JSEP build does not throw
 * when a WebGPU pipeline fails validation (e.g. a Concat of more inputs than the device's
 * maxStorageBuffersPerShaderStage, or f16 without shader-f16): it returns garbage and the error only reaches
 * the device's `uncapturederror` event. Any such error here rejects WebGPU, and the caller falls back to WASM.
 * The run also compiles the shaders, so the shopper's first try-on is faster.
 */
async function validateWebGPU(ort, session, [h, w], [gh, gw]) {
  const { Tensor } = ort;
  await validateWebGPUFeeds(ort, session, {
    person: new Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]),
    garment: new Tensor('float32', new Float32Array(3 * gh * gw), [1, 3, gh, gw]),
    garment_mask: new Tensor('float32', new Float32Array(gh * gw).fill(1), [1, 1, gh, gw]),
  });
}

/** {@link validateWebGPU} for any session, on the given feeds. */
async function validateWebGPUFeeds(ort, session, feeds) {
  const device = await Promise.resolve(ort.env.webgpu?.device);
  const errors = [];
  const onError = (ev) => { errors.push(ev.error?.message || String(ev.error)); ev.preventDefault?.(); };
  device?.addEventListener('uncapturederror', onError);
  try {
    const outputs = await session.run(feeds);
    for (const t of Object.values(outputs)) {
      const data = await t.getData();
      if (!data.every(Number.isFinite)) errors.push(`output ${t.dims} is not finite`);
      t.dispose?.();
    }
    await device?.queue.onSubmittedWorkDone();
  } finally {
    device?.removeEventListener('uncapturederror', onError);
  }
  if (errors.length) {
    throw new Error(`WebGPU cannot run this model correctly: ${errors[0].split('\n')[0]}`);
  }
}

/**
 * An onnxruntime-web session for a helper model (framing, live graphs) on `backend`: on WebGPU created and
 * validated with one run on `feedsFor(session)` (see `validateWebGPU`), else, or when that fails, on WASM.
 * @returns {Promise<{session: object, backend: 'webgpu'|'wasm'}>}
 */
async function openSession(ort, bytes, backend, feedsFor, path) {
  if (backend === 'webgpu') {
    let session = null;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
      await validateWebGPUFeeds(ort, session, feedsFor(session));
      return { session, backend: 'webgpu' };
    } catch (err) {
      console.warn(`tryon: ${path} on WebGPU failed (${err.message}); using WASM for it`);
      await session?.release();
    }
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { session, backend: 'wasm' };
}

/**
 * The framing models of the manifest, fetched and verified like the student (`cache.js`: Cache API, sha256),
 * each on the student's backend, or on WASM when that backend cannot create or validate it.
 * @returns {Promise<{framer: F.Framer, config: object, sessions: object[],
 *   files: {path: string, bytes: number, backend: string, ms: number, cached: boolean}[]}>}
 *   ms: download (or cache read) plus session creation
 */
async function loadFraming(ort, manifest, manifestUrl, backend, fetchOptions) {
  const { config, files } = F.framingFromManifest(manifest);
  const { Tensor } = ort;
  const shapes = { segmentation: [1, F.SEG_SIZE, F.SEG_SIZE, 3], pose: [1, F.POSE_SIZE, F.POSE_SIZE, 3],
    face: [1, F.FACE_SIZE, F.FACE_SIZE, 3] };
  const sessions = {};
  const report = [];
  for (const [key, entry] of Object.entries(files)) {
    const t0 = performance.now();
    let cached = false;
    const url = new URL(entry.path, new URL(manifestUrl, self.location.href)).href;
    const bytes = await fetchModelFile(url, entry, {
      ...fetchOptions,
      onProgress: (p) => { if (p.status === 'done') cached = Boolean(p.cached); fetchOptions.onProgress(p); },
    });
    const zeros = (s) => ({ [s.inputNames[0]]: new Tensor('float32', new Float32Array(shapes[key].reduce((a, b) => a * b)), shapes[key]) });
    const { session, backend: used } = await openSession(ort, bytes, backend, zeros, entry.path);
    sessions[key] = session;
    report.push({ path: entry.path, bytes: entry.bytes, backend: used, ms: performance.now() - t0, cached });
  }
  const input = (s, data, shape) => ({ [s.inputNames[0]]: new Tensor('float32', data, shape) });
  const fetchOne = async (s, feeds, name) => {
    const out = await s.run(feeds, [name]); // fetch only what framing reads (no heatmaps off the GPU)
    const data = await out[name].getData();
    out[name].dispose?.();
    return data;
  };
  const runners = {
    segment: (x) => fetchOne(sessions.segmentation, input(sessions.segmentation, x, shapes.segmentation),
      sessions.segmentation.outputNames[0]),
    pose: async (x) => {
      const s = sessions.pose;
      const out = await s.run(input(s, x, shapes.pose), ['Identity', 'Identity_1']);
      const landmarks = await out.Identity.getData();
      const presence = (await out.Identity_1.getData())[0];
      for (const t of Object.values(out)) t.dispose?.();
      return { landmarks, presence };
    },
    face: (x) => fetchOne(sessions.face, input(sessions.face, x, shapes.face), 'classificators'),
  };
  return { framer: new F.Framer(runners, config), config, sessions: Object.values(sessions), files: report };
}

async function releaseFraming() {
  if (!state.framing) return;
  for (const s of state.framing.sessions) await s.release();
  state.framing = null;
  state.track = null;
}

/**
 * Live mode's two graphs from the manifest's `live` entry (`tryon.export.live`), fetched and verified like the
 * student, each on the student's backend (WASM when WebGPU cannot create or validate it: `openSession`; the
 * garment pyramid is read back to the CPU, so the two may differ). Returns null when the manifest has none; throws
 * IntegrityError or ManifestError for a bad file or entry.
 * @returns {Promise<{encoder: object, model: object, features: string[],
 *   files: {path: string, bytes: number, backend: string, ms: number}[]}|null>}
 */
async function loadLive(msgId) {
  const spec = state.manifest?.live;
  if (!spec || !spec.model || !spec.garment_encoder) return null;
  const ort = state.ort;
  const entryFor = (path) => {
    const e = (state.manifest.live_files || []).find((f) => f.path === path);
    if (!e) throw namedError(ErrorName.MANIFEST, `the manifest's live_files do not list ${path}`);
    return e;
  };
  const base = new URL(state.manifestUrl, self.location.href);
  const sessions = {};
  const files = [];
  const shapes = Object.fromEntries([...state.manifest.inputs, ...(spec.features || [])].map((t) => [t.name, t.shape]));
  const zeroFeeds = (session) => Object.fromEntries(session.inputNames.map((name) => {
    const shape = shapes[name];
    if (!shape) throw namedError(ErrorName.MANIFEST, `the manifest does not give the shape of live input ${name}`);
    return [name, new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape)];
  }));
  for (const [key, path] of [['encoder', spec.garment_encoder], ['model', spec.model]]) {
    const t0 = performance.now();
    const entry = entryFor(path);
    const bytes = await fetchModelFile(new URL(path, base).href, entry, {
      ...state.fetchOptions, onProgress: (p) => post({ type: Reply.PROGRESS, id: msgId, ...p }),
    });
    const opened = await openSession(ort, bytes, state.backend, zeroFeeds, path);
    sessions[key] = opened.session;
    files.push({ path, bytes: entry.bytes, backend: opened.backend, ms: performance.now() - t0 });
  }
  return { ...sessions, features: (spec.features || []).map((f) => f.name), files };
}

async function releaseLive() {
  if (!state.liveGraphs) return;
  for (const s of [state.liveGraphs.encoder, state.liveGraphs.model]) await s?.release();
  state.liveGraphs = null;
}

/**
 * The student's outputs for one live frame: on the live graphs with the garment's pyramid (computed once per
 * garment and kept on `state.garment`), or on the deployed student when the manifest has no live graphs.
 * @returns {Promise<{outputs: Object<string, object>, graph: 'live'|'student', garmentMs: number}>}
 */
async function runLive(feeds, msgId) {
  if (state.liveGraphs === null) {
    try {
      state.liveGraphs = (await loadLive(msgId)) || { none: true };
    } catch (err) {
      if (err.name === ErrorName.INTEGRITY || err.name === ErrorName.MANIFEST) throw err;
      console.warn(`tryon: live graphs unavailable (${err.message}); live mode runs the student`);
      state.liveGraphs = { none: true };
    }
  }
  const lg = state.liveGraphs;
  if (lg.none) return { outputs: await state.session.run(feeds), graph: 'student', garmentMs: 0 };
  let garmentMs = 0;
  const g = state.garment;
  if (!g.liveFeatures) {
    const t0 = performance.now();
    const out = await lg.encoder.run({ garment: feeds.garment, garment_mask: feeds.garment_mask });
    // Kept on the CPU as plain tensors: they feed every later frame of this garment.
    g.liveFeatures = {};
    for (const name of lg.features) {
      const t = out[name];
      g.liveFeatures[name] = new state.ort.Tensor('float32', Float32Array.from(await t.getData()), t.dims);
    }
    for (const t of Object.values(out)) t.dispose?.();
    garmentMs = performance.now() - t0;
  }
  const outputs = await lg.model.run({ ...feeds, ...g.liveFeatures });
  return { outputs, graph: 'live', garmentMs };
}

async function prepareGarment(garmentSrc, maskSrc, category = 'auto', id = null) {
  const full = toRGB(garmentSrc);
  // StudentRunner.analyse_garment: a photo of a person in the garment slot is refused before its mask is
  // estimated (a catalogue garment with its exact mask is not checked).
  // A manifest from before `garment_face_score` judged garments at the person photos' face score.
  const garmentFace = state.framing?.config.garment_face_score ?? state.framing?.config.min_face_score;
  if (!maskSrc && state.framing && await state.framing.framer.isPersonPhoto(full, garmentFace)) {
    throw namedError(ErrorName.PHOTO_TYPE, 'the garment photo shows a person: use a product photo of the garment '
      + 'alone (flat lay, on a hanger or a ghost mannequin, on a plain background)');
  }
  let mask;
  let maskInfo = { method: 'given' };
  let masker = null;
  if (maskSrc) {
    mask = P.maskFromImage(toRGB(maskSrc));
  } else {
    masker = await garmentMaskerFor(id);
    const cut = await masker.mask(full);
    mask = cut.mask;
    maskInfo = { method: cut.method, confidence: cut.confidence };
  }
  if (mask.width !== full.width || mask.height !== full.height) {
    throw namedError(ErrorName.NOT_AN_IMAGE, `the garment mask is ${mask.width}×${mask.height}, the garment photo `
      + `${full.width}×${full.height}: they must have the same size`);
  }
  let switched = null;
  try {
    checkCategory(mask, category, full, !maskSrc);
  } catch (err) {
    // An `auto` garment of a category that a student deployed with this one dresses: that student's.
    if (!err.category || !(await switchStudent(err.category, id))) throw err;
    switched = err.category;
  }
  // Classified whole, given to the student peeled as the teacher draws it (StudentRunner.analyse_garment); `run` has
  // resolved the category this student dresses into state.category.
  if (masker) mask = masker.peel(full, mask, switched ?? state.category);
  const { image: low, transform } = P.letterbox(full, state.garmentSize, 255);
  const { image: maskLow } = P.letterbox(mask, state.garmentSize, 0);
  return { full, low, transform, maskLow, switched, maskInfo };
}

/**
 * The garment masker of the loaded manifest (`garment-mask.js`): the learned segmenter its `garment_mask` names
 * (fetched and verified like the student, `cache.js`) where the cut-out is unsure, or the cut-out alone for a
 * manifest without one. Loaded on the first uploaded garment photo (catalogue garments bring exact masks), and kept
 * across a switch of students that names the same file. Always on WASM: at 0.015 GMAC, run once per garment, it
 * takes milliseconds there, less than creating and validating a WebGPU session would.
 * @returns {Promise<M.GarmentMasker>}
 * @throws {Error} `ManifestError` (the file is not listed), `IntegrityError` (a bad download)
 */
async function garmentMaskerFor(msgId) {
  const rules = state.manifest?.garment_mask;
  let entry = null;
  if (rules?.model) {
    entry = (state.manifest.garment_mask_files || []).find((f) => f.path === rules.model);
    if (!entry) throw namedError(ErrorName.MANIFEST, `the manifest's garment_mask_files do not list ${rules.model}`);
  }
  const key = entry ? entry.sha256 : null;
  if (state.garmentMasker && state.garmentMasker.key === key) return state.garmentMasker.masker;
  await releaseGarmentMasker();
  if (!entry) {
    state.garmentMasker = { key, masker: new M.GarmentMasker(null, null), session: null, file: null };
    return state.garmentMasker.masker;
  }
  const t0 = performance.now();
  const url = new URL(entry.path, new URL(state.manifestUrl, self.location.href)).href;
  const bytes = await fetchModelFile(url, entry, {
    ...state.fetchOptions, onProgress: (p) => post({ type: Reply.PROGRESS, id: msgId, ...p }),
  });
  const ort = state.ort;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const segment = async (x, shape) => {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
    const logits = out[session.outputNames[0]];
    const data = await logits.getData();
    logits.dispose?.();
    return data;
  };
  const file = { path: entry.path, bytes: entry.bytes, backend: 'wasm', ms: performance.now() - t0 };
  state.garmentMasker = { key, masker: new M.GarmentMasker(segment, rules), session, file };
  return state.garmentMasker.masker;
}

async function releaseGarmentMasker() {
  await state.garmentMasker?.session?.release();
  state.garmentMasker = null;
}

/**
 * `category="auto"`: classify the garment from its mask (`category.js`, the rules of the manifest's
 * `garment_category`) and refuse what the student does not dress, as `StudentRunner.analyse_garment` does. A named
 * category is the shop's word (the widget has already refused one the student does not dress), but a garment
 * photographed folded is refused whatever its category (`require_laid_out`: no name unfolds it); a manifest without
 * `garment_category` (an older export) is not checked. The photo tells a top hung by its neckline (its hanger taken
 * out of the mask) from a waistband, with the manifest's `garment_mask` hanger rules.
 * @param {boolean} [uploaded] a shopper's photo, not a catalogue garment with its exact mask (laid out: a named
 *   category is not checked for a fold, as in Python)
 * @throws {Error} `UnsupportedCategoryError`
 */
function checkCategory(mask, category, photo, uploaded = true) {
  const spec = state.manifest?.garment_category;
  const named = (category || 'auto').trim().toLowerCase() !== 'auto';
  if (!spec?.rules || (named && !uploaded)) return;
  const hangerRules = state.manifest.garment_mask;
  const hangerAbove = hangerRules?.hanger_hook ? () => M.hangerAbove(photo, mask, hangerRules) : null;
  let info;
  try {
    info = C.classifyGarment(mask, spec.rules, { hangerAbove, image: photo });
  } catch { // an empty mask: the mask step refuses those itself (BusyBackgroundError)
    return;
  }
  if (named) {
    const folded = C.laidOutRefusal(info);
    if (folded) throw namedError(ErrorName.UNSUPPORTED_CATEGORY, folded);
    return;
  }
  const message = C.refusal(info, state.categories);
  if (!message) return;
  const err = namedError(ErrorName.UNSUPPORTED_CATEGORY, message);
  // What it looks like, so the page can offer the garment to a server that dresses that category.
  if (info.category !== 'uncertain') err.category = normaliseCategory(info.category);
  throw err;
}

/**
 * Paste the student's result back into the photo: inside the framing box only (`StudentRunner.finish`), or over
 * the whole photo without framing. Writes the changed region onto `ctx` (which holds the photo) and returns it.
 * @returns {{x: number, y: number, image: import('./processing.js').RGBImage}|null} the region written, or
 *   null when the box misses the photo
 */
function pasteInto(ctx, person, g, { grid, comp, render, personLow, box, personTransform }) {
  const common = { grid, compositionMask: comp, render, personLow, garmentTransform: g.transform,
    garmentModelSize: state.garmentSize };
  let x = 0;
  let y = 0;
  let pasted;
  if (!box) {
    pasted = P.pasteBack(person, g.full, { ...common, personTransform });
  } else {
    const [x0, y0, bw, bh] = box;
    const rx0 = Math.max(0, x0); const ry0 = Math.max(0, y0);
    const rx1 = Math.min(person.width, x0 + bw); const ry1 = Math.min(person.height, y0 + bh);
    if (rx1 <= rx0 || ry1 <= ry0) return null;
    const region = { data: new Uint8Array((rx1 - rx0) * (ry1 - ry0) * 3), width: rx1 - rx0, height: ry1 - ry0 };
    for (let yy = ry0; yy < ry1; yy++) {
      region.data.set(person.data.subarray((yy * person.width + rx0) * 3, (yy * person.width + rx1) * 3),
        (yy - ry0) * region.width * 3);
    }
    pasted = P.pasteBack(region, g.full, { ...common, personTransform: F.boxTransform([x0 - rx0, y0 - ry0, bw, bh], state.size) });
    x = rx0; y = ry0;
  }
  ctx.putImageData(new ImageData(P.rgbToRgba(pasted), pasted.width, pasted.height), x, y);
  return { x, y, image: pasted };
}

/**
 * Live mode's framing of one video frame (MediaPipe's tracking scheme): a full detection (segmentation, two
 * pose passes, face check and every refusal) until a person is found; then one pose pass per frame on the ROI
 * the previous frame's keypoints give (`F.followRoi`: the detection's ROI moved with the body), with no
 * segmentation or face model. The box is smoothed with a One Euro filter on its centre line, shoulder height and
 * size. Tracking is lost, and detection runs again on the next frame, when the pose presence drops below
 * `track_min_presence`, the shoulders are not seen, the box breaks a rule, or the pose gate refuses the pose
 * (`F.refusePoseGate`; once the garment is hidden it returns only above `pose_gate_resume_score`).
 * @returns {Promise<{state: 'detected'|'tracking'|'lost', box?: number[], keypoints?: Float32Array,
 *   reason?: string, message?: string}>}
 */
async function frameLive(person, t) {
  const { framer, config: cfg } = state.framing;
  try {
    let pass;
    let detected = false;
    if (!state.track) {
      const d = await framer.detect(person);
      F.decide(d, [person.height, person.width], state.size, cfg, state.category);
      pass = d;
      detected = true;
      state.track = {
        filter: new F.OneEuroFilter({ minCutoff: cfg.one_euro_min_cutoff, beta: cfg.one_euro_beta, dCutoff: cfg.one_euro_d_cutoff }),
        roi0: d.roi,
        anchor: null, // the upper-body frame of the detection
        roi: d.roi,
        bottomCut: d.bottomCut, // the person mask (detection only) left the photo at its bottom edge
      };
    } else {
      pass = await framer.posePass(person, state.track.roi);
      const upper = F.boxKind(cfg, state.category) === 'upper_body';
      if (pass.presence < cfg.track_min_presence || (upper && !F.shouldersSeen(pass.keypoints, cfg))) {
        throw namedError(ErrorName.POSE, 'lost you: step back into view, facing the camera, shoulders visible');
      }
    }
    // Refuses (tracking lost) when the body part the category needs left the frame.
    const frame = F.categoryFrame(pass.keypoints, [person.height, person.width], cfg, state.category,
      state.track.bottomCut);
    // The pose gate (a raised leg, a body turned away) refuses like a lost person: garment hidden. Once hidden, the
    // garment returns only when every signal scores above pose_gate_resume_score (no flicker at the refusal's edge).
    if (!state.poseGate || state.poseGate.cfg !== cfg) state.poseGate = new F.PoseGateHysteresis(cfg);
    state.poseGate.check(pass.keypoints, [person.height, person.width], state.category);
    const [cx, cy, height] = state.track.filter.filter([frame.cx, frame.cy, frame.height], t);
    const box = F.boxFromFrame({ ...frame, cx, cy, height }, state.size, cfg);
    state.track.anchor = state.track.anchor || frame;
    state.track.roi = F.followRoi(state.track.roi0, state.track.anchor, { cx, cy });
    return { state: detected ? 'detected' : 'tracking', box, keypoints: pass.keypoints, presence: pass.presence };
  } catch (err) {
    if (!REFUSALS.has(err.name)) throw err;
    state.track = null;
    state.poseGate?.hide();
    state.live = { grid: null, mask: null };
    return { state: 'lost', reason: err.name, message: err.message };
  }
}

async function run(msg) {
  if (!state.session) throw namedError(ErrorName.BACKEND, 'the model is not loaded (call load() first)');
  // A named category that a student deployed with this one dresses: that student, loaded first.
  const named = normaliseCategory(msg.category ?? state.category);
  if (named !== 'auto' && !state.categories.includes(named)) await switchStudent(named, msg.id);
  // The category this student dresses (refused before any photo is decoded); live frames keep the garment's.
  let category = resolveCategory(msg.category ?? state.category, state.categories);
  if (category !== state.category) state.track = null; // another category frames another box
  state.category = category;
  const t0 = performance.now();
  const timings = {};
  const { image: person, canvas, ctx } = toCanvas(msg.person);
  if (msg.garment) {
    state.garment = null; // a refused garment is never used for later frames
    try {
      state.garment = await prepareGarment(msg.garment, msg.garmentMask, msg.category, msg.id);
    } catch (err) {
      // A live frame's pose refusals hide the garment without an error (frameLive): its refusal stands alone.
      if (msg.live || !state.framing) throw err;
      // A folded garment: the photo is framed as below, and a PoseError names both (StudentRunner.refuse_with_pose).
      throw await C.foldedWithPose(err, () => state.framing.framer.frame(person, state.size, category));
    }
    if (state.garment.switched) { // `auto`: the classified category's student is loaded now
      category = state.garment.switched;
      state.category = category;
      state.track = null;
    }
  }
  if (!state.garment) throw namedError(ErrorName.NOT_AN_IMAGE, 'no garment photo');
  timings.decode = performance.now() - t0;
  const g = state.garment;
  const [h, w] = state.size;
  const [gh, gw] = state.garmentSize;
  const cfg = state.framing?.config;

  // 1. Framing: the upper-body box (refusals throw), or the whole photo letterboxed without framing rules.
  let personLow;
  let pt;
  let box = null;
  let framed = null;
  const tf = performance.now();
  if (state.framing && msg.live) {
    framed = await frameLive(person, (msg.timestamp ?? performance.now()) / 1000);
    box = framed.box || null;
  } else if (state.framing) {
    framed = await state.framing.framer.frame(person, state.size, category);
    box = framed.box;
  } else {
    state.track = null;
  }
  timings.framing = performance.now() - tf;
  if (framed && framed.state === 'lost') { // live mode, no one tracked: the plain frame, garment hidden
    timings.total = performance.now() - t0;
    const bitmap = canvas.transferToImageBitmap();
    post({
      type: Reply.RESULT, id: msg.id, width: person.width, height: person.height, backend: state.backend,
      dtype: state.dtype, timings, bitmap, ms: timings.total,
      framing: { state: 'lost', reason: framed.reason, message: framed.message, box: null },
    }, [bitmap]);
    return;
  }
  if (box) {
    personLow = F.cropToBox(person, box, state.size, 255);
    pt = F.boxTransform(box, state.size);
  } else {
    ({ image: personLow, transform: pt } = P.letterbox(person, state.size, 255));
  }
  const { Tensor } = state.ort;
  const feeds = {
    person: new Tensor('float32', P.toNCHW(personLow), [1, 3, h, w]),
    garment: new Tensor('float32', P.toNCHW(g.low), [1, 3, gh, gw]),
    garment_mask: new Tensor('float32', g.maskLow.data, [1, 1, gh, gw]),
  };
  timings.preprocess = performance.now() - t0;

  // 2. The student (in live mode its live graphs when the manifest has them).
  const t1 = performance.now();
  let outputs;
  let graph = 'student';
  try {
    if (msg.live) {
      const r = await runLive(feeds, msg.id);
      ({ outputs, graph } = r);
      if (r.garmentMs) timings.garment_features = r.garmentMs;
    } else {
      outputs = await state.session.run(feeds);
    }
  } catch (err) {
    if (REFUSALS.has(err.name) || err.name === ErrorName.INTEGRITY || err.name === ErrorName.MANIFEST) throw err;
    throw namedError(ErrorName.INFERENCE, `${state.backend} inference failed: ${err.message}`);
  }
  timings.inference = performance.now() - t1 - (timings.garment_features || 0);

  // 3. Paste-back at the photo's resolution (inside the box only).
  const t2 = performance.now();
  const out = {};
  for (const name of Object.keys(outputs)) out[name] = await outputs[name].getData();
  for (const t of Object.values(outputs)) t.dispose?.(); // read: every later step, a refusal too, uses `out`
  let grid = out.grid;
  let comp = out.composition_mask;
  if (msg.live) { // temporal smoothing of the geometry, so the garment does not flicker between frames
    const alpha = msg.smoothing ?? 0.5;
    state.live.grid = P.ema(state.live.grid, grid, alpha);
    state.live.mask = P.ema(state.live.mask, comp, alpha);
    grid = state.live.grid;
    comp = state.live.mask;
  } else {
    state.live = { grid: null, mask: null };
  }
  // The output gate, on what the student drew before the guard hides any of it (tryon.framing.output_gate_raw).
  // Photos only: a live frame tracked without the segmenter has no person mask to measure against.
  let quality = null;
  if (framed && !msg.live) {
    const raw = G.outputGateRaw(out.composition_mask, personLow, framed.keypoints, box, framed.personLow || null,
      framed.lowScale || 1, state.size, cfg);
    quality = G.outputGateScores(raw, cfg, category);
    if (msg.gate !== false) F.refuseOutputGate(quality, cfg);
  }
  const render = P.fromNCHW(out.tryon, h, w);
  if (framed) { // never the garment on the head or away from the person (tryon.framing.student_guard)
    const guard = G.guardMask(framed.keypoints, box, framed.personLow || null, framed.lowScale || 1, state.size, cfg);
    comp = Float32Array.from(comp);
    for (let i = 0; i < guard.length; i++) {
      const k = guard[i];
      if (k === 0) continue;
      comp[i] *= 1 - k;
      for (let c = 3 * i; c < 3 * i + 3; c++) render.data[c] = Math.round(render.data[c] + k * (personLow.data[c] - render.data[c]));
    }
  }
  pasteInto(ctx, person, g, { grid, comp, render, personLow, box, personTransform: pt });
  timings.pasteback = performance.now() - t2;
  const reply = {
    type: Reply.RESULT, id: msg.id, width: person.width, height: person.height, backend: state.backend,
    dtype: state.dtype, timings, graph, quality,
    framing: framed ? { state: framed.state || 'framed', box, hipsSeen: framed.hipsSeen, presence: framed.presence } : null,
  };
  const transfer = [];
  if (msg.output === 'bitmap') {
    reply.bitmap = canvas.transferToImageBitmap();
    transfer.push(reply.bitmap);
  } else {
    reply.blob = await canvas.convertToBlob({ type: 'image/png' });
  }
  timings.postprocess = performance.now() - t2;
  if (state.debug) { // raw tensors for tests (debug attribute only)
    reply.debug = {
      size: state.size, garmentSize: state.garmentSize,
      feeds: { person: feeds.person.data, garment: feeds.garment.data, garment_mask: feeds.garment_mask.data },
      outputs: out,
      framing: framed ? { box, keypoints: framed.keypoints, presence: framed.presence,
        personFraction: framed.personFraction, face: framed.face } : null,
      garmentMask: g.maskInfo, // how the garment was cut out: {method: 'given'|'cutout'|'segmenter', confidence}
    };
  }
  reply.ms = performance.now() - t0;
  timings.total = reply.ms;
  post(reply, transfer);
}

async function dispose() {
  if (state.session) await state.session.release();
  await releaseLive();
  await releaseFraming();
  await releaseGarmentMasker();
  state.session = null;
  state.garment = null;
}

self.addEventListener('message', (event) => {
  const msg = event.data;
  const handlers = { [Request.INIT]: init, [Request.RUN]: run, [Request.DISPOSE]: dispose };
  const handler = handlers[msg.type];
  // Serialise every request: one session cannot run twice at once.
  state.queue = state.queue.then(async () => {
    try {
      if (!handler) throw namedError('TypeError', `unknown request type ${msg.type}`);
      await handler(msg);
      if (msg.type === Request.DISPOSE) post({ type: Reply.READY, id: msg.id, disposed: true });
    } catch (err) {
      post({
        type: Reply.ERROR, id: msg.id, name: err.name || 'Error', message: err.message || String(err),
        local: Boolean(err.local), fallbacks: err.fallbacks || [], category: err.category || null,
        what: err.what || null, advice: err.advice || null,
        // With `debug`, a refused run still says how its garment was cut out (a person-side refusal may come from
        // a bad cut-out).
        debug: state.debug && msg.type === Request.RUN && state.garment
          ? { garmentMask: state.garment.maskInfo } : null,
      });
    }
  });
});
