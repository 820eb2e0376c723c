"""onnxruntime CPU latency of ONNX files at several thread counts (no torch).

The figure is the median wall time of ``runs`` inferences after ``warmup`` untimed ones, batch 1, on the
``CPUExecutionProvider`` with a fixed number of intra-op threads (see :mod:`tryon.quantize.session`). It ranks
models against each other on one machine; it is not the browser's latency. Several files are timed
interleaved (:func:`measure_latencies`: run *i* of every file before run *i + 1* of any), so a change of load
on a shared machine during the measurement falls on every file alike and the ratios between them hold.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable, Sequence

import numpy as np

from tryon.quantize.session import LatencyStats, create_session, dummy_feeds

__all__ = ["LatencyStats", "measure_latency", "measure_latencies", "bench_feeds"]


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
    """Latency of ``model`` for each thread count in ``threads`` (:func:`measure_latencies` of one file).

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
    return measure_latencies([model], threads=threads, runs=runs, warmup=warmup, feeds=feeds, size=size)[0]


def measure_latencies(models: Sequence[str | os.PathLike], *, threads: Iterable[int] = (1, 2), runs: int = 20,
                      warmup: int = 3, feeds: dict[str, np.ndarray] | None = None,
                      size: tuple[int, int] | None = None) -> list[dict[int, LatencyStats]]:
    """Latency of each of ``models`` for each thread count, the files timed interleaved (see the module docstring).

    For each thread count a session is opened per file; each is warmed up, then the timed runs go round the files
    in turn. Arguments as :func:`measure_latency`; ``feeds``, when given, must fit every file.

    Returns:
        One ``{thread count: LatencyStats}`` per file, in the order of ``models``.

    Raises:
        DataError: onnxruntime cannot load a model.
        ValueError: bad ``runs``/``warmup``/``threads``, or dynamic dimensions without ``size``.
    """
    counts = list(threads)
    if not counts or any(t < 1 for t in counts):
        raise ValueError(f"thread counts must be >= 1 (got {counts})")
    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be >= 1 and warmup >= 0 (got {runs}, {warmup})")
    out: list[dict[int, LatencyStats]] = [{} for _ in models]
    for t in counts:
        sessions = [create_session(m, threads=t) for m in models]
        inputs = [feeds if feeds is not None else bench_feeds(s, size=size) for s in sessions]
        for s, x in zip(sessions, inputs, strict=True):
            for _ in range(warmup):
                s.run(None, x)
        times: list[list[float]] = [[] for _ in models]
        for _ in range(runs):
            for i, (s, x) in enumerate(zip(sessions, inputs, strict=True)):
                t0 = time.perf_counter()
                s.run(None, x)
                times[i].append((time.perf_counter() - t0) * 1e3)
        for i, ms in enumerate(times):
            ms.sort()
            p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
            out[i][t] = LatencyStats(statistics.median(ms), p90, ms[0], runs, warmup, t)
        del sessions
    return out
