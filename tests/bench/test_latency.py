"""Latency helper and bench table on a tiny ONNX model (the `tryon bench` command itself is not a test)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from rich.console import Console

from tryon.bench.latency import measure_latency
from tryon.bench.table import BenchRow, bench_to_dict, ratios, render_bench_table, write_bench_json


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    w = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")
    g = helper.make_graph([helper.make_node("Conv", ["person", "w"], ["y"], pads=[1, 1, 1, 1])], "g",
                          [helper.make_tensor_value_info("person", TensorProto.FLOAT, [1, 3, "H", "W"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, "H", "W"])], [w])
    p = tmp_path_factory.mktemp("lat") / "conv.onnx"
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8  # onnx 1.23 writes IR 14 by default; onnxruntime 1.31 reads up to 13
    onnx.save(m, str(p))
    return p


def test_measure_latency_per_thread_count(conv_model):
    lat = measure_latency(conv_model, threads=(1, 2), runs=3, warmup=1, size=(32, 32))
    assert set(lat) == {1, 2}
    for t, s in lat.items():
        assert s.threads == t and s.runs == 3 and 0 < s.min_ms <= s.median_ms <= s.p90_ms


def test_measure_latencies_interleaves_files(conv_model, tmp_path):
    """Two files timed in one round-robin: one result per file and thread count, the heavier file slower."""
    from tryon.bench.latency import measure_latencies

    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((64, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((64, 64, 3, 3)).astype(np.float32), "w2")
    g = helper.make_graph([helper.make_node("Conv", ["person", "w1"], ["a"], pads=[1, 1, 1, 1]),
                           helper.make_node("Conv", ["a", "w2"], ["y"], pads=[1, 1, 1, 1])], "g",
                          [helper.make_tensor_value_info("person", TensorProto.FLOAT, [1, 3, "H", "W"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64, "H", "W"])], [w1, w2])
    heavy = tmp_path / "heavy.onnx"
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(heavy))
    light, big = measure_latencies([conv_model, heavy], threads=(1,), runs=5, warmup=1, size=(64, 64))
    assert set(light) == set(big) == {1} and light[1].runs == big[1].runs == 5
    assert big[1].median_ms > light[1].median_ms  # ~100x the multiply-adds


def test_measure_latency_refusals(conv_model):
    with pytest.raises(ValueError, match="dynamic"):
        measure_latency(conv_model, threads=(1,), runs=1)
    with pytest.raises(ValueError, match="runs"):
        measure_latency(conv_model, threads=(1,), runs=0, size=(16, 16))
    with pytest.raises(ValueError, match="thread"):
        measure_latency(conv_model, threads=(0,), size=(16, 16))


def test_table_ratios_and_json(tmp_path):
    rows = [BenchRow("afn_student_s", params=1_000_000, gmacs=1.0, bytes_fp32=4_000_000, bytes_fp16=2_000_000,
                     bytes_int8=1_000_000, latency_ms_1t=10.0, latency_ms_2t=None),
            BenchRow("dmvton_ref", params=10_000_000, gmacs=30.0, bytes_fp32=40_000_000, bytes_fp16=20_000_000,
                     bytes_int8=10_000_000, latency_ms_1t=100.0, latency_ms_2t=60.0)]
    r = ratios(rows, "dmvton_ref")
    assert r["afn_student_s"]["params"] == pytest.approx(0.1) and r["afn_student_s"]["latency_ms_2t"] is None
    assert r["dmvton_ref"]["gmacs"] == 1.0
    console = Console(record=True, width=220)
    console.print(render_bench_table(rows, "dmvton_ref"))
    text = console.export_text()
    assert "dmvton_ref (ref)" in text and "(0.10×)" in text and "—" in text
    d = json.loads(write_bench_json(rows, "dmvton_ref", tmp_path / "b.json", {"size": [256, 192]}).read_text())
    assert d == json.loads(json.dumps(bench_to_dict(rows, "dmvton_ref", {"size": [256, 192]})))
    assert d["rows"][0]["ratio"]["bytes_int8"] == pytest.approx(0.1)
    with pytest.raises(KeyError):
        ratios(rows, "missing")


def test_tables_print_long_names_whole_in_mb(capsys):
    """Piped output (80 columns by default) keeps each file name on one line; sizes are MB = 10^6 bytes."""
    from tryon.bench.table import FileFigures, render_file_table
    from tryon.cli.tables import print_table

    name = "runs/a-rather-long-run-folder-name/checkpoints/ckpt-000123.pt"
    row = BenchRow(name, files=[FileFigures("fp32", "/x/model.onnx", 2_890_000, {1: 10.0, 2: 6.0}),
                                FileFigures("int8_dynamic", "/x/model_int8_dynamic.onnx", 1_990_000, {1: 12.0, 2: 5.0})])
    print_table(render_file_table([row]))
    print_table(render_bench_table([row], None))
    text = capsys.readouterr().out
    assert sum(name in line for line in text.splitlines()) == 3
    assert "model_int8_dynamic.onnx" in text and "2.89" in text and "1.99 (0.69×)" in text and "MiB" not in text
    assert "12.0 (1.20×)" in text and "5.0 (0.83×) *" in text and "10.0 *" in text
