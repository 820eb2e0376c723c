"""``tryon bench-browser``: in-browser inference latency of the widget, per backend, in headless Chromium.

Serves ``web/`` and a model folder with the real app (:func:`tryon.server.main.create_app`, uvicorn on
loopback, COOP/COEP on so WASM may use threads), opens the demo page in Debian's ``/usr/bin/chromium`` through
Playwright (``--enable-unsafe-webgpu``; never ``playwright install``) and runs the ``<tryon-widget>`` try-on
repeatedly per backend. Reports the median and p90 of the model step (``timings.inference`` measured in the
worker around ``session.run``) and of the whole try-on (decode, letterbox, mask, inference, full-resolution
paste-back, PNG encode). Without ``--model-dir`` a stand-in graph with the student's I/O
(:func:`tryon.server.testing.write_stand_in_model`) is timed, which measures the pipeline, not a network.

On a machine without a GPU, WebGPU is SwiftShader (software): seconds per run and meaningless for real GPUs;
it is excluded unless asked for with ``--backends``.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import UsageError

__all__ = ["register", "bench_browser", "run_browser_bench", "CHROMIUM_FLAGS"]

log = logging.getLogger(__name__)

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu"]
"""Baseline flags of ``web-runtime.md`` §1 plus the one that exposes WebGPU on CPU-only machines."""

_RUN_JS = """async ([garmentB64, runs, warmup]) => {
  const w = document.querySelector('tryon-widget');
  const bytes = Uint8Array.from(atob(garmentB64), (c) => c.charCodeAt(0));
  w.garment = new Blob([bytes], {type: 'image/png'});
  const rows = [];
  let last = null;
  w.addEventListener('result', (e) => { last = e.detail; });
  for (let i = 0; i < warmup + runs; i++) {
    await w.run();
    if (i >= warmup) rows.push({ms: last.ms, inference: last.timings?.inference ?? null, backend: last.backend});
  }
  return {rows, info: w.modelInfo, isolated: crossOriginIsolated};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _png(image) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _person(h: int, w: int):
    """A plain synthetic person-sized photo (content does not change the timing)."""
    import numpy as np

    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([120 + 60 * np.sin(xx / 20), 110 + 50 * np.cos(yy / 25), 140 + 40 * np.sin((xx + yy) / 30)], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def run_browser_bench(model_dir: str | Path | None, backends: list[str], *, runs: int = 10, warmup: int = 2,
                      photo_size: tuple[int, int] = (1024, 768), size: tuple[int, int] = (256, 192),
                      chromium: str = "/usr/bin/chromium") -> list[dict]:
    """Time the widget's try-on per backend in headless Chromium.

    Args:
        model_dir: folder with ``manifest.json`` (``tryon export`` output); ``None`` writes a stand-in graph.
        backends: any of ``wasm``, ``webgpu``, ``server``.
        runs: timed runs per backend (after ``warmup`` untimed ones).
        photo_size: (height, width) of the synthetic person photo (the paste-back works at this size).
        size: (height, width) of the stand-in graph when ``model_dir`` is ``None``.
        chromium: the browser binary.

    Returns:
        One row per backend: backend, dtype, runs, inference/total median and p90 in ms, threads, adapter.

    Raises:
        UsageError: chromium, Playwright, the ORT runtime files or the web folder are missing.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UsageError("bench-browser needs Playwright: pip install playwright (the Python package only; "
                         "it drives /usr/bin/chromium, no `playwright install`)") from None
    import uvicorn

    from tryon.garment.catalogue import DEFAULT_GARMENT, render_garment
    from tryon.server.config import DEFAULT_WEB_DIR, Settings
    from tryon.server.main import create_app

    if not Path(chromium).exists():
        raise UsageError(f"{chromium} is missing: apt-get install -y chromium")
    if not (DEFAULT_WEB_DIR / "vendor" / "ort" / "ort.min.mjs").is_file():
        raise UsageError(f"{DEFAULT_WEB_DIR}/vendor/ort is missing: run `npm ci` in web/")
    bad = [b for b in backends if b not in ("wasm", "webgpu", "server")]
    if bad:
        raise UsageError(f"--backends: unknown {bad}; use wasm, webgpu, server")

    with tempfile.TemporaryDirectory(prefix="tryon-bench-browser-") as tmp:
        if model_dir is None:
            from tryon.server.testing import write_stand_in_model

            model_dir = Path(tmp) / "model"
            write_stand_in_model(model_dir, size=size)
        person_path = Path(tmp) / "person.png"
        person_path.write_bytes(_png(_person(*photo_size)))
        garment_b64 = base64.b64encode(_png(render_garment(DEFAULT_GARMENT, size=(768, 576))[0])).decode()

        settings = Settings(model_dir=Path(model_dir), providers="cpu", coop_coep=True, warmup=True)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise UsageError("the app did not become ready within 60 s") from None
                time.sleep(0.2)
        rows = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
                for backend in backends:
                    context = browser.new_context()
                    page = context.new_page()
                    page.set_default_timeout(600_000)
                    page.goto(f"{base}/demo/?backend={backend}&server-fallback=auto")
                    page.wait_for_function("() => customElements.get('tryon-widget') !== undefined")
                    page.set_input_files("tryon-widget .file", str(person_path))
                    log.info("timing %s: %d warm-up + %d runs", backend, warmup, runs)
                    out = page.evaluate(_RUN_JS, [garment_b64, runs, warmup])
                    context.close()
                    got = {r["backend"] for r in out["rows"]}
                    if got != {backend}:
                        log.warning("asked for %s, the widget ran on %s", backend, ", ".join(sorted(got)))
                    total = [r["ms"] for r in out["rows"]]
                    inf = [r["inference"] for r in out["rows"] if r["inference"] is not None]
                    info = out["info"] or {}

                    def p90(v: list[float]) -> float:
                        return sorted(v)[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]

                    rows.append({
                        "backend": ",".join(sorted(got)), "dtype": info.get("dtype", "-"), "runs": len(total),
                        "inference_median_ms": statistics.median(inf) if inf else None,
                        "inference_p90_ms": p90(inf) if inf else None,
                        "total_median_ms": statistics.median(total), "total_p90_ms": p90(total),
                        "threads": info.get("threads"), "cross_origin_isolated": out["isolated"],
                        "adapter": info.get("adapter"), "photo": f"{photo_size[0]}x{photo_size[1]}",
                    })
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return rows


def bench_browser(
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", exists=True, file_okay=False,
        help="Model folder (manifest.json + ONNX, from `tryon export`). Default: a stand-in graph with the "
             "student's I/O.")] = None,
    backends: Annotated[str, typer.Option(
        "--backends", help="Comma-separated: wasm, webgpu, server. WebGPU is software (SwiftShader) on machines "
                           "without a GPU: seconds per run.")] = "wasm,server",
    runs: Annotated[int, typer.Option("--runs", min=1, help="Timed runs per backend.")] = 10,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed runs first.")] = 2,
    photo: Annotated[str, typer.Option("--photo", help="HEIGHTxWIDTH of the synthetic person photo.")] = "1024x768",
    size: Annotated[str, typer.Option("--size", help="HEIGHTxWIDTH of the stand-in graph (no --model-dir).")]
    = "256x192",
    json_out: Annotated[Path | None, typer.Option("--json", dir_okay=False, help="Also write the rows as JSON.")]
    = None,
) -> None:
    """Median in-browser inference time per backend of the <tryon-widget> in headless Chromium."""
    from rich.console import Console
    from rich.table import Table

    from tryon.cli.options import parse_size

    rows = run_browser_bench(model_dir, [b.strip() for b in backends.split(",") if b.strip()], runs=runs,
                             warmup=warmup, photo_size=parse_size(photo), size=parse_size(size))
    table = Table(title="In-browser try-on (headless Chromium)")
    for col in ("backend", "dtype", "runs", "inference median ms", "inference p90 ms", "total median ms",
                "total p90 ms", "threads"):
        table.add_column(col, justify="right" if "ms" in col or col in ("runs", "threads") else "left")

    def fmt(v) -> str:
        return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)

    for r in rows:
        table.add_row(r["backend"], r["dtype"], str(r["runs"]), fmt(r["inference_median_ms"]),
                      fmt(r["inference_p90_ms"]), fmt(r["total_median_ms"]), fmt(r["total_p90_ms"]),
                      fmt(r["threads"]))
    Console().print(table)
    if json_out:
        from tryon.processing import atomic_write_bytes as atomic_write

        atomic_write(json_out, (json.dumps(rows, indent=2) + "\n").encode())


def register(app: typer.Typer) -> None:
    """Add ``tryon bench-browser`` to ``app``."""
    app.command("bench-browser")(bench_browser)
