"""Fault injection: a real redis-server killed and restarted under the running server.

While Redis is down the API answers 503 with Retry-After (never 500), /readyz is 503 and the worker survives;
once Redis is back on the same port, requests are accepted and completed again, and a result Redis kept from
before the outage is still readable.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tryon.server.main import create_app


class _Redis:
    """A private redis-server on a fixed loopback port that can be killed and started again."""

    def __init__(self, exe: str, port: int, folder: Path):
        self.exe, self.port, self.folder, self.proc = exe, port, folder, None

    def start(self) -> None:
        # Persistence on (appendonly): a restarted Redis has the records it had, as a production one would.
        self.proc = subprocess.Popen([self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            assert time.monotonic() < deadline and self.proc.poll() is None, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def redis(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = _Redis(exe, port, tmp_path)
    r.start()
    try:
        yield r
    finally:
        with contextlib.suppress(Exception):
            r.kill()


def _files(images):
    return {"person_image": ("p.png", images.encode(images.person()), "image/png"),
            "garment_image": ("g.png", images.encode(images.garment()), "image/png")}


def test_redis_killed_and_restarted_mid_run(make_settings, redis, images):
    url = f"redis://127.0.0.1:{redis.port}/0"
    with TestClient(create_app(make_settings(redis_url=url))) as c:
        before = c.post("/v1/run", files=_files(images), headers={"Prefer": "wait=20"}).json()
        assert before["status"] == "completed"

        redis.kill()
        r = c.post("/v1/run", files=_files(images))
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1 and r.json()["error"] == "ServiceUnavailable"
        r = c.get(f"/v1/status/{before['id']}")
        assert r.status_code == 503 and "retry-after" in r.headers
        assert c.get("/readyz").status_code == 503

        redis.start()
        deadline = time.monotonic() + 15
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after Redis came back"
            time.sleep(0.2)
        assert c.get(f"/v1/status/{before['id']}").json() == before  # no completed result lost
        for _ in range(3):  # the worker is alive and the queue drains
            after = c.post("/v1/run", files=_files(images), headers={"Prefer": "wait=20"}).json()
            assert after["status"] == "completed"
        assert c.app.state.engine.queue_depth == 0
