"""Build the distillation data set: run the teacher over (person, garment) pairs and write record shards.

The teacher works at each photo's own resolution; records are letterboxed to one size (e.g. 256×192) with
the sampling grid remapped so that it still points into the letterboxed garment (see ``tryon.data.records``
for the format). Work is split by rank: rank r of W takes pairs r, r+W, r+2W, ... and writes its own shards,
so several processes or machines can fill one folder. A rerun skips the pairs already written.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tryon.data.augment import augment_record
from tryon.data.pairs import Pair
from tryon.data.records import ShardWriter
from tryon.errors import DataError, LowConfidenceError, TryonError
from tryon.processing import letterbox, load_image

__all__ = ["record_from_result", "build_records", "remap_grid"]

log = logging.getLogger(__name__)


def remap_grid(grid: np.ndarray, src_size: tuple[int, int], dst_size: tuple[int, int],
               transform: tuple[float, float, float, float]) -> np.ndarray:
    """Re-express grid *values* after the garment image was letterboxed.

    Args:
        grid: (..., 2) sampling grid in [-1, 1] over a garment image of ``src_size`` = (H, W)
            (``grid_sample``, align_corners=False).
        src_size: the garment's original (height, width).
        dst_size: the letterboxed garment's (height, width).
        transform: ``(scale_x, scale_y, offset_x, offset_y)`` from ``tryon.processing.letterbox``.

    Returns:
        (..., 2) grid over the letterboxed garment, float32.
    """
    (sh, sw), (dh, dw) = src_size, dst_size
    scale_x, scale_y, off_x, off_y = transform
    x = (grid[..., 0] + 1.0) * sw / 2.0 - 0.5
    y = (grid[..., 1] + 1.0) * sh / 2.0 - 0.5
    x, y = x * scale_x + off_x, y * scale_y + off_y
    return np.stack([(x + 0.5) * 2.0 / dw - 1.0, (y + 0.5) * 2.0 / dh - 1.0], axis=-1).astype(np.float32)


def record_from_result(person: np.ndarray, garment: np.ndarray, garment_mask: np.ndarray, result,
                       size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Letterbox a teacher result and its inputs to the record ``size`` = (H, W).

    Args:
        person: (Hp, Wp, 3) uint8 person photo; ``result`` fields are at this resolution.
        garment: (Hg, Wg, 3) uint8 garment photo; garment_mask: (Hg, Wg) float32 in [0, 1].
        result: a ``tryon.teacher.pipeline.TeacherResult``.

    Returns:
        the arrays of one record (see ``tryon.data.records``).
    """
    import cv2

    h, w = size
    rec: dict[str, np.ndarray] = {}
    rec["person"], pt = letterbox(person, size, fill=255)
    rec["tryon"], _ = letterbox(result.tryon, size, fill=255)
    rec["agnostic"], _ = letterbox(result.agnostic, size, fill=255)
    rec["warped_garment"], _ = letterbox(result.warped_garment, size, fill=255)
    rec["garment"], gt = letterbox(garment, size, fill=255)
    rec["garment_mask"], _ = letterbox(garment_mask.astype(np.float32), size, fill=0)
    rec["warped_mask"], _ = letterbox(result.warped_mask.astype(np.float32), size, fill=0)
    rec["composition_mask"], _ = letterbox(result.composition_mask.astype(np.float32), size, fill=0)
    parse, _ = letterbox(result.parse, size, fill=0)
    # Labels must not be blended: redo the parse with nearest-neighbour sampling.
    ph, pw = result.parse.shape
    scale = min(h / ph, w / pw)
    nh, nw = round(ph * scale), round(pw * scale)
    parse[:] = 0
    parse[(h - nh) // 2:(h - nh) // 2 + nh, (w - nw) // 2:(w - nw) // 2 + nw] = cv2.resize(
        result.parse, (nw, nh), interpolation=cv2.INTER_NEAREST)
    rec["parse"] = parse
    grid, _ = letterbox(result.grid.astype(np.float32), size, fill=-1.0)
    rec["grid"] = np.clip(remap_grid(grid, garment.shape[:2], size, gt), -1, 1)
    kp = result.keypoints.astype(np.float32).copy()
    kp[:, 0] = kp[:, 0] * pt[0] + pt[2]
    kp[:, 1] = kp[:, 1] * pt[1] + pt[3]
    rec["keypoints"] = kp
    return rec


def build_records(pairs: Sequence[Pair], out_dir: str | Path, *, size: tuple[int, int] = (256, 192),
                  shard_size: int = 512, rank: int = 0, world_size: int = 1, teacher=None,
                  on_progress: Callable[[str, bool], None] | None = None, augment: int = 0,
                  seed: int = 0) -> dict:
    """Run the teacher on this rank's share of ``pairs`` and write record shards into ``out_dir``.

    Args:
        pairs: all pairs; this rank takes ``pairs[rank::world_size]``.
        size: record (height, width).
        teacher: a ``tryon.teacher.pipeline.Teacher`` (built with defaults when None).
        on_progress: called after each pair with (pair name, succeeded).
        augment: also write this many randomly augmented copies of each record (``tryon.data.augment``), keyed
            ``<key>~aug<n>``; the teacher runs once per pair.
        seed: seed of the augmentation (each copy draws from ``default_rng([seed, crc32(key), n])``).

    Returns:
        ``{"written", "skipped", "failed", "gated", "out_dir", "errors"}`` (counted in pairs; ``written`` records =
        ``written · (1 + augment)``; ``gated``: results dropped by the teacher's quality gate, so the student never
        learns from them, counted apart from the other refusals in ``failed``); refused and gated pairs are listed
        in ``errors``, ``errors-r<rank>.jsonl`` (gated ones with their measured ``quality``). Each record's
        metadata holds its ``confidence``.

    Raises:
        DataError: no pairs, or a rank outside [0, world_size).
    """
    if not pairs:
        raise DataError("no pairs to build records from")
    if not 0 <= rank < world_size:
        raise DataError(f"rank {rank} is outside [0, {world_size})")
    if teacher is None:
        from tryon.teacher.pipeline import Teacher

        teacher = Teacher()
    from tryon.garment.source import load_garment

    out = Path(out_dir)
    mine = list(pairs)[rank::world_size]
    written = skipped = gated = 0
    errors: list[dict] = []
    with ShardWriter(out, size, shard_size=shard_size, rank=rank) as writer:
        done = writer.done_keys
        for pair in mine:
            key = pair.name.replace(".", "_")
            keys = [key] + [f"{key}~aug{n}" for n in range(1, augment + 1)]
            if all(k in done for k in keys):
                skipped += 1
                if on_progress:
                    on_progress(pair.name, True)
                continue
            try:
                person = load_image(pair.person)
                garment, gmask, _ = load_garment(str(pair.garment))
                result = teacher.run(person, garment, garment_mask=gmask, category=pair.category)
                if gmask is None:
                    gmask = result.garment_mask
                rec = record_from_result(person, garment, gmask, result, size)
                meta = {"person": str(pair.person), "garment": str(pair.garment),
                        "person_size": list(person.shape[:2]), "garment_size": list(garment.shape[:2]),
                        "category": result.garment_info.category, "sleeve": result.garment_info.sleeve}
                if getattr(result, "quality", None) is not None:
                    meta["confidence"] = round(float(result.quality.confidence), 4)
                if key not in done:
                    writer.write(key, rec, meta)
                for n, k in enumerate(keys[1:], start=1):
                    if k not in done:
                        rng = np.random.default_rng([seed, zlib.crc32(key.encode()), n])
                        writer.write(k, augment_record(rec, rng), {**meta, "augmented_from": key, "augment_seed": seed})
                written += 1
                ok = True
            except TryonError as exc:
                err = {"person": str(pair.person), "garment": str(pair.garment), "error": exc.name,
                       "message": exc.message}
                if isinstance(exc, LowConfidenceError):
                    gated += 1
                    if exc.quality is not None:
                        err["quality"] = exc.quality.as_dict()
                errors.append(err)
                ok = False
            if on_progress:
                on_progress(pair.name, ok)
    errors_path = out / f"errors-r{rank:03d}.jsonl"
    if errors:
        with open(errors_path, "a") as f:
            f.writelines(json.dumps(e) + "\n" for e in errors)
    return {"written": written, "skipped": skipped, "failed": len(errors) - gated, "gated": gated,
            "out_dir": str(out), "errors": str(errors_path)}
