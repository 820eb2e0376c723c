"""Fault injection from the client side, against a real uvicorn on loopback: requests the app never sees
(oversized headers, garbage request lines), slow-loris bodies, clients that go away mid-upload and mid-wait, and a
burst above the queue size. Each case asserts a JSON error with the right status, that the server still completes
jobs afterwards, and that no completed job is lost.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import httpx
import pytest


def _raw(base: str, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a new connection; read the answer until the server closes it."""
    u = urlparse(base)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def _files(images):
    return {"person_image": ("p.png", images.encode(images.person()), "image/png"),
            "garment_image": ("g.png", images.encode(images.garment()), "image/png")}


def _completed(http: httpx.Client, images) -> dict:
    r = http.post("/v1/run", files=_files(images), headers={"Prefer": "wait=30"})
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text[:300]
    return r.json()


@pytest.mark.parametrize("header_kb", [20, 200])
def test_oversized_headers_get_a_json_431(make_settings, live, images, header_kb):
    with live(make_settings()) as base, httpx.Client(base_url=base, timeout=30) as http:
        done = _completed(http, images)
        request = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (header_kb * 1024) + b"\r\n\r\n")
        status, headers, body = _raw(base, request)
        assert status == 431 and headers["content-type"] == "application/json"
        assert json.loads(body)["error"] == "RequestHeaderFieldsTooLarge"
        assert "16,384 bytes" in json.loads(body)["message"]
        # httpx sees the same answer (it reads it instead of a connection reset)
        r = http.get("/healthz", headers={"X-Big": "a" * (header_kb * 1024)})
        assert r.status_code == 431 and r.json()["error"] == "RequestHeaderFieldsTooLarge"
        assert http.get(f"/v1/status/{done['id']}").json() == done
        _completed(http, images)


def test_a_request_that_is_not_http_gets_a_json_400(make_settings, live):
    with live(make_settings()) as base:
        status, headers, body = _raw(base, b"NOT HTTP AT ALL\r\n\r\n")
        assert status == 400 and headers["content-type"] == "application/json"
        assert json.loads(body) == {"error": "BadRequest", "message": "the request is not valid HTTP/1.1"}
        assert httpx.get(f"{base}/healthz").status_code == 200
