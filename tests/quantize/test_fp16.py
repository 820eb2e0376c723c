"""fp16 conversion: float32 I/O kept, loads in onnxruntime (the Concat that breaks onnxconverter-common), grid path
kept in float32, accurate on the tiny model."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tryon.errors import DataError, OutputError
from tryon.quantize.fp16 import convert_fp16
from tryon.quantize.graph import grid_path_nodes
from tryon.quantize.session import create_session, dummy_feeds, run_session


def _fp16_nodes(model: onnx.ModelProto) -> set[str]:
    """Names of nodes whose first output is a float16 tensor (from value_info)."""
    half = {vi.name for vi in model.graph.value_info if vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16}
    return {n.name for n in model.graph.node if n.output and n.output[0] in half}


def test_fp16_keeps_float_io_and_loads(tiny_student, tmp_path):
    out = convert_fp16(tiny_student, tmp_path / "model_fp16.onnx")
    m = onnx.load(str(out))
    onnx.checker.check_model(m)
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for i in m.graph.input)
    assert all(o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for o in m.graph.output)
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in m.graph.initializer)
    assert out.stat().st_size < tiny_student.stat().st_size
    ref_s, s = create_session(tiny_student), create_session(out)
    feeds = dummy_feeds(ref_s)
    ref, got = run_session(ref_s, feeds), run_session(s, feeds)
    assert np.abs(ref["tryon"] - got["tryon"]).max() < 0.02


def test_fp16_grid_path_stays_float(tiny_student, tmp_path):
    out = convert_fp16(tiny_student, tmp_path / "m.onnx", keep_grid_float=True)
    m = onnx.shape_inference.infer_shapes(onnx.load(str(out)))
    names = set(grid_path_nodes(onnx.load(str(tiny_student))))
    assert names and not names & _fp16_nodes(m)
    # No float32 -> fp16 -> float32 round trip is left between the kept nodes.
    casts = [n for n in m.graph.node if n.op_type == "Cast"]
    producer = {o: n for n in m.graph.node for o in n.output}
    for c in casts:
        p = producer.get(c.input[0])
        assert not (p is not None and p.op_type == "Cast" and c.attribute[0].i == onnx.TensorProto.FLOAT
                    and p.attribute[0].i == onnx.TensorProto.FLOAT16)
    feeds = dummy_feeds(create_session(tiny_student))
    ref, got = run_session(create_session(tiny_student), feeds), run_session(create_session(out), feeds)
    assert np.abs(ref["grid"] - got["grid"]).max() < 1e-3


def test_fp16_refuses_non_onnx_and_overwriting_input(tiny_student, tmp_path):
    bad = tmp_path / "photo.onnx"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a model")
    with pytest.raises(DataError, match="not an ONNX model"):
        convert_fp16(bad, tmp_path / "x.onnx")
    with pytest.raises(OutputError, match="overwrite the input"):
        convert_fp16(tiny_student, tiny_student)
