"""ONNX export: parity with PyTorch, manifest, atomic/no-clobber writes, checkpoints, the CLI, graph checks."""

from __future__ import annotations

import io

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tryon.errors import DataError, OutputError, UsageError
from tryon.export import export_model, find_webgpu_issues, model_from_checkpoint, procedural_inputs
from tryon.manifest import Manifest
from tryon.models import create_model

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _nontrivial(name: str = "afn_student_s") -> torch.nn.Module:
    """A model with non-zero flow heads and BN statistics, so every path of the graph carries signal."""
    torch.manual_seed(0)
    model = create_model(name)
    with torch.no_grad():
        for head in list(model.flow.main) + list(model.flow.refine):
            head[-1].weight.normal_(0, 0.05)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _vton_inputs(root, size):
    """First maple-cpvton garment with its mask and the first person photo from the sample folder."""
    from tryon.export import photo_inputs

    masks = sorted((root / "garment_mask").glob("*"))
    persons = sorted((root / "person").glob("*.jpg"))
    if not masks or not persons:
        pytest.skip("vton-samples lacks garment masks or persons")
    garment = root / "garment" / masks[0].name
    if not garment.exists():
        pytest.skip(f"{garment} is absent")
    return photo_inputs(str(persons[0]), str(garment), str(masks[0]), size)


def test_procedural_inputs_are_image_like():
    x = procedural_inputs((64, 48), seed=3, batch=2)
    assert x["person"].shape == (2, 3, 64, 48) and x["garment_mask"].shape == (2, 1, 64, 48)
    assert x["person"].min() >= -1 and x["person"].max() <= 1 and x["person"].std() > 0.1
    assert 0.1 < x["garment_mask"].mean() < 0.9
    np.testing.assert_array_equal(procedural_inputs((64, 48), seed=3)["garment"], procedural_inputs((64, 48), seed=3)["garment"])


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    """One 64x48 export of the small student shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("small")
    return out, export_model(_nontrivial(), out, name="afn_student_s", size=(64, 48), version="t1")


def test_export_small_writes_manifest(small_export):
    out, result = small_export
    assert max(result.max_abs.values()) <= 1e-4
    files = sorted(p.name for p in out.iterdir())
    assert files == ["manifest.json", "model.onnx"]  # no temporary files left behind
    m = Manifest.load(out)
    assert m == result.manifest
    assert Manifest.from_json(m.to_json()) == m
    assert [i.name for i in m.inputs] == ["person", "garment", "garment_mask"]
    assert [o.name for o in m.outputs] == ["tryon", "warped_garment", "grid", "composition_mask"]
    assert m.input("person").shape == (1, 3, 64, 48) and m.output("grid").shape == (1, 64, 48, 2)
    assert m.output("grid").layout == "NHWC" and m.input("garment_mask").value_range == (0.0, 1.0)
    assert m.opset == 17 and m.version == "t1" and m.webgpu_features == ()
    assert m.metrics["params"] > 0 and m.metrics["gmacs"] > 0
    assert m.file("fp32").bytes == (out / "model.onnx").stat().st_size
    m.verify_files(out)
    # No op outside the WebGPU allow-list, no 3x3 Conv on 6/9 channels, no Concat over 7 inputs.
    import onnx

    assert find_webgpu_issues(onnx.load(out / "model.onnx")) == []


def test_manifest_detects_altered_file(small_export, tmp_path):
    out, result = small_export
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(DataError):
        result.manifest.verify_files(tmp_path)
    with pytest.raises(DataError):
        Manifest.from_json("{}")


def test_export_refuses_to_clobber_and_bad_args(small_export, tmp_path):
    out, _ = small_export
    model = _nontrivial()
    with pytest.raises(OutputError):
        export_model(model, out, name="s", size=(64, 48), overwrite=False)
    with pytest.raises(UsageError):
        export_model(model, tmp_path / "b", name="s", size=(64, 48), opset=20)
    with pytest.raises(UsageError):
        export_model(model, tmp_path / "c", name="s", size=(60, 48))


def test_parity_failure_writes_nothing(tmp_path):
    with pytest.raises(OutputError, match="parity"):
        export_model(_nontrivial(), tmp_path, name="s", size=(64, 48), atol=-1.0)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_graph_checks_flag_bad_conv_and_ops():
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((8, 6, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv6", pads=[1, 1, 1, 1]),
             helper.make_node("LeakyRelu", ["y"], ["z"], name="lrelu")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 8, 8])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 8, 8])], [w])
    issues = find_webgpu_issues(helper.make_model(graph))
    assert {(i.kind, i.node) for i in issues} == {("conv_channels", "conv6"), ("op", "lrelu")}


def test_graph_checks_flag_wide_concat():
    from onnx import TensorProto, helper

    names = [f"x{i}" for i in range(8)]
    graph = helper.make_graph([helper.make_node("Concat", names, ["y"], name="cat8", axis=1)], "g",
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, 2, 2]) for n in names],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 2, 2])])
    assert [(i.kind, i.node) for i in find_webgpu_issues(helper.make_model(graph))] == [("concat_inputs", "cat8")]


def test_graph_checks_flag_a_mirroring_slice():
    import torch

    class Mirror(torch.nn.Module):
        def forward(self, x):
            return torch.cat((x.flip(-1), x), dim=1)

    out = io.BytesIO()
    torch.onnx.export(Mirror(), (torch.zeros(1, 2, 4, 4),), out, opset_version=17, dynamo=False)
    issues = find_webgpu_issues(onnx.load_from_string(out.getvalue()))
    assert [i.kind for i in issues] == ["slice_step"]


def test_checkpoint_roundtrip(tmp_path):
    model = _nontrivial()
    ckpt = tmp_path / "ck.pt"
    arch = {"fpn_channels": model.cfg.fpn_channels, "corr_radius": list(model.cfg.corr_radius)}
    torch.save({"variant": "afn_student_s", "arch": arch, "state_dict": model.state_dict()}, ckpt)
    loaded, variant = model_from_checkpoint(ckpt)
    assert variant == "afn_student_s"
    x = {k: torch.from_numpy(v) for k, v in procedural_inputs((64, 48)).items()}
    with torch.no_grad():
        a, b = model(**x)["tryon"], loaded(**x)["tryon"]
    torch.testing.assert_close(a, b)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "bare.pt")
    with pytest.raises(UsageError):
        model_from_checkpoint(tmp_path / "bare.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")  # torch raises UnpicklingError: a clear refusal instead
    with pytest.raises(UsageError, match="cannot load checkpoint .not a torch file"):
        model_from_checkpoint(tmp_path / "text.pt")
    # The layout `tryon train` writes (model name, model_args, model_state) loads too.
    torch.save({"model": "afn_student_s", "model_args": arch, "model_state": model.state_dict(),
                "optimizer": {}}, tmp_path / "train.pt")
    loaded, variant = model_from_checkpoint(tmp_path / "train.pt")
    with torch.no_grad():
        torch.testing.assert_close(loaded(**x)["tryon"], a)


def test_export_summarises_onnxsim_console_output(tmp_path, capfd, caplog):
    """onnxsim prints one C++ warning per shape node it cannot fold (127 for the student): one log line instead."""
    with caplog.at_level("INFO", logger="tryon.export"):
        export_model(create_model("afn_student_s").eval(), tmp_path, name="afn_student_s", size=(64, 48))
    out, err = capfd.readouterr()
    assert "failed to run" not in out + err and "Constant folding" not in err
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("onnxsim left")]
    assert len(summary) == 1 and int(summary[0].split()[2]) > 10


def test_cli_export(tmp_path, subcommand_app):
    from tryon.cli.export import register

    app = subcommand_app(register)
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--model", "afn_student_s", "-o", str(tmp_path / "a"), "--size", "64x48",
                              "--json"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.stdout)
    assert manifest["name"] == "afn_student_s"
    assert [f["path"] for f in manifest["live_files"]] == ["garment_features.onnx", "model_live.onnx"]
    res = runner.invoke(app, ["export", "--model", "afn_student_s", "-o", str(tmp_path / "c"), "--size", "64x48",
                              "--json", "--no-live", "--no-framing"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["live_files"] == [] and not (tmp_path / "c" / "model_live.onnx").exists()
    help_text = runner.invoke(app, ["export", "--help"]).output
    for flag in ("--model", "--checkpoint", "--out", "--size", "--opset", "--atol", "--json", "--live"):
        assert flag in help_text
    bad = runner.invoke(app, ["export", "-o", str(tmp_path / "b")])
    assert isinstance(bad.exception, UsageError)


@pytest.mark.realdata
def test_parity_256x192_on_photos(tmp_path, vton_samples):
    """The one full-size export: afn_student_m at 256x192 on real photos, ORT CPU vs PyTorch <= 1e-4."""
    inputs = _vton_inputs(vton_samples, (256, 192))
    result = export_model(_nontrivial("afn_student_m"), tmp_path, name="afn_student_m", size=(256, 192),
                          inputs=inputs, strict_webgpu=True)
    assert max(result.max_abs.values()) <= 1e-4
    assert find_webgpu_issues(onnx.load(str(result.onnx_path))) == []
