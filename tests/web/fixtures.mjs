// Test data shared by the node tests of web/src (node --test tests/web/ runs only *.test.mjs files).

// A manifest's `framing` as `tryon export` writes it (tryon.framing.FramingConfig defaults): test data.
export const CFG = {
  segmentation_model: 'selfie_segmentation.onnx', pose_model: 'pose_landmark_lite.onnx',
  face_model: 'face_detection_short_range.onnx', face_crop_scales: [1.2, 2.0], face_crop_min_eyes: 6.0,
  min_face_score: 0.6, shoulder_y: 0.33, hip_y: 0.705, centre_x: 0.5, torso_per_shoulder: 1.36,
  min_torso_per_shoulder: 1.0, min_visibility: 0.5, min_person_fraction: 0.01, second_person_ratio: 0.25,
  min_box_height_px: 128, back_view_margin: 0.25, min_front_width: 0.35, mask_threshold: 0.5, track_min_presence: 0.1,
  one_euro_min_cutoff: 1.0, one_euro_beta: 0.01, one_euro_d_cutoff: 1.0, cut_min_bottom_share: 0.02,
  cut_roi_extensions: [1.0, 1.6, 2.4, 3.2], max_proportion_error: 0.5, shoulders_per_ear: 2.38, neck_per_ear: 1.53,
  max_lean_deg: 40.0, guard_person_dilation: 0.06, guard_head_width: 1.5, guard_head_above: 1.3, guard_chin: 0.4,
  guard_feather: 0.03,
};

/** Keypoints (33 × 4) with the given points set (others at the origin, invisible). */
export function keypoints(points) {
  const kp = new Float32Array(33 * 4);
  for (const [i, [x, y, v = 0.99]] of Object.entries(points)) kp.set([x, y, 0, v], 4 * Number(i));
  return kp;
}
// A front-facing upper body: the left shoulder (11) on the image's right.
export const FRONT = { 0: [100, 60], 2: [108, 52], 5: [92, 52], 7: [120, 58], 8: [80, 58], 11: [130, 100],
  12: [70, 100], 23: [120, 260], 24: [80, 260] };

// The peel's thresholds in a manifest's `garment_mask` as `tryon export` writes them
// (tryon.garment.segmenter.browser_rules, from tryon.garment.landmarks_onepiece): test data.
export const PEEL_RULES = {
  fringe_depth: 0.025, fringe_de: 2.5, bleed_l: 2.0, bleed_share: 0.5, bleed_min_chroma: 8.0, bleed_rings: 3,
  shadow_chroma: 4.0, shadow_l: [2.0, 40.0], shadow_apart: 20.0, shadow_below: 0.2, shadow_colours: 6,
  peeled_categories: ['tops', 'one-pieces'],
};
