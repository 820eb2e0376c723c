"""A small TFLite -> ONNX converter for the float MediaPipe models (selfie segmentation, BlazePose GHUM).

Why our own: ``tflite2onnx`` 0.4.1 fails on these models (HARD_SWISH, PAD) and ``tf2onnx`` needs TensorFlow.
The flatbuffer is read with the PyPI ``tflite`` bindings and the graph emitted with ``onnx.helper``
(opset 17, IR 8). Float16 weights behind DEQUANTIZE are folded to float32 initializers.

Layout: TFLite is NHWC, ONNX convolutions are NCHW. Every 4-D activation is kept NCHW inside the graph: one
``Transpose(0,3,1,2)`` after each 4-D NHWC input, ``Transpose(0,2,3,1)`` before each 4-D output and before a
RESHAPE of a 4-D tensor, so graph inputs and outputs keep the TFLite names, shapes and NHWC layout and a
converted model is a drop-in replacement for the ``.tflite`` file.

Supported ops: DEQUANTIZE (constant), CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, RELU, RELU6, HARD_SWISH,
LOGISTIC, AVERAGE_POOL_2D, MAX_POOL_2D, RESIZE_BILINEAR, PAD, RESHAPE, CONCATENATION and MediaPipe's custom
``Convolution2DTransposeBias``. Anything else raises ``ValueError`` naming the op.

Verified against the reference runtime ``ai_edge_litert`` in ``tests/convert/test_tflite_onnx.py``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

__all__ = ["convert", "convert_file", "same_pads", "transpose_conv_pads", "UNSUPPORTED_HINT"]

OPSET = 17
UNSUPPORTED_HINT = "add a handler in tryon.convert.tflite_onnx"

_OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_NP_TYPES = {
    tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32, tflite.TensorType.INT64: np.int64,
    tflite.TensorType.UINT8: np.uint8, tflite.TensorType.INT8: np.int8,
}
_ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int32): TensorProto.INT32,
               np.dtype(np.int64): TensorProto.INT64}
_NHWC_TO_NCHW = (0, 3, 1, 2)
_NCHW_TO_NHWC = (0, 2, 3, 1)


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding along one axis of a convolution or pooling.

    out = ceil(size / stride); total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
    TensorFlow puts the smaller half first (begin = total // 2).

    Returns:
        (pad_begin, pad_end) in pixels.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def transpose_conv_pads(size: int, kernel: int, stride: int, out: int) -> tuple[int, int]:
    """Cropping of a transposed convolution's full output ((size-1)*stride + kernel) down to ``out``.

    Returns:
        (crop_begin, crop_end), the ONNX ``ConvTranspose`` pads, begin = total // 2 as in TensorFlow.
    """
    total = max((size - 1) * stride + kernel - out, 0)
    return total // 2, total - total // 2


def _options(op, cls):
    table = op.BuiltinOptions()
    opt = cls()
    if table is not None:
        opt.Init(table.Bytes, table.Pos)
    return opt


class _Graph:
    """Conversion state: TFLite tensor index -> ONNX value name, constants, and which values are NCHW."""

    def __init__(self, model: tflite.Model):
        self.model = model
        self.sg = model.Subgraphs(0)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, np.ndarray] = {}
        self.consts: dict[int, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.nchw: set[int] = set()  # tensor indices whose ONNX value holds a 4-D NHWC tensor as NCHW
        self._uid = 0

    # -- helpers ---------------------------------------------------------------------------------------
    def tensor(self, i: int):
        return self.sg.Tensors(i)

    def shape(self, i: int) -> list[int]:
        return [int(d) for d in self.tensor(i).ShapeAsNumpy()] if self.tensor(i).ShapeLength() else []

    def tname(self, i: int) -> str:
        return self.tensor(i).Name().decode()

    def fresh(self, base: str) -> str:
        self._uid += 1
        return f"{base}__{self._uid}"

    def const(self, i: int) -> np.ndarray | None:
        if i in self.consts:
            return self.consts[i]
        t = self.tensor(i)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        if t.Type() not in _NP_TYPES:
            raise ValueError(f"tensor {self.tname(i)!r}: TFLite tensor type {t.Type()} is not supported")
        if t.Quantization() is not None and t.Quantization().ScaleLength() > 0:
            raise ValueError(f"tensor {self.tname(i)!r} is int-quantized; only float models are supported")
        arr = buf.DataAsNumpy().view(_NP_TYPES[t.Type()]).reshape(self.shape(i)).copy()
        self.consts[i] = arr
        return arr

    def add_init(self, arr: np.ndarray, base: str) -> str:
        name = self.fresh(base)
        self.inits[name] = np.ascontiguousarray(arr)
        return name

    def node(self, op_type: str, inputs: list[str], base: str, **attrs) -> str:
        out = self.fresh(base)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def value(self, i: int, *, layout: str = "nchw") -> str:
        """ONNX value name for TFLite tensor ``i``; 4-D tensors in ``layout`` ('nchw' or 'nhwc')."""
        c = self.const(i)
        if c is not None:
            c = c.astype(np.float32) if c.dtype == np.float16 else c
            if layout == "nchw" and c.ndim >= 1 and c.size > 1:
                # Numpy-broadcast against NHWC first (right-aligned), then move channels to axis 1.
                c = c.reshape((1,) * (4 - c.ndim) + c.shape).transpose(_NHWC_TO_NCHW)
            return self.add_init(c, self.tname(i))
        name = self.names[i]
        if i in self.nchw and layout == "nhwc":
            return self.node("Transpose", [name], self.tname(i) + "_nhwc", perm=list(_NCHW_TO_NHWC))
        return name

    def activation(self, x: str, fused: int, base: str) -> str:
        A = tflite.ActivationFunctionType
        if fused == A.NONE:
            return x
        if fused == A.RELU:
            return self.node("Relu", [x], base + "_relu")
        if fused == A.RELU6:
            return self.node("Clip", [x, self.add_init(np.float32(0), "zero"), self.add_init(np.float32(6), "six")],
                             base + "_relu6")
        if fused == A.RELU_N1_TO_1:
            return self.node("Clip", [x, self.add_init(np.float32(-1), "m1"), self.add_init(np.float32(1), "p1")],
                             base + "_relu1")
        if fused == A.TANH:
            return self.node("Tanh", [x], base + "_tanh")
        raise ValueError(f"fused activation {fused} is not supported ({UNSUPPORTED_HINT})")

    def bind(self, i: int, name: str, *, nchw: bool) -> None:
        self.names[i] = name
        if nchw:
            self.nchw.add(i)


def _conv(g: _Graph, op, depthwise: bool) -> None:
    x_i, w_i, b_i = op.InputsAsNumpy()[:3]
    out_i = op.Outputs(0)
    opt = _options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
    w = g.const(w_i)
    if w is None:
        raise ValueError("CONV_2D with a non-constant filter is not supported")
    w = w.astype(np.float32)
    _, h, wd, c_in = g.shape(x_i)
    kh, kw = w.shape[1], w.shape[2]
    if depthwise:
        w_onnx = w.transpose(3, 0, 1, 2)  # [1,kh,kw,C*m] -> [C*m,1,kh,kw]
        group = c_in
    else:
        w_onnx = w.transpose(0, 3, 1, 2)  # [O,kh,kw,I] -> [O,I,kh,kw]
        group = 1
    sh, sw = opt.StrideH(), opt.StrideW()
    dh, dw = max(opt.DilationHFactor(), 1), max(opt.DilationWFactor(), 1)
    if opt.Padding() == tflite.Padding.SAME:
        (pt, pb), (pl, pr) = same_pads(h, kh, sh, dh), same_pads(wd, kw, sw, dw)
    else:
        pt = pb = pl = pr = 0
    inputs = [g.value(x_i), g.add_init(w_onnx, g.tname(w_i))]
    if b_i >= 0:
        b = g.const(b_i)
        inputs.append(g.add_init(b.astype(np.float32).reshape(-1), g.tname(b_i)))
    y = g.node("Conv", inputs, g.tname(out_i), kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
               pads=[pt, pl, pb, pr], group=group)
    g.bind(out_i, g.activation(y, opt.FusedActivationFunction(), g.tname(out_i)), nchw=True)


def _transpose_conv_bias(g: _Graph, op) -> None:
    """MediaPipe custom op: transposed conv + bias; custom options = int32 (padding, stride_w, stride_h)."""
    x_i, w_i, b_i = op.InputsAsNumpy()[:3]
    out_i = op.Outputs(0)
    raw = op.CustomOptionsAsNumpy().tobytes()
    padding, stride_w, stride_h = struct.unpack("<3i", raw[:12])
    w = g.const(w_i).astype(np.float32)  # [O, kh, kw, I]
    kh, kw = w.shape[1], w.shape[2]
    _, h, wd, _ = g.shape(x_i)
    _, oh, ow, _ = g.shape(out_i)
    # TfLitePadding: 1 = SAME, 2 = VALID; the output tensor's shape already fixes the crop either way.
    (pt, pb), (pl, pr) = transpose_conv_pads(h, kh, stride_h, oh), transpose_conv_pads(wd, kw, stride_w, ow)
    del padding
    inputs = [g.value(x_i), g.add_init(w.transpose(3, 0, 1, 2), g.tname(w_i)),
              g.add_init(g.const(b_i).astype(np.float32).reshape(-1), g.tname(b_i))]
    y = g.node("ConvTranspose", inputs, g.tname(out_i), kernel_shape=[kh, kw], strides=[stride_h, stride_w],
               pads=[pt, pl, pb, pr])
    g.bind(out_i, y, nchw=True)


def _binary(g: _Graph, op, onnx_op: str, opt_cls) -> None:
    a_i, b_i = op.InputsAsNumpy()[:2]
    out_i = op.Outputs(0)
    rank4 = len(g.shape(out_i)) == 4
    layout = "nchw" if rank4 else "nhwc"
    y = g.node(onnx_op, [g.value(a_i, layout=layout), g.value(b_i, layout=layout)], g.tname(out_i))
    fused = _options(op, opt_cls).FusedActivationFunction()
    g.bind(out_i, g.activation(y, fused, g.tname(out_i)), nchw=rank4)


def _unary(g: _Graph, op, onnx_op: str, **attrs) -> None:
    x_i, out_i = op.Inputs(0), op.Outputs(0)
    g.bind(out_i, g.node(onnx_op, [g.value(x_i)], g.tname(out_i), **attrs), nchw=x_i in g.nchw)


def _pool(g: _Graph, op, onnx_op: str) -> None:
    x_i, out_i = op.Inputs(0), op.Outputs(0)
    opt = _options(op, tflite.Pool2DOptions)
    _, h, wd, _ = g.shape(x_i)
    kh, kw, sh, sw = opt.FilterHeight(), opt.FilterWidth(), opt.StrideH(), opt.StrideW()
    if opt.Padding() == tflite.Padding.SAME:
        (pt, pb), (pl, pr) = same_pads(h, kh, sh), same_pads(wd, kw, sw)
    else:
        pt = pb = pl = pr = 0
    # TFLite's SAME average pooling divides by the number of valid pixels: ONNX count_include_pad=0 (default).
    y = g.node(onnx_op, [g.value(x_i)], g.tname(out_i), kernel_shape=[kh, kw], strides=[sh, sw],
               pads=[pt, pl, pb, pr])
    g.bind(out_i, g.activation(y, opt.FusedActivationFunction(), g.tname(out_i)), nchw=True)


def _resize_bilinear(g: _Graph, op) -> None:
    x_i, size_i = op.InputsAsNumpy()[:2]
    out_i = op.Outputs(0)
    opt = _options(op, tflite.ResizeBilinearOptions)
    n, _, _, c = g.shape(x_i)
    size = g.const(size_i)
    if size is None:
        raise ValueError("RESIZE_BILINEAR with a computed size is not supported")
    mode = ("align_corners" if opt.AlignCorners() else "half_pixel" if opt.HalfPixelCenters() else "asymmetric")
    sizes = g.add_init(np.array([n, c, int(size[0]), int(size[1])], np.int64), "sizes")
    y = g.node("Resize", [g.value(x_i), "", "", sizes], g.tname(out_i), mode="linear",
               coordinate_transformation_mode=mode)
    g.bind(out_i, y, nchw=True)


def _pad(g: _Graph, op) -> None:
    x_i, p_i = op.InputsAsNumpy()[:2]
    out_i = op.Outputs(0)
    p = g.const(p_i)
    if p is None:
        raise ValueError("PAD with computed paddings is not supported")
    p = p.astype(np.int64).reshape(-1, 2)
    nchw = x_i in g.nchw
    if nchw:
        p = p[list(_NHWC_TO_NCHW)]  # rows are per NHWC axis; reorder to NCHW
    pads = g.add_init(np.concatenate([p[:, 0], p[:, 1]]).astype(np.int64), "pads")
    g.bind(out_i, g.node("Pad", [g.value(x_i), pads], g.tname(out_i), mode="constant"), nchw=nchw)


def _reshape(g: _Graph, op) -> None:
    x_i, out_i = op.Inputs(0), op.Outputs(0)
    shape = g.add_init(np.array(g.shape(out_i), np.int64), "shape")
    y = g.node("Reshape", [g.value(x_i, layout="nhwc"), shape], g.tname(out_i))
    if len(g.shape(out_i)) == 4:
        y = g.node("Transpose", [y], g.tname(out_i) + "_nchw", perm=list(_NHWC_TO_NCHW))
    g.bind(out_i, y, nchw=len(g.shape(out_i)) == 4)


def _concat(g: _Graph, op) -> None:
    out_i = op.Outputs(0)
    opt = _options(op, tflite.ConcatenationOptions)
    rank = len(g.shape(out_i))
    axis = opt.Axis() % rank
    layout = "nchw" if rank == 4 else "nhwc"
    if rank == 4:
        axis = _NCHW_TO_NHWC.index(axis)  # NHWC axis a lives at NCHW position perm^-1[a]
    inputs = [g.value(int(i), layout=layout) for i in op.InputsAsNumpy()]
    y = g.node("Concat", inputs, g.tname(out_i), axis=axis)
    g.bind(out_i, g.activation(y, opt.FusedActivationFunction(), g.tname(out_i)), nchw=rank == 4)


def _dequantize(g: _Graph, op) -> None:
    x_i, out_i = op.Inputs(0), op.Outputs(0)
    c = g.const(x_i)
    if c is None or c.dtype != np.float16:
        raise ValueError("DEQUANTIZE is only supported for constant float16 weights")
    g.consts[out_i] = c.astype(np.float32)


_BUILTINS = {
    "DEQUANTIZE": _dequantize,
    "CONV_2D": lambda g, op: _conv(g, op, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda g, op: _conv(g, op, depthwise=True),
    "ADD": lambda g, op: _binary(g, op, "Add", tflite.AddOptions),
    "MUL": lambda g, op: _binary(g, op, "Mul", tflite.MulOptions),
    "RELU": lambda g, op: _unary(g, op, "Relu"),
    "HARD_SWISH": lambda g, op: _unary(g, op, "HardSwish"),
    "LOGISTIC": lambda g, op: _unary(g, op, "Sigmoid"),
    "AVERAGE_POOL_2D": lambda g, op: _pool(g, op, "AveragePool"),
    "MAX_POOL_2D": lambda g, op: _pool(g, op, "MaxPool"),
    "RESIZE_BILINEAR": _resize_bilinear,
    "PAD": _pad,
    "RESHAPE": _reshape,
    "CONCATENATION": _concat,
}
_CUSTOMS = {"Convolution2DTransposeBias": _transpose_conv_bias}


def _relu6(g: _Graph, op) -> None:
    x_i, out_i = op.Inputs(0), op.Outputs(0)
    y = g.activation(g.value(x_i), tflite.ActivationFunctionType.RELU6, g.tname(out_i))
    g.bind(out_i, y, nchw=x_i in g.nchw)


_BUILTINS["RELU6"] = _relu6


def convert(tflite_model: bytes | str | os.PathLike, *, graph_name: str = "converted") -> onnx.ModelProto:
    """Convert a float TFLite model to an ONNX model (opset 17) with the same input/output names and layouts.

    Args:
        tflite_model: the ``.tflite`` flatbuffer bytes, or a path to it.
        graph_name: name of the ONNX graph.

    Returns:
        A checked ``onnx.ModelProto``; inputs/outputs are float32 with the TFLite shapes (NHWC for images).

    Raises:
        ValueError: an op, fused activation or tensor type the converter does not handle (the message names
            it), or a model with more than one subgraph.
    """
    data = Path(tflite_model).read_bytes() if not isinstance(tflite_model, bytes) else tflite_model
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        raise ValueError(f"only single-subgraph models are supported (this one has {model.SubgraphsLength()})")
    g = _Graph(model)
    sg = g.sg

    graph_inputs = []
    for k in range(sg.InputsLength()):
        i = sg.Inputs(k)
        name, shape = g.tname(i), g.shape(i)
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        if len(shape) == 4:
            g.bind(i, g.node("Transpose", [name], name + "_nchw", perm=list(_NHWC_TO_NCHW)), nchw=True)
        else:
            g.bind(i, name, nchw=False)

    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == tflite.BuiltinOperator.CUSTOM:
            custom = code.CustomCode().decode()
            handler, label = _CUSTOMS.get(custom), f"CUSTOM {custom}"
        else:
            label = _OP_NAMES.get(builtin, f"#{builtin}")
            handler = _BUILTINS.get(label)
        if handler is None:
            raise ValueError(f"unsupported TFLite op {label} (operator {k}); {UNSUPPORTED_HINT}")
        handler(g, op)

    graph_outputs = []
    for k in range(sg.OutputsLength()):
        i = sg.Outputs(k)
        name, shape = g.tname(i), g.shape(i)
        g.nodes.append(helper.make_node("Identity", [g.value(i, layout="nhwc")], [name], name=name + "_out"))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    inits = [numpy_helper.from_array(a, n) for n, a in g.inits.items()]
    graph = helper.make_graph(g.nodes, graph_name, graph_inputs, graph_outputs, initializer=inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="tryon.convert.tflite_onnx")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model


def convert_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Convert ``src`` (.tflite) and write ``dst`` (.onnx) atomically (temporary file + ``os.replace``).

    Returns:
        ``dst`` as a Path.

    Raises:
        ValueError: see ``convert``.
        OutputError: ``dst`` cannot be written.
    """
    from tryon.processing import atomic_write_bytes

    model = convert(src, graph_name=Path(src).stem)
    atomic_write_bytes(dst, model.SerializeToString())
    return Path(dst)
