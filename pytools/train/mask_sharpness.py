"""Choose the deployed composition-mask sharpness of a trained student on held-out teacher records.

Why: a student trained with L1 on the try-on image settles on a *soft* composition mask wherever its warp is
uncertain (the blend of the warped garment and the render has a lower expected L1 than either alone). The
default student's mask is about 0.84 opaque inside the teacher's garment region and 0.10 outside it, which a
shopper sees as a translucent garment with the old one showing through, while the teacher's own composition
(VITON / CP-VTON style) is nearly binary. ``StudentConfig.mask_sharpness`` = k multiplies the composition logit,
``composition_mask = sigmoid(k · logit) · warped_mask``; this module measures, for a range of k, on the
records held out from training (the same split ``tryon train`` uses):

=====================  ===========================================================================================
``tryon_l1``           mean |student − teacher| over the try-on image, [-1, 1] units
``mask_bce``           binary cross-entropy of the composition mask against the teacher's
``translucent``        share of the mask's support (> 0.1) that is translucent (< 0.9); the teacher's share on the
                       same records is reported beside it
=====================  ===========================================================================================

and picks the smallest k whose translucent share is no more than the teacher's, among the k whose try-on L1 is
within ``l1_tolerance`` of the best (so sharpening never costs visible fidelity). ``tryon mask-sharpness``
writes the student's weights with that k, ready for ``tryon export``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from tryon.errors import DataError, UsageError

__all__ = ["DEFAULT_KS", "SweepRow", "translucent_share", "sweep", "choose", "save_weights"]

DEFAULT_KS: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


@dataclass(frozen=True)
class SweepRow:
    """Scores of one sharpness k on the held-out records (see the module table)."""

    k: float
    tryon_l1: float
    mask_bce: float
    translucent: float
    teacher_translucent: float


def translucent_share(mask: torch.Tensor, low: float = 0.1, high: float = 0.9) -> torch.Tensor:
    """Per-sample share of the support (``mask > low``) that is translucent (``mask < high``).

    Args:
        mask: (N, 1, H, W) composition masks in [0, 1].

    Returns:
        (N,) shares in [0, 1]; 0 for an empty mask.
    """
    support = (mask > low).flatten(1)
    soft = (support & (mask < high).flatten(1)).sum(1).float()
    return soft / support.sum(1).clamp_min(1).float()


@torch.no_grad()
def sweep(model: torch.nn.Module, data_dir: str | Path, ks: Sequence[float] = DEFAULT_KS, *,
          val_fraction: float = 0.05, max_samples: int = 64, batch_size: int = 16,
          progress: bool = True) -> list[SweepRow]:
    """Score the student at each sharpness k on the records ``tryon train`` held out.

    Args:
        model: an AFN student (``tryon.models.afn_student``) whose ``cfg`` has ``mask_sharpness``; it is
            restored to its own k afterwards.
        data_dir: a record folder (``tryon teacher build``); its held-out split is recomputed by pair key.
        ks: the sharpness values to try (each > 0).
        val_fraction: the share of pairs held out, as in training (``tryon train --val-fraction``).
        max_samples: at most this many held-out records are scored.

    Returns:
        One :class:`SweepRow` per k, in the order given.

    Raises:
        UsageError: the model has no ``mask_sharpness`` or a k is not > 0.
        DataError: no records, or none held out.
    """
    from tqdm.auto import tqdm

    from tryon.train.dataset import RecordDataset, split_keys

    if not dataclasses.is_dataclass(getattr(model, "cfg", None)) or not hasattr(model.cfg, "mask_sharpness"):
        raise UsageError(f"{type(model).__name__} has no composition-mask sharpness to choose")
    if not ks or any(not k > 0 for k in ks):
        raise UsageError(f"sharpness values must be > 0, got {list(ks)}")
    full = RecordDataset(data_dir)
    _, val_idx = split_keys([s[0] for s in full.samples], val_fraction)
    if not val_idx:
        raise DataError(f"{data_dir}: no held-out records at --val-fraction {val_fraction}; raise it")
    ds = RecordDataset(data_dir, indices=val_idx[:max_samples], samples=full.samples)
    batches = [torch.utils.data.default_collate([ds[i] for i in range(j, min(j + batch_size, len(ds)))])
               for j in range(0, len(ds), batch_size)]
    teacher = torch.cat([translucent_share(b["composition_mask"]) for b in batches]).mean().item()
    own = model.cfg
    was_training = model.training
    model.eval()
    rows = []
    try:
        for k in tqdm(ks, desc="mask sharpness", unit="k", disable=not progress):
            model.cfg = dataclasses.replace(own, mask_sharpness=float(k))
            l1, bce, soft, n = 0.0, 0.0, 0.0, 0
            for b in batches:
                out = model(b["person"], b["garment"], b["garment_mask"])
                m = out["composition_mask"].float()
                count = m.shape[0]
                l1 += (out["tryon"].float() - b["tryon"]).abs().flatten(1).mean(1).sum().item()
                bce += F.binary_cross_entropy(m.clamp(1e-4, 1 - 1e-4), b["composition_mask"],
                                              reduction="none").flatten(1).mean(1).sum().item()
                soft += translucent_share(m).sum().item()
                n += count
            rows.append(SweepRow(float(k), l1 / n, bce / n, soft / n, teacher))
    finally:
        model.cfg = own
        model.train(was_training)
    return rows


def choose(rows: Sequence[SweepRow], l1_tolerance: float = 0.01) -> SweepRow:
    """The smallest k that is at least as opaque as the teacher, among the k within ``l1_tolerance`` (relative)
    of the best try-on L1; the most opaque of those when none reaches the teacher's share.

    Raises:
        UsageError: no rows.
    """
    if not rows:
        raise UsageError("no sharpness values were scored")
    best = min(r.tryon_l1 for r in rows)
    fine = sorted((r for r in rows if r.tryon_l1 <= best * (1 + l1_tolerance)), key=lambda r: r.k)
    for r in fine:
        if r.translucent <= r.teacher_translucent:
            return r
    return min(fine, key=lambda r: r.translucent)


def save_weights(model: torch.nn.Module, variant: str, path: str | Path, *, k: float, note: str = "",
                 half: bool = True, categories: Sequence[str] | None = None) -> Path:
    """Write the student's weights with ``mask_sharpness = k`` as a weight file ``tryon export --checkpoint``
    and ``tryon train --init`` read (``variant``, ``arch``, ``state_dict``; floats as fp16 when ``half``;
    ``categories``, the garment categories it was trained on, kept from its checkpoint when given).

    The file is written atomically: an interrupted save leaves any previous file intact.

    Raises:
        OutputError: the folder cannot be written.
    """
    from tryon.processing import atomic_write

    arch = {k_: list(v) if isinstance(v, tuple) else v for k_, v in dataclasses.asdict(model.cfg).items()}
    arch["mask_sharpness"] = float(k)
    state = {n: (t.half() if half and t.is_floating_point() else t).clone() for n, t in model.state_dict().items()}
    obj = {"variant": variant, "arch": arch, "state_dict": state, "note": note}
    if categories is not None:
        obj["categories"] = list(categories)
    p = Path(path)
    atomic_write(p, lambda f: torch.save(obj, f), fsync=True)
    return p
