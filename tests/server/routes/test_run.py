"""POST /v1/run and GET /v1/status/{id}: good inputs (multipart, JSON, Prefer: wait), bad inputs, queue full."""

from __future__ import annotations

import base64
import io
import threading
import time

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tryon.server.main import create_app
from tryon.server.routes.run import parse_prefer


def _files(photos, person=None, garment=None):
    return {"person_image": ("person.png", person if person is not None else photos["person"], "image/png"),
            "garment_image": ("garment.png", garment if garment is not None else photos["garment"], "image/png")}


def _data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _decode_output(uri: str) -> np.ndarray:
    head, b64 = uri.split(",", 1)
    assert head == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def _poll(client, job_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/status/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def test_multipart_prefer_wait_returns_full_resolution_result(client, photos, images):
    r = client.post("/v1/run", files=_files(photos), headers={"Prefer": "wait=20"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and body["error"] is None
    assert body["model_name"] == "stand_in_student"  # the student dressed it
    assert r.headers["location"] == f"/v1/status/{body['id']}"
    assert r.headers["preference-applied"] == "wait=20"
    assert body["metrics"]["queue_time"] >= 0 and body["metrics"]["predict_time"] > 0
    out = _decode_output(body["output"][0])
    person = images.person()
    assert out.shape == person.shape  # the person photo's own resolution, not the model's 64x48
    # The stand-in model pastes the garment (identity grid) where its mask is: its pixels appear there.
    garment = images.garment()
    assert np.abs(out[80:120, 60:90].astype(int) - garment[80:120, 60:90]).max() <= 3
    # Outside the garment the person's full-resolution pixels survive.
    assert np.abs(out[:20].astype(int) - person[:20]).max() <= 1


def test_async_then_poll(client, photos):
    r = client.post("/v1/run", files=_files(photos))
    assert r.status_code == 202
    body = r.json()
    assert set(body) == {"id", "status", "error"} and body["status"] in ("in_queue", "processing", "completed")
    assert r.headers["location"] == f"/v1/status/{body['id']}"
    final = _poll(client, body["id"])
    assert final["status"] == "completed" and final["output"][0].startswith("data:image/png;base64,")


def test_json_data_uri_and_bare_base64_jpeg_output(client, photos):
    payload = {"model_name": "stand_in_student",
               "inputs": {"model_image": _data_uri(photos["person_jpeg"], "image/jpeg"),  # FASHN alias
                          "garment_image": base64.b64encode(photos["garment"]).decode(),
                          "category": "tops", "output_format": "jpeg", "seed": 7, "mode": "ignored"}}
    r = client.post("/v1/run", json=payload, headers={"Prefer": "wait"})
    assert r.status_code == 200, r.text
    assert r.json()["output"][0].startswith("data:image/jpeg;base64,")


def test_respond_async_preference(client, photos):
    r = client.post("/v1/run", files=_files(photos), headers={"Prefer": "respond-async, wait=5"})
    assert r.status_code == 202


def test_parse_prefer():
    assert parse_prefer(None, 60) is None
    assert parse_prefer("wait", 60) == 60
    assert parse_prefer("wait=5", 60) == 5
    assert parse_prefer("wait=500", 60) == 60
    assert parse_prefer("return=minimal; wait=2", 60) == 2
    assert parse_prefer("respond-async", 60) is None


def test_busy_background_garment_fails_at_run_time(client, photos, images):
    noise = np.random.default_rng(0).integers(0, 256, (200, 150, 3), dtype=np.uint8)
    r = client.post("/v1/run", files=_files(photos, garment=images.encode(noise)), headers={"Prefer": "wait=20"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "failed" and body["output"] == []
    assert body["error"]["name"] == "GarmentBackgroundError" and "plain" in body["error"]["message"]


@pytest.mark.parametrize("category", ["bottoms", "one-pieces", "dresses", "lower_body", "dress", "lower"])
def test_unsupported_category_is_422(client, photos, category):
    r = client.post("/v1/run", files=_files(photos), data={"category": category})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "UnsupportedCategoryError"
    assert category in body["message"] and "not dressed by the model this server runs (it dresses tops" in \
        body["message"]


def test_not_an_image_is_415(client, photos):
    r = client.post("/v1/run", files=_files(photos, person=b"this is not an image at all"))
    assert r.status_code == 415 and r.json()["error"] == "UnsupportedMediaType"
    assert "person_image" in r.json()["message"]


def test_unsupported_format_is_415(client, photos, images):
    gif = images.encode(images.person(), "GIF")
    r = client.post("/v1/run", files=_files(photos, garment=gif))
    assert r.status_code == 415 and "GIF" in r.json()["message"]


def test_truncated_image_is_400(client, photos):
    data = photos["person"]
    r = client.post("/v1/run", files=_files(photos, person=data[: len(data) // 2]))
    assert r.status_code == 400 and r.json()["error"] == "ImageLoadError"


def test_empty_image_is_400(client, photos):
    r = client.post("/v1/run", files=_files(photos, person=b""))
    assert r.status_code == 400 and r.json()["error"] == "ImageLoadError"


def test_too_small_is_422(client, photos, images):
    r = client.post("/v1/run", files=_files(photos, person=images.encode(images.person(32, 32))))
    assert r.status_code == 422 and r.json()["error"] == "ImageTooSmall"


def test_too_many_pixels_is_413(make_settings, photos, images):
    with TestClient(create_app(make_settings(max_pixels=20_000))) as c:
        r = c.post("/v1/run", files=_files(photos, person=images.encode(images.person(200, 150))))
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
    assert "pixels" in r.json()["message"]


def test_too_many_bytes_is_413(make_settings, photos):
    big = photos["person"] + b"\0" * 5000  # trailing junk past the PNG end: decodable, but too many bytes
    with TestClient(create_app(make_settings(max_image_bytes=4096, max_body_bytes=1 << 20))) as c:
        r = c.post("/v1/run", files=_files(photos, person=big))
        assert r.status_code == 413 and "person_image" in r.json()["message"]
        r = c.post("/v1/run", json={"inputs": {"person_image": _data_uri(big), "garment_image": _data_uri(big)}})
        assert r.status_code == 413


def test_body_over_limit_is_413_by_content_length(make_settings, photos):
    with TestClient(create_app(make_settings(max_image_bytes=4096, max_body_bytes=8192))) as c:
        r = c.post("/v1/run", files=_files(photos, person=b"\0" * 20000))
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"


def test_missing_field_is_422(client, photos):
    r = client.post("/v1/run", files={"person_image": ("p.png", photos["person"], "image/png")})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "InputValidationError"
    assert body["detail"][0]["loc"] == ["body", "garment_image"]
    r = client.post("/v1/run", json={"inputs": {"person_image": _data_uri(photos["person"])}})
    assert r.status_code == 422 and ["body", "inputs", "garment_image"] in [d["loc"] for d in r.json()["detail"]]


def test_bad_option_is_422(client, photos):
    r = client.post("/v1/run", files=_files(photos), data={"output_format": "gif"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "output_format"]


def test_bad_base64_is_400(client, photos):
    r = client.post("/v1/run", json={"inputs": {"person_image": "data:image/png;base64,@@not base64@@",
                                                "garment_image": _data_uri(photos["garment"])}})
    assert r.status_code == 400 and r.json()["error"] == "BadRequest" and "base64" in r.json()["message"]


def test_url_input_is_refused(client, photos):
    r = client.post("/v1/run", json={"inputs": {"person_image": "https://example.com/p.jpg",
                                                "garment_image": _data_uri(photos["garment"])}})
    assert r.status_code == 422 and "not fetched" in r.json()["message"]


def test_invalid_json_is_400(client):
    r = client.post("/v1/run", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "BadRequest"


def test_wrong_content_type_is_415(client):
    r = client.post("/v1/run", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"] == "UnsupportedMediaType"


def test_unknown_model_name_is_404(client, photos):
    r = client.post("/v1/run", files=_files(photos), data={"model_name": "someone_else"})
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job-id", "../../etc/passwd"])
def test_unknown_job_is_404(client, job_id):
    r = client.get(f"/v1/status/{job_id}")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


def test_no_model_answers_503(make_settings, photos):
    with TestClient(create_app(make_settings(model_dir=None))) as c:
        r = c.post("/v1/run", files=_files(photos))
    assert r.status_code == 503 and r.json()["error"] == "ModelNotReady"


def test_queue_full_is_429_with_retry_after(make_settings, photos):
    with TestClient(create_app(make_settings(queue_size=1, max_batch=1))) as c:
        engine = c.app.state.engine
        gate = threading.Event()
        real_prepare = engine.model.prepare

        def blocked_prepare(*args, **kwargs):
            gate.wait(20)
            return real_prepare(*args, **kwargs)

        engine.model.prepare = blocked_prepare
        try:
            first = c.post("/v1/run", files=_files(photos)).json()["id"]
            deadline = time.monotonic() + 10
            while c.get(f"/v1/status/{first}").json()["status"] != "processing":  # the worker holds it
                assert time.monotonic() < deadline
                time.sleep(0.01)
            second = c.post("/v1/run", files=_files(photos))  # waits in the queue (size 1)
            assert second.status_code == 202
            third = c.post("/v1/run", files=_files(photos))
            assert third.status_code == 429
            assert third.json()["error"] == "ConcurrencyLimitExceeded"
            assert int(third.headers["retry-after"]) >= 1
        finally:
            gate.set()
        assert _poll(c, first)["status"] == "completed"
        assert _poll(c, second.json()["id"])["status"] == "completed"


def test_real_uvicorn_multipart_and_chunked_limit(make_settings, photos, live):
    with live(make_settings(max_image_bytes=64 * 1024, max_body_bytes=256 * 1024)) as base:
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            r = http.post("/v1/run", files=_files(photos), headers={"Prefer": "wait=20"})
            assert r.status_code == 200 and r.json()["status"] == "completed"
            assert http.get(r.headers["location"]).json()["id"] == r.json()["id"]

            def chunks():  # no Content-Length: the cap must count the streamed bytes
                for _ in range(40):
                    yield b"x" * 16384

            r = http.post("/v1/run", content=chunks(), headers={"content-type": "application/json"})
            assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"


def test_prefer_wait_that_runs_out_answers_202(make_settings, photos):
    with TestClient(create_app(make_settings())) as c:
        engine = c.app.state.engine
        gate = threading.Event()
        real_prepare = engine.model.prepare
        engine.model.prepare = lambda *a, **k: (gate.wait(20), real_prepare(*a, **k))[1]
        try:
            r = c.post("/v1/run", files=_files(photos), headers={"Prefer": "wait=0.2"})
            assert r.status_code == 202 and r.json()["status"] in ("in_queue", "processing")
            assert r.headers["retry-after"] == "1"
        finally:
            gate.set()
        assert _poll(c, r.json()["id"])["status"] == "completed"


def test_uploads_stay_in_memory(client, images, monkeypatch):
    """Photos are never written to disk: multipart file parts must not roll over to a temporary file."""
    import starlette.formparsers as fp

    spools = []
    real = fp.SpooledTemporaryFile

    def recording(*args, **kwargs):
        f = real(*args, **kwargs)
        spools.append(f)
        return f

    monkeypatch.setattr(fp, "SpooledTemporaryFile", recording)
    noise = np.random.default_rng(1).integers(0, 256, (800, 700, 3), dtype=np.uint8)
    big = images.encode(noise)
    assert len(big) > 1024 * 1024  # over Starlette's default 1 MiB spool, which would go to disk
    seen = []
    real_close = real.close

    def close(self):
        seen.append(self._rolled)
        return real_close(self)

    monkeypatch.setattr(real, "close", close)
    r = client.post("/v1/run", files={"person_image": ("p.png", big, "image/png"),
                                      "garment_image": ("g.png", images.encode(images.garment()), "image/png")})
    assert r.status_code == 202
    assert len(spools) == 2 and seen and not any(seen)


def test_get_on_run_is_405_and_long_ids_are_not_echoed(client):
    r = client.get("/v1/run")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["error"] == "MethodNotAllowed"
    r = client.get("/v1/status/" + "a" * 5000)
    assert r.status_code == 404 and len(r.text) < 300 and r.json()["error"] == "NotFound"


def test_huge_number_in_valid_json_is_422_not_invalid_json(client, photos):
    uri = _data_uri(photos["person"])
    body = '{"inputs": {"person_image": "' + uri + '", "garment_image": "' + uri + '", "seed": ' + "9" * 5000 + "}}"
    r = client.post("/v1/run", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "out of range" in r.json()["message"]
    r = client.post("/v1/run", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]


def test_full_queue_answers_429_before_decoding_and_decodes_are_bounded(make_settings, photos, monkeypatch):
    import asyncio

    import tryon.server.routes.run as run_module

    decodes = {"now": 0, "max": 0, "calls": 0}
    real = run_module._decode_photos

    def counting(*args):
        decodes["now"] += 1
        decodes["calls"] += 1
        decodes["max"] = max(decodes["max"], decodes["now"])
        time.sleep(0.15)
        try:
            return real(*args)
        finally:
            decodes["now"] -= 1

    monkeypatch.setattr(run_module, "_decode_photos", counting)
    app = create_app(make_settings(queue_size=32, decode_concurrency=2))

    async def burst():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(*[client.post("/v1/run", files=_files(photos)) for _ in range(6)])

    with TestClient(app):  # runs the lifespan (model, workers) around the async burst
        answers = asyncio.run(burst())
    assert all(r.status_code == 202 for r in answers)
    assert decodes["calls"] == 6 and decodes["max"] <= 2  # never more than decode_concurrency at once

    decodes.update(calls=0)
    with TestClient(create_app(make_settings(queue_size=1, max_batch=1))) as c:
        engine = c.app.state.engine
        engine._depth = engine.settings.queue_size  # the queue is full
        r = c.post("/v1/run", files=_files(photos))
        assert r.status_code == 429 and decodes["calls"] == 0  # refused without decoding the photos
        engine._depth = 0


def test_delete_removes_a_result_at_once(client, photos):
    done = client.post("/v1/run", files=_files(photos), headers={"Prefer": "wait=20"}).json()
    assert done["status"] == "completed"
    r = client.delete(f"/v1/status/{done['id']}")
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/v1/status/{done['id']}").status_code == 404
    assert client.delete(f"/v1/status/{done['id']}").status_code == 404
    assert client.delete("/v1/status/" + "x" * 5000).status_code == 404


def test_aborted_upload_logs_no_traceback(make_settings, live, photos, caplog):
    import logging
    import socket
    from urllib.parse import urlparse

    caplog.set_level(logging.INFO)
    with live(make_settings()) as base:
        u = urlparse(base)
        boundary = "xyz"
        head = (f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: multipart/form-data; "
                f"boundary={boundary}\r\nContent-Length: 200000\r\n\r\n").encode()
        part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"person_image\"; filename=\"p.png\"\r\n"
                "Content-Type: image/png\r\n\r\n").encode() + photos["person"][:500]
        with socket.create_connection((u.hostname, u.port)) as s:
            s.sendall(head + part)  # a third of the body, then the client goes away
            time.sleep(0.3)
        time.sleep(0.5)
        assert httpx.get(f"{base}/healthz").status_code == 200  # the server still answers
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    assert any("disconnected" in r.getMessage() for r in caplog.records)


def test_half_sent_upload_is_answered_408_after_the_body_timeout(make_settings, live, photos):
    import socket
    from urllib.parse import urlparse

    with live(make_settings(body_timeout_s=0.5)) as base:
        u = urlparse(base)
        head = (f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                "Content-Length: 100000\r\n\r\n").encode()
        with socket.create_connection((u.hostname, u.port), timeout=10) as s:
            s.sendall(head + b"--b\r\nContent-Disposition: form-data; name=\"person_image\"\r\n\r\n" + b"x" * 100)
            t0 = time.monotonic()
            chunks = []
            while chunk := s.recv(4096):  # the client sends nothing more; the server answers and closes
                chunks.append(chunk)
            waited = time.monotonic() - t0
            answer = b"".join(chunks).decode("latin-1")
    assert answer.startswith("HTTP/1.1 408") and "RequestTimeout" in answer
    assert waited < 5
