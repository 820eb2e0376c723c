"""Dynamic int8 quantization (8-bit weights, activations quantized at run time): needs no calibration data.

``onnxruntime.quantization.quantize_dynamic`` turns Conv/MatMul into ``DynamicQuantizeLinear`` +
``ConvInteger``/``MatMulInteger``. onnxruntime advises static quantization for CNNs; dynamic is offered as the
calibration-free size reduction. Weights are uint8 when the model has convolutions, as transformers.js' quantize
script does: uint8 x uint8 is the long-standing ``ConvInteger`` kernel (onnxruntime 1.31 on x86 also runs int8
weights; older and web builds are not guaranteed to). Web caveat (``docs/web-runtime.md`` §3):
correct on WASM; one JSEP (WebGPU) build corrupted a CPU-fallback MatMulInteger output on a try-on net, so this
file is for the WASM backend.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from pathlib import Path

import onnx

from tryon.quantize.config import QuantConfig
from tryon.quantize.onnx_io import ensure_not_input, pre_process, load_model, save_model

__all__ = ["dynamic_defaults", "quantize_dynamic_int8"]

log = logging.getLogger(__name__)


def dynamic_defaults(model: onnx.ModelProto, *, keep_grid_float: bool = True) -> QuantConfig:
    """The default settings of dynamic int8 for ``model``: per-tensor weights, uint8 when the model has
    convolutions (``ConvInteger``, see the module docstring), else int8; the other fields as
    :class:`~tryon.quantize.config.QuantConfig`."""
    has_conv = any(n.op_type in ("Conv", "ConvTranspose") for n in model.graph.node)
    return QuantConfig(weights_dtype="QUInt8" if has_conv else "QInt8", per_channel=False,
                       keep_grid_float=keep_grid_float)


def quantize_dynamic_int8(src: str | os.PathLike, dst: str | os.PathLike, *, per_channel: bool | None = None,
                          keep_grid_float: bool | None = None, keep_float_patterns: tuple[str, ...] | None = None,
                          config: QuantConfig | None = None) -> Path:
    """Dynamic int8 quantization of ``src``, written atomically to ``dst``.

    Args:
        src: the fp32 model.
        dst: output file; must not be ``src``.
        per_channel: per-output-channel weight scales (default: ``config``'s, else off).
        keep_grid_float: leave the flow heads feeding GridSample in float (default: ``config``'s, else on).
        keep_float_patterns: node-name substrings left in float (default: ``config``'s, else the student's feature
            pyramids, :data:`tryon.quantize.graph.KEEP_FLOAT_PATTERNS`).
        config: the settings (:class:`~tryon.quantize.config.QuantConfig`; used: ``weights_dtype``,
            ``per_channel``, ``reduce_range``, ``operators_to_quantize``, ``nodes_to_quantize`` and the
            exclusions). Default: :func:`dynamic_defaults`.

    Returns:
        ``dst``.

    Raises:
        DataError: ``src`` is not an ONNX model.
        OutputError: ``dst`` is ``src`` or cannot be written.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from tryon.quantize.int8 import excluded_nodes

    ensure_not_input(dst, src)
    model = load_model(src)
    if config is None:
        config = dynamic_defaults(model)
    overrides = {k: v for k, v in (("per_channel", per_channel), ("keep_grid_float", keep_grid_float),
                                   ("keep_float_patterns", keep_float_patterns)) if v is not None}
    config = dataclasses.replace(config, **overrides)
    with tempfile.TemporaryDirectory(prefix="tryon-dyn-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        pre_process(model, pre)
        pre_model = load_model(pre)
        exclude = excluded_nodes(pre_model, config)
        save_model(pre_model, pre)
        out = Path(tmp) / "dyn.onnx"
        quantize_dynamic(str(pre), str(out), per_channel=config.per_channel, reduce_range=config.reduce_range,
                         weight_type=QuantType[config.weights_dtype],
                         op_types_to_quantize=list(config.operators_to_quantize) or None,
                         nodes_to_quantize=list(config.nodes_to_quantize) or None,
                         nodes_to_exclude=exclude or None)
        return save_model(load_model(out), dst)
