"""``POST /v1/run`` (submit a try-on job) and ``GET /v1/status/{id}`` (poll it).

Mirrors the hosted try-on APIs (``docs/api-conventions.md``): FASHN's ``/v1/run`` + ``/v1/status/{id}`` and error
names, Replicate's ``Prefer: wait[=N]`` for a synchronous answer, plus a ``multipart/form-data`` form because the
widget already holds Blobs. Photos are decoded in memory and handed to the engine; nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from tryon.errors import TryonError
from tryon.processing import decode_image, resize
from tryon.server.config import Settings
from tryon.server.deps import EngineDep, SettingsDep, StoreDep
from tryon.server.engine import NotReadyError, QueueFullError
from tryon.server.errors import ApiError, from_tryon_error
from tryon.server.schemas import MAX_GARMENTS, ErrorBody, JobStatus, RunAccepted, RunOptions, RunRequest

__all__ = ["router", "parse_prefer", "decode_data_uri"]

router = APIRouter(prefix="/v1", tags=["run"])

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I)

_ERRORS = {
    400: {"model": ErrorBody, "description": "BadRequest (malformed body, bad base64) or ImageLoadError "
                                             "(empty/truncated image)"},
    404: {"model": ErrorBody, "description": "NotFound: unknown model_name"},
    413: {"model": ErrorBody, "description": "PayloadTooLarge: body, image bytes or pixels over the limits"},
    415: {"model": ErrorBody, "description": "UnsupportedMediaType: not an image / unsupported format, or a body "
                                             "that is neither JSON nor multipart"},
    422: {"model": ErrorBody, "description": "InputValidationError (missing field, bad option), ImageTooSmall, "
                                             "UnsupportedCategoryError (a category the server does not "
                                             "dress; GET /v1/models lists them)"},
    429: {"model": ErrorBody, "description": "ConcurrencyLimitExceeded: the queue is full; see Retry-After",
          "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}},
    503: {"model": ErrorBody, "description": "ModelNotReady: no model loaded or still starting"},
}

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}},
        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/RunForm"}},
    },
}


class _InMemoryMultiPartParser(MultiPartParser):
    """Starlette's parser with the file spool raised to the body cap, so uploads never roll over to disk."""

    def __init__(self, *args: Any, spool_max_size: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.spool_max_size = spool_max_size


def parse_prefer(value: str | None, wait_max_s: float) -> float | None:
    """Seconds to wait from an RFC 7240 ``Prefer`` header (``wait``, ``wait=N``, ``respond-async``).

    Returns:
        ``None`` for an asynchronous answer, else the wait in seconds capped at ``wait_max_s``.
    """
    if not value:
        return None
    wait: float | None = None
    for token in (t.strip().lower() for part in value.split(",") for t in part.split(";")):
        if token == "respond-async":
            return None
        if token == "wait":
            wait = wait_max_s
        elif token.startswith("wait="):
            try:
                wait = max(0.0, min(float(token[5:].strip('"')), wait_max_s))
            except ValueError:
                wait = wait_max_s
    return wait


def decode_data_uri(value: str, field: str, max_bytes: int) -> bytes:
    """Bytes of a ``data:image/...;base64,`` URI or of bare base64.

    Raises:
        ApiError: 422 for a URL (not fetched), 413 over ``max_bytes``, 400 for invalid base64.
    """
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        raise ApiError(422, f"{field}: image URLs are not fetched by this server; send the image bytes as a data URI "
                            "or a multipart file", "InputValidationError")
    m = _DATA_URI.match(text)
    if m:
        if not m.group("b64"):
            raise ApiError(400, f"{field}: only base64 data URIs are accepted (data:image/...;base64,...)")
        text = text[m.end():]
    if len(text) * 3 // 4 > max_bytes + 3:
        raise ApiError(413, f"{field}: the image is larger than the limit of {max_bytes:,} bytes")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{field}: not valid base64") from None
    if not data:
        raise ApiError(400, f"{field}: empty image", "ImageLoadError")
    return data


def _validation_error(exc: ValidationError, prefix: tuple[str, ...]) -> ApiError:
    detail = [{"loc": list(prefix) + [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
              for e in exc.errors()]
    invalid = [d for d in detail if d["type"] == "json_invalid"]
    if invalid and "out of range" in invalid[0]["msg"]:  # valid JSON, but a number no parser holds (a 5000-digit seed)
        return ApiError(422, "a number in the body is out of range (" + invalid[0]["msg"].split(": ", 1)[-1] + ")",
                        "InputValidationError")
    if invalid:
        return ApiError(400, "the body is not valid JSON", "BadRequest")
    msg = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail)
    return ApiError(422, msg, "InputValidationError", detail=detail)


async def _read_json(request: Request, settings: Settings) -> tuple[bytes, list[tuple[bytes, str]], RunOptions,
                                                                   str | None]:
    try:
        req = RunRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise _validation_error(exc, ("body",)) from None
    inputs = req.inputs
    if (inputs.garment_image is None) == (inputs.garments is None):
        given = inputs.garment_image is not None
        detail = [{"loc": ["body", "inputs", "garment_image"],
                   "msg": "give either garment_image (one garment) or garments (an outfit)" if given else
                   "Field required", "type": "value_error" if given else "missing"}]
        raise ApiError(422, f"body.inputs.garment_image: {detail[0]['msg']}", "InputValidationError", detail=detail)
    if inputs.garments is not None and inputs.category != "auto":
        msg = "with garments, give each garment its own category (garments[].category), not category"
        raise ApiError(422, f"body.inputs.category: {msg}", "InputValidationError",
                       detail=[{"loc": ["body", "inputs", "category"], "msg": msg, "type": "value_error"}])
    person = decode_data_uri(req.inputs.person_image, "person_image", settings.max_image_bytes)
    options = RunOptions.model_validate(req.inputs.model_dump())
    if req.inputs.garments is None:
        garments = [(decode_data_uri(req.inputs.garment_image, "garment_image", settings.max_image_bytes),
                     options.category)]
    else:
        garments = [(decode_data_uri(g.garment_image, f"garments[{i}].garment_image", settings.max_image_bytes),
                     g.category) for i, g in enumerate(req.inputs.garments)]
    return person, garments, options, req.model_name


async def _read_multipart(request: Request, settings: Settings) -> tuple[bytes, list[tuple[bytes, str]],
                                                                        RunOptions, str | None]:
    parser = _InMemoryMultiPartParser(request.headers, request.stream(), max_files=1 + MAX_GARMENTS,
                                      max_fields=16, max_part_size=settings.max_image_bytes * 4 // 3 + 1024,
                                      spool_max_size=settings.max_body_bytes + 1)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiError(400, f"malformed multipart body: {exc.message}") from None
    try:
        images: dict[str, list[bytes]] = {}
        fields: dict[str, str] = {}
        categories: list[str] = []
        for key, value in form.multi_items():
            if key in ("person_image", "model_image", "garment_image"):
                name = "person_image" if key == "model_image" else key
                if isinstance(value, UploadFile):
                    data = await value.read()
                    if len(data) > settings.max_image_bytes:
                        raise ApiError(413, f"{name}: the image is larger than the limit of "
                                            f"{settings.max_image_bytes:,} bytes")
                else:  # a text part holding a data URI
                    data = decode_data_uri(value, name, settings.max_image_bytes)
                images.setdefault(name, []).append(data)
            elif key == "garment_category" and isinstance(value, str):
                categories.append(value)
            elif isinstance(value, str):
                fields[key] = value
    finally:
        await form.close()
    missing = [n for n in ("person_image", "garment_image") if n not in images]
    if missing:
        detail = [{"loc": ["body", n], "msg": "Field required", "type": "missing"} for n in missing]
        raise ApiError(422, "; ".join(f"body.{n}: Field required" for n in missing), "InputValidationError",
                       detail=detail)
    garment_parts = images["garment_image"]
    if len(images["person_image"]) > 1 or len(garment_parts) > MAX_GARMENTS:
        raise ApiError(422, f"one person_image and at most {MAX_GARMENTS} garment_image parts (one per category)",
                       "InputValidationError")
    if categories and len(categories) != len(garment_parts):
        raise ApiError(422, f"{len(categories)} garment_category fields for {len(garment_parts)} garment_image "
                            "parts: give one per garment, in the same order, or none (auto)", "InputValidationError")
    try:
        options = RunOptions.model_validate({k: v for k, v in fields.items() if k != "model_name"})
        if categories:
            categories = [RunOptions.model_validate({"category": c}).category for c in categories]
    except ValidationError as exc:
        raise _validation_error(exc, ("body",)) from None
    if len(garment_parts) > 1 and options.category != "auto":
        raise ApiError(422, "an outfit takes each garment's category in garment_category fields, not category",
                       "InputValidationError")
    if not categories:
        categories = [options.category] * len(garment_parts)
    return images["person_image"][0], list(zip(garment_parts, categories, strict=True)), options, \
        fields.get("model_name") or None


def _decode_photos(person: bytes, garments: list[bytes], settings: Settings) -> list[np.ndarray]:
    """Decode and validate the person photo and the garment photos (blocking, one at a time), downscaling a long
    side over ``max_side``."""
    out = []
    named = [(person, "person_image")] + [(g, "garment_image" if len(garments) == 1 else f"garments[{i}]")
                                          for i, g in enumerate(garments)]
    for data, name in named:
        image = decode_image(data, name=name, min_side=settings.min_side, max_pixels=settings.max_pixels,
                             max_side=settings.max_side)
        h, w = image.shape[:2]
        if max(h, w) > settings.max_side:
            s = settings.max_side / max(h, w)
            image = resize(image, (max(1, round(h * s)), max(1, round(w * s))))
        out.append(image)
    return out


def _check_categories(categories: list[str], dressed: tuple[str, ...]) -> None:
    """422 UnsupportedCategoryError for a named category the server does not dress (``dressed``: the student's and
    the teacher's, :attr:`tryon.server.engine.Engine.categories`), or for an outfit that
    names one category twice or a one-piece with other garments (``auto`` garments are checked in the job, once
    classified)."""
    from tryon.garment.category import normalise_category

    named = [normalise_category(c) for c in categories]
    for sent, c in zip(categories, named, strict=True):
        if c != "auto" and c not in dressed:
            shown = repr(sent) if sent == c else f"{sent!r} ({c})"
            raise ApiError(422, f"category {shown} is not dressed by the model this server runs (it dresses "
                                f"{', '.join(dressed) or 'nothing'}; GET /v1/models lists them): send a garment of "
                                "one of those categories, or try this one where it is dressed",
                           "UnsupportedCategoryError")
    known = [c for c in named if c != "auto"]
    if len(set(known)) < len(known):
        raise ApiError(422, "an outfit takes one garment per category: "
                            f"{', '.join(sorted({c for c in known if known.count(c) > 1}))} given twice",
                       "UnsupportedCategoryError")
    if "one-pieces" in known and len(named) > 1:
        raise ApiError(422, "a one-piece dresses the whole body and cannot be worn with other garments: send it "
                            "alone, or a top and a bottom", "UnsupportedCategoryError")


@router.get("/run", include_in_schema=False)
async def run_get() -> JSONResponse:
    """``GET /v1/run``: the route exists for POST only (405 with ``Allow``, not the site's 404)."""
    raise ApiError(405, "use POST to submit a job (GET /v1/status/{id} reads one)", "MethodNotAllowed",
                   headers={"Allow": "POST"})


@router.post(
    "/run", status_code=202, response_model=RunAccepted, summary="Submit a try-on job",
    responses={200: {"model": JobStatus, "description": "With `Prefer: wait`: the finished job's status object"},
               202: {"model": RunAccepted, "description": "Accepted; poll the `Location` (/v1/status/{id})",
                     "headers": {"Location": {"schema": {"type": "string"}}}},
               **_ERRORS},
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def run(request: Request, settings: SettingsDep, engine: EngineDep, store: StoreDep,
              prefer: Annotated[str | None, Header(description="`wait`, `wait=N` (seconds) or `respond-async`")] = None
              ) -> JSONResponse:
    """Submit a person photo and an in-shop garment photo, or an outfit of garments, for try-on.

    Body: JSON ``{model_name?, inputs: {person_image, garment_image, category?, garment_photo_type?,
    output_format?, seed?}}`` with images as base64 data URIs, or an outfit with ``garments: [{garment_image,
    category?}, ...]`` (one per category) and ``tuck?`` in place of ``garment_image`` and ``category``; or
    ``multipart/form-data`` with file parts ``person_image`` and ``garment_image`` (repeated for an outfit, with
    ``garment_category`` fields in the same order) plus the same option fields. Answers 202 ``{id, status}`` with
    ``Location``; with ``Prefer: wait[=N]`` and a job done in time, 200 with the status object.
    """
    if engine.state != "ready":
        raise ApiError(503, engine.message or f"the model is {engine.state}", headers={"Retry-After": "5"})
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        person_b, garments_b, options, model_name = await _read_multipart(request, settings)
    elif ctype.startswith("application/json") or ctype.endswith("+json"):
        person_b, garments_b, options, model_name = await _read_json(request, settings)
    else:
        raise ApiError(415, "send application/json or multipart/form-data", "UnsupportedMediaType")
    _check_categories([c for _, c in garments_b], engine.categories)
    if model_name and model_name != engine.model_name:
        raise ApiError(404, f"model {model_name!r} is not served here (serving {engine.model_name!r}; "
                            "see GET /v1/models)")
    try:
        engine.check_room()  # before decoding: a full queue must not cost the memory of two decoded photos
        async with engine.decode_slots:
            engine.check_room()  # the queue may have filled while this request waited for a decode slot
            try:
                person, *garments = await run_in_threadpool(_decode_photos, person_b,
                                                            [g for g, _ in garments_b], settings)
            except TryonError as exc:
                raise from_tryon_error(exc) from None
        categories = [c for _, c in garments_b]
        del person_b, garments_b
        if len(garments) == 1:
            job = await engine.submit(person, garments[0], options)
        else:
            job = await engine.submit(person, garments[0], options, outfit=list(zip(garments, categories, strict=True)))
    except QueueFullError as exc:
        raise ApiError(429, f"the try-on queue is full ({settings.queue_size} jobs); retry after "
                            f"{exc.retry_after} s", "ConcurrencyLimitExceeded",
                       headers={"Retry-After": str(exc.retry_after)}) from None
    except NotReadyError as exc:
        raise ApiError(503, str(exc), headers={"Retry-After": "5"}) from None
    location = f"/v1/status/{job.id}"
    wait = parse_prefer(prefer, settings.wait_max_s)
    if wait:
        try:
            await asyncio.wait_for(job.done.wait(), timeout=wait)
        except TimeoutError:
            pass
        else:
            record = await store.get(job.id)
            if record is not None:
                return JSONResponse(record, status_code=200,
                                    headers={"Location": location, "Preference-Applied": f"wait={wait:g}"})
    record = await store.get(job.id)
    status = record["status"] if record else "in_queue"
    return JSONResponse(RunAccepted(id=job.id, status=status).model_dump(mode="json"), status_code=202,
                        headers={"Location": location, "Retry-After": "1"})


@router.delete("/status/{job_id}", status_code=204, summary="Delete a job and its result now",
               responses={404: {"model": ErrorBody, "description": "NotFound: unknown or expired job id"}})
async def delete_status(job_id: str, store: StoreDep) -> Response:
    """Remove the job's record and result at once, instead of waiting for the TTL (the shopper's photo result is
    theirs: the widget deletes it after showing it). A job still running finishes but its result is dropped."""
    if not (_JOB_ID.match(job_id) and await store.delete(job_id)):
        raise _job_not_found(job_id)
    return Response(status_code=204)


def _job_not_found(job_id: str) -> ApiError:
    """404 for an unknown job, echoing the id only as far as an id can be long."""
    shown = job_id if len(job_id) <= 64 else job_id[:64] + "…"
    return ApiError(404, f"no job {shown!r} (unknown, or expired)")


@router.get("/status/{job_id}", response_model=JobStatus, summary="Status and result of a job",
            responses={404: {"model": ErrorBody, "description": "NotFound: unknown or expired job id"}})
async def status(job_id: str, store: StoreDep) -> JSONResponse:
    """The job's status object; ``output`` holds the result as a data URI once ``completed``.

    ``Retry-After: 1`` is sent while the job is ``in_queue`` or ``processing``. Jobs expire after the TTL.
    """
    record = await store.get(job_id) if _JOB_ID.match(job_id) else None
    if record is None:
        raise _job_not_found(job_id)
    headers = {"Retry-After": "1"} if record["status"] in ("in_queue", "processing") else None
    return JSONResponse(record, headers=headers)
