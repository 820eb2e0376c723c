"""Static checks of an ONNX graph against what onnxruntime-web runs correctly on WebGPU.

Two hazards are found (see ``docs/web-runtime.md`` §2):
    * an op outside :data:`WEBGPU_OPS`, the set the try-on nets were verified with on both ORT-web WebGPU
      builds at opset 17–19 (anything else may fall back to the CPU or be untested);
    * a 3×3 Conv whose input has 6 or 9 channels: the native C++ WebGPU EP (``onnxruntime-web/webgpu``)
      miscomputes it (its NHWC vec3 path; microsoft/onnxruntime#29651), e.g. a Conv on ``cat([person, garment])``.
Also :func:`check_opset` rejects opsets where GridSample leaves WebGPU (≥ 20).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import onnx
from onnx import numpy_helper

__all__ = ["WEBGPU_OPS", "BAD_CONV_CHANNELS", "GraphIssue", "op_histogram", "find_webgpu_issues", "check_opset",
           "split_wide_concats"]

#: Ops the student may use. Shape plumbing (Shape/Gather/Unsqueeze/Reshape/Constant...) normally folds away
#: under onnxsim at a fixed size; Transpose remains for the (N, 2, H, W) → (N, H, W, 2) grid layout; Gather
#: with a constant index mirrors the inputs of the flip ensemble (``StudentConfig.flip_ensemble``; a Slice
#: with step -1 there made the following Concat fail on the WebGPU EP, which ``tests/e2e`` caught).
WEBGPU_OPS = frozenset({
    "Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Tanh", "Add", "Sub", "Mul", "Div", "Concat",
    "Resize", "GridSample", "Pad", "Slice", "ReduceMean", "Transpose", "Reshape", "Unsqueeze", "Squeeze",
    "Constant", "Identity", "Gather",
})

#: Input-channel counts of a 3×3 Conv that the native WebGPU EP gets wrong.
BAD_CONV_CHANNELS = frozenset({6, 9})


@dataclass(frozen=True)
class GraphIssue:
    """One hazard: ``kind`` is ``"op"`` or ``"conv_channels"``; ``node`` the node name; ``detail`` for people."""

    kind: str
    node: str
    detail: str


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    """Count of each op type in the main graph, most frequent first."""
    return dict(Counter(n.op_type for n in model.graph.node).most_common())


def find_webgpu_issues(model: onnx.ModelProto, allowed_ops: frozenset[str] = WEBGPU_OPS) -> list[GraphIssue]:
    """All nodes that use an op outside ``allowed_ops``, are a 3×3 Conv on 6 or 9 input channels, are a
    Concat of more than 7 inputs (onnxruntime-web's WebGPU Concat needs one storage buffer per input plus the
    output, and the default per-stage limit is 8: more inputs return garbage without an error), or are a Slice
    with a negative step (``torch.flip``; the Concat it fed failed on the WebGPU EP).

    The Conv's input channel count is read from its weight initializer (``(C_out, C_in/groups, kH, kW)``) and
    multiplied by ``group``.
    """
    inits = {i.name: i for i in model.graph.initializer}
    consts = dict(inits)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = node.attribute[0].t
    issues: list[GraphIssue] = []
    for node in model.graph.node:
        if node.op_type not in allowed_ops:
            issues.append(GraphIssue("op", node.name, f"{node.op_type} is not in the WebGPU allow-list"))
        if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            cin = w.shape[1] * group
            if tuple(w.shape[2:]) == (3, 3) and cin in BAD_CONV_CHANNELS:
                issues.append(GraphIssue("conv_channels", node.name,
                                         f"3x3 Conv on {cin} input channels (native WebGPU EP bug); pad to 8"))
        if node.op_type == "Concat" and len(node.input) > 7:
            issues.append(GraphIssue("concat_inputs", node.name,
                                     f"Concat of {len(node.input)} inputs exceeds WebGPU's 8 storage buffers"))
        if node.op_type == "Slice" and len(node.input) > 4 and node.input[4] in consts \
                and (numpy_helper.to_array(consts[node.input[4]]) < 0).any():
            issues.append(GraphIssue("slice_step", node.name, "Slice with a negative step (torch.flip) breaks the "
                                     "Concat after it on the WebGPU EP; mirror with a constant-index Gather"))
    return issues


def check_opset(model: onnx.ModelProto) -> int:
    """The default-domain opset; raises ValueError outside 17–19 (GridSample v20 falls back to CPU on WebGPU)."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if not 17 <= opset <= 19:
        raise ValueError(f"opset {opset}: use 17-19 (GridSample leaves WebGPU at >= 20, is missing below 16)")
    return opset


def split_wide_concats(model: onnx.ModelProto, max_inputs: int = 7) -> int:
    """Rewrite, in place, every Concat of more than ``max_inputs`` inputs as a tree of narrower Concats.

    onnxruntime-web's WebGPU Concat binds one storage buffer per input plus the output and WebGPU's default
    limit is 8 per shader stage, so a wider Concat returns garbage there without an error. Simplifiers fuse
    consecutive Concats back into wide ones, so this runs after simplification.

    Returns:
        the number of Concat nodes split.
    """
    graph = model.graph
    new_nodes: list[onnx.NodeProto] = []
    split = 0
    for node in graph.node:
        if node.op_type != "Concat" or len(node.input) <= max_inputs:
            new_nodes.append(node)
            continue
        split += 1
        axis = next(a.i for a in node.attribute if a.name == "axis")
        inputs, level = list(node.input), 0
        while len(inputs) > max_inputs:
            grouped = []
            for j in range(0, len(inputs), max_inputs):
                chunk = inputs[j:j + max_inputs]
                if len(chunk) == 1:
                    grouped.append(chunk[0])
                    continue
                out = f"{node.output[0]}__tree{level}_{j // max_inputs}"
                new_nodes.append(onnx.helper.make_node("Concat", chunk, [out], name=f"{node.name}__tree{level}_"
                                                       f"{j // max_inputs}", axis=axis))
                grouped.append(out)
            inputs, level = grouped, level + 1
        new_nodes.append(onnx.helper.make_node("Concat", inputs, list(node.output), name=node.name, axis=axis))
    if split:
        del graph.node[:]
        graph.node.extend(new_nodes)
    return split
