// Test runner for web/src/garment-mask.js trimBackdropFringe (the widget's port of the teacher's peel): reads
// <folder>/case.json (written by tests/web/test_peel_parity.py: the manifest's garment_mask rules and the photos'
// shapes), each photo's raw RGB (<name>.u8) and Python's garment mask (<name>.mask.f32), and writes the peeled mask
// (<name>.peeled.f32) and {ms} per photo to <folder>/js.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trimBackdropFringe } from '../../web/src/garment-mask.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const out = {};
for (const [name, { shape: [h, w] }] of Object.entries(spec.photos)) {
  const image = { data: new Uint8Array(readFileSync(join(dir, `${name}.u8`))), width: w, height: h };
  const raw = readFileSync(join(dir, `${name}.mask.f32`));
  const mask = { data: new Float32Array(raw.buffer, raw.byteOffset, w * h), width: w, height: h };
  const t0 = performance.now();
  const peeled = trimBackdropFringe(image, mask, spec.rules).data;
  out[name] = { ms: performance.now() - t0 };
  writeFileSync(join(dir, `${name}.peeled.f32`), Buffer.from(peeled.buffer, peeled.byteOffset, peeled.byteLength));
}
writeFileSync(join(dir, 'js.json'), JSON.stringify(out));
