"""Student training checkpoints: atomic writes, validated reads, everything needed to resume.

A checkpoint is a ``torch.save`` dict (loaded back with ``weights_only=True``: plain containers, numbers,
strings and tensors only, never pickled code) holding, as nanoGPT's ``train.py`` does, what rebuilds the model
on its own:

==================  ===========================================================================================
key                 content
==================  ===========================================================================================
``format``          ``"tryon-student-checkpoint"``; ``version`` its integer version
``model``           registered model name (``tryon.models.create_model``)
``model_args``      the model's architecture (``dataclasses.asdict(model.cfg)``), enough to rebuild it
``model_state``     the model's ``state_dict`` (unwrapped from DDP)
``config``          the whole ``TrainConfig`` as a dict
``optimizer``       the optimiser's ``state_dict``
``progress``        ``{"step", "stage", "epoch", "batch"}``: where training goes on
``rng``             torch / CUDA / numpy / Python generator states of rank 0
``metrics``         the last logged losses (for a quick look with ``torch.load``)
==================  ===========================================================================================

Writes go to a temporary file in the same folder, are flushed to disk and renamed over the target with
``os.replace``, so a run killed while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tryon.errors import DataError
from tryon.processing import atomic_write

__all__ = ["FORMAT", "VERSION", "save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state",
           "build_model_from_checkpoint"]

FORMAT = "tryon-student-checkpoint"
VERSION = 1
_REQUIRED = ("format", "version", "model", "model_args", "model_state", "config", "progress")


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (the keys of the module table; ``format``/``version`` are added) atomically.

    Raises:
        OutputError: the folder cannot be written.
    """
    p = Path(path)
    state = {"format": FORMAT, "version": VERSION, **state}
    atomic_write(p, lambda f: torch.save(state, f), fsync=True)
    return p


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate a checkpoint written by :func:`save_checkpoint`.

    Raises:
        DataError: the file is missing, truncated or corrupt, not a student checkpoint, or of a newer version;
            the message names the file and what to do.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such checkpoint")
    try:
        state = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, zipfile errors...
        raise DataError(f"{p}: the checkpoint is corrupt or truncated ({type(exc).__name__}: {exc}); delete it "
                        "and resume from an older one (ckpt-*.pt in the same folder), or start afresh") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataError(f"{p}: not a student training checkpoint (format {state.get('format')!r}"
                        if isinstance(state, dict) else f"{p}: not a student training checkpoint")
    if state.get("version", 0) > VERSION:
        raise DataError(f"{p}: checkpoint version {state['version']} is newer than this toolkit reads ({VERSION})")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise DataError(f"{p}: the checkpoint lacks {', '.join(missing)}")
    return state


def rng_state() -> dict[str, Any]:
    """The process's generator states in a form ``weights_only`` loading accepts."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` (missing parts are left alone)."""
    if "torch" in state:
        torch.set_rng_state(state["torch"].cpu())
    if "python" in state:
        v = state["python"]
        random.setstate((v[0], tuple(v[1]), v[2]))
    if "numpy" in state:
        n = state["numpy"]
        np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                             n["cached_gaussian"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def build_model_from_checkpoint(state: dict[str, Any]) -> torch.nn.Module:
    """Rebuild the student of a loaded checkpoint and load its weights (eval mode).

    Raises:
        DataError: the registered model is unknown or its weights do not fit.
    """
    from tryon.models import create_model

    args = {k: tuple(v) if isinstance(v, list) else v for k, v in state["model_args"].items()}
    try:
        model = create_model(state["model"], **args)
        model.load_state_dict(state["model_state"])
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise DataError(f"checkpoint model {state['model']!r} cannot be rebuilt: {exc}") from None
    return model.eval()
