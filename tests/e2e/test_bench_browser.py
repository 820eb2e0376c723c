"""``tryon bench-browser --dtypes ... --record``: model files timed side by side per in-browser backend in one run, and
the file each backend should run written into the manifest (issue 14, "which file for which backend")."""

from __future__ import annotations

import shutil

import pytest

from tryon.manifest import FP32, INT8_DYNAMIC, FileEntry, Manifest

pytestmark = pytest.mark.browser


def _folder_with_dynamic(src, dst, *, runs: int):
    """A copy of the exported student ``src`` with a dynamic int8 file made by ``tryon quantize`` (timed on CPU
    with ``runs`` runs, so its quality is recorded in the manifest when ``runs`` > 0)."""
    from tryon.quantize import quantize_model

    shutil.copytree(src, dst)
    quantize_model(dst / "model.onnx", dst, ["dynamic"], random_calibration=2, eval_samples=2, runs=runs, warmup=0)
    return dst


def test_dtypes_are_timed_side_by_side_and_the_choice_recorded(tiny_model_dir, tmp_path):
    from tryon.cli.bench_browser import record_browser_choice, run_browser_bench

    folder = _folder_with_dynamic(tiny_model_dir, tmp_path / "student", runs=2)
    rows = run_browser_bench(folder, ["wasm"], runs=2, warmup=1, photo_size=(480, 360), dtypes=[FP32, INT8_DYNAMIC])
    assert [(r["backend"], r["dtype"]) for r in rows] == [("wasm", FP32), ("wasm", INT8_DYNAMIC)]
    assert all(r["inference_median_ms"] > 0 for r in rows)
    chosen = record_browser_choice(folder, rows)
    manifest = Manifest.load(folder)
    assert manifest.preferred_dtype["wasm"] == chosen["wasm"]
    fp32, dyn = rows
    quality_ok = {c["dtype"]: c["quality_ok"] for c in manifest.metrics["dtype_choice"]["cpu"]["candidates"]}
    faster = dyn["inference_median_ms"] <= fp32["inference_median_ms"]
    assert chosen["wasm"] == (INT8_DYNAMIC if faster and quality_ok[INT8_DYNAMIC] else FP32)
    manifest.verify_files(folder)  # the record changed no file


def test_record_rule_without_a_browser(tmp_path):
    """fp32 unless a quantized file was at least as fast at a quality tryon quantize measured as equal."""
    from tryon.cli.bench_browser import record_browser_choice

    (tmp_path / "model.onnx").write_bytes(b"a" * 300)
    (tmp_path / "model_quantized.onnx").write_bytes(b"b" * 200)
    files = (FileEntry.from_path(tmp_path, "model.onnx"), FileEntry.from_path(tmp_path, "model_quantized.onnx",
                                                                                 dtype=INT8_DYNAMIC))

    def case(quality_ok, dyn_ms):
        metrics = {} if quality_ok is None else {"dtype_choice": {"cpu": {"candidates": [
            {"dtype": FP32, "quality_ok": True}, {"dtype": INT8_DYNAMIC, "quality_ok": quality_ok}]}}}
        Manifest(name="m", version="0", inputs=(), outputs=(), files=files, metrics=metrics).save(tmp_path)
        rows = [{"backend": "wasm", "dtype": FP32, "inference_median_ms": 100.0, "threads": 1},
                {"backend": "wasm", "dtype": INT8_DYNAMIC, "inference_median_ms": dyn_ms, "threads": 1}]
        return record_browser_choice(tmp_path, rows)["wasm"]

    assert case(True, 90.0) == INT8_DYNAMIC
    assert case(True, 110.0) == FP32  # slower
    assert case(False, 90.0) == FP32  # faster but worse
    assert case(None, 90.0) == FP32  # quality never measured
    assert Manifest.load(tmp_path).metrics["dtype_choice"]["wasm"]["chosen"] == FP32
