"""The bounded load test (tryon.server.loadtest) and the `tryon bench-api` / `tryon serve` commands."""

from __future__ import annotations

import asyncio
import json

import pytest
import typer
from typer.testing import CliRunner

from tryon.cli import bench_api, serve
from tryon.errors import UsageError
from tryon.server.loadtest import check_target, format_table, load_test, sample_images, write_report


def _app() -> typer.Typer:
    app = typer.Typer()
    bench_api.register(app)
    serve.register(app)
    return app


def test_check_target_is_loopback_only():
    assert check_target("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_target("http://localhost:1") == "http://localhost:1"
    with pytest.raises(ValueError, match="loopback"):
        check_target("http://example.com")
    assert check_target("http://example.com", allow_remote=True) == "http://example.com"
    with pytest.raises(ValueError, match="http"):
        check_target("ftp://127.0.0.1")


def test_load_test_steps_and_report(make_settings, live, tmp_path):
    person, garment = sample_images((128, 96))
    with live(make_settings(queue_size=1, max_batch=1)) as base:
        results = asyncio.run(load_test(base, person, garment, [1, 4], requests=4, max_seconds=30, warmup=1))
    assert [r.concurrency for r in results] == [1, 4]
    one, four = results
    assert one.requests == 4 and one.ok == 4 and one.errors == 0
    assert one.p50_ms is not None and one.p50_ms <= one.p99_ms and one.throughput > 0
    assert four.requests >= 4 and four.ok + four.rejected + four.errors + four.failed + four.pending == four.requests
    assert four.errors == 0
    written = write_report(results, tmp_path, {"note": "test"})
    data = json.loads(written["json"].read_text())
    assert data["meta"] == {"note": "test"} and len(data["steps"]) == 2
    assert written["table"].read_text().startswith("| conc |")
    assert "| 1 | 4 | 4 |" in format_table(results)


def test_bench_api_command_against_a_running_server(make_settings, live, tmp_path):
    with live(make_settings()) as base:
        r = CliRunner().invoke(_app(), ["bench-api", "--url", base, "--out", str(tmp_path), "--concurrency", "1,2",
                                        "--requests", "2", "--size", "128x96"])
    assert r.exit_code == 0, r.output
    assert "| conc |" in r.output and (tmp_path / "bench_api.json").is_file()


def test_bench_api_refuses_bad_arguments(tmp_path):
    r = CliRunner().invoke(_app(), ["bench-api", "--url", "http://example.com", "--out", str(tmp_path)])
    assert isinstance(r.exception, UsageError) and "loopback" in r.exception.message
    r = CliRunner().invoke(_app(), ["bench-api", "--out", str(tmp_path)])
    assert isinstance(r.exception, UsageError) and "--url" in r.exception.message
    with pytest.raises(UsageError):
        bench_api.parse_steps("1,x")
    assert bench_api.parse_steps("1, 2,8") == [1, 2, 8]


def test_serve_help_and_bad_model_dir(tmp_path):
    r = CliRunner().invoke(_app(), ["serve", "--help"])
    assert r.exit_code == 0
    for flag in ("--host", "--port", "--model-dir", "--redis-url", "--coop-coep", "--teacher-categories"):
        assert flag in r.output
    r = CliRunner().invoke(_app(), ["serve", "--model-dir", str(tmp_path)])
    assert isinstance(r.exception, UsageError) and "manifest.json" in r.exception.message
    r = CliRunner().invoke(_app(), ["serve", "--redis-url", "http://nope"])
    assert isinstance(r.exception, UsageError) and "redis" in r.exception.message
    r = CliRunner().invoke(_app(), ["serve", "--teacher-categories", "bottoms,hats"])
    assert isinstance(r.exception, UsageError), r.output
    assert "'hats' is not a garment category the teacher dresses" in r.exception.message


def test_serve_refuses_a_model_folder_with_a_missing_file(model_dir, tmp_path):
    import shutil

    from tryon.errors import MissingModelError

    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.onnx").unlink()
    r = CliRunner().invoke(_app(), ["serve", "--model-dir", str(broken)])
    assert isinstance(r.exception, MissingModelError) and r.exception.exit_code == 40
    assert "model.onnx" in r.exception.message


def test_serve_options_do_not_override_environment_settings(monkeypatch):
    import tryon.cli.serve as serve_module

    seen = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.update(settings=app.state.settings))
    monkeypatch.setenv("TRYON_QUEUE_SIZE", "3")
    monkeypatch.setenv("TRYON_MAX_BATCH", "2")
    r = CliRunner().invoke(_app(), ["serve", "--web-dir", str(serve_module.__file__).rsplit("/", 1)[0]])
    assert r.exit_code == 0, r.output
    assert seen["settings"].queue_size == 3 and seen["settings"].max_batch == 2
