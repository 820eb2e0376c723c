"""Reading, describing and atomically writing ONNX model files (no onnxruntime, no torch).

Every quantizer in this package reads its input through :func:`load_model` (so a file that is not ONNX is refused
with a clear message) and writes through :func:`save_model` (a temporary file in the output folder, then
``os.replace``, so a crash never leaves half a model; the input is never overwritten).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import onnx

from tryon.errors import DataError, OutputError
from tryon.processing import atomic_write_bytes

__all__ = ["TensorSpec", "load_model", "save_model", "model_bytes", "input_specs", "output_names",
           "ensure_not_input", "has_static_inputs", "pre_process"]

_ELEM_NAMES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16",
               onnx.TensorProto.INT64: "int64", onnx.TensorProto.INT32: "int32", onnx.TensorProto.UINT8: "uint8",
               onnx.TensorProto.INT8: "int8", onnx.TensorProto.DOUBLE: "float64"}


@dataclass(frozen=True)
class TensorSpec:
    """Name, element type and shape of a graph input or output.

    ``shape`` holds an int per static dimension and a str (the symbolic name, or ``"?"``) per dynamic one.
    """

    name: str
    dtype: str
    shape: tuple[int | str, ...]


def load_model(path: str | os.PathLike, *, load_external_data: bool = True) -> onnx.ModelProto:
    """Parse an ONNX file and run the ONNX checker on it.

    Raises:
        DataError: the file is missing, is not an ONNX model (for example an image or a torch checkpoint),
            or fails the checker.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such model file")
    try:
        model = onnx.load(str(p), load_external_data=load_external_data)
    except Exception as exc:  # protobuf raises DecodeError, onnx raises ValueError/OSError: all mean "not ONNX"
        raise DataError(f"{p}: not an ONNX model (the file does not parse as an ONNX protobuf: "
                        f"{type(exc).__name__})") from None
    if not model.graph.node or not model.graph.output:
        raise DataError(f"{p}: not an ONNX model (it parses, but has no graph nodes or no outputs)")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise DataError(f"{p}: the ONNX checker rejects this model: {exc}") from None
    return model


def save_model(model: onnx.ModelProto, path: str | os.PathLike) -> Path:
    """Serialise ``model`` into one file (weights inline), atomically.

    Raises:
        OutputError: the model is over the 2 GB protobuf limit, or the folder cannot be written.
    """
    p = Path(path)
    try:
        data = model.SerializeToString()
    except ValueError as exc:  # protobuf refuses messages over 2 GB
        raise OutputError(f"{p}: the model is too large to serialise into one file ({exc})") from None
    atomic_write_bytes(p, data)
    return p


def model_bytes(path: str | os.PathLike) -> int:
    """Size on disk of an ONNX model: the ``.onnx`` file plus the external-data files it references."""
    p = Path(path)
    total = p.stat().st_size
    model = onnx.load(str(p), load_external_data=False)
    seen: set[str] = set()
    for init in model.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            loc = next((e.value for e in init.external_data if e.key == "location"), None)
            if loc and loc not in seen:
                seen.add(loc)
                f = p.parent / loc
                if f.is_file():
                    total += f.stat().st_size
    return total


def _spec(vi: onnx.ValueInfoProto) -> TensorSpec:
    t = vi.type.tensor_type
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim)
    return TensorSpec(vi.name, _ELEM_NAMES.get(t.elem_type, str(t.elem_type)), dims)


def input_specs(model: onnx.ModelProto) -> list[TensorSpec]:
    """The graph's real inputs (initializers listed as inputs by old exporters are left out)."""
    inits = {i.name for i in model.graph.initializer}
    return [_spec(vi) for vi in model.graph.input if vi.name not in inits]


def output_names(model: onnx.ModelProto) -> list[str]:
    """Names of the graph outputs, in order."""
    return [o.name for o in model.graph.output]


def ensure_not_input(output: str | os.PathLike, model_input: str | os.PathLike) -> None:
    """Refuse to write ``output`` when it is the input model file (same path or same inode).

    Raises:
        OutputError: ``output`` would overwrite ``model_input``.
    """
    out, src = Path(output), Path(model_input)
    same = out.resolve() == src.resolve()
    if not same and out.exists():
        try:
            same = os.path.samefile(out, src)
        except OSError:
            same = False
    if same:
        raise OutputError(f"{out}: refusing to overwrite the input model; choose another output folder")


def has_static_inputs(model: onnx.ModelProto) -> bool:
    """True when every graph input has a fixed positive size in every dimension."""
    return all(isinstance(d, int) and d > 0 for s in input_specs(model) for d in s.shape)


def pre_process(model: onnx.ModelProto, dst: str | os.PathLike) -> None:
    """``onnxruntime.quantization.quant_pre_process`` (shape inference + basic graph optimisation) into ``dst``.

    The model goes to the pre-processor as a file next to ``dst`` and comes back with its weights in
    ``dst.data`` (load ``dst`` with :func:`load_model`): otherwise onnxruntime 1.31's optimiser step writes large
    initializers to an external file (``foo.bin``) that it then cannot find.
    Symbolic shape inference only runs for models with dynamic input sizes: plain ONNX shape inference is enough
    for static ones, and ``onnxruntime.tools`` (where the symbolic pass lives) imports torch whenever torch is
    installed, which this package must not drag in.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    d = Path(dst)
    src = d.with_name(d.stem + ".input.onnx")
    onnx.save(model, str(src))
    try:
        quant_pre_process(str(src), str(d), skip_symbolic_shape=has_static_inputs(model), save_as_external_data=True,
                          all_tensors_to_one_file=True, external_data_location=d.name + ".data")
    finally:
        src.unlink(missing_ok=True)
