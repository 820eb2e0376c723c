"""Job stores: in-process and Redis (a private redis-server), and two replicas sharing one Redis."""

from __future__ import annotations

import asyncio
import time

from fastapi.testclient import TestClient

from tryon.server.jobs import EncodedResult, MemoryJobStore, RedisJobStore, create_job_store
from tryon.server.main import create_app


def _exercise(store) -> None:
    async def go():
        assert await store.ping()
        await store.put({"id": "a" * 32, "status": "in_queue", "output": []})
        assert (await store.get("a" * 32))["status"] == "in_queue"
        updated = await store.update("a" * 32, status="completed", output=[EncodedResult("image/png", b"\0")])
        assert updated["status"] == "completed" and updated["output"] == ["data:image/png;base64,AA=="]
        assert (await store.get("a" * 32)) == updated
        assert await store.get("b" * 32) is None
        assert await store.update("b" * 32, status="failed") is None
        assert await store.delete("a" * 32) and await store.get("a" * 32) is None  # removed at once
        assert not await store.delete("a" * 32)
        assert await store.update("a" * 32, status="completed") is None  # a late result is dropped
        await store.close()
    asyncio.run(go())


def test_memory_store():
    _exercise(MemoryJobStore(ttl=60))


def test_memory_store_expires_and_bounds():
    async def go():
        store = MemoryJobStore(ttl=0.05, max_records=2)
        for c in "abc":
            await store.put({"id": c, "status": "in_queue"})
        assert await store.get("a") is None  # dropped: over max_records
        assert await store.get("c") is not None
        await asyncio.sleep(0.1)
        assert await store.get("c") is None  # expired
    asyncio.run(go())


def test_memory_store_bounds_the_bytes_of_results():
    async def go():
        store = MemoryJobStore(ttl=60, max_bytes=1000)
        for c in "abcd":
            await store.put({"id": c, "status": "in_queue", "output": []})
            await store.update(c, status="completed", output=[EncodedResult("image/png", b"x" * 400)])
        assert [await store.get(c) is None for c in "abcd"] == [True, True, False, False]  # 800 bytes kept
        assert store._bytes == 800  # the encoded bytes, not a data URI a third larger
        assert (await store.get("d"))["output"] == ["data:image/png;base64," + "eHh4" * 133 + "eA=="]
        await store.delete("c")
        assert store._bytes == 400
    asyncio.run(go())


def test_redis_store_keeps_encoded_results_under_a_byte_cap(redis_url):
    """Results are stored as the file's bytes beside a small JSON record; the oldest results and their records
    are dropped while the results add up to more than max_bytes; deleting or expiring a job uncounts it."""
    import redis

    async def go():
        store = RedisJobStore(redis_url, ttl=60, max_bytes=1000)
        for c in "abcd":
            await store.put({"id": c * 32, "status": "in_queue", "output": []})
            await store.update(c * 32, status="processing")
            done = await store.update(c * 32, status="completed", output=[EncodedResult("image/png", b"x" * 400)])
            assert done["output"] == ["data:image/png;base64," + "eHh4" * 133 + "eA=="]
        kept = [await store.get(c * 32) for c in "abcd"]
        assert [k is None for k in kept] == [True, True, False, False]  # 800 bytes kept
        assert kept[3]["output"] == done["output"] and kept[3]["status"] == "completed"
        assert await store.update("d" * 32, metrics={"x": 1}) is not None  # renews, keeps the result
        assert (await store.get("d" * 32))["output"] == done["output"]
        assert await store.delete("c" * 32)
        await store.close()

    asyncio.run(go())
    r = redis.Redis.from_url(redis_url)
    try:
        assert r.get("tryon:job:result:" + "d" * 32) == b"x" * 400  # the file's bytes
        assert int(r.get("tryon:job:result_bytes")) == 400
        assert r.zrange("tryon:job:results", 0, -1) == [b"d" * 32]
        assert not r.exists("tryon:job:" + "a" * 32)  # dropped with its result
    finally:
        r.close()

    async def expired():
        store = RedisJobStore(redis_url, ttl=1, max_bytes=1000)
        await store.put({"id": "e" * 32, "status": "completed", "output": [EncodedResult("image/png", b"y" * 900)]})
        await asyncio.sleep(1.2)
        await store.put({"id": "f" * 32, "status": "completed", "output": [EncodedResult("image/png", b"z" * 100)]})
        assert await store.get("f" * 32) is not None
        assert int(await store._redis.get(store.prefix + "result_bytes")) == 100  # the expired result is uncounted
        await store.close()

    asyncio.run(expired())


def test_redis_store(redis_url):
    _exercise(RedisJobStore(redis_url, ttl=60))
    assert isinstance(create_job_store(redis_url, 60), RedisJobStore)
    assert isinstance(create_job_store(None, 60), MemoryJobStore)


def test_redis_store_sets_ttl(redis_url):
    async def go():
        store = RedisJobStore(redis_url, ttl=30)
        await store.put({"id": "c" * 32, "status": "in_queue"})
        ttl = await store._redis.ttl(store.prefix + "c" * 32)
        await store.close()
        return ttl
    assert 0 < asyncio.run(go()) <= 30


def test_two_replicas_share_jobs_through_redis(make_settings, redis_url, images):
    files = {"person_image": ("p.png", images.encode(images.person()), "image/png"),
             "garment_image": ("g.png", images.encode(images.garment()), "image/png")}
    with TestClient(create_app(make_settings(redis_url=redis_url))) as a, \
            TestClient(create_app(make_settings(redis_url=redis_url))) as b:
        assert a.get("/readyz").json()["job_store"] == "redis"
        done = a.post("/v1/run", files=files, headers={"Prefer": "wait=20"}).json()
        assert done["status"] == "completed"
        assert b.get(f"/v1/status/{done['id']}").json() == done  # submitted to A, read through B
        job = b.post("/v1/run", files=files).json()  # submitted to B, polled through A
        deadline = time.monotonic() + 20
        while (seen := a.get(f"/v1/status/{job['id']}").json())["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert seen["status"] == "completed" and seen["output"][0].startswith("data:image/png;base64,")


def test_unreachable_redis_fails_start_up(make_settings):
    import socket

    import pytest

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match="does not answer"), \
            TestClient(create_app(make_settings(redis_url=f"redis://127.0.0.1:{port}/0"))):
        pass
