"""The distillation data set: the teacher's records, written as WebDataset-style tar shards.

Layout of a data set folder::

    <out>/
      shard-r000-00000.tar        one tar per shard; rank r writes shard-r<r>-*.tar (several processes or
      shard-r000-00001.tar        machines share one folder without clashing)
      index-r000.json             per rank: format version, record size, shards with their sample counts
      errors-r000.jsonl           pairs the teacher refused (error name and message), one JSON object a line

Each sample in a shard is a group of tar members sharing a key ``<key>.`` (the WebDataset convention, so
``webdataset`` or plain ``tarfile`` can read them). At the record size H×W (e.g. 256×192):

==========================  =====================================================================
member                      content
==========================  =====================================================================
``person.png``              (H, W, 3) uint8 RGB, the person photo (input of the student)
``garment.png``             (H, W, 3) uint8 RGB, the in-shop garment photo (input of the student)
``garment_mask.png``        (H, W) uint8, 255 = garment
``tryon.png``               (H, W, 3) uint8, the teacher's try-on image (target)
``agnostic.png``            (H, W, 3) uint8, the clothing-agnostic person (old garment greyed out)
``warped_garment.png``      (H, W, 3) uint8, the garment warped onto the body
``warped_mask.png``         (H, W) uint8, 255 = warped garment present
``composition_mask.png``    (H, W) uint8, 255 = the result shows the warped garment
``parse.png``               (H, W) uint8, labels of ``tryon.person.labels.PARSE_LABELS``
``grid.npy``                (H, W, 2) float16, sampling grid in [-1, 1], ``grid_sample`` convention
                            (x then y, align_corners=False): output pixel -> garment image location
``keypoints.npy``           (33, 4) float32, BlazePose x_px, y_px (record pixels), z, visibility
``json``                    metadata: person/garment source paths, source sizes, category, teacher version,
                            the teacher's confidence (``tryon.teacher.gate``)
==========================  =====================================================================

Shards are written to ``<name>.part`` and renamed when complete, so a killed build never leaves a
half-written shard under a final name; the index is rewritten (atomically) after each shard.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from tryon.errors import DataError
from tryon.processing import atomic_write_bytes

__all__ = ["FORMAT_VERSION", "IMAGE_FIELDS", "MASK_FIELDS", "ShardWriter", "iter_records", "read_index"]

FORMAT_VERSION = 1
IMAGE_FIELDS = ("person", "garment", "tryon", "agnostic", "warped_garment")
MASK_FIELDS = ("garment_mask", "warped_mask", "composition_mask")


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@dataclass
class ShardWriter:
    """Append records to tar shards of ``shard_size`` samples each, for one rank.

    Args:
        out_dir: the data set folder (created).
        size: record (height, width) in pixels; every array written must have it.
        shard_size: samples per shard.
        rank: this writer's rank; its files are ``shard-r<rank>-*.tar``, ``index-r<rank>.json``.

    Use as a context manager; ``close()`` finishes the open shard.
    """

    out_dir: Path
    size: tuple[int, int]
    shard_size: int = 512
    rank: int = 0
    _tar: tarfile.TarFile | None = field(default=None, init=False, repr=False)
    _part: Path | None = field(default=None, init=False, repr=False)
    _count: int = field(default=0, init=False)
    _shards: list[dict] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Resume after existing complete shards of this rank rather than overwrite them.
        index = self.out_dir / f"index-r{self.rank:03d}.json"
        if index.exists():
            self._shards = json.loads(index.read_text())["shards"]

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close(complete=exc[0] is None)

    @property
    def done_keys(self) -> set[str]:
        """Keys already written in complete shards (a rebuild skips them)."""
        return {k for s in self._shards for k in s["keys"]}

    def _open(self) -> None:
        name = f"shard-r{self.rank:03d}-{len(self._shards):05d}.tar"
        self._part = self.out_dir / (name + ".part")
        self._tar = tarfile.open(self._part, "w")
        self._count = 0
        self._keys: list[str] = []

    def write(self, key: str, record: dict[str, np.ndarray], meta: dict) -> None:
        """Add one sample.

        Args:
            key: unique sample key (no dots or slashes).
            record: arrays named as in the module table (images (H,W,3) uint8, masks (H,W) float in [0,1]
                or uint8, ``parse`` (H,W) uint8, ``grid`` (H,W,2) float in [-1,1], ``keypoints`` (33,4)).
            meta: JSON-serialisable metadata.

        Raises:
            DataError: a bad key, a missing field or an array of the wrong shape.
        """
        if not key or any(c in key for c in "./\\"):
            raise DataError(f"record key {key!r} must be non-empty and hold no '.', '/' or '\\'")
        h, w = self.size
        members: dict[str, bytes] = {}
        for name in IMAGE_FIELDS:
            a = record[name]
            if a.shape != (h, w, 3) or a.dtype != np.uint8:
                raise DataError(f"{key}: {name} must be ({h}, {w}, 3) uint8, got {a.shape} {a.dtype}")
            members[f"{name}.png"] = _png(a)
        for name in MASK_FIELDS:
            a = record[name]
            if a.shape != (h, w):
                raise DataError(f"{key}: {name} must be ({h}, {w}), got {a.shape}")
            a8 = a if a.dtype == np.uint8 else np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
            members[f"{name}.png"] = _png(a8)
        members["parse.png"] = _png(record["parse"].astype(np.uint8))
        grid = record["grid"]
        if grid.shape != (h, w, 2):
            raise DataError(f"{key}: grid must be ({h}, {w}, 2), got {grid.shape}")
        members["grid.npy"] = _npy(np.clip(grid, -1, 1).astype(np.float16))
        members["keypoints.npy"] = _npy(record["keypoints"].astype(np.float32))
        members["json"] = json.dumps(meta, sort_keys=True).encode()

        if self._tar is None:
            self._open()
        now = time.time()
        for suffix, data in members.items():
            info = tarfile.TarInfo(f"{key}.{suffix}")
            info.size, info.mtime = len(data), now
            self._tar.addfile(info, io.BytesIO(data))
        self._keys.append(key)
        self._count += 1
        if self._count >= self.shard_size:
            self._finish()

    def _finish(self) -> None:
        assert self._tar is not None and self._part is not None
        self._tar.close()
        final = self._part.with_suffix("")  # drop ".part"
        os.replace(self._part, final)
        self._shards.append({"file": final.name, "samples": self._count, "keys": self._keys})
        self._tar, self._part = None, None
        self._write_index()

    def _write_index(self) -> None:
        index = {"format_version": FORMAT_VERSION, "size": list(self.size), "rank": self.rank,
                 "samples": sum(s["samples"] for s in self._shards), "shards": self._shards}
        atomic_write_bytes(self.out_dir / f"index-r{self.rank:03d}.json", json.dumps(index, indent=1).encode())

    def close(self, complete: bool = True) -> None:
        """Finish the open shard (``complete``) or drop it (after an error), and write the index."""
        if self._tar is not None:
            if complete and self._count:
                self._finish()
            else:
                self._tar.close()
                assert self._part is not None
                self._part.unlink(missing_ok=True)
                self._tar, self._part = None, None
        self._write_index()


def read_index(data_dir: str | Path) -> dict:
    """Merge the per-rank indexes of a data set folder.

    Returns:
        ``{"format_version", "size": (H, W), "samples", "shards": [paths]}``.

    Raises:
        DataError: no index, mixed record sizes or format versions, or no samples.
    """
    d = Path(data_dir)
    indexes = sorted(d.glob("index-r*.json"))
    if not indexes:
        raise DataError(f"{d}: not a record data set (no index-r*.json); build one with `tryon teacher build`")
    merged: dict = {"shards": [], "samples": 0}
    for f in indexes:
        idx = json.loads(f.read_text())
        for k in ("format_version", "size"):
            if k in merged and merged[k] != idx[k]:
                raise DataError(f"{d}: the ranks disagree on {k} ({merged[k]} vs {idx[k]})")
            merged[k] = idx[k]
        merged["shards"] += [d / s["file"] for s in idx["shards"]]
        merged["samples"] += idx["samples"]
    if merged["samples"] == 0:
        raise DataError(f"{d}: the data set holds no samples")
    merged["size"] = tuple(merged["size"])
    return merged


def iter_records(data_dir: str | Path) -> Iterator[dict]:
    """Yield the samples of a data set as dicts of decoded arrays (as in the module table) plus ``key`` and
    ``meta``; masks come back as (H, W) float32 in [0, 1], the grid as float32."""
    for shard in read_index(data_dir)["shards"]:
        with tarfile.open(shard) as tar:
            sample: dict = {}
            for member in tar:
                key, _, suffix = member.name.partition(".")
                if sample and sample["key"] != key:
                    yield sample
                    sample = {}
                sample["key"] = key
                data = tar.extractfile(member).read()
                name = suffix.rsplit(".", 1)[0]
                if suffix.endswith(".png"):
                    a = np.asarray(Image.open(io.BytesIO(data)))
                    sample[name] = a.astype(np.float32) / 255.0 if name in MASK_FIELDS else a
                elif suffix.endswith(".npy"):
                    sample[name] = np.load(io.BytesIO(data), allow_pickle=False).astype(np.float32)
                elif suffix == "json":
                    sample["meta"] = json.loads(data)
            if sample:
                yield sample
