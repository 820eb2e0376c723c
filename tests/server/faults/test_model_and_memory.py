"""Fault injection on the server side, against a real uvicorn on loopback under load: the model file corrupted,
deleted and restored mid-run, and concurrent decompression-bomb PNGs under a stated memory ceiling.

The load is a few clients sending ``POST /v1/run`` with ``Prefer: wait`` for the whole case; each case asserts every
answer was a completed job or a JSON error with a status the API documents (never a 5xx other than 503), that the
server recovers, and that every completed job stays readable.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from tryon.server.soak import rss_mb


@contextlib.contextmanager
def _load(base: str, files: dict, clients: int = 2) -> Iterator[list[httpx.Response]]:
    """Keep ``clients`` threads posting ``files`` until the block ends; yields the list of answers (growing)."""
    answers: list[httpx.Response] = []
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not stop.is_set():
                answers.append(http.post("/v1/run", files=files, headers={"Prefer": "wait=30"}))

    with cf.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(loop) for _ in range(clients)]
        try:
            yield answers
        finally:
            stop.set()
            for f in futures:
                f.result()


def _check_answers(http: httpx.Client, answers: list[httpx.Response]) -> None:
    assert answers, "the load sent nothing"
    for r in answers:
        assert r.headers["content-type"].startswith("application/json"), r.text[:200]
        body = r.json()
        if r.status_code == 200:
            assert body["status"] == "completed", body
        else:
            assert r.status_code in (413, 429, 503) and body["error"] and body["message"], (r.status_code, body)
    for r in answers:  # no completed job lost
        if r.status_code == 200:
            assert http.get(f"/v1/status/{r.json()['id']}").json() == r.json()


def _files(images, person: bytes | None = None) -> dict:
    return {"person_image": ("p.png", person or images.encode(images.person()), "image/png"),
            "garment_image": ("g.png", images.encode(images.garment()), "image/png")}


def _wait_ready(http: httpx.Client, want: int, timeout: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while (r := http.get("/readyz")).status_code != want:
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.1)
    return r


def _touch(path) -> None:
    # A new mtime (as a copy or an editor leaves it): the integrity check re-hashes files whose size or mtime changed.
    ns = time.time_ns()
    os.utime(path, ns=(ns, ns + 10_000_000))


def test_model_file_corrupted_deleted_and_restored_mid_run(make_settings, live, images, model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    onnx = folder / "model.onnx"
    good = onnx.read_bytes()
    with live(make_settings(model_dir=folder)) as base, httpx.Client(base_url=base, timeout=30) as http:
        with _load(base, _files(images)) as answers:
            time.sleep(0.5)
            onnx.write_bytes(good[:-64] + bytes(64))  # corrupted in place, same size
            _touch(onnx)
            r = _wait_ready(http, 503)
            assert r.json()["status"] == "failed" and "model.onnx" in r.json()["message"]
            assert http.get("/models/model.onnx").status_code == 503  # never served as the manifest's file
            time.sleep(0.3)
            onnx.unlink()
            assert _wait_ready(http, 503).json()["status"] == "failed"
            assert http.get("/models/model.onnx").status_code in (404, 503)
            assert http.get("/v1/models").json()[0]["files"] == []
            time.sleep(0.3)
            onnx.write_bytes(good)  # restored: ready again, served again
            _touch(onnx)
            assert _wait_ready(http, 200).json()["status"] == "ready"
            served = http.get("/models/model.onnx")
            assert served.status_code == 200 and served.content == good
            time.sleep(0.3)
        _check_answers(http, answers)
        assert http.get("/readyz").json()["queue_depth"] == 0


def _bomb(side: int = 5000) -> bytes:
    """A ``side`` × ``side`` RGBA PNG of one colour: ~100 KB on the wire, 100 MB decoded."""
    buf = io.BytesIO()
    Image.new("RGBA", (side, side), (120, 90, 60, 255)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.slow
def test_concurrent_bomb_sized_pngs_stay_under_the_memory_ceiling(make_settings, live, images):
    """Eight clients each send a 5000 × 5000 RGBA PNG (about 100 KB, 100 MB decoded) twice. With
    decode_concurrency=2 at most two requests decode at once, and each decode holds one full-size copy (the photo
    is box-reduced before compositing and conversion), so the RSS may grow by at most ``ceiling_mb`` over its level
    before the burst, whatever the number of clients. Measured on a shared 2-core machine: +783 to +931 MiB; +1,341
    MiB when every decode made four full-size copies; with no decode bound the issue saw 2.6 GB grow to 5.0 GB.

    The server runs in this process (a thread), so the RSS is this process's; the clients' share is small."""
    # Two decodes (~230 MB each at their peak) + a batch of two 2048-px photos being framed and run (~150 MB each)
    # + four queued jobs (12.6 MB each) + allocator slack across threads.
    ceiling_mb = 1200
    bomb = _bomb()
    assert len(bomb) < 200_000
    with live(make_settings(decode_concurrency=2, queue_size=4, max_batch=2, max_pixels=25_000_000)) as base, \
            httpx.Client(base_url=base, timeout=120) as http:
        done = http.post("/v1/run", files=_files(images), headers={"Prefer": "wait=30"}).json()
        assert done["status"] == "completed"
        base_rss = rss_mb(os.getpid())
        peak = [base_rss]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak.append(rss_mb(os.getpid()))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with cf.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: httpx.post(f"{base}/v1/run", files=_files(images, bomb),
                                                             headers={"Prefer": "wait=60"}, timeout=180), range(16)))
        finally:
            stop.set()
            sampler.join()
        grew = max(peak) - base_rss
        print(f"RSS before {base_rss:.0f} MiB, peak {max(peak):.0f} MiB (+{grew:.0f} MiB, ceiling +{ceiling_mb} MiB)")
        assert grew < ceiling_mb
        # A bomb-sized photo of one colour holds no person: each job fails by name or completes, never a 5xx.
        for r in answers:
            assert r.status_code in (200, 429), (r.status_code, r.text[:200])
            if r.status_code == 200:
                assert r.json()["status"] in ("completed", "failed")
        assert http.get(f"/v1/status/{done['id']}").json() == done
        assert http.post("/v1/run", files=_files(images), headers={"Prefer": "wait=30"}).json()["status"] == "completed"
        np.testing.assert_equal(http.get("/readyz").json()["queue_depth"], 0)
