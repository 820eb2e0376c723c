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

import logging
import os
import tempfile
from pathlib import Path

from tryon.quantize.graph import KEEP_FLOAT_PATTERNS, grid_path_nodes, matching_nodes
from tryon.quantize.onnx_io import ensure_not_input, pre_process, load_model, save_model

__all__ = ["quantize_dynamic_int8"]

log = logging.getLogger(__name__)


def quantize_dynamic_int8(src: str | os.PathLike, dst: str | os.PathLike, *, per_channel: bool = False,
                          keep_grid_float: bool = True,
                          keep_float_patterns: tuple[str, ...] = KEEP_FLOAT_PATTERNS) -> Path:
    """Dynamic int8 quantization of ``src``, written atomically to ``dst``.

    Args:
        src: the fp32 model.
        dst: output file; must not be ``src``.
        per_channel: per-output-channel weight scales.
        keep_grid_float: leave the flow heads feeding GridSample in float.
        keep_float_patterns: node-name substrings left in float (default: the student's feature pyramids, see
            :data:`tryon.quantize.graph.KEEP_FLOAT_PATTERNS`).

    Returns:
        ``dst``.

    Raises:
        DataError: ``src`` is not an ONNX model.
        OutputError: ``dst`` is ``src`` or cannot be written.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ensure_not_input(dst, src)
    model = load_model(src)
    has_conv = any(n.op_type in ("Conv", "ConvTranspose") for n in model.graph.node)
    weight_type = QuantType.QUInt8 if has_conv else QuantType.QInt8
    with tempfile.TemporaryDirectory(prefix="tryon-dyn-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        pre_process(model, pre)
        pre_model = load_model(pre)
        exclude = grid_path_nodes(pre_model) if keep_grid_float else []
        exclude += matching_nodes(pre_model, keep_float_patterns)
        save_model(pre_model, pre)
        out = Path(tmp) / "dyn.onnx"
        quantize_dynamic(str(pre), str(out), per_channel=per_channel, weight_type=weight_type,
                         nodes_to_exclude=exclude or None)
        return save_model(load_model(out), dst)
