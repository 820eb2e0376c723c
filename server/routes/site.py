"""The site's own routes beside the static mount: the front page and the favicon.

* ``/`` redirects to the shopper's demo (``/demo/``) with the query string kept, so ``/?backend=wasm&debug``
  reaches the demo with its parameters;
* ``/favicon.ico`` is the project's icon (a T-shirt in the widget's accent colour), drawn here with Pillow so it
  needs no build step and no binary file in the repository.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

__all__ = ["site_router", "favicon_ico", "ACCENT"]

ACCENT = (0x2F, 0x5B, 0xEA)
"""The widget's default ``--tryon-accent`` (``web/src/tryon-widget.js``)."""

# A T-shirt seen from the front on a 64-unit square: neckline, right sleeve, hem, left sleeve.
_SHIRT = [(22, 6), (27, 11), (32, 13), (37, 11), (42, 6), (60, 17), (53, 30), (47, 26), (47, 58), (17, 58),
          (17, 26), (11, 30), (4, 17)]


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    """The favicon as ICO bytes (16, 32 and 48 px), drawn once per process."""
    from PIL import Image, ImageDraw

    scale = 4  # drawn large, then downsampled by the ICO writer: smooth edges
    image = Image.new("RGBA", (64 * scale, 64 * scale), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon([(x * scale, y * scale) for x, y in _SHIRT], fill=(*ACCENT, 255))
    buf = io.BytesIO()
    image.save(buf, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return buf.getvalue()


def site_router(web_dir: Path | None) -> APIRouter:
    """Routes for the site in ``web_dir``: the favicon unless the site has its own, and the front page redirect
    when the site has a demo (``demo/index.html``) and no ``index.html`` of its own."""
    router = APIRouter(include_in_schema=False)

    def has(name: str) -> bool:
        return web_dir is not None and (web_dir / name).is_file()

    if not has("favicon.ico"):
        @router.api_route("/favicon.ico", methods=["GET", "HEAD"])
        def favicon() -> Response:
            return Response(favicon_ico(), media_type="image/x-icon",
                            headers={"cache-control": "public, max-age=86400"})

    if has("demo/index.html") and not has("index.html"):
        @router.api_route("/", methods=["GET", "HEAD"])
        def front_page(request: Request) -> RedirectResponse:
            query = request.url.query
            return RedirectResponse(f"/demo/?{query}" if query else "/demo/")

    return router
