"""A bounded load test of the fallback API: concurrency steps, latency percentiles, errors (``tryon bench-api``).

Each step keeps ``concurrency`` clients busy sending the same multipart ``POST /v1/run`` with ``Prefer: wait``
until ``requests`` were sent or ``max_seconds`` passed, and records the end-to-end latency of each request and
how it ended: ``ok`` (200, completed), ``failed`` (200, job failed), ``rejected`` (429 queue full), ``pending``
(202: not done within the wait) or ``error`` (anything else, transport errors included). It reports p50/p90/p99
of the ``ok`` latencies, throughput, and the server's own queue/predict times — the conventions of Locust's CSV
stats and Triton's perf_analyzer (``docs/api-conventions.md``). Only loopback targets are allowed unless asked.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

__all__ = ["Outcomes", "StepResult", "LOOPBACK_HOSTS", "check_target", "post_run", "load_test", "write_report",
           "format_table", "sample_images"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class Outcomes:
    """How requests to ``POST /v1/run`` ended (see the module docstring): counted per load-test step and per soak
    interval.

    Attributes:
        requests: requests sent.
        ok / failed / rejected / pending / errors: completed job, failed job, 429, 202, anything else.
    """

    requests: int = 0
    ok: int = 0
    failed: int = 0
    rejected: int = 0
    pending: int = 0
    errors: int = 0


@dataclass(kw_only=True)
class StepResult(Outcomes):
    """One concurrency step (the counts of :class:`Outcomes`, and:).

    Attributes:
        concurrency: clients sending at once.
        seconds: wall time of the step.
        throughput: ``ok`` per second.
        p50_ms / p90_ms / p99_ms / mean_ms / max_ms: latency of ``ok`` requests, milliseconds.
        queue_ms / predict_ms: server-reported mean queue and predict time of ``ok`` jobs, milliseconds.
        error_samples: up to three distinct error descriptions.
    """

    concurrency: int
    seconds: float = 0.0
    throughput: float = 0.0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    queue_ms: float | None = None
    predict_ms: float | None = None
    error_samples: list[str] = field(default_factory=list)


def check_target(url: str, allow_remote: bool = False) -> str:
    """Return ``url`` without a trailing slash; refuse non-loopback hosts unless ``allow_remote``.

    Raises:
        ValueError: not http(s), or not loopback.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if not allow_remote and parsed.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{parsed.hostname} is not a loopback address; load tests run against 127.0.0.1 only "
                         "(pass allow_remote for a server you own)")
    return url.rstrip("/")


def sample_images(size: tuple[int, int] = (512, 384)) -> tuple[bytes, bytes]:
    """A synthetic person photo and a project-rendered garment (no real photos), JPEG-encoded.

    Args:
        size: (height, width) of both images.
    """
    import io

    from PIL import Image

    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    person = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 140)], -1).astype(np.uint8)
    person[h // 5:, w // 3: 2 * w // 3] = (70, 80, 110)  # a torso-like block
    try:
        from tryon.garment.catalogue import DEFAULT_GARMENT, render_garment

        garment, _ = render_garment(DEFAULT_GARMENT, size)
    except Exception:  # the catalogue is optional here: a plain block on white is a valid in-shop photo
        garment = np.full((h, w, 3), 255, np.uint8)
        garment[h // 5: 4 * h // 5, w // 5: 4 * w // 5] = (30, 90, 200)
    out = []
    for img in (person, garment):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out[0], out[1]


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


async def post_run(client: Any, url: str, person: bytes, garment: bytes, wait_s: float
                   ) -> tuple[str, float, dict[str, Any] | None, str | None]:
    """Send one multipart ``POST /v1/run`` with ``Prefer: wait`` and say how it ended.

    A 429 is followed by a pause of its ``Retry-After`` (at most 1 s), as a well-behaved client backs off;
    transport errors are an outcome (``errors``), not an exception.

    Args:
        client: an ``httpx.AsyncClient``.
        url: the server's base URL.
        person / garment: encoded photos (sent as JPEG parts).
        wait_s: ``Prefer: wait`` seconds.

    Returns:
        (outcome: a field name of :class:`Outcomes` other than ``requests``, latency in milliseconds, the status
        object of a completed job or ``None``, a description of a failure or ``None``).
    """
    start = time.perf_counter()
    try:
        r = await client.post(f"{url}/v1/run", headers={"Prefer": f"wait={wait_s:g}"},
                              files={"person_image": ("person.jpg", person, "image/jpeg"),
                                     "garment_image": ("garment.jpg", garment, "image/jpeg")})
    except Exception as exc:  # transport errors count, they do not stop the run
        return "errors", (time.perf_counter() - start) * 1000.0, None, f"{type(exc).__name__}: {exc}"[:160]
    elapsed = (time.perf_counter() - start) * 1000.0
    if r.status_code == 200:
        body = r.json()
        if body.get("status") == "completed":
            return "ok", elapsed, body, None
        return "failed", elapsed, None, f"job failed: {(body.get('error') or {}).get('name')}"
    if r.status_code == 429:
        await asyncio.sleep(min(float(r.headers.get("retry-after", "1")), 1.0))
        return "rejected", elapsed, None, None
    if r.status_code == 202:
        return "pending", elapsed, None, None
    return "errors", elapsed, None, f"HTTP {r.status_code}: {r.text[:120]}"


async def _step(client: Any, url: str, person: bytes, garment: bytes, concurrency: int, requests: int,
                max_seconds: float, wait_s: float) -> StepResult:
    res = StepResult(concurrency=concurrency)
    latencies: list[float] = []
    queue_ms: list[float] = []
    predict_ms: list[float] = []
    sent = 0
    t0 = time.perf_counter()
    deadline = t0 + max_seconds

    async def client_loop() -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            outcome, elapsed, body, note = await post_run(client, url, person, garment, wait_s)
            setattr(res, outcome, getattr(res, outcome) + 1)
            if note:
                _sample(res, note)
            if body is not None:
                latencies.append(elapsed)
                m = body.get("metrics") or {}
                if m.get("queue_time") is not None:
                    queue_ms.append(m["queue_time"] * 1000.0)
                if m.get("predict_time") is not None:
                    predict_ms.append(m["predict_time"] * 1000.0)

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    res.requests = sent
    res.seconds = time.perf_counter() - t0
    res.throughput = res.ok / res.seconds if res.seconds > 0 else 0.0
    res.p50_ms, res.p90_ms, res.p99_ms = (_percentile(latencies, q) for q in (50, 90, 99))
    res.mean_ms = float(np.mean(latencies)) if latencies else None
    res.max_ms = max(latencies) if latencies else None
    res.queue_ms = float(np.mean(queue_ms)) if queue_ms else None
    res.predict_ms = float(np.mean(predict_ms)) if predict_ms else None
    return res


def _sample(res: StepResult, text: str) -> None:
    if text not in res.error_samples and len(res.error_samples) < 3:
        res.error_samples.append(text)


async def load_test(url: str, person: bytes, garment: bytes, concurrency: list[int], requests: int = 16,
                    max_seconds: float = 30.0, wait_s: float = 60.0, warmup: int = 1,
                    allow_remote: bool = False) -> list[StepResult]:
    """Run the concurrency steps in order against a running server.

    Args:
        url: server base URL (loopback unless ``allow_remote``).
        person: encoded person photo.
        garment: encoded garment photo.
        concurrency: the steps, e.g. [1, 2, 4, 8].
        requests: requests per step (at least the step's concurrency; capped at 1000).
        max_seconds: time cap per step (capped at 600 s); no new request starts after it.
        wait_s: ``Prefer: wait`` seconds for each request.
        warmup: requests sent (and not counted) before the first step.
        allow_remote: permit a non-loopback target.

    Returns:
        One :class:`StepResult` per step.

    Raises:
        ValueError: bad URL, non-loopback target, or the server is not ready.
    """
    import httpx

    url = check_target(url, allow_remote)
    requests = max(1, min(int(requests), 1000))
    max_seconds = max(1.0, min(float(max_seconds), 600.0))
    limits = httpx.Limits(max_connections=max(concurrency) + 2, max_keepalive_connections=max(concurrency) + 2)
    async with httpx.AsyncClient(timeout=wait_s + 30.0, limits=limits) as client:
        ready = await client.get(f"{url}/readyz")
        if ready.status_code != 200:
            raise ValueError(f"{url} is not ready: {ready.text[:200]}")
        for _ in range(max(0, warmup)):
            await _step(client, url, person, garment, 1, 1, max_seconds, wait_s)
        return [await _step(client, url, person, garment, c, max(requests, c), max_seconds, wait_s)
                for c in concurrency]


_COLUMNS = [("concurrency", "conc", "{}"), ("requests", "sent", "{}"), ("ok", "ok", "{}"), ("failed", "failed", "{}"),
            ("rejected", "429", "{}"), ("pending", "202", "{}"), ("errors", "errors", "{}"),
            ("throughput", "ok/s", "{:.2f}"), ("p50_ms", "p50 ms", "{:.0f}"), ("p90_ms", "p90 ms", "{:.0f}"),
            ("p99_ms", "p99 ms", "{:.0f}"), ("queue_ms", "queue ms", "{:.0f}"), ("predict_ms", "predict ms", "{:.0f}")]


def pyplot() -> Any | None:
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or ``None`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def format_table(results: list[StepResult]) -> str:
    """A Markdown table of the steps (also what ``tryon bench-api`` prints)."""
    head = "| " + " | ".join(c[1] for c in _COLUMNS) + " |"
    sep = "|" + "|".join("---:" for _ in _COLUMNS) + "|"
    rows = []
    for r in results:
        cells = []
        for key, _, fmt in _COLUMNS:
            v = getattr(r, key)
            cells.append("–" if v is None else fmt.format(v))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *rows])


def write_report(results: list[StepResult], out_dir: str | os.PathLike, meta: dict[str, Any] | None = None
                 ) -> dict[str, Path]:
    """Write ``bench_api.json``, ``bench_api.md`` and (with matplotlib) ``bench_api.png`` into ``out_dir``.

    Returns:
        kind -> path of what was written.
    """
    from tryon.processing import atomic_write_bytes as atomic_write

    out = Path(out_dir)
    written: dict[str, Path] = {}
    payload = {"meta": meta or {}, "steps": [asdict(r) for r in results]}
    atomic_write(out / "bench_api.json", (json.dumps(payload, indent=2) + "\n").encode())
    written["json"] = out / "bench_api.json"
    atomic_write(out / "bench_api.md", (format_table(results) + "\n").encode())
    written["table"] = out / "bench_api.md"
    plt = pyplot()
    if plt is None:
        return written
    conc = [r.concurrency for r in results]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99")):
        ax1.plot(conc, [getattr(r, key) or np.nan for r in results], marker="o", label=label)
    ax1.set(xlabel="concurrent clients", ylabel="latency (ms)", title="POST /v1/run (Prefer: wait)")
    ax1.set_xscale("log", base=2)
    ax1.legend()
    ax2.plot(conc, [r.throughput for r in results], marker="o", label="ok/s")
    ax2.bar(conc, [r.rejected + r.errors + r.failed for r in results], width=[c * 0.3 for c in conc], alpha=0.4,
            color="tab:red", label="429 + errors + failed")
    ax2.set(xlabel="concurrent clients", ylabel="per second / count", title="throughput and refusals")
    ax2.set_xscale("log", base=2)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out / "bench_api.png", dpi=100)
    plt.close(fig)
    written["plot"] = out / "bench_api.png"
    return written
