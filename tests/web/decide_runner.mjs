// Runner of web/src/framing.js's decisions for test_framing_categories.py: `decide` (every refusal, then the box of
// each category) on keypoint sets the real models found in real photos, with the refusal's name and message.
// Usage: node decide_runner.mjs <folder> (reads <folder>/case.json, writes <folder>/js_result.json).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../web/src/framing.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const result = Object.fromEntries(spec.categories.map((category) => [category, spec.keypoint_sets.map((s) => {
  try {
    const r = F.decide({ ...s.detection, keypoints: Float32Array.from(s.keypoints) }, s.image_size, spec.model_size,
      spec.config, category);
    return { box: r.box, hips: r.hipsSeen };
  } catch (e) { return { error: e.name, message: e.message }; }
})]));
writeFileSync(join(dir, 'js_result.json'), JSON.stringify(result));
