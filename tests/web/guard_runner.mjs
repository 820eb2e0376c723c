// Golden-test runner for web/src/guard.js: reads <folder>/case.json (written by test_guard_golden.py), applies the
// JS functions and writes their results next to it as JSON and raw float32.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as G from '../../web/src/guard.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const b = readFileSync(join(dir, 'low.f32'));
const low = { data: new Float32Array(b.buffer, b.byteOffset, b.length / 4), width: spec.low_shape[1], height: spec.low_shape[0] };
const guard = G.guardMask(spec.keypoints, spec.box, low, spec.low_scale, spec.model_size, spec.framing);
writeFileSync(join(dir, 'js_guard.f32'), Buffer.from(guard.buffer));
writeFileSync(join(dir, 'js.json'), JSON.stringify({
  rois: G.seedRois(low, spec.low_scale, spec.image_size, spec.framing),
  proportion_error: G.proportionError(spec.keypoints, spec.framing),
  lean: G.leanDegrees(spec.keypoints),
}));

// The output gate, when the case carries a composition mask and the person crop.
try {
  const c = readFileSync(join(dir, 'comp.f32'));
  const comp = new Float32Array(c.buffer, c.byteOffset, c.length / 4);
  const crop = { data: new Uint8Array(readFileSync(join(dir, 'crop.u8'))), width: spec.model_size[1], height: spec.model_size[0] };
  const raw = G.outputGateRaw(comp, crop, spec.keypoints, spec.box, low, spec.low_scale, spec.model_size, spec.framing);
  const skin = G.skinPixels(crop, spec.framing);
  writeFileSync(join(dir, 'js_skin.u8'), Buffer.from(skin.buffer));
  writeFileSync(join(dir, 'js_gate.json'), JSON.stringify({ raw, quality: G.outputGateScores(raw, spec.framing, 'tops') }));
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
