"""Sample inputs for any ONNX model: calibration of static int8 and the accuracy figures of every mode.

Three sources, one feed dict (input name -> array of the input's element type and shape) per sample:

- **try-on photos** (a ``person/`` + ``garment/`` folder or a pairs CSV), only for a model with the student's
  inputs: preprocessed as the runtime does (:mod:`tryon.quantize.calibration`);
- **arrays**: one ``.npz`` file, or a folder of them (read in name order), each holding one array per model input
  name. An array of the input's rank is one sample; one of rank + 1 is a stack of samples along its first axis.
  Arrays are cast to the input's element type; static dimensions must match;
- **random** inputs (only when asked, ``--random-calibration N``): uniform in [0, 1) for a float input (the usual
  image normalisation; the student's inputs in [-1, 1) and its mask in [0, 1)), zeros for an integer input.
  Figures measured on them say little about real inputs, so :func:`random_samples` logs a warning.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx

from tryon.errors import DataError, UsageError
from tryon.quantize.calibration import STUDENT_INPUTS, load_samples
from tryon.quantize.onnx_io import TensorSpec, input_specs

__all__ = ["RANDOM_WARNING", "is_student", "is_npz_source", "load_npz_samples", "random_samples", "load_inputs"]

log = logging.getLogger(__name__)

RANDOM_WARNING = ("random inputs: the accuracy figures (and int8 calibration ranges) are measured on noise, not on "
                  "the data the model will see; give --calibration/--eval real inputs (.npz) for a figure to trust")

_NP_DTYPES = {"float32": np.float32, "float16": np.float16, "float64": np.float64, "int64": np.int64,
              "int32": np.int32, "uint8": np.uint8, "int8": np.int8}


def is_student(model: onnx.ModelProto) -> bool:
    """True when every input of ``model`` is one of the try-on student's (:data:`STUDENT_INPUTS`)."""
    specs = input_specs(model)
    return bool(specs) and all(s.name in STUDENT_INPUTS for s in specs)


def is_npz_source(source: str | os.PathLike) -> bool:
    """True for a ``.npz`` file or a folder holding at least one."""
    p = Path(source)
    return (p.is_file() and p.suffix.lower() == ".npz") or (p.is_dir() and any(p.glob("*.npz")))


def _describe(specs: list[TensorSpec]) -> str:
    return ", ".join(f"{s.name} {s.dtype} {list(s.shape)}" for s in specs)


def _concrete_shape(spec: TensorSpec, size: tuple[int, int] | None) -> list[int]:
    shape = []
    for i, d in enumerate(spec.shape):
        if isinstance(d, int) and d > 0:
            shape.append(d)
        elif i == 0:
            shape.append(1)
        elif size is not None and len(spec.shape) >= 3:
            # The two spatial axes: 2 and 3 for NCHW, 1 and 2 for NHWC (a last axis of 1, 3 or 4 channels).
            nhwc = isinstance(spec.shape[-1], int) and spec.shape[-1] in (1, 3, 4) and len(spec.shape) == 4
            axes = (1, 2) if nhwc else (len(spec.shape) - 2, len(spec.shape) - 1)
            if i not in axes:
                raise DataError(f"input {spec.name!r} {list(spec.shape)} has a dynamic dimension {i} that --size "
                                "does not set; give --calibration .npz arrays instead")
            shape.append(size[axes.index(i)])
        else:
            raise DataError(f"input {spec.name!r} {list(spec.shape)} has a dynamic dimension {i}: give --size HxW "
                            "(spatial axes) or .npz arrays")
    return shape


def random_samples(model: onnx.ModelProto, n: int, *, size: tuple[int, int] | None = None,
                   seed: int = 0, warn: bool = True) -> list[dict[str, np.ndarray]]:
    """``n`` random feed dicts for ``model`` (see the module docstring); logs :data:`RANDOM_WARNING` if ``warn``.

    Args:
        model: the ONNX model.
        n: number of samples (>= 1).
        size: (height, width) for dynamic spatial dimensions; a dynamic first axis is 1.
        seed: random seed.
        warn: log the warning (once per run is enough).

    Raises:
        DataError: an input has a dynamic dimension that ``size`` does not set, or an unsupported element type.
    """
    if n < 1:
        raise UsageError(f"--random-calibration {n}: give at least 1 sample")
    if warn:
        log.warning(RANDOM_WARNING)
    rng = np.random.default_rng(seed)
    student = is_student(model)
    specs = input_specs(model)
    out = []
    for _ in range(n):
        feeds = {}
        for s in specs:
            if s.dtype not in _NP_DTYPES:
                raise DataError(f"input {s.name!r} has element type {s.dtype}, which random inputs do not cover; "
                                "give --calibration .npz arrays")
            shape = _concrete_shape(s, size)
            dt = _NP_DTYPES[s.dtype]
            if np.issubdtype(dt, np.floating):
                lo = -1.0 if student and "mask" not in s.name else 0.0
                feeds[s.name] = rng.uniform(lo, 1.0, size=shape).astype(dt)
            else:
                feeds[s.name] = np.zeros(shape, dt)
        out.append(feeds)
    return out


def load_npz_samples(source: str | os.PathLike, model: onnx.ModelProto, *, limit: int | None = None
                     ) -> list[dict[str, np.ndarray]]:
    """Feed dicts from one ``.npz`` or a folder of them (see the module docstring), at most ``limit``.

    Raises:
        DataError: no ``.npz`` there, a file that does not load, an input name missing from a file, arrays whose
            shapes do not fit the input or whose sample counts differ within a file.
    """
    p = Path(source)
    files = sorted(p.glob("*.npz")) if p.is_dir() else [p]
    if not files:
        raise DataError(f"{p}: no .npz files there")
    specs = input_specs(model)
    samples: list[dict[str, np.ndarray]] = []
    for f in files:
        try:
            with np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as exc:  # zipfile.BadZipFile, ValueError (pickled objects), OSError
            raise DataError(f"{f}: not a readable .npz of arrays ({type(exc).__name__}: {exc})") from None
        missing = [s.name for s in specs if s.name not in arrays]
        if missing:
            raise DataError(f"{f}: no array named {', '.join(map(repr, missing))}; the model takes "
                            f"{_describe(specs)} (found: {', '.join(arrays) or 'none'})")
        counts = set()
        per_input = {}
        for s in specs:
            a = arrays[s.name]
            if a.ndim == len(s.shape):
                a = a[None]
            elif a.ndim != len(s.shape) + 1:
                raise DataError(f"{f}: array {s.name!r} has shape {list(a.shape)}; the input is {list(s.shape)} "
                                "(give that shape, or a stack of samples with one more leading axis)")
            for i, (d, n) in enumerate(zip(s.shape, a.shape[1:], strict=True)):
                if isinstance(d, int) and d > 0 and d != n:
                    raise DataError(f"{f}: array {s.name!r} has shape {list(a.shape[1:])}, the input is "
                                    f"{list(s.shape)} (dimension {i} differs)")
            counts.add(a.shape[0])
            per_input[s.name] = a.astype(_NP_DTYPES.get(s.dtype, a.dtype), copy=False)
        if len(counts) != 1:
            raise DataError(f"{f}: the arrays hold different numbers of samples ({sorted(counts)})")
        for i in range(counts.pop()):
            samples.append({k: np.ascontiguousarray(v[i]) for k, v in per_input.items()})
            if limit is not None and len(samples) >= limit:
                return samples
    return samples


def load_inputs(source: str | os.PathLike, model: onnx.ModelProto, *, limit: int = 8,
                size: tuple[int, int] | None = None, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Up to ``limit`` samples for ``model`` from ``source``: ``.npz`` arrays, or try-on photos for the student.

    Args:
        source: a ``.npz`` file, a folder of ``.npz`` files, or (student only) a ``person/`` + ``garment/`` folder
            or pairs CSV.
        model: the ONNX model.
        limit: most samples returned.
        size: (height, width) for dynamic spatial input dimensions (photos only).
        seed: which photo pairs are drawn (calibration 0, evaluation 1).

    Raises:
        UsageError: photos given for a model that does not take the student's inputs (the message says what to
            pass instead).
        DataError: the arrays or photos cannot be made into the model's inputs.
    """
    if is_npz_source(source):
        return load_npz_samples(source, model, limit=limit)
    if not is_student(model):
        specs = input_specs(model)
        raise UsageError(f"{source}: photos are made into inputs only for a try-on student (person, garment, "
                         f"garment_mask); this model takes {_describe(specs)}. Give a .npz with one array per input "
                         "name (or a folder of them) to --calibration/--eval, or --random-calibration N")
    return load_samples(source, model, limit=limit, size=size, seed=seed)
