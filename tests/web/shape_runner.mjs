// Golden-test runner for web/src/category.js: reads <folder>/case.json (written by test_category_shapes.py: mask
// files, their shapes, the manifest's garment_category, and for some masks the garment photo's raw RGB file) and
// writes what classifyGarment (given the photo when there is one) and refusal say per mask.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyGarment, refusal } from '../../web/src/category.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const out = {};
for (const [name, [h, w]] of Object.entries(spec.masks)) {
  const data = new Uint8Array(readFileSync(join(dir, `${name}.u8`)));
  const photo = (spec.photos || {})[name];
  const image = photo ? { data: new Uint8Array(readFileSync(join(dir, photo))), width: w, height: h } : null;
  const info = classifyGarment({ data, width: w, height: h }, spec.garment_category.rules, { image });
  out[name] = { category: info.category, reason: info.reason, refusal: refusal(info, spec.garment_category.dressed) };
}
writeFileSync(join(dir, 'js.json'), JSON.stringify(out));
