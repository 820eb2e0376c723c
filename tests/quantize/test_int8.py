"""Static QDQ int8 calibrated on (synthetic) photos, and dynamic int8: smaller files, QDQ/integer ops present,
grid path left in float, accuracy measurable; clear refusals."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tryon.errors import DataError
from tryon.quantize.calibration import load_samples
from tryon.quantize.dynamic import quantize_dynamic_int8
from tryon.quantize.graph import grid_path_nodes, op_histogram
from tryon.quantize.int8 import StaticQuantConfig, quantize_int8
from tryon.quantize.session import create_session, run_session


@pytest.fixture(scope="module")
def samples(tiny_student, calib_dir):
    return load_samples(calib_dir, onnx.load(str(tiny_student)), limit=3)


def test_int8_qdq_uint8_activations(tiny_student, samples, tmp_path):
    out = quantize_int8(tiny_student, tmp_path / "model_int8.onnx", samples)
    m = onnx.load(str(out))
    ops = op_histogram(m)
    assert ops.get("QuantizeLinear", 0) > 0 and ops.get("DequantizeLinear", 0) > 0
    assert out.stat().st_size < tiny_student.stat().st_size
    # uint8 activations (what WASM runs): every QuantizeLinear zero point is uint8.
    inits = {i.name: i for i in m.graph.initializer}
    zps = [inits[n.input[2]] for n in m.graph.node if n.op_type == "QuantizeLinear" and n.input[2] in inits]
    assert zps and all(z.data_type == onnx.TensorProto.UINT8 for z in zps)
    # The grid path stays float: no QuantizeLinear reads the tensors feeding GridSample's grid.
    grid_inputs = {n.input[1] for n in m.graph.node if n.op_type == "GridSample"}
    assert not any(n.op_type == "QuantizeLinear" and n.input[0] in grid_inputs for n in m.graph.node)
    got = run_session(create_session(out), samples[0])
    ref = run_session(create_session(tiny_student), samples[0])
    assert np.abs(ref["tryon"] - got["tryon"]).max() < 0.5


def test_int8_grid_float_option_changes_graph(tiny_student, samples, tmp_path):
    kept = quantize_int8(tiny_student, tmp_path / "a.onnx", samples, StaticQuantConfig(keep_grid_float=True))
    quant = quantize_int8(tiny_student, tmp_path / "b.onnx", samples, StaticQuantConfig(keep_grid_float=False))
    assert op_histogram(onnx.load(str(quant)))["QuantizeLinear"] > op_histogram(onnx.load(str(kept)))["QuantizeLinear"]


def test_int8_refuses_mismatched_or_missing_samples(tiny_student, samples, tmp_path):
    with pytest.raises(DataError, match="no calibration samples"):
        quantize_int8(tiny_student, tmp_path / "x.onnx", [])
    wrong = [{"image": samples[0]["person"]}]
    with pytest.raises(DataError, match="cannot calibrate"):
        quantize_int8(tiny_student, tmp_path / "x.onnx", wrong)
    small = [{k: v[..., :32, :] for k, v in samples[0].items()}]
    with pytest.raises(DataError, match="is \\[1, 3, 32, 48\\]"):
        quantize_int8(tiny_student, tmp_path / "x.onnx", small)
    assert not (tmp_path / "x.onnx").exists()


def test_dynamic_is_smaller_and_runs(tiny_student, tmp_path):
    out = quantize_dynamic_int8(tiny_student, tmp_path / "model_quantized.onnx")
    ops = op_histogram(onnx.load(str(out)))
    assert ops.get("ConvInteger", 0) > 0 and ops.get("DynamicQuantizeLinear", 0) > 0
    assert out.stat().st_size < tiny_student.stat().st_size
    # The flow head (feeding the grid) is excluded: one fewer ConvInteger than Conv in the fp32 model.
    n_conv = op_histogram(onnx.load(str(tiny_student)))["Conv"]
    assert ops["ConvInteger"] == n_conv - 1
    sess = create_session(out)
    assert set(run_session(sess, {i.name: np.zeros(i.shape, np.float32) for i in sess.get_inputs()})) >= {"tryon"}


def test_grid_path_nodes_of_tiny_model(tiny_student):
    names = grid_path_nodes(onnx.load(str(tiny_student)))
    assert "flow_head" in names and sum(n.startswith("GridSample") for n in names) == 2
    assert not any(n.startswith(("c1", "c2", "c3")) for n in names)


def test_int8_keep_float_patterns_leave_matching_nodes_unquantized(tiny_student, samples, tmp_path):
    """Nodes whose names contain a ``keep_float_patterns`` entry stay float (the default keeps the AFN student's
    feature pyramids, ``*_encoder/*``, which the tiny model does not have)."""
    conv = next(n.name for n in onnx.load(str(tiny_student)).graph.node if n.op_type == "Conv" and n.name)
    none = quantize_int8(tiny_student, tmp_path / "a.onnx", samples, StaticQuantConfig(keep_float_patterns=()))
    kept = quantize_int8(tiny_student, tmp_path / "b.onnx", samples, StaticQuantConfig(keep_float_patterns=(conv,)))

    def float_weight_convs(path):
        m = onnx.load(str(path))
        inits = {i.name for i in m.graph.initializer}
        return {n.name for n in m.graph.node if n.op_type == "Conv" and n.input[1] in inits}

    assert conv not in float_weight_convs(none)
    assert conv in float_weight_convs(kept)
