"""``tryon bench-api``: a bounded load test of the fallback API on loopback (table, JSON and a PNG plot)."""

from __future__ import annotations

import contextlib
import logging
import socket
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


def bench_api(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for bench_api.json, bench_api.md and "
                                      "bench_api.png.")],
    url: Annotated[str | None, typer.Option("--url", help="A running server (loopback), e.g. "
                                            "http://127.0.0.1:8000. Without it, --model-dir starts one in-process.",
                                            rich_help_panel="Target")] = None,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Model folder for the in-process server.",
                                                   rich_help_panel="Target")] = None,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Permit a non-loopback --url (a server you "
                                               "own).", rich_help_panel="Target")] = False,
    concurrency: Annotated[str, typer.Option("--concurrency", help="Concurrency steps, comma-separated.")] = "1,2,4,8",
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
) -> None:
    """Load-test POST /v1/run (Prefer: wait) at increasing concurrency; report p50/p90/p99, throughput, errors."""
    import asyncio

    from tryon.server.loadtest import format_table, load_test, sample_images, write_report

    steps = parse_steps(concurrency)
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


def register(app: typer.Typer) -> None:
    app.command("bench-api")(bench_api)
