"""A stand-in student for tests, demos and load tests: exactly the student's ONNX I/O, no training.

``write_stand_in_model(folder)`` writes ``model.onnx`` + ``manifest.json`` for a graph that warps the garment
with a fixed grid (identity plus an optional shift) and composes it over the person with the warped garment
mask — the same inputs, outputs, shapes and value ranges as the exported student, so the server and the widget
can be exercised before (and without) real weights. Built with ``onnx.helper`` (no torch).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tryon.manifest import FileEntry, Manifest, TensorSpec

__all__ = ["write_stand_in_model", "STAND_IN_NAME"]

STAND_IN_NAME = "stand_in_student"


def _identity_grid(h: int, w: int, shift: tuple[float, float]) -> np.ndarray:
    gx = (2.0 * np.arange(w, dtype=np.float32) + 1.0) / w - 1.0 + np.float32(2.0 * shift[0] / w)
    gy = (2.0 * np.arange(h, dtype=np.float32) + 1.0) / h - 1.0 + np.float32(2.0 * shift[1] / h)
    return np.stack(np.meshgrid(gx, gy), axis=-1)[None].astype(np.float32)  # (1, h, w, 2)


def write_stand_in_model(folder: str | os.PathLike, size: tuple[int, int] = (256, 192), *,
                         shift: tuple[float, float] = (0.0, 0.0), dynamic_batch: bool = False,
                         version: str = "0.0.0-test") -> Manifest:
    """Write a stand-in student (``model.onnx`` + ``manifest.json``) into ``folder``.

    Graph: ``grid`` = identity grid shifted by ``shift`` (model pixels, x then y); ``warped_garment`` =
    GridSample(garment, grid); ``composition_mask`` = GridSample(garment_mask, grid);
    ``tryon = person + composition_mask * (warped_garment - person)``. Opset 17, ``align_corners=0``.

    Args:
        folder: output folder (created).
        size: (height, width) of the model input.
        shift: grid shift in model pixels: the garment appears moved by minus this.
        dynamic_batch: give the inputs a symbolic batch axis (exercises stacked micro-batches).
        version: the manifest's version string.

    Returns:
        The manifest written.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, w = size
    batch: int | str = "batch" if dynamic_batch else 1
    grid = _identity_grid(h, w, shift)
    if dynamic_batch:
        grid_nodes = [helper.make_node("Shape", ["person"], ["pshape"]),
                      helper.make_node("Slice", ["pshape", "zero", "one"], ["n"]),
                      helper.make_node("Concat", ["n", "grid_tail"], ["grid_shape"], axis=0),
                      helper.make_node("Expand", ["grid_const", "grid_shape"], ["grid"])]
        inits = [numpy_helper.from_array(grid, "grid_const"),
                 numpy_helper.from_array(np.array([0], np.int64), "zero"),
                 numpy_helper.from_array(np.array([1], np.int64), "one"),
                 numpy_helper.from_array(np.array([h, w, 2], np.int64), "grid_tail")]
    else:
        grid_nodes = [helper.make_node("Identity", ["grid_const"], ["grid"])]
        inits = [numpy_helper.from_array(grid, "grid_const")]
    nodes = grid_nodes + [
        helper.make_node("GridSample", ["garment", "grid"], ["warped_garment"], align_corners=0, mode="bilinear",
                         padding_mode="border"),
        helper.make_node("GridSample", ["garment_mask", "grid"], ["composition_mask"], align_corners=0,
                         mode="bilinear", padding_mode="zeros"),
        helper.make_node("Sub", ["warped_garment", "person"], ["delta"]),
        helper.make_node("Mul", ["composition_mask", "delta"], ["masked_delta"]),
        helper.make_node("Add", ["person", "masked_delta"], ["tryon"]),
    ]

    def vi(name: str, shape: list[int | str]) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    graph = helper.make_graph(
        nodes, STAND_IN_NAME,
        [vi("person", [batch, 3, h, w]), vi("garment", [batch, 3, h, w]), vi("garment_mask", [batch, 1, h, w])],
        [vi("tryon", [batch, 3, h, w]), vi("warped_garment", [batch, 3, h, w]), vi("grid", [batch, h, w, 2]),
         vi("composition_mask", [batch, 1, h, w])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tryon.server.testing")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out / "model.onnx"))
    img = (-1.0, 1.0)
    manifest = Manifest(
        name=STAND_IN_NAME, version=version,
        inputs=(TensorSpec("person", (1, 3, h, w), value_range=img, description="person photo, letterboxed"),
                TensorSpec("garment", (1, 3, h, w), value_range=img, description="in-shop garment, letterboxed"),
                TensorSpec("garment_mask", (1, 1, h, w), value_range=(0.0, 1.0), description="garment mask")),
        outputs=(TensorSpec("tryon", (1, 3, h, w), value_range=img),
                 TensorSpec("warped_garment", (1, 3, h, w), value_range=img),
                 TensorSpec("grid", (1, h, w, 2), value_range=(-1.0, 1.0), layout="NHWC",
                            description="grid_sample grid, align_corners=False, x then y"),
                 TensorSpec("composition_mask", (1, 1, h, w), value_range=(0.0, 1.0))),
        files=(FileEntry.from_path(out, "model.onnx", "fp32"),), opset=17,
        extra={"note": "stand-in graph for tests (tryon.server.testing), not a trained model"},
    )
    manifest.save(out)
    return manifest
