"""``tryon bench-api``: a bounded load test of the fallback API on loopback (table, JSON and a PNG plot), or with
``--soak MINUTES`` a steady load for minutes with the server's memory, latency and errors per interval."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tryon.errors import UsageError

__all__ = ["register", "bench_api", "parse_steps"]

log = logging.getLogger(__name__)


def parse_steps(text: str) -> list[int]:
    """'1,2,4,8' -> [1, 2, 4, 8].

    Raises:
        UsageError: not a comma-separated list of integers in 1..256.
    """
    try:
        steps = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--concurrency {text!r} must be comma-separated integers, e.g. 1,2,4,8") from None
    if not steps or any(s < 1 or s > 256 for s in steps):
        raise UsageError(f"--concurrency {text!r}: each step must be between 1 and 256")
    return steps


@contextlib.contextmanager
def _embedded_server(settings: Any) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from tryon.server.main import create_app
    from tryon.server.protocol import HTTP_PROTOCOL

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                            http=HTTP_PROTOCOL))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise UsageError("the embedded server did not start (see the log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def _server_process(model_dir: Path, redis_url: str | None, queue_size: int, max_batch: int
                    ) -> Iterator[tuple[str, int]]:
    """``tryon serve`` in a child process on a free loopback port (so its RSS is the server's alone); yields
    (base URL, pid) once ``/readyz`` answers 200, and stops it after.

    Raises:
        UsageError: the server exited or was not ready within 120 s (its log is shown).
    """
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "tryon.cli.main", "serve", "--model-dir", str(model_dir), "--port", str(port),
           "--queue-size", str(queue_size), "--max-batch", str(max_batch), "--log-level", "warning"]
    if redis_url:
        cmd += ["--redis-url", redis_url]
    # The log goes to a file, not a pipe: an unread pipe that fills up would stall the server mid-run.
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise UsageError(f"the server exited with code {proc.returncode}: {log.read()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise UsageError("the server was not ready within 120 s")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def bench_api(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for bench_api.json, bench_api.md and "
                                      "bench_api.png (with --soak: soak.json, .csv, .md and .png).")],
    url: Annotated[str | None, typer.Option("--url", help="A running server (loopback), e.g. "
                                            "http://127.0.0.1:8000. Without it, --model-dir starts one in-process.",
                                            rich_help_panel="Target")] = None,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Model folder for the in-process server.",
                                                   rich_help_panel="Target")] = None,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Permit a non-loopback --url (a server you "
                                               "own).", rich_help_panel="Target")] = False,
    concurrency: Annotated[str | None, typer.Option("--concurrency", help="Concurrency steps, comma-separated "
                                                    "(default 1,2,4,8); with --soak one number of clients "
                                                    "(default 4).", show_default=False)] = None,
    requests: Annotated[int, typer.Option("--requests", min=1, max=1000, help="Requests per step (at least the "
                                          "step's concurrency).")] = 16,
    max_seconds: Annotated[float, typer.Option("--max-seconds", min=1, max=600, help="Time cap per step, s.")] = 30.0,
    person: Annotated[Path | None, typer.Option("--person", help="Person photo to send (default: synthetic).",
                                                rich_help_panel="Inputs")] = None,
    garment: Annotated[Path | None, typer.Option("--garment", help="Garment photo to send (default: a catalogue "
                                                 "garment).", rich_help_panel="Inputs")] = None,
    size: Annotated[str, typer.Option("--size", help="Synthetic image size HEIGHTxWIDTH.",
                                      rich_help_panel="Inputs")] = "512x384",
    queue_size: Annotated[int, typer.Option("--queue-size", min=1, help="In-process server: queue size.",
                                            rich_help_panel="In-process server")] = 16,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="In-process server: micro-batch size.",
                                           rich_help_panel="In-process server")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of the table.")] = False,
    soak: Annotated[float | None, typer.Option("--soak", min=0.01, max=1440, metavar="MINUTES",
                                               help="Soak instead of steps: one steady load for MINUTES, with the "
                                               "server's RSS, p50/p99 and errors per interval (soak.json, .csv, "
                                               ".md, .png). With --model-dir the server runs as a child process.",
                                               rich_help_panel="Soak")] = None,
    interval: Annotated[float, typer.Option("--interval", min=1, help="Soak: seconds per reported interval.",
                                            rich_help_panel="Soak")] = 30.0,
    server_pid: Annotated[int | None, typer.Option("--server-pid", help="Soak with --url: the server's process "
                                                   "id, to sample its RSS.", rich_help_panel="Soak")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis-url", help="Soak with --model-dir: keep the server's "
                                                  "jobs in this Redis (redis://host:port/db).",
                                                  rich_help_panel="Soak")] = None,
) -> None:
    """Load-test POST /v1/run (Prefer: wait) at increasing concurrency; report p50/p90/p99, throughput, errors."""
    import asyncio

    from tryon.server.loadtest import format_table, load_test, sample_images, write_report

    steps = parse_steps(concurrency or ("4" if soak is not None else "1,2,4,8"))
    if (url is None) == (model_dir is None):
        raise UsageError("give exactly one of --url (a running server) or --model-dir (start one in-process)")
    from tryon.cli.options import parse_size

    person_b, garment_b = sample_images(parse_size(size))
    for path, name in ((person, "person"), (garment, "garment")):
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise UsageError(f"--{name} {path}: cannot read ({exc.strerror})") from None
            person_b, garment_b = (data, garment_b) if name == "person" else (person_b, data)

    if soak is not None:
        if len(steps) != 1:
            raise UsageError(f"--soak runs one steady load: give one --concurrency value, not {concurrency!r}")
        if server_pid is not None and url is None:
            raise UsageError("--server-pid goes with --url (with --model-dir the server's pid is known)")
        if redis_url is not None and url is not None:
            raise UsageError("--redis-url goes with --model-dir (a server at --url has its own store)")
        _soak(out, url, model_dir, allow_remote, steps[0], soak, interval, server_pid, redis_url, person_b,
              garment_b, queue_size, max_batch, as_json)
        return

    meta: dict[str, Any] = {"concurrency": steps, "requests_per_step": requests, "max_seconds": max_seconds,
                            "image_bytes": {"person": len(person_b), "garment": len(garment_b)}}

    def run(target: str) -> list[Any]:
        try:
            return asyncio.run(load_test(target, person_b, garment_b, steps, requests, max_seconds,
                                         allow_remote=allow_remote))
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    if url is not None:
        meta["url"] = url
        results = run(url)
    else:
        from tryon.server.config import Settings

        settings = Settings(model_dir=model_dir, web_dir=None, queue_size=queue_size, max_batch=max_batch)
        meta.update(url="in-process", queue_size=queue_size, max_batch=max_batch)
        with _embedded_server(settings) as target:
            import httpx

            meta["server"] = httpx.get(f"{target}/readyz").json()
            results = run(target)
    written = write_report(results, out, meta)
    if as_json:
        typer.echo(written["json"].read_text())
    else:
        typer.echo(format_table(results))
        for r in results:
            for sample in r.error_samples:
                typer.echo(f"  c={r.concurrency}: {sample}", err=True)
        typer.echo(f"wrote {', '.join(str(p) for p in written.values())}")
        if "plot" not in written:
            typer.echo("(no plot: matplotlib is not installed)", err=True)


def _soak(out: Path, url: str | None, model_dir: Path | None, allow_remote: bool, concurrency: int, minutes: float,
          interval: float, server_pid: int | None, redis_url: str | None, person_b: bytes, garment_b: bytes,
          queue_size: int, max_batch: int, as_json: bool) -> None:
    """``--soak``: run :func:`tryon.server.soak.soak`, print a row per interval as it closes, write the report."""
    import asyncio

    from tryon.server.soak import format_soak_table, soak, summarize, write_soak_report

    meta: dict[str, Any] = {"minutes": minutes, "interval_s": interval, "concurrency": concurrency,
                            "image_bytes": {"person": len(person_b), "garment": len(garment_b)},
                            "job_store": "redis" if redis_url else ("memory" if url is None else "as configured")}
    header = format_soak_table([]).splitlines()
    if not as_json:
        typer.echo("\n".join(header))

    def progress(iv: Any) -> None:
        if not as_json:
            typer.echo(format_soak_table([iv]).splitlines()[-1])

    def run(target: str, pid: int | None) -> tuple[list[Any], list[str]]:
        try:
            return asyncio.run(soak(target, person_b, garment_b, minutes, concurrency, interval, server_pid=pid,
                                    allow_remote=allow_remote, progress=progress))
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    if url is not None:
        meta["url"] = url
        intervals, samples = run(url, server_pid)
    else:
        meta.update(url="child process", queue_size=queue_size, max_batch=max_batch)
        with _server_process(model_dir, redis_url, queue_size, max_batch) as (target, pid):
            intervals, samples = run(target, pid)
    written = write_soak_report(intervals, out, meta, samples)
    if as_json:
        typer.echo(written["json"].read_text())
        return
    s = summarize(intervals)
    slope = "–" if s["rss_slope_mb_per_min"] is None else f"{s['rss_slope_mb_per_min']:+.2f} MiB/min"
    rss = ("no RSS (give --server-pid)" if s["rss_first_mb"] is None else
           f"RSS {s['rss_first_mb']:.0f} -> {s['rss_last_mb']:.0f} MiB (max {s['rss_max_mb']:.0f}, trend {slope})")
    typer.echo(f"{s['requests']} requests: {s['ok']} ok, {s['failed']} failed, {s['rejected']} 429, "
               f"{s['pending']} 202, {s['errors']} errors; {rss}")
    for sample in samples:
        typer.echo(f"  {sample}", err=True)
    typer.echo(f"wrote {', '.join(str(p) for p in written.values())}")
    if "plot" not in written:
        typer.echo("(no plot: matplotlib is not installed)", err=True)


def register(app: typer.Typer) -> None:
    app.command("bench-api")(bench_api)
