/**
 * The inference worker of `<tryon-widget>`: owns onnxruntime-web and the model session, and does all pixel
 * work (letterbox, garment mask, NCHW, paste-back at full resolution, live-mode smoothing) off the main thread.
 * Speaks the protocol in `protocol.js`; one session per worker; runs are serialised (onnxruntime-web errors on
 * concurrent runs of one session).
 *
 * @module worker
 */

import { chooseFile, defaultThreads, detectWebGPU, planBackends, validateManifest } from './backend.js';
import { fetchModelFile } from './cache.js';
import { ORT_FILES } from './env.js';
import * as P from './processing.js';
import { ErrorName, Reply, Request, namedError } from './protocol.js';

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
  queue: Promise.resolve(),
};

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

/** Pixels of an ImageBitmap (drawn on an OffscreenCanvas) or of an RGB/RGBA buffer, as an RGB image. */
function toRGB(src) {
  if (src instanceof ImageBitmap) {
    const canvas = new OffscreenCanvas(src.width, src.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(src, 0, 0);
    src.close();
    return P.rgbaToRgb(ctx.getImageData(0, 0, canvas.width, canvas.height));
  }
  const data = new Uint8Array(src.data);
  if (src.channels === 4) return P.rgbaToRgb({ data, width: src.width, height: src.height });
  return { data, width: src.width, height: src.height };
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
  const res = await fetch(manifestUrl, { cache: 'no-cache' });
  if (!res.ok) throw namedError(ErrorName.MANIFEST, `model manifest ${manifestUrl}: HTTP ${res.status}`);
  let manifest;
  try { manifest = await res.json(); } catch {
    throw namedError(ErrorName.MANIFEST, `model manifest ${manifestUrl} is not JSON`);
  }
  const { size, garmentSize } = validateManifest(manifest);
  const gpu = await detectWebGPU();
  const { order, skipped } = planBackends(backend, gpu, { rejectFallbackAdapter: msg.rejectFallbackAdapter !== false });
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
      Object.assign(state, {
        session, manifest, backend: candidate, dtype: file.dtype, size, garmentSize,
        inputNames: session.inputNames, garment: null, live: { grid: null, mask: null },
      });
      post({
        type: Reply.READY, id, backend: candidate, dtype: file.dtype, name: manifest.name, version: manifest.version,
        ortVersion: ort.env.versions?.web || '', adapter: gpu.info, inputSize: size, fallbacks,
        threads: ort.env.wasm.numThreads,
      });
      return;
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
 * One warm-up run on WebGPU that also proves the graph runs there. onnxruntime-web's JSEP build does not throw
 * when a WebGPU pipeline fails validation (e.g. a Concat of more inputs than the device's
 * maxStorageBuffersPerShaderStage, or f16 without shader-f16): it returns garbage and the error only reaches
 * the device's `uncapturederror` event. Any such error here rejects WebGPU, and the caller falls back to WASM.
 * The run also compiles the shaders, so the shopper's first try-on is faster.
 */
async function validateWebGPU(ort, session, [h, w], [gh, gw]) {
  const device = await Promise.resolve(ort.env.webgpu?.device);
  const errors = [];
  const onError = (ev) => { errors.push(ev.error?.message || String(ev.error)); ev.preventDefault?.(); };
  device?.addEventListener('uncapturederror', onError);
  try {
    const { Tensor } = ort;
    const outputs = await session.run({
      person: new Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]),
      garment: new Tensor('float32', new Float32Array(3 * gh * gw), [1, 3, gh, gw]),
      garment_mask: new Tensor('float32', new Float32Array(gh * gw).fill(1), [1, 1, gh, gw]),
    });
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

function prepareGarment(garmentSrc, maskSrc) {
  const full = toRGB(garmentSrc);
  const mask = maskSrc ? P.maskFromImage(toRGB(maskSrc)) : P.garmentMask(full);
  if (mask.width !== full.width || mask.height !== full.height) {
    throw namedError(ErrorName.NOT_AN_IMAGE, `the garment mask is ${mask.width}×${mask.height}, the garment photo `
      + `${full.width}×${full.height}: they must have the same size`);
  }
  const { image: low, transform } = P.letterbox(full, state.garmentSize, 255);
  const { image: maskLow } = P.letterbox(mask, state.garmentSize, 0);
  return { full, low, transform, maskLow };
}

async function run(msg) {
  if (!state.session) throw namedError(ErrorName.BACKEND, 'the model is not loaded (call load() first)');
  const t0 = performance.now();
  const timings = {};
  const person = toRGB(msg.person);
  if (msg.garment) state.garment = prepareGarment(msg.garment, msg.garmentMask);
  if (!state.garment) throw namedError(ErrorName.NOT_AN_IMAGE, 'no garment photo');
  const g = state.garment;
  const { image: personLow, transform: pt } = P.letterbox(person, state.size, 255);
  const [h, w] = state.size;
  const [gh, gw] = state.garmentSize;
  const { Tensor } = state.ort;
  const feeds = {
    person: new Tensor('float32', P.toNCHW(personLow), [1, 3, h, w]),
    garment: new Tensor('float32', P.toNCHW(g.low), [1, 3, gh, gw]),
    garment_mask: new Tensor('float32', g.maskLow.data, [1, 1, gh, gw]),
  };
  timings.preprocess = performance.now() - t0;
  const t1 = performance.now();
  let outputs;
  try {
    outputs = await state.session.run(feeds);
  } catch (err) {
    throw namedError(ErrorName.INFERENCE, `${state.backend} inference failed: ${err.message}`);
  }
  timings.inference = performance.now() - t1;
  const t2 = performance.now();
  const out = {};
  for (const name of Object.keys(outputs)) out[name] = await outputs[name].getData();
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
  const render = P.fromNCHW(out.tryon, h, w);
  const pasted = P.pasteBack(person, g.full, {
    grid, compositionMask: comp, render, personLow, personTransform: pt, garmentTransform: g.transform,
    garmentModelSize: state.garmentSize,
  });
  const canvas = new OffscreenCanvas(pasted.width, pasted.height);
  canvas.getContext('2d').putImageData(new ImageData(P.rgbToRgba(pasted), pasted.width, pasted.height), 0, 0);
  timings.postprocess = performance.now() - t2;
  const reply = {
    type: Reply.RESULT, id: msg.id, width: pasted.width, height: pasted.height, backend: state.backend,
    dtype: state.dtype, timings,
  };
  const transfer = [];
  if (msg.output === 'bitmap') {
    reply.bitmap = canvas.transferToImageBitmap();
    transfer.push(reply.bitmap);
  } else {
    reply.blob = await canvas.convertToBlob({ type: 'image/png' });
  }
  if (state.debug) { // raw tensors for tests (debug attribute only)
    reply.debug = {
      size: state.size, garmentSize: state.garmentSize,
      feeds: { person: feeds.person.data, garment: feeds.garment.data, garment_mask: feeds.garment_mask.data },
      outputs: out,
    };
  }
  for (const t of Object.values(outputs)) t.dispose?.();
  reply.ms = performance.now() - t0;
  post(reply, transfer);
}

async function dispose() {
  if (state.session) await state.session.release();
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
        local: Boolean(err.local), fallbacks: err.fallbacks || [],
      });
    }
  });
});
