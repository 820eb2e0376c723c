// Unit tests (node --test tests/web/) of the widget's pure modules: backend choice, manifest checks,
// protocol constants and processing helpers. The browser behaviour is covered by tests/e2e.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chooseFile, defaultThreads, explainNetworkError, planBackends, validateManifest,
} from '../../web/src/backend.js';
import { pinnedUrl, sha256Hex } from '../../web/src/cache.js';
import * as P from '../../web/src/processing.js';
import { BACKENDS, ErrorName, Reply, Request } from '../../web/src/protocol.js';

const gpu = (o = {}) => ({ available: true, shaderF16: false, isFallbackAdapter: false, reason: '', ...o });
const manifest = (dtypes) => ({
  files: dtypes.map((d) => ({ dtype: d, path: d === 'fp32' ? 'model.onnx' : `model_${d}.onnx`, sha256: 'x', bytes: 1 })),
});

test('auto tries WebGPU then WASM', () => {
  assert.deepEqual(planBackends('auto', gpu()).order, ['webgpu', 'wasm']);
});

test('auto skips a software WebGPU adapter, an explicit webgpu does not', () => {
  const sw = gpu({ isFallbackAdapter: true });
  const auto = planBackends('auto', sw);
  assert.deepEqual(auto.order, ['wasm']);
  assert.equal(auto.skipped[0].backend, 'webgpu');
  assert.deepEqual(planBackends('webgpu', sw).order, ['webgpu', 'wasm']);
  assert.deepEqual(planBackends('auto', sw, { rejectFallbackAdapter: false }).order, ['webgpu', 'wasm']);
});

test('no WebGPU: WASM only, with the reason', () => {
  const plan = planBackends('auto', { available: false, reason: 'this browser has no WebGPU' });
  assert.deepEqual(plan.order, ['wasm']);
  assert.match(plan.skipped[0].reason, /no WebGPU/);
  assert.deepEqual(planBackends('wasm', gpu()).order, ['wasm']);
});

test('fp16 only with shader-f16 and measured (or alone); int8 only on WASM', () => {
  const m = manifest(['fp32', 'fp16', 'int8']);
  assert.equal(chooseFile(m, 'webgpu', gpu()).dtype, 'fp32');
  assert.equal(chooseFile(m, 'webgpu', gpu({ shaderF16: true })).dtype, 'fp32'); // unmeasured: fp32
  const measured = { ...m, preferred_dtype: { webgpu: 'fp16' } };
  assert.equal(chooseFile(measured, 'webgpu', gpu({ shaderF16: true })).dtype, 'fp16');
  assert.equal(chooseFile(measured, 'webgpu', gpu()).dtype, 'fp32');
  assert.equal(chooseFile(manifest(['fp16']), 'webgpu', gpu({ shaderF16: true })).dtype, 'fp16');
  assert.equal(chooseFile(m, 'wasm', gpu({ shaderF16: true })).dtype, 'int8');
  assert.equal(chooseFile(manifest(['fp32']), 'wasm', gpu()).dtype, 'fp32');
  assert.throws(() => chooseFile(manifest(['int8']), 'webgpu', gpu()), { name: ErrorName.MANIFEST });
});

test('WASM runs the quantized file the manifest lists, under either int8 name', () => {
  // `tryon quantize --mode dynamic` (what `make setup` ships) lists the file as int8_dynamic.
  const dynamic = manifest(['fp32', 'fp16', 'int8_dynamic']);
  assert.equal(chooseFile(dynamic, 'wasm', gpu()).path, 'model_int8_dynamic.onnx');
  assert.equal(chooseFile(dynamic, 'webgpu', gpu()).dtype, 'fp32');
  assert.equal(chooseFile(dynamic, 'webgpu', gpu({ shaderF16: true })).dtype, 'fp32');
  // Both quantized files: the calibrated static QDQ one first.
  assert.equal(chooseFile(manifest(['fp32', 'int8_dynamic', 'int8']), 'wasm', gpu()).dtype, 'int8');
  assert.equal(chooseFile(manifest(['int8_dynamic']), 'wasm', gpu()).dtype, 'int8_dynamic');
  assert.throws(() => chooseFile(manifest(['int8_dynamic']), 'webgpu', gpu()), { name: ErrorName.MANIFEST });
});

test('a measured preference in the manifest wins where it fits the backend', () => {
  // `tryon quantize` / `tryon bench-browser` record manifest.preferred_dtype[backend]: fp32 unless a quantized
  // file was at least as fast at equal quality there.
  const m = { ...manifest(['fp32', 'fp16', 'int8', 'int8_dynamic']), preferred_dtype: { wasm: 'fp32', webgpu: 'fp32' } };
  assert.equal(chooseFile(m, 'wasm', gpu()).dtype, 'fp32');
  assert.equal(chooseFile(m, 'webgpu', gpu({ shaderF16: true })).dtype, 'fp32');
  const dyn = { ...manifest(['fp32', 'int8', 'int8_dynamic']), preferred_dtype: { wasm: 'int8_dynamic' } };
  assert.equal(chooseFile(dyn, 'wasm', gpu()).dtype, 'int8_dynamic');
  // fp16 runs on WASM (onnxruntime-web upcasts it): taken there only when measured fastest.
  const f16wasm = { ...manifest(['fp32', 'fp16', 'int8_dynamic']), preferred_dtype: { wasm: 'fp16' } };
  assert.equal(chooseFile(f16wasm, 'wasm', gpu()).dtype, 'fp16');
  assert.equal(chooseFile(manifest(['fp32', 'fp16']), 'wasm', gpu()).dtype, 'fp32');
  // Ignored where it cannot apply: fp16 without shader-f16, int8 on WebGPU, a file that is not listed.
  const f16 = { ...manifest(['fp32', 'fp16']), preferred_dtype: { webgpu: 'fp16', wasm: 'int8' } };
  assert.equal(chooseFile(f16, 'webgpu', gpu()).dtype, 'fp32');
  assert.equal(chooseFile(f16, 'wasm', gpu()).dtype, 'fp32');
  const i8 = { ...manifest(['fp32', 'int8']), preferred_dtype: { webgpu: 'int8' } };
  assert.equal(chooseFile(i8, 'webgpu', gpu({ shaderF16: true })).dtype, 'fp32');
});

test('WASM threads: 1 without isolation, else half the cores, at least 2 and at most 4', () => {
  assert.deepEqual([1, 2, 3, 4, 8, 16].map((n) => defaultThreads(false, n)), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual([1, 2, 3, 4, 8, 16].map((n) => defaultThreads(true, n)), [1, 2, 2, 2, 4, 4]);
  assert.equal(defaultThreads(true, undefined), 1);
});

test('a network error on another origin whose host answers is explained as CORS', async () => {
  const calls = [];
  const up = async (url, init) => { calls.push([url, init.method]); return { ok: true }; };
  const down = async () => { throw new TypeError('Failed to fetch'); };
  const opts = (f) => ({
    pageOrigin: 'http://shop.test:5000', publicUrl: 'http://tryon.test:8000/src/tryon-widget.js', what: 'the model',
    fetch: f,
  });
  const err = await explainNetworkError('http://tryon.test:8000/models/manifest.json', opts(up));
  assert.equal(err.name, ErrorName.CORS);
  assert.match(err.message, /--cors-origin http:\/\/shop\.test:5000$/);
  assert.match(err.message, /the model from http:\/\/tryon\.test:8000/);
  assert.deepEqual(calls, [['http://tryon.test:8000/src/tryon-widget.js', 'HEAD']]);
  // The host does not answer at all, the URL is the page's own origin, or another host: not CORS.
  assert.equal(await explainNetworkError('http://tryon.test:8000/models/manifest.json', opts(down)), null);
  assert.equal(await explainNetworkError('http://shop.test:5000/m.json', opts(up)), null);
  assert.equal(await explainNetworkError('http://cdn.test/m.json', opts(up)), null);
});

test('manifest validation names the missing tensors', () => {
  const t = (name, shape) => ({ name, shape });
  const good = {
    inputs: [t('person', [1, 3, 256, 192]), t('garment', [1, 3, 256, 192]), t('garment_mask', [1, 1, 256, 192])],
    outputs: [t('tryon', [1, 3, 256, 192]), t('grid', [1, 256, 192, 2]), t('composition_mask', [1, 1, 256, 192])],
    files: [],
  };
  assert.deepEqual(validateManifest(good), { size: [256, 192], garmentSize: [256, 192] });
  assert.throws(() => validateManifest({ ...good, outputs: good.outputs.slice(1) }), /missing tryon/);
});

test('the worker answers each request by id, in order, with the protocol\'s reply types', async () => {
  // worker.js as it runs in a Worker: `self` receives 'message' events and has postMessage.
  const replies = [];
  const target = new EventTarget();
  target.postMessage = (m) => replies.push(m);
  globalThis.self = target;
  try {
    await import('../../web/src/worker.js');
    const send = (data) => target.dispatchEvent(Object.assign(new Event('message'), { data }));
    send({ type: 'bogus', id: 1 });
    send({ type: Request.RUN, id: 2 }); // before init: no model
    send({ type: Request.DISPOSE, id: 3 });
    for (let i = 0; i < 50 && replies.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    delete globalThis.self;
  }
  assert.deepEqual(replies.map((r) => [r.id, r.type]), [[1, Reply.ERROR], [2, Reply.ERROR], [3, Reply.READY]]);
  assert.match(replies[0].message, /unknown request type bogus/);
  assert.equal(replies[2].disposed, true);
  for (const r of replies) assert.ok(Object.values(Reply).includes(r.type));
  // The widget offers the backends in the order planBackends tries them, the server last.
  assert.deepEqual(planBackends('auto', gpu()).order, BACKENDS.filter((b) => b !== 'server'));
});

test('sha256 and pinned URLs', async () => {
  assert.equal(await sha256Hex(new TextEncoder().encode('abc')),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(pinnedUrl('http://x/models/model.onnx', 'ab'.repeat(32)), `http://x/models/model.onnx?v=${'ab'.repeat(8)}`);
});

test('round half to even matches Python', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(P.roundHalfEven), [0, 2, 2, -0, 2, 3]);
});

test('letterbox keeps the aspect and centres', () => {
  const img = { data: new Uint8Array(100 * 50 * 3).fill(10), width: 50, height: 100 };
  const { image, transform } = P.letterbox(img, [64, 48]);
  assert.equal(image.width, 48);
  assert.equal(image.height, 64);
  assert.equal(image.data[0], 255); // padding column on the left
  assert.equal(image.data[(32 * 48 + 24) * 3], 10);
  assert.equal(transform[0], 32 / 50);
});

test('ema smooths and restarts on a size change', () => {
  const a = P.ema(null, Float32Array.of(0, 0), 0.5);
  assert.deepEqual(Array.from(P.ema(a, Float32Array.of(2, 4), 0.5)), [1, 2]);
  assert.deepEqual(Array.from(P.ema(a, Float32Array.of(1, 1, 1), 0.5)), [1, 1, 1]);
});

test('garment mask: flood fill keeps a white logo inside the garment, refuses a busy background', () => {
  const w = 64;
  const h = 64;
  const data = new Uint8Array(w * h * 3).fill(255);
  for (let y = 16; y < 48; y++) {
    for (let x = 16; x < 48; x++) {
      const inner = x >= 28 && x < 36 && y >= 28 && y < 36; // white patch enclosed by the garment
      data.fill(inner ? 255 : 30, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  const m = P.garmentMask({ data, width: w, height: h });
  assert.ok(m.data[32 * w + 32] > 0.99, 'enclosed white stays garment');
  assert.ok(m.data[2 * w + 2] < 0.01, 'background is 0');
  const noisy = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7919) % 256);
  assert.throws(() => P.garmentMask({ data: noisy, width: w, height: h }), { name: 'BusyBackgroundError' });
});

test('runOnServer deletes the result from the server once it has it', async () => {
  const { runOnServer } = await import('../../web/src/backend.js');
  const calls = [];
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const sent = [];
  const fake = async (url, init = {}) => {
    calls.push([String(url), init.method || 'GET']);
    if (String(url).endsWith('/v1/run')) {
      sent.push(init.body.get('category'));
      return new Response(JSON.stringify({ id: 'a'.repeat(32), status: 'completed', output: [png], metrics: {} }),
        { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (String(url).startsWith('data:')) return new Response(new Blob([new Uint8Array([1, 2])]));
    return new Response(null, { status: 204 });
  };
  const out = await runOnServer('http://api.test/', new Blob(['p']), new Blob(['g']), { fetch: fake });
  assert.equal(out.id, 'a'.repeat(32));
  assert.deepEqual(calls.at(-1), [`http://api.test/v1/status/${'a'.repeat(32)}`, 'DELETE']);
  // The element's category goes to the server as it is: `auto` lets the server's classifier refuse a non-top.
  await runOnServer('http://api.test/', new Blob(['p']), new Blob(['g']), { fetch: fake, category: 'tops' });
  assert.deepEqual(sent, ['auto', 'tops']);
});
