// Runner of the pose gate for test_pose_gate_parity.py: guard.js's `poseGateScores` and framing.js's
// `refusePoseGate` (at the refusal's and at live mode's resume score) on keypoint sets written by Python.
// Usage: node pose_gate_runner.mjs <folder> (reads <folder>/case.json, writes <folder>/js_result.json).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../web/src/framing.js';
import * as G from '../../web/src/guard.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const cfg = spec.config;
const refusal = (kp, size, minScore) => {
  try { F.refusePoseGate(kp, size, cfg, minScore); return null; } catch (e) { return { error: e.name, message: e.message }; }
};
const result = spec.keypoint_sets.map((s) => {
  const kp = Float32Array.from(s.keypoints);
  return {
    scores: G.poseGateScores(kp, s.image_size, cfg),
    refused: refusal(kp, s.image_size, cfg.pose_gate_min_score),
    refused_live: refusal(kp, s.image_size, cfg.pose_gate_resume_score),
  };
});
writeFileSync(join(dir, 'js_result.json'), JSON.stringify(result));
