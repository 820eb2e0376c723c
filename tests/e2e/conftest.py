"""Fixtures of the browser tests: a tiny student-shaped ONNX model, the real FastAPI app on loopback serving
``web/`` and the model, Debian's chromium driven by Playwright, and synthetic test photos.

Nothing is downloaded: Playwright drives ``/usr/bin/chromium`` (never ``playwright install``), and the
onnxruntime-web runtime comes from ``web/vendor/ort`` (``npm ci`` in ``web/``). Tests skip when those are absent.
"""

from __future__ import annotations


import io
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = Path("/usr/bin/chromium")
OUT = Path(__file__).with_name("out")  # screenshots and result images (gitignored by the lead's .gitignore)
ARTIFACTS = REPO / "artifacts" / "e2e"
MODEL_SIZE = (64, 48)  # (height, width): tiny, because WebGPU on SwiftShader costs ~1 s per run even at this size
# The trained student runs at the smallest size it was trained at: at 64x48 its composition logits stay negative
# (mask max 0.28 with a soft mask, 0.001 with the deployed sharpness) and the photo comes back untouched.
DEFAULT_STUDENT_SIZE = (128, 96)
STUDENT_ONLY = "none"
"""``teacher_categories`` of the sites here: the student alone, so a category it does not dress is refused as the
widget refuses it without a server that dresses it (``test_server_categories.py`` serves the teacher)."""
BASELINE_FLAGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def _tiny_student(wide_concat: bool = False):
    """A small torch module with the student's exact I/O: Conv on the 7-channel concat, a flow head, grid_sample
    of garment and mask, a composition mask and a residual render (every op the real student uses on WebGPU)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TinyStudent(nn.Module):
        def __init__(self, h: int, w: int):
            super().__init__()
            self.enc1 = nn.Conv2d(28 if wide_concat else 7, 8, 3, padding=1)
            self.enc2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.head = nn.Conv2d(16, 3, 3, padding=1)  # 2 flow + 1 mask logit, at half resolution
            self.refine = nn.Conv2d(6, 3, 3, padding=1)
            gx = (2 * torch.arange(w) + 1) / w - 1
            gy = (2 * torch.arange(h) + 1) / h - 1
            self.register_buffer("identity", torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1)[None])

        def forward(self, person, garment, garment_mask):
            if wide_concat:  # a 10-input Concat, like a correlation volume: 11 storage buffers > WebGPU's 8
                x = torch.cat([person * (1.0 + 0.01 * i) for i in range(8)] + [garment, garment_mask], 1)
            else:
                x = torch.cat([person, garment, garment_mask], 1)  # (1, 7, h, w)
            x = F.relu(self.enc2(F.relu(self.enc1(x))))  # (1, 16, h/2, w/2)
            x = F.interpolate(self.head(x), scale_factor=2.0, mode="bilinear", align_corners=False)  # (1, 3, h, w)
            grid = self.identity + 0.08 * torch.tanh(x[:, :2]).permute(0, 2, 3, 1)  # (1, h, w, 2)
            warped = F.grid_sample(garment, grid, mode="bilinear", padding_mode="border", align_corners=False)
            warped_mask = F.grid_sample(garment_mask, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            comp = torch.sigmoid(x[:, 2:3] + 4.0) * warped_mask  # (1, 1, h, w)
            residual = 0.1 * torch.tanh(self.refine(torch.cat([person, warped], 1)))
            tryon = torch.clamp(comp * warped + (1 - comp) * (person + residual), -1.0, 1.0)
            return tryon, warped, grid, comp

    torch.manual_seed(0)
    return TinyStudent(*MODEL_SIZE).eval()


def build_tiny_model(folder: Path, *, wide_concat: bool = False) -> Path:
    """Export the tiny student (legacy exporter, opset 17, one file) and write its manifest into ``folder``.

    ``wide_concat`` builds the variant whose first Concat has 10 inputs, which JSEP WebGPU cannot run (it needs
    more storage buffers per shader stage than WebGPU's default 8) and answers with garbage, not an error."""
    import torch

    from tryon.manifest import FileEntry, Manifest, TensorSpec

    h, w = MODEL_SIZE
    folder.mkdir(parents=True, exist_ok=True)
    model = _tiny_student(wide_concat)
    example = (torch.zeros(1, 3, h, w), torch.zeros(1, 3, h, w), torch.zeros(1, 1, h, w))
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, example, buf, dynamo=False, opset_version=17,
                          input_names=["person", "garment", "garment_mask"],
                          output_names=["tryon", "warped_garment", "grid", "composition_mask"])
    (folder / "model.onnx").write_bytes(buf.getvalue())
    img = (-1.0, 1.0)
    Manifest(
        name="tiny_test_student", version="0.0.0-e2e",
        inputs=(TensorSpec("person", (1, 3, h, w), value_range=img), TensorSpec("garment", (1, 3, h, w), value_range=img),
                TensorSpec("garment_mask", (1, 1, h, w), value_range=(0.0, 1.0))),
        outputs=(TensorSpec("tryon", (1, 3, h, w), value_range=img),
                 TensorSpec("warped_garment", (1, 3, h, w), value_range=img),
                 TensorSpec("grid", (1, h, w, 2), value_range=(-1.0, 1.0), layout="NHWC"),
                 TensorSpec("composition_mask", (1, 1, h, w), value_range=(0.0, 1.0))),
        files=(FileEntry.from_path(folder, "model.onnx", "fp32"),), opset=17,
        extra={"note": "tiny random-weight student for the browser tests (tests/e2e/conftest.py)"},
    ).save(folder)
    return folder


def synthetic_person(h: int = 320, w: int = 240) -> np.ndarray:
    """A drawn 'person' (head, neck, torso, arms) on a plain wall: project-made, no photos."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (w, h), (214, 220, 228))
    d = ImageDraw.Draw(im)
    skin, shirt = (224, 172, 140), (70, 90, 120)
    cx = w // 2
    d.ellipse([cx - 28, 20, cx + 28, 88], fill=skin)  # head
    d.rectangle([cx - 12, 84, cx + 12, 104], fill=skin)  # neck
    d.polygon([(cx - 70, 110), (cx + 70, 110), (cx + 60, 250), (cx - 60, 250)], fill=shirt)  # torso
    d.polygon([(cx - 70, 110), (cx - 95, 230), (cx - 78, 234), (cx - 58, 140)], fill=skin)  # arms
    d.polygon([(cx + 70, 110), (cx + 95, 230), (cx + 78, 234), (cx + 58, 140)], fill=skin)
    d.rectangle([cx - 58, 250, cx + 58, h], fill=(40, 40, 60))  # trousers
    arr = np.asarray(im).astype(np.int16)
    arr += np.random.default_rng(3).integers(-4, 5, arr.shape, dtype=np.int16)  # sensor-like noise
    return np.clip(arr, 0, 255).astype(np.uint8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEFAULT_STUDENT = REPO / "models" / "weights" / "afn_student_s.pt"


def _require_vendored_ort() -> None:
    if not (WEB / "vendor" / "ort" / "ort.min.mjs").is_file():
        pytest.skip("web/vendor/ort is missing: run `npm ci` in web/")


def _export_default_student(folder: Path, size: tuple[int, int], live: bool = False) -> Path:
    """Export ``DEFAULT_STUDENT`` at ``size`` (height, width) into ``folder`` (model.onnx + manifest.json) with the
    garment segmenter (:func:`tryon.garment.segmenter.attach_segmenter`), as ``tryon export`` deploys it, and with
    live mode's graphs (``tryon.export.live``) when ``live``."""
    from tryon.export import export_model, model_from_checkpoint
    from tryon.garment.segmenter import attach_segmenter

    model, name = model_from_checkpoint(DEFAULT_STUDENT)
    export_model(model, folder, name=name, size=size, version="e2e")
    attach_segmenter(folder)
    if live:
        from tryon.export.live import attach_live

        attach_live(folder, model)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The trained default student (``models/weights/afn_student_s.pt``) exported at 128×96 — the network is
    fully convolutional, and WebGPU here is software, so the browser tests run it at the smallest size it was
    trained at — or the exported folder named by ``TRYON_E2E_MODEL_DIR``. The random tiny student stands in
    only if the weights are absent."""
    import os

    given = os.environ.get("TRYON_E2E_MODEL_DIR")
    if given:
        return Path(given)
    pytest.importorskip("torch")
    if DEFAULT_STUDENT.is_file():
        return _export_default_student(tmp_path_factory.mktemp("default_student"), DEFAULT_STUDENT_SIZE)
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def wide_concat_model_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    return build_tiny_model(tmp_path_factory.mktemp("wide_concat_model"), wide_concat=True)


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """PNG files: a synthetic person, a catalogue garment and its exact mask, and a text file posing as a photo."""
    from tryon.garment.catalogue import render_garment
    from tryon.processing import save_image

    d = tmp_path_factory.mktemp("photos")
    garment, mask = render_garment("graphic-print-tee", size=(400, 300))
    save_image(d / "person.png", synthetic_person())
    save_image(d / "garment.png", garment)
    m = np.clip(mask * 255 + 0.5, 0, 255).astype(np.uint8)
    save_image(d / "garment_mask.png", np.repeat(m[..., None], 3, 2))
    (d / "not_an_image.png").write_text("this is a text file, not a PNG\n")
    return {"person": d / "person.png", "garment": d / "garment.png", "garment_mask": d / "garment_mask.png",
            "bad": d / "not_an_image.png"}


@pytest.fixture(scope="session")
def site(tiny_model_dir, photos, tmp_path_factory) -> str:
    """The real app (``tryon.server.create_app``) under uvicorn in a thread on loopback; yields its base URL.

    Serves ``web/`` at ``/`` with the default settings' cross-origin isolation (threaded WASM) and strict CSP,
    the tiny model at ``/models/``, the test photos at ``/demo/testdata/`` (copied into a temporary web root), and
    the fallback API.
    """
    _require_vendored_ort()
    from tryon.server.config import Settings

    root = tmp_path_factory.mktemp("site") / "web"
    shutil.copytree(WEB, root, symlinks=True, ignore=shutil.ignore_patterns("node_modules"))
    (root / "demo" / "testdata").mkdir(exist_ok=True)
    for p in photos.values():
        shutil.copy(p, root / "demo" / "testdata" / p.name)
    settings = Settings(model_dir=tiny_model_dir, web_dir=root, providers="cpu", intra_op_threads=1, warmup=True,
                        teacher_categories=STUDENT_ONLY)
    with _serve_app(settings) as base:
        yield base


@pytest.fixture(scope="module")
def quantized_site(tiny_model_dir, tmp_path_factory) -> str:
    """The app serving ``web/`` and a model folder as ``make setup`` ships it: the fp32 file plus the dynamic
    int8 one, listed by ``tryon quantize``'s own dtype name (``int8_dynamic``). Yields its base URL."""
    _require_vendored_ort()
    import dataclasses

    from tryon.manifest import INT8_DYNAMIC, FileEntry, Manifest
    from tryon.quantize.dynamic import quantize_dynamic_int8
    from tryon.quantize.pipeline import output_path
    from tryon.server.config import Settings

    folder = tmp_path_factory.mktemp("quantized_model")
    for f in tiny_model_dir.iterdir():
        shutil.copy(f, folder / f.name)
    dst = output_path(folder / "model.onnx", folder, "dynamic")
    quantize_dynamic_int8(folder / "model.onnx", dst)
    manifest = Manifest.load(folder)
    entry = FileEntry.from_path(folder, dst.name, dtype=INT8_DYNAMIC)
    dataclasses.replace(manifest, files=(*manifest.files, entry)).save(folder)
    settings = Settings(model_dir=folder, web_dir=WEB, providers="cpu", intra_op_threads=1, warmup=True,
                        teacher_categories=STUDENT_ONLY)
    with _serve_app(settings) as base:
        yield base


@contextmanager
def _serve_app(settings):
    """Run ``create_app(settings)`` under uvicorn in a thread on a free loopback port; yields the base URL."""
    import urllib.request

    import uvicorn

    from tryon.server.main import create_app
    from tryon.server.protocol import HTTP_PROTOCOL

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                            http=HTTP_PROTOCOL))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail("the app did not become ready")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _shop(model_dir: Path, folder: Path, *, list_origin: bool):
    """A shop page on another origin embedding the widget from our host, as the README shows: one module script
    and one element, with absolute URLs. The shop is a plain static file server (``http.server``) on another
    port; our app lists the shop's origin in ``cors_origins`` when ``list_origin``. Yields (shop page URL, our
    base URL)."""
    _require_vendored_ort()
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tryon.server.config import Settings

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(folder)))
    shop_origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings = Settings(model_dir=model_dir, web_dir=WEB, providers="cpu", intra_op_threads=1,
                        teacher_categories=STUDENT_ONLY,
                        cors_origins=[shop_origin] if list_origin else [], warmup=True)
    try:
        with _serve_app(settings) as base:
            (folder / "index.html").write_text(EMBED_PAGE.format(base=base), encoding="utf-8")
            yield f"{shop_origin}/index.html", base
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def shop(tiny_model_dir, tmp_path_factory):
    """The README's embedding on a shop page of another origin, which our app lists (``--cors-origin``)."""
    with _shop(tiny_model_dir, tmp_path_factory.mktemp("shop"), list_origin=True) as urls:
        yield urls


@pytest.fixture(scope="module")
def unlisted_shop(tiny_model_dir, tmp_path_factory):
    """The same embedding on a shop whose origin our app was not started with (no ``--cors-origin``)."""
    with _shop(tiny_model_dir, tmp_path_factory.mktemp("unlisted_shop"), list_origin=False) as urls:
        yield urls


# The README's cross-origin embedding snippet, verbatim apart from the host.
EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A shop</title></head>
<body>
<h1>Graphic print tee</h1>
<script type="module" src="{base}/src/tryon-widget.js"></script>
<tryon-widget model="{base}/models/manifest.json" garment-src="{base}/demo/garments/graphic-print-tee.png"
              server="{base}/"></tryon-widget>
</body></html>
"""


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, WebGPU on (SwiftShader on CPU-only machines).

    Module-scoped: Playwright's sync API keeps an asyncio loop running in this thread while it is open, which
    would break later tests that call ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BASELINE_FLAGS)
        yield b
        b.close()


# Records every event <tryon-widget> dispatches, from the page's first script on, in window.__events (blobs as
# their sizes). An init script: it runs before the page's own scripts and is exempt from the page's CSP.
RECORD_EVENTS_JS = """
window.__events = [];
for (const t of ['progress', 'load', 'result', 'backend-change', 'model-change', 'error']) {
  document.addEventListener(t, (e) => {
    if (e.target?.localName !== 'tryon-widget') return;
    const d = {...e.detail};
    if (d.blob) d.blob = d.blob.size;
    window.__events.push({type: t, detail: d});
  });
}
"""


@pytest.fixture(scope="module")
def chromium_launch():
    """``launch(extra_args)``: Debian's chromium with the baseline flags plus ``extra_args`` (e.g. a fake camera
    file), as a context manager yielding the Playwright browser. Skips without chromium or Playwright."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")

    @contextmanager
    def launch(extra_args: list[str]):
        with sync_api.sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BASELINE_FLAGS + extra_args)
            try:
                yield b
            finally:
                b.close()

    return launch


@pytest.fixture(scope="module")
def camera_demo_page(chromium_launch):
    """``open(site, clip)``: the demo page on WASM (no server fallback) in a chromium whose fake camera loops the
    y4m ``clip``, once the widget and its garment are ready, as a context manager yielding the page; page errors
    fail the test on exit."""

    @contextmanager
    def open_page(site: str, clip: Path):
        with chromium_launch([f"--use-file-for-fake-video-capture={clip}"]) as browser:
            page = browser.new_context().new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_default_timeout(300_000)
            page.goto(f"{site}/demo/?backend=wasm&server-fallback=never")
            page.wait_for_function("() => { const w = document.querySelector('tryon-widget'); "
                                   "return customElements.get('tryon-widget') && w.garmentSrc; }")
            yield page
            assert not errors, errors

    return open_page


@pytest.fixture
def make_page(browser):
    """``make_page(**context_options)``: a fresh page in its own context (empty Cache API; Playwright's
    ``new_context`` options, default a 1100×900 viewport) that records the widget's events in
    ``window.__events`` and page errors; the test fails on any page error."""
    contexts, errors = [], []

    def make(**options):
        context = browser.new_context(**{"viewport": {"width": 1100, "height": 900}, **options})
        context.add_init_script(RECORD_EVENTS_JS)
        contexts.append(context)
        p = context.new_page()
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.set_default_timeout(120_000)
        return p

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught page errors: {errors}"


@pytest.fixture
def page(make_page):
    """A fresh desktop-sized page (see ``make_page``)."""
    return make_page()


@pytest.fixture(scope="session")
def try_on():
    """``try_on(page, photo)``: upload ``photo`` into the page's widget, press "Try it on" and return the
    ``result`` event's detail; fails on an ``error`` event."""
    def run(page, photo) -> dict:
        page.set_input_files("tryon-widget .file", str(photo))
        page.click("tryon-widget .run")
        page.wait_for_function("() => window.__events.some(e => e.type === 'result' || e.type === 'error')",
                               timeout=240_000)
        events = page.evaluate("() => window.__events")
        errors = [e for e in events if e["type"] == "error"]
        assert not errors, f"the widget reported an error: {errors}"
        return next(e for e in events if e["type"] == "result")["detail"]
    return run


SHARED_PERSONS = REPO.parent / "shared" / "data" / "vton-samples" / "person"
SHOPPER_PHOTO = "ootdiffusion__01008_00.jpg"  # a 768x1024 studio photo; read from ../shared, never committed


@pytest.fixture(scope="module")
def shopper_site(tmp_path_factory):
    """The app as `make setup` leaves it: ``web/`` and the trained default student exported at its real size
    (256×192), same-origin. Yields its base URL."""
    _require_vendored_ort()
    if not (WEB / "demo" / "garments" / "catalogue.json").is_file():
        pytest.skip("web/demo/garments is missing: run `tryon web-build`")
    if not DEFAULT_STUDENT.is_file():
        pytest.skip(f"{DEFAULT_STUDENT} is missing")
    pytest.importorskip("torch")
    from tryon.server.config import Settings

    folder = _export_default_student(tmp_path_factory.mktemp("default_student_256"), (256, 192))
    settings = Settings(model_dir=folder, web_dir=WEB, providers="cpu", intra_op_threads=1, warmup=True,
                        teacher_categories=STUDENT_ONLY)
    with _serve_app(settings) as base:
        yield base


@contextmanager
def _teacher_site(model_dir: Path, **settings):
    """The app serving ``web/`` (the demo and its catalogue) and the student of ``model_dir`` with the teacher on
    (the default ``teacher_categories``); yields its base URL. Skips when the teacher's models, the vendored
    onnxruntime-web or the demo's catalogue are missing."""
    _require_vendored_ort()
    if not (WEB / "demo" / "garments" / "catalogue.json").is_file():
        pytest.skip("web/demo/garments is missing: run `tryon web-build`")
    from tryon.errors import MissingModelError
    from tryon.server.config import Settings
    from tryon.teacher.pipeline import Teacher

    try:
        Teacher().load()
    except MissingModelError as exc:
        pytest.skip(f"the teacher's models are not installed: {exc.message}")
    with _serve_app(Settings(model_dir=model_dir, web_dir=WEB, providers="cpu", intra_op_threads=1,
                             **settings)) as base:
        yield base


def _framed_student(folder: Path) -> Path:
    """The default student at 256x192 deployed as ``tryon export`` deploys it: with the framing models and rules
    (:func:`tryon.framing.attach_framing`), live mode's graphs and the garment segmenter; skips when ``tryon setup``
    has not built the framing models."""
    from tryon.errors import MissingModelError
    from tryon.framing import attach_framing

    _export_default_student(folder, (256, 192), live=True)
    try:
        attach_framing(folder)
    except MissingModelError as exc:
        pytest.skip(f"framing models missing: {exc}")
    return folder


@pytest.fixture(scope="module")
def framed_student_dir(tmp_path_factory) -> Path:
    """A framed student folder (model.onnx, the three framing models, manifest with ``framing``)."""
    _require_vendored_ort()
    if not DEFAULT_STUDENT.is_file():
        pytest.skip(f"{DEFAULT_STUDENT} is missing")
    pytest.importorskip("torch")
    return _framed_student(tmp_path_factory.mktemp("framed_student"))


@pytest.fixture(scope="module")
def framed_site(framed_student_dir):
    """The app serving ``web/`` and the framed student, cross-origin isolated (threaded WASM); yields its base
    URL."""
    if not (WEB / "demo" / "garments" / "catalogue.json").is_file():
        pytest.skip("web/demo/garments is missing: run `tryon web-build`")
    from tryon.server.config import Settings

    settings = Settings(model_dir=framed_student_dir, web_dir=WEB, providers="cpu", intra_op_threads=1,
                        teacher_categories=STUDENT_ONLY,
                        coop_coep=True, warmup=False)
    with _serve_app(settings) as base:
        yield base


@pytest.fixture(scope="module")
def shopper_photo(photos) -> Path:
    """A real person photo from ``../shared`` when present (research use, never committed), else the drawn one."""
    real = SHARED_PERSONS / SHOPPER_PHOTO
    return real if real.is_file() else photos["person"]
