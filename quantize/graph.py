"""Graph queries used to keep part of a model in float32 while the rest is converted.

The appearance-flow student warps the garment with ``GridSample``; its sampling grid is a sum of upsampled flow
fields plus a base grid. Rounding that grid to 8 bits (step 2/255 in normalised coordinates, about one pixel at
256 px) or to fp16 (step 2^-11 near ±1) moves every warped pixel, so the quantizers keep the *grid path* in float:
each GridSample node and every node that computes its grid input, up to and including the convolutions that
predict the flow (the "flow heads"). Image features keep being quantized.
"""

from __future__ import annotations

import onnx

__all__ = ["FLOW_HEAD_OPS", "grid_path_nodes", "op_histogram", "topological_sort", "remove_cast_roundtrips",
           "dedupe_node_names", "drop_duplicate_producers"]

FLOW_HEAD_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm"})
"""Ops where the walk up from a grid stops (they are the learned flow predictors, included themselves)."""


KEEP_FLOAT_PATTERNS: tuple[str, ...] = ("_encoder/", "/corr.")
"""Node-name substrings that int8 modes leave in float by default: the AFN student's two feature pyramids
(``person_encoder``, ``garment_encoder``), whose features feed the correlation. Measured on the default student
(256x192, 16 calibration and 6 evaluation pairs, static QDQ): int8 everywhere gave 28.9 dB PSNR of the try-on
and grid errors up to 0.33 (≈ 30 px); float pyramids 45.1 dB and 0.01, for 1.81 MB instead of 1.37 MB.
Keeping the flow heads (28.9 dB) or the generator (28.8 dB) float did not help. The correlation itself
(``flow/corr.*``) stays float too: its channel means are 1×1 Convs (``tryon.models.layers.correlation``), which
int8 would otherwise quantize, where they used to be ReduceMeans that it never touched."""


def matching_nodes(model: onnx.ModelProto, patterns: tuple[str, ...]) -> list[str]:
    """Names of the nodes whose name contains any of ``patterns``."""
    return [n.name for n in model.graph.node if n.name and any(p in n.name for p in patterns)]


def grid_path_nodes(model: onnx.ModelProto, *, include_flow_heads: bool = True) -> list[str]:
    """Names of the nodes on the sampling-grid path of every ``GridSample`` in the main graph.

    Walks from each GridSample's grid input (input 1) to its producers, transitively, through every op except
    those in :data:`FLOW_HEAD_OPS`, where it stops (adding that node when ``include_flow_heads``). Graph inputs and
    initializers end the walk. Unnamed nodes are given names first (``onnx`` quantizers select nodes by name), so
    the model is modified in place when it has unnamed nodes.

    Returns:
        Node names in graph order; empty when the model has no GridSample.
    """
    nodes = model.graph.node
    for i, n in enumerate(nodes):
        if not n.name:
            n.name = f"{n.op_type}_{i}"
    producer = {out: n for n in nodes for out in n.output}
    selected: set[str] = set()
    stack: list[str] = []
    for n in nodes:
        if n.op_type == "GridSample":
            selected.add(n.name)
            if len(n.input) > 1:
                stack.append(n.input[1])
    seen: set[str] = set()
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        p = producer.get(t)
        if p is None:
            continue
        if p.op_type in FLOW_HEAD_OPS:
            if include_flow_heads:
                selected.add(p.name)
            continue
        selected.add(p.name)
        stack.extend(x for x in p.input if x)
    return [n.name for n in nodes if n.name in selected]


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    """Count of nodes per op type in the main graph, sorted by op name."""
    counts: dict[str, int] = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return dict(sorted(counts.items()))


def topological_sort(model: onnx.ModelProto) -> onnx.ModelProto:
    """Reorder the main graph's nodes so that each comes after the producers of its inputs (in place).

    ``onnxruntime.transformers.float16`` appends the Cast nodes it adds for ``keep_io_types`` at the end of the
    node list; onnxruntime does not mind, but the ONNX checker (and some tools) require topological order.
    Stable: nodes already in order keep their relative order.

    Raises:
        ValueError: the graph has a cycle or an input that nothing produces.
    """
    g = model.graph
    available = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    pending = list(g.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        rest = []
        for n in pending:
            # Inputs of subgraphs (If/Loop bodies) may come from the outer scope: only direct inputs are checked.
            if all(x in available for x in n.input):
                ordered.append(n)
                available.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            missing = sorted({x for n in rest for x in n.input if x not in available})[:5]
            raise ValueError(f"cannot sort the graph: inputs never produced: {missing}")
        pending = rest
    del g.node[:]
    g.node.extend(ordered)
    return model


def _cast_to(node: onnx.NodeProto) -> int | None:
    return next((a.i for a in node.attribute if a.name == "to"), None) if node.op_type == "Cast" else None


def remove_cast_roundtrips(model: onnx.ModelProto) -> int:
    """Drop ``Cast(to=float16)`` -> ``Cast(to=float)`` pairs, feeding the float32 tensor through instead (in place).

    ``onnxruntime.transformers.float16`` wraps *each* blocked node in its own Cast pair, so a chain of blocked
    nodes (the grid path) still round-trips every intermediate tensor through fp16, and a float32 graph input
    consumed by a blocked node goes float32 -> fp16 -> float32. Removing the pairs keeps the chain in float32
    end to end and is exact. A second Cast whose output is a graph output becomes an ``Identity``.

    Returns:
        The number of ``Cast(to=float)`` nodes removed or turned into Identity.
    """
    g = model.graph
    f32, f16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    producer = {o: n for n in g.node for o in n.output}
    known = {vi.name: vi.type.tensor_type.elem_type for vi in list(g.input) + list(g.value_info) + list(g.output)}
    graph_outputs = {o.name for o in g.output}
    rename: dict[str, str] = {}
    drop: set[int] = set()
    changed = 0
    for n in g.node:
        if _cast_to(n) != f32:
            continue
        b = producer.get(n.input[0])
        if b is None or _cast_to(b) != f16 or known.get(b.input[0], f32) != f32:
            continue
        changed += 1
        if n.output[0] in graph_outputs:
            n.op_type = "Identity"
            del n.attribute[:]
            n.input[0] = b.input[0]
        else:
            rename[n.output[0]] = b.input[0]
            drop.add(id(n))
    if not changed:
        return 0
    kept = [n for n in g.node if id(n) not in drop]
    for n in kept:
        for i, x in enumerate(n.input):
            if x in rename:
                n.input[i] = rename[x]
    # A first Cast nobody reads any more goes too.
    used = {x for n in kept for x in n.input} | graph_outputs
    kept = [n for n in kept if _cast_to(n) != f16 or any(o in used for o in n.output)]
    alive = {o for n in kept for o in n.output}
    del g.node[:]
    g.node.extend(kept)
    stale = [vi for vi in g.value_info if vi.name not in alive]
    for vi in stale:
        g.value_info.remove(vi)
    return changed


def dedupe_node_names(model: onnx.ModelProto) -> int:
    """Give every node a unique name (suffix ``_1``, ``_2`` …), in place; returns how many were renamed."""
    seen: set[str] = set()
    renamed = 0
    for n in model.graph.node:
        if n.name in seen:
            k = 1
            while f"{n.name}_{k}" in seen:
                k += 1
            n.name = f"{n.name}_{k}"
            renamed += 1
        seen.add(n.name)
    return renamed


def drop_duplicate_producers(model: onnx.ModelProto) -> int:
    """Remove nodes that recompute a tensor an identical earlier node already produces (in place).

    ``onnxruntime.transformers.float16`` emits one ``Cast`` per consumer when an fp16 tensor feeds several blocked
    nodes, all writing the same output name, which onnxruntime rejects ("Duplicate definition of name").

    Returns:
        The number of nodes removed.

    Raises:
        ValueError: two *different* nodes write the same tensor.
    """
    g = model.graph
    first: dict[str, onnx.NodeProto] = {}
    kept: list[onnx.NodeProto] = []
    removed = 0
    for n in g.node:
        clash = [o for o in n.output if o in first]
        if clash:
            p = first[clash[0]]
            same = (p.op_type == n.op_type and list(p.input) == list(n.input) and list(p.output) == list(n.output)
                    and [a.SerializeToString() for a in p.attribute] == [a.SerializeToString() for a in n.attribute])
            if not same:
                raise ValueError(f"nodes {p.name!r} and {n.name!r} both write {clash[0]!r}")
            removed += 1
            continue
        for o in n.output:
            first[o] = n
        kept.append(n)
    if removed:
        del g.node[:]
        g.node.extend(kept)
    return removed
