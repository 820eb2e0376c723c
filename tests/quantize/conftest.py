"""Fixtures for the quantizer tests: a tiny try-on-shaped ONNX model and a small folder of synthetic photos.

The model has the student's I/O (person, garment, garment_mask -> tryon, warped_garment, grid, composition_mask)
and the structure that breaks ``onnxconverter_common``'s fp16 converter: a Concat mixing GridSample outputs
with a graph input. It is built with ``onnx.helper`` (no torch), 64x48, random weights from a fixed seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tryon.processing import save_image

H, W = 64, 48


def _conv(name: str, x: str, cin: int, cout: int, rng: np.random.Generator, inits: list) -> onnx.NodeProto:
    w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))).astype(np.float32)
    b = (rng.standard_normal(cout) * 0.05).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"{name}.w"), numpy_helper.from_array(b, f"{name}.b")]
    return helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [name], name=name, pads=[1, 1, 1, 1])


def build_tiny_student(h: int = H, w: int = W, ch: int = 32, seed: int = 0) -> onnx.ModelProto:
    """The tiny student-shaped model (see the module docstring)."""
    rng = np.random.default_rng(seed)
    inits: list = []
    ys, xs = np.meshgrid((np.arange(h) + 0.5) / h * 2 - 1, (np.arange(w) + 0.5) / w * 2 - 1, indexing="ij")
    base = np.stack([xs, ys], -1)[None].astype(np.float32)  # (1, H, W, 2) identity grid, x then y
    inits += [numpy_helper.from_array(base, "base_grid"),
              numpy_helper.from_array(np.array(0.1, np.float32), "flow_scale"),
              numpy_helper.from_array(np.array(1.0, np.float32), "one")]
    n = helper.make_node
    nodes = [
        n("Concat", ["person", "garment", "garment_mask"], ["x"], axis=1),
        _conv("c1", "x", 7, ch, rng, inits), n("Relu", ["c1"], ["r1"]),
        _conv("c2", "r1", ch, ch, rng, inits), n("Relu", ["c2"], ["r2"]),
        _conv("flow_head", "r2", ch, 2, rng, inits),
        n("Tanh", ["flow_head"], ["ft"]), n("Mul", ["ft", "flow_scale"], ["fs"]),
        n("Transpose", ["fs"], ["flow_nhwc"], perm=[0, 2, 3, 1]),  # (1, H, W, 2)
        n("Add", ["flow_nhwc", "base_grid"], ["grid"]),
        n("GridSample", ["garment", "grid"], ["warped_garment"], align_corners=0, mode="bilinear",
          padding_mode="border"),
        n("GridSample", ["garment_mask", "grid"], ["warped_mask"], align_corners=0, mode="bilinear",
          padding_mode="zeros"),
        n("Concat", ["person", "warped_garment", "warped_mask"], ["y"], axis=1),
        _conv("c3", "y", 7, ch, rng, inits), n("Relu", ["c3"], ["r3"]),
        _conv("c4", "r3", ch, ch, rng, inits), n("Relu", ["c4"], ["r4"]),
        _conv("comp_head", "r4", ch, 1, rng, inits), n("Sigmoid", ["comp_head"], ["composition_mask"]),
        _conv("render_head", "r4", ch, 3, rng, inits), n("Tanh", ["render_head"], ["render"]),
        n("Mul", ["composition_mask", "warped_garment"], ["a"]),
        n("Sub", ["one", "composition_mask"], ["inv"]), n("Mul", ["inv", "render"], ["b"]),
        n("Add", ["a", "b"], ["tryon"]),
    ]
    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("person", f, [1, 3, h, w]),
              helper.make_tensor_value_info("garment", f, [1, 3, h, w]),
              helper.make_tensor_value_info("garment_mask", f, [1, 1, h, w])]
    outputs = [helper.make_tensor_value_info("tryon", f, [1, 3, h, w]),
               helper.make_tensor_value_info("warped_garment", f, [1, 3, h, w]),
               helper.make_tensor_value_info("grid", f, [1, h, w, 2]),
               helper.make_tensor_value_info("composition_mask", f, [1, 1, h, w])]
    graph = helper.make_graph(nodes, "tiny_student", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="session")
def tiny_student(tmp_path_factory) -> Path:
    """Path of the tiny student model (``model.onnx`` in its own folder)."""
    p = tmp_path_factory.mktemp("tiny") / "model.onnx"
    onnx.save(build_tiny_student(), str(p))
    return p


def _person(rng: np.random.Generator, h: int = 128, w: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(150, 230, 3)
    body = ((xx - w / 2) / (w * 0.3)) ** 2 + ((yy - h * 0.6) / (h * 0.4)) ** 2 < 1
    head = ((xx - w / 2) / (w * 0.12)) ** 2 + ((yy - h * 0.18) / (h * 0.1)) ** 2 < 1
    img[body] = rng.integers(20, 200, 3)
    img[head] = (220, 180, 150)
    return np.clip(img.astype(int) + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)


def _garment(rng: np.random.Generator, h: int = 128, w: int = 96) -> tuple[np.ndarray, np.ndarray]:
    img = np.full((h, w, 3), 255, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[int(h * 0.2):int(h * 0.85), int(w * 0.25):int(w * 0.75)] = 255
    mask[int(h * 0.2):int(h * 0.4), int(w * 0.1):int(w * 0.9)] = 255  # sleeves
    img[mask > 0] = rng.integers(10, 220, 3)
    return img, mask


@pytest.fixture(scope="session")
def calib_dir(tmp_path_factory) -> Path:
    """A folder with person/, garment/ and garment_mask/ holding 4 synthetic photos each (project-made, no data)."""
    root = tmp_path_factory.mktemp("calib")
    rng = np.random.default_rng(1)
    for i in range(4):
        save_image(root / "person" / f"p{i}.png", _person(rng))
        g, m = _garment(rng)
        save_image(root / "garment" / f"g{i}.png", g)
        save_image(root / "garment_mask" / f"g{i}.png", m)
    return root


def make_export_dir(folder: Path, model: Path) -> Path:
    """An export folder (``model.onnx`` + ``manifest.json`` listing it as fp32) holding ``model``, as
    ``tryon export`` leaves one; the manifest's other fields come from the server's stand-in."""
    import dataclasses

    from tryon.manifest import FileEntry, Manifest
    from tryon.server.testing import write_stand_in_model

    write_stand_in_model(folder, size=(H, W))
    (folder / "model.onnx").write_bytes(model.read_bytes())
    m = Manifest.load(folder)
    dataclasses.replace(m, files=(FileEntry.from_path(folder, "model.onnx", dtype="fp32"),)).save(folder)
    return folder


def quantize_app():
    """A Typer app holding only ``tryon quantize`` (what ``tryon`` registers), for ``CliRunner``."""
    import typer

    from tryon.cli.quantize import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app
