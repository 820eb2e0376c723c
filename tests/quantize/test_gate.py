"""Accuracy figures and the quality gate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tryon.errors import TryonError
from tryon.quantize.gate import QualityGateError, check_gate, compare_outputs, psnr_db


def test_psnr_and_max_abs():
    a = np.zeros((1, 3, 8, 8), np.float32)
    b = a.copy()
    b[0, 0, 0, 0] = 0.5
    assert math.isinf(psnr_db(a, a))
    # MSE in [0, 1] units: (0.25)^2 / 192
    assert psnr_db(a, b) == pytest.approx(10 * math.log10(192 / 0.0625))
    acc = compare_outputs([{"tryon": a, "grid": a}], [{"tryon": b, "grid": a}])
    assert acc.max_abs_diff == pytest.approx(0.5) and acc.max_abs_diff_by_output["grid"] == 0
    assert acc.to_dict()["psnr_db"] == pytest.approx(acc.psnr_db)
    assert compare_outputs([{"tryon": a}], [{"tryon": a}]).to_dict()["psnr_db"] is None


def test_gate_passes_and_fails():
    a = np.zeros((1, 3, 4, 4), np.float32)
    acc = compare_outputs([{"tryon": a}], [{"tryon": a + 0.01}])
    check_gate({"int8": acc}, max_delta=0.02, min_psnr=40)
    with pytest.raises(QualityGateError, match="int8: max abs diff") as ei:
        check_gate({"int8": acc}, max_delta=0.001)
    assert isinstance(ei.value, TryonError) and ei.value.exit_code == 60
    with pytest.raises(QualityGateError, match="PSNR"):
        check_gate({"int8": acc}, min_psnr=1000)
