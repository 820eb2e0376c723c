"""Pairs CSV, record shards (write, read, resume, no half-written shard) and grid remapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tryon.data.build import remap_grid
from tryon.data.pairs import make_pairs, read_pairs
from tryon.data.records import ShardWriter, iter_records, read_index
from tryon.errors import DataError
from tryon.processing import letterbox


def _record(h, w, seed):
    rng = np.random.default_rng(seed)
    img = lambda: rng.integers(0, 256, (h, w, 3), dtype=np.uint8)  # noqa: E731
    m = lambda: rng.random((h, w)).astype(np.float32)  # noqa: E731
    return {"person": img(), "garment": img(), "tryon": img(), "agnostic": img(), "warped_garment": img(),
            "garment_mask": m(), "warped_mask": m(), "composition_mask": m(),
            "parse": rng.integers(0, 10, (h, w), dtype=np.uint8),
            "grid": rng.uniform(-1, 1, (h, w, 2)).astype(np.float32),
            "keypoints": rng.random((33, 4)).astype(np.float32)}


def test_pairs_csv(tmp_path):
    (tmp_path / "pairs.csv").write_text("person,garment,category\np/a.jpg,g/b.jpg,top\n/abs/c.jpg,d.png,\n"
                                        "e.jpg,catalogue:white-crew-tee,\n")
    pairs = read_pairs(tmp_path / "pairs.csv")
    assert str(pairs[2].garment) == "catalogue:white-crew-tee"  # built-in garments are not paths
    assert pairs[0].person == tmp_path / "p/a.jpg" and pairs[0].category == "top"
    assert str(pairs[1].person) == "/abs/c.jpg" and pairs[1].category is None
    (tmp_path / "bad.csv").write_text("who,what\nx,y\n")
    with pytest.raises(DataError, match="person"):
        read_pairs(tmp_path / "bad.csv")
    (tmp_path / "empty.csv").write_text("person,garment\n")
    with pytest.raises(DataError, match="no rows"):
        read_pairs(tmp_path / "empty.csv")


def test_make_pairs(tmp_path):
    for d, n in (("p", 3), ("g", 2)):
        (tmp_path / d).mkdir()
        for i in range(n):
            (tmp_path / d / f"{i}.jpg").write_bytes(b"x")
    assert len(make_pairs(tmp_path / "p", tmp_path / "g")) == 3
    assert len(make_pairs(tmp_path / "p", tmp_path / "g", all_combinations=True)) == 6
    assert {p.category for p in make_pairs(tmp_path / "p", tmp_path / "g")} == {None}  # classified by the teacher
    assert {p.category for p in make_pairs(tmp_path / "p", tmp_path / "g", category="bottoms")} == {"bottoms"}
    with pytest.raises(DataError):
        make_pairs(tmp_path / "nope", tmp_path / "g")


def test_shards_round_trip_and_resume(tmp_path):
    size = (16, 12)
    with ShardWriter(tmp_path, size, shard_size=2) as w:
        for i in range(3):
            w.write(f"s{i}", _record(*size, i), {"i": i})
    idx = read_index(tmp_path)
    assert idx["samples"] == 3 and len(idx["shards"]) == 2 and idx["size"] == size
    samples = list(iter_records(tmp_path))
    assert [s["key"] for s in samples] == ["s0", "s1", "s2"]
    ref = _record(*size, 1)
    np.testing.assert_array_equal(samples[1]["tryon"], ref["tryon"])
    np.testing.assert_allclose(samples[1]["grid"], ref["grid"], atol=1e-3)  # stored as float16
    assert samples[1]["meta"] == {"i": 1}
    assert ShardWriter(tmp_path, size, rank=0).done_keys == {"s0", "s1", "s2"}


def test_readme_names_the_files_written(tmp_path):
    """The README's record file names and BodyPix file names are the ones the code writes and reads."""
    from pathlib import Path

    from tryon.assets import BODYPIX_FILE, BODYPIX_SOURCE_NAME

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    size = (16, 12)
    with ShardWriter(tmp_path, size, shard_size=1) as w:
        for i in range(2):
            w.write(f"s{i}", _record(*size, i), {"i": i})
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["index-r000.json", "shard-r000-00000.tar", "shard-r000-00001.tar"]
    for name in written:
        assert f"`{name}`" in readme, name
    flat = " ".join(readme.split())
    assert f"saved as `{BODYPIX_SOURCE_NAME}`" in flat and f"into the models folder as `{BODYPIX_FILE}`" in flat


def test_failed_build_leaves_no_partial_shard(tmp_path):
    size = (8, 8)
    with pytest.raises(RuntimeError), ShardWriter(tmp_path, size, shard_size=10) as w:
        w.write("a", _record(*size, 0), {})
        raise RuntimeError("killed")
    assert not list(tmp_path.glob("*.tar*"))
    with pytest.raises(DataError, match="no samples"):
        read_index(tmp_path)


def test_bad_record_refused(tmp_path):
    rec = _record(8, 8, 0)
    rec["tryon"] = rec["tryon"][:4]
    with ShardWriter(tmp_path, (8, 8)) as w, pytest.raises(DataError, match="tryon"):
        w.write("a", rec, {})


def test_remap_grid_matches_sampling_the_letterboxed_garment():
    # A linear ramp is reproduced exactly by bilinear resampling, so sampling the letterboxed garment with
    # the remapped grid must equal sampling the original garment with the original grid.
    yy, xx = np.mgrid[0:40, 0:30].astype(np.float32)
    garment = np.stack([xx / 30, yy / 40, (xx + yy) / 70], axis=-1)
    grid = np.random.default_rng(0).uniform(-0.8, 0.8, (1, 5, 7, 2)).astype(np.float32)

    def sample(img, g):
        return F.grid_sample(torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None],
                             torch.from_numpy(g), align_corners=False)[0].numpy()

    boxed, t = letterbox(garment, (100, 120), fill=0.0)
    remapped = remap_grid(grid, (40, 30), (100, 120), t)
    np.testing.assert_allclose(sample(boxed, remapped), sample(garment, grid), atol=0.01)
