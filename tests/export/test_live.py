"""Live mode's graphs (``tryon.export.live``): the garment pyramid once, the student on it per frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from tryon.errors import DataError, UsageError
from tryon.export import export_model, procedural_inputs
from tryon.export.live import GARMENT_ENCODER_FILE, LIVE_MODEL_FILE, attach_live
from tryon.manifest import Manifest
from tryon.models import create_model

ort = pytest.importorskip("onnxruntime")

SIZE = (64, 48)


def _student(**cfg) -> torch.nn.Module:
    """afn_student_s with non-zero flow heads, so the warp (and the flip ensemble) changes the output."""
    torch.manual_seed(0)
    model = create_model("afn_student_s", **cfg)
    with torch.no_grad():
        for head in list(model.flow.main) + list(model.flow.refine):
            head[-1].weight.normal_(0, 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def live_folder(tmp_path_factory):
    model = _student(flip_ensemble=True, mask_sharpness=6.0)
    folder = tmp_path_factory.mktemp("live")
    export_model(model, folder, name="afn_student_s", size=SIZE, version="test")
    return folder, model, attach_live(folder, model)


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def test_manifest_lists_the_live_graphs(live_folder):
    folder, model, manifest = live_folder
    assert {f.path for f in manifest.live_files} == {GARMENT_ENCODER_FILE, LIVE_MODEL_FILE}
    assert manifest.live["flip_ensemble"] is False
    levels = len(model.cfg.enc_channels)
    assert [f["name"] for f in manifest.live["features"]] == [f"garment_features_{i}" for i in range(levels)]
    assert [f["shape"][-2:] for f in manifest.live["features"]] == [  # coarse levels round up
        [-(-SIZE[0] // 2 ** (i + 1)), -(-SIZE[1] // 2 ** (i + 1))] for i in range(levels)]
    # Per frame, the live graph costs well under the deployed student with its flip ensemble.
    assert manifest.live["metrics"]["gmacs_per_frame"] < 0.7 * manifest.metrics["gmacs"]
    again = Manifest.load(folder)
    assert again.live == manifest.live and again.live_files == manifest.live_files
    again.verify_files(folder)


def test_live_graphs_equal_the_student_without_flip_ensemble(live_folder):
    """ORT: encoder once, then the live graph on a new person, equals PyTorch's student with flip off, and
    differs from the deployed (flip-ensemble) student."""
    folder, model, manifest = live_folder
    garment_inputs = procedural_inputs(SIZE, seed=1)
    encoder = _session(folder / GARMENT_ENCODER_FILE)
    live = _session(folder / LIVE_MODEL_FILE)
    feats = encoder.run(None, {k: garment_inputs[k] for k in ("garment", "garment_mask")})
    names = [o.name for o in encoder.get_outputs()]
    plain = dataclasses.replace(model.cfg, flip_ensemble=False)
    reference = create_model("afn_student_s", **dataclasses.asdict(plain)).eval()
    reference.load_state_dict(model.state_dict())
    for seed in (2, 3):  # two frames, one garment pyramid
        person = procedural_inputs(SIZE, seed=seed)["person"]
        feeds = {"person": person, "garment": garment_inputs["garment"], "garment_mask": garment_inputs["garment_mask"],
                 **dict(zip(names, feats, strict=True))}
        got = dict(zip([o.name for o in live.get_outputs()], live.run(None, feeds), strict=True))
        with torch.no_grad():
            want = reference(*(torch.from_numpy(feeds[k]) for k in ("person", "garment", "garment_mask")))
            deployed = model(*(torch.from_numpy(feeds[k]) for k in ("person", "garment", "garment_mask")))
        for k in ("tryon", "grid", "composition_mask"):
            assert np.abs(got[k] - want[k].numpy()).max() < 1e-4, k
        assert np.abs(got["grid"] - deployed["grid"].numpy()).max() > 1e-3  # the flip ensemble is really off


def test_correlation_means_are_convolutions_not_reduce_means(live_folder):
    """The cost volume's channel means export as 1×1 Convs: onnxruntime's CPU/WASM ReduceMean over the channel axis
    was 29 % of the frame graph at 1 thread (tryon.models.layers.correlation). The live graph has no ReduceMean,
    and one Conv per displacement of every level."""
    import onnx

    folder, model, _ = live_folder
    graph = onnx.load(str(folder / LIVE_MODEL_FILE)).graph
    ops = [n.op_type for n in graph.node]
    assert "ReduceMean" not in ops
    corr_convs = [n for n in graph.node if n.op_type == "Conv" and "/corr." in n.name]
    assert len(corr_convs) == sum((2 * r + 1) ** 2 for r in model.cfg.corr_radius)


def test_an_altered_live_file_is_caught(live_folder, tmp_path):
    folder, _, manifest = live_folder
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in folder.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    data = bytearray((copy / LIVE_MODEL_FILE).read_bytes())
    data[-1] ^= 0xFF
    (copy / LIVE_MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(DataError, match=LIVE_MODEL_FILE):
        Manifest.load(copy).verify_files(copy)


def test_attach_live_refuses_a_model_without_garment_pyramid(live_folder):
    folder, _, _ = live_folder
    with pytest.raises(UsageError, match="appearance-flow student"):
        attach_live(folder, torch.nn.Conv2d(3, 3, 1))
