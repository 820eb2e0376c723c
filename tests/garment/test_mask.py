"""Garment mask on plain backgrounds (incl. white on white), busy-background rejection, real-data IoU."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tryon.errors import BusyBackgroundError
from tryon.garment import catalogue
from tryon.garment.mask import garment_mask


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize("name", catalogue.list_garments())
def test_catalogue_masks(name):
    img, truth = catalogue.render_garment(name, size=(512, 384))
    m = garment_mask(img)
    assert m.shape == truth.shape and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    assert _iou(m, truth) > 0.93  # white-crew-tee is white on white


def test_coloured_studio_background():
    img, truth = catalogue.render_garment("white-crew-tee", size=(512, 384))
    bg = np.array([120, 170, 210], np.float32)  # light blue paper
    a = truth[..., None]
    shaded = img.astype(np.float32) * a + bg * (1 - a)
    assert _iou(garment_mask(shaded.astype(np.uint8)), truth) > 0.93


# learned=None: a border that fails the plain test may go to the learned segmenter when smooth; texture may not.
@pytest.mark.parametrize("learned", [False, None])
def test_busy_background_raises(learned):
    rng = np.random.default_rng(0)
    img, _ = catalogue.render_garment("graphic-print-tee", size=(512, 384))
    noise = rng.integers(0, 255, img.shape, dtype=np.uint8)
    busy = np.where(img.mean(axis=2, keepdims=True) > 235, noise, img).astype(np.uint8)
    with pytest.raises(BusyBackgroundError, match="background"):
        garment_mask(busy, learned=learned)


def test_plain_image_without_garment_raises():
    with pytest.raises(BusyBackgroundError, match="no garment"):
        garment_mask(np.full((400, 300, 3), 245, np.uint8))


def test_speed_768x1024():
    img, _ = catalogue.render_garment("navy-striped-longsleeve")
    garment_mask(img)
    t = time.perf_counter()
    garment_mask(img)
    # 200 ms target on one free core; generous here because the test machine is shared.
    assert time.perf_counter() - t < 0.6


# The classical cut-out alone (the combined mask: tests/garment/test_segmenter.py).
# Measured 2026-11 on the 27 masks: mean IoU 0.78, min 0.15 (maple-cpvton 000013: a white tee invisible on white,
# its ground truth holds only the printed text). Floors are the measurement minus a margin.
@pytest.mark.realdata
def test_realdata_iou(vton_samples):
    from tryon.processing import load_image

    gt_dir = vton_samples / "garment_mask"
    ious = []
    for p in sorted(gt_dir.iterdir()):
        gt = load_image(p, min_side=1).mean(axis=2) > 127
        img = load_image(vton_samples / "garment" / p.name, min_side=1)
        ious.append(_iou(garment_mask(img, learned=False), gt.astype(np.float32)))
    assert len(ious) == 27
    assert np.mean(ious) > 0.74
    assert np.min(ious) > 0.10
    assert np.median(ious) > 0.8


@pytest.mark.realdata
def test_realdata_busy_background(vton_samples):
    from tryon.processing import load_image

    # magicclothing t3: a polo on grey concrete; t4: a shirt on a textured backdrop.
    for name in ("magicclothing__t3.jpg", "magicclothing__t4.jpg"):
        with pytest.raises(BusyBackgroundError):
            garment_mask(load_image(vton_samples / "garment" / name))


def _slotted_longsleeve(h: int = 512, w: int = 384) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark long-sleeve top on white whose cuffs touch the hem, enclosing a background slot under each
    arm, with a background-coloured print patch on the chest. Returns (image, slots, print) masks as bool."""
    import cv2

    g = np.zeros((h, w), np.uint8)
    cv2.fillPoly(g, [np.array([[150, 60], [234, 60], [300, 90], [350, 420], [300, 440], [84, 440], [34, 420],
                               [84, 90]], np.int32)], 1)
    slots = np.zeros((h, w), np.uint8)
    for pts in ([[100, 170], [114, 170], [116, 400], [86, 400]], [[284, 170], [270, 170], [268, 400],
                                                                     [298, 400]]):
        cv2.fillPoly(slots, [np.array(pts, np.int32)], 1)
    cv2.ellipse(g, (192, 60), (40, 26), 0, 0, 180, 0, -1)
    prt = np.zeros((h, w), np.uint8)
    prt[150:200, 170:215] = 1
    img = np.full((h, w, 3), 245, np.uint8)
    img[g.astype(bool)] = (40, 40, 60)
    img[(g & slots).astype(bool)] = 245
    img[prt.astype(bool)] = 245
    return img, (g & slots).astype(bool), prt.astype(bool)


def test_slots_between_sleeve_and_torso_stay_background():
    img, slots, prt = _slotted_longsleeve()
    m = garment_mask(img) > 0.5
    core = cv2_erode(slots)
    assert m[core].mean() < 0.05          # the enclosed slots under the arms are background seen through
    assert m[prt].mean() > 0.95           # a background-coloured print in the middle is still garment


def cv2_erode(b: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.erode(b.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)


def _on_hanger(name: str, size=(1024, 768)):
    """:func:`tryon.garment.catalogue.render_on_hanger` with the garment's true landmarks: (photo, mask, landmarks)."""
    return (*catalogue.render_on_hanger(name, size), catalogue.render_garment_landmarks(name, size=size))


@pytest.mark.parametrize("name", ["navy-striped-longsleeve", "graphic-print-tee"])
def test_hanger_is_taken_out(name):
    """The hanger's bar and hook above the neckline are not garment: the mask and the neck points return to the
    garment's own (they sat on the hanger's apex before :func:`drop_hanger`)."""
    from tryon.garment.category import classify_garment
    from tryon.garment.landmarks import garment_landmarks

    img, truth, lm = _on_hanger(name)
    kept = garment_mask(img, drop_hangers=False)
    m = garment_mask(img)
    above = np.zeros_like(truth, bool)
    above[: int(lm["neck_left"][1]) - 5] = True  # everything above the neckline is hanger
    assert (kept[above] > 0.5).sum() > 500  # the cut-out alone keeps the hanger
    assert (m[above] > 0.5).sum() < 0.05 * (kept[above] > 0.5).sum()
    assert _iou(m, truth) > max(0.92, _iou(kept, truth) + 0.05)  # the bar hides a little of the shoulders
    info = classify_garment(img, m)
    assert info.category == "top", info
    got = garment_landmarks(img, m, info)
    for k in ("neck_left", "neck_right"):
        assert abs(got[k][1] - lm[k][1]) < 40, (k, got[k], lm[k])


def test_a_hook_the_mask_filled_is_taken_out_with_the_bar():
    """A segmenter's blurry mask fills the hook's loop: a blob a tenth of the garment wide stands on the bar, and
    the narrow opening took the blob for the bar (nothing above it). The wider opening finds the bar under it, the
    blob goes, and a second pass takes the bar whose colour the hook's stem hid (the mask as a segmenter gives it,
    with a halo round the hanger: wild-dev women-15)."""
    import cv2

    from tryon.garment.mask import drop_hanger

    img, truth, lm = _on_hanger("graphic-print-tee")
    ys = np.nonzero(truth > 0.5)[0]
    gh = ys.max() - ys.min()
    cx = int((lm["neck_left"][0] + lm["neck_right"][0]) / 2)
    apex_y = int(lm["neck_left"][1] - 0.2 * gh)
    hanger = np.zeros_like(truth, np.uint8)
    bar = np.array([lm["shoulder_right"], (cx, apex_y), lm["shoulder_left"]], np.int32)
    cv2.polylines(hanger, [bar], False, 1, int(0.035 * gh))
    cv2.circle(hanger, (cx + int(0.02 * gh), apex_y - int(0.07 * gh)), int(0.05 * gh), 1, -1)   # the filled hook
    halo = int(0.025 * gh) | 1                                # the blurry mask's halo round the hanger, as on women-15
    mask = np.maximum(truth, cv2.dilate(hanger, np.ones((halo, halo), np.uint8))).astype(np.float32)
    out = drop_hanger(img, mask)
    above = np.zeros_like(truth, bool)
    above[: int(lm["neck_left"][1]) - 5] = True
    assert (mask[above] > 0.5).sum() > 2000
    assert (out[above] > 0.5).sum() < 0.1 * (mask[above] > 0.5).sum()
    assert (out[truth > 0.5] > 0.5).mean() > 0.97


def test_collar_without_a_hook_is_kept():
    """A dark stand collar rising above a light body at the centre line, with nothing above it, is garment."""
    import cv2

    img, truth, lm = _on_hanger("graphic-print-tee")
    clean, truth = catalogue.render_garment("graphic-print-tee", size=(1024, 768))
    clean = clean.copy()
    truth = truth.copy()
    cx = int((lm["neck_left"][0] + lm["neck_right"][0]) / 2)
    top = int(lm["neck_left"][1])
    collar = np.array([(cx - 60, top + 10), (cx - 30, top - 70), (cx + 30, top - 70), (cx + 60, top + 10)], np.int32)
    cv2.fillPoly(clean, [collar], (40, 40, 40))
    cv2.fillPoly(truth, [collar], 1.0)
    m = garment_mask(clean)
    assert np.array_equal(m, garment_mask(clean, drop_hangers=False))
    assert _iou(m, truth) > 0.93


@pytest.mark.realdata
def test_realdata_hangers(wild_dev, vton_samples):
    """Judged by eye: the blouses on wooden hangers lose the hanger (and the backdrop it walls off at the neck),
    women-15's too, whose hook the segmenter's mask kept as a filled blob; tops without one, zip-jacket collars and
    hoods included, keep their masks exactly."""
    from tryon.processing import load_image

    for name in ("dewbm__women-13.jpeg", "dewbm__women-14.jpeg", "dewbm__women-15.jpeg", "dewbm__women-16.jpeg"):
        img = load_image(wild_dev / "garment" / name)
        kept, m = garment_mask(img, drop_hangers=False) > 0.5, garment_mask(img) > 0.5
        xs = np.nonzero(kept.any(axis=0))[0]
        mid = slice(int(xs.mean()) - 10, int(xs.mean()) + 11)  # the centre line: the hanger's apex

        top_kept, top_m = (int(np.nonzero(a[:, mid].any(axis=1))[0][0]) for a in (kept, m))
        assert top_m - top_kept > 0.05 * kept.any(axis=1).sum(), name
    for folder, name in ((wild_dev, "tryonstylehub__do4.png"), (wild_dev, "page0526vton__shop1.png"),
                         (wild_dev, "maftulivtryon__samples-2.jpg"), (wild_dev, "ominicontrol__tshirt.jpg"),
                         (vton_samples, "maple-cpvton__000003_1.jpg")):
        img = load_image(folder / "garment" / name)
        assert np.array_equal(garment_mask(img), garment_mask(img, drop_hangers=False)), name


def _cami(h: int = 640, w: int = 480, *, weave: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A red camisole on white whose thin straps leave each cup and come back to the armhole, walling off a
    wedge of the backdrop beside each cup. ``weave`` > 0 makes the wedges white fabric (lightness noise of that
    sigma) instead of backdrop. Returns (image, wedges) with wedges (H, W) bool."""
    import cv2

    g = np.zeros((h, w), np.uint8)
    cv2.fillPoly(g, [np.array([[130, 200], [200, 160], [240, 200], [280, 160], [350, 200], [360, 600],
                               [120, 600]], np.int32)], 1)
    wedges = np.zeros((h, w), np.uint8)
    for top, low, cup in (((150, 40), (124, 260), (190, 166)), ((330, 40), (356, 260), (290, 166))):
        cv2.line(g, top, low, 1, 7)                 # the strap, down to the armhole
        cv2.line(g, top, cup, 1, 7)                 # ... and its other leg, to the cup
        cv2.fillPoly(wedges, [np.array([top, low, cup], np.int32)], 1)
    wedges = cv2.erode(wedges, np.ones((9, 9), np.uint8)).astype(bool) & ~g.astype(bool)
    img = np.full((h, w, 3), 246, np.uint8)
    img[g.astype(bool)] = (190, 70, 60)
    if weave:
        noise = np.random.default_rng(0).normal(0, weave, (h, w, 1))
        img[wedges] = np.clip(246 + noise[wedges], 0, 255).astype(np.uint8)
    return img, wedges


def test_a_camisoles_strap_loops_are_backdrop():
    """The backdrop a strap walls off beside the cup is not garment (warped, it was a white triangle on each
    shoulder); the cut-out's own working resolution is too coarse to see it, the full-resolution pass does."""
    img, wedges = _cami()
    m = garment_mask(img) > 0.5
    assert m[wedges].mean() < 0.05
    assert m[:, :][img[..., 1] < 100].mean() > 0.95   # the straps and the body stay


def test_white_fabric_inside_a_strap_loop_is_kept():
    """The same wedges filled with white fabric (its weave visible) are garment: only backdrop as smooth as the
    border's paper is given back."""
    img, wedges = _cami(weave=4.0)
    m = garment_mask(img) > 0.5
    assert m[wedges].mean() > 0.95


@pytest.mark.realdata
def test_realdata_strap_loops(wild_dev, vton_samples):
    """Judged by eye on every garment of ../shared and wild-dev: the strap loops of two camisoles and a crop top
    go back to the backdrop (their masks, holes filled as the cut-out fills them, lose 0.5-2 %); a striped
    blouse's white stripes at the shoulder, walled by thin black ones, stay garment."""
    from scipy.ndimage import binary_fill_holes

    from tryon.garment.mask import drop_strap_loops
    from tryon.processing import load_image

    for folder, name in ((wild_dev, "imagdressing__4.jpg"), (vton_samples, "ootdiffusion__048769_1.jpg"),
                         (vton_samples, "ootdiffusion__02015_00.jpg")):
        img = load_image(folder / "garment" / name)
        filled = binary_fill_holes(garment_mask(img, learned=False) > 0.5).astype(np.float32)
        lost = ((filled > 0.5) & (drop_strap_loops(img, filled) < 0.5)).sum() / filled.sum()
        assert 0.003 < lost < 0.03, (name, lost)
    img = load_image(vton_samples / "garment" / "idm-vton__09266_00.jpg")
    m = garment_mask(img, learned=False)
    assert np.array_equal(m, drop_strap_loops(img, m))


def _narrow_slots(body=(40, 40, 60), sleeve=(40, 40, 60), slot_px: int = 6, h: int = 1024, w: int = 768):
    """:func:`_slotted_longsleeve` at a shop photo's size with slots ``slot_px`` wide (about 2 working pixels of the
    cut-out, which closes them): (image, mask without the slots, slots, body)."""
    import cv2

    g = np.zeros((h, w), np.uint8)
    cv2.fillPoly(g, [np.array([[300, 120], [468, 120], [600, 180], [700, 840], [600, 880], [168, 880],
                               [68, 840], [168, 180]], np.int32)], 1)
    cv2.ellipse(g, (384, 120), (80, 52), 0, 0, 180, 0, -1)
    torso = np.zeros((h, w), np.uint8)
    cv2.fillPoly(torso, [np.array([[210, 150], [558, 150], [558, 880], [210, 880]], np.int32)], 1)
    slots = np.zeros((h, w), np.uint8)
    for x in (210 - slot_px, 558):
        slots[340:800, x:x + slot_px] = 1
    img = np.full((h, w, 3), 245, np.uint8)
    img[g.astype(bool)] = sleeve
    img[(g & torso).astype(bool)] = body
    img[(g & slots).astype(bool)] = 245
    return img, g.astype(np.float32), (g & slots).astype(bool), (g & torso).astype(bool)


def test_slots_narrower_than_the_cut_out_resolves_are_found_and_painted_over():
    """A long sleeve hanging 6 px from the torso of a 1024-px photo: the 320-px cut-out keeps the slot, and the
    teacher drew it as a white crescent beside the body (wild-dev: a red cardigan). :func:`see_through_slots`
    finds both slots and nothing else; :func:`fill_see_through` paints them with the fabric around them."""
    from tryon.garment.mask import fill_see_through, see_through_slots

    img, mask, slots, _ = _narrow_slots()
    assert (garment_mask(img) > 0.5)[slots].mean() > 0.5       # the cut-out keeps them: the case at hand
    found = see_through_slots(img, mask)
    assert found[slots].mean() > 0.9
    import cv2

    near = cv2.dilate(slots.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert not (found & ~near).any()
    filled = fill_see_through(img, mask)
    assert np.abs(filled[slots].astype(int) - (40, 40, 60)).max(axis=-1).mean() < 20
    np.testing.assert_array_equal(filled[~found], img[~found])
    # Without slots the photo comes back as it is.
    whole = img.copy()
    whole[slots] = (40, 40, 60)
    assert not see_through_slots(whole, mask).any()
    assert fill_see_through(whole, mask) is whole


def test_a_white_bodys_pale_strip_beside_a_dark_sleeve_is_not_a_slot():
    """A white-bodied raglan tee on white paper: the body's pale strip along each dark sleeve is the backdrop's colour,
    tall and off-centre like a slot, but has fabric unlike the backdrop on one side only (the light body on the
    other)."""
    from tryon.garment.mask import see_through_slots

    img, mask, _, _ = _narrow_slots(body=(226, 226, 226), slot_px=0)
    for x in (210, 552):
        img[400:800, x:x + 6] = 245
    assert not see_through_slots(img, mask).any()


def _tee_with_bridged_armpits(colour: tuple[int, int, int]):
    """A short-sleeved tee of ``colour`` on white paper (320 x 320), its mask closed over the wedge of paper under
    each sleeve as a small photo's cut-out closes it; returns (photo, mask, wedges, armpits)."""
    import cv2

    h = w = 320
    img = np.full((h, w, 3), 250, np.uint8)
    tee = np.zeros((h, w), np.uint8)
    cv2.fillPoly(tee, [np.array([[110, 60], [210, 60], [290, 130], [250, 170], [225, 150], [225, 300], [95, 300],
                                 [95, 150], [70, 170], [30, 130]], np.int32)], 1)
    img[tee.astype(bool)] = colour
    mask = tee.copy()
    wedges = np.zeros((h, w), np.uint8)
    for poly in ([[225, 150], [245, 166], [225, 178]], [[95, 150], [75, 166], [95, 178]]):
        cv2.fillPoly(wedges, [np.array(poly, np.int32)], 1)
    mask |= wedges
    img = cv2.GaussianBlur(img, (3, 3), 0.7)
    return img, mask.astype(np.float32), (wedges & ~tee).astype(bool), [np.array([225.0, 150.0]),
                                                                        np.array([95.0, 150.0])]


def test_the_paper_a_cut_out_closes_under_the_sleeves_is_painted_as_fabric():
    """A small shop photo's cut-out closes the wedge of white paper under each short sleeve; the warp drew it at the
    person's underarm as a white streak. :func:`armpit_notches` finds both wedges (nothing else), and
    :func:`fill_armpit_notches` paints them with the fabric round them; a white tee on the same paper has no wedge
    to find (its own side is the paper's colour), nor has a purple tee whose white collar rib touches its outline
    far from the armpits."""
    import cv2

    from tryon.garment.mask import armpit_notches, fill_armpit_notches

    img, mask, wedges, armpits = _tee_with_bridged_armpits((120, 90, 200))
    found = armpit_notches(img, mask, armpits)
    assert found[wedges].mean() > 0.9
    near = cv2.dilate(wedges.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert not (found & ~near).any()
    filled, painted = fill_armpit_notches(img, mask, armpits)
    np.testing.assert_array_equal(painted, found)
    assert np.abs(filled[wedges].astype(int) - (120, 90, 200)).max(axis=-1).mean() < 25
    np.testing.assert_array_equal(filled[~found], img[~found])

    white, wmask, _, _ = _tee_with_bridged_armpits((246, 246, 246))
    assert not armpit_notches(white, wmask, armpits).any()
    assert fill_armpit_notches(white, wmask, armpits)[0] is white
    raglan = img.copy()
    body = np.zeros(mask.shape, bool)
    body[60:300, 95:226] = True
    raglan[body & (mask > 0.5) & ~wedges] = 246      # a white body under the purple sleeves
    assert not armpit_notches(raglan, mask, armpits).any()
    ribbed = img.copy()
    ribbed[58:66, 110:211] = 250                      # a white rib along the collar, on the outline
    assert not (armpit_notches(ribbed, mask, armpits) & (np.arange(320)[:, None] < 80)).any()
