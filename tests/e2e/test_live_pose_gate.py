"""Live mode's pose refusals on Chromium's fake camera: a clip made at test time from two real photos (a person
standing, from ``../shared/data/wild-dev``, then a side-on mid-air kick from ``../shared/data/more-photos/econ-icon``;
read, never committed), looped by the browser. The kick must hide the garment like a lost person (no try-on, the
frame's message says what to change), never dressed; the standing person must be dressed again after it. Its
raised leg was refused by the pose gate; since session 20 the framing refuses it first, as a side view.
"""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.browser

STANDING = "wild-dev/person/ujjwalvton__original-3.jpg"  # waist-up, dressed in test_live_framing.py
JUMP = "more-photos/econ-icon/person/6f0029a9592a11530267b3a51413ae74.jpg"  # refused in Python: seen from the side
REFUSAL = "from the side"
CAMERA = (480, 640)  # (height, width)
FPS = 1  # slow enough that a loaded CI machine still sees both parts of the clip
STANDING_SECONDS, JUMP_SECONDS = 14.0, 10.0

LIVE_JS = """async ([timeoutMs, refusal]) => {
  const w = document.querySelector('tryon-widget');
  const frames = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  w.addEventListener('live-frame', (e) => {
    const d = e.detail;
    frames.push({state: d.state, box: d.box, reason: d.reason, message: d.message,
                 inference: d.timings?.inference ?? null,
                 status: w.shadowRoot.querySelector('[role=status]').textContent});
    // Enough once the jump was refused after a dressed frame and the standing person was dressed again after it.
    const dressed = (f) => f.inference !== null;
    const refused = frames.findIndex((f, i) => i > frames.findIndex(dressed) && frames.findIndex(dressed) >= 0
      && (f.message || '').includes(refusal));
    if (refused > 0 && frames.slice(refused).some(dressed)) done();
  });
  await w.startLive();
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  w.stopLive();
  return frames;
}"""


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory, wild_dev):
    from tryon.cli.bench_browser import camera_clip as clip, camera_frame, write_y4m
    from tryon.processing import load_image

    jump = wild_dev.parent / JUMP
    if not jump.exists():
        pytest.skip(f"{jump} is absent")
    standing, _ = camera_frame(load_image(wild_dev.parent / STANDING), CAMERA)
    jumping, _ = camera_frame(load_image(jump), CAMERA)
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    frames = itertools.chain(clip(standing, person_seconds=STANDING_SECONDS, fps=FPS, noise=3.0),
                             clip(jumping, person_seconds=JUMP_SECONDS, fps=FPS, noise=3.0, seed=1))
    write_y4m(path, frames, fps=FPS)
    return path, jumping


def test_live_mode_hides_the_garment_during_a_jump(camera_clip, framed_site, framed_student_dir,
                                                    camera_demo_page) -> None:
    import json

    from tryon.errors import PoseError
    from tryon.framing import FramingConfig, PersonFramer

    cfg = FramingConfig.from_dict(json.loads((framed_student_dir / "manifest.json").read_text())["framing"])
    with pytest.raises(PoseError, match=REFUSAL):  # Python refuses the jump frame itself
        PersonFramer(framed_student_dir, cfg, threads=1)(camera_clip[1], (256, 192))
    with camera_demo_page(framed_site, camera_clip[0]) as page:
        frames = page.evaluate(LIVE_JS, [360_000, REFUSAL])
    print("\nstates:", " ".join(f["state"][0] + ("J" if REFUSAL in (f["message"] or "") else "")
                                for f in frames), f"({len(frames)} frames)")
    first_dressed = next(i for i, f in enumerate(frames) if f["inference"] is not None)
    jump = [i for i, f in enumerate(frames) if i > first_dressed and REFUSAL in (f["message"] or "")]
    assert jump, f"the jump was never refused by the pose gate: {[(f['state'], f['reason']) for f in frames]}"
    for i in jump:  # hidden like a lost person: no try-on, no box, the frame's message says what to change
        f = frames[i]
        assert f["state"] == "lost" and f["reason"] == "PoseError", f
        assert f["inference"] is None and f["box"] is None, f
        assert "taken from the front" in f["message"], f["message"]
        # The status region announces changes only (aria-live): it keeps the first loss's message.
        assert "paused" in f["status"].lower(), f["status"]
    assert any(f["inference"] is not None for f in frames[jump[-1]:]), "not dressed again after the jump"
