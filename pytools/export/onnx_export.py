"""torch → ONNX for onnxruntime-web: export, simplify, check, compare with PyTorch, write manifest.json.

Recipe (verified in ``docs/web-runtime.md`` §2 and ``docs/reference-models.md``):
    1. ``torch.onnx.export(..., dynamo=False)`` — the legacy TorchScript exporter. It bakes the input size into
       the graph (one artifact per resolution) and produces one self-contained file; opset 17 by default
       (17–19 keep GridSample on WebGPU; ≥ 20 sends it to the CPU).
    2. ``onnxsim.simplify`` folds the shape arithmetic and constant grids away; ``onnx.checker`` (full check).
    3. Parity: onnxruntime CPU vs PyTorch (eval mode) on image-like inputs; every output's max abs difference
       must be ≤ ``atol`` (1e-4), otherwise nothing is written.
    4. ``model.onnx`` and ``manifest.json`` are written atomically into the output folder.

Typical use::

    from tryon.models import create_model
    from tryon.export import export_model
    result = export_model(create_model("afn_student_m"), "artifacts/afn_student_m", name="afn_student_m")
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from tryon.errors import OutputError, UsageError
from tryon.export.graph_checks import GraphIssue, check_opset, find_webgpu_issues, op_histogram, split_wide_concats
from tryon.export.sample_inputs import procedural_inputs
from tryon.garment.category import browser_rules
from tryon.manifest import DEFAULT_CATEGORIES, FileEntry, Manifest, TensorSpec
from tryon.processing import atomic_write_bytes as atomic_write

__all__ = ["ExportResult", "export_model", "export_graph", "model_from_checkpoint", "checkpoint_categories", "parity", "OUTPUT_SPECS", "INPUT_SPECS"]

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)

#: Value ranges and layouts of the try-on interface, by tensor name.
INPUT_SPECS: dict[str, dict[str, Any]] = {
    "person": {"value_range": (-1.0, 1.0), "layout": "NCHW", "description": "person photo, RGB"},
    "garment": {"value_range": (-1.0, 1.0), "layout": "NCHW", "description": "in-shop garment photo, RGB"},
    "garment_mask": {"value_range": (0.0, 1.0), "layout": "NCHW", "description": "garment mask, 1 = garment"},
}
OUTPUT_SPECS: dict[str, dict[str, Any]] = {
    "tryon": {"value_range": (-1.0, 1.0), "layout": "NCHW", "description": "the person wearing the garment, RGB"},
    "warped_garment": {"value_range": (-1.0, 1.0), "layout": "NCHW",
                       "description": "garment warped onto the person, RGB"},
    "grid": {"value_range": (-1.0, 1.0), "layout": "NHWC",
             "description": "sampling grid into the garment image, x then y, grid_sample convention"},
    "composition_mask": {"value_range": (0.0, 1.0), "layout": "NCHW",
                         "description": "1 where the output shows the warped garment"},
}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote and measured.

    Attributes:
        out_dir: the artifact folder.
        onnx_path: ``out_dir/model.onnx``.
        manifest: the manifest written to ``out_dir/manifest.json``.
        max_abs: per-output max abs difference ORT CPU vs PyTorch.
        ops: op-type histogram of the final graph.
        issues: WebGPU hazards found in the graph (ops outside the allow-list, 3×3 Conv on 6/9 channels).
    """

    out_dir: Path
    onnx_path: Path
    manifest: Manifest
    max_abs: dict[str, float]
    ops: dict[str, int]
    issues: list[GraphIssue] = field(default_factory=list)


class _TupleOutputs(nn.Module):
    """Calls the model and returns its named outputs as a tuple in ``output_names`` order (the ONNX order)."""

    def __init__(self, model: nn.Module, output_names: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.output_names = output_names

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(*inputs)
        if isinstance(out, dict):
            return tuple(out[k] for k in self.output_names)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _torch_outputs(model: nn.Module, inputs: dict[str, np.ndarray], input_names: tuple[str, ...],
                   output_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    wrapper = _TupleOutputs(model, output_names).eval()
    with torch.no_grad():
        outs = wrapper(*(torch.from_numpy(inputs[k]) for k in input_names))
    return {k: v.numpy() for k, v in zip(output_names, outs, strict=True)}


def parity(onnx_bytes: bytes, model: nn.Module, inputs: dict[str, np.ndarray], *,
           output_names: tuple[str, ...] | None = None, threads: int = 1) -> dict[str, float]:
    """Max abs difference per output between onnxruntime (CPU EP) and PyTorch (eval mode) on ``inputs``.

    Args:
        onnx_bytes: the serialized ONNX model.
        model: the PyTorch model it was exported from.
        inputs: input name → float32 array (must match the exported shapes).
        output_names: names in ONNX output order (default: ``model.output_names``).
        threads: intra-op threads for onnxruntime.

    Returns:
        output name → max abs difference.
    """
    import onnxruntime as ort

    output_names = tuple(output_names or model.output_names)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
    ort_names = [i.name for i in sess.get_inputs()]
    got = dict(zip(output_names, sess.run(list(output_names), {k: inputs[k] for k in ort_names}), strict=True))
    ref = _torch_outputs(model, inputs, tuple(getattr(model, "input_names", ort_names)), output_names)
    return {k: float(np.max(np.abs(got[k].astype(np.float64) - ref[k]))) for k in output_names}


def _export_bytes(model: nn.Module, example: tuple[torch.Tensor, ...], input_names: tuple[str, ...],
                  output_names: tuple[str, ...], opset: int) -> bytes:
    wrapper = _TupleOutputs(model, output_names).eval()
    with tempfile.TemporaryDirectory(prefix="tryon-export-") as tmp:
        path = os.path.join(tmp, "raw.onnx")
        with warnings.catch_warnings(), torch.no_grad():
            # The legacy exporter is deprecated in torch 2.9+ but is the one that reaches opset 17 in one file.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # A strided Slice the exporter cannot fold itself: onnxsim folds it right after.
            warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)
            torch.onnx.export(wrapper, example, path, dynamo=False, opset_version=opset, input_names=list(input_names),
                              output_names=list(output_names), do_constant_folding=True)
        with open(path, "rb") as f:
            return f.read()


def export_graph(model: nn.Module, inputs: dict[str, np.ndarray], *, input_names: tuple[str, ...],
                 output_names: tuple[str, ...], opset: int = 17, simplify: bool = True, atol: float = 1e-4,
                 strict_webgpu: bool = False) -> tuple[bytes, dict[str, float], list[GraphIssue], Any]:
    """Steps 1-3 of the module's recipe for one graph, in memory: export, simplify, check, parity.

    Args:
        model: eval-mode module taking ``input_names`` positionally, returning a dict or tuple of outputs.
        inputs: name → float32 array, the example (and parity) inputs, any shapes the model takes.
        input_names, output_names: the graph's tensor names, in call and output order.
        opset, simplify, atol, strict_webgpu: as :func:`export_model`.

    Returns:
        (serialized model, max abs difference per output vs PyTorch, WebGPU issues, the ``onnx.ModelProto``).

    Raises:
        OutputError: onnxsim fails, parity worse than ``atol``, or WebGPU hazards with ``strict_webgpu``.
    """
    import onnx

    example = tuple(torch.from_numpy(inputs[k]) for k in input_names)
    proto = onnx.load_from_string(_export_bytes(model, example, input_names, output_names, opset))
    if simplify:
        proto = _simplify(proto)
    # The simplifier fuses the correlation's narrow Concats back into one of 25-49 inputs, which WebGPU
    # cannot bind (see graph_checks.split_wide_concats).
    split_wide_concats(proto)
    onnx.checker.check_model(proto, full_check=True)
    check_opset(proto)
    data = proto.SerializeToString()

    max_abs = parity(data, model, inputs, output_names=output_names)
    worst = max(max_abs.values())
    log.info("parity ORT CPU vs PyTorch: %s", {k: f"{v:.2e}" for k, v in max_abs.items()})
    if not worst <= atol:  # also catches NaN
        raise OutputError(f"parity check failed: max abs difference {worst:.3e} > {atol:.0e} "
                          f"({', '.join(f'{k} {v:.2e}' for k, v in max_abs.items())}); nothing written")
    issues = find_webgpu_issues(proto)
    for issue in issues:
        log.warning("WebGPU hazard in %s: %s", issue.node, issue.detail)
    if issues and strict_webgpu:
        raise OutputError(f"{len(issues)} WebGPU hazards (first: {issues[0].detail}); nothing written")
    return data, max_abs, issues, proto


def export_model(model: nn.Module, out_dir: str | os.PathLike, *, name: str, size: tuple[int, int] = (256, 192),
                 opset: int = 17, simplify: bool = True, atol: float = 1e-4,
                 inputs: dict[str, np.ndarray] | None = None, version: str | None = None,
                 extra: dict[str, Any] | None = None, strict_webgpu: bool = False,
                 overwrite: bool = True, categories: tuple[str, ...] = DEFAULT_CATEGORIES) -> ExportResult:
    """Export a try-on model to ``out_dir/model.onnx`` + ``manifest.json`` (see the module docstring).

    Args:
        model: a module with ``input_names`` and ``output_names`` attributes whose forward takes the inputs
            positionally and returns a dict (or tuple) of outputs. Put into eval mode here.
        out_dir: artifact folder (created).
        name: model name recorded in the manifest (``afn_student_m`` or ``afn_student_m.distill_v1``).
        size: (height, width) baked into the graph.
        opset: ONNX opset, 17–19.
        simplify: run onnxsim.
        atol: largest accepted max abs difference ORT vs PyTorch, per output.
        inputs: parity inputs (name → float32 NCHW array at ``size``, batch 1); default: procedural images.
        version: artifact version (default: the toolkit's).
        extra: provenance for the manifest (checkpoint path, licence...).
        strict_webgpu: raise when the graph has an op outside the allow-list or a 3×3 Conv on 6/9 channels
            (otherwise such issues are logged and recorded in the manifest).
        overwrite: replace an existing ``model.onnx`` in ``out_dir``.
        categories: the garment categories the model was trained on (``Manifest.categories``; see
            :func:`checkpoint_categories`).

    Returns:
        :class:`ExportResult`.

    Raises:
        UsageError: bad opset or size, or inputs of the wrong shape.
        OutputError: parity worse than ``atol``, WebGPU hazards with ``strict_webgpu``, the folder exists
            with a model and ``overwrite`` is False, or it cannot be written. Nothing is written then.
    """
    import onnx

    from tryon import __version__

    if not 17 <= opset <= 19:
        raise UsageError(f"--opset {opset}: use 17-19 (GridSample runs on WebGPU only at 16-19; 17 is tested)")
    h, w = size
    out = Path(out_dir)
    onnx_path = out / "model.onnx"
    if onnx_path.exists() and not overwrite:
        raise OutputError(f"{onnx_path} exists; pass overwrite=True (--force) to replace it")
    input_names = tuple(getattr(model, "input_names", ("person", "garment", "garment_mask")))
    output_names = tuple(getattr(model, "output_names", ("tryon",)))
    model = model.eval()
    divisor = getattr(getattr(model, "cfg", None), "divisor", 32)
    if h % divisor or w % divisor:
        raise UsageError(f"--size {h}x{w}: height and width must be multiples of {divisor}")
    if inputs is None:
        inputs = procedural_inputs((h, w), seed=0)
    for k in input_names:
        if k not in inputs or inputs[k].shape[-2:] != (h, w) or inputs[k].shape[0] != 1:
            got = None if k not in inputs else inputs[k].shape
            raise UsageError(f"parity input {k!r} must be (1, C, {h}, {w}), got {got}")
    example = tuple(torch.from_numpy(inputs[k]) for k in input_names)

    log.info("exporting %s at %dx%d, opset %d", name, h, w, opset)
    data, max_abs, issues, proto = export_graph(model, inputs, input_names=input_names, output_names=output_names,
                                                opset=opset, simplify=simplify, atol=atol,
                                                strict_webgpu=strict_webgpu)
    atomic_write(onnx_path, data)
    specs_in = tuple(TensorSpec(name=k, shape=tuple(inputs[k].shape), **INPUT_SPECS.get(k, {})) for k in input_names)
    ref = _torch_outputs(model, inputs, input_names, output_names)
    specs_out = tuple(TensorSpec(name=k, shape=tuple(ref[k].shape), **OUTPUT_SPECS.get(k, {})) for k in output_names)
    metrics: dict[str, Any] = {"parity_max_abs": max_abs, "parity_atol": atol,
                               "params": sum(p.numel() for p in model.parameters())}
    try:
        from tryon.bench.complexity import count_macs

        metrics["gmacs"] = count_macs(model, inputs=example) / 1e9
    except Exception as exc:  # noqa: BLE001 - a counting failure must not block an export
        log.warning("MAC count failed: %s", exc)
    manifest = Manifest(
        name=name, version=version or __version__, inputs=specs_in, outputs=specs_out,
        files=(FileEntry.from_path(out, "model.onnx", dtype="fp32"),), opset=opset, webgpu_features=(),
        metrics=metrics, categories=tuple(categories), garment_category=browser_rules(tuple(categories)),
        extra={"exporter": f"torch {torch.__version__} legacy (dynamo=False)", "onnx": onnx.__version__,
               "simplified": simplify, "webgpu_issues": [i.detail for i in issues], **(extra or {})},
    )
    manifest.save(out)
    return ExportResult(out_dir=out, onnx_path=onnx_path, manifest=manifest, max_abs=max_abs,
                        ops=op_histogram(proto), issues=issues)


def _simplify(proto: onnx.ModelProto) -> onnx.ModelProto:
    """``onnxsim.simplify`` with its C++ console output summarised in one log line.

    onnxsim prints a ``WARNING: failed to run "Op" ... skip`` line for every shape-arithmetic node it cannot
    constant-fold (127 for the student): harmless, the node stays in the graph and onnxruntime computes it. The
    lines go to the ``tryon.export`` logger at DEBUG, their count at INFO.

    Raises:
        OutputError: onnxsim cannot validate the simplified model.
    """
    import onnxsim
    from wurlitzer import pipes

    with pipes() as (out, err):
        proto, ok = onnxsim.simplify(proto)
    lines = [ln for ln in (out.getvalue() + err.getvalue()).splitlines() if ln.strip()]
    skipped = [ln for ln in lines if "failed to run" in ln]
    for ln in lines:
        log.debug("onnxsim: %s", ln)
    if skipped:
        log.info("onnxsim left %d shape node(s) unfolded (computed by onnxruntime; details at DEBUG)", len(skipped))
    others = [ln for ln in lines if ln not in skipped]
    if others:
        log.warning("onnxsim: %s", " | ".join(others[-5:]))
    if not ok:
        raise OutputError("onnxsim could not validate the simplified model")
    return proto


def checkpoint_categories(path: str | os.PathLike) -> tuple[str, ...]:
    """The garment categories a training checkpoint's student was trained on (its ``categories`` list, FASHN's
    vocabulary), written into the manifest so that no runtime dresses a category the student never saw.

    A checkpoint without the key was trained before categories existed, on tops records only:
    :data:`tryon.manifest.DEFAULT_CATEGORIES`.

    Raises:
        UsageError: unreadable file (see :func:`model_from_checkpoint`), or a name that is not one of
            ``tops | bottoms | one-pieces`` (any spelling ``tryon.garment.category`` accepts).
    """
    from tryon.garment.category import normalise_category

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - model_from_checkpoint reports the reason; this reads one key
        raise UsageError(f"{path}: cannot load checkpoint ({type(exc).__name__})") from None
    names = ckpt.get("categories") if isinstance(ckpt, dict) else None
    if names is None:
        return DEFAULT_CATEGORIES
    cats = tuple(dict.fromkeys(normalise_category(str(c)) for c in names))
    if not cats or "auto" in cats:
        raise UsageError(f"{path}: 'categories' must name tops, bottoms or one-pieces, got {names!r}")
    return cats


def model_from_checkpoint(path: str | os.PathLike, name: str | None = None) -> tuple[nn.Module, str]:
    """Rebuild a registered model from a training checkpoint.

    The checkpoint is a ``torch.save``\\ d dict (loaded with ``weights_only=True``) holding the variant name under
    ``variant`` (or ``model_name``/``name``/``model``), its architecture overrides under ``arch`` (or
    ``model_args``; lists are turned back into tuples) and the weights under ``state_dict`` (or ``model_state``,
    as ``tryon train`` writes them, or ``model``). A bare state dict
    works too when ``name`` is given.

    Returns:
        (the model in eval mode with the weights loaded, its variant name).

    Raises:
        UsageError: unreadable file, no variant name, or weights that do not fit the architecture.
    """
    from tryon.models import create_model

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  torch raises OSError, RuntimeError, UnpicklingError, zipfile errors...
        # torch's own message for a non-torch file advises weights_only=False, which this toolkit never does.
        if isinstance(exc, FileNotFoundError):
            why = "no such file"
        elif isinstance(exc, pickle.UnpicklingError):
            why = "not a torch file, or it holds pickled objects"
        else:
            why = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
        raise UsageError(f"{path}: cannot load checkpoint ({why}); give the .pt that `tryon train` or "
                         "`tryon mask-sharpness -o` wrote") from None
    if not isinstance(ckpt, dict):
        raise UsageError(f"{path}: not a checkpoint dict")
    state = next((ckpt[k] for k in ("state_dict", "model_state", "model") if isinstance(ckpt.get(k), dict)), None)
    if state is None and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state = ckpt
    variant = name or next((ckpt[k] for k in ("variant", "model_name", "name", "model")
                            if isinstance(ckpt.get(k), str)), None)
    if variant is None or state is None:
        raise UsageError(f"{path}: needs a variant name (key 'variant', or pass --model) and a 'state_dict'")
    arch = next((ckpt[k] for k in ("arch", "model_args") if isinstance(ckpt.get(k), dict)), {})
    arch = {k: tuple(v) if isinstance(v, list) else v for k, v in arch.items()}
    try:
        model = create_model(variant.split(".")[0], **arch)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (KeyError, TypeError, RuntimeError) as exc:
        raise UsageError(f"{path}: does not fit model {variant!r}: {exc}") from None
    return model.eval(), variant
