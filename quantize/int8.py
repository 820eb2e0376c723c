"""Static int8 quantization in QDQ format, calibrated on real try-on inputs: the small download for WASM.

Recipe (onnxruntime ``docs/performance/model-optimizations/quantization.md``; ``docs/web-runtime.md``
§3): ``quant_pre_process`` (shape inference + graph optimisation) first, then ``quantize_static`` with QDQ nodes,
**uint8 activations** (asymmetric, what the WASM kernels run), int8 per-channel symmetric weights, MinMax
calibration over preprocessed real pairs (:mod:`tryon.quantize.calibration`). The sampling-grid path stays float
(:func:`tryon.quantize.graph.grid_path_nodes`). int8 brings no WebGPU benefit (every quant op falls back to the
CPU there), so this artifact is for the WASM backend only.

The settings mirror optimum's ``QuantizationConfig`` fields (``is_static``, ``format``, ``activations_dtype``,
``weights_dtype``, ``per_channel``, ``reduce_range``, ``nodes_to_exclude``); optimum's ``ORTQuantizer`` itself is
not used because importing it imports torch and transformers (``optimum/onnxruntime/quantization.py`` imports
``modeling_ort``), which this package must not.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tryon.errors import DataError
from tryon.quantize.graph import KEEP_FLOAT_PATTERNS, grid_path_nodes, matching_nodes
from tryon.quantize.onnx_io import ensure_not_input, pre_process, input_specs, load_model, save_model

__all__ = ["StaticQuantConfig", "SampleReader", "quantize_int8"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaticQuantConfig:
    """Settings of :func:`quantize_int8` (field names follow optimum's ``QuantizationConfig``)."""

    activations_dtype: str = "QUInt8"
    """``QUInt8`` for WASM (asymmetric uint8 activations) or ``QInt8``."""
    weights_dtype: str = "QInt8"
    per_channel: bool = True
    """One scale per output channel of each Conv weight: the student's thin layers have very uneven ranges."""
    reduce_range: bool = False
    """7-bit weights: only for AVX2/AVX512 servers without VNNI, where u8×s8 products can saturate."""
    calibrate_method: str = "MinMax"
    """``MinMax``, ``Entropy`` or ``Percentile`` (onnxruntime ``CalibrationMethod``)."""
    keep_grid_float: bool = True
    """Leave GridSample and its grid path in float (see :mod:`tryon.quantize.graph`)."""
    nodes_to_exclude: tuple[str, ...] = field(default_factory=tuple)
    """Further node names to leave in float."""
    keep_float_patterns: tuple[str, ...] = KEEP_FLOAT_PATTERNS
    """Node-name substrings left in float (default: the student's feature pyramids, see
    :data:`tryon.quantize.graph.KEEP_FLOAT_PATTERNS`)."""
    operators_to_quantize: tuple[str, ...] | None = ("Conv", "ConvTranspose", "MatMul", "Gemm")
    """Op types to quantize (``None``: every op onnxruntime's QDQ registry knows). Weighted ops only by default:
    on ``afn_student_s`` (256x192, 8 real calibration pairs) quantizing every op added 570 Q/DQ pairs around
    Slice/ReduceMean/Resize, made the file 17 % larger, the max abs diff 2.3x worse and CPU inference 1.7x
    slower than Conv-only."""


class SampleReader:
    """An onnxruntime ``CalibrationDataReader`` over a list of feed dicts (each fed once)."""

    def __init__(self, samples: Sequence[dict[str, np.ndarray]]):
        self._samples = list(samples)
        self._it = iter(self._samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next feed dict, or ``None`` when all were given."""
        return next(self._it, None)

    def rewind(self) -> None:
        """Start again from the first sample."""
        self._it = iter(self._samples)


def quantize_int8(src: str | os.PathLike, dst: str | os.PathLike, samples: Sequence[dict[str, np.ndarray]],
                  config: StaticQuantConfig = StaticQuantConfig()) -> Path:
    """Static QDQ int8 quantization of ``src`` calibrated on ``samples``; written atomically to ``dst``.

    Args:
        src: the fp32 model.
        dst: output file; must not be ``src``.
        samples: feed dicts (input name -> float32 array of the model's input shape), e.g. from
            :func:`tryon.quantize.calibration.load_samples`.
        config: quantization settings.

    Returns:
        ``dst``.

    Raises:
        DataError: ``src`` is not ONNX, ``samples`` is empty, or the samples do not match the model's inputs.
        OutputError: ``dst`` is ``src`` or cannot be written.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    ensure_not_input(dst, src)
    model = load_model(src)
    if not samples:
        raise DataError("cannot calibrate: no calibration samples")
    specs = {s.name: s.shape for s in input_specs(model)}
    for i, s in enumerate(samples):
        if set(s) != set(specs):
            raise DataError(f"cannot calibrate: sample {i} has inputs {sorted(s)}, the model takes {sorted(specs)}")
        for k, shape in specs.items():
            if len(s[k].shape) != len(shape) or any(isinstance(d, int) and d > 0 and d != n
                                                    for d, n in zip(shape, s[k].shape, strict=True)):
                raise DataError(f"cannot calibrate: sample {i} input {k!r} is {list(s[k].shape)}, the model takes "
                                f"{list(shape)}")
    with tempfile.TemporaryDirectory(prefix="tryon-int8-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        # Exclusions are found on the pre-processed graph: its node names are the ones the quantizer sees.
        pre_process(model, pre)
        pre_model = load_model(pre)
        exclude = list(config.nodes_to_exclude)
        exclude += matching_nodes(pre_model, config.keep_float_patterns)
        if config.keep_grid_float:
            exclude += grid_path_nodes(pre_model)
            save_model(pre_model, pre)  # grid_path_nodes may have named unnamed nodes
        log.info("int8: %d nodes kept in float", len(exclude))
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(pre), str(out), SampleReader(samples), quant_format=QuantFormat.QDQ,
            per_channel=config.per_channel, reduce_range=config.reduce_range,
            activation_type=QuantType[config.activations_dtype], weight_type=QuantType[config.weights_dtype],
            nodes_to_exclude=exclude or None, op_types_to_quantize=list(config.operators_to_quantize or []) or None,
            calibrate_method=CalibrationMethod[config.calibrate_method],
            extra_options={"ActivationSymmetric": config.activations_dtype == "QInt8", "WeightSymmetric": True})
        return save_model(load_model(out), dst)
