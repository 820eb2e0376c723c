"""`tryon run` with an outfit (several --garment, --tuck) on a real person from ../shared (skipped when absent),
with the real converted models (skipped when missing)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.errors import EXIT_CODES
from tryon.teacher.pipeline import Teacher

TRYON = shutil.which("tryon") or str(Path(sys.executable).with_name("tryon"))
PERSON = "person/ootdiffusion__051918_0.jpg"  # Dress Code: full body, front view (bottoms need the legs)


def tryon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TRYON, *args], capture_output=True, text=True, timeout=600)


def _teacher_dresses(category: str) -> bool:
    return category in Teacher.CATEGORIES


def test_outfit_usage_errors(tmp_path):
    """Refused before any model loads: a bad --tuck, one --category for several garments, --garment with
    --pairs."""
    out = str(tmp_path / "o.png")
    r = tryon("run", "-p", "x.jpg", "-g", "catalogue:white-crew-tee", "-g", "catalogue:blue-jeans", "--tuck",
              "half", "-o", out)
    assert r.returncode == EXIT_CODES["UsageError"] and "--tuck must be one of out, in" in r.stderr
    r = tryon("run", "-p", "x.jpg", "-g", "catalogue:white-crew-tee", "-g", "catalogue:blue-jeans", "--category",
              "tops", "-o", out)
    assert r.returncode == EXIT_CODES["UsageError"] and "leave --category out" in r.stderr
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("person,garment\nx.jpg,y.jpg\n")
    r = tryon("run", "--pairs", str(pairs), "-g", "catalogue:white-crew-tee", "-o", str(tmp_path / "res"))
    assert r.returncode == EXIT_CODES["UsageError"] and "with --pairs the garments come from the CSV" in r.stderr


@pytest.mark.realdata
def test_outfit_refusals_on_a_real_person(vton_samples, teacher_models, tmp_path):
    out = tmp_path / "o.png"
    person = str(vton_samples / PERSON)
    r = tryon("run", "-p", person, "-g", "catalogue:white-crew-tee", "-g", "catalogue:red-vneck-tank", "-o", str(out))
    assert r.returncode == EXIT_CODES["UnsupportedCategoryError"], r.stderr
    assert "two tops in one outfit (white-crew-tee and red-vneck-tank)" in r.stderr and "Traceback" not in r.stderr
    r = tryon("run", "-p", person, "-g", "catalogue:navy-shift-dress", "-g", "catalogue:plum-pleated-skirt", "-o",
              str(out))
    assert r.returncode == EXIT_CODES["UnsupportedCategoryError"], r.stderr
    assert "one-piece (navy-shift-dress)" in r.stderr and "cannot be worn with bottoms" in r.stderr
    assert not out.exists()


@pytest.mark.realdata
@pytest.mark.parametrize("tuck", ["out", "in"])
def test_outfit_top_and_jeans(vton_samples, teacher_models, tmp_path, tuck):
    """A top and jeans on a real person: dressed in the tuck's order once the teacher dresses bottoms (the result
    differs from the top alone below the waist), refused with the jeans named until then."""
    person = str(vton_samples / PERSON)
    out = tmp_path / "outfit.png"
    r = tryon("run", "-p", person, "-g", "catalogue:white-crew-tee", "-g", "catalogue:blue-jeans", "--tuck", tuck,
              "-o", str(out), "--intermediates")
    if not _teacher_dresses("bottoms"):
        assert r.returncode == EXIT_CODES["UnsupportedCategoryError"], r.stderr
        assert "blue-jeans" in r.stderr and "'bottoms'" in r.stderr and not out.exists()
        return
    assert r.returncode == 0, r.stderr
    order = "bottoms (blue-jeans) then tops (white-crew-tee)" if tuck == "out" else \
        "tops (white-crew-tee) then bottoms (blue-jeans)"
    assert f"tuck {tuck}: {order}" in r.stdout
    first, second = ("bottoms", "tops") if tuck == "out" else ("tops", "bottoms")
    assert (tmp_path / f"outfit_1_{first}.png").exists() and (tmp_path / f"outfit_2_{second}.png").exists()
    top_only = tmp_path / "top.png"
    assert tryon("run", "-p", person, "-g", "catalogue:white-crew-tee", "-o", str(top_only)).returncode == 0
    a, b = np.asarray(Image.open(out)).astype(int), np.asarray(Image.open(top_only)).astype(int)
    h = a.shape[0]
    assert np.abs(a[h * 2 // 3:] - b[h * 2 // 3:]).mean() > 3  # the legs changed


@pytest.mark.realdata
def test_student_outfit_refuses_a_category_it_does_not_dress(vton_samples, tmp_path):
    """``--method student`` checks an outfit against the categories its manifest lists before the first step."""
    from tryon.assets import models_dir
    from tryon.manifest import Manifest

    folder = models_dir() / "student"
    if not (folder / "manifest.json").is_file():
        pytest.skip(f"no exported student in {folder} (make setup)")
    manifest = Manifest.load(folder)
    if "bottoms" in manifest.categories:
        pytest.skip("the installed student dresses bottoms")
    if manifest.students:  # the tops student alone, without the bottoms student deployed with it
        import dataclasses

        alone = tmp_path / "tops_alone"
        shutil.copytree(folder, alone, ignore=lambda d, names: [n for n in names if (Path(d) / n).is_dir()])
        dataclasses.replace(manifest, students={}).save(alone)
        folder = alone
    out = tmp_path / "o.png"
    r = tryon("run", "--method", "student", "--model-dir", str(folder), "-p", str(vton_samples / PERSON), "-g",
              "catalogue:white-crew-tee", "-g", "catalogue:blue-jeans", "-o", str(out))
    assert r.returncode == EXIT_CODES["UnsupportedCategoryError"], r.stderr
    assert r.stderr.startswith("error: blue-jeans: this garment looks like 'bottoms'") and not out.exists()
