"""ONNX in, ONNX out: fp16 and int8 variants of the exported student, checked against fp32.

Modules: :mod:`~tryon.quantize.fp16` (WebGPU shader-f16), :mod:`~tryon.quantize.int8` (static QDQ calibrated on
real inputs, for WASM), :mod:`~tryon.quantize.dynamic` (calibration-free int8), :mod:`~tryon.quantize.gate`
(max abs diff / PSNR vs fp32, :class:`~tryon.quantize.gate.QualityGateError`), :mod:`~tryon.quantize.report`
(table + JSON), :mod:`~tryon.quantize.pipeline` (all of it behind ``tryon quantize``). Imports onnx and
onnxruntime, never torch.
"""

from tryon.quantize.gate import QualityGateError, check_gate
from tryon.quantize.pipeline import MODES, OUTPUT_SUFFIX, output_path, quantize_model
from tryon.quantize.report import QuantizeReport, render_table, write_json

__all__ = ["MODES", "OUTPUT_SUFFIX", "QualityGateError", "QuantizeReport", "check_gate", "output_path",
           "quantize_model", "render_table", "write_json"]
