"""The student's output gate (tryon.framing.output_gate_raw / refuse_output_gate) on the deployed student.

The gate's ramps were set on the student as ``make setup`` deploys it (the committed default at 256x192, with
framing), judged by eye on the wild-dev tops pairs (``models/weights/afn_student_s.md``, "Output gate"); these
tests run the same (``deployed_student`` in ``tests/conftest.py``) on wild-dev photos (skipped when absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tryon.errors import EXIT_CODES, LowConfidenceError

def _load(path):
    from tryon.processing import load_image

    return load_image(path)


@pytest.fixture(scope="module")
def runners(deployed_student):
    from tryon.student_runner import StudentRunner

    kw = dict(providers="cpu", intra_op_threads=1, framing_threads=1)
    return StudentRunner(deployed_student, **kw), StudentRunner(deployed_student, gate=False, **kw)


@pytest.mark.realdata
def test_a_plausible_result_passes_with_its_confidence(runners, wild_dev):
    gated, _ = runners
    # A man in a white tee, a white polo: judged plausible; nothing spilled, no old garment around it.
    r = gated(_load(wild_dev / "person" / "dewbm__men.jpg"), _load(wild_dev / "garment" / "dewbm__men-11.jpeg"))
    assert r.quality.weakest in ("off_body", "old_garment") and r.quality.confidence > 0.5
    assert r.quality.raw["off_body"] < 0.05 and r.quality.raw["old_garment"] < 0.08


@pytest.mark.realdata
@pytest.mark.parametrize(("person", "garment", "weakest", "words"), [
    # A white shirt with long sleeves, a short-sleeved hooded top: the shirt's sleeves stay.
    ("omnitry__person_tie.jpg", "dewbm__men-13.jpeg", "old_garment", "your own clothes would still show"),
    # A close-up holding flowers: the blouse drawn over the flowers and the background.
    ("omnitry__person_glasses.jpg", "dewbm__women-1.jpg", "off_body", "could not fit this garment"),
])
def test_results_a_shopper_would_not_believe_are_refused(runners, wild_dev, person, garment, weakest, words):
    gated, ungated = runners
    p, g = _load(wild_dev / "person" / person), _load(wild_dev / "garment" / garment)
    with pytest.raises(LowConfidenceError, match=words) as refused:
        gated(p, g)
    assert refused.value.quality.weakest == weakest and refused.value.quality.confidence == 0.0
    assert "--no-gate" in refused.value.cli_hint
    shown = ungated(p, g)  # measured the same, and shown anyway
    assert shown.quality.as_dict() == refused.value.quality.as_dict()
    assert shown.tryon.shape == p.shape and not np.array_equal(shown.tryon, p)


@pytest.mark.realdata
def test_tryon_run_student_gate_exit_code_and_no_gate(deployed_student, wild_dev, tmp_path):
    import shutil
    import subprocess
    import sys

    exe = shutil.which("tryon") or str(Path(sys.executable).with_name("tryon"))
    args = [exe, "run", "--method", "student", "--model-dir", str(deployed_student),
            "-p", str(wild_dev / "person" / "omnitry__person_tie.jpg"),
            "-g", str(wild_dev / "garment" / "dewbm__men-13.jpeg")]
    refused = subprocess.run([*args, "-o", str(tmp_path / "a.png")], capture_output=True, text=True, timeout=300)
    assert refused.returncode == EXIT_CODES["LowConfidenceError"] == 61
    assert "old_garment" in refused.stderr and "--no-gate" in refused.stderr and not (tmp_path / "a.png").exists()
    shown = subprocess.run([*args, "-o", str(tmp_path / "b.png"), "--no-gate"], capture_output=True, text=True,
                           timeout=300)
    assert shown.returncode == 0 and "confidence 0.00 (weakest: old_garment)" in shown.stdout
    assert (tmp_path / "b.png").is_file()


def test_a_manifest_without_the_gate_runs_ungated():
    from tryon.framing import FramingConfig, output_gate_scores

    old = FramingConfig.from_dict({"mask_threshold": 0.5})  # written before the output gate existed
    assert old.output_gate == {}
    assert output_gate_scores({"off_body": 1.0, "old_garment": 1.0}, old).weakest == ""
    assert FramingConfig.from_dict(None).output_gate == FramingConfig().output_gate != {}
