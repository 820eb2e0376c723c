"""``tryon serve``: host the widget, the model files and the fallback try-on API (FastAPI + uvicorn)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import UsageError
from tryon.manifest import AUTO, DTYPES, FP32

__all__ = ["register", "serve"]


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind (0.0.0.0 for all; behind a proxy keep "
                                                     "127.0.0.1).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Model folder with manifest.json "
                                                   "(`tryon export` output). Default: the default student built by "
                                                   "`make setup` in <models folder>/student when present; "
                                                   "without a model only the widget is served and /readyz "
                                                   "answers 503.")] = None,
    web_dir: Annotated[Path | None, typer.Option("--web-dir", help="Static site served at / (default: the "
                                                 "repository's web/).")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis-url", help="Keep job state in Redis "
                                                  "(redis://host:port/db) so replicas share it; default in-process.")
                         ] = None,
    coop_coep: Annotated[bool | None, typer.Option("--coop-coep/--no-coop-coep", show_default=False,
                                                   help="Send COOP/COEP (cross-origin isolation) so the widget can "
                                                   "run threaded WASM. On unless turned off here or with "
                                                   "TRYON_COOP_COEP=0.")] = None,
    dtype: Annotated[str | None, typer.Option("--dtype", help=f"Model file to run: {', '.join(DTYPES)}, or {AUTO}: "
                                              "the file `tryon quantize` measured fastest at equal quality on CPU, "
                                              f"else {FP32} (default {AUTO}, or TRYON_DTYPE).",
                                              rich_help_panel="Inference")] = None,
    providers: Annotated[str | None, typer.Option("--providers", help="auto (CUDA when available, else CPU), cuda "
                                                  "or cpu (default auto, or TRYON_PROVIDERS).",
                                                  rich_help_panel="Inference")] = None,
    queue_size: Annotated[int | None, typer.Option("--queue-size", min=1, help="Jobs waiting at most; more get 429 "
                                                   "(default 16, or TRYON_QUEUE_SIZE).",
                                                   rich_help_panel="Inference")] = None,
    max_batch: Annotated[int | None, typer.Option("--max-batch", min=1, help="Micro-batch size (default 4, or "
                                                  "TRYON_MAX_BATCH).", rich_help_panel="Inference")] = None,
    batch_wait_ms: Annotated[float | None, typer.Option("--batch-wait-ms", min=0, help="How long a batch waits for "
                                                        "more jobs, ms (default 5, or TRYON_BATCH_WAIT_MS).",
                                                        rich_help_panel="Inference")] = None,
    teacher_categories: Annotated[str | None, typer.Option(
        "--teacher-categories", help="Garment categories the server dresses with the geometric teacher (a few "
        "seconds a photo) instead of the student: auto (the categories the student does not dress, when the "
        "teacher's models are installed), none (the student alone), or a list such as bottoms,one-pieces (default "
        "auto, or TRYON_TEACHER_CATEGORIES).", rich_help_panel="Inference")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option("--cors-origin", help="Shop origin allowed to embed "
                                                          "the widget: load its model and call /v1 (repeatable). "
                                                          "Scheme, host and port exactly as the browser shows "
                                                          "them, e.g. https://shop.example or "
                                                          "http://localhost:3000.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
) -> None:
    """Serve the widget (/), the model files (/models/) and the fallback API (/v1, docs at /docs).

    Settings not given here come from TRYON_* environment variables (see tryon.server.config.Settings).
    """
    import uvicorn
    from pydantic import ValidationError

    from tryon.server.config import Settings
    from tryon.server.main import create_app
    from tryon.server.protocol import HTTP_PROTOCOL

    overrides: dict[str, object] = {}
    # Options override only when given, so their defaults stay in Settings and TRYON_* variables still apply.
    for key, value in (("model_dir", model_dir), ("web_dir", web_dir), ("redis_url", redis_url),
                       ("coop_coep", coop_coep), ("cors_origins", cors_origin or None), ("dtype", dtype),
                       ("providers", providers), ("queue_size", queue_size), ("max_batch", max_batch),
                       ("batch_wait_ms", batch_wait_ms), ("teacher_categories", teacher_categories)):
        if value is not None:
            overrides[key] = value
    if "model_dir" not in overrides and not os.environ.get("TRYON_MODEL_DIR"):
        from tryon.assets import models_dir

        default = models_dir() / "student"
        if (default / "manifest.json").is_file():
            overrides["model_dir"] = default
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise UsageError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
    if settings.model_dir is not None and not (Path(settings.model_dir) / "manifest.json").is_file():
        raise UsageError(f"--model-dir {settings.model_dir}: no manifest.json there (write one with `tryon export`)")
    if settings.model_dir is not None:  # a missing or altered model file is a clear error (exit 40), not a traceback
        from tryon.errors import DataError, MissingModelError
        from tryon.manifest import Manifest

        try:
            Manifest.load(settings.model_dir).verify_files(settings.model_dir)
        except DataError as exc:
            raise MissingModelError(f"--model-dir {settings.model_dir}: {exc.message} (re-export it with "
                                    "`tryon export`)") from None
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower(), http=HTTP_PROTOCOL)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
