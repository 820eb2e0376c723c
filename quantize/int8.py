"""Static int8 quantization (QDQ by default), calibrated on sample inputs: the small download for WASM.

Recipe (onnxruntime ``docs/performance/model-optimizations/quantization.md``; ``docs/web-runtime.md``
§3): ``quant_pre_process`` (shape inference + graph optimisation) first, then ``quantize_static`` with QDQ nodes,
**uint8 activations** (asymmetric, what the WASM kernels run), int8 per-channel symmetric weights, MinMax
calibration by default over the samples (real try-on pairs, ``.npz`` arrays or random inputs, see
:mod:`tryon.quantize.inputs`). The sampling-grid path stays float (:func:`tryon.quantize.graph.grid_path_nodes`).
int8 brings no WebGPU benefit (every quant op falls back to the CPU there), so this artifact is for the WASM
backend only.

The settings are a :class:`~tryon.quantize.config.QuantConfig` (optimum's ``QuantizationConfig`` fields, passed to
onnxruntime's ``quantize_static`` as optimum's ``ORTQuantizer`` would pass them); ``ORTQuantizer`` itself is not
used: it calibrates only from a ``datasets.Dataset``, cannot keep a graph walk (the grid path) in float, and
imports torch and transformers, which this package must not.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from tryon.errors import DataError
from tryon.quantize.config import QuantConfig
from tryon.quantize.graph import grid_path_nodes, matching_nodes
from tryon.quantize.onnx_io import ensure_not_input, pre_process, input_specs, load_model, save_model

__all__ = ["QuantConfig", "StaticQuantConfig", "SampleReader", "excluded_nodes", "quantize_int8"]

log = logging.getLogger(__name__)


StaticQuantConfig = QuantConfig
"""The former name of :class:`tryon.quantize.config.QuantConfig`."""


def excluded_nodes(model: onnx.ModelProto, config: QuantConfig) -> list[str]:
    """Names of the nodes ``config`` keeps in float on ``model``: ``nodes_to_exclude``, the nodes matching
    ``keep_float_patterns``, every node of a ``keep_float_ops`` type, and the grid path when ``keep_grid_float``
    (which names unnamed nodes, so ``model`` may be modified in place)."""
    exclude = list(config.nodes_to_exclude)
    exclude += matching_nodes(model, config.keep_float_patterns)
    if config.keep_grid_float:
        exclude += grid_path_nodes(model)
    ops = set(config.keep_float_ops)
    exclude += [n.name for n in model.graph.node if n.op_type in ops and n.name]
    return list(dict.fromkeys(exclude))


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
                  config: QuantConfig | None = None) -> Path:
    """Static QDQ int8 quantization of ``src`` calibrated on ``samples``; written atomically to ``dst``.

    Args:
        src: the fp32 model.
        dst: output file; must not be ``src``.
        samples: feed dicts (input name -> float32 array of the model's input shape), e.g. from
            :func:`tryon.quantize.calibration.load_samples`.
        config: quantization settings (default :class:`~tryon.quantize.config.QuantConfig`).

    Returns:
        ``dst``.

    Raises:
        DataError: ``src`` is not ONNX, ``samples`` is empty, or the samples do not match the model's inputs.
        OutputError: ``dst`` is ``src`` or cannot be written.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    config = config or QuantConfig()
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
        exclude = excluded_nodes(pre_model, config)
        save_model(pre_model, pre)  # the grid walk may have named unnamed nodes
        log.info("int8: %d nodes kept in float", len(exclude))
        out = Path(tmp) / "int8.onnx"
        # The arguments optimum's ORTQuantizer.quantize derives from its QuantizationConfig, same names.
        quantize_static(
            str(pre), str(out), SampleReader(samples), quant_format=QuantFormat[config.format],
            per_channel=config.per_channel, reduce_range=config.reduce_range,
            activation_type=QuantType[config.activations_dtype], weight_type=QuantType[config.weights_dtype],
            nodes_to_quantize=list(config.nodes_to_quantize) or None, nodes_to_exclude=exclude or None,
            op_types_to_quantize=list(config.operators_to_quantize) or None,
            calibrate_method=CalibrationMethod[config.calibrate_method],
            extra_options={"ActivationSymmetric": config.activations_symmetric,
                           "WeightSymmetric": config.weights_symmetric,
                           "AddQDQPairToWeight": config.qdq_add_pair_to_weight,
                           "DedicatedQDQPair": config.qdq_dedicated_pair})
        return save_model(load_model(out), dst)
