"""The HTTP/1.1 protocol the server runs under uvicorn: h11, with request-parsing errors in the API's JSON shape.

A request that never reaches the app (a header block over h11's 16 KiB buffer, a malformed request line) is
answered by uvicorn itself, as plain text (``Invalid HTTP request received.``). Clients of this API read
``{error, message}`` JSON on every error (``docs/api-conventions.md``), so :class:`JsonErrorH11Protocol` answers
those in the same shape: 431 ``RequestHeaderFieldsTooLarge`` when h11 ran out of buffer, else 400
``BadRequest``. h11 only limits what it buffers *incomplete*, so a header block that arrives in one read can be far
larger; :class:`tryon.server.middleware.BodyLimitMiddleware` refuses every header block over
:data:`MAX_HEADER_BYTES` with the same answer (:data:`HEADERS_TOO_LARGE`), so the limit is one number. The connection then closes the way nginx's ``lingering_close`` does: the answer is sent and
the write side shut, and whatever the client still sends is read and dropped for up to :data:`LINGER_S`, so a
client still sending a 200 KB header reads the answer instead of a connection reset. Pass :data:`HTTP_PROTOCOL` as uvicorn's ``http`` (``uvicorn.run(app, http=HTTP_PROTOCOL)``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["JsonErrorH11Protocol", "HTTP_PROTOCOL", "MAX_HEADER_BYTES", "HEADERS_TOO_LARGE", "LINGER_S"]

MAX_HEADER_BYTES = 16 * 1024
"""Largest request line + header block, bytes (h11's default buffer; nginx's default allows 4 × 8 KiB). The
protocol gives h11 this buffer and the middleware counts complete header blocks against it."""

HEADERS_TOO_LARGE = {"error": "RequestHeaderFieldsTooLarge",
                     "message": f"the request line and headers are larger than the limit of {MAX_HEADER_BYTES:,} "
                                "bytes; send fewer or shorter headers (large data goes in the body)"}
"""The 431 answer's JSON body."""

LINGER_S = 2.0
"""After a parse-error answer, seconds the rest of the client's request is read and dropped before closing
(closing with unread bytes makes the kernel send a reset, which can discard the answer before it is read)."""

_REASONS = {400: "Bad Request", 431: "Request Header Fields Too Large"}


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose parse-error answer is the API's JSON error body, then ``Connection: close``.

    Method: uvicorn calls ``send_400_response`` inside its ``except h11.RemoteProtocolError`` block; the error's
    ``error_status_hint`` (h11: 431 for an oversized header block, else 400) picks the status.
    """

    _lingering = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One number for the limit, whatever uvicorn's h11_max_incomplete_event_size says.
        self.conn = h11.Connection(h11.SERVER, MAX_HEADER_BYTES)

    def data_received(self, data: bytes) -> None:
        """Feed h11, or drop the bytes of a request already answered with a parse error."""
        if not self._lingering:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 could not parse with ``{error, message}`` JSON (431 or 400) and close."""
        exc = sys.exc_info()[1]
        status = getattr(exc, "error_status_hint", 400) if isinstance(exc, h11.RemoteProtocolError) else 400
        if status == 431:
            body = HEADERS_TOO_LARGE
        else:
            status = 400
            body = {"error": "BadRequest", "message": "the request is not valid HTTP/1.1"}
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=status, headers=headers, reason=_REASONS[status]), h11.Data(data=data),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


HTTP_PROTOCOL = JsonErrorH11Protocol
"""uvicorn's ``http`` argument for every server this project starts (``tryon serve``, benchmarks, tests)."""
