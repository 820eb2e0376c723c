"""onnxruntime CPU sessions for accuracy checks and latency figures.

Latency is the median wall time of ``runs`` calls of ``InferenceSession.run`` after ``warmup`` untimed calls,
with a fixed number of intra-op threads and no inter-op parallelism: the figure compares models, it is not the
browser's latency (WASM SIMD, WebGPU).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np

from tryon.errors import DataError

__all__ = ["LatencyStats", "create_session", "run_session", "time_session", "dummy_feeds"]


@dataclass(frozen=True)
class LatencyStats:
    """Wall time of one inference, milliseconds."""

    median_ms: float
    p90_ms: float
    min_ms: float
    runs: int
    warmup: int
    threads: int

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def create_session(path: str | os.PathLike, *, threads: int = 1):
    """A CPU ``onnxruntime.InferenceSession`` with ``threads`` intra-op threads and full graph optimisation.

    Raises:
        DataError: onnxruntime refuses the model (unsupported op or attribute, invalid graph).
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NotImplemented classes
        raise DataError(f"{path}: onnxruntime cannot load this model: {str(exc).strip()[:500]}") from None


def run_session(session, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run once; returns every output by name."""
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def time_session(session, feeds: dict[str, np.ndarray], *, runs: int = 20, warmup: int = 3) -> LatencyStats:
    """Median / p90 / min latency of ``session.run`` on ``feeds`` (see the module docstring).

    Raises:
        ValueError: ``runs`` < 1 or ``warmup`` < 0.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be >= 1 and warmup >= 0 (got {runs}, {warmup})")
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    threads = session.get_session_options().intra_op_num_threads
    return LatencyStats(statistics.median(times), p90, times[0], runs, warmup, threads)


def dummy_feeds(session, *, size: tuple[int, int] | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 feeds in [-1, 1] matching the session's inputs (dynamic dims: batch 1, ``size`` for H, W).

    Masks (inputs named ``*mask*``) are drawn in [0, 1]. For latency only: accuracy needs real inputs.

    Raises:
        ValueError: a spatial dimension is dynamic and ``size`` is not given.
    """
    rng = np.random.default_rng(seed)
    feeds = {}
    for inp in session.get_inputs():
        shape = []
        for i, d in enumerate(inp.shape):
            if isinstance(d, int) and d > 0:
                shape.append(d)
            elif i == 0:
                shape.append(1)
            elif size is not None and i >= len(inp.shape) - 2:
                shape.append(size[i - (len(inp.shape) - 2)])
            else:
                raise ValueError(f"input {inp.name} has a dynamic dimension {i} ({d}); give size=(H, W)")
        lo = 0.0 if "mask" in inp.name else -1.0
        feeds[inp.name] = rng.uniform(lo, 1.0, size=shape).astype(np.float32)
    return feeds
