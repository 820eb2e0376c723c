// Unit tests (node --test tests/web/) of web/src/category.js's refusal of a folded garment photo together with the
// person photo's pose (foldedWithPose, what the worker throws; StudentRunner.refuse_with_pose in Python). The
// combined words are Python's: tests/garment/test_category_browser_rules.py runs alsoFolded against also_folded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as C from '../../web/src/category.js';
import * as F from '../../web/src/framing.js';
import { ErrorName, namedError } from '../../web/src/protocol.js';
import { CFG, FRONT, keypoints } from './fixtures.mjs';

// The framing's settings, keypoints and a front-facing upper body: tests/web/fixtures.mjs.
// Shoulders 30 px apart over a 160-px torso (0.19 < min_front_width): a profile.
const SIDE = { ...FRONT, 11: [115, 100], 12: [85, 100], 23: [108, 260], 24: [92, 260] };
// The left shoulder and hip on the image's left: seen from the back (no face found).
const BACK = { ...FRONT, 11: [70, 100], 12: [130, 100], 23: [80, 260], 24: [120, 260] };

/** The worker's framing of a person photo, on a detection `d` (F.Framer.frame without its models). */
const framing = (d) => async () => F.decide({ people: 1, personFraction: 0.3, face: 0.9, bottomCut: false, ...d },
  [400, 400], [128, 96], CFG, 'tops');
const folded = () => namedError(ErrorName.UNSUPPORTED_CATEGORY, C.laidOutRefusal({ category: 'uncertain', reason: C.FOLDED }));

/** The PoseError the framing throws on its own (what is posted today for a laid-out garment). */
async function poseRefusal(frame) {
  try {
    await frame();
  } catch (err) {
    assert.equal(err.name, ErrorName.POSE);
    return err;
  }
  assert.fail('the framing refused nothing');
}

test('alsoFolded: the pose refusal, ". Also, " and FOLDED_ADVICE', () => {
  assert.equal(C.alsoFolded('the photo seems to show you from the side: use a photo taken from the front'),
    'the photo seems to show you from the side: use a photo taken from the front. Also, this garment is '
    + 'photographed folded, so its sleeves and neckline cannot be read: photograph it laid flat, front view, with its '
    + 'sleeves spread out (or on a hanger), on a plain background, or pick a garment whose photo shows it laid out');
});

test('isFoldedRefusal: the fold\'s UnsupportedCategoryError only', () => {
  assert.ok(C.isFoldedRefusal(folded()));
  assert.ok(!C.isFoldedRefusal(namedError(ErrorName.POSE, C.FOLDED_ADVICE)));
  assert.ok(!C.isFoldedRefusal(namedError(ErrorName.UNSUPPORTED_CATEGORY, C.refusal({ category: 'lower', reason: '' }, ['tops']))));
  assert.ok(!C.isFoldedRefusal(null));
});

for (const [view, points, words] of [['side', SIDE, /from the side/], ['back', BACK, /from the back/]]) {
  test(`a folded garment and a person seen from the ${view}: one PoseError naming both`, async () => {
    const face = view === 'back' ? 0.1 : 0.9;
    const frame = framing({ keypoints: keypoints(points), face });
    const pose = await poseRefusal(frame);
    assert.match(pose.message, words);
    const err = await C.foldedWithPose(folded(), frame);
    assert.equal(err.name, ErrorName.POSE);
    assert.equal(err.name, 'PoseError'); // what the widget shows as a refusal, in its status
    assert.equal(err.message, `${pose.message}. Also, ${C.FOLDED_ADVICE}`);
  });
}

test('a folded garment and a person framed: the fold\'s refusal as it was', async () => {
  const { box } = await framing({ keypoints: keypoints(FRONT) })();
  assert.ok(box.every(Number.isFinite) && box[3] > 0, String(box));
  const refusal = folded();
  assert.equal(await C.foldedWithPose(refusal, framing({ keypoints: keypoints(FRONT) })), refusal);
});

test('a folded garment and no person or several people: the fold\'s refusal as it was', async () => {
  for (const [d, name] of [[{ personFraction: 0 }, ErrorName.NO_PERSON], [{ people: 2 }, ErrorName.MULTIPLE_PEOPLE],
    [{ face: 0.1 }, ErrorName.NO_PERSON]]) {
    const frame = framing({ keypoints: keypoints(FRONT), ...d });
    await assert.rejects(frame, (e) => e.name === name);
    const refusal = folded();
    assert.equal(await C.foldedWithPose(refusal, frame), refusal, name);
  }
});

test('a folded garment and a framing that breaks: the fold\'s refusal, with a warning', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const refusal = folded();
  const broken = async () => { throw namedError(ErrorName.INFERENCE, 'wasm inference failed'); };
  assert.equal(await C.foldedWithPose(refusal, broken), refusal);
  assert.equal(warn.mock.callCount(), 1);
});

test('any other refusal is returned at once, the person not framed', async () => {
  let framed = 0;
  const frame = async () => { framed += 1; throw namedError(ErrorName.POSE, 'the shoulders are not in view'); };
  const other = namedError(ErrorName.UNSUPPORTED_CATEGORY, C.refusal({ category: 'lower', reason: '' }, ['tops']));
  const busy = namedError(ErrorName.BUSY_BACKGROUND, 'the garment photo has no plain background');
  for (const refusal of [other, busy]) assert.equal(await C.foldedWithPose(refusal, frame), refusal);
  assert.equal(framed, 0);
  const err = await C.foldedWithPose(folded(), frame); // any PoseError of the framing counts, not only the views
  assert.equal(err.message, `the shoulders are not in view. Also, ${C.FOLDED_ADVICE}`);
  assert.equal(framed, 1);
});
