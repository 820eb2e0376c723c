"""The soak benchmark (tryon.server.soak, `tryon bench-api --soak`): a few seconds of steady load against a real
server process, with RSS, latency and errors per interval."""

from __future__ import annotations

import asyncio
import csv
import json
import os

import pytest
import typer
from typer.testing import CliRunner

from tryon.cli import bench_api, serve
from tryon.errors import UsageError
from tryon.server.loadtest import sample_images
from tryon.server.soak import SoakInterval, rss_mb, soak, summarize


def _app() -> typer.Typer:
    app = typer.Typer()
    bench_api.register(app)
    serve.register(app)  # two commands, so typer takes the command's name
    return app


def test_soak_command_runs_a_server_process_and_writes_the_report(model_dir, redis_url, tmp_path):
    r = CliRunner().invoke(_app(), ["bench-api", "--model-dir", str(model_dir), "--redis-url", redis_url,
                                    "--soak", "0.1", "--interval", "2", "--concurrency", "2", "--size", "128x96",
                                    "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("| t (s) | sent | ok |") and sum(line.startswith("| ") for line in lines) == 1 + 3
    report = json.loads((tmp_path / "soak.json").read_text())
    rows = report["intervals"]
    assert [row["t_s"] for row in rows] == [2, 4, 6]
    assert report["meta"]["job_store"] == "redis"
    s = report["summary"]
    assert s["ok"] > 0 and s["errors"] == 0 and s["failed"] == 0 and s["ok"] == sum(row["ok"] for row in rows)
    # The server is a child process: its RSS is sampled in every interval (tens of MiB at least: Python + ORT).
    assert all(row["rss_mb"] is not None and row["rss_mb"] > 30 for row in rows)
    assert all(row["p50_ms"] <= row["p99_ms"] for row in rows if row["ok"])
    with open(tmp_path / "soak.csv", newline="") as f:
        assert [int(float(row["ok"])) for row in csv.DictReader(f)] == [row["ok"] for row in rows]
    assert (tmp_path / "soak.png").stat().st_size > 10_000


def test_soak_counts_errors_when_the_server_goes_away(make_settings, live):
    """The server stops mid-run: the requests after that are counted as errors, not lost or fatal."""
    import threading

    person, garment = sample_images((128, 96))
    seen: list[SoakInterval] = []
    with live(make_settings()) as base:
        stop = threading.Event()

        def run() -> None:
            seen.extend(asyncio.run(soak(base, person, garment, minutes=4 / 60, concurrency=2, interval_s=1,
                                         server_pid=os.getpid()))[0])
            stop.set()

        t = threading.Thread(target=run)
        t.start()
        stop.wait(1.5)
    t.join(timeout=30)
    s = summarize(seen)
    assert len(seen) == 4 and s["ok"] > 0 and s["errors"] > 0
    assert seen[0].errors == 0 and seen[-1].ok == 0 and seen[-1].errors > 0
    assert s["rss_first_mb"] is not None


def test_summarize_reports_the_memory_trend():
    ivs = [SoakInterval(t_s=60.0 * i, ok=10, rss_mb=500.0 + (0 if i == 1 else 5.0 * i)) for i in range(1, 7)]
    s = summarize(ivs)
    assert s["ok"] == 60 and s["rss_first_mb"] == 500.0 and s["rss_max_mb"] == 530.0
    assert s["rss_slope_mb_per_min"] == pytest.approx(5.0)  # the first (warm-up) interval is left out
    assert summarize(ivs[:3])["rss_slope_mb_per_min"] is None


def test_rss_of_this_process_and_of_no_process():
    assert 10 < rss_mb(os.getpid()) < 100_000
    with pytest.raises(OSError):
        rss_mb(2**22 + 12345)


def test_soak_refuses_bad_arguments(tmp_path, model_dir):
    r = CliRunner().invoke(_app(), ["bench-api", "--model-dir", str(model_dir), "--soak", "1", "--concurrency",
                                    "1,2", "--out", str(tmp_path)])
    assert isinstance(r.exception, UsageError) and "one --concurrency" in r.exception.message
    r = CliRunner().invoke(_app(), ["bench-api", "--model-dir", str(model_dir), "--soak", "1", "--server-pid", "1",
                                    "--out", str(tmp_path)])
    assert isinstance(r.exception, UsageError) and "--server-pid goes with --url" in r.exception.message
    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(soak("http://example.com", b"", b"", 1))
