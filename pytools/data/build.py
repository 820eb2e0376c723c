"""Build the distillation data set: run the teacher over (person, garment) pairs and write record shards.

The teacher works at each photo's own resolution; records are letterboxed to one size (e.g. 256×192), or their
person side cropped to the garment category's framing box (``framing``: ``tryon teacher build --frame``), with
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
                       size: tuple[int, int], box: tuple[int, int, int, int] | None = None) -> dict[str, np.ndarray]:
    """Letterbox a teacher result and its inputs to the record ``size`` = (H, W), or crop its person side to a
    framing box.

    Args:
        person: (Hp, Wp, 3) uint8 person photo; ``result`` fields are at this resolution.
        garment: (Hg, Wg, 3) uint8 garment photo; garment_mask: (Hg, Wg) float32 in [0, 1].
        result: a ``tryon.teacher.pipeline.TeacherResult``.
        size: (height, width) of the record.
        box: (x0, y0, width, height) photo pixels at the record's aspect (``tryon.framing.category_box``): the
            person-side fields are cropped to it (white, or 0 for masks and labels, outside the photo), as the
            runtimes crop a shopper's photo before the student; None letterboxes the whole photo.

    Returns:
        the arrays of one record (see ``tryon.data.records``).
    """
    import cv2

    from tryon.framing import box_transform, crop_to_box

    h, w = size

    def person_side(img: np.ndarray, fill: float) -> np.ndarray:
        return letterbox(img, size, fill=fill)[0] if box is None else crop_to_box(img, box, size, fill=fill)

    rec: dict[str, np.ndarray] = {}
    if box is None:
        rec["person"], pt = letterbox(person, size, fill=255)
    else:
        rec["person"], pt = crop_to_box(person, box, size, fill=255), box_transform(box, size)
    rec["tryon"] = person_side(result.tryon, 255)
    rec["agnostic"] = person_side(result.agnostic, 255)
    rec["warped_garment"] = person_side(result.warped_garment, 255)
    rec["garment"], gt = letterbox(garment, size, fill=255)
    rec["garment_mask"], _ = letterbox(garment_mask.astype(np.float32), size, fill=0)
    rec["warped_mask"] = person_side(result.warped_mask.astype(np.float32), 0)
    rec["composition_mask"] = person_side(result.composition_mask.astype(np.float32), 0)
    # Labels must not be blended: the parse is sampled with nearest neighbours.
    ph, pw = result.parse.shape
    parse = np.zeros((h, w), result.parse.dtype)
    if box is None:
        scale = min(h / ph, w / pw)
        nh, nw = round(ph * scale), round(pw * scale)
        parse[(h - nh) // 2:(h - nh) // 2 + nh, (w - nw) // 2:(w - nw) // 2 + nw] = cv2.resize(
            result.parse, (nw, nh), interpolation=cv2.INTER_NEAREST)
    else:
        x0, y0, bw, bh = box
        canvas = np.zeros((bh, bw), result.parse.dtype)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(pw, x0 + bw), min(ph, y0 + bh)
        if sx1 > sx0 and sy1 > sy0:
            canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = result.parse[sy0:sy1, sx0:sx1]
        parse[:] = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_NEAREST)
    rec["parse"] = parse
    grid = person_side(result.grid.astype(np.float32), -1.0)
    rec["grid"] = np.clip(remap_grid(grid, garment.shape[:2], size, gt), -1, 1)
    kp = result.keypoints.astype(np.float32).copy()
    kp[:, 0] = kp[:, 0] * pt[0] + pt[2]
    kp[:, 1] = kp[:, 1] * pt[1] + pt[3]
    rec["keypoints"] = kp
    return rec


def build_records(pairs: Sequence[Pair], out_dir: str | Path, *, size: tuple[int, int] = (256, 192),
                  shard_size: int = 512, rank: int = 0, world_size: int = 1, teacher=None,
                  on_progress: Callable[[str, bool], None] | None = None, augment: int = 0,
                  seed: int = 0, framing=None) -> dict:
    """Run the teacher on this rank's share of ``pairs`` and write record shards into ``out_dir``.

    Args:
        pairs: all pairs; this rank takes ``pairs[rank::world_size]``.
        size: record (height, width).
        teacher: a ``tryon.teacher.pipeline.Teacher`` (built with defaults when None).
        on_progress: called after each pair with (pair name, succeeded).
        augment: also write this many randomly augmented copies of each record (``tryon.data.augment``), keyed
            ``<key>~aug<n>``; the teacher runs once per pair.
        seed: seed of the augmentation (each copy draws from ``default_rng([seed, crc32(key), n])``).
        framing: a :class:`tryon.framing.FramingConfig`: each record is the box of its garment's category
            (:func:`tryon.framing.category_box` on the teacher's keypoints, the record's aspect), the frame the
            runtimes give the student; a person whose photo lacks the body part the category needs is refused
            (``PoseError``, listed in ``errors``). None letterboxes the whole photo (VITON-style frames).

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
                box = None
                if framing is not None:
                    from tryon.framing import category_box

                    box, _ = category_box(result.keypoints, person.shape[:2], size, framing,
                                          result.garment_info.category)
                rec = record_from_result(person, garment, gmask, result, size, box)
                meta = {"person": str(pair.person), "garment": str(pair.garment),
                        "person_size": list(person.shape[:2]), "garment_size": list(garment.shape[:2]),
                        "category": result.garment_info.category, "sleeve": result.garment_info.sleeve}
                if box is not None:
                    meta["box"] = [int(v) for v in box]
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
