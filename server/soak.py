"""A soak test of the fallback API: steady bounded load for minutes, sampled per interval (``tryon bench-api
--soak MINUTES``).

``concurrency`` clients keep sending the multipart ``POST /v1/run`` with ``Prefer: wait`` (and delete each
completed result once read, as the widget does) until the time is up. Every request is counted in the interval
it finished in, as in :mod:`tryon.server.loadtest` (``ok``, ``failed``, ``rejected`` = 429, ``pending`` = 202,
``errors`` = anything else, transport errors and failed deletes included); the server's resident memory (``VmRSS`` of its process,
Linux ``/proc``) is sampled every second and each interval keeps its largest sample. A leak shows as a rising RSS
line, a fault as errors; :func:`summarize` gives the RSS trend (least-squares slope over the intervals after the
first, which holds warm-up allocations) and the error total — the practice of Locust's ``--run-time`` soak runs
and k6's soak tests (``docs/api-conventions.md``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from tryon.server.loadtest import Outcomes, check_target, post_run, pyplot

__all__ = ["SoakInterval", "rss_mb", "soak", "summarize", "format_soak_table", "write_soak_report"]


@dataclass(kw_only=True)
class SoakInterval(Outcomes):
    """One interval of a soak run (the counts of :class:`tryon.server.loadtest.Outcomes` finished in it, and:).

    Attributes:
        t_s: end of the interval, seconds since the load started.
        throughput: ``ok`` per second.
        p50_ms / p99_ms: latency of the ``ok`` requests, milliseconds (``None`` without any).
        rss_mb: largest server RSS sampled in the interval, MiB (``None`` when the process is unknown).
    """

    t_s: float
    throughput: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    _latencies: list[float] = field(default_factory=list, repr=False)


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid``, MiB (``VmRSS`` in ``/proc/<pid>/status``; Linux only).

    Raises:
        OSError: no such process, or no ``/proc`` (not Linux).
        ValueError: the status file has no ``VmRSS`` line (a zombie).
    """
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0  # kB
    raise ValueError(f"process {pid} has no VmRSS (it is exiting)")


async def soak(url: str, person: bytes, garment: bytes, minutes: float, concurrency: int = 4,
               interval_s: float = 30.0, wait_s: float = 60.0, server_pid: int | None = None,
               allow_remote: bool = False, progress: Callable[[SoakInterval], None] | None = None
               ) -> tuple[list[SoakInterval], list[str]]:
    """Keep ``concurrency`` clients busy for ``minutes`` against a running server.

    Args:
        url: server base URL (loopback unless ``allow_remote``).
        person: encoded person photo.
        garment: encoded garment photo.
        minutes: length of the run (capped at 24 h).
        concurrency: clients sending at once (1..256).
        interval_s: length of one reported interval, seconds (at least 1).
        wait_s: ``Prefer: wait`` seconds for each request.
        server_pid: the server's process id, to sample its RSS (``None``: no RSS column).
        allow_remote: permit a non-loopback target.
        progress: called with each interval as it closes (a long run shows progress).

    Returns:
        The intervals in order, and up to five distinct error descriptions.

    Raises:
        ValueError: bad URL or arguments, non-loopback target, or the server is not ready.
    """
    import httpx

    url = check_target(url, allow_remote)
    if not 0 < minutes <= 24 * 60:
        raise ValueError(f"minutes={minutes:g}: give a length between 0 and 1440 minutes")
    if not 1 <= concurrency <= 256:
        raise ValueError(f"concurrency={concurrency}: give 1 to 256 clients")
    interval_s = max(1.0, float(interval_s))
    total_s = minutes * 60.0
    n = max(1, int(np.ceil(total_s / interval_s - 1e-9)))
    intervals = [SoakInterval(t_s=round(min((i + 1) * interval_s, total_s), 3)) for i in range(n)]
    samples: list[str] = []

    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    async with httpx.AsyncClient(timeout=wait_s + 30.0, limits=limits) as client:
        ready = await client.get(f"{url}/readyz")
        if ready.status_code != 200:
            raise ValueError(f"{url} is not ready: {ready.text[:200]}")
        t0 = time.perf_counter()
        end = t0 + total_s

        def bucket() -> SoakInterval:
            return intervals[min(n - 1, int((time.perf_counter() - t0) / interval_s))]

        def sample(text: str) -> None:
            if text not in samples and len(samples) < 5:
                samples.append(text)

        async def client_loop() -> None:
            while time.perf_counter() < end:
                outcome, elapsed, body, note = await post_run(client, url, person, garment, wait_s)
                iv = bucket()
                iv.requests += 1
                setattr(iv, outcome, getattr(iv, outcome) + 1)
                if note:
                    sample(note)
                if body is not None:
                    iv._latencies.append(elapsed)
                    # The widget deletes its result once read; so does this client (results are not kept).
                    try:
                        d = await client.delete(f"{url}/v1/status/{body['id']}")
                    except Exception as exc:
                        d, text = None, f"DELETE {type(exc).__name__}: {exc}"[:160]
                    else:
                        text = f"DELETE HTTP {d.status_code}: {d.text[:120]}"
                    if d is None or d.status_code != 204:
                        iv.errors += 1
                        sample(text)

        async def watch() -> None:
            closed = 0
            while closed < n:
                await asyncio.sleep(min(1.0, max(0.0, end - time.perf_counter())) or 0.05)
                now = time.perf_counter()
                if server_pid is not None:
                    try:
                        rss = rss_mb(server_pid)
                    except (OSError, ValueError) as exc:
                        sample(f"server process {server_pid}: {exc}")
                    else:
                        iv = bucket()
                        iv.rss_mb = rss if iv.rss_mb is None else max(iv.rss_mb, rss)
                while closed < n and (now - t0 >= (closed + 1) * interval_s or now >= end):
                    _close(intervals[closed], interval_s if closed < n - 1 else total_s - closed * interval_s)
                    if progress is not None:
                        progress(intervals[closed])
                    closed += 1

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        await watcher
    for iv in intervals:  # requests that finished after their interval was reported
        _close(iv, interval_s)
    intervals[-1].throughput = intervals[-1].ok / max(1e-9, total_s - (n - 1) * interval_s)
    return intervals, samples


def _close(iv: SoakInterval, seconds: float) -> None:
    iv.throughput = iv.ok / seconds if seconds > 0 else 0.0
    if iv._latencies:
        iv.p50_ms, iv.p99_ms = (float(np.percentile(iv._latencies, q)) for q in (50, 99))


def summarize(intervals: list[SoakInterval]) -> dict[str, Any]:
    """Totals and the memory trend of a soak run.

    Returns:
        ``requests``, ``ok``, ``failed``, ``rejected``, ``pending``, ``errors`` (sums); ``p50_ms``/``p99_ms``
        (medians of the intervals' values); ``rss_first_mb``/``rss_last_mb``/``rss_max_mb``; and
        ``rss_slope_mb_per_min``, the least-squares slope of RSS over the intervals after the first (``None``
        with fewer than three such intervals or no RSS).
    """
    out: dict[str, Any] = {k: sum(getattr(iv, k) for iv in intervals)
                           for k in ("requests", "ok", "failed", "rejected", "pending", "errors")}
    for key in ("p50_ms", "p99_ms"):
        vals = [getattr(iv, key) for iv in intervals if getattr(iv, key) is not None]
        out[key] = float(np.median(vals)) if vals else None
    rss = [(iv.t_s, iv.rss_mb) for iv in intervals if iv.rss_mb is not None]
    out["rss_first_mb"] = rss[0][1] if rss else None
    out["rss_last_mb"] = rss[-1][1] if rss else None
    out["rss_max_mb"] = max(r for _, r in rss) if rss else None
    later = rss[1:]
    if len(later) >= 3:
        t = np.array([x for x, _ in later]) / 60.0
        out["rss_slope_mb_per_min"] = float(np.polyfit(t, np.array([r for _, r in later]), 1)[0])
    else:
        out["rss_slope_mb_per_min"] = None
    return out


_COLUMNS = [("t_s", "t (s)", "{:.0f}"), ("requests", "sent", "{}"), ("ok", "ok", "{}"), ("failed", "failed", "{}"),
            ("rejected", "429", "{}"), ("pending", "202", "{}"), ("errors", "errors", "{}"),
            ("throughput", "ok/s", "{:.2f}"), ("p50_ms", "p50 ms", "{:.0f}"), ("p99_ms", "p99 ms", "{:.0f}"),
            ("rss_mb", "RSS MiB", "{:.0f}")]


def format_soak_table(intervals: list[SoakInterval]) -> str:
    """A Markdown table with one row per interval (what ``tryon bench-api --soak`` prints)."""
    rows = ["| " + " | ".join(c[1] for c in _COLUMNS) + " |", "|" + "|".join("---:" for _ in _COLUMNS) + "|"]
    for iv in intervals:
        rows.append("| " + " | ".join("–" if getattr(iv, k) is None else f.format(getattr(iv, k))
                                      for k, _, f in _COLUMNS) + " |")
    return "\n".join(rows)


def _public(iv: SoakInterval) -> dict[str, Any]:
    return {f.name: getattr(iv, f.name) for f in fields(iv) if not f.name.startswith("_")}


def write_soak_report(intervals: list[SoakInterval], out_dir: str | os.PathLike, meta: dict[str, Any] | None = None,
                      error_samples: list[str] | None = None) -> dict[str, Path]:
    """Write ``soak.json`` (meta, summary, intervals), ``soak.csv``, ``soak.md`` and (with matplotlib)
    ``soak.png`` — RSS, p50/p99 latency and refusals/errors against time — into ``out_dir``.

    Returns:
        kind -> path of what was written.
    """
    from tryon.processing import atomic_write_bytes as atomic_write

    out = Path(out_dir)
    rows = [_public(iv) for iv in intervals]
    summary = summarize(intervals)
    payload = {"meta": meta or {}, "summary": summary, "error_samples": error_samples or [], "intervals": rows}
    written = {"json": out / "soak.json", "csv": out / "soak.csv", "table": out / "soak.md"}
    atomic_write(written["json"], (json.dumps(payload, indent=2) + "\n").encode())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [f.name for f in fields(SoakInterval)])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(written["csv"], buf.getvalue().encode())
    atomic_write(written["table"], (format_soak_table(intervals) + "\n").encode())
    plt = pyplot()
    if plt is None:
        return written
    t = [iv.t_s / 60.0 for iv in intervals]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    ax1.plot(t, [np.nan if iv.rss_mb is None else iv.rss_mb for iv in intervals], marker="o")
    ax1.set(ylabel="server RSS (MiB)", title="soak: POST /v1/run (Prefer: wait), results deleted once read")
    ax1.set_ylim(bottom=0)
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        ax2.plot(t, [np.nan if getattr(iv, key) is None else getattr(iv, key) for iv in intervals], marker="o",
                 label=label)
    ax2.set(ylabel="latency (ms)")
    ax2.set_ylim(bottom=0)
    ax2.legend()
    width = 0.4 * (t[1] - t[0]) if len(t) > 1 else 0.1
    ax3.bar(t, [iv.ok for iv in intervals], width=width, label="ok", color="tab:green", alpha=0.5)
    ax3.bar(t, [iv.rejected for iv in intervals], width=width, label="429", color="tab:orange")
    ax3.bar(t, [iv.errors + iv.failed for iv in intervals], width=width, label="errors + failed", color="tab:red",
            bottom=[iv.rejected for iv in intervals])
    ax3.set(xlabel="minutes", ylabel="requests per interval")
    ax3.legend()
    fig.tight_layout()
    fig.savefig(out / "soak.png", dpi=100)
    plt.close(fig)
    written["plot"] = out / "soak.png"
    return written

