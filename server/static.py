"""Static files with the MIME types and cache policy the widget needs.

* MIME types come from one table, not the host's ``/etc/mime.types``: ``.mjs`` must be ``text/javascript``
  (module scripts are strict) and ``.wasm`` ``application/wasm`` (streaming compilation), see
  ``docs/web-runtime.md`` §4.
* Cache: HTML and ``manifest.json`` are ``no-cache`` (always revalidated); a model file listed in the manifest
  is ``immutable`` for a year when its URL pins the content with ``?v=<first 16 hex of its sha256>`` (the URLs
  ``GET /v1/models`` hands out), else revalidated by its sha256 ETag; other assets revalidate, except names
  carrying a content hash (``app.3f9a1c2e.js``) and files of a versioned folder (one holding a ``VERSION`` file,
  like ``vendor/ort/``) asked for with ``?v=<that version>``.
* Compression: a site file with an up-to-date precompressed sibling (``name.br``, ``name.gz``, written at build
  time by ``web/scripts/copy-ort.mjs``) is sent as that sibling with ``Content-Encoding`` when the request
  accepts it, always with ``Vary: Accept-Encoding``. Nothing is compressed per request.
* The widget's own modules (``src/``) are public: any origin may load them (CORS ``*``), so that on a shop page
  whose origin the server does not list the element still loads and can say why the model cannot.
* The model mount serves only ``manifest.json`` and the files the manifest lists.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

__all__ = ["MEDIA_TYPES", "IMMUTABLE", "NO_CACHE", "ENCODINGS", "VERSION_FILE", "PUBLIC_PREFIXES", "media_type",
           "accepted_encodings", "SiteFiles", "ModelFiles"]

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".map": "application/json", ".wasm": "application/wasm",
    ".onnx": "application/octet-stream", ".onnx_data": "application/octet-stream", ".ort": "application/octet-stream",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".svg": "image/svg+xml",
    ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
_HASHED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.[a-z0-9]+$")
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
"""Content codings of precompressed siblings, best first, with their file suffixes."""
VERSION_FILE = "VERSION"
"""A folder holding this file is versioned: its files are immutable when asked for with ``?v=<its content>``."""
PUBLIC_PREFIXES = ("src/",)
"""Site folders any origin may load with CORS (the widget's code; it holds nothing private)."""


def media_type(path: str | os.PathLike) -> str:
    """Content-Type for a file name (``application/octet-stream`` when unknown)."""
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def accepted_encodings(scope: Scope) -> set[str]:
    """Content codings the request's ``Accept-Encoding`` accepts (lower case; ``q=0`` excluded)."""
    accepted = set()
    for part in Headers(scope=scope).get("accept-encoding", "").split(","):
        token, _, params = part.partition(";")
        token, params = token.strip().lower(), params.strip()
        if not token:
            continue
        if params.startswith("q="):
            try:
                if float(params[2:]) <= 0:
                    continue
            except ValueError:
                continue
        accepted.add(token)
    if "*" in accepted:
        accepted.update(enc for enc, _ in ENCODINGS)
    return accepted


def _versioned(name: str, scope: Scope) -> bool:
    """Whether ``?v=`` pins the version of the folder ``name`` lies in (its ``VERSION`` file)."""
    pinned = _query(scope).get("v", "")
    if not pinned:
        return False
    try:
        return (Path(name).parent / VERSION_FILE).read_text().strip() == pinned
    except OSError:
        return False


NOT_SERVED = ("package.json", "package-lock.json", "README.md", "scripts/", "node_modules/")
"""Paths of the npm package in ``web/`` that no page needs (its build files, dependencies and notes): 404."""


class SiteFiles(StaticFiles):
    """The widget/demo site (``web/``), ``index.html`` for folder URLs, precompressed siblings when accepted.

    The npm package's own files (:data:`NOT_SERVED`) and dotfiles are not served: the site is the widget
    (``src/``), its runtime (``vendor/``) and the demo (``demo/``).
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        rel = path.replace(os.sep, "/").lstrip("/")
        hidden = any(part.startswith(".") for part in rel.split("/") if part not in ("", "."))
        if rel.startswith(NOT_SERVED) or hidden:
            raise HTTPException(status_code=404, detail="Not Found")
        return await super().get_response(path, scope)

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        name = str(full_path)
        served, served_stat, encoding, has_siblings = name, stat_result, None, False
        accepted = accepted_encodings(scope)
        for coding, suffix in ENCODINGS:
            try:
                sibling = os.stat(name + suffix)
            except OSError:
                continue
            if sibling.st_mtime < stat_result.st_mtime:
                continue  # written before the file was replaced: it may hold the old content
            has_siblings = True
            if encoding is None and coding in accepted:
                served, served_stat, encoding = name + suffix, sibling, coding
        response = FileResponse(served, status_code=status_code, stat_result=served_stat, media_type=media_type(name))
        if encoding:
            response.headers["content-encoding"] = encoding
        if has_siblings:
            response.headers["vary"] = "Accept-Encoding"
        immutable = _HASHED_NAME.search(name) or _versioned(name, scope)
        response.headers["cache-control"] = IMMUTABLE if immutable else NO_CACHE
        rel = os.path.relpath(name, os.path.realpath(str(self.directory))).replace(os.sep, "/")
        if rel.startswith(PUBLIC_PREFIXES):
            response.headers["access-control-allow-origin"] = "*"
            response.headers["cross-origin-resource-policy"] = "cross-origin"
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _manifest_data(path: Path) -> dict:
    """A manifest's JSON object; empty when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _listed_files(data: dict, prefix: str) -> dict[str, str]:
    """``prefix + path`` -> sha256 of the files a manifest (its JSON object) lists: the student's, the
    person-framing models it is deployed with (tryon.framing), the live-mode graphs (tryon.export.live), the garment
    segmenter (tryon.garment.segmenter.attach_segmenter) and external weights next to a graph; empty when the
    entries are malformed."""
    keys = ("files", "framing_files", "live_files", "garment_mask_files")
    try:
        listed = {prefix + f["path"]: f["sha256"] for key in keys for f in data.get(key, [])}
        for f in data.get("files", []):
            if f.get("data_path"):
                listed[prefix + f["data_path"]] = f.get("data_sha256", "")
        return listed
    except (KeyError, TypeError, AttributeError):
        return {}


class ModelFiles(StaticFiles):
    """The model folder: ``manifest.json`` plus the files it lists (``files``, ``framing_files``, ``live_files``,
    ``garment_mask_files``),
    and the same for each student deployed with it in a sub-folder (the manifest's ``students``,
    :func:`tryon.manifest.attach_students`), nothing else.

    Args:
        directory: the model folder (holding ``manifest.json``).
    """

    def __init__(self, directory: str | os.PathLike):
        super().__init__(directory=directory, check_dir=False)
        self._manifest_path = Path(directory) / "manifest.json"
        self._listed: dict[str, str] = {}
        self._students: list[str] = []  # sub-folders of the other categories' students ("bottoms")
        self._mtime: list[float | None] | None = None

    def _stamp(self) -> list[float | None]:
        """The modification times of this folder's manifest and of its students' manifests."""
        root = self._manifest_path.parent
        return [_mtime(self._manifest_path), *(_mtime(root / sub / "manifest.json") for sub in self._students)]

    def _files(self) -> dict[str, str]:
        """path -> sha256 of the listed files, re-read when a manifest changes: this folder's, and those of the
        students deployed with it (the manifest's ``students``: their manifests listed with no sha256, their
        files under their sub-folder)."""
        stamp = self._stamp()
        if stamp[0] is None:
            return {}
        if stamp != self._mtime:
            data = _manifest_data(self._manifest_path)
            self._listed = _listed_files(data, "")
            students = data.get("students")
            self._students = [sub for sub in students.values() if isinstance(sub, str)] \
                if isinstance(students, dict) else []
            for sub in self._students:
                found = _listed_files(_manifest_data(self._manifest_path.parent / sub / "manifest.json"), f"{sub}/")
                if found:
                    self._listed |= {f"{sub}/manifest.json": ""} | found
            self._mtime = self._stamp()
        return self._listed

    async def get_response(self, path: str, scope: Scope) -> Response:
        from starlette.concurrency import run_in_threadpool

        from tryon.server.integrity import INTEGRITY

        rel = path.replace(os.sep, "/")
        files = self._files()
        if rel != "manifest.json" and rel not in files:
            raise HTTPException(status_code=404, detail=f"/models/{rel}: not a file of the served model")
        # A file whose bytes no longer have the manifest's sha256 is never served (browsers would cache it as
        # immutable under the manifest's ETag); the readiness probe reports it too.
        if rel != "manifest.json" and files[rel] and not await run_in_threadpool(
                INTEGRITY.matches, Path(str(self.directory)) / rel, files[rel]):
            raise HTTPException(status_code=503, detail=f"/models/{rel}: the file is missing or differs from the "
                                                        "manifest (sha256); the server is not ready")
        return await super().get_response(path, scope)

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        rel = os.path.relpath(full_path, os.path.realpath(str(self.directory))).replace(os.sep, "/")
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result,
                                media_type=media_type(rel))
        sha = self._files().get(rel, "")
        if rel == "manifest.json" or not sha:
            response.headers["cache-control"] = NO_CACHE
        else:
            response.headers["etag"] = f'"{sha}"'
            pinned = _query(scope).get("v", "")
            immutable = len(pinned) >= 8 and sha.startswith(pinned)
            response.headers["cache-control"] = IMMUTABLE if immutable else NO_CACHE
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response
