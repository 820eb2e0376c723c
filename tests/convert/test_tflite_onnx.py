"""tryon.convert.tflite_onnx: padding arithmetic, tiny hand-built models, and parity with the reference TFLite
runtime (ai_edge_litert) on the three MediaPipe models, on a synthetic image and on real photos.

Tolerances (float32 ONNX vs LiteRT, which runs the same float16-stored weights as float32):
- selfie segmentation probability: max |diff| <= 3e-4 (measured 1.0e-4 on a real photo, where a few edge
  pixels sit on the sigmoid's steep part), mean |diff| <= 1e-5;
- pose landmarks x, y, z (256-pixel input units): max |diff| <= 0.05 px; visibility/presence logits <= 0.05;
- pose heatmaps (logits) <= 5e-3; pose segmentation logits: max |diff| <= 1e-3 x max |logit| (the logits reach
  ~1e3 on background, where float32 summation order alone moves them by ~0.1).
"""

from __future__ import annotations

import numpy as np
import pytest

from tryon.convert.tflite_onnx import convert, same_pads, transpose_conv_pads

litert = pytest.importorskip("ai_edge_litert.interpreter")
ort = pytest.importorskip("onnxruntime")


# -- arithmetic -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size,k,s,d,expected", [
    (256, 3, 2, 1, (0, 1)),   # even input, stride 2: TF pads only at the end
    (255, 3, 2, 1, (1, 1)),
    (7, 5, 1, 1, (2, 2)),
    (10, 3, 1, 2, (2, 2)),    # dilation 2: effective kernel 5
    (9, 1, 2, 1, (0, 0)),
    (8, 4, 3, 1, (1, 1)),
    (5, 2, 2, 1, (0, 1)),     # odd total: the extra pixel goes last
])
def test_same_pads(size, k, s, d, expected):
    assert same_pads(size, k, s, d) == expected
    out = -(-size // s)
    begin, end = expected
    assert (size + begin + end - ((k - 1) * d + 1)) // s + 1 == out


def test_transpose_conv_pads():
    assert transpose_conv_pads(128, 4, 2, 256) == (1, 1)
    assert transpose_conv_pads(128, 2, 2, 256) == (0, 0)
    assert transpose_conv_pads(5, 3, 2, 10) == (0, 1)


# -- tiny hand-built models -----------------------------------------------------------------------------
def _tiny_model(op_name: str = "CONV_2D") -> bytes:
    """A 3-op float model: CONV_2D (SAME, stride 2, RELU6) -> ADD (per-channel constant) -> `op_name` unary.

    Input (1, 7, 9, 3) NHWC: odd sizes exercise the asymmetric SAME padding.
    """
    import flatbuffers
    import tflite as T

    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=(4,)).astype(np.float32)
    c = rng.normal(size=(4,)).astype(np.float32)
    B = flatbuffers.Builder(1024)

    def vec(start, items, prepend):
        start(B, len(items))
        for it in reversed(items):
            prepend(it)
        return B.EndVector()

    def buffer(arr):
        data = B.CreateByteVector(arr.tobytes()) if arr is not None else None
        T.BufferStart(B)
        if data is not None:
            T.BufferAddData(B, data)
        return T.BufferEnd(B)

    buffers = [buffer(None), buffer(None), buffer(w), buffer(b), buffer(None), buffer(c), buffer(None), buffer(None)]
    tensors_spec = [("x", [1, 7, 9, 3], 1), ("w", [4, 3, 3, 3], 2), ("b", [4], 3), ("conv", [1, 4, 5, 4], 4),
                    ("c", [4], 5), ("add", [1, 4, 5, 4], 6), ("y", [1, 4, 5, 4], 7)]
    tensors = []
    for name, shape, buf in tensors_spec:
        n = B.CreateString(name)
        sh = vec(T.TensorStartShapeVector, shape, B.PrependInt32)
        T.TensorStart(B)
        T.TensorAddShape(B, sh)
        T.TensorAddType(B, T.TensorType.FLOAT32)
        T.TensorAddBuffer(B, buf)
        T.TensorAddName(B, n)
        tensors.append(T.TensorEnd(B))

    T.Conv2DOptionsStart(B)
    T.Conv2DOptionsAddPadding(B, T.Padding.SAME)
    T.Conv2DOptionsAddStrideW(B, 2)
    T.Conv2DOptionsAddStrideH(B, 2)
    T.Conv2DOptionsAddFusedActivationFunction(B, T.ActivationFunctionType.RELU6)
    conv_opt = T.Conv2DOptionsEnd(B)
    T.AddOptionsStart(B)
    add_opt = T.AddOptionsEnd(B)

    codes = []
    for name in ("CONV_2D", "ADD", op_name):
        code = getattr(T.BuiltinOperator, name)
        T.OperatorCodeStart(B)
        T.OperatorCodeAddBuiltinCode(B, code)
        T.OperatorCodeAddDeprecatedBuiltinCode(B, min(code, 127))
        T.OperatorCodeAddVersion(B, 1)
        codes.append(T.OperatorCodeEnd(B))

    ops = []
    for idx, ins, outs, opt_type, opt in [(0, [0, 1, 2], [3], T.BuiltinOptions.Conv2DOptions, conv_opt),
                                           (1, [3, 4], [5], T.BuiltinOptions.AddOptions, add_opt),
                                           (2, [5], [6], None, None)]:
        iv = vec(T.OperatorStartInputsVector, ins, B.PrependInt32)
        ov = vec(T.OperatorStartOutputsVector, outs, B.PrependInt32)
        T.OperatorStart(B)
        T.OperatorAddOpcodeIndex(B, idx)
        T.OperatorAddInputs(B, iv)
        T.OperatorAddOutputs(B, ov)
        if opt is not None:
            T.OperatorAddBuiltinOptionsType(B, opt_type)
            T.OperatorAddBuiltinOptions(B, opt)
        ops.append(T.OperatorEnd(B))

    tv = vec(T.SubGraphStartTensorsVector, tensors, B.PrependUOffsetTRelative)
    inv = vec(T.SubGraphStartInputsVector, [0], B.PrependInt32)
    outv = vec(T.SubGraphStartOutputsVector, [6], B.PrependInt32)
    opv = vec(T.SubGraphStartOperatorsVector, ops, B.PrependUOffsetTRelative)
    T.SubGraphStart(B)
    T.SubGraphAddTensors(B, tv)
    T.SubGraphAddInputs(B, inv)
    T.SubGraphAddOutputs(B, outv)
    T.SubGraphAddOperators(B, opv)
    sg = T.SubGraphEnd(B)

    codes_v = vec(T.ModelStartOperatorCodesVector, codes, B.PrependUOffsetTRelative)
    sgs_v = vec(T.ModelStartSubgraphsVector, [sg], B.PrependUOffsetTRelative)
    bufs_v = vec(T.ModelStartBuffersVector, buffers, B.PrependUOffsetTRelative)
    desc = B.CreateString("tiny test model")
    T.ModelStart(B)
    T.ModelAddVersion(B, 3)
    T.ModelAddOperatorCodes(B, codes_v)
    T.ModelAddSubgraphs(B, sgs_v)
    T.ModelAddBuffers(B, bufs_v)
    T.ModelAddDescription(B, desc)
    B.Finish(T.ModelEnd(B), file_identifier=b"TFL3")
    return bytes(B.Output())


def _litert_run(model: bytes | str, x: np.ndarray) -> dict[str, np.ndarray]:
    kw = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    it = litert.Interpreter(**kw, num_threads=1)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}


def _onnx_run(model, x: np.ndarray) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x}), strict=True))


@pytest.mark.parametrize("op", ["HARD_SWISH", "LOGISTIC", "RELU"])
def test_tiny_model_parity(op):
    data = _tiny_model(op)
    x = np.random.default_rng(0).normal(size=(1, 7, 9, 3)).astype(np.float32)
    ref = _litert_run(data, x)["y"]
    got = _onnx_run(convert(data), x)["y"]
    assert got.shape == ref.shape == (1, 4, 5, 4)
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_unsupported_op_names_it():
    with pytest.raises(ValueError, match="TANH"):
        convert(_tiny_model("TANH"))


# -- the MediaPipe models ---------------------------------------------------------------------------------
def _synthetic_person(size: int = 256) -> np.ndarray:
    """A crude figure (head, torso, arms, legs) on a gradient: NHWC float32 [0, 1], deterministic."""
    import cv2

    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.stack([0.8 - 0.2 * yy, 0.8 - 0.1 * xx, 0.75 + 0.0 * xx], -1)
    canvas = (img * 255).astype(np.uint8)
    s = size / 256
    cv2.circle(canvas, (int(128 * s), int(50 * s)), int(18 * s), (200, 160, 140), -1)
    cv2.rectangle(canvas, (int(100 * s), int(70 * s)), (int(156 * s), int(150 * s)), (40, 60, 160), -1)
    for x0, x1 in ((100, 80), (156, 176)):
        cv2.line(canvas, (int(x0 * s), int(75 * s)), (int(x1 * s), int(150 * s)), (200, 160, 140), int(12 * s))
    for x0, x1 in ((115, 110), (141, 146)):
        cv2.line(canvas, (int(x0 * s), int(150 * s)), (int(x1 * s), int(240 * s)), (30, 30, 40), int(16 * s))
    noise = np.random.default_rng(0).normal(0, 4, canvas.shape)
    return (np.clip(canvas + noise, 0, 255) / 255).astype(np.float32)[None]


def _check_pose(got: dict, ref: dict) -> dict[str, float]:
    lm_g, lm_r = got["Identity"].reshape(39, 5), ref["Identity"].reshape(39, 5)
    d = {
        "xyz": float(np.abs(lm_g[:, :3] - lm_r[:, :3]).max()),
        "logits": float(np.abs(lm_g[:, 3:] - lm_r[:, 3:]).max()),
        "presence": float(np.abs(got["Identity_1"] - ref["Identity_1"]).max()),
        "heatmap": float(np.abs(got["Identity_3"] - ref["Identity_3"]).max()),
        "seg_rel": float(np.abs(got["Identity_2"] - ref["Identity_2"]).max() / np.abs(ref["Identity_2"]).max()),
        "world": float(np.abs(got["Identity_4"] - ref["Identity_4"]).max()),
    }
    assert d["xyz"] <= 0.05, d
    assert d["logits"] <= 0.05, d
    assert d["presence"] <= 1e-4, d
    assert d["heatmap"] <= 5e-3, d
    assert d["seg_rel"] <= 1e-3, d
    assert d["world"] <= 1e-3, d
    return d


@pytest.fixture(scope="module")
def converted(mediapipe_tflite):
    return {name: convert(path) for name, path in mediapipe_tflite.items()}


def test_selfie_segmentation_parity_synthetic(mediapipe_tflite, converted):
    x = _synthetic_person()
    ref = _litert_run(mediapipe_tflite["selfie_segmentation"], x)["activation_10"]
    got = _onnx_run(converted["selfie_segmentation"], x)["activation_10"]
    assert got.shape == (1, 256, 256, 1)
    assert ref.max() > 0.5  # the synthetic figure is seen as a person, so the comparison is not all zeros
    assert np.abs(got - ref).max() <= 3e-4
    assert np.abs(got - ref).mean() <= 1e-5


@pytest.mark.parametrize("name", ["pose_landmark_full", "pose_landmark_heavy"])
def test_pose_parity_synthetic(mediapipe_tflite, converted, name):
    x = _synthetic_person()
    _check_pose(_onnx_run(converted[name], x), _litert_run(mediapipe_tflite[name], x))


@pytest.mark.realdata
def test_parity_on_real_photos(mediapipe_tflite, converted, vton_samples):
    """Whole photo squashed to 256x256 (seg) and a person-centred square crop (pose), three photos."""
    import cv2

    from tryon.processing import load_image

    photos = sorted((vton_samples / "person").glob("*.jpg"))[::25][:3]
    assert photos
    for p in photos:
        img = load_image(p)
        x = (cv2.resize(img, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255)[None]
        ref = _litert_run(mediapipe_tflite["selfie_segmentation"], x)["activation_10"]
        got = _onnx_run(converted["selfie_segmentation"], x)["activation_10"]
        assert np.abs(got - ref).max() <= 3e-4, p.name
        assert np.abs(got - ref).mean() <= 1e-5, p.name
        h, w = img.shape[:2]
        side = max(h, w)
        sq = np.zeros((side, side, 3), np.uint8)
        sq[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = img
        x = (cv2.resize(sq, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255)[None]
        _check_pose(_onnx_run(converted["pose_landmark_full"], x),
                    _litert_run(mediapipe_tflite["pose_landmark_full"], x))
