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
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import UsageError

__all__ = ["register", "bench_browser", "run_browser_bench", "run_live_bench", "record_browser_choice",
           "write_browser_table", "apply_browser_table", "write_y4m", "camera_frame", "camera_clip",
           "CHROMIUM_FLAGS"]

log = logging.getLogger(__name__)

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu"]
"""Baseline flags of ``docs/web-runtime.md`` §1 plus the one that exposes WebGPU on CPU-only machines."""

_RUN_JS = """async ([garmentB64, runs, warmup, threads]) => {
  if (threads !== null) {  // read when the widget loads its model, on the first run
    const { env } = await import('/src/env.js');  // the widget's own settings module (same URL, same instance)
    env.numThreads = threads;
  }
  const w = document.querySelector('tryon-widget');
  if (garmentB64 !== null) {  // later calls keep the garment (prepared once, as for a shopper)
    const bytes = Uint8Array.from(atob(garmentB64), (c) => c.charCodeAt(0));
    w.garment = new Blob([bytes], {type: 'image/png'});
  }
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


def write_y4m(path: str | Path, frames, fps: int = 15) -> Path:
    """Write RGB frames as a YUV4MPEG2 file (4:2:0, BT.601 limited range) for Chromium's fake camera
    (``--use-file-for-fake-video-capture=FILE.y4m``; the browser loops it at ``fps``). Chromium decodes the planes
    as limited range (Y 16-235) whatever the header's colour space says (measured: full-range planes came back
    with 1.16 x the contrast), so they are written that way.

    Args:
        path: the ``.y4m`` file to write.
        frames: iterable of (H, W, 3) uint8 RGB frames, H and W even, all the same size.
        fps: frame rate written in the header.

    Returns:
        ``path``.
    """
    import numpy as np

    path = Path(path)
    with open(path, "wb") as f:
        header = False
        for rgb in frames:
            h, w = rgb.shape[:2]
            if not header:
                f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420mpeg2\n".encode())
                header = True
            x = rgb.astype(np.float32)
            r, g, b = x[..., 0], x[..., 1], x[..., 2]
            y = 16 + 219 / 255 * (0.299 * r + 0.587 * g + 0.114 * b)  # ITU-R BT.601, limited range
            cb = 128 + 224 / 255 * (-0.168736 * r - 0.331264 * g + 0.5 * b)
            cr = 128 + 224 / 255 * (0.5 * r - 0.418688 * g - 0.081312 * b)

            f.write(b"FRAME\n")
            for plane in (y, _subsample(cb), _subsample(cr)):
                f.write(np.clip(plane + 0.5, 0, 255).astype(np.uint8).tobytes())
    return path


def _subsample(plane):
    """2x2 box average of an (H, W) plane (4:2:0 chroma)."""
    h, w = plane.shape
    return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def camera_frame(photo, size: tuple[int, int] = (480, 640), left: float = 0.06,
                 wall: tuple[int, int, int] = (196, 200, 204)):
    """A webcam-like landscape frame: ``photo`` scaled to the frame's height and put on one side of a plain wall.

    Args:
        photo: (H, W, 3) uint8 RGB photo of one person.
        size: (height, width) of the frame.
        left: where the photo's left edge goes, as a share of the frame's width.
        wall: RGB of the background.

    Returns:
        (height, width, 3) uint8, and the (x0, y0, scale) placing the photo in it.
    """
    import cv2
    import numpy as np

    fh, fw = size
    scale = min(fh / photo.shape[0], fw / photo.shape[1])
    ph, pw = round(photo.shape[0] * scale), round(photo.shape[1] * scale)
    small = cv2.resize(photo, (pw, ph), interpolation=cv2.INTER_AREA)
    frame = np.empty((fh, fw, 3), np.uint8)
    frame[:] = wall
    x0, y0 = min(round(left * fw), fw - pw), (fh - ph) // 2
    frame[y0:y0 + ph, x0:x0 + pw] = small
    return frame, (x0, y0, scale)


def camera_clip(frame, *, person_seconds: float, empty_seconds: float = 0.0, fps: int = 15, noise: float = 2.0,
                seed: int = 0):
    """Frames of a still person with sensor noise (``noise`` levels, Gaussian, fresh each frame), then the plain
    wall (the person stepped out) for ``empty_seconds``. The wall colour is the frame's top-right pixel."""
    import numpy as np

    rng = np.random.default_rng(seed)
    wall = np.empty_like(frame)
    wall[:] = frame[0, -1]
    for i in range(round((person_seconds + empty_seconds) * fps)):
        base = frame if i < round(person_seconds * fps) else wall
        yield np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)


def _person(h: int, w: int):
    """A plain synthetic person-sized photo (content does not change the timing)."""
    import numpy as np

    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([120 + 60 * np.sin(xx / 20), 110 + 50 * np.cos(yy / 25), 140 + 40 * np.sin((xx + yy) / 30)], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def run_browser_bench(model_dir: str | Path | None, backends: list[str], *, runs: int = 10, warmup: int = 2,
                      photo_size: tuple[int, int] = (1024, 768), size: tuple[int, int] = (256, 192),
                      dtypes: list[str] | None = None, person: str | Path | None = None,
                      threads: list[int] | None = None, chromium: str = "/usr/bin/chromium") -> list[dict]:
    """Time the widget's try-on per backend in headless Chromium.

    Each (file, backend, thread count) is loaded in its own page and warmed up; the timed runs then go round the
    pages one at a time, so the figures of one call are comparable on a machine whose load changes.

    Args:
        model_dir: folder with ``manifest.json`` (``tryon export`` output); ``None`` writes a stand-in graph.
        backends: any of ``wasm``, ``webgpu``, ``server``.
        runs: timed runs per backend (after ``warmup`` untimed ones).
        photo_size: (height, width) of the synthetic person photo (the paste-back works at this size).
        size: (height, width) of the stand-in graph when ``model_dir`` is ``None``.
        dtypes: time each of these model files of ``model_dir`` on each in-browser backend, side by side in this run
            (the widget is served a copy of the folder whose manifest prefers that file; a dtype a backend cannot
            run, such as fp16 on WebGPU without ``shader-f16``, gets no row). ``None``: the file the widget picks.
        person: a photo of one person to dress (needed for a student deployed with framing, which refuses the
            synthetic photo); default a synthetic ``photo_size`` person.
        threads: WASM thread counts to time one after the other (``env.numThreads``; above 1 needs the
            cross-origin isolation the app sends); ``None``: the widget's default.
        chromium: the browser binary.

    Returns:
        One row per backend (and dtype, and WASM thread count): backend, dtype, runs, inference/total median and p90 in ms, threads, adapter.

    Raises:
        UsageError: chromium, Playwright, the ORT runtime files or the web folder are missing.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UsageError("bench-browser needs Playwright: pip install playwright (the Python package only; "
                         "it drives /usr/bin/chromium, no `playwright install`)") from None
    from tryon.garment.catalogue import DEFAULT_GARMENT, render_garment
    from tryon.server.config import DEFAULT_WEB_DIR

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
        person_path = Path(person) if person is not None else Path(tmp) / "person.png"
        if person is None:
            person_path.write_bytes(_png(_person(*photo_size)))
        garment_b64 = base64.b64encode(_png(render_garment(DEFAULT_GARMENT, size=(768, 576))[0])).decode()

        views = [(None, Path(model_dir))] if not dtypes else [
            (d, _dtype_view(Path(model_dir), d, Path(tmp))) for d in dtypes]
        # Every (file, backend, thread count) gets its own page, warmed up first; then the timed runs go round the
        # pages one run at a time, so a change in the machine's load (other jobs) falls on every file alike
        # instead of on whichever was timed while it lasted.
        with ExitStack() as stack, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            slots = []
            for want_dtype, folder in views:
                base = stack.enter_context(_serve(folder, warmup=want_dtype is None))
                for backend in backends:
                    if want_dtype and backend == "server":
                        continue
                    for n_threads in (threads if threads and backend == "wasm" else [None]):
                        context, page = _demo_page(browser, f"{base}/demo/?backend={backend}&server-fallback=auto")
                        page.set_input_files("tryon-widget .file", str(person_path))
                        log.info("loading %s %s (threads %s), %d warm-up runs", backend, want_dtype or "",
                                 n_threads, warmup)
                        out = page.evaluate(_RUN_JS, [garment_b64, 0, max(1, warmup), n_threads])
                        if want_dtype and (out["info"] or {}).get("dtype") != want_dtype:
                            log.warning("%s cannot run the %s file here; no row", backend, want_dtype)
                            context.close()
                            continue
                        slots.append({"backend": backend, "context": context, "page": page, "runs": [],
                                      "info": out["info"] or {}, "isolated": out["isolated"]})
            for i in range(runs):
                log.info("timed round %d of %d over %d pages", i + 1, runs, len(slots))
                for slot in slots:
                    slot["runs"] += slot["page"].evaluate(_RUN_JS, [None, 1, 0, None])["rows"]
            rows = [_bench_row(slot, photo_size) for slot in slots]
            for slot in slots:
                slot["context"].close()
            browser.close()
    return rows


def _bench_row(slot: dict, photo_size: tuple[int, int]) -> dict:
    """One row of :func:`run_browser_bench` from a page's timed runs."""
    got = {r["backend"] for r in slot["runs"]}
    if got != {slot["backend"]}:
        log.warning("asked for %s, the widget ran on %s", slot["backend"], ", ".join(sorted(got)))
    total = [r["ms"] for r in slot["runs"]]
    inf = [r["inference"] for r in slot["runs"] if r["inference"] is not None]
    info = slot["info"]

    def p90(v: list[float]) -> float:
        return sorted(v)[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]

    return {
        "backend": ",".join(sorted(got)), "dtype": info.get("dtype", "-"), "runs": len(total),
        "inference_median_ms": statistics.median(inf) if inf else None,
        "inference_p90_ms": p90(inf) if inf else None,
        "total_median_ms": statistics.median(total), "total_p90_ms": p90(total),
        "threads": info.get("threads"), "cross_origin_isolated": slot["isolated"],
        "adapter": info.get("adapter"), "photo": f"{photo_size[0]}x{photo_size[1]}",
    }


def _dtype_view(model_dir: Path, dtype: str, tmp: Path) -> Path:
    """A copy of ``model_dir`` whose manifest asks every in-browser backend for its ``dtype`` file
    (``preferred_dtype``, which the widget follows when the backend can run that file).

    Raises:
        UsageError: the manifest lists no ``dtype`` file.
    """
    from tryon.manifest import Manifest

    manifest = json.loads((model_dir / "manifest.json").read_text())
    if not any(f.get("dtype") == dtype for f in manifest.get("files", [])):
        have = ", ".join(f.get("dtype", "?") for f in manifest.get("files", []))
        raise UsageError(f"--dtypes {dtype}: {model_dir} lists no {dtype} file (has {have})")
    manifest["preferred_dtype"] = {**manifest.get("preferred_dtype", {}), "wasm": dtype, "webgpu": dtype}
    return _model_view(model_dir, tmp / f"only-{dtype}", Manifest.from_dict(manifest).to_dict())


def record_browser_choice(model_dir: str | Path, rows: list[dict], *,
                          quality: dict[str, bool | None] | None = None) -> dict[str, str]:
    """Write into ``model_dir/manifest.json`` the file each in-browser backend should run, from ``rows`` of
    :func:`run_browser_bench` with ``dtypes`` (one run): ``preferred_dtype[backend]`` by the rule of
    :mod:`tryon.quantize.choice` (fp32 unless a quantized file was at least as fast at equal quality), with the
    figures in ``metrics["dtype_choice"][backend]``. With rows at several WASM thread counts the rule must pick
    the same file at every count, else fp32 (the widget does not choose its file by thread count). A quantized
    file's quality is the one ``tryon quantize`` measured against fp32 (``metrics["dtype_choice"]["cpu"]``), or
    ``quality``; without it the file is never chosen.

    Returns:
        backend -> chosen dtype, for the backends with an fp32 row.

    Raises:
        DataError: the folder has no readable manifest.
    """
    import dataclasses

    from tryon.manifest import FP32, Manifest
    from tryon.quantize.choice import Candidate, choose_dtype

    manifest = Manifest.load(model_dir)
    if quality is None:
        quality = {c["dtype"]: c.get("quality_ok")
                   for c in manifest.metrics.get("dtype_choice", {}).get("cpu", {}).get("candidates", [])}
    size = {f.dtype: f.bytes for f in manifest.files}
    preferred = dict(manifest.preferred_dtype)
    metrics = dict(manifest.metrics)
    choices = dict(metrics.get("dtype_choice", {}))
    chosen = {}
    for backend in sorted({r["backend"] for r in rows} & {"wasm", "webgpu"}):
        mine = [r for r in rows if r["backend"] == backend]
        per_threads = []
        for threads in sorted({r.get("threads") for r in mine}, key=lambda t: (t is None, t)):
            cands = [Candidate(r["dtype"], r["inference_median_ms"], size.get(r["dtype"], 0),
                               True if r["dtype"] == FP32 else quality.get(r["dtype"]))
                     for r in mine if r.get("threads") == threads]
            if any(c.dtype == FP32 for c in cands):
                per_threads.append((threads, cands, choose_dtype(cands)))
        if not per_threads:
            continue
        picks = {p for _, _, p in per_threads}
        chosen[backend] = preferred[backend] = picks.pop() if len(picks) == 1 else FP32
        choices[backend] = {"backend": f"onnxruntime-web {backend} (headless Chromium)", "chosen": chosen[backend],
                            "threads": per_threads[0][0],
                            "candidates": [c.to_dict() for c in per_threads[0][1]]}
        if len(per_threads) > 1:
            choices[backend]["by_threads"] = [{"threads": t, "chosen": p, "candidates": [c.to_dict() for c in cs]}
                                              for t, cs, p in per_threads]
    metrics["dtype_choice"] = choices
    dataclasses.replace(manifest, preferred_dtype=preferred, metrics=metrics).save(model_dir)
    return chosen


def write_browser_table(path: str | Path, model_dir: str | Path, rows: list[dict]) -> dict:
    """Keep a :func:`run_browser_bench` measurement as data (``--table``): the rows, the files they timed (sha256
    per dtype), their quality against fp32 (``tryon quantize``'s, from the manifest), and when, where and with
    which browser and onnxruntime-web it ran. :func:`apply_browser_table` records the choice from it later, on a
    folder holding the same files, without a browser (``make student``).

    Returns:
        The table written (JSON).

    Raises:
        DataError: the folder has no readable manifest.
        OutputError: ``path`` cannot be written.
    """
    import datetime
    import os
    import platform
    import subprocess

    from tryon.manifest import Manifest
    from tryon.processing import atomic_write_bytes
    from tryon.server.config import DEFAULT_WEB_DIR

    manifest = Manifest.load(model_dir)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() else ""
    try:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except OSError:
        chromium = "unknown"
    ort = json.loads((DEFAULT_WEB_DIR / "package.json").read_text())["dependencies"].get("onnxruntime-web", "?")
    quality = {c["dtype"]: c.get("quality_ok")
               for c in manifest.metrics.get("dtype_choice", {}).get("cpu", {}).get("candidates", [])}
    table = {
        "model": manifest.name, "measured_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}",
        "browser": chromium, "onnxruntime_web": ort,
        "files": {f.dtype: f.sha256 for f in manifest.files}, "quality_ok": quality,
        "quality_note": "tryon quantize --eval: every judged output vs fp32 (tryon.quantize.choice.EQUAL_QUALITY)",
        "rows": [{k: r[k] for k in ("backend", "dtype", "threads", "runs", "inference_median_ms",
                                    "inference_p90_ms", "total_median_ms", "total_p90_ms")} for r in rows],
    }
    atomic_write_bytes(Path(path), (json.dumps(table, indent=1) + "\n").encode())
    return table


def apply_browser_table(model_dir: str | Path, table_path: str | Path) -> dict[str, str]:
    """Record in ``model_dir``'s manifest the in-browser file choice of a measurement kept by
    :func:`write_browser_table`, by :func:`record_browser_choice`'s rule. When the folder's files are not the
    ones the table timed (another sha256), the measurement does not hold for them: fp32 is recorded for every
    in-browser backend the table measured, which the rule chooses when nothing was measured faster.

    Returns:
        backend -> chosen dtype.

    Raises:
        DataError: the table or the manifest cannot be read.
    """
    import dataclasses

    from tryon.errors import DataError
    from tryon.manifest import FP32, Manifest

    try:
        table = json.loads(Path(table_path).read_text())
        rows, files = table["rows"], table["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{table_path}: not a bench-browser table ({exc})") from None
    manifest = Manifest.load(model_dir)
    have = {f.dtype: f.sha256 for f in manifest.files}
    timed = {r["dtype"] for r in rows}
    if all(have.get(d) == files.get(d) for d in timed):
        return record_browser_choice(model_dir, rows, quality=table.get("quality_ok", {}))
    differ = sorted(d for d in timed if have.get(d) != files.get(d))
    log.warning("%s timed other files than %s has (%s differ): recording fp32", table_path, model_dir,
                ", ".join(differ))
    backends = sorted({r["backend"] for r in rows} & {"wasm", "webgpu"})
    metrics = dict(manifest.metrics)
    choices = dict(metrics.get("dtype_choice", {}))
    for b in backends:
        choices[b] = {"backend": f"onnxruntime-web {b}", "chosen": FP32,
                      "note": f"{Path(table_path).name} timed other files ({', '.join(differ)} differ)"}
    metrics["dtype_choice"] = choices
    preferred = {**manifest.preferred_dtype, **{b: FP32 for b in backends}}
    dataclasses.replace(manifest, preferred_dtype=preferred, metrics=metrics).save(model_dir)
    return {b: FP32 for b in backends}


_LIVE_JS = """async ([threads, frames, warmup, timeoutMs]) => {
  const { env } = await import('/src/env.js');  // the widget's own settings module (same URL, same instance)
  env.numThreads = threads;
  const w = document.querySelector('tryon-widget');
  const rows = [];
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  w.addEventListener('live-frame', (e) => {
    const d = e.detail;
    rows.push({t: performance.now(), state: d.state, box: d.box, timings: d.timings, graph: d.graph});
    if (rows.length >= warmup + frames) done();
  });
  await w.startLive();
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  w.stopLive();
  return {rows: rows.slice(warmup), info: w.modelInfo, isolated: crossOriginIsolated};
}"""


def _model_view(model_dir: Path, view: Path, manifest: dict) -> Path:
    """A copy of ``model_dir``'s files in ``view`` with ``manifest`` as its manifest.json. (A copy, not symlinks: the
    app serves no file that links out of its model folder.)"""
    view.mkdir()
    for f in model_dir.iterdir():
        if f.name != "manifest.json" and f.is_file():
            shutil.copyfile(f, view / f.name)
    (view / "manifest.json").write_text(json.dumps(manifest))
    return view


def _without_live(model_dir: Path, tmp: Path) -> Path:
    """A copy of ``model_dir`` whose manifest has no live graphs: live mode then runs the student."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest.pop("live", None)
    manifest.pop("live_files", None)
    return _model_view(model_dir, tmp / "student-only", manifest)


def run_live_bench(model_dir: str | Path, person: str | Path, *, threads: list[int], frames: int = 30,
                   warmup: int = 3, camera: tuple[int, int] = (480, 640), graphs: tuple[str, ...] = ("live",),
                   baseline_dir: str | Path | None = None, rounds: int = 1,
                   chromium: str = "/usr/bin/chromium") -> list[dict]:
    """Live-mode FPS of the widget on WASM, per thread count, with Chromium's fake camera playing ``person`` as a
    landscape webcam clip (the person on one side, sensor noise per frame).

    The settings are timed in turn (per round: each thread count, each graph), every one in a fresh page against
    its own server, so a change of the machine's load falls on all of them alike; each row records the load.

    Args:
        model_dir: a framed student folder (``tryon export``; without ``framing`` the unframed loop is timed).
        person: a photo of one person (made into the fake camera's clip; it is not kept).
        threads: WASM thread counts to time (threads above 1 need cross-origin isolation: the app sends COOP/COEP).
        frames: timed frames per setting, after ``warmup`` untimed ones.
        camera: (height, width) of the fake camera.
        graphs: what runs on each frame, one set of rows each: ``live`` (the manifest's live graphs,
            ``tryon.export.live``, when it has them), ``student`` (the deployed student on every frame) and
            ``baseline`` (the live graphs of ``baseline_dir``).
        baseline_dir: another exported folder to compare with in the same run (e.g. the same student exported
            before a change), served and timed like ``model_dir``; needed for ``baseline`` in ``graphs``.
        rounds: how many times to go round all the settings.
        chromium: the browser binary.

    Returns:
        One row per round, thread count and graph: graph (what ran: ``live``, ``student``, or ``baseline`` for
        ``baseline_dir``'s live graphs), round, fps, frames, tracked frames, per-stage medians in ms (``framing``,
        ``framing_detect`` on frames that ran the full detection, ``framing_track`` on tracking frames,
        ``student``, ``pasteback``, ``other``: decode, crop, tensors, bitmap, messages, drawing), threads,
        isolation, ``load``: the machine's 1-minute load average after the row.

    Raises:
        UsageError: chromium, Playwright, the ORT runtime files or the web folder are missing; ``baseline`` is
            asked for without ``baseline_dir``.
    """
    import os

    from playwright.sync_api import sync_playwright

    from tryon.processing import load_image

    if "baseline" in graphs and baseline_dir is None:
        raise UsageError("the baseline graph needs a baseline folder (--baseline-dir)")
    with tempfile.TemporaryDirectory(prefix="tryon-bench-live-") as tmp:
        frame, _ = camera_frame(load_image(person), camera)
        clip = write_y4m(Path(tmp) / "camera.y4m", camera_clip(frame, person_seconds=4.0, fps=15), fps=15)
        flags = CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                  f"--use-file-for-fake-video-capture={clip}"]
        folders = {"live": Path(model_dir), "baseline": Path(baseline_dir) if baseline_dir else None}
        rows = []
        with ExitStack() as stack, sync_playwright() as pw:
            bases = {}
            for which in graphs:
                folder = folders.get(which) or _without_live(Path(model_dir), Path(tmp))
                bases[which] = stack.enter_context(_serve(folder))
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=flags)
            for r in range(rounds):
                for n in threads:
                    for which in graphs:
                        row = _live_row(browser, bases[which], n, frames=frames, warmup=warmup, camera=camera)
                        if which == "baseline":
                            row["graph"] = "baseline"
                        rows.append({**row, "round": r, "load": os.getloadavg()[0]})
            browser.close()
    return rows


def _live_row(browser, base: str, n: int, *, frames: int, warmup: int, camera: tuple[int, int]) -> dict:
    """One row of :func:`run_live_bench`: ``n`` WASM threads on the app at ``base``."""
    context, page = _demo_page(browser, f"{base}/demo/?backend=wasm&server-fallback=never")
    page.wait_for_function("() => document.querySelector('tryon-widget').garmentSrc")  # catalogue in
    log.info("live mode, %d thread(s): %d warm-up + %d frames", n, warmup, frames)
    out = page.evaluate(_LIVE_JS, [n, frames, warmup, 600_000])
    context.close()
    got = out["rows"]
    if len(got) < 2:
        raise UsageError(f"live mode delivered {len(got)} frames with {n} thread(s)")

    def med(key, keep=lambda r: True):
        v = [r["timings"].get(key) for r in got if keep(r) and r["timings"].get(key) is not None]
        return statistics.median(v) if v else None

    def other(r):
        t = r["timings"]
        return t["total"] - sum(t.get(k) or 0 for k in ("framing", "inference", "pasteback", "garment_features"))

    ran = [r.get("graph") for r in got if r.get("graph")]
    return {
        "graph": max(set(ran), key=ran.count) if ran else "-",
        "threads": (out["info"] or {}).get("threads", n), "cross_origin_isolated": out["isolated"],
        "frames": len(got), "tracked": sum(r["state"] in ("tracking", "detected") for r in got),
        "fps": (len(got) - 1) / ((got[-1]["t"] - got[0]["t"]) / 1000),
        "framing_ms": med("framing"), "framing_detect_ms": med("framing", lambda r: r["state"] != "tracking"),
        "framing_track_ms": med("framing", lambda r: r["state"] == "tracking"),
        "student_ms": med("inference"), "pasteback_ms": med("pasteback"),
        "other_ms": statistics.median(other(r) for r in got), "total_ms": med("total"),
        "framed": bool((out["info"] or {}).get("framing")), "camera": f"{camera[1]}x{camera[0]}",
    }


def _demo_page(browser, url: str):
    """A fresh context (empty Cache API) and page on the demo at ``url``, once the widget is defined."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(600_000)
    page.goto(url)
    page.wait_for_function("() => customElements.get('tryon-widget') !== undefined")
    return context, page


@contextmanager
def _serve(model_dir: str | Path, *, warmup: bool = False):
    """The app (``create_app``, COOP/COEP on, so WASM may use threads) under uvicorn on a free loopback port;
    yields its base URL."""
    import uvicorn

    from tryon.server.config import Settings
    from tryon.server.main import create_app
    from tryon.server.protocol import HTTP_PROTOCOL

    settings = Settings(model_dir=Path(model_dir), providers="cpu", coop_coep=True, warmup=warmup)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                            http=HTTP_PROTOCOL))
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
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
    live: Annotated[bool, typer.Option(
        "--live", help="Time live mode instead: FPS and per-stage ms on WASM, per --threads, with Chromium's fake "
                       "camera playing --person as a landscape webcam clip. Needs --model-dir (a framed student "
                       "from `tryon export`) and --person.")] = False,
    person: Annotated[Path | None, typer.Option(
        "--person", exists=True, dir_okay=False, help="A photo of one person: for the fake camera with --live, else "
        "the photo to dress (needed for a student deployed with framing; default a synthetic photo).")] = None,
    threads: Annotated[str | None, typer.Option(
        "--threads", help="Comma-separated WASM thread counts, timed one after the other (above 1 needs "
                          "cross-origin isolation, which the app sends). Default: 1,2 with --live, else the "
                          "widget's own.")] = None,
    frames: Annotated[int, typer.Option("--frames", min=2, help="--live: timed frames per thread count.")] = 30,
    camera: Annotated[str, typer.Option("--camera", help="--live: HEIGHTxWIDTH of the fake camera.")] = "480x640",
    dtypes: Annotated[str | None, typer.Option(
        "--dtypes", help="Comma-separated model files of --model-dir to time side by side on each in-browser "
                         "backend (e.g. fp32,int8,int8_dynamic; fp16 on WebGPU with shader-f16 only).")] = None,
    record: Annotated[bool, typer.Option(
        "--record", help="With --dtypes: write the file each backend should run into --model-dir's manifest "
                         "(preferred_dtype: fp32 unless a quantized file was at least as fast at the quality "
                         "`tryon quantize` measured), which the widget reads.")] = False,
    table_out: Annotated[Path | None, typer.Option(
        "--table", dir_okay=False, help="With --dtypes: keep the measurement as data in this JSON file (rows, the "
        "files' sha256 and quality, date, machine, browser) for --from-table.")] = None,
    from_table: Annotated[Path | None, typer.Option(
        "--from-table", exists=True, dir_okay=False, help="Record in --model-dir's manifest the file each "
        "in-browser backend runs from a kept --table measurement, without a browser (fp32 when the folder's files "
        "are not the ones it timed).")] = None,
    graphs: Annotated[str, typer.Option(
        "--graphs", help="--live: comma-separated, what runs on each frame: live (the manifest's live graphs: the "
                         "garment pyramid once, the student without flip ensemble per frame) and student (the "
                         "deployed student on every frame), timed in the same run; baseline (the live graphs of "
                         "--baseline-dir) is added with --baseline-dir.")] = "live,student",
    baseline_dir: Annotated[Path | None, typer.Option(
        "--baseline-dir", exists=True, file_okay=False, help="--live: another exported folder (e.g. the student "
        "exported before a change) whose live graphs are timed in turn with --model-dir's, rows 'baseline'.")] = None,
    rounds: Annotated[int, typer.Option(
        "--rounds", min=1, help="--live: go round all the settings this many times (they are timed in turn, so "
                                "a change of load falls on all alike).")] = 1,
) -> None:
    """Median in-browser inference time per backend of the <tryon-widget> in headless Chromium (or, with --live,
    live-mode FPS)."""
    from rich.console import Console
    from rich.table import Table

    from tryon.cli.options import parse_size
    from tryon.cli.tables import print_table

    if live:
        if model_dir is None or person is None:
            raise UsageError("--live needs --model-dir (a framed student: `tryon export`) and --person PHOTO")
        counts = _thread_counts(threads or "1,2")
        which = tuple(g.strip() for g in graphs.split(",") if g.strip())
        if baseline_dir is not None and "baseline" not in which:
            which = (*which, "baseline")
        if not which or set(which) - {"live", "student", "baseline"}:
            raise UsageError(f"--graphs: expected live, student and/or baseline, got {graphs!r}")
        rows = run_live_bench(model_dir, person, threads=counts, frames=frames, warmup=warmup,
                              camera=parse_size(camera), graphs=which, baseline_dir=baseline_dir, rounds=rounds)
        table = Table(title="Live try-on, WASM (headless Chromium, fake camera)")
        cols = [("round", "round"), ("graph", "graph"), ("threads", "threads"), ("FPS", "fps"), ("frames", "frames"),
                ("tracked", "tracked"),
                ("framing ms", "framing_ms"), ("detect ms", "framing_detect_ms"), ("track ms", "framing_track_ms"),
                ("student ms", "student_ms"), ("paste-back ms", "pasteback_ms"), ("other ms", "other_ms"),
                ("total ms", "total_ms"), ("load", "load")]
        for title, _ in cols:
            table.add_column(title, justify="right")
        for r in rows:
            table.add_row(*("-" if r[k] is None else f"{r[k]:.1f}" if isinstance(r[k], float) else str(r[k])
                            for _, k in cols))
        print_table(table)
        if not all(r["framed"] for r in rows):
            Console().print("note: the model folder has no framing: the unframed loop was timed")
        if json_out:
            from tryon.processing import atomic_write_bytes as atomic_write

            atomic_write(json_out, (json.dumps(rows, indent=2) + "\n").encode())
        return

    if from_table is not None:
        if model_dir is None:
            raise UsageError("--from-table needs --model-dir (the folder whose manifest records the choice)")
        for backend, dtype in apply_browser_table(model_dir, from_table).items():
            Console().print(f"{backend}: runs {dtype} (from {from_table}, recorded in {model_dir / 'manifest.json'})")
        return
    wanted = [d.strip() for d in dtypes.split(",") if d.strip()] if dtypes else None
    if table_out is not None and not wanted:
        raise UsageError("--table needs --dtypes (the files to compare)")
    if wanted and model_dir is None:
        raise UsageError("--dtypes needs --model-dir (an exported student with its quantized files)")
    if record and not wanted:
        raise UsageError("--record needs --dtypes (the files to compare)")
    from tryon.manifest import DTYPES

    bad = sorted(set(wanted or ()) - set(DTYPES))
    if bad:
        raise UsageError(f"--dtypes: unknown {bad}; use {', '.join(DTYPES)}")
    rows = run_browser_bench(model_dir, [b.strip() for b in backends.split(",") if b.strip()], runs=runs,
                             warmup=warmup, photo_size=parse_size(photo), size=parse_size(size), dtypes=wanted,
                             person=person, threads=_thread_counts(threads) if threads else None)
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
    print_table(table)
    if json_out:
        from tryon.processing import atomic_write_bytes as atomic_write

        atomic_write(json_out, (json.dumps(rows, indent=2) + "\n").encode())
    if table_out is not None:
        write_browser_table(table_out, model_dir, rows)
        Console().print(f"measurement kept in {table_out}")
    if record:
        for backend, dtype in record_browser_choice(model_dir, rows).items():
            Console().print(f"{backend}: runs {dtype} (recorded in {model_dir / 'manifest.json'})")


def _thread_counts(text: str) -> list[int]:
    """``--threads`` as a list of positive integers.

    Raises:
        UsageError: anything else.
    """
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise UsageError(f"--threads: expected comma-separated positive integers, got {text!r}")
    return counts


def register(app: typer.Typer) -> None:
    """Add ``tryon bench-browser`` to ``app``."""
    app.command("bench-browser")(bench_browser)
