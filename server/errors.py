"""HTTP errors: one exception type, one JSON body shape ``{error, message, detail?}`` (FASHN-style names).

``tryon.errors`` classes raised while decoding inputs map to status codes here; run-time failures inside a
job are not HTTP errors (they land in the status object's ``error``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from redis.exceptions import RedisError
from starlette.requests import ClientDisconnect

from tryon.errors import (DecompressionBombError, ImageTooSmallError, NotAnImageError, TryonError,
                          UnreadableImageError, UnsupportedCategoryError)

__all__ = ["ApiError", "from_tryon_error", "install_error_handlers", "STATUS_NAMES"]

log = logging.getLogger(__name__)

STATUS_NAMES = {400: "BadRequest", 401: "UnauthorizedAccess", 404: "NotFound", 405: "MethodNotAllowed",
                413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "InputValidationError",
                429: "ConcurrencyLimitExceeded", 500: "InternalServerError", 503: "ModelNotReady"}
"""Default error name of each status code."""

_TRYON_STATUS: dict[type[TryonError], int] = {
    UnreadableImageError: 400,  # ImageLoadError: empty, truncated, corrupt
    NotAnImageError: 415,  # UnsupportedMediaType
    DecompressionBombError: 413,  # PayloadTooLarge: too many pixels
    ImageTooSmallError: 422,  # ImageTooSmall
    UnsupportedCategoryError: 422,
}


class ApiError(Exception):
    """An HTTP error with a FASHN-style name.

    Args:
        status: HTTP status code.
        message: one sentence for people.
        name: error name; default from the status code.
        headers: extra response headers (``Retry-After``).
        detail: validation details ``[{loc, msg, type}]``.
    """

    def __init__(self, status: int, message: str, name: str | None = None, headers: dict[str, str] | None = None,
                 detail: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.name = name or STATUS_NAMES.get(status, "Error")
        self.headers = headers
        self.detail = detail


def from_tryon_error(exc: TryonError) -> ApiError:
    """Map a ``tryon.errors`` exception raised by input checks to an ``ApiError`` (400 when unknown)."""
    for cls, status in _TRYON_STATUS.items():
        if isinstance(exc, cls):
            return ApiError(status, exc.message, exc.name)
    return ApiError(400, exc.message, exc.name)


def _body(name: str, message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": name, "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def _json_safe(errors: list[Any]) -> list[dict[str, Any]]:
    # Pydantic error dicts can hold exceptions and bytes in ``ctx``/``input``; keep loc/msg/type only.
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer ``{error, message, detail?}`` JSON."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.name, exc.message, exc.detail), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(TryonError)
    async def _tryon_error(request: Request, exc: TryonError) -> JSONResponse:
        return await _api_error(request, from_tryon_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _json_safe(list(exc.errors()))
        msg = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail) or "invalid request"
        return JSONResponse(_body("InputValidationError", msg, detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = STATUS_NAMES.get(exc.status_code, "Error")
        message = exc.detail if isinstance(exc.detail, str) else name
        return JSONResponse(_body(name, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RedisError)
    async def _store_down(request: Request, exc: RedisError) -> JSONResponse:
        # The job store is unreachable for a while: try again later (503), not a server fault (500).
        log.warning("job store error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(_body("ServiceUnavailable", "the job store is unavailable; retry shortly"),
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # A shopper who closes the tab mid-upload is not a server error: one info line, no traceback.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("InternalServerError", "the server failed; the error was logged"), status_code=500)
