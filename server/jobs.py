"""Job state: one small async ``JobStore`` interface, in-process or in Redis (shared by replicas).

A job record is the public status object (:class:`tryon.server.schemas.JobStatus` as a dict). Input photos are
never stored here. A result is written as an :class:`EncodedResult` and kept as the encoded file's bytes (a PNG
is already compressed; a data URI would add a third), turned into the status object's data URI only when read.
Every record expires ``ttl`` seconds after its last write, and both stores hold at most ``max_bytes`` of results,
dropping the oldest results (with their records) first. The replica that accepted a job runs it and is the only
writer of its record, so a plain read-modify-write is enough; other replicas only read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["EncodedResult", "JobStore", "MemoryJobStore", "RedisJobStore", "create_job_store"]


@dataclass(frozen=True)
class EncodedResult:
    """One result image as its encoded file.

    Attributes:
        mime: its media type (``image/png`` or ``image/jpeg``).
        data: the file's bytes.
    """

    mime: str
    data: bytes

    def data_uri(self) -> str:
        """``data:<mime>;base64,...``: how the status object carries it."""
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode("ascii")


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the status object: results as data URIs."""
    out = dict(record)
    if out.get("output"):
        out["output"] = [r.data_uri() if isinstance(r, EncodedResult) else r for r in out["output"]]
    return out


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
        """Merge ``fields`` into the record (``None`` when it is gone) and return the new record. ``output`` is a
        list of :class:`EncodedResult`."""
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
        max_bytes: oldest records are dropped while the results they hold (encoded files) add up to more than this:
            a noisy 2-megapixel PNG result is about 7 MB, so a count alone does not bound the memory.
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
        return sum(len(o.data) for o in record.get("output") or () if isinstance(o, EncodedResult))

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
            return _public(item[1]) if item else None

    async def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        async with self._lock:
            item = self._records.get(job_id)
            if item is None or item[0] <= time.monotonic():
                return None
            record = {**item[1], **fields}
            self._set(job_id, time.monotonic() + self.ttl, record)
            self._prune()
            return _public(record)

    async def delete(self, job_id: str) -> bool:
        async with self._lock:
            return self._drop(job_id)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._records.clear()
        self._bytes = 0


_REDIS_ACCOUNT = """
-- KEYS: order (zset id -> time stored), sizes (hash id -> bytes), total (bytes held).
-- ARGV: prefix, now, ttl, cap, id, size (id '' = only prune). Count a stored result (replacing its old size),
-- forget results whose keys expired, then drop the oldest results and their records while over the cap (always
-- keeping the newest). Returns how many were dropped.
local order, sizes, total = KEYS[1], KEYS[2], KEYS[3]
local prefix, now, ttl, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[5] ~= '' then
  redis.call('INCRBY', total, tonumber(ARGV[6]) - tonumber(redis.call('HGET', sizes, ARGV[5]) or '0'))
  redis.call('HSET', sizes, ARGV[5], ARGV[6])
  redis.call('ZADD', order, now, ARGV[5])
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', now - ttl)) do
  redis.call('DECRBY', total, tonumber(redis.call('HGET', sizes, id) or '0'))
  redis.call('HDEL', sizes, id)
  redis.call('ZREM', order, id)
end
local dropped = 0
while tonumber(redis.call('GET', total) or '0') > cap and redis.call('ZCARD', order) > 1 do
  local id = redis.call('ZPOPMIN', order)[1]
  redis.call('DECRBY', total, tonumber(redis.call('HGET', sizes, id) or '0'))
  redis.call('HDEL', sizes, id)
  redis.call('DEL', prefix .. id, prefix .. 'result:' .. id)
  dropped = dropped + 1
end
return dropped
"""

_REDIS_FORGET = """
-- KEYS: order, sizes, total. ARGV: id. Take a deleted job's result out of the byte count.
redis.call('DECRBY', KEYS[3], tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0'))
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
"""


class RedisJobStore:
    """Job records as JSON under ``<prefix><id>`` and results as the encoded file's bytes under
    ``<prefix>result:<id>``, both with ``EX ttl`` (redis-py asyncio client).

    Results are counted in ``<prefix>results`` (a sorted set by time stored), ``<prefix>result_sizes`` (bytes per
    job) and ``<prefix>result_bytes`` (their sum); a Lua script (atomic, so replicas sharing the Redis agree)
    drops the oldest results and their records while the sum is over ``max_bytes`` — the memory store's rule,
    applied before Redis' own ``maxmemory`` policy would evict keys at random.

    Args:
        url: ``redis://host:port/db``.
        ttl: seconds a record lives after its last write.
        max_bytes: results (encoded bytes) kept at most, across every replica using this Redis and prefix.
        prefix: key prefix, so several deployments can share one Redis.
    """

    kind = "redis"

    def __init__(self, url: str, ttl: int, max_bytes: int = 256 * 1024 * 1024, prefix: str = "tryon:job:"):
        import redis.asyncio as aioredis  # optional dependency: only needed with a Redis URL
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.ttl = int(ttl)
        self.max_bytes = int(max_bytes)
        self.prefix = prefix
        self._index = [prefix + "results", prefix + "result_sizes", prefix + "result_bytes"]
        # Each command reconnects through the pool after an outage, retried with exponential backoff (50 ms to
        # 1 s, 3 tries) before the error reaches the caller (503 + Retry-After). Bytes, not str: results are binary.
        self._redis = aioredis.from_url(url, decode_responses=False, socket_connect_timeout=2.0, socket_timeout=2.0,
                                        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                                        retry_on_error=[RedisConnectionError, RedisTimeoutError])
        self._account = self._redis.register_script(_REDIS_ACCOUNT)
        self._forget = self._redis.register_script(_REDIS_FORGET)

    async def put(self, record: dict[str, Any]) -> None:
        record = dict(record)
        results = record.get("output") or []
        if not any(isinstance(r, EncodedResult) for r in results):
            await self._redis.set(self.prefix + record["id"], json.dumps(record), ex=self.ttl)
            return
        if len(results) != 1:
            raise ValueError("the Redis job store keeps one result per job")
        job_id, result = record["id"], results[0]
        record["output"], record["_mime"] = [], result.mime
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.prefix + "result:" + job_id, result.data, ex=self.ttl)
            pipe.set(self.prefix + job_id, json.dumps(record), ex=self.ttl)
            await pipe.execute()
        await self._account(keys=self._index, args=[self.prefix, time.time(), self.ttl, self.max_bytes, job_id,
                                                    len(result.data)])

    async def _get_stored(self, job_id: str) -> tuple[dict[str, Any] | None, bytes | None]:
        """The stored record (``_mime`` set when it has a result) and the result's bytes, in one round trip."""
        text, data = await self._redis.mget(self.prefix + job_id, self.prefix + "result:" + job_id)
        return (None if text is None else json.loads(text)), data

    @staticmethod
    def _public(record: dict[str, Any], data: bytes | None) -> dict[str, Any] | None:
        out = dict(record)
        mime = out.pop("_mime", None)
        if mime is not None:
            if data is None:  # the result went first (dropped or expired a moment before its record)
                return None
            out["output"] = [EncodedResult(mime, data).data_uri()]
        return _public(out)

    async def get(self, job_id: str) -> dict[str, Any] | None:
        record, data = await self._get_stored(job_id)
        return None if record is None else self._public(record, data)

    async def update(self, job_id: str, **fields: Any) -> dict[str, Any] | None:
        record, data = await self._get_stored(job_id)
        if record is None:
            return None
        record.update(fields)
        if "output" in fields:
            record.pop("_mime", None)
            await self.put(record)
            return _public(record)
        # A record that keeps its result: rewrite the record and renew the result's time to live, not its bytes.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.prefix + job_id, json.dumps(record), ex=self.ttl)
            if "_mime" in record:
                pipe.expire(self.prefix + "result:" + job_id, self.ttl)
                pipe.zadd(self._index[0], {job_id: time.time()}, xx=True)
            await pipe.execute()
        return self._public(record, data)

    async def delete(self, job_id: str) -> bool:
        found = await self._redis.delete(self.prefix + job_id, self.prefix + "result:" + job_id)
        await self._forget(keys=self._index, args=[job_id])
        return bool(found)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def create_job_store(redis_url: str | None, ttl: int, max_bytes: int = 256 * 1024 * 1024) -> JobStore:
    """``RedisJobStore`` when ``redis_url`` is set, else ``MemoryJobStore``; either holds at most ``max_bytes`` of
    results."""
    if redis_url:
        return RedisJobStore(redis_url, ttl, max_bytes)
    return MemoryJobStore(ttl, max_bytes=max_bytes)
