"""The artifact contract: ``manifest.json`` next to every exported model.

``tryon export`` writes it; the server, the web widget and ``tryon.quantize`` read it, and nothing else: input
and output names, shapes, dtypes, value ranges, the NCHW layout, the files with their sha256 and byte sizes,
the ONNX opset and the WebGPU features the model needs. Pure stdlib plus ``tryon.errors`` (a leaf module): the
server and the quantizer import this without torch or numpy.

Example::

    m = Manifest.load("artifacts/afn_student_m/manifest.json")
    m.inputs[0].name, m.inputs[0].shape  # ("person", (1, 3, 256, 192))
    m.verify_files("artifacts/afn_student_m")  # raises DataError on a missing or altered file
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tryon.errors import DataError

__all__ = ["MANIFEST_NAME", "SCHEMA_VERSION", "DTYPES", "FP32", "FP16", "INT8", "INT8_DYNAMIC", "AUTO", "BACKENDS",
           "DEFAULT_CATEGORIES", "TensorSpec", "FileEntry", "Manifest", "sha256_file", "attach_students"]

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1

FP32, FP16, INT8, INT8_DYNAMIC = DTYPES = ("fp32", "fp16", "int8", "int8_dynamic")
"""The names a model file's precision has in ``FileEntry.dtype``: ``fp32``; ``fp16`` (WebGPU with
``shader-f16``); ``int8``, static QDQ calibrated on real inputs, and ``int8_dynamic``, dynamic quantization
without calibration (both for WASM). The widget mirrors them in ``web/src/backend.js`` (``DTYPE``, checked by
``tests/web/test_dtypes.py``)."""


DEFAULT_CATEGORIES = ("tops",)
"""What a manifest without ``categories`` dresses: every student exported before categories existed is a tops
student."""


AUTO = "auto"
"""The dtype a runtime asks for when it leaves the choice to the manifest (:meth:`Manifest.preferred_file`)."""

BACKENDS = ("cpu", "wasm", "webgpu")
"""Backends :attr:`Manifest.preferred_dtype` may name: onnxruntime CPU (the server, filled by ``tryon quantize``),
onnxruntime-web WASM and WebGPU (the widget; slots for browser measurements)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output.

    Attributes:
        name: the ONNX tensor name (``person``, ``garment``, ``garment_mask``, ``tryon``, ``grid``, ...).
        shape: fixed shape; the legacy exporter bakes sizes in, so there is one artifact per resolution.
        dtype: element type name as numpy spells it (``float32``, ``float16``).
        value_range: (low, high) the values lie in (inputs: must lie in).
        layout: ``NCHW`` for images and masks, ``NHWC`` for a sampling grid (N, H, W, 2), else ``""``.
        description: one line for people.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    value_range: tuple[float, float] | None = None
    layout: str = "NCHW"
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists), as :meth:`from_dict` reads it."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        vr = d.get("value_range")
        return cls(name=d["name"], shape=tuple(int(s) for s in d["shape"]), dtype=d.get("dtype", "float32"),
                   value_range=None if vr is None else (float(vr[0]), float(vr[1])), layout=d.get("layout", "NCHW"),
                   description=d.get("description", ""))


@dataclass(frozen=True)
class FileEntry:
    """One file of the artifact, relative to the manifest's folder.

    Attributes:
        path: relative path (``model.onnx``, ``model_fp16.onnx``, ``model_int8.onnx``).
        sha256: hex digest.
        bytes: size.
        dtype: weights' precision, one of :data:`DTYPES`.
    """

    path: str
    sha256: str
    bytes: int
    dtype: str = FP32

    @classmethod
    def from_path(cls, folder: str | os.PathLike, path: str, dtype: str = FP32) -> FileEntry:
        """Hash and measure ``folder/path``."""
        p = Path(folder) / path
        return cls(path=path, sha256=sha256_file(p), bytes=p.stat().st_size, dtype=dtype)


@dataclass(frozen=True)
class Manifest:
    """Self-description of an exported model (see the module docstring).

    Attributes:
        name: registered model name, with its weights tag if any (``afn_student_m.distill_v1``).
        version: version of the artifact (the toolkit version that wrote it unless given).
        inputs: input tensors in call order.
        outputs: output tensors in ONNX output order.
        files: the model files.
        opset: ONNX default-domain opset.
        webgpu_features: WebGPU features a device must offer (``shader-f16`` for fp16 files; empty for fp32).
        layout: tensor layout of images and masks (always ``NCHW`` here).
        metrics: measured numbers (``parity_max_abs``, ``params``, ``gmacs``, latencies) for reports.
        extra: free-form provenance (source checkpoint, licence, exporter versions).
        framing: the person-framing rules the student is deployed with (``tryon.framing.FramingConfig`` as a
            dict); empty = the whole photo is letterboxed (stand-ins, older exports).
        framing_files: the person-analysis models those rules name, copied next to the student.
        live: live mode's two graphs (``tryon.export.live.attach_live``): ``garment_encoder`` and ``model``
            (file paths), ``features`` (the garment pyramid's tensors as :class:`TensorSpec` dicts, fine first),
            ``flip_ensemble`` (false: the live graph leaves it out) and measured ``metrics``; empty = live mode
            runs the deployed student on every frame.
        live_files: those two files.
        garment_mask: the rules of the widget's garment cut-out for uploaded garment photos
            (:func:`tryon.garment.segmenter.attach_segmenter`): ``model`` (the learned segmenter's file), ``size``
            (its input (h, w)), ``confident``, ``confidence_scales``, ``min_component``, ``max_border_cover`` and
            ``smooth_border_noise``, the constants of :func:`tryon.garment.mask.garment_mask`; empty = the widget
            uses its flood-fill cut-out alone (older exports).
        garment_mask_files: the segmenter's file.
        categories: the garment categories (FASHN's ``tops | bottoms | one-pieces``) the folder's student was
            trained on and dresses; runtimes refuse the others (``UnsupportedCategoryError``). Manifests written
            before categories existed hold tops students: ``("tops",)``.
        garment_category: what ``category=auto`` refuses in the widget
            (:func:`tryon.garment.category.browser_rules`: the categories the student dresses and the classifier's
            thresholds); empty = the widget does not classify (older exports).
        preferred_dtype: backend (one of :data:`BACKENDS`) -> the dtype measured best there: ``fp32`` unless a
            quantized file ran at least as fast at equal quality in the same run (:mod:`tryon.quantize.choice`;
            the measurements are in ``metrics["dtype_choice"]``). Runtimes asking for :data:`AUTO` use it.
        students: category -> sub-folder (relative, ``/``-separated) of another student deployed with this one,
            for a category this one does not dress (:func:`attach_students`): the widget loads that folder's
            manifest and student when a garment of that category comes (one student per category,
            ``docs/student-categories.md``); empty = this folder's student alone.
        schema_version: version of this manifest format.
    """

    name: str
    version: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    files: tuple[FileEntry, ...] = ()
    opset: int = 17
    webgpu_features: tuple[str, ...] = ()
    layout: str = "NCHW"
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    framing: dict[str, Any] = field(default_factory=dict)
    framing_files: tuple[FileEntry, ...] = ()
    live: dict[str, Any] = field(default_factory=dict)
    live_files: tuple[FileEntry, ...] = ()
    garment_mask: dict[str, Any] = field(default_factory=dict)
    garment_mask_files: tuple[FileEntry, ...] = ()
    preferred_dtype: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    garment_category: dict[str, Any] = field(default_factory=dict)
    students: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    def to_json(self) -> str:
        """Indented JSON text ending in a newline."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        """Parse a dict as written by :meth:`to_dict`.

        Raises:
            DataError: a required key is missing or the schema version is newer than this code.
        """
        try:
            version = int(d.get("schema_version", SCHEMA_VERSION))
            if version > SCHEMA_VERSION:
                raise DataError(f"manifest schema {version} is newer than this toolkit's ({SCHEMA_VERSION})")
            return cls(
                name=d["name"], version=str(d["version"]),
                inputs=tuple(TensorSpec.from_dict(t) for t in d["inputs"]),
                outputs=tuple(TensorSpec.from_dict(t) for t in d["outputs"]),
                files=tuple(FileEntry(**f) for f in d.get("files", ())),
                opset=int(d.get("opset", 17)), webgpu_features=tuple(d.get("webgpu_features", ())),
                layout=d.get("layout", "NCHW"), metrics=dict(d.get("metrics", {})), extra=dict(d.get("extra", {})),
                framing=dict(d.get("framing", {})),
                framing_files=tuple(FileEntry(**f) for f in d.get("framing_files", ())),
                live=dict(d.get("live", {})),
                live_files=tuple(FileEntry(**f) for f in d.get("live_files", ())),
                garment_mask=dict(d.get("garment_mask", {})),
                garment_mask_files=tuple(FileEntry(**f) for f in d.get("garment_mask_files", ())),
                preferred_dtype={str(k): str(v) for k, v in dict(d.get("preferred_dtype", {})).items()},
                categories=tuple(str(c) for c in d.get("categories", DEFAULT_CATEGORIES)),
                garment_category=dict(d.get("garment_category", {})),
                students={str(k): str(v) for k, v in dict(d.get("students", {})).items()},
                schema_version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed manifest: {exc!r}") from None

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse JSON text. Raises DataError when it is not a manifest."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise DataError(f"manifest is not JSON: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> Manifest:
        """Read ``path`` (a manifest.json, or a folder holding one).

        Raises:
            DataError: missing, unreadable or malformed.
        """
        p = Path(path)
        if p.is_dir():
            p = p / MANIFEST_NAME
        try:
            text = p.read_text()
        except OSError as exc:
            raise DataError(f"{p}: cannot read manifest ({exc.strerror or exc})") from None
        return cls.from_json(text)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``folder/manifest.json`` atomically; returns its path. Raises OutputError when unwritable."""
        from tryon.processing import atomic_write_bytes  # numpy and Pillow: only when writing

        p = Path(folder) / MANIFEST_NAME
        atomic_write_bytes(p, self.to_json().encode())
        return p

    # ------------------------------------------------------------------ queries
    def input(self, name: str) -> TensorSpec:
        """The input called ``name``. Raises KeyError."""
        return _by_name(self.inputs, name)

    def output(self, name: str) -> TensorSpec:
        """The output called ``name``. Raises KeyError."""
        return _by_name(self.outputs, name)

    def file(self, dtype: str = FP32) -> FileEntry:
        """The model file of precision ``dtype``. Raises KeyError."""
        for f in self.files:
            if f.dtype == dtype:
                return f
        raise KeyError(f"no {dtype} file in manifest {self.name!r} (has {[f.dtype for f in self.files]})")

    @property
    def all_files(self) -> tuple[FileEntry, ...]:
        """Every file the artifact lists: the student's, the framing models, the live-mode graphs and the garment
        segmenter."""
        return (*self.files, *self.framing_files, *self.live_files, *self.garment_mask_files)
    def preferred_file(self, backend: str = "cpu") -> FileEntry:
        """The file :attr:`preferred_dtype` names for ``backend`` when it is listed, else the fp32 file.

        Raises:
            KeyError: neither is listed.
        """
        dtype = self.preferred_dtype.get(backend)
        if dtype is not None and any(f.dtype == dtype for f in self.files):
            return self.file(dtype)
        return self.file(FP32)

    def verify_files(self, folder: str | os.PathLike) -> None:
        """Check every listed file exists in ``folder`` with the recorded size and sha256.

        Raises:
            DataError: naming the first file that is missing or differs.
        """
        for f in self.all_files:
            p = Path(folder) / f.path
            if not p.is_file():
                raise DataError(f"{p}: listed in the manifest but missing")
            if p.stat().st_size != f.bytes or sha256_file(p) != f.sha256:
                raise DataError(f"{p}: differs from the manifest (sha256/size mismatch); re-export it")


def _by_name(specs: tuple[TensorSpec, ...], name: str) -> TensorSpec:
    for s in specs:
        if s.name == name:
            return s
    raise KeyError(f"no tensor {name!r} (has {[s.name for s in specs]})")


def attach_students(folder: str | os.PathLike, students: dict[str, str]) -> Manifest:
    """Deploy other categories' students with the student of ``folder``: record them in its manifest's
    ``students`` (replacing any recorded before) and return the manifest saved.

    Each is a complete export (``tryon export``) in a sub-folder of ``folder``, so that whatever serves ``folder``
    (``tryon serve``'s ``/models/``) serves them too and the widget downloads a category's student only when a
    garment of that category comes.

    Args:
        folder: the main student's folder (holding ``manifest.json``).
        students: category (any spelling :func:`tryon.garment.category.normalise_category` accepts) -> sub-folder
            of ``folder`` holding that category's student.

    Raises:
        DataError: a sub-folder outside ``folder`` or without a manifest; a student that does not dress the
            category it is named for; a category the main student dresses itself.
        UsageError: an unknown category name.
    """
    from tryon.garment.category import normalise_category

    root = Path(folder)
    main = Manifest.load(root)
    named: dict[str, str] = {}
    for category, sub in students.items():
        cat = normalise_category(category)
        rel = Path(sub)
        if rel.is_absolute() or ".." in rel.parts or rel == Path("."):
            raise DataError(f"the {cat} student {sub!r} must be a sub-folder of {root} (a relative path inside it)")
        if cat in main.categories:
            raise DataError(f"{root}: its own student dresses {cat}; a second {cat} student cannot be added")
        other = Manifest.load(root / rel)
        if cat not in other.categories:
            raise DataError(f"{root / rel}: its student dresses {', '.join(other.categories)}, not {cat}; export the "
                            f"{cat} student's checkpoint there")
        named[cat] = rel.as_posix()
    out = replace(main, students=named)
    out.save(root)
    return out
