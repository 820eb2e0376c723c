"""Tests of tryon.person.parsing: BodyPix parts, their refinement into PARSE_LABELS, and IoU against LIP maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tryon.errors import MissingModelError
from tryon.person.labels import LABEL
from tryon.person.parsing import (BODYPIX_PARTS, BODYPIX_TO_PARSE, BodyPixParser, _drop_islands, _edge_refine,
                                  _fill_holes, _fix_hands, _Gauss, _quantize, _upsample_grid, colorize_parse,
                                  parse_iou, refine_parse)

BODYPIX_FILE = "bodypix_mobilenetv1_x050_stride16.onnx"
# Mean IoU over the merged classes on the 21 LIP-labelled VITON photos was 0.719 when measured (face+neck,
# neck counted as face; 0.695 before the edge-aware / colour-model refinements), upper body (torso + arms) 0.885,
# hair 0.681; the floors leave a margin for model/ROI changes.
MEAN_IOU_FLOOR = 0.67
UPPER_BODY_IOU_FLOOR = 0.84
HAIR_IOU_FLOOR = 0.62


def _synthetic_person(h: int = 256, w: int = 192):
    """A front-facing stick person: mask, BlazePose-like keypoints and a BodyPix-like part map."""
    import cv2

    img = np.full((h, w, 3), 230, np.uint8)
    kp = np.zeros((33, 4), np.float32)
    kp[:, 3] = 1.0
    pts = {0: (96, 46), 2: (103, 40), 5: (89, 40), 3: (107, 40), 6: (85, 40), 1: (100, 40), 4: (92, 40),
           7: (112, 44), 8: (80, 44), 9: (101, 52), 10: (91, 52),
           11: (126, 80), 12: (66, 80), 13: (140, 130), 14: (52, 130), 15: (144, 175), 16: (48, 175),
           17: (146, 188), 18: (46, 188), 19: (144, 190), 20: (48, 190), 21: (140, 184), 22: (52, 184),
           23: (116, 170), 24: (76, 170)}
    for i, (x, y) in pts.items():
        kp[i, :2] = (x, y)
    mask = np.zeros((h, w), np.uint8)
    parts = np.full((h, w), -1, np.int8)
    # torso, legs, head, arms (the person's left arm is on the image's right)
    cv2.rectangle(parts, (70, 78), (122, 172), 12, -1)
    cv2.rectangle(parts, (72, 172), (120, 255), 14, -1)
    cv2.ellipse(parts, (96, 40), (18, 28), 0, 0, 360, 0, -1)
    cv2.rectangle(parts, (88, 64), (104, 80), 12, -1)  # neck, called torso by BodyPix
    for (a, b, pa) in ((11, 13, 2), (13, 15, 6), (12, 14, 4), (14, 16, 8)):
        cv2.line(parts, tuple(map(int, pts[a])), tuple(map(int, pts[b])), pa, 12)
    cv2.circle(parts, (144, 186), 7, 10, -1)
    cv2.circle(parts, (48, 186), 7, 11, -1)
    mask[parts >= 0] = 1
    col = np.array([[200, 160, 130]] * 2 + [[40, 60, 160]] * 8 + [[200, 160, 130]] * 2 + [[40, 60, 160]] * 2
                   + [[60, 60, 60]] * 10, np.uint8)
    img[parts >= 0] = col[parts[parts >= 0]]
    img[(parts == 0) & (np.arange(h)[:, None] < 24)] = (60, 40, 20)  # hair on top of the head
    img[64:78, 88:105] = (200, 160, 130)  # bare neck
    # the BodyPix grid is coarse: shrink its person region so refinement must fill the rim
    parts_coarse = parts.copy()
    edge = (cv2.erode((parts >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0) & (parts >= 0)
    parts_coarse[edge] = -1
    return img, mask.astype(np.float32), kp, parts_coarse


def test_bodypix_table_sides():
    assert len(BODYPIX_PARTS) == 24 and len(BODYPIX_TO_PARSE) == 24
    for i, name in enumerate(BODYPIX_PARTS):
        lab = int(BODYPIX_TO_PARSE[i])
        if "arm" in name or "hand" in name:
            side = name.split("_")[0]
            assert lab in (LABEL[f"{side}_arm"], LABEL[f"{side}_hand"]), name


def test_upsample_grid_aligns_corners():
    g = np.arange(12, dtype=np.float32).reshape(3, 4)
    up = _upsample_grid(g, 33, 49)
    assert up.shape == (33, 49)
    assert np.allclose([up[0, 0], up[0, -1], up[-1, 0], up[-1, -1]], [0, 3, 8, 11], atol=1e-4)
    assert np.isclose(up[16, 16], g[1, 1], atol=1e-4)


def test_refine_synthetic():
    img, mask, kp, parts = _synthetic_person()
    parse = refine_parse(img, mask, kp, parts)
    assert parse.dtype == np.uint8 and parse.shape == mask.shape
    # the outline is the person mask's, not BodyPix's
    assert np.array_equal(parse > 0, mask > 0.5)
    assert parse.max() <= 9
    # the person's left arm is on the image's right
    assert parse[110, 134] == LABEL["left_arm"]
    assert parse[110, 58] == LABEL["right_arm"]
    assert parse[186, 146] == LABEL["left_hand"] and parse[186, 46] == LABEL["right_hand"]
    assert parse[45, 96] == LABEL["face"]
    assert parse[16, 96] == LABEL["hair"]
    assert parse[120, 96] == LABEL["torso"]
    assert parse[220, 96] == LABEL["lower_body"]
    assert (parse == LABEL["neck"]).any()


def test_refine_without_keypoints_and_empty_mask():
    img, mask, kp, parts = _synthetic_person()
    parse = refine_parse(img, mask, None, parts)
    assert np.array_equal(parse > 0, mask > 0.5)
    assert not refine_parse(img, np.zeros_like(mask), kp, parts).any()


def test_edge_refine_snaps_border_to_colour_edge():
    # a red sleeve (left) against a blue top (right), colour edge at x = 96; the coarse parse is off by a few
    # pixels (the filter's radius is 0.035 x 256 = 9 px: small offsets snap, larger ones shrink)
    img = np.zeros((256, 192, 3), np.uint8)
    img[:, :96] = (200, 30, 30)
    img[:, 96:] = (30, 40, 200)
    person = np.ones((256, 192), bool)
    person[:, 180:] = False
    for off, lo, hi in ((-3, 96, 96), (3, 96, 96), (6, 96, 101)):
        parse = np.full((256, 192), LABEL["torso"], np.uint8)
        parse[:, :96 + off] = LABEL["left_arm"]
        parse[~person] = 0
        out = _edge_refine(img, parse, person)
        arm = (out == LABEL["left_arm"]).sum(axis=1)
        assert (arm >= lo).all() and (arm <= hi).all(), (off, arm.min(), arm.max())
        assert (out[:, 180:] == 0).all()  # the outline is kept


def test_drop_islands_and_fill_holes():
    from scipy.ndimage import binary_fill_holes

    parse = np.full((60, 60), LABEL["torso"], np.uint8)
    parse[:, :15] = LABEL["right_arm"]
    parse[30:34, 30:34] = LABEL["right_arm"]  # an island on the torso
    parse[40:44, 40:44] = LABEL["left_hand"]  # a lone hand is its side's only piece: kept
    out = _drop_islands(parse, np.ones_like(parse, bool))
    assert (out[30:34, 30:34] == LABEL["torso"]).all()
    assert (out[:, :15] == LABEL["right_arm"]).all() and (out[40:44, 40:44] == LABEL["left_hand"]).all()
    rng = np.random.default_rng(1)
    for _ in range(5):
        m = rng.random((40, 30)) < 0.55
        assert np.array_equal(_fill_holes(m), binary_fill_holes(m))


def test_fix_hands_drops_hand_label_on_trousers():
    import cv2

    img, mask, kp, parts = _synthetic_person()
    parse = refine_parse(img, mask, kp, parts)
    # BodyPix-like spill: the person's right hand label runs down the (dark grey) trousers, well below the hand
    spill = np.zeros_like(parse, bool)
    spill[225:250, 72:90] = True
    spill &= parse == LABEL["lower_body"]
    assert spill.sum() > 100
    parse[spill] = LABEL["right_hand"]
    # and a (blue) cuff on the forearm side of the wrist called hand
    cuff = np.zeros_like(parse, bool)
    cuff[164:170, 45:53] = True
    cuff &= parse == LABEL["right_arm"]
    parse[cuff] = LABEL["right_hand"]
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    skin = _Gauss(lab[40:50, 90:100].reshape(-1, 3))
    sw = float(np.linalg.norm(kp[11, :2] - kp[12, :2]))
    _fix_hands(parse, mask > 0.5, _quantize(lab), kp[:, :2], sw, skin)
    assert (parse[spill] == LABEL["lower_body"]).mean() > 0.9
    assert cuff.any() and (parse[cuff] == LABEL["right_arm"]).all()
    assert parse[186, 46] == LABEL["right_hand"]  # the hand itself stays


def test_parse_iou_identity_and_conventions():
    lip = np.zeros((8, 8), np.uint8)
    lip[:2] = 2        # hair
    lip[2:4] = 13      # face
    lip[4:6] = 5       # upper clothes
    lip[6:, :4] = 14   # left arm
    lip[6:, 4:] = 9    # pants
    pred = np.zeros((8, 8), np.uint8)
    pred[:2], pred[2:4], pred[4:6] = LABEL["hair"], LABEL["face"], LABEL["torso"]
    pred[6:, :4], pred[6:, 4:] = LABEL["left_arm"], LABEL["lower_body"]
    r = parse_iou(pred, lip)
    assert r["mean"] == pytest.approx(1.0) and r["upper_body"] == pytest.approx(1.0)
    # a sleeve called arm instead of upper clothes costs torso/arms IoU but not upper_body IoU
    pred[4:6, :2] = LABEL["left_arm"]
    r = parse_iou(pred, lip)
    assert r["torso"] < 1 and r["arms"] < 1 and r["upper_body"] == pytest.approx(1.0)
    # neck: counted with the face, or as background (the VITON convention) on request
    pred[3, :] = LABEL["neck"]
    assert parse_iou(pred, lip)["face"] == pytest.approx(1.0)
    assert parse_iou(pred, lip, neck_as_background=True)["face"] < 1
    # resized to the LIP map when sizes differ
    assert parse_iou(np.kron(pred, np.ones((2, 2), np.uint8)), lip)["hair"] == pytest.approx(1.0)


def test_colorize_shapes():
    img, mask, kp, parts = _synthetic_person()
    parse = refine_parse(img, mask, kp, parts)
    assert colorize_parse(parse).shape == img.shape
    assert colorize_parse(parse, img).dtype == np.uint8


def test_missing_model_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TRYON_MODELS_DIR", str(tmp_path))
    with pytest.raises(MissingModelError, match="bodypix"):
        BodyPixParser()


@pytest.fixture(scope="module")
def parser(bodypix_dir: Path) -> BodyPixParser:
    return BodyPixParser(bodypix_dir / BODYPIX_FILE)


@pytest.mark.realdata
def test_bodypix_parts_on_photo(parser, vton_samples):
    from tryon.processing import load_image

    img = load_image(vton_samples / "person" / "maple-cpvton__000001_0.jpg")
    ids = parser.parts(img)
    assert ids.shape == img.shape[:2] and ids.dtype == np.int8
    assert ids.min() >= -1 and ids.max() <= 23
    person = ids >= 0
    assert 0.1 < person.mean() < 0.7
    # face above torso
    fy = np.nonzero(ids <= 1)[0]
    ty = np.nonzero(ids == 12)[0]
    assert fy.size and ty.size and np.median(fy) < np.median(ty)


def _models_or_skip():
    from tryon.person.pose import PoseEstimator
    from tryon.person.segmentation import SelfieSegmenter

    try:
        return SelfieSegmenter(), PoseEstimator()
    except MissingModelError as exc:
        pytest.skip(f"models not built ({exc.message})")


@pytest.mark.realdata
def test_parse_iou_against_lip(parser, vton_samples):
    from PIL import Image

    from tryon.processing import load_image

    seg, pose = _models_or_skip()
    rows = []
    for f in sorted((vton_samples / "person_parse").glob("maple-cpvton__*.png")):
        lip_img = Image.open(f)
        if lip_img.mode != "P":  # one map in the folder is an RGB picture, not a label map
            continue
        vid = f.stem.split("__", 1)[1]
        # two of the VITON persons are stored under another source's name (same VITON image)
        cands = [vton_samples / "person" / f"{src}__{vid}.jpg" for src in ("maple-cpvton", "kisekloset", "pf-afn")]
        path = next((p for p in cands if p.exists()), None)
        if path is None:
            continue
        img = load_image(path)
        mask = seg(img)
        kp = pose(img, mask)
        rows.append(parse_iou(refine_parse(img, mask, kp, parser.parts(img)), np.asarray(lip_img)))
    assert len(rows) >= 15
    mean = float(np.mean([r["mean"] for r in rows]))
    upper = float(np.mean([r["upper_body"] for r in rows]))
    hair = float(np.nanmean([r["hair"] for r in rows]))
    assert mean >= MEAN_IOU_FLOOR, mean
    assert upper >= UPPER_BODY_IOU_FLOOR, upper
    assert hair >= HAIR_IOU_FLOOR, hair
