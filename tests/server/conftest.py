"""Server test fixtures: a stand-in student model folder, a tiny web site, photos, Redis and a live uvicorn.

The stand-in model (``tryon.server.testing``) has exactly the student's ONNX I/O, so nothing here needs torch or
trained weights. Redis tests start a private ``redis-server`` on a free loopback port (no persistence, tmp dir)
and skip when the binary is absent (``apt-get install redis-server``).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tryon.server.config import Settings
from tryon.server.main import create_app
from tryon.server.protocol import HTTP_PROTOCOL
from tryon.server.testing import write_stand_in_model

MODEL_SIZE = (64, 48)


def encode(image: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode an (H, W, 3) uint8 RGB array in memory."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt)
    return buf.getvalue()


def make_person(h: int = 200, w: int = 150) -> np.ndarray:
    """A smooth synthetic 'person' photo (gradient + a darker body block), (h, w, 3) uint8."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // w), (y * 255 // h), np.full_like(x, 128)], -1).astype(np.uint8)
    img[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = (60, 60, 90)
    return img


def make_garment(h: int = 200, w: int = 150, color: tuple[int, int, int] = (200, 30, 30)) -> np.ndarray:
    """An in-shop style tee (the built-in catalogue's crew tee, dyed ``color``) on plain white, (h, w, 3) uint8:
    the server classifies the garment, so it must have a top's shape."""
    from tryon.garment.catalogue import render_garment

    img, mask = render_garment("white-crew-tee", size=(h, w))
    dyed = img.astype(np.float32) * (np.asarray(color, np.float32) / 255.0)
    m = mask[..., None]
    return np.clip(m * dyed + (1 - m) * img, 0, 255).astype(np.uint8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in student model folder (model.onnx + manifest.json), batch 1."""
    folder = tmp_path_factory.mktemp("model")
    write_stand_in_model(folder, MODEL_SIZE)
    return folder


@pytest.fixture(scope="session")
def dynamic_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in student with a symbolic batch axis (stacked micro-batches)."""
    folder = tmp_path_factory.mktemp("model_dyn")
    write_stand_in_model(folder, MODEL_SIZE, dynamic_batch=True)
    return folder


@pytest.fixture(scope="session")
def web_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny stand-in for web/: index.html, a module script, a wasm file, a content-hashed asset, the widget's
    public ``src/`` and a versioned runtime folder (``vendor/ort/VERSION``) whose files have precompressed
    ``.gz`` siblings (``.br`` is stood in by marked bytes: Python's brotli is not a dependency)."""
    folder = tmp_path_factory.mktemp("web")
    (folder / "index.html").write_text("<!doctype html><title>tryon</title><script type=module src=app.mjs></script>")
    (folder / "app.mjs").write_text("export const ok = true;\n")
    (folder / "ort-wasm-simd-threaded.wasm").write_bytes(b"\0asm\1\0\0\0")
    (folder / "chunk.3f9a1c2e.js").write_text("export {};\n")
    (folder / "src").mkdir()
    (folder / "src" / "widget.js").write_text("export const widget = true;\n")
    ort = folder / "vendor" / "ort"
    ort.mkdir(parents=True)
    (ort / "VERSION").write_text("1.2.3\n")
    runtime = b"\0asm\1\0\0\0" + bytes(range(256)) * 64
    (ort / "rt.wasm").write_bytes(runtime)
    (ort / "rt.wasm.gz").write_bytes(gzip.compress(runtime))
    (ort / "rt.wasm.br").write_bytes(b"brotli stand-in")
    return folder


@pytest.fixture
def make_settings(model_dir: Path, web_dir: Path) -> Callable[..., Settings]:
    """Settings for a test: the stand-in model and site, small limits, the student alone (``teacher_categories``
    none: the stand-in is what these tests exercise; ``test_teacher_api.py`` serves the teacher), overridable by
    keyword."""
    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {"model_dir": model_dir, "web_dir": web_dir, "providers": "cpu",
                                "intra_op_threads": 1, "batch_wait_ms": 1.0, "wait_max_s": 30.0,
                                "teacher_categories": "none"}
        base.update(overrides)
        return Settings(**base)
    return make


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """A TestClient on a fresh app (lifespan run: session created and warmed)."""
    with TestClient(create_app(make_settings())) as c:
        yield c


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Encoded test photos: person/garment PNGs and a JPEG person."""
    return {"person": encode(make_person()), "garment": encode(make_garment()),
            "person_jpeg": encode(make_person(), "JPEG")}


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free loopback port, no persistence; skipped when redis-server is absent."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server); Redis job-store tests skipped")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path), "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Run the app under a real uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            http=HTTP_PROTOCOL)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def images() -> Any:
    """Helpers for tests (conftest modules cannot be imported under --import-mode=importlib)."""
    class _Images:
        encode = staticmethod(encode)
        person = staticmethod(make_person)
        garment = staticmethod(make_garment)
    return _Images


@pytest.fixture(scope="session")
def live() -> Callable[[Settings], contextlib.AbstractContextManager[str]]:
    """``with live(settings) as base_url:`` runs a real uvicorn on loopback."""
    return live_server
