"""``tryon bench``: model specs (variants with overrides, checkpoints, ONNX files, export folders), the deployed
default read from the committed weights, and fp32 / fp16 / int8 files timed side by side in one run."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tryon.cli.bench import default_models, deployed_spec, parse_model_spec, resolve_model
from tryon.errors import UsageError


def _save_weights(path, **arch_overrides):
    """A weight file as `tryon mask-sharpness -o` writes it (variant, arch, state_dict), random weights."""
    import torch

    from tryon.models import create_model

    model = create_model("afn_student_s", **arch_overrides)
    arch = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(model.cfg).items()}
    torch.save({"variant": "afn_student_s", "arch": arch, "state_dict": model.state_dict()}, path)
    return path


def test_parse_model_spec():
    assert parse_model_spec("afn_student_s") == ("afn_student_s", {})
    assert parse_model_spec("afn_student_s:flip_ensemble=true:mask_sharpness=6") == (
        "afn_student_s", {"flip_ensemble": True, "mask_sharpness": 6})
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_model_spec("afn_student_s:flip_ensemble")


def test_deployed_default_is_what_the_committed_weights_hold(tmp_path):
    import torch

    from tryon.models import create_model
    from tryon.models.afn_student import deployed_config, default_student_weights

    # The committed file's architecture, rebuilt from the spec bench prints, is the file's own.
    stored = torch.load(default_student_weights(), map_location="cpu", weights_only=True)
    variant, args = parse_model_spec(deployed_spec())
    assert variant == stored["variant"] and deployed_spec() in default_models()
    cfg = dataclasses.asdict(create_model(variant, **args).cfg)
    assert cfg == {k: tuple(v) if isinstance(v, list) else v for k, v in stored["arch"].items()}
    # Another weight file, other settings: read, not restated.
    other = _save_weights(tmp_path / "w.pt", mask_sharpness=3.0, flip_ensemble=False, corr_radius=(2, 2, 2, 2, 2))
    assert deployed_config(other) == ("afn_student_s", {"mask_sharpness": 3.0, "corr_radius": (2, 2, 2, 2, 2)})
    torch.save({"state_dict": {}}, tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="variant"):
        deployed_config(tmp_path / "bare.pt")


def test_resolve_model_specs(tmp_path):
    ckpt = _save_weights(tmp_path / "s.pt")
    assert resolve_model(str(ckpt)).kind == "checkpoint"
    src = resolve_model(f"afn_student_s:checkpoint={ckpt}")
    assert (src.kind, src.variant, src.path) == ("checkpoint", "afn_student_s", ckpt)
    (tmp_path / "m.onnx").write_bytes(b"")
    assert resolve_model(str(tmp_path / "m.onnx")).kind == "onnx"
    assert resolve_model("afn_student_s:flip_ensemble=true").args == {"flip_ensemble": True}
    with pytest.raises(UsageError, match="manifest.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(UsageError, match="not a registered variant"):
        resolve_model("no_such_model")
    with pytest.raises(UsageError, match="no such checkpoint"):
        resolve_model(f"afn_student_s:checkpoint={tmp_path / 'missing.pt'}")
    with pytest.raises(UsageError, match="cannot be combined"):
        resolve_model(f"afn_student_s:checkpoint={ckpt}:flip_ensemble=true")


def _bench(app, *args):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["bench", *args, "--size", "64x48", "--warmup", "0", "--samples", "1"])
    return result


def test_bench_a_checkpoint_an_onnx_file_and_an_export_folder(tmp_path, subcommand_app):
    pytest.importorskip("onnxruntime")
    from tryon.cli.bench import register
    from tryon.manifest import FileEntry, Manifest

    app = subcommand_app(register)
    ckpt = _save_weights(tmp_path / "trained.pt", flip_ensemble=True)
    keep, out = tmp_path / "keep", tmp_path / "bench.json"
    r = _bench(app, "--model", str(ckpt), "--model", "afn_student_s", "--reference", "afn_student_s", "--runs", "1",
               "--dtype", "fp32", "--dtype", "fp16", "--dtype", "int8_dynamic", "--keep", str(keep),
               "--json", str(out))
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    trained, plain = rows[str(ckpt)], rows["afn_student_s"]
    # The checkpoint's architecture (flip ensemble) is what was built: same parameters, more compute.
    assert trained["params"] == plain["params"] and 1.4 * plain["gmacs"] < trained["gmacs"] < 2 * plain["gmacs"]
    assert [f["dtype"] for f in trained["files"]] == ["fp32", "fp16", "int8_dynamic"]
    for f in trained["files"]:
        assert set(f["latency_ms"]) == {"1", "2"} and all(ms > 0 for ms in f["latency_ms"].values())
    assert trained["fastest"]["1"] in ("fp32", "fp16", "int8_dynamic")
    assert trained["files"][1]["bytes"] < 0.7 * trained["files"][0]["bytes"]  # fp16 halves the weights
    assert trained["ratio"]["gmacs"] == pytest.approx(trained["gmacs"] / plain["gmacs"])
    # The reference times only its fp32 file.
    assert [bool(f["latency_ms"]) for f in plain["files"]] == [True, False, False]
    assert "fp32 MB" in r.output and "MiB" not in r.output and "model_int8_dynamic.onnx" in r.output

    # The exported fp32 file as an ONNX model: converted and timed the same way, no reference.
    folder = next(p for p in keep.iterdir() if p.name.endswith("trained.pt"))
    out2 = tmp_path / "onnx.json"
    r = _bench(app, "--model", str(folder / "model.onnx"), "--reference", "none", "--runs", "1", "--dtype", "fp32",
               "--dtype", "int8", "--json", str(out2))
    assert r.exit_code == 0, r.output
    (row,) = json.loads(out2.read_text())["rows"]
    assert [f["dtype"] for f in row["files"]] == ["fp32", "int8"] and row["gmacs"] is None
    assert all(v is None for v in row["ratio"].values())

    # The export folder, once its manifest lists the fp16 file: each listed file as it is, nothing converted.
    m = Manifest.load(folder)
    dataclasses.replace(m, files=(*m.files, FileEntry.from_path(folder, "model_fp16.onnx", dtype="fp16"))).save(folder)
    out3 = tmp_path / "folder.json"
    png = tmp_path / "bench.png"
    r = _bench(app, "--model", str(folder), "--reference", "none", "--runs", "1", "--json", str(out3),
               "--plot", str(png))
    assert r.exit_code == 0, r.output
    from PIL import Image

    with Image.open(png) as im:  # one panel, two files: a picture with bars, not a blank canvas
        assert im.format == "PNG" and im.width >= 400 and len(np.unique(np.asarray(im.convert("L")))) > 10
    (row,) = json.loads(out3.read_text())["rows"]
    assert [(f["dtype"], f["path"]) for f in row["files"]] == [
        ("fp32", str(folder / "model.onnx")), ("fp16", str(folder / "model_fp16.onnx"))]
    assert row["params"] == trained["params"]

    bad = _bench(app, "--model", "afn_student_s:no_such_field=1", "--runs", "0", "--reference", "none")
    assert bad.exit_code != 0 and "no_such_field" in str(bad.exception)
    bad = _bench(app, "--model", "afn_student_s", "--dtype", "int4", "--reference", "none")
    assert bad.exit_code != 0 and "int4" in str(bad.exception)
    bad = _bench(app, "--model", "dmvton_ref", "--reference", "none", "--runs", "0")  # its pyramid needs 64 | size
    assert isinstance(bad.exception, UsageError) and "does not run at --size 64x48" in str(bad.exception)
