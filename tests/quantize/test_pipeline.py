"""quantize_model end to end on the tiny model, the report (table + JSON) and the `tryon quantize` CLI."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tryon.errors import DataError, OutputError, UsageError
from tryon.quantize import QualityGateError, quantize_model, render_table, write_json

from .conftest import quantize_app


@pytest.fixture(scope="module")
def report(tiny_student, calib_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("q")
    return quantize_model(tiny_student, out, ["fp16", "int8", "dynamic"], calibration=calib_dir, samples=3,
                          eval_samples=2, runs=3, warmup=1)


def test_every_mode_measured(report, tmp_path):
    modes = [r.mode for r in report.results]
    assert modes == ["fp32", "fp16", "int8", "dynamic"]
    for r in report.results:
        assert r.path.is_file() and r.bytes > 0 and r.latency is not None and r.latency.median_ms > 0
        if r.mode != "fp32":
            assert r.bytes < r.bytes_before
            assert r.accuracy is not None and r.accuracy.samples == 2 and r.accuracy.psnr_db > 10
    d = json.loads(write_json(report, tmp_path / "r.json").read_text())
    assert [r["mode"] for r in d["results"]] == modes and d["results"][2]["accuracy"]["max_abs_diff"] > 0
    assert d["input_size"] == [64, 48] and d["calibration"]["samples"] == 3


def test_table_shows_numbers(report):
    console = Console(record=True, width=200)
    console.print(render_table(report))
    out = console.export_text()
    assert "model_int8.onnx" in out and "PSNR" in out and "MB" in out and "KiB" not in out
    size = next(r for r in report.results if r.mode == "int8").bytes
    assert f"{size / 1e6:.2f}" in out


def test_pipeline_refusals(tiny_student, calib_dir, tmp_path):
    import shutil

    with pytest.raises(UsageError, match="unknown mode"):
        quantize_model(tiny_student, tmp_path, ["int4"])
    with pytest.raises(UsageError, match="--calibration"):
        quantize_model(tiny_student, tmp_path, ["int8"])
    # The fp16 output name is a link to the input model: writing it would overwrite the input.
    src = tmp_path / "m.onnx"
    shutil.copy(tiny_student, src)
    (tmp_path / "m_fp16.onnx").symlink_to(src)
    with pytest.raises(OutputError, match="overwrite the input"):
        quantize_model(src, tmp_path, ["fp16"], runs=0)
    assert src.read_bytes() == tiny_student.read_bytes()
    bad = tmp_path / "bad.onnx"
    bad.write_text("hello")
    with pytest.raises(DataError, match="not an ONNX model"):
        quantize_model(bad, tmp_path / "o", ["fp16"], runs=0)


def test_cli_runs_and_writes_json(tiny_student, calib_dir, tmp_path):
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(tiny_student), "-o", str(tmp_path / "out"), "--mode", "fp16", "--mode", "int8",
        "--calibration", str(calib_dir), "--samples", "2", "--eval-samples", "1", "--runs", "2", "--warmup", "0",
        "--json", str(tmp_path / "r.json"), "--max-delta", "2", "--min-psnr", "1"])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["gate"]["passed"] is True and (tmp_path / "out" / "model_int8.onnx").is_file()
    assert "PSNR" in res.output and "fp16" in res.output


def test_cli_gate_fails_with_exit_60(tiny_student, calib_dir, tmp_path):
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(tiny_student), "-o", str(tmp_path), "--mode", "dynamic", "--calibration", str(calib_dir),
        "--eval-samples", "1", "--runs", "0", "--max-delta", "0", "--min-psnr", "500", "--json", str(tmp_path / "j")])
    assert isinstance(res.exception, QualityGateError) and res.exception.exit_code == 60
    assert json.loads((tmp_path / "j").read_text())["gate"]["passed"] is False


def test_cli_refusals(tiny_student, tmp_path):
    app = quantize_app()
    r = CliRunner().invoke(app, ["quantize", str(tiny_student), "-o", str(tmp_path), "--mode", "int4"])
    assert r.exit_code == 2 and "int4" in r.output
    r = CliRunner().invoke(app, ["quantize", str(tiny_student), "-o", str(tmp_path), "--mode", "fp16",
                                 "--max-delta", "0.1"])
    assert isinstance(r.exception, UsageError) and "--eval" in r.exception.message
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    r = CliRunner().invoke(app, ["quantize", str(bad), "-o", str(tmp_path / "o"), "--mode", "fp16"])
    assert isinstance(r.exception, DataError) and "not an ONNX model" in r.exception.message


def test_converted_files_are_listed_in_the_export_manifest(tmp_path):
    from tryon.manifest import Manifest
    from tryon.server.testing import write_stand_in_model

    write_stand_in_model(tmp_path, size=(32, 24))
    quantize_model(tmp_path / "model.onnx", tmp_path, ["fp16", "dynamic"], runs=0)
    m = Manifest.load(tmp_path)
    assert {f.dtype: f.path for f in m.files} == {"fp32": "model.onnx", "fp16": "model_fp16.onnx",
                                                  "int8_dynamic": "model_quantized.onnx"}
    m.verify_files(tmp_path)  # sha256 and sizes match what was written
