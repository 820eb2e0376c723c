"""Calibration samples: preprocessed like the runtime, refusals for unusable folders and foreign models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tryon.errors import DataError
from tryon.quantize import calibration
from tryon.quantize.calibration import find_pairs, load_samples, student_input_size


def test_samples_match_model_inputs(tiny_student, calib_dir):
    m = onnx.load(str(tiny_student))
    s = load_samples(calib_dir, m, limit=2)
    assert len(s) == 2
    assert s[0]["person"].shape == (1, 3, 64, 48) and s[0]["garment_mask"].shape == (1, 1, 64, 48)
    assert s[0]["person"].dtype == np.float32 and -1 <= s[0]["person"].min() and s[0]["person"].max() <= 1
    assert 0 <= s[0]["garment_mask"].min() and s[0]["garment_mask"].max() <= 1 and s[0]["garment_mask"].max() > 0.5


def test_mask_fallback_when_no_mask_folder(tiny_student, calib_dir, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(calib_dir / "person", tmp_path / "person")
    shutil.copytree(calib_dir / "garment", tmp_path / "garment")
    calls = []
    real = calibration._garment_mask

    def spy(path, image):
        calls.append(path)
        return real(path, image)

    monkeypatch.setattr(calibration, "_garment_mask", spy)
    s = load_samples(tmp_path, onnx.load(str(tiny_student)), limit=1)
    assert calls and s[0]["garment_mask"].max() > 0.5


def test_refusals(tiny_student, tmp_path):
    m = onnx.load(str(tiny_student))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="person/ and garment/"):
        find_pairs(tmp_path / "empty")
    (tmp_path / "empty" / "person").mkdir()
    (tmp_path / "empty" / "garment").mkdir()
    with pytest.raises(DataError, match="no images"):
        load_samples(tmp_path / "empty", m)
    with pytest.raises(DataError, match="no such"):
        find_pairs(tmp_path / "missing")
    other = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["image"], ["y"])], "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 64, 64])]))
    with pytest.raises(DataError, match="not a try-on student input"):
        student_input_size(other)
    dyn = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["person"], ["y"])], "g",
        [helper.make_tensor_value_info("person", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "H", "W"])]))
    with pytest.raises(DataError, match="--size"):
        student_input_size(dyn)
    assert student_input_size(dyn, (32, 24)) == (32, 24)


@pytest.mark.realdata
def test_real_photos(tiny_student, vton_samples):
    s = load_samples(vton_samples, onnx.load(str(tiny_student)), limit=2)
    assert len(s) == 2 and s[1]["garment"].shape == (1, 3, 64, 48)
