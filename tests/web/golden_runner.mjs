// Golden-test runner: applies web/src/processing.js to inputs written by test_processing_golden.py and writes
// the results back as raw little-endian files, so the Python test can compare them with tryon.processing /
// tryon.pasteback on the very same bytes. Usage: node golden_runner.mjs <folder> (reads <folder>/case.json).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as P from '../../web/src/processing.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const u8 = (name) => new Uint8Array(readFileSync(join(dir, name)));
const f32 = (name) => { const b = readFileSync(join(dir, name)); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const img = (name, [h, w]) => ({ data: u8(name), width: w, height: h });
const save = (name, arr) => writeFileSync(join(dir, name), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));

const person = img('person.u8', spec.person_shape);
const garment = img('garment.u8', spec.garment_shape);
const gmask = { data: f32('garment_mask.f32'), width: spec.garment_shape[1], height: spec.garment_shape[0] };
const size = spec.model_size;
const lp = P.letterbox(person, size, 255);
const lg = P.letterbox(garment, size, 255);
const lm = P.letterbox(gmask, size, 0);
save('js_person_low.u8', lp.image.data);
save('js_garment_low.u8', lg.image.data);
save('js_mask_low.f32', lm.image.data);
save('js_person_nchw.f32', P.toNCHW(lp.image));
const render = P.fromNCHW(f32('tryon.f32'), size[0], size[1]);
save('js_render.u8', render.data);
// Paste-back from the Python side's low-resolution inputs, so only paste_back itself is compared.
const out = P.pasteBack(person, garment, {
  grid: f32('grid.f32'), compositionMask: f32('composition_mask.f32'), render: img('py_render.u8', size),
  personLow: img('py_person_low.u8', size), personTransform: spec.person_transform,
  garmentTransform: spec.garment_transform, garmentModelSize: size,
});
save('js_pasted.u8', out.data);
const t0 = performance.now();
const gm = P.garmentMask(garment);
save('js_garment_mask_computed.f32', gm.data);
writeFileSync(join(dir, 'js_meta.json'), JSON.stringify({
  person_transform: lp.transform, garment_transform: lg.transform, mask_transform: lm.transform,
  mask_ms: performance.now() - t0,
}));
