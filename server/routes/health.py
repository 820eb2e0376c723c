"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tryon.server.deps import EngineDep, SettingsDep, StoreDep
from tryon.server.schemas import Health, Readiness

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    """Always 200 while the process runs (no model or store check)."""
    return Health()


@router.get("/readyz", response_model=Readiness, summary="Readiness: model session created and warmed",
            responses={503: {"model": Readiness, "description": "Not ready (starting, no model, failed, store down)"}})
async def readyz(engine: EngineDep, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    """200 when the session is created and warmed, the job store answers and every model file still has its
    manifest's sha256 (re-hashed only when a file changes), else 503.

    Reports the execution provider actually bound (``CUDAExecutionProvider`` when available, else
    ``CPUExecutionProvider``), the model, and the queue depth.
    """
    model = engine.model
    state = engine.state
    message = engine.message
    if state == "ready" and not await store.ping():
        state, message = "failed", f"the {store.kind} job store does not answer"
    if state == "ready" and model is not None:
        bad = await run_in_threadpool(engine.model_file_problems)
        if bad:
            state, message = "failed", (f"model file(s) {', '.join(bad)} missing or altered (sha256 differs from "
                                        "the manifest): restore or re-export them")
    body = Readiness(
        status=state, message=message, queue_depth=engine.queue_depth, queue_size=settings.queue_size,
        job_store=store.kind,
        model_name=model.manifest.name if model else None, version=model.manifest.version if model else None,
        dtype=model.dtype if model else None, provider=model.provider if model else None,
        providers=model.providers if model else [],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if state == "ready" else 503)
