"""``tryon teacher build --frame``: records cropped to the garment category's framing box, built by the real
teacher from a shopper's full-body photo of ``../shared/data/wild-dev`` (read, never committed; skipped without
it)."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.framing import FramingConfig

pytestmark = pytest.mark.realdata


def test_framed_record_puts_the_body_where_the_runtime_box_does(wild_dev, tmp_path):
    import torch
    import torch.nn.functional as F

    from tryon.data.build import build_records
    from tryon.data.pairs import Pair
    from tryon.data.records import iter_records

    cfg = FramingConfig()
    pair = Pair(wild_dev / "person" / "ccp__1601.jpg", wild_dev / "garment" / "coobytryon__garment-03-gray-tee.jpg",
                None, "tops")
    summary = build_records([pair], tmp_path / "framed", size=(256, 192), framing=cfg)
    plain = build_records([pair], tmp_path / "plain", size=(256, 192))
    assert summary["written"] == plain["written"] == 1, summary
    (rec,) = list(iter_records(tmp_path / "framed"))
    (whole,) = list(iter_records(tmp_path / "plain"))
    meta = rec["meta"]
    kp = rec["keypoints"]
    # The teacher's keypoints framed the box: shoulders and hips land where FramingConfig puts them (tops).
    assert kp[[11, 12], 1].mean() == pytest.approx(cfg.shoulder_y * 256, abs=2)
    assert kp[[23, 24], 1].mean() == pytest.approx(cfg.hip_y * 256, abs=2)
    assert kp[[11, 12, 23, 24], 0].mean() == pytest.approx(cfg.centre_x * 192, abs=6)
    assert len(meta["box"]) == 4
    # Letterboxed, the full-body person is small (torso 66 px of 256); framed, the torso spans hip_y - shoulder_y.
    torso = lambda k: k[[23, 24], 1].mean() - k[[11, 12], 1].mean()  # noqa: E731
    assert torso(kp) > 1.3 * torso(whole["keypoints"])
    # The grid still points into the record's garment: sampling it gives the record's warped garment.
    g = torch.from_numpy(rec["garment"].astype(np.float32)).permute(2, 0, 1)[None]
    grid = torch.from_numpy(rec["grid"].astype(np.float32))[None]
    warped = F.grid_sample(g, grid, align_corners=False)[0].permute(1, 2, 0).numpy()
    inside = rec["warped_mask"] > 0.9
    assert inside.mean() > 0.05
    assert np.abs(warped - rec["warped_garment"].astype(np.float32))[inside].mean() < 12
    assert rec["parse"].dtype == np.uint8 and set(np.unique(rec["parse"])) <= set(range(32))
