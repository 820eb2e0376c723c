"""Job state: one small async ``JobStore`` interface, in-process or in Redis (shared by replicas).

A job record is the public status object (:class:`tryon.server.schemas.JobStatus` as a dict). Input photos are
never stored here, only the result data URIs, and every record expires ``ttl`` seconds after its last write.
The replica that accepted a job runs it and is the only writer of its record, so a plain read-modify-write is
enough; other replicas only read.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Protocol

__all__ = ["JobStore", "MemoryJobStore", "RedisJobStore", "create_job_store"]


class JobStore(Protocol):
    """Where job status objects live.

    Methods are coroutines; ``get`` returns ``None`` for an unknown or expired id.
    """

    kind: str

    async def put(self, record: dict[str, Any]) -> None:
        """Create or replace ``record`` (keyed by ``record["id"]``), resetting its time to live."""
        ...

    async def get(self, job_id: str) -> dict[str, Any] | None:
        """The record of ``job_id`` or ``None``."""
        ...

    async def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        """Merge ``fields`` into the record (``None`` when it is gone) and return the new record."""
        ...

    async def delete(self, job_id: str) -> bool:
        """Remove the record now; whether there was one."""
        ...

    async def ping(self) -> bool:
        """Whether the store answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryJobStore:
    """Job records in a dict of this process (one replica only). Expired records are dropped lazily.

    Args:
        ttl: seconds a record lives after its last write.
        max_records: oldest records are dropped beyond this many.
        max_bytes: oldest records are dropped while the results they hold (data URIs) add up to more than this:
            a noisy 2-megapixel PNG result is about 9 MB, so a count alone does not bound the memory.
    """

    kind = "memory"

    def __init__(self, ttl: float, max_records: int = 1000, max_bytes: int = 256 * 1024 * 1024):
        self.ttl = ttl
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._records: dict[str, tuple[float, dict[str, Any]]] = {}  # id -> (expires_at, record)
        self._bytes = 0  # sum of _size over the records
        self._lock = asyncio.Lock()

    @staticmethod
    def _size(record: dict[str, Any]) -> int:
        return sum(len(o) for o in record.get("output") or () if isinstance(o, str))

    def _drop(self, job_id: str) -> bool:
        item = self._records.pop(job_id, None)
        if item is None:
            return False
        self._bytes -= self._size(item[1])
        return True

    def _set(self, job_id: str, expires: float, record: dict[str, Any]) -> None:
        self._drop(job_id)  # re-insert: dict order = age order for pruning
        self._records[job_id] = (expires, record)
        self._bytes += self._size(record)

    def _prune(self) -> None:
        now = time.monotonic()
        for k in [k for k, (exp, _) in self._records.items() if exp <= now]:
            self._drop(k)
        while len(self._records) > self.max_records or (self._bytes > self.max_bytes and len(self._records) > 1):
            self._drop(next(iter(self._records)))

    async def put(self, record: dict[str, Any]) -> None:
        async with self._lock:
            self._set(record["id"], time.monotonic() + self.ttl, dict(record))
            self._prune()

    async def get(self, job_id: str) -> dict[str, Any] | None:
        async with self._lock:
            self._prune()
            item = self._records.get(job_id)
            return dict(item[1]) if item else None

    async def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        async with self._lock:
            item = self._records.get(job_id)
            if item is None or item[0] <= time.monotonic():
                return None
            record = {**item[1], **fields}
            self._set(job_id, time.monotonic() + self.ttl, record)
            self._prune()
            return dict(record)

    async def delete(self, job_id: str) -> bool:
        async with self._lock:
            return self._drop(job_id)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._records.clear()
        self._bytes = 0


class RedisJobStore:
    """Job records as JSON strings under ``<prefix><id>`` with ``EX ttl`` (redis-py asyncio client).

    Args:
        url: ``redis://host:port/db``.
        ttl: seconds a record lives after its last write.
        prefix: key prefix, so several deployments can share one Redis.
    """

    kind = "redis"

    def __init__(self, url: str, ttl: int, prefix: str = "tryon:job:"):
        import redis.asyncio as aioredis  # optional dependency: only needed with a Redis URL
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.ttl = int(ttl)
        self.prefix = prefix
        # Each command reconnects through the pool after an outage, retried with exponential backoff (50 ms to
        # 1 s, 3 tries) before the error reaches the caller (503 + Retry-After).
        self._redis = aioredis.from_url(url, decode_responses=True, socket_connect_timeout=2.0, socket_timeout=2.0,
                                        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                                        retry_on_error=[RedisConnectionError, RedisTimeoutError])

    async def put(self, record: dict[str, Any]) -> None:
        await self._redis.set(self.prefix + record["id"], json.dumps(record), ex=self.ttl)

    async def get(self, job_id: str) -> dict[str, Any] | None:
        text = await self._redis.get(self.prefix + job_id)
        return None if text is None else json.loads(text)

    async def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        record = await self.get(job_id)
        if record is None:
            return None
        record.update(fields)
        await self.put(record)
        return record

    async def delete(self, job_id: str) -> bool:
        return bool(await self._redis.delete(self.prefix + job_id))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def create_job_store(redis_url: str | None, ttl: int, max_bytes: int = 256 * 1024 * 1024) -> JobStore:
    """``RedisJobStore`` when ``redis_url`` is set, else ``MemoryJobStore`` holding at most ``max_bytes`` of
    results (Redis bounds its own memory with ``maxmemory``)."""
    if redis_url:
        return RedisJobStore(redis_url, ttl)
    return MemoryJobStore(ttl, max_bytes=max_bytes)
