"""Which file for which backend: the choice rule, its record in manifest.json, and the runtimes that read it."""

from __future__ import annotations

import pytest

from tryon.manifest import AUTO, DTYPES, Manifest
from tryon.quantize import quantize_model
from tryon.quantize.choice import Candidate, choose_dtype
from tryon.quantize.gate import GateLimits

from .conftest import make_export_dir


def test_fp32_unless_a_quantized_file_is_as_fast_at_equal_quality():
    fp32 = Candidate("fp32", 10.0, 4000, True)
    # Every quantized file slower (the student on this CPU): fp32.
    assert choose_dtype([fp32, Candidate("fp16", 12.0, 2000, True), Candidate("int8", 10.5, 1000, True)]) == "fp32"
    # Faster but not equal quality, or quality not measured: still fp32.
    assert choose_dtype([fp32, Candidate("int8", 5.0, 1000, False), Candidate("fp16", 6.0, 2000, None)]) == "fp32"
    # At least as fast at equal quality: the fastest, ties broken by size.
    assert choose_dtype([fp32, Candidate("fp16", 10.0, 2000, True)]) == "fp16"
    assert choose_dtype([fp32, Candidate("int8", 7.0, 1500, True), Candidate("int8_dynamic", 7.0, 1000, True),
                         Candidate("fp16", 9.0, 2000, True)]) == "int8_dynamic"
    # No fp32 latency: nothing to compare with.
    assert choose_dtype([Candidate("fp32", None, 4000, True), Candidate("int8", 1.0, 1000, True)]) == "fp32"
    with pytest.raises(ValueError, match="fp32"):
        choose_dtype([Candidate("int8", 1.0, 1000, True)])


def test_quantize_records_the_cpu_choice_in_the_manifest(tiny_student, calib_dir, tmp_path):
    folder = make_export_dir(tmp_path, tiny_student)
    quantize_model(folder / "model.onnx", folder, ["fp16", "int8", "dynamic"], calibration=calib_dir, samples=2,
                   eval_samples=1, runs=5, warmup=1)
    m = Manifest.load(folder)
    chosen = m.preferred_dtype["cpu"]
    rec = m.metrics["dtype_choice"]["cpu"]
    assert chosen in DTYPES and rec["chosen"] == chosen and rec["runs"] == 5
    cands = {c["dtype"]: c for c in rec["candidates"]}
    assert set(cands) == {"fp32", "fp16", "int8", "int8_dynamic"}
    assert all(c["median_ms"] > 0 for c in cands.values())
    # The rule holds on what was measured: fp32, or a file at least as fast as fp32 at equal quality.
    assert chosen == choose_dtype([Candidate(**c) for c in rec["candidates"]])
    if chosen != "fp32":
        assert cands[chosen]["quality_ok"] and cands[chosen]["median_ms"] <= cands["fp32"]["median_ms"]
    # With a gate of its own, the run's gate is "equal quality"; only this run's files are candidates.
    quantize_model(folder / "model.onnx", folder, ["dynamic"], calibration=calib_dir, eval_samples=1, runs=3,
                   warmup=0, gate=GateLimits(max_delta=2.0))
    rec = Manifest.load(folder).metrics["dtype_choice"]["cpu"]
    assert [c["dtype"] for c in rec["candidates"]] == ["fp32", "int8_dynamic"]
    assert rec["candidates"][1]["quality_ok"] is True
    # A run that times nothing drops the old choice: those figures no longer describe the files.
    quantize_model(folder / "model.onnx", folder, ["fp16"], runs=0)
    m = Manifest.load(folder)
    assert "cpu" not in m.preferred_dtype and "dtype_choice" not in m.metrics
    m.verify_files(folder)


def test_runtimes_follow_the_preference(tiny_student, tmp_path):
    import dataclasses

    from tryon.server.config import Settings
    from tryon.server.testing import write_stand_in_model
    from tryon.student_runner import StudentSession

    assert Settings().dtype == AUTO
    write_stand_in_model(tmp_path, size=(32, 24))
    quantize_model(tmp_path / "model.onnx", tmp_path, ["fp16"], runs=0)
    assert StudentSession(tmp_path, AUTO, "cpu").dtype == "fp32"  # nothing measured: fp32
    m = Manifest.load(tmp_path)
    dataclasses.replace(m, preferred_dtype={"cpu": "fp16"}).save(tmp_path)
    assert StudentSession(tmp_path, AUTO, "cpu").dtype == "fp16"
    assert StudentSession(tmp_path, "fp32", "cpu").dtype == "fp32"  # a forced dtype wins
    dataclasses.replace(m, preferred_dtype={"cpu": "int8"}).save(tmp_path)  # not listed: fp32
    assert StudentSession(tmp_path, AUTO, "cpu").dtype == "fp32"
    with pytest.raises(ValueError, match="auto or one of"):
        Settings(dtype="int4")
