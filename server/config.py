"""Server settings: one ``Settings`` object, read from ``TRYON_*`` environment variables or built in code.

``create_app(settings)`` takes it explicitly (tests build their own); ``get_settings()`` is the cached
environment-backed default used by ``tryon serve`` and ``uvicorn tryon.server.main:app_from_env --factory``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tryon.manifest import AUTO, DTYPES

__all__ = ["Settings", "get_settings", "DEFAULT_CSP", "DEFAULT_WEB_DIR", "TEACHER_OFF"]

TEACHER_OFF = "none"
"""``teacher_categories`` value that turns the teacher off: the student alone dresses."""

DEFAULT_WEB_DIR = Path(__file__).resolve().parents[1] / "web"
"""The repository's ``web/`` folder (present in a checkout / editable install; absent from a wheel)."""

_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-fA-F:.]+\]|[^/?#:\s\[\]]+)(:\d{1,5})?")
"""scheme://host[:port], host a name, an IPv4 address or a bracketed IPv6 address: an origin as sent in ``Origin``."""

DEFAULT_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
               "connect-src 'self' blob: data:; img-src 'self' blob: data:; style-src 'self'; "
               "object-src 'none'; base-uri 'self'; form-action 'self'")
"""Same-origin only; ``'wasm-unsafe-eval'`` lets onnxruntime-web compile its .wasm, ``blob:`` workers its
proxy worker, ``data:``/``blob:`` images the result previews."""


class Settings(BaseSettings):
    """Everything the server can be told. Environment variables are ``TRYON_<FIELD>`` (upper case).

    Attributes:
        model_dir: folder with ``manifest.json`` and the ONNX files (``tryon export`` output); ``None`` serves
            the widget only and ``/readyz`` answers 503.
        web_dir: static site served at ``/`` (the widget); skipped when missing.
        dtype: which model file of the manifest to run, one of :data:`tryon.manifest.DTYPES`, or ``auto`` (the
            default): the manifest's ``preferred_dtype["cpu"]`` (measured by ``tryon quantize``), else fp32.
        providers: ``auto`` (CUDA when onnxruntime offers it, else CPU), ``cuda`` (fail if unavailable) or ``cpu``.
        intra_op_threads: onnxruntime intra-op threads (0 = onnxruntime's default).
        redis_url: ``redis://host:port/db`` to keep job state in Redis (shared by replicas); else in-process.
        job_ttl_s: how long finished jobs (and their output images) are kept, seconds (10 minutes by default: a
            result is the shopper's photo; ``DELETE /v1/status/{id}`` removes it at once).
        max_result_mb: the job store (in-process, or Redis across replicas) keeps at most this many MiB of results
            (encoded files); the oldest results go first, with their records.
        queue_size: jobs waiting for the model at most; more get 429 + Retry-After.
        max_batch: micro-batch size: jobs collected for one model step.
        batch_wait_ms: how long the first job of a batch waits for company, milliseconds.
        workers: model steps that may run at once (onnxruntime sessions are thread-safe).
        job_timeout_s: a job still queued after this long fails with ``TimeoutError``.
        wait_max_s: longest ``Prefer: wait`` the server honours, seconds.
        max_image_bytes: largest encoded image, bytes (413 ``PayloadTooLarge`` beyond).
        max_body_bytes: largest request body, bytes, counted as it streams in (413 beyond).
        body_timeout_s: longest pause while a request body streams in, seconds (408 ``RequestTimeout`` beyond);
            also the grace the whole body gets before ``body_min_rate`` counts.
        body_min_rate: slowest accepted body, bytes per second: the body must have arrived within
            ``body_timeout_s + bytes received / body_min_rate`` seconds (Apache mod_reqtimeout's ``MinRate``), so a
            slow-loris client trickling a byte now and then is answered 408 too.
        max_pixels: largest image, width × height (413 ``PayloadTooLarge`` beyond).
        min_side: smallest image side, pixels (422 ``ImageTooSmall`` below).
        max_side: person/garment photos with a longer side are downscaled to this before processing.
        decode_concurrency: requests whose photos may be decoded at once; the others wait (a 97 KB PNG can
            decode to 100 MB, so this bounds the memory that decoding takes whatever the number of clients). A
            request decodes its photos one at a time, each box-reduced right after decoding, so decoding holds
            about ``decode_concurrency × 4 bytes × max_pixels`` at most: the decoded-pixel budget.
        coop_coep: send COOP/COEP (cross-origin isolation) so the widget can use threaded WASM; on by default,
            ``TRYON_COOP_COEP=0`` or ``tryon serve --no-coop-coep`` turns it off (a page that must embed
            cross-origin content without CORS or CORP headers).
        cors_origins: shop origins allowed to embed the widget from this host (CORS on the model files and ``/v1``;
            the widget's own scripts are public), each exactly as browsers send it in ``Origin``:
            ``scheme://host[:port]`` (``https://shop.example``, ``http://localhost:3000``); empty = same-origin
            only.
        csp: Content-Security-Policy header value (empty string = none).
        warmup: run the model once at start-up before reporting ready.
        teacher_categories: the garment categories the server dresses with the geometric teacher
            (:class:`tryon.teacher.pipeline.Teacher`, a few seconds a photo on CPU) instead of the student:
            ``auto`` (the default) the teacher's categories the served student does not dress, when the
            teacher's models are installed (``tryon setup``); ``none`` the student alone (a category it does not
            dress answers 422); or a comma-separated list (``bottoms,one-pieces``), whose models must be
            installed (start-up fails saying what to run otherwise). Read with :meth:`teacher_for`.
    """

    model_config = SettingsConfigDict(env_prefix="TRYON_", extra="ignore", frozen=True)

    model_dir: Path | None = None
    web_dir: Path | None = DEFAULT_WEB_DIR
    dtype: str = AUTO
    providers: Literal["auto", "cuda", "cpu"] = "auto"
    intra_op_threads: int = Field(0, ge=0)
    redis_url: str | None = None
    job_ttl_s: int = Field(600, ge=1)
    max_result_mb: int = Field(256, ge=1)
    queue_size: int = Field(16, ge=1)
    max_batch: int = Field(4, ge=1)
    batch_wait_ms: float = Field(5.0, ge=0)
    workers: int = Field(1, ge=1)
    job_timeout_s: float = Field(120.0, gt=0)
    wait_max_s: float = Field(60.0, ge=0)
    max_image_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    body_timeout_s: float = Field(30.0, gt=0)
    body_min_rate: float = Field(500.0, gt=0)
    max_pixels: int = Field(25_000_000, ge=4096)
    min_side: int = Field(64, ge=1)
    max_side: int = Field(2048, ge=64)
    decode_concurrency: int = Field(2, ge=1)
    coop_coep: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    csp: str = DEFAULT_CSP
    warmup: bool = True
    teacher_categories: str = AUTO

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, v: str) -> str:
        if v not in (AUTO, *DTYPES):
            raise ValueError(f"dtype must be {AUTO} or one of {', '.join(DTYPES)}")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        return v or None

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        if "*" in v and len(v) > 1:
            raise ValueError("cors_origins: use either '*' alone or an explicit list of origins")
        for origin in v:
            # Browsers compare the Origin header as a string: a missing scheme, a path or a trailing slash never
            # matches, and the page would be refused without a hint why.
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"cors_origins: {origin!r} is not an origin; write scheme://host[:port] as the "
                                 "browser shows it, e.g. https://shop.example or http://localhost:3000")
        return v

    @field_validator("teacher_categories")
    @classmethod
    def _teacher_categories(cls, v: str) -> str:
        text = v.strip().lower()
        if text in (AUTO, TEACHER_OFF, ""):
            return text or TEACHER_OFF
        from tryon.errors import UsageError
        from tryon.garment.category import normalise_category
        from tryon.teacher.pipeline import Teacher

        named = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            try:
                name = normalise_category(part)
            except UsageError:  # reworded for this setting below
                name = None
            if name not in Teacher.CATEGORIES:
                raise ValueError(f"teacher_categories: {part!r} is not a garment category the teacher dresses; "
                                 f"write {AUTO}, {TEACHER_OFF} or a comma-separated list of "
                                 f"{', '.join(Teacher.CATEGORIES)}")
            named.append(name)
        return ",".join(c for c in Teacher.CATEGORIES if c in named)

    def teacher_for(self, student_categories: tuple[str, ...]) -> tuple[str, ...]:
        """The categories the teacher dresses on this server, FASHN's names in ``Teacher.CATEGORIES`` order.

        Args:
            student_categories: what the served student dresses (its manifest's ``categories``).

        Returns:
            ``auto``: the garment categories the student lacks; ``none``: ``()``; a list: that list (a category
            both could dress goes to the teacher when named here). Whether the teacher's models are installed is
            checked by the engine at start-up.
        """
        if self.teacher_categories == TEACHER_OFF:
            return ()
        from tryon.teacher.pipeline import Teacher

        if self.teacher_categories == AUTO:
            return tuple(c for c in Teacher.CATEGORIES if c not in student_categories)
        named = self.teacher_categories.split(",")
        return tuple(c for c in Teacher.CATEGORIES if c in named)

    @model_validator(mode="after")
    def _body_holds_two_images(self) -> Settings:
        # Two images base64-encoded (4/3) must fit in one body, or valid requests would be refused.
        if self.max_body_bytes < 2 * self.max_image_bytes:
            raise ValueError("max_body_bytes must be at least twice max_image_bytes")
        return self


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
