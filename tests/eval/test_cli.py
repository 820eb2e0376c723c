"""``tryon eval`` through Typer's test runner (the copy baseline keeps it fast and model-free)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tryon.cli.eval import register
from tryon.cli.options import parse_size
from tryon.errors import DataError, OutputError, UsageError
from tryon.processing import save_image


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keeps "eval" a subcommand, as in the real app
        pass

    register(app)
    return app


@pytest.fixture(scope="module", autouse=True)
def _restore_torch_threads():
    """``--threads`` sets torch's global thread count; put it back for the other tests in this process."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(2):
        save_image(tmp_path / "persons" / f"p{i}.png", rng.integers(0, 255, (96, 72, 3), dtype=np.uint8))
        save_image(tmp_path / "garments" / f"g{i}.png", rng.integers(0, 255, (96, 72, 3), dtype=np.uint8))
    (tmp_path / "pairs.csv").write_text("person,garment,ground_truth\npersons/p0.png,garments/g0.png,persons/p0.png\n"
                                        "persons/missing.png,garments/g1.png,\n")
    return tmp_path


def test_eval_dirs_json(data: Path):
    out = data / "out"
    r = CliRunner().invoke(_app(), ["eval", "--persons", str(data / "persons"), "--garments", str(data / "garments"),
                                    "-o", str(out), "--method", "copy", "--metrics", "identity", "--size", "96x72",
                                    "--json", "-q"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["counts"]["ok"] == 2 and res["method"] == "copy"
    assert res["pairs"][0]["identity_ssim"] == pytest.approx(1.0)
    assert (out / "metrics.json").is_file() and (out / "grid.png").is_file() and (out / "index.html").is_file()


def test_eval_csv_summary_records_failure(data: Path):
    out = data / "csv-out"
    r = CliRunner().invoke(_app(), ["eval", str(data / "pairs.csv"), "-o", str(out), "--method", "copy",
                                    "--metrics", "identity,gt", "--size", "96x72", "-q", "--threads", "1"])
    assert r.exit_code == 0, r.output
    assert "1/2 pairs ok" in r.stdout and "ImageLoadError" in r.stdout
    res = json.loads((out / "metrics.json").read_text())
    assert res["pairs"][0]["gt_ssim"] == pytest.approx(1.0) and res["pairs"][1]["status"] == "failed"


@pytest.mark.parametrize("args, error", [
    (["--persons", "{d}/persons", "--garments", "{d}/garments", "-o", "{d}/persons"], OutputError),
    (["{d}/pairs.csv", "-o", "{d}"], OutputError),
    (["-o", "{d}/x"], UsageError),
    (["{d}/pairs.csv", "-o", "{d}/x", "--size", "big"], UsageError),
    (["{d}/pairs.csv", "-o", "{d}/x", "--metrics", "lpips"], UsageError),
    (["{d}/pairs.csv", "-o", "{d}/x", "--method", "magic"], UsageError),
    (["{d}/nothing.csv", "-o", "{d}/x"], DataError),
])
def test_eval_refuses_bad_arguments(data: Path, args: list[str], error: type):
    r = CliRunner().invoke(_app(), ["eval", *[a.format(d=data) for a in args], "--method", "copy"]
                           if "--method" not in args else ["eval", *[a.format(d=data) for a in args]])
    assert isinstance(r.exception, error), r.output


@pytest.mark.parametrize("method", ["copy", "student"])
def test_refine_is_refused_for_a_method_without_the_teachers_fill(data: Path, method: str):
    r = CliRunner().invoke(_app(), ["eval", str(data / "pairs.csv"), "-o", str(data / "x"), "--method", method,
                                    "--refine", "-q"])
    assert isinstance(r.exception, UsageError) and "--refine" in str(r.exception), r.output
    assert not (data / "x").exists()  # refused before anything ran


def test_parse_size():
    assert parse_size("512x384", min_side=32) == (512, 384)
    with pytest.raises(UsageError):
        parse_size("8x8", min_side=32)


def test_cli_module_import_is_light():
    code = "import sys, tryon.cli.eval; print('torch' in sys.modules, 'tryon.eval.harness' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_student_method_runs_the_exported_model_at_full_resolution(tmp_path):
    import numpy as np

    from tryon.cli.eval import _tryon_fn
    from tryon.garment.catalogue import render_garment
    from tryon.server.testing import write_stand_in_model

    write_stand_in_model(tmp_path / "student", size=(64, 48))
    fn = _tryon_fn("student", None, False, tmp_path / "student")
    person = np.random.default_rng(0).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    garment, _ = render_garment("red-vneck-tank", (256, 192))
    res = fn(person, garment)
    assert res.tryon.shape == person.shape and res.warped_garment.shape == person.shape
    assert res.composition_mask.shape == person.shape[:2]
    assert 0.0 < res.composition_mask.mean() < 1.0  # the stand-in pastes the garment where its mask is
    # The warp's support is the garment mask carried through the same grid into photo coordinates; the
    # stand-in composes exactly there, so the two agree up to resampling.
    assert res.warped_mask.shape == person.shape[:2] and 0.0 <= res.warped_mask.min() <= res.warped_mask.max() <= 1
    assert np.abs(res.warped_mask - res.composition_mask).mean() < 0.03
