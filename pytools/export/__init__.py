"""torch → ONNX export with simplification, parity check against PyTorch and a manifest.json.

Imports torch; the CLI imports this package inside its handler only.
"""

from tryon.export.graph_checks import WEBGPU_OPS, GraphIssue, find_webgpu_issues, op_histogram
from tryon.export.onnx_export import ExportResult, checkpoint_categories, export_model, model_from_checkpoint, parity
from tryon.export.sample_inputs import photo_inputs, procedural_inputs

__all__ = [
    "ExportResult", "checkpoint_categories", "export_model", "model_from_checkpoint", "parity", "WEBGPU_OPS", "GraphIssue",
    "find_webgpu_issues", "op_histogram", "photo_inputs", "procedural_inputs",
]
