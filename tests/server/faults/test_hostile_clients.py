"""Fault injection from the client side, against a real uvicorn on loopback: requests the app never sees
(oversized headers, garbage request lines), slow-loris bodies, clients that go away mid-upload and mid-wait, and a
burst above the queue size. Each case asserts a JSON error with the right status, that the server still completes
jobs afterwards, and that no completed job is lost.
"""

from __future__ import annotations

import json
import socket
import time
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


def _multipart_head(base: str, length: int) -> bytes:
    u = urlparse(base)
    return (f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_slow_loris_bodies_are_cut_off_while_others_are_served(make_settings, live, images):
    """Eight clients trickle a byte every 0.2 s: under the idle timeout, but slower than body_min_rate; each gets a
    JSON 408 after about body_timeout_s, and a normal client is served meanwhile."""
    with live(make_settings(body_timeout_s=1.0, body_min_rate=100)) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        u = urlparse(base)
        socks = [socket.create_connection((u.hostname, u.port), timeout=10) for _ in range(8)]
        t0 = time.monotonic()
        answers: dict[int, bytes] = {}
        try:
            for s in socks:
                s.sendall(_multipart_head(base, 100_000) + b"--b\r\n")
            done = _completed(http, images)  # served while the slow clients hold their connections
            while len(answers) < len(socks) and time.monotonic() - t0 < 15:
                for i, s in enumerate(socks):
                    if i in answers:
                        continue
                    try:
                        s.sendall(b"x")
                        s.settimeout(0.02)
                        data = s.recv(4096)
                        if data:  # the answer has begun: read it to the end (the server closes after it)
                            s.settimeout(5)
                            while chunk := s.recv(4096):
                                data += chunk
                            answers[i] = data
                    except TimeoutError:
                        pass
                    except OSError:  # the server closed after answering: the answer was read already or is lost
                        answers.setdefault(i, b"")
                time.sleep(0.2)
        finally:
            for s in socks:
                s.close()
        waited = time.monotonic() - t0
        assert len(answers) == len(socks) and waited < 10, (len(answers), waited)
        for data in answers.values():
            assert data.startswith(b"HTTP/1.1 408"), data[:100]
            assert json.loads(data.partition(b"\r\n\r\n")[2])["error"] == "RequestTimeout"
        assert http.get(f"/v1/status/{done['id']}").json() == done
        _completed(http, images)


def _redis_jobs(redis_url: str) -> dict[str, dict]:
    import redis

    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        # Records only: tryon:job:<32 hex> (results and the byte count live under other names there)
        return {k.split(":")[-1]: json.loads(r.get(k)) for k in r.scan_iter("tryon:job:" + "[0-9a-f]" * 32)}
    finally:
        r.close()


def test_clients_that_go_away_mid_upload_and_mid_wait(make_settings, live, images, redis_url):
    """Uploads cut off half-way create no job and hold no decode slot or queue place; a client that leaves while
    waiting for its result (Prefer: wait) leaves a job that still completes and is kept in the store."""
    # Big photos, one job per model step: the jobs take long enough for their clients to leave mid-wait.
    files = {"person_image": ("p.png", images.encode(images.person(1600, 1200)), "image/png"),
             "garment_image": ("g.png", images.encode(images.garment()), "image/png")}
    with live(make_settings(redis_url=redis_url, decode_concurrency=1, max_batch=1)) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        u = urlparse(base)
        request = httpx.Request("POST", f"{base}/v1/run", files=files)
        body, ctype = request.read(), request.headers["content-type"]
        head = (f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nPrefer: wait=30\r\n\r\n").encode()
        for _ in range(6):  # mid-upload: half the body, then the connection closes
            with socket.create_connection((u.hostname, u.port)) as s:
                s.sendall(head + body[: len(body) // 2])
        leavers = []
        for _ in range(3):  # mid-wait: the whole body, then gone before the answer
            s = socket.create_connection((u.hostname, u.port))
            s.sendall(head + body)
            leavers.append(s)
        deadline = time.monotonic() + 30
        while len(jobs := _redis_jobs(redis_url)) < 3:  # leave once the server has taken the three jobs
            assert time.monotonic() < deadline, jobs
            time.sleep(0.01)
        for s in leavers:
            s.close()
        assert any(j["status"] != "completed" for j in jobs.values()), "no job was still running when its client left"
        while True:
            jobs = _redis_jobs(redis_url)
            if len(jobs) == 3 and all(j["status"] == "completed" for j in jobs.values()):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.2)
        # Nothing leaked: with one decode slot, two clients at once are both served.
        with httpx.Client(base_url=base, timeout=30) as a, httpx.Client(base_url=base, timeout=30) as b:
            import concurrent.futures as cf

            with cf.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(lambda c: c.post("/v1/run", files=files, headers={"Prefer": "wait=30"}),
                                        [a, b]))
        assert all(r.status_code == 200 and r.json()["status"] == "completed" for r in results)
        assert http.get("/readyz").json()["queue_depth"] == 0
        for job_id in jobs:
            record = http.get(f"/v1/status/{job_id}").json()
            assert record["status"] == "completed" and record["output"][0].startswith("data:image/png;base64,")


def test_a_burst_above_the_queue_size(make_settings, live, images):
    """24 clients at once against a queue of 4: each is accepted (202) or refused with a JSON 429 + Retry-After,
    never a 5xx; every accepted job completes and stays readable, and the queue drains."""
    import concurrent.futures as cf

    files = _files(images)
    with live(make_settings(queue_size=4, max_batch=1)) as base, httpx.Client(base_url=base, timeout=60) as http:
        with cf.ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda _: httpx.post(f"{base}/v1/run", files=files, timeout=60), range(24)))
        codes = [r.status_code for r in answers]
        assert set(codes) <= {202, 429} and codes.count(429) > 0 and codes.count(202) >= 4, codes
        for r in answers:
            if r.status_code == 429:
                assert r.json()["error"] == "ConcurrencyLimitExceeded" and int(r.headers["retry-after"]) >= 1
        accepted = [r.json()["id"] for r in answers if r.status_code == 202]
        deadline = time.monotonic() + 60
        pending = set(accepted)
        while pending:
            assert time.monotonic() < deadline, pending
            pending = {j for j in pending if http.get(f"/v1/status/{j}").json()["status"] not in ("completed",)}
            time.sleep(0.1)
        assert all(http.get(f"/v1/status/{j}").json()["output"] for j in accepted)
        assert http.get("/readyz").json()["queue_depth"] == 0
        _completed(http, images)
