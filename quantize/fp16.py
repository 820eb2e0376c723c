"""fp16 conversion with float32 inputs and outputs, for the WebGPU ``shader-f16`` path.

Uses ``onnxruntime.transformers.float16.convert_float_to_float16`` with ``keep_io_types=True``: the page keeps
feeding float32 tensors and Cast nodes are inserted at the edges. ``onnxconverter_common.float16`` is NOT used:
it leaves a Concat that mixes a GridSample output with other branches typed half/float and the model no longer
loads (``docs/web-runtime.md`` §3). Nodes on the sampling-grid path can be kept in float32
(``node_block_list``), see :mod:`tryon.quantize.graph`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tryon.quantize.graph import (dedupe_node_names, drop_duplicate_producers, grid_path_nodes,
                                  remove_cast_roundtrips, topological_sort)
from tryon.quantize.onnx_io import ensure_not_input, load_model, save_model

__all__ = ["convert_fp16"]

log = logging.getLogger(__name__)


def convert_fp16(src: str | os.PathLike, dst: str | os.PathLike, *, keep_grid_float: bool = True,
                 op_block_list: list[str] | None = None) -> Path:
    """Convert an fp32 ONNX model to fp16 weights and activations, keeping float32 I/O.

    Args:
        src: the fp32 model.
        dst: the file to write (atomically); must not be ``src``.
        keep_grid_float: keep GridSample and its grid path (flow heads included) in float32.
        op_block_list: op types to keep in float32 on top of onnxruntime's default block list.

    Returns:
        ``dst``.

    Raises:
        DataError: ``src`` is not an ONNX model.
        OutputError: ``dst`` is ``src`` or cannot be written.
    """
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    ensure_not_input(dst, src)
    model = load_model(src)
    nodes = grid_path_nodes(model) if keep_grid_float else []
    if nodes:
        log.info("fp16: keeping %d grid-path nodes in float32", len(nodes))
    blocked = list(DEFAULT_OP_BLOCK_LIST) + list(op_block_list or [])
    out = convert_float_to_float16(model, keep_io_types=True, op_block_list=blocked, node_block_list=nodes or None)
    # The converter wraps each blocked node in its own Cast pair (one per consumer, same output names): drop the
    # duplicates, then the fp16 round trips between consecutive blocked nodes.
    drop_duplicate_producers(out)
    removed = remove_cast_roundtrips(out)
    dedupe_node_names(out)
    log.debug("fp16: removed %d fp16 round trips", removed)
    return save_model(topological_sort(out), dst)
