// Test runner for web/src/garment-mask.js with the real segmenter on onnxruntime-web's WASM backend in Node:
// reads <folder>/case.json (written by tests/garment/test_segmenter.py: the exported garment_seg.onnx, the
// manifest's garment_mask and garment_category rules, the photos' raw RGB files and shapes) and writes, per photo,
// the widget's mask (<name>.mask.f32) and {method, confidence, category (category.js with the photo's hanger test),
// categoryMaskOnly (without it)} or the error's {name, message} to <folder>/js.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from '../../web/node_modules/onnxruntime-web/dist/ort.node.min.mjs';
import { classifyGarment } from '../../web/src/category.js';
import { GarmentMasker, hangerAbove } from '../../web/src/garment-mask.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(readFileSync(spec.model), { executionProviders: ['wasm'] });
const segment = async (x, shape) => {
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  return out[session.outputNames[0]].data;
};
const withSegmenter = new GarmentMasker(segment, spec.rules);
const cutoutAlone = new GarmentMasker(null, null);
const out = {};
for (const [name, { shape: [h, w], segmenter }] of Object.entries(spec.photos)) {
  const image = { data: new Uint8Array(readFileSync(join(dir, `${name}.u8`))), width: w, height: h };
  const t0 = performance.now();
  try {
    const r = await (segmenter ? withSegmenter : cutoutAlone).mask(image);
    writeFileSync(join(dir, `${name}.mask.f32`), Buffer.from(r.mask.data.buffer, r.mask.data.byteOffset, r.mask.data.byteLength));
    const ms = performance.now() - t0;
    const classify = (photo) => {
      try { return classifyGarment(r.mask, spec.category_rules, photo).category; } catch (err) { return err.message; }
    };
    out[name] = { method: r.method, confidence: r.confidence, ms,
      category: classify({ hangerAbove: () => hangerAbove(image, r.mask, spec.rules) }), categoryMaskOnly: classify() };
  } catch (err) {
    out[name] = { error: err.name, message: err.message };
  }
}
writeFileSync(join(dir, 'js.json'), JSON.stringify(out));
