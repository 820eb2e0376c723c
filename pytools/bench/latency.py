"""onnxruntime CPU latency of an ONNX file at several thread counts (no torch).

The figure is the median wall time of ``runs`` inferences after ``warmup`` untimed ones, batch 1, on the
``CPUExecutionProvider`` with a fixed number of intra-op threads (see :mod:`tryon.quantize.session`). It ranks
models against each other on one machine; it is not the browser's latency.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from tryon.quantize.session import LatencyStats, create_session, dummy_feeds, time_session

__all__ = ["LatencyStats", "measure_latency", "bench_feeds"]

def bench_feeds(session, *, size: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Random inputs of ``session``'s input shapes (:func:`tryon.quantize.session.dummy_feeds`: [-1, 1], masks
    [0, 1]), each in its input's own element type (float32, or float16 for a file converted without float32 I/O).

    Raises:
        ValueError: a spatial dimension is dynamic and ``size`` is not given.
    """
    types = {i.name: np.float16 if i.type == "tensor(float16)" else np.float32 for i in session.get_inputs()}
    return {k: v.astype(types[k]) for k, v in dummy_feeds(session, size=size).items()}


def measure_latency(model: str | os.PathLike, *, threads: Iterable[int] = (1, 2), runs: int = 20, warmup: int = 3,
                    feeds: dict[str, np.ndarray] | None = None,
                    size: tuple[int, int] | None = None) -> dict[int, LatencyStats]:
    """Latency of ``model`` for each thread count in ``threads``.

    Args:
        model: path of the ONNX file.
        threads: intra-op thread counts to measure, one fresh session each.
        runs: timed runs per thread count (>= 1).
        warmup: untimed runs first (>= 0).
        feeds: inputs (name -> array); default: :func:`bench_feeds` (latency of these convolutional nets does not
            depend on the pixel values).
        size: (height, width) for dynamic spatial dimensions when ``feeds`` is not given.

    Returns:
        thread count -> :class:`LatencyStats` (milliseconds).

    Raises:
        DataError: onnxruntime cannot load the model.
        ValueError: bad ``runs``/``warmup``/``threads``, or dynamic dimensions without ``size``.
    """
    counts = list(threads)
    if not counts or any(t < 1 for t in counts):
        raise ValueError(f"thread counts must be >= 1 (got {counts})")
    out: dict[int, LatencyStats] = {}
    for t in counts:
        sess = create_session(model, threads=t)
        x = feeds if feeds is not None else bench_feeds(sess, size=size)
        out[t] = time_session(sess, x, runs=runs, warmup=warmup)
    return out
