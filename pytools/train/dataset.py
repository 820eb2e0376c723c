"""Training samples for the student: the teacher's record shards, plus self-supervised reconstructions.

Records (``tryon.data.records``) are read by random access: the tar headers of every shard are scanned once
and each sample's members are then read at their byte offsets, so a map-style ``Dataset`` can shuffle freely and
a :class:`ShardedSampler` (the equivalent of ``torch.utils.data.DistributedSampler``, plus a start offset for
resuming inside an epoch) splits the samples across DDP ranks; a ``DataLoader`` then spreads each rank's
indices over its workers.

**Reconstruction samples** (``kind = 1``). The teacher's records contain only pseudo targets; the real photos are
the only true images. Following PF-AFN's teacher–tutor–student scheme (Ge et al., CVPR 2021: the student sees a
synthetic "tutor" image of the person in *another* garment, plus the person's *own* garment, and must rebuild
the real photo), a reconstruction sample is made from a record:

* person input = the record's ``tryon`` (the teacher's image of this person wearing a different garment);
* garment input = the person's own upper garment (parse label ``torso``) cut out of the real photo, placed
  centred on white like an in-shop photo, with a small random thin-plate-spline deformation;
* targets = the real photo (``tryon``), the photo inside the torso region (``warped_garment``, ``warped_mask``,
  ``composition_mask``), and the exact sampling grid that puts the cut garment back in place (``grid``).

We chose this over "the person wearing their own garment as both input and target" because that version lets
the generator copy its person input and learn nothing about warping; here the garment region of the input shows
a different garment, so the only way to the target is through the warp. Limits: only the torso part of the
garment is cut (the parse cannot tell sleeves from bare arms), and the tutor's errors outside the garment are
inputs, not targets, so they do no harm.

Every random choice of sample ``i`` in epoch ``e`` comes from ``numpy.random.default_rng([seed, e, i])``, so a
resumed run sees the same samples as an uninterrupted one, whatever the number of workers.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from tryon.data.augment import AugmentConfig, augment_record, tps_displacement
from tryon.data.records import MASK_FIELDS, read_index
from tryon.errors import DataError
from tryon.person.labels import LABEL

__all__ = [
    "RecordDataset", "ShardedSampler", "scan_shards", "read_member_record", "resize_record", "make_reconstruction",
    "split_keys", "base_key", "to_tensors", "record_categories", "IMAGE_KEYS", "MASK_KEYS",
]

IMAGE_KEYS = ("person", "garment", "tryon", "warped_garment")
"""Image tensors of a training sample: (3, H, W) float32 in [-1, 1]."""
MASK_KEYS = ("garment_mask", "warped_mask", "composition_mask")
"""Mask tensors of a training sample: (1, H, W) float32 in [0, 1]."""
_NEEDED = IMAGE_KEYS + MASK_KEYS + ("grid", "parse")
_AUG_SUFFIX = re.compile(r"~aug\d+$")


def base_key(key: str) -> str:
    """The pair a record came from: augmented copies ``<key>~aug<n>`` share their original's base key."""
    return _AUG_SUFFIX.sub("", key)


def scan_shards(shards: Sequence[Path]) -> list[tuple[str, Path, dict[str, tuple[int, int]]]]:
    """Index every sample of the shards without reading image data.

    Returns:
        one ``(key, shard path, {field: (byte offset, size)})`` per sample, in shard order.

    Raises:
        DataError: a shard is missing or not a readable tar file.
    """
    samples: list[tuple[str, Path, dict[str, tuple[int, int]]]] = []
    for shard in shards:
        try:
            with tarfile.open(shard) as tar:
                current: dict[str, tuple[int, int]] = {}
                key = None
                for member in tar:
                    k, _, suffix = member.name.partition(".")
                    if key is not None and k != key:
                        samples.append((key, Path(shard), current))
                        current = {}
                    key = k
                    current[suffix.split(".")[0]] = (member.offset_data, member.size)
                if key is not None:
                    samples.append((key, Path(shard), current))
        except (OSError, tarfile.TarError) as exc:
            raise DataError(f"{shard}: not a readable record shard ({exc}); rebuild it with `tryon teacher build`") \
                from None
    return samples


def record_categories(samples: Sequence[tuple[str, Path, dict[str, tuple[int, int]]]]) -> tuple[str, ...]:
    """The garment categories (FASHN's names, sorted) of the records, from each sample's ``json`` metadata: what a
    student trained on them dresses (written into its checkpoint, then its manifest's ``categories``).

    Args:
        samples: :func:`scan_shards` entries.

    Raises:
        DataError: a record without a readable category (rebuild it with ``tryon teacher build``).
    """
    from tryon.garment.category import normalise_category

    found: set[str] = set()
    handles: dict[Path, Any] = {}
    try:
        for key, shard, members in samples:
            if "json" not in members:
                raise DataError(f"{shard}: record {key} has no metadata; rebuild it with `tryon teacher build`")
            f = handles.get(shard) or handles.setdefault(shard, open(shard, "rb"))  # noqa: SIM115 - closed below
            offset, size = members["json"]
            f.seek(offset)
            category = json.loads(f.read(size)).get("category")
            if not category:
                raise DataError(f"{shard}: record {key} names no garment category; rebuild it with "
                                "`tryon teacher build`")
            found.add(normalise_category(category))
    finally:
        for f in handles.values():
            f.close()
    return tuple(sorted(found))


def read_member_record(shard: Path, members: dict[str, tuple[int, int]], key: str = "?") -> dict:
    """Decode one sample's members (as ``tryon.data.records.iter_records`` does): images (H, W, 3) uint8,
    masks (H, W) float32 in [0, 1], parse (H, W) uint8, grid (H, W, 2) float32, keypoints (33, 4) float32.

    Raises:
        DataError: a member is missing or cannot be decoded.
    """
    missing = [f for f in _NEEDED if f not in members]
    if missing:
        raise DataError(f"{shard}: sample {key!r} lacks {', '.join(missing)}")
    rec: dict = {}
    try:
        with open(shard, "rb") as f:
            for name, (offset, size) in members.items():
                if name in ("json",):
                    continue
                f.seek(offset)
                data = f.read(size)
                if name in ("grid", "keypoints"):
                    rec[name] = np.load(io.BytesIO(data), allow_pickle=False).astype(np.float32)
                else:
                    a = np.asarray(Image.open(io.BytesIO(data)))
                    rec[name] = a.astype(np.float32) / 255.0 if name in MASK_FIELDS else a
    except (OSError, ValueError) as exc:
        raise DataError(f"{shard}: sample {key!r} cannot be decoded ({exc})") from None
    return rec


def resize_record(rec: dict, size: tuple[int, int]) -> dict:
    """Resize every person- and garment-frame array to ``size`` = (H, W) (area filter when shrinking).

    Grid *values* are normalised garment coordinates, unchanged when both frames are resized; keypoints are
    rescaled (pixel-centre convention). The aspect ratio must be kept (the caller checks).
    """
    h, w = size
    sh, sw = rec["person"].shape[:2]
    if (sh, sw) == (h, w):
        return rec
    interp = cv2.INTER_AREA if h * w < sh * sw else cv2.INTER_LINEAR
    out = dict(rec)
    for name, a in rec.items():
        if name == "parse":
            out[name] = cv2.resize(a, (w, h), interpolation=cv2.INTER_NEAREST)
        elif name == "grid":
            out[name] = np.clip(cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR), -1, 1)
        elif name == "keypoints":
            kp = a.copy()
            kp[:, 0] = (kp[:, 0] + 0.5) * w / sw - 0.5
            kp[:, 1] = (kp[:, 1] + 0.5) * h / sh - 0.5
            out[name] = kp
        elif isinstance(a, np.ndarray) and a.ndim >= 2 and a.shape[:2] == (sh, sw):
            r = cv2.resize(a, (w, h), interpolation=interp)
            out[name] = np.clip(r, 0, 1) if a.dtype != np.uint8 else r
    return out


def make_reconstruction(rec: dict, rng: np.random.Generator, *, fill: float = 0.8, tps_sigma: float = 0.03,
                        min_area: float = 0.02) -> dict | None:
    """Turn a record into a self-supervised reconstruction sample (see the module docstring).

    Args:
        rec: a decoded record (person frame and garment frame of the same size).
        fill: fraction of the garment image's half-extent the cut garment spans (like an in-shop photo).
        tps_sigma: thin-plate-spline jitter of the cut garment, normalised units.
        min_area: smallest torso area (fraction of the image) worth cutting; below it None is returned.

    Returns:
        a record with the same fields (person = the teacher's try-on, garment = the cut own garment, targets
        from the real photo), or None when the parse has too little torso.
    """
    person = rec["person"]
    h, w = person.shape[:2]
    torso = (rec["parse"] == LABEL["torso"])
    if torso.mean() < min_area:
        return None
    # Drop the one-pixel fringe where the parse and the photo disagree.
    torso = cv2.erode(torso.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    ys, xs = np.nonzero(torso)
    if len(xs) == 0:
        return None
    # Torso box in normalised units (pixel-centre convention).
    x0, x1 = (xs.min() + 0.5) * 2 / w - 1, (xs.max() + 0.5) * 2 / w - 1
    y0, y1 = (ys.min() + 0.5) * 2 / h - 1, (ys.max() + 0.5) * 2 / h - 1
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([max((x1 - x0) / 2, 2 / w), max((y1 - y0) / 2, 2 / h)])
    s = fill / half.max()  # person-frame units -> garment-frame units (same scale on x and y)
    n = 4
    t = np.linspace(-0.8, 0.8, n)
    ctrl = np.stack(np.meshgrid(t, t, indexing="xy"), -1).reshape(-1, 2)
    tps = tps_displacement(ctrl, rng.normal(0, tps_sigma, (n * n, 2)))

    # D: garment location u -> person location  D(u) = centre + u / s + tps(u)
    gx = (np.arange(w) * 2 + 1) / w - 1
    gy = (np.arange(h) * 2 + 1) / h - 1
    u = np.stack(np.meshgrid(gx, gy, indexing="xy"), -1)  # (H, W, 2)
    src = centre + u / s + tps(u)
    map_x = ((src[..., 0] + 1) * w / 2 - 0.5).astype(np.float32)
    map_y = ((src[..., 1] + 1) * h / 2 - 0.5).astype(np.float32)
    cut = np.where(torso[..., None] > 0, person, 255).astype(np.uint8)
    garment = cv2.remap(cut, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                        borderValue=(255, 255, 255))
    garment_mask = np.clip(cv2.remap(torso, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=0), 0, 1)
    # Target grid: for a person pixel p, the garment location u with D(u) = p (fixed point; the jitter is small).
    p = np.stack(np.meshgrid(gx, gy, indexing="xy"), -1)  # (H, W, 2) person pixel centres
    g = s * (p - centre)
    for _ in range(10):
        g = s * (p - centre - tps(g))
    out = dict(rec)
    out.update(person=rec["tryon"], garment=garment, garment_mask=garment_mask.astype(np.float32),
               tryon=person, warped_garment=person, warped_mask=torso, composition_mask=torso.copy(),
               grid=np.clip(g, -1, 1).astype(np.float32))
    return out


def to_tensors(rec: dict) -> dict[str, torch.Tensor]:
    """Record arrays -> the training sample: images (3, H, W) float32 in [-1, 1], masks (1, H, W) float32 in
    [0, 1], ``grid`` (H, W, 2) float32 in [-1, 1]."""
    out: dict[str, torch.Tensor] = {}
    for name in IMAGE_KEYS:
        x = rec[name].transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 127.5) - np.float32(1.0)  # (3, H, W)
        out[name] = torch.from_numpy(np.ascontiguousarray(x))
    for name in MASK_KEYS:
        out[name] = torch.from_numpy(np.ascontiguousarray(rec[name], dtype=np.float32))[None]
    out["grid"] = torch.from_numpy(np.ascontiguousarray(rec["grid"], dtype=np.float32))
    return out


def split_keys(keys: Sequence[str], val_fraction: float) -> tuple[list[int], list[int]]:
    """Deterministic train/validation split by a hash of each record's base key (augmented copies of one pair
    stay together, so no pair leaks from training into validation).

    Returns:
        (train indices, validation indices).
    """
    train, val = [], []
    threshold = int(round(val_fraction * 10_000))
    for i, k in enumerate(keys):
        (val if zlib.crc32(base_key(k).encode()) % 10_000 < threshold else train).append(i)
    return train, val


class RecordDataset(Dataset):
    """Map-style data set over a record folder, at a chosen training size.

    Args:
        data_dir: a folder written by ``tryon teacher build``.
        size: (H, W) to train at; records are resized (area filter) when it differs from theirs. The aspect
            ratio must match the records'. None = the records' size.
        indices: which samples (of the folder's order) this data set holds; None = all.
        augment: random augmentation (``tryon.data.augment``) or None.
        recon_prob: probability that a sample is turned into a reconstruction sample.
        seed: base of the per-sample random generators.

    Raises:
        DataError: not a record folder, no samples, unreadable shards or a different aspect ratio.
    """

    def __init__(self, data_dir: str | Path, size: tuple[int, int] | None = None, *,
                 indices: Sequence[int] | None = None, augment: AugmentConfig | None = None,
                 recon_prob: float = 0.0, seed: int = 0, samples: list | None = None):
        index = read_index(data_dir)  # raises DataError for an empty or missing data set
        self.record_size: tuple[int, int] = tuple(index["size"])
        self.size = tuple(size) if size is not None else self.record_size
        rh, rw = self.record_size
        if abs(self.size[0] / self.size[1] - rh / rw) > 0.02 * rh / rw:
            raise DataError(f"{data_dir}: records are {rh}x{rw}; training size {self.size[0]}x{self.size[1]} "
                            "has another aspect ratio")
        self.samples = samples if samples is not None else scan_shards(index["shards"])
        if not self.samples:
            raise DataError(f"{data_dir}: the data set holds no samples")
        self.indices = list(range(len(self.samples))) if indices is None else list(indices)
        self.augment = augment
        self.recon_prob = recon_prob
        self.seed = seed
        self.epoch = 0

    @property
    def keys(self) -> list[str]:
        """Keys of this data set's samples, in order."""
        return [self.samples[i][0] for i in self.indices]

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's random draws (call before each epoch, before the DataLoader starts workers)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def record(self, i: int) -> dict:
        """The decoded record of sample ``i`` (before augmentation), at the record size."""
        key, shard, members = self.samples[self.indices[i]]
        return read_member_record(shard, members, key)

    def __getitem__(self, i: int) -> dict:
        rec = self.record(i)
        rng = np.random.default_rng([self.seed, self.epoch, self.indices[i]])
        if self.augment is not None:
            rec = augment_record(rec, rng, self.augment)
        kind = 0
        if self.recon_prob > 0 and rng.random() < self.recon_prob:
            recon = make_reconstruction(rec, rng)
            if recon is not None:
                rec, kind = recon, 1
        rec = resize_record(rec, self.size)
        sample = to_tensors(rec)
        sample["kind"] = torch.tensor(kind, dtype=torch.int64)
        sample["index"] = torch.tensor(self.indices[i], dtype=torch.int64)
        return sample


class ShardedSampler(Sampler[int]):
    """``DistributedSampler`` equivalent that can start part-way into an epoch (to resume a killed run).

    Every rank gets ``ceil(n / world_size)`` indices of one permutation seeded by (seed, epoch); the permutation
    is padded by wrapping around, so all ranks run the same number of steps (DDP requires it).

    Args:
        n: data set length. rank, world_size: this process and the number of processes.
        shuffle: permute each epoch. seed: base seed, the same on every rank.
    """

    def __init__(self, n: int, rank: int = 0, world_size: int = 1, *, shuffle: bool = True, seed: int = 0):
        if n <= 0:
            raise DataError("no samples to train on")
        self.n, self.rank, self.world_size = n, rank, world_size
        self.shuffle, self.seed = shuffle, seed
        self.epoch = 0
        self.start = 0
        self.per_rank = -(-n // world_size)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch's permutation and skip this rank's first ``start`` indices."""
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        total = self.per_rank * self.world_size
        order = (order * (-(-total // self.n)))[:total]  # pad by wrapping around
        mine = order[self.rank:total:self.world_size]
        return iter(mine[self.start:])

    def __len__(self) -> int:
        return max(self.per_rank - self.start, 0)
