"""The teacher end to end: the learned-refiner fallback, and the full pipeline on real photos (realdata)."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.person.labels import LABEL
from tryon.teacher.pipeline import Teacher, TeacherResult


def test_refiner_falls_back_when_disabled_or_unavailable(tmp_path, monkeypatch, caplog):
    import tryon.teacher.refine as refine_mod

    assert Teacher(refine=False).refiner() is None
    # The shipped weights: a learned filler that repaints the hole and nothing else.
    r = Teacher(refine=True).refiner()
    assert isinstance(r, refine_mod.Refiner) and r.weights_path == refine_mod.default_weights_path()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 72, 3), dtype=np.uint8)
    hole = np.zeros((96, 72), bool)
    hole[30:60, 20:50] = True
    filled = r(image, hole)
    assert np.array_equal(filled[~hole], image[~hole]) and not np.array_equal(filled[hole], image[hole])
    # Weights missing or corrupt: the classical fill (None), logged once, never raised.
    for bad in (tmp_path / "missing.pt", tmp_path / "corrupt.pt"):
        if bad.name == "corrupt.pt":
            bad.write_bytes(b"not a torch file")
        monkeypatch.setattr(refine_mod, "default_weights_path", lambda bad=bad: bad)
        t = Teacher(refine=True)
        caplog.clear()
        with caplog.at_level("INFO", logger="tryon.teacher.pipeline"):
            assert t.refiner() is None and t.refiner() is None
        assert sum("learned refiner unavailable" in rec.getMessage() for rec in caplog.records) == 1


@pytest.mark.realdata
@pytest.mark.parametrize("person", ["ootdiffusion__01008_00.jpg", "maple-cpvton__000010_0.jpg"])
def test_teacher_on_real_photos(teacher, vton_samples, person):
    from tryon.processing import load_image

    img = load_image(vton_samples / "person" / person)
    garment = load_image(vton_samples / "garment" / "idm-vton__09166_00.jpg")
    res = teacher.run(img, garment)
    assert isinstance(res, TeacherResult)
    h, w = img.shape[:2]
    assert res.tryon.shape == img.shape and res.tryon.dtype == np.uint8
    assert res.agnostic.shape == img.shape and res.warped_garment.shape == img.shape
    assert res.warped_mask.shape == (h, w) and res.composition_mask.shape == (h, w)
    assert res.grid.shape == (h, w, 2) and res.grid.dtype == np.float32
    assert np.abs(res.grid).max() <= 1.0
    assert res.parse.shape == (h, w) and res.keypoints.shape == (33, 4)
    assert {"person", "garment", "warp", "compose", "total"} <= set(res.timings)
    # Face pixels are never changed.
    face = res.parse == LABEL["face"]
    assert face.sum() > 50
    np.testing.assert_array_equal(res.tryon[face], img[face])
    # The new garment covers the torso between the shoulders (chest band under the shoulder line).
    kp = res.keypoints
    ls, rs = kp[11, :2], kp[12, :2]
    sw = float(np.hypot(*(ls - rs)))
    cx, cy = (ls + rs) / 2
    y0, y1 = int(cy + 0.35 * sw), int(cy + 0.75 * sw)
    x0, x1 = int(cx - 0.3 * sw), int(cx + 0.3 * sw)
    band = res.composition_mask[y0:y1, x0:x1]
    front = np.isin(res.parse[y0:y1, x0:x1], (LABEL["hair"], LABEL["left_arm"], LABEL["right_arm"],
                                                LABEL["left_hand"], LABEL["right_hand"]))
    assert (band[~front] > 0.5).mean() > 0.9
    # The agnostic image hides the old garment in grey where the torso was.
    torso = res.parse == LABEL["torso"]
    assert (res.agnostic[torso] == 128).all(-1).mean() > 0.5


@pytest.mark.realdata
def test_teacher_dresses_a_small_street_person_on_a_crop(teacher, wild_dev):
    """A full-body street photo (550 px wide): the teacher works on the person's crop at about 1024 px high and
    pastes the result back; the street around the person keeps its own pixels and the tee lands on the torso."""
    from tryon.person.body import L_HIP, L_SHOULDER, R_HIP, R_SHOULDER
    from tryon.processing import load_image

    person = load_image(wild_dev / "person" / "ccp__1249.jpg")
    garment = load_image(wild_dev / "garment" / "coobytryon__garment-03-gray-tee.jpg")
    res = teacher.run(person, garment, category="tops")
    assert "paste" in res.timings
    h, w = person.shape[:2]
    assert res.tryon.shape == person.shape and res.composition_mask.shape == (h, w)
    changed = np.abs(res.tryon.astype(int) - person.astype(int)).max(axis=2) > 0
    ys, xs = np.nonzero(changed)
    # Everything changed lies on the person's upper body, nothing at the photo's top corners or feet.
    assert ys.max() < 0.8 * h and not changed[:40, :40].any() and not changed[:40, -40:].any()
    kp = res.keypoints
    cx = int(kp[[L_SHOULDER, R_SHOULDER, L_HIP, R_HIP], 0].mean())
    cy = int(kp[[L_SHOULDER, R_SHOULDER, L_HIP, R_HIP], 1].mean())
    assert res.composition_mask[cy, cx] > 0.5


@pytest.mark.realdata
def test_teacher_dresses_a_long_garment_on_the_whole_photo(teacher, wild_dev):
    """The crop ends at mid-thigh: a one-piece is dressed on the whole photo, never cut at the box's bottom edge."""
    from tryon.processing import load_image

    person = load_image(wild_dev / "person" / "ccp__1689.jpg")
    garment = load_image(wild_dev / "garment" / "tryonstylehub__do3.png")
    res = teacher.run(person, garment, category="one-pieces")
    assert "paste" not in res.timings and res.tryon.shape == person.shape
