"""`tryon quantize` on models that are not the try-on student: .npz and random inputs, every output compared,
the gate on any model, a failing file written nowhere, the int8 flags, and optimum's presets and ORTConfig files.

Models: a small conv net built here with ``onnx.helper`` (NHWC image in, a mask image and a logits vector out),
and the converted selfie segmenter and BlazePose that ``tryon setup`` put in the models folder (read only; those
tests skip when they are absent).
"""

from __future__ import annotations

import json
import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from tryon.assets import models_dir
from tryon.errors import DataError, QualityGateError, UsageError
from tryon.quantize import quantize_model
from tryon.quantize.config import QuantConfig, ort_config_path
from tryon.quantize.gate import (GateLimits, OutputAccuracy, check_gate, check_limits_fit, compare_outputs, cosine,
                                 is_image_like, range_psnr_db)
from tryon.quantize.graph import op_histogram
from tryon.quantize.inputs import RANDOM_WARNING, load_inputs, load_npz_samples

from .conftest import make_export_dir, quantize_app

H = W = 32


def build_convnet(seed: int = 0) -> onnx.ModelProto:
    """input_1 (1, H, W, 3) NHWC -> mask (1, 1, H, W) sigmoid, logits (1, 10)."""
    rng = np.random.default_rng(seed)
    inits = []

    def conv(name, x, cin, cout):
        w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))).astype(np.float32)
        inits.extend([numpy_helper.from_array(w, f"{name}.w"),
                      numpy_helper.from_array((rng.standard_normal(cout) * 0.1).astype(np.float32), f"{name}.b")])
        return helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [name], name=name, pads=[1, 1, 1, 1])

    inits += [numpy_helper.from_array(rng.standard_normal((16, 10)).astype(np.float32) * 0.3, "fc.w"),
              numpy_helper.from_array(np.zeros(10, np.float32), "fc.b")]
    n = helper.make_node
    nodes = [n("Transpose", ["input_1"], ["x"], perm=[0, 3, 1, 2], name="to_nchw"),
             conv("conv1", "x", 3, 16), n("Relu", ["conv1"], ["r1"], name="relu1"),
             conv("conv2", "r1", 16, 16), n("Relu", ["conv2"], ["r2"], name="relu2"),
             conv("head", "r2", 16, 1), n("Sigmoid", ["head"], ["mask"], name="sigmoid"),
             n("GlobalAveragePool", ["r2"], ["pooled"], name="pool"),
             n("Flatten", ["pooled"], ["flat"], name="flatten"),
             n("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc")]
    f = TensorProto.FLOAT
    graph = helper.make_graph(nodes, "convnet", [helper.make_tensor_value_info("input_1", f, [1, H, W, 3])],
                              [helper.make_tensor_value_info("mask", f, [1, 1, H, W]),
                               helper.make_tensor_value_info("logits", f, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="module")
def convnet(tmp_path_factory):
    p = tmp_path_factory.mktemp("convnet") / "convnet.onnx"
    onnx.save(build_convnet(), str(p))
    return p


def _images(n: int, seed: int) -> np.ndarray:
    """Smooth synthetic images in [0, 1], (n, H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W] / H
    out = [np.stack([np.sin(xx * rng.uniform(1, 6) + rng.uniform(0, 3)) * 0.5 + 0.5,
                     np.cos(yy * rng.uniform(1, 6)) * 0.5 + 0.5, np.full((H, W), rng.uniform())], -1)
           for _ in range(n)]
    return np.asarray(out, np.float32)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """calib.npz: a stack of 6 samples; eval/: a folder of two files of one sample each."""
    root = tmp_path_factory.mktemp("npz")
    np.savez(root / "calib.npz", input_1=_images(6, 0)[:, None])  # (6, 1, H, W, 3): one leading sample axis
    (root / "eval").mkdir()
    for i, img in enumerate(_images(2, 1)):
        np.savez(root / "eval" / f"s{i}.npz", input_1=img[None])
    return root


def test_npz_inputs_and_their_refusals(convnet, npz, tmp_path):
    model = onnx.load(str(convnet))
    s = load_npz_samples(npz / "calib.npz", model, limit=4)
    assert len(s) == 4 and s[0]["input_1"].shape == (1, H, W, 3) and s[0]["input_1"].dtype == np.float32
    assert len(load_inputs(npz / "eval", model)) == 2
    np.savez(tmp_path / "wrong_name.npz", image=_images(1, 0))
    with pytest.raises(DataError, match="no array named 'input_1'"):
        load_npz_samples(tmp_path / "wrong_name.npz", model)
    np.savez(tmp_path / "wrong_shape.npz", input_1=np.zeros((1, 16, W, 3), np.float32))
    with pytest.raises(DataError, match="dimension 1 differs"):
        load_npz_samples(tmp_path / "wrong_shape.npz", model)
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_npz_samples(tmp_path / "bad.npz", model)


def test_photos_for_a_foreign_model_say_what_to_pass(convnet, calib_dir, tmp_path):
    # Was DataError (exit 41, "not a try-on student input"): now a usage error naming .npz and random inputs.
    with pytest.raises(UsageError, match=r"input_1 float32 \[1, 32, 32, 3\].*\.npz.*--random-calibration") as ei:
        quantize_model(convnet, tmp_path, ["int8"], calibration=calib_dir, runs=0)
    assert ei.value.exit_code == 2
    with pytest.raises(UsageError, match="--random-calibration N"):
        quantize_model(convnet, tmp_path, ["int8"], runs=0)
    assert not list(tmp_path.glob("*.onnx"))


def test_foreign_model_every_mode_on_npz(convnet, npz, tmp_path):
    report = quantize_model(convnet, tmp_path, ["fp16", "int8", "dynamic"], calibration=npz / "calib.npz",
                            eval_source=npz / "eval", samples=6, runs=1, warmup=0,
                            gate=GateLimits(min_psnr=20, min_cosine=0.9))
    assert report.gate["passed"] and report.eval_samples == 2 and report.calibration_samples == 6
    assert [r.mode for r in report.results] == ["fp32", "fp16", "int8", "dynamic"]
    for r in report.results[1:]:
        assert r.written and r.path.is_file()
        acc = r.accuracy
        assert set(acc.judged) == {"mask", "logits"}
        assert acc.outputs["mask"].kind == "image" and acc.outputs["mask"].psnr_db > 20
        assert acc.outputs["logits"].kind == "tensor" and 0.9 < acc.outputs["logits"].cosine <= 1.0 + 1e-9
    assert op_histogram(onnx.load(str(tmp_path / "convnet_int8.onnx")))["QuantizeLinear"] > 0
    # The settings used, as an optimum ORTConfig, beside each int8 file.
    cfg = json.loads(ort_config_path(tmp_path / "convnet_int8.onnx").read_text())
    assert cfg["quantization"]["is_static"] and cfg["quantization"]["format"] == "QDQ"
    assert cfg["quantization"]["per_channel"] is True and cfg["tryon"]["calibrate_method"] == "MinMax"
    dyn = json.loads(ort_config_path(tmp_path / "convnet_quantized.onnx").read_text())["quantization"]
    assert dyn["is_static"] is False and dyn["mode"] == "IntegerOps"


def test_random_inputs_warn_and_are_marked(convnet, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tryon.quantize"):
        report = quantize_model(convnet, tmp_path, ["int8"], random_calibration=3, eval_samples=2, runs=0)
    assert caplog.text.count(RANDOM_WARNING) == 1  # once per run, not once per use
    assert report.random_inputs and report.results[1].accuracy.samples == 2
    assert report.to_dict()["eval"]["random"] is True


def test_int8_flags_reach_the_graph(convnet, npz, tmp_path):
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(convnet), "-o", str(tmp_path), "--mode", "int8", "--calibration", str(npz / "calib.npz"),
        "--per-tensor", "--reduce-range", "--calibration-method", "Percentile", "--op-types", "Conv",
        "--exclude-node", "conv2", "--activation-type", "QInt8", "--runs", "0", "--samples", "3"])
    assert res.exit_code == 0, res.output
    m = onnx.load(str(tmp_path / "convnet_int8.onnx"))
    produced_by = {o: n for n in m.graph.node for o in n.output}
    conv_inputs = {n.name: n.input for n in m.graph.node if n.op_type == "Conv"}
    # conv1 reads a dequantized input and weight, conv2 (excluded) and the Gemm (not in --op-types) stay float.
    assert produced_by[conv_inputs["conv1"][1]].op_type == "DequantizeLinear"
    assert conv_inputs["conv2"][1] not in produced_by  # its float weight initializer, no DequantizeLinear
    gemm = next(n for n in m.graph.node if n.op_type == "Gemm")
    assert all(i not in produced_by or produced_by[i].op_type != "DequantizeLinear" for i in gemm.input[1:])
    inits = {i.name: i for i in m.graph.initializer}
    # QInt8 activations: int8 zero points; per-tensor: scalar weight scales.
    zps = [inits[n.input[2]] for n in m.graph.node if n.op_type == "QuantizeLinear" and n.input[2] in inits]
    assert zps and all(z.data_type == TensorProto.INT8 for z in zps)
    w_dq = produced_by[conv_inputs["conv1"][1]]
    assert numpy_helper.to_array(inits[w_dq.input[1]]).size == 1
    q = json.loads(ort_config_path(tmp_path / "convnet_int8.onnx").read_text())
    assert q["quantization"]["reduce_range"] is True and q["quantization"]["nodes_to_exclude"] == ["conv2"]
    assert q["quantization"]["operators_to_quantize"] == ["Conv"] and q["tryon"]["calibrate_method"] == "Percentile"
    assert q["quantization"]["activations_dtype"] == "QInt8" and q["quantization"]["activations_symmetric"] is True


def test_failing_file_is_written_nowhere_nor_in_the_manifest(tiny_student, calib_dir, tmp_path):
    from tryon.manifest import Manifest

    make_export_dir(tmp_path, tiny_student)  # model.onnx + manifest.json: quantize lists what it writes there
    before = (tmp_path / "manifest.json").read_text()
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(tmp_path / "model.onnx"), "-o", str(tmp_path), "--mode", "int8", "--mode", "dynamic",
        "--calibration", str(calib_dir), "--samples", "2", "--eval-samples", "1", "--runs", "0",
        "--min-psnr", "500", "--json", str(tmp_path / "r.json")])
    assert isinstance(res.exception, QualityGateError) and res.exception.exit_code == 60
    assert "not written" in res.exception.message
    assert not (tmp_path / "model_int8.onnx").exists() and not (tmp_path / "model_quantized.onnx").exists()
    assert not ort_config_path(tmp_path / "model_int8.onnx").exists()
    assert (tmp_path / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "model.onnx", "r.json"]
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["gate"]["passed"] is False and [r["written"] for r in d["results"][1:]] == [False, False]
    # The same run with a gate it passes writes and lists both.
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(tmp_path / "model.onnx"), "-o", str(tmp_path), "--mode", "int8", "--mode", "dynamic",
        "--calibration", str(calib_dir), "--samples", "2", "--eval-samples", "1", "--runs", "0", "--min-psnr", "5"])
    assert res.exit_code == 0, res.output
    assert {f.dtype for f in Manifest.load(tmp_path).files} == {"fp32", "int8", "int8_dynamic"}


def test_per_output_figures_and_gate_rules():
    assert is_image_like((1, 3, 16, 16)) and is_image_like((1, 256, 256, 1)) and not is_image_like((1, 195))
    assert not is_image_like((1, 64, 64, 39)) and not is_image_like((1, 16, 16, 2))
    a = np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    assert range_psnr_db(a, a + 0.1) == pytest.approx(20.0)  # peak 1, MSE 0.01
    v = np.array([[1.0, 0.0]], np.float32)
    assert cosine(v, np.array([[0.0, 1.0]], np.float32)) == pytest.approx(0.0) and cosine(v, 2 * v) == pytest.approx(1)
    acc = compare_outputs([{"seg": a, "landmarks": v}], [{"seg": a + 0.1, "landmarks": np.array([[1.0, 1.0]])}])
    assert acc.judged == ("seg", "landmarks") and acc.outputs["landmarks"].cosine == pytest.approx(2 ** -0.5)
    check_gate({"int8": acc}, min_psnr=19, min_cosine=0.7, max_delta=1.01)
    with pytest.raises(QualityGateError, match="cosine 0.707107 < 0.8 on 'landmarks'"):
        check_gate({"int8": acc}, min_cosine=0.8)
    only_tensor = compare_outputs([{"landmarks": v}], [{"landmarks": v}])
    with pytest.raises(UsageError, match="--min-psnr judges image-like outputs"):
        check_limits_fit(only_tensor, GateLimits(min_psnr=30))
    assert OutputAccuracy("x", "image", 0.0, psnr_db=float("inf")).to_dict()["psnr_db"] is None
    # One number per sample (a presence score): max |Δ| only, never a cosine over samples.
    score = compare_outputs([{"score": np.array([[1e-5]])}], [{"score": np.array([[0.0]])}]).outputs["score"]
    assert score.kind == "scalar" and score.cosine is None and score.max_abs_diff == pytest.approx(1e-5)


def _installed(name: str):
    p = models_dir() / name
    if not p.is_file():
        pytest.skip(f"{p} not built (tryon setup)")
    return p


@pytest.mark.parametrize("name,gate", [("selfie_segmentation.onnx", ["--min-psnr", "10"]),
                                       ("pose_landmark_lite.onnx", ["--min-cosine", "0.5", "--min-psnr", "10"])])
def test_installed_models_every_mode_one_command(name, gate, tmp_path):
    model = _installed(name)
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(model), "-o", str(tmp_path), "--mode", "fp16", "--mode", "int8", "--mode", "dynamic",
        "--random-calibration", "2", "--eval-samples", "1", "--runs", "1", "--warmup", "0",
        "--json", str(tmp_path / "r.json"), *gate])
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["gate"] is not None and d["eval"]["random"] is True
    for r in d["results"][1:]:
        assert r["accuracy"]["outputs"] and all(o["max_abs_diff"] >= 0 for o in r["accuracy"]["outputs"])
        assert (tmp_path / r["path"].split("/")[-1]).is_file() == r["written"]
    if d["gate"]["passed"]:
        assert res.exit_code == 0, res.output
    else:
        assert isinstance(res.exception, QualityGateError) and res.exception.exit_code == 60
    assert "every output vs fp32" in res.output


pytest.importorskip("optimum.onnxruntime.configuration", reason="optimum-onnx is not installed")


def test_preset_and_ort_config_round_trip(convnet, npz, tmp_path):
    from optimum.onnxruntime.configuration import AutoQuantizationConfig, ORTConfig

    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(convnet), "-o", str(tmp_path / "a"), "--mode", "int8", "--mode", "dynamic",
        "--calibration", str(npz / "calib.npz"), "--samples", "2", "--runs", "0", "--preset", "arm64"])
    assert res.exit_code == 0, res.output
    written = ort_config_path(tmp_path / "a" / "convnet_int8.onnx")
    # optimum reads what was written, and it is its arm64 preset.
    back = ORTConfig.from_pretrained(str(written)).quantization
    want = AutoQuantizationConfig.arm64(is_static=True, per_channel=True)
    for f in ("is_static", "format", "mode", "activations_dtype", "weights_dtype", "per_channel", "reduce_range",
              "operators_to_quantize", "activations_symmetric", "weights_symmetric"):
        assert getattr(back, f) == getattr(want, f), f
    dyn = ORTConfig.from_pretrained(str(ort_config_path(tmp_path / "a" / "convnet_quantized.onnx"))).quantization
    assert dyn.is_static is False and dyn.operators_to_quantize == AutoQuantizationConfig.arm64(
        is_static=False).operators_to_quantize
    # --config with that file reproduces the settings; a flag overrides one field.
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(convnet), "-o", str(tmp_path / "b"), "--mode", "int8", "--calibration",
        str(npz / "calib.npz"), "--samples", "2", "--runs", "0", "--config", str(written), "--per-tensor"])
    assert res.exit_code == 0, res.output
    again = json.loads(ort_config_path(tmp_path / "b" / "convnet_int8.onnx").read_text())["quantization"]
    first = json.loads(written.read_text())["quantization"]
    assert again["per_channel"] is False and {**first, "per_channel": False} == again
    # A dynamic file's settings for static int8: every field but its QOperator format.
    res = CliRunner().invoke(quantize_app(), [
        "quantize", str(convnet), "-o", str(tmp_path / "c"), "--mode", "int8", "--calibration",
        str(npz / "calib.npz"), "--samples", "2", "--runs", "0", "--config",
        str(ort_config_path(tmp_path / "a" / "convnet_quantized.onnx"))])
    assert res.exit_code == 0, res.output
    ops = op_histogram(onnx.load(str(tmp_path / "c" / "convnet_int8.onnx")))
    assert "QLinearConv" not in ops and ops["DequantizeLinear"] > 0  # QDQ, not the QOperator QLinearConv


def test_preset_and_config_refusals(convnet, npz, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    r = CliRunner().invoke(quantize_app(), ["quantize", str(convnet), "-o", str(tmp_path), "--mode", "dynamic",
                                    "--config", str(tmp_path / "bad.json"), "--runs", "0"])
    assert isinstance(r.exception, DataError) and "optimum cannot read" in r.exception.message
    r = CliRunner().invoke(quantize_app(), ["quantize", str(convnet), "-o", str(tmp_path), "--mode", "dynamic",
                                    "--config", str(tmp_path / "bad.json"), "--preset", "avx2"])
    assert isinstance(r.exception, UsageError) and "give one" in r.exception.message
    r = CliRunner().invoke(quantize_app(), ["quantize", str(convnet), "-o", str(tmp_path), "--mode", "dynamic",
                                    "--preset", "avx9000"])
    assert r.exit_code == 2 and "avx9000" in r.output
    assert QuantConfig().operators_to_quantize == ("Conv", "ConvTranspose", "MatMul", "Gemm")


def test_cli_choices_are_the_librarys():
    from tryon.cli.quantize import CalibMethod, Mode, Preset, QType
    from tryon.quantize import MODES
    from tryon.quantize.config import CALIBRATION_METHODS, PRESETS, QUANT_TYPES

    assert tuple(Mode) == MODES and tuple(Preset) == PRESETS
    assert tuple(CalibMethod) == CALIBRATION_METHODS and tuple(QType) == QUANT_TYPES


@pytest.mark.realdata
def test_selfie_segmenter_on_real_photos(vton_samples, tmp_path):
    """Real person photos as a .npz (made here, in a temporary folder): fp16 keeps the mask (PSNR >= 40 dB), and
    the gate that fp16 passes is the one that keeps a worse int8 file out of the output folder."""
    from PIL import Image

    from tryon.processing import load_image

    model = _installed("selfie_segmentation.onnx")
    photos = sorted((vton_samples / "person").iterdir())[:4]
    arr = np.stack([np.asarray(Image.fromarray(load_image(p)).resize((256, 256)), np.float32)[None] / 255
                    for p in photos])
    np.savez(tmp_path / "photos.npz", input_1=arr)
    report = quantize_model(model, tmp_path / "out", ["fp16", "int8"], calibration=tmp_path / "photos.npz",
                            samples=4, runs=0, gate=GateLimits(min_psnr=40))
    fp16, int8 = report.results[1], report.results[2]
    assert fp16.accuracy.samples == 4 and fp16.accuracy.psnr_db >= 40 and fp16.written and fp16.path.is_file()
    assert int8.written == (int8.accuracy.psnr_db >= 40) and int8.path.is_file() == int8.written
