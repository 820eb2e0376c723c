"""Model-file integrity while the server runs: a file the manifest lists is served and trusted only while its
bytes still have the manifest's sha256.

Hashing every file on every request would cost tens of milliseconds per megabyte, so a file's digest is kept
with its size and modification time and recomputed only when either changes (a replaced, truncated or edited
file changes them). ``/readyz`` reports a missing or altered file as not ready, ``/models/`` refuses to serve
it, and ``/v1/models`` leaves it out.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tryon.manifest import FileEntry, sha256_file

__all__ = ["IntegrityCache", "INTEGRITY"]


class IntegrityCache:
    """sha256 of files, recomputed only when a file's size or modification time changes (thread-safe)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def matches(self, path: str | os.PathLike, sha256: str) -> bool:
        """Whether ``path`` exists and its bytes have ``sha256`` (hex)."""
        p = Path(path)
        try:
            st = p.stat()
        except OSError:
            return False
        key, sig = str(p.resolve()), (st.st_size, st.st_mtime_ns)
        with self._lock:
            hit = self._seen.get(key)
        if hit is not None and hit[:2] == sig:
            return hit[2] == sha256
        try:
            digest = sha256_file(p)
        except OSError:
            return False
        with self._lock:
            self._seen[key] = (*sig, digest)
        return digest == sha256

    def problems(self, folder: str | os.PathLike, entries: tuple[FileEntry, ...] | list[FileEntry]) -> list[str]:
        """The paths among ``entries`` (relative to ``folder``) that are missing or altered."""
        return [e.path for e in entries if not self.matches(Path(folder) / e.path, e.sha256)]


INTEGRITY = IntegrityCache()
"""The process's cache, shared by the readiness probe, the model-file route and ``/v1/models``."""
