"""Model discovery: what the server runs and where the widget downloads the same files."""

from __future__ import annotations

from fastapi import APIRouter

from tryon.server.deps import EngineDep
from tryon.server.schemas import ModelFile, ModelInfo

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", response_model=list[ModelInfo], summary="Models served (empty when none is loaded)")
async def list_models(engine: EngineDep) -> list[ModelInfo]:
    """The loaded model: name, version, input resolution, categories (with the engine dressing each: the student,
    whose files these are, or the server-only teacher), provider and its downloadable files.

    File URLs carry ``?v=<sha256 prefix>`` so browsers may cache them as immutable.
    """
    model = engine.model
    if model is None:
        return []
    m = model.manifest
    h, w = model.size
    from tryon.server.integrity import INTEGRITY

    folder = engine.settings.model_dir
    files = [ModelFile(dtype=f.dtype, url=f"/models/{f.path}?v={f.sha256[:16]}", bytes=f.bytes, sha256=f.sha256)
             for f in m.files if INTEGRITY.matches(folder / f.path, f.sha256)]  # a missing or altered file is left out
    engines = {c: engine.engine_for(c) for c in engine.categories}
    return [ModelInfo(model_name=m.name, version=m.version, categories=list(engine.categories), engines=engines,
                      gated_to="teacher" if engine.teacher is not None else None,
                      resolution={"height": h, "width": w}, dtype=model.dtype, provider=model.provider,
                      manifest_url="/models/manifest.json", files=files)]
