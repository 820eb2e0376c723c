"""Pure ASGI middleware: request limits (header block size, a streaming body cap, a body idle timeout) and the
security/isolation headers.

The body cap sits in middleware because FastAPI parses a body before any dependency could refuse it, and a
chunked upload has no ``Content-Length`` to check (``docs/api-conventions.md``): the byte count of every received
chunk is checked as it arrives, so an oversized upload is refused after ``max_bytes`` and never buffered whole.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tryon.server.protocol import HEADERS_TOO_LARGE, MAX_HEADER_BYTES

__all__ = ["BodyLimitMiddleware", "SecurityHeadersMiddleware", "DOCS_CSP", "DOCS_PATHS"]

DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; base-uri 'self'")
"""FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from jsDelivr with inline bootstrapping scripts;
they get this policy instead of the site's same-origin one (developer pages only, no user data)."""


class _BodyTooLarge(Exception):
    pass


class _BodyTooSlow(Exception):
    pass


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


class BodyLimitMiddleware:
    """Answer 431 ``RequestHeaderFieldsTooLarge`` to a header block over
    :data:`tryon.server.protocol.MAX_HEADER_BYTES` (name + value + 4 bytes of ``": "`` and CRLF per header, plus
    the request line), 413 ``PayloadTooLarge`` to request bodies over ``max_bytes`` (by header, then by counting), and 408
    ``RequestTimeout`` when the client stops sending its body for ``idle_timeout_s`` or sends it slower than
    ``min_rate`` (a half-sent upload, or a slow-loris client trickling bytes, would otherwise hold a connection and
    its buffer for ever). The rate rule is Apache mod_reqtimeout's ``body=<timeout>,MinRate=<rate>``: the body
    must have arrived by ``start + idle_timeout_s + received / min_rate``.

    Args:
        app: the wrapped ASGI app.
        max_bytes: the largest accepted body.
        idle_timeout_s: longest wait for the next chunk of a body, seconds; also the whole body's grace time.
        min_rate: slowest accepted body after the grace time, bytes per second.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, idle_timeout_s: float = 30.0, min_rate: float = 500.0):
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout_s = idle_timeout_s
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope["method"]) + len(scope.get("raw_path") or b"") + len(scope["query_string"]) + 12
            if size + sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADER_BYTES:
                await _send_json(send, 431, HEADERS_TOO_LARGE)
                return
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        message = {"error": "PayloadTooLarge",
                   "message": f"the request body is larger than the limit of {self.max_bytes:,} bytes"}
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_json(send, 413, message)
                    return
        received = 0
        body_done = started = False
        loop = asyncio.get_running_loop()
        t0 = loop.time()

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # later receives wait for a disconnect, which may come much later: no timeout there
                return await receive()
            budget = t0 + self.idle_timeout_s + received / self.min_rate - loop.time()
            try:
                msg = await asyncio.wait_for(receive(), timeout=max(0.0, min(self.idle_timeout_s, budget)))
            except TimeoutError:
                raise _BodyTooSlow from None
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
                body_done = not msg.get("more_body", False)
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await _send_json(send, 413, message)
        except _BodyTooSlow:
            if started:
                raise
            await _send_json(send, 408, {"error": "RequestTimeout", "message": f"the request body stopped arriving "
                                         f"for {self.idle_timeout_s:g} s or came slower than {self.min_rate:g} "
                                         "bytes/s; send the whole body at once"})


class SecurityHeadersMiddleware:
    """Add CSP, ``nosniff``, a referrer policy, CORP and (optionally) COOP/COEP to every HTTP response.

    A header the response already carries is kept (static files set their own CORP).

    Args:
        app: the wrapped ASGI app.
        csp: Content-Security-Policy value (empty: none).
        cross_origin_isolation: send ``Cross-Origin-Opener-Policy: same-origin`` and
            ``Cross-Origin-Embedder-Policy: require-corp`` so pages get ``crossOriginIsolated`` (threaded WASM).
            Not on the API docs pages, whose scripts and fonts come from CDNs.
        corp: ``Cross-Origin-Resource-Policy`` value (``cross-origin`` when shop pages on other origins load our
            files, else ``same-origin``).
    """

    def __init__(self, app: ASGIApp, csp: str, cross_origin_isolation: bool = False, corp: str = "same-origin"):
        self.app = app
        headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"),
                   (b"cross-origin-resource-policy", corp.encode())]
        self.docs_headers = list(headers)
        if csp:
            headers.append((b"content-security-policy", csp.encode()))
            self.docs_headers.append((b"content-security-policy", DOCS_CSP.encode()))
        if cross_origin_isolation:
            headers += [(b"cross-origin-opener-policy", b"same-origin"),
                        (b"cross-origin-embedder-policy", b"require-corp")]
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope.get("path") in DOCS_PATHS else self.headers

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                present = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = list(msg.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(msg)

        await self.app(scope, receive, send_with_headers)
