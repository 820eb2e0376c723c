// Golden-test runner of web/src/framing.js: runs Framer.detect with stub models (their outputs written by
// test_framing_golden.py, the same ones Python's PersonFramer gets), plus decide on keypoint
// sets for each category, and writes every model input it built and every decision back for the Python test to compare.
// Usage: node framing_runner.mjs <folder> (reads <folder>/case.json).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../web/src/framing.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const f32 = (name) => { const b = readFileSync(join(dir, name)); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
const save = (name, arr) => writeFileSync(join(dir, name), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
const [h, w] = spec.image_shape;
const image = { data: new Uint8Array(readFileSync(join(dir, 'image.u8'))), width: w, height: h };

const inputs = { segment: [], pose: [], face: [] };
const poseOutputs = spec.pose_outputs.map((p, i) => ({ landmarks: f32(`pose_${i}.f32`), presence: p.presence }));
const runners = {
  segment: async (x) => { inputs.segment.push(x); return f32('seg_output.f32'); },
  // The stubs answer their outputs in turn, cycling (a cut-off body tries several seed ROIs), as Python's do.
  pose: async (x) => { inputs.pose.push(x); return poseOutputs[(inputs.pose.length - 1) % poseOutputs.length]; },
  face: async (x) => { inputs.face.push(x); return f32(`face_${(inputs.face.length - 1) % spec.face_outputs}.f32`); },
};
const framer = new F.Framer(runners, spec.config);
const d = await framer.detect(image);
inputs.segment.forEach((x, i) => save(`js_seg_in_${i}.f32`, x));
inputs.pose.forEach((x, i) => save(`js_pose_in_${i}.f32`, x));
inputs.face.forEach((x, i) => save(`js_face_in_${i}.f32`, x));
save('js_keypoints.f32', d.keypoints);

const boxes = Object.fromEntries(spec.categories.map((category) => [category, spec.keypoint_sets.map((kp) => {
  try {
    const r = F.decide({ ...kp.detection, keypoints: Float32Array.from(kp.keypoints) }, kp.image_size, spec.model_size,
      spec.config, category);
    return { box: r.box, hips: r.hipsSeen };
  } catch (e) { return { error: e.name }; }
})]));
writeFileSync(join(dir, 'js_result.json'), JSON.stringify({
  person_fraction: d.personFraction, people: d.people, bottom_cut: d.bottomCut, face: d.face, presence: d.presence,
  roi: d.roi, next: d.next, boxes,
}));
