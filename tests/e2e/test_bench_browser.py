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
    rows = run_browser_bench(folder, ["wasm"], runs=2, warmup=1, photo_size=(480, 360), dtypes=[FP32, INT8_DYNAMIC],
                             threads=[1, 2])
    assert [(r["backend"], r["dtype"], r["threads"]) for r in rows] == [
        ("wasm", FP32, 1), ("wasm", FP32, 2), ("wasm", INT8_DYNAMIC, 1), ("wasm", INT8_DYNAMIC, 2)]
    assert all(r["inference_median_ms"] > 0 for r in rows)
    chosen = record_browser_choice(folder, rows)
    manifest = Manifest.load(folder)
    assert manifest.preferred_dtype["wasm"] == chosen["wasm"]
    quality_ok = {c["dtype"]: c["quality_ok"] for c in manifest.metrics["dtype_choice"]["cpu"]["candidates"]}
    ms = {(r["dtype"], r["threads"]): r["inference_median_ms"] for r in rows}
    faster = all(ms[INT8_DYNAMIC, t] <= ms[FP32, t] for t in (1, 2))
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


def _two_files(folder):
    """A folder whose manifest lists an fp32 and an int8_dynamic file (bytes, not models: nothing runs them)."""
    (folder / "model.onnx").write_bytes(b"a" * 300)
    (folder / "model_quantized.onnx").write_bytes(b"b" * 200)
    files = (FileEntry.from_path(folder, "model.onnx"), FileEntry.from_path(folder, "model_quantized.onnx",
                                                                               dtype=INT8_DYNAMIC))
    Manifest(name="m", version="0", inputs=(), outputs=(), files=files).save(folder)
    return folder


def _rows(dyn_ms_by_threads: dict[int, float]) -> list[dict]:
    rows = []
    for threads, dyn_ms in dyn_ms_by_threads.items():
        rows += [{"backend": "wasm", "dtype": FP32, "threads": threads, "runs": 3, "inference_median_ms": 100.0,
                  "inference_p90_ms": 110.0, "total_median_ms": 200.0, "total_p90_ms": 220.0},
                 {"backend": "wasm", "dtype": INT8_DYNAMIC, "threads": threads, "runs": 3,
                  "inference_median_ms": dyn_ms, "inference_p90_ms": dyn_ms, "total_median_ms": 200.0,
                  "total_p90_ms": 220.0}]
    return rows


def test_record_rule_holds_at_every_thread_count(tmp_path):
    """With WASM timed at 1 and 2 threads, a quantized file is chosen only when the rule picks it at both."""
    from tryon.cli.bench_browser import record_browser_choice

    folder = _two_files(tmp_path)
    ok = {FP32: True, INT8_DYNAMIC: True}
    assert record_browser_choice(folder, _rows({1: 90.0, 2: 95.0}), quality=ok)["wasm"] == INT8_DYNAMIC
    assert record_browser_choice(folder, _rows({1: 90.0, 2: 130.0}), quality=ok)["wasm"] == FP32
    by_threads = Manifest.load(folder).metrics["dtype_choice"]["wasm"]["by_threads"]
    assert [(b["threads"], b["chosen"]) for b in by_threads] == [(1, INT8_DYNAMIC), (2, FP32)]


def test_kept_table_is_applied_to_the_same_files_only(tmp_path):
    """--table keeps a measurement with the files' sha256; --from-table records its choice on a folder with the
    same files, and fp32 on a folder whose files differ (the measurement does not hold for them)."""
    import json

    from tryon.cli.bench_browser import apply_browser_table, write_browser_table

    (tmp_path / "measured").mkdir()
    measured = _two_files(tmp_path / "measured")
    m = Manifest.load(measured)
    Manifest.from_dict({**m.to_dict(), "metrics": {"dtype_choice": {"cpu": {"candidates": [
        {"dtype": FP32, "quality_ok": True}, {"dtype": INT8_DYNAMIC, "quality_ok": True}]}}}}).save(measured)
    table = write_browser_table(tmp_path / "table.json", measured, _rows({1: 80.0, 2: 90.0}))
    assert json.loads((tmp_path / "table.json").read_text()) == table
    assert table["quality_ok"] == {FP32: True, INT8_DYNAMIC: True} and table["measured_utc"] and table["machine"]

    same = tmp_path / "same"
    shutil.copytree(measured, same)
    Manifest.from_dict({**Manifest.load(same).to_dict(), "metrics": {}}).save(same)  # as `make student` makes it
    assert apply_browser_table(same, tmp_path / "table.json") == {"wasm": INT8_DYNAMIC}
    assert Manifest.load(same).preferred_dtype["wasm"] == INT8_DYNAMIC

    (tmp_path / "other").mkdir()
    other = _two_files(tmp_path / "other")
    (other / "model_quantized.onnx").write_bytes(b"c" * 200)  # re-exported: another file
    entries = (FileEntry.from_path(other, "model.onnx"), FileEntry.from_path(other, "model_quantized.onnx",
                                                                              dtype=INT8_DYNAMIC))
    Manifest.from_dict({**Manifest.load(other).to_dict(), "files": [e.__dict__ for e in entries]}).save(other)
    assert apply_browser_table(other, tmp_path / "table.json") == {"wasm": FP32}
    got = Manifest.load(other)
    assert got.preferred_dtype["wasm"] == FP32 and "differ" in got.metrics["dtype_choice"]["wasm"]["note"]


def test_live_bench_times_a_baseline_folder_in_turn(framed_student_dir, wild_dev):
    """``tryon bench-browser --live --baseline-dir``: the baseline's live graphs and the folder's are timed in turn
    per thread count (so a change of load falls on both), each row framed, tracked and with the machine's load."""
    from tryon.cli.bench_browser import run_live_bench

    rows = run_live_bench(framed_student_dir, wild_dev / "person" / "ujjwalvton__original-3.jpg", threads=[1, 2],
                          frames=3, warmup=1, graphs=("live", "baseline"), baseline_dir=framed_student_dir)
    assert [(r["round"], r["threads"], r["graph"]) for r in rows] == [
        (0, 1, "live"), (0, 1, "baseline"), (0, 2, "live"), (0, 2, "baseline")]
    for r in rows:
        assert r["cross_origin_isolated"] and r["framed"], r
        assert r["fps"] > 0 and r["student_ms"] > 0 and r["tracked"] >= 1, r
        assert r["load"] >= 0, r


def test_live_bench_refuses_a_baseline_graph_without_its_folder(tmp_path):
    from tryon.cli.bench_browser import run_live_bench
    from tryon.errors import UsageError

    with pytest.raises(UsageError, match="baseline-dir"):
        run_live_bench(tmp_path, tmp_path / "person.jpg", threads=[1], graphs=("live", "baseline"))
