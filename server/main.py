"""The FastAPI app: widget host, model-file host and fallback inference API.

``create_app(settings)`` builds a fresh app (tests make one per case); the lifespan creates the job store, the
onnxruntime session (warmed with one run) and the workers, and closes them after. Routes:

* ``/healthz``, ``/readyz`` — liveness; readiness with the execution provider in use;
* ``/v1/run``, ``/v1/status/{id}``, ``/v1/models`` — the fallback API (OpenAPI at ``/openapi.json``, ``/docs``);
* ``/models/`` — ``manifest.json`` and the model files it lists (for the widget);
* ``/`` — the widget/demo site (``web/``), with ``/favicon.ico`` and the front page's redirect to ``/demo/``.

Every route that answers GET also answers HEAD.

The server imports fastapi, onnxruntime, numpy/OpenCV/Pillow and ``tryon.processing``/``manifest``/
``pasteback``/``garment.mask`` only: never torch or the training/export code (a test checks it).

Run it with ``tryon serve`` or ``uvicorn tryon.server.main:app_from_env --factory``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

import tryon
from tryon.server.config import Settings, get_settings
from tryon.server.engine import Engine
from tryon.server.errors import install_error_handlers
from tryon.server.jobs import create_job_store
from tryon.server.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from tryon.server.routes import health, models, run
from tryon.server.routes.site import site_router
from tryon.server.schemas import RunForm, RunRequest
from tryon.server.static import ModelFiles, SiteFiles

__all__ = ["create_app", "app_from_env"]

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the job store, the engine (session + warm-up + workers); close them at shutdown.

    Raises:
        MissingModelError: the configured model folder is missing or incomplete (start-up fails loudly).
        ConnectionError: a Redis URL is configured but Redis does not answer.
    """
    settings: Settings = app.state.settings
    store = create_job_store(settings.redis_url, settings.job_ttl_s, settings.max_result_mb * 1024 * 1024)
    if not await store.ping():
        await store.close()
        raise ConnectionError(f"Redis at {settings.redis_url} does not answer")
    engine = Engine(settings, store)
    app.state.store, app.state.engine = store, engine
    try:
        await engine.start()
        yield
    finally:
        await engine.stop()
        await store.close()


def _unique_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _with_head(router: APIRouter) -> APIRouter:
    """``router`` with HEAD added to every route that answers GET (Starlette does this for its plain routes;
    FastAPI's API routes answer only the methods they declare, so HEAD fell through to the static site's 404).
    Call it before ``include_router``, which copies the routes' methods."""
    for route in router.routes:
        if isinstance(route, APIRoute) and "GET" in route.methods:
            route.methods.add("HEAD")
    return router


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the two request-body models of ``POST /v1/run`` (parsed by hand, see run.py).

    HEAD operations are left out: they mirror the GET ones (see :func:`_with_head`)."""
    if app.openapi_schema:
        return app.openapi_schema
    with warnings.catch_warnings():
        # A HEAD operation repeats its GET twin's operation ID; it is dropped below.
        warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for operations in schema.get("paths", {}).values():
        operations.pop("head", None)
    _, defs = models_json_schema([(RunRequest, "validation"), (RunForm, "validation")],
                                 ref_template="#/components/schemas/{model}")
    schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: :func:`get_settings`, i.e. the ``TRYON_*`` environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="tryon fallback API", version=tryon.__version__, lifespan=lifespan,
        description="Virtual try-on: the in-browser widget's static host, its model files, and a server-side "
                    "fallback (`POST /v1/run`, `GET /v1/status/{id}`) shaped like the hosted try-on APIs.",
        generate_unique_id_function=_unique_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in (health.router, run.router, models.router):
        app.include_router(_with_head(router))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    # Mounts go after the routers: a mount at "/" would swallow every path below it.
    if settings.model_dir is not None:
        app.mount("/models", ModelFiles(settings.model_dir), name="models")
    web_dir = settings.web_dir if settings.web_dir is not None and settings.web_dir.is_dir() else None
    app.include_router(site_router(web_dir))
    if web_dir is not None:
        app.mount("/", SiteFiles(directory=web_dir, html=True), name="web")

    # add_middleware wraps: the last added runs first (body cap outermost).
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Content-Type", "Prefer", "Idempotency-Key", "Authorization"],
                           expose_headers=["Location", "Retry-After", "Preference-Applied"], max_age=600)
    app.add_middleware(SecurityHeadersMiddleware, csp=settings.csp, cross_origin_isolation=settings.coop_coep,
                       corp="cross-origin" if settings.cors_origins else "same-origin")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, idle_timeout_s=settings.body_timeout_s,
                       min_rate=settings.body_min_rate)
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory``: settings from the ``TRYON_*`` environment."""
    return create_app(get_settings())
