"""Quantization settings in optimum's terms: :class:`QuantConfig`, ``--preset`` and ``ort_config.json`` in and out.

The fields of :class:`QuantConfig` are those of optimum's ``optimum.onnxruntime.QuantizationConfig`` (same names,
same meaning, enum values by name: ``"QUInt8"``, ``"QDQ"``), plus four of this project's (``calibrate_method``,
``keep_grid_float``, ``keep_float_patterns``, ``keep_float_ops``) that optimum does not have. So:

- ``--preset avx512_vnni`` builds optimum's ``AutoQuantizationConfig.avx512_vnni(is_static=...)`` and takes its
  fields (:func:`preset_config`);
- ``--config ort_config.json`` reads an optimum ``ORTConfig`` file (or a folder holding one) with optimum's own
  ``ORTConfig.from_pretrained`` and takes its ``quantization`` section (:func:`load_ort_config`);
- the settings a run used are written next to its output as ``<file>.ort_config.json`` in ``ORTConfig.to_dict()``
  layout (:func:`write_ort_config`), which ``ORTConfig.from_pretrained`` / ``--config`` read back.

Importing optimum imports torch and transformers (``optimum/onnxruntime/__init__.py``), so it happens only inside
:func:`preset_config` and :func:`load_ort_config`; writing the file needs no optimum. The quantizers themselves are
onnxruntime's (``quantize_static`` / ``quantize_dynamic``), called with the arguments optimum's ``ORTQuantizer``
derives from the same fields (``optimum/onnxruntime/quantization.py``): ``ORTQuantizer`` cannot exclude the grid
path by graph walk, calibrates only from a ``datasets.Dataset``, and imports torch.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import DataError, UsageError
from tryon.processing import atomic_write_bytes
from tryon.quantize.graph import KEEP_FLOAT_PATTERNS

__all__ = ["QuantConfig", "PRESETS", "CALIBRATION_METHODS", "QUANT_TYPES", "DEFAULT_OPERATORS", "preset_config",
           "load_ort_config", "write_ort_config", "ort_config_path", "optimum_fields"]

PRESETS = ("arm64", "avx2", "avx512", "avx512_vnni", "ppc64le", "tensorrt")
"""optimum's ``AutoQuantizationConfig`` targets (``--preset``)."""

CALIBRATION_METHODS = ("MinMax", "Entropy", "Percentile")
"""onnxruntime ``CalibrationMethod`` names (``--calibration-method``)."""

QUANT_TYPES = ("QUInt8", "QInt8")
"""onnxruntime ``QuantType`` names for activations and weights."""

DEFAULT_OPERATORS: tuple[str, ...] = ("Conv", "ConvTranspose", "MatMul", "Gemm")
"""Op types quantized by default: weighted ops only. On ``afn_student_s`` (256x192, 8 real calibration pairs)
quantizing every op onnxruntime knows added 570 Q/DQ pairs around Slice/ReduceMean/Resize, made the file 17 %
larger, the max abs diff 2.3x worse and CPU inference 1.7x slower than Conv-only. A preset or config file brings
optimum's own list (every quantizable op) unless ``--op-types`` is given."""

# optimum's QuantizationConfig fields, in its order; the rest of QuantConfig is this project's.
_OPTIMUM_FIELDS = ("format", "activations_dtype", "activations_symmetric", "weights_dtype", "weights_symmetric",
                   "per_channel", "reduce_range", "nodes_to_quantize", "nodes_to_exclude", "operators_to_quantize",
                   "qdq_add_pair_to_weight", "qdq_dedicated_pair")


@dataclass(frozen=True)
class QuantConfig:
    """Settings of the int8 modes (field names and defaults as stated; optimum's where it has the field).

    Static int8 (:func:`tryon.quantize.int8.quantize_int8`) uses every field; dynamic int8
    (:func:`tryon.quantize.dynamic.quantize_dynamic_int8`) uses the weight, per-channel, reduce-range, op-type and
    exclusion fields.
    """

    format: str = "QDQ"
    """``QDQ`` (QuantizeLinear/DequantizeLinear pairs, what onnxruntime-web runs) or ``QOperator``; static only."""
    activations_dtype: str = "QUInt8"
    """``QUInt8`` (asymmetric uint8 activations: what the WASM kernels run) or ``QInt8``."""
    activations_symmetric: bool = False
    weights_dtype: str = "QInt8"
    weights_symmetric: bool = True
    per_channel: bool = True
    """One scale per output channel of each Conv weight: the student's thin layers have very uneven ranges."""
    reduce_range: bool = False
    """7-bit weights: only for AVX2/AVX512 CPUs without VNNI, where u8×s8 products can saturate."""
    nodes_to_quantize: tuple[str, ...] = ()
    """Only these nodes (empty: every node of ``operators_to_quantize``)."""
    nodes_to_exclude: tuple[str, ...] = ()
    """Node names left in float (on top of the grid path and ``keep_float_patterns``)."""
    operators_to_quantize: tuple[str, ...] = DEFAULT_OPERATORS
    """Op types to quantize (empty: every op onnxruntime's registry knows); see :data:`DEFAULT_OPERATORS`."""
    qdq_add_pair_to_weight: bool = False
    qdq_dedicated_pair: bool = False
    calibrate_method: str = "MinMax"
    """``MinMax``, ``Entropy`` or ``Percentile`` (onnxruntime ``CalibrationMethod``); static only."""
    keep_grid_float: bool = True
    """Leave GridSample and its grid path in float (see :mod:`tryon.quantize.graph`)."""
    keep_float_patterns: tuple[str, ...] = KEEP_FLOAT_PATTERNS
    """Node-name substrings left in float (default: the student's feature pyramids,
    :data:`tryon.quantize.graph.KEEP_FLOAT_PATTERNS`)."""
    keep_float_ops: tuple[str, ...] = ()
    """Op types left in float: every node of these types is excluded (and kept float32 by fp16)."""

    def __post_init__(self):
        for name in ("activations_dtype", "weights_dtype"):
            if getattr(self, name) not in QUANT_TYPES:
                raise UsageError(f"{name} {getattr(self, name)!r}: choose from {', '.join(QUANT_TYPES)}")
        if self.calibrate_method not in CALIBRATION_METHODS:
            raise UsageError(f"calibration method {self.calibrate_method!r}: choose from "
                             f"{', '.join(CALIBRATION_METHODS)}")
        if self.format not in ("QDQ", "QOperator"):
            raise UsageError(f"format {self.format!r}: choose QDQ or QOperator")


def optimum_fields(config: QuantConfig, *, is_static: bool) -> dict:
    """``config`` as the ``quantization`` section of optimum's ``ORTConfig.to_dict()`` (enums by name)."""
    d = {k: getattr(config, k) for k in _OPTIMUM_FIELDS}
    d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
    d["is_static"] = is_static
    d["mode"] = "QLinearOps" if is_static else "IntegerOps"
    if not is_static:
        d["format"] = "QOperator"  # what quantize_dynamic writes (ConvInteger / MatMulInteger)
    return d


def _from_optimum(qc, base: QuantConfig, is_static: bool | None = None) -> QuantConfig:
    """Copy the optimum ``QuantizationConfig`` fields of ``qc`` (an object or a dict) over ``base``; its ``format``
    only when ``qc`` is for the same kind (static or dynamic) as ``is_static``."""
    get = (lambda k: qc.get(k)) if isinstance(qc, dict) else (lambda k: getattr(qc, k, None))
    same_kind = is_static is None or get("is_static") is None or bool(get("is_static")) == is_static
    updates = {}
    for k in _OPTIMUM_FIELDS:
        if k == "format" and not same_kind:
            continue  # a dynamic config's QOperator is not what static int8 should write
        v = get(k)
        if v is None:
            continue
        v = getattr(v, "name", v)  # enums -> their names
        if isinstance(v, list):
            v = tuple(getattr(e, "name", e) for e in v)
        updates[k] = v
    return dataclasses.replace(base, **updates)


def _import_optimum():
    try:
        from optimum.onnxruntime import configuration
    except ImportError as exc:
        raise UsageError(f"--preset and --config need optimum: pip install 'optimum-onnx[onnxruntime]==0.1.0' "
                         f"'optimum==2.1.0' (it could not be imported: {exc})") from None
    return configuration


def preset_config(name: str, *, is_static: bool, per_channel: bool = True,
                  base: QuantConfig = QuantConfig()) -> QuantConfig:
    """``base`` with the fields of optimum's ``AutoQuantizationConfig.<name>(is_static, per_channel=...)``.

    Args:
        name: one of :data:`PRESETS`.
        is_static: static (calibrated QDQ) or dynamic quantization: the presets differ (format, op list).
        per_channel: per-channel weight scales, as the preset's argument.
        base: the project's own fields (grid path, calibration method ...) are kept from it.

    Raises:
        UsageError: an unknown preset, or optimum is not installed.
    """
    if name not in PRESETS:
        raise UsageError(f"--preset {name!r}: choose from {', '.join(PRESETS)}")
    cfg = _import_optimum()
    kwargs = {"per_channel": per_channel} if name != "tensorrt" else {}
    qc = getattr(cfg.AutoQuantizationConfig, name)(is_static=is_static, **kwargs)
    return _from_optimum(qc, base, is_static)


def load_ort_config(path: str | os.PathLike, *, base: QuantConfig = QuantConfig(),
                    is_static: bool | None = None) -> tuple[QuantConfig, dict]:
    """Read an optimum ``ORTConfig`` (an ``ort_config.json`` file or a folder holding one) with optimum itself.

    ``is_static``: the mode the settings are for; a file made for the other kind lends every field but ``format``.

    Returns:
        (``base`` with the file's ``quantization`` fields, the file's whole ``ORTConfig.to_dict()``).

    Raises:
        UsageError: optimum is not installed.
        DataError: the file is missing, is not JSON, or optimum refuses it (e.g. a dtype/mode combination it does
            not support); or it has no ``quantization`` section.
    """
    cfg = _import_optimum()
    p = Path(path)
    file = p / cfg.ORTConfig.CONFIG_NAME if p.is_dir() else p
    if not file.is_file():
        raise DataError(f"{p}: no ORTConfig file there (expected an ort_config.json or a folder holding one)")
    try:
        ort_config = cfg.ORTConfig.from_pretrained(str(file))
        ours = json.loads(file.read_text()).get("tryon") or {}
    except Exception as exc:  # transformers raises OSError/ValueError/JSONDecodeError for a bad file
        raise DataError(f"{p}: optimum cannot read this ORTConfig: {str(exc).strip()[:300]}") from None
    if ort_config.quantization is None:
        raise DataError(f"{p}: the ORTConfig has no \"quantization\" section")
    known = {f.name for f in dataclasses.fields(QuantConfig)} - set(_OPTIMUM_FIELDS)
    base = dataclasses.replace(base, **{k: tuple(v) if isinstance(v, list) else v for k, v in ours.items()
                                        if k in known})
    return _from_optimum(ort_config.quantization, base, is_static), ort_config.to_dict()


def ort_config_path(model_path: str | os.PathLike) -> Path:
    """Where the settings of a quantized file are written: ``<file stem>.ort_config.json`` beside it."""
    p = Path(model_path)
    return p.with_name(p.stem + ".ort_config.json")


def write_ort_config(path: str | os.PathLike, config: QuantConfig, *, is_static: bool, opset: int | None = None,
                     optimization_level: int | None = None) -> Path:
    """Write the settings used as an optimum ``ORTConfig`` JSON (``ORTConfig.to_dict()`` layout), atomically.

    The project's own fields go under ``"tryon"`` (optimum ignores unknown keys on reading).

    Args:
        path: the JSON file.
        config: the settings.
        is_static: static or dynamic quantization.
        opset: the model's ONNX opset.
        optimization_level: onnxruntime graph optimisation level applied before quantizing (0, 1, 2, 99).

    Raises:
        OutputError: the file cannot be written.
    """
    d = {"opset": opset, "use_external_data_format": False, "one_external_file": True,
         "optimization": {} if optimization_level is None else {"optimization_level": optimization_level},
         "quantization": optimum_fields(config, is_static=is_static),
         "tryon": {"calibrate_method": config.calibrate_method, "keep_grid_float": config.keep_grid_float,
                   "keep_float_patterns": list(config.keep_float_patterns),
                   "keep_float_ops": list(config.keep_float_ops)}}
    p = Path(path)
    atomic_write_bytes(p, (json.dumps(d, indent=2) + "\n").encode())
    return p
