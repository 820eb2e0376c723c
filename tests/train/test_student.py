"""Student training loop: runs at toy size, checkpoints, resumes exactly, refuses bad data and bad checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tryon.data.records import ShardWriter
from tryon.errors import DataError, OutputError, UsageError
from tryon.person.labels import LABEL
from tryon.train.checkpoint import build_model_from_checkpoint, load_checkpoint
from tryon.train.dataset import RecordDataset, ShardedSampler, make_reconstruction
from tryon.train.losses import LossWeights
from tryon.train.student import Stage, TrainConfig, check_batch, learning_rate, parse_stages, train

TINY = {"enc_channels": (8, 8, 8, 8, 8), "enc_depth": (1, 1, 1, 1, 1), "stem_channels": 8, "fpn_channels": 8,
        "corr_radius": (2, 2, 2, 2, 2), "flow_channels": (8, 8, 8, 8, 8), "gen_channels": (8, 8, 8, 8, 8),
        "out_channels": 8}


def toy_record(h, w, seed):
    """A record whose arrays are consistent enough to train on (smooth images, a torso in the parse)."""
    rng = np.random.default_rng(seed)

    def img():
        base = rng.integers(0, 256, (1, 1, 3)).astype(np.float32)
        ramp = np.linspace(0, 60, w, dtype=np.float32)[None, :, None]
        return np.clip(base + ramp + rng.normal(0, 5, (h, w, 3)), 0, 255).astype(np.uint8)

    mask = np.zeros((h, w), np.float32)
    mask[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1
    parse = np.zeros((h, w), np.uint8)
    parse[h // 4:3 * h // 4, w // 4:3 * w // 4] = LABEL["torso"]
    ys, xs = np.meshgrid((np.arange(h) * 2 + 1) / h - 1, (np.arange(w) * 2 + 1) / w - 1, indexing="ij")
    grid = np.stack([xs * 0.8, ys * 0.8], -1).astype(np.float32)
    return {"person": img(), "garment": img(), "tryon": img(), "agnostic": img(), "warped_garment": img(),
            "garment_mask": np.ones((h, w), np.float32), "warped_mask": mask, "composition_mask": mask, "parse": parse,
            "grid": grid, "keypoints": np.zeros((33, 4), np.float32)}


def make_records(path, n=6, size=(32, 32), shard_size=4, category="top"):
    with ShardWriter(path, size, shard_size=shard_size) as w:
        for i in range(n):
            w.write(f"p{i}", toy_record(*size, i), {"i": i, "category": category})
    return path


def tiny_config(tmp_path, data, **kw):
    base = dict(data=str(data), out=str(tmp_path / "run"), model="afn_student_s", model_args=TINY,
                stages=(Stage(32, 32, 2, 2),), loss=LossWeights(perceptual=0.0), workers=0, threads=1,
                progress=False, val_fraction=0.0, val_rows=2, log_every=1, save_every=0, recon_prob=0.5)
    base.update(kw)
    return TrainConfig(**base)


def test_train_writes_checkpoint_metrics_and_pictures(tmp_path):
    data = make_records(tmp_path / "rec")
    summary = train(tiny_config(tmp_path, data))
    out = tmp_path / "run"
    assert summary["finished"] and summary["step"] == 2 * 3  # 6 samples / batch 2 = 3 steps, 2 epochs
    state = load_checkpoint(out / "last.pt")
    assert state["model"] == "afn_student_s" and state["progress"]["stage"] == 1
    assert state["config"]["stages"][0]["height"] == 32
    model = build_model_from_checkpoint(state)
    assert model.cfg.fpn_channels == 8
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss"]) for r in rows if "loss" in r)
    assert any(r.get("split") == "val" for r in rows)
    assert (out / "loss_curve.png").stat().st_size > 0
    assert sorted(p.name for p in out.glob("val_grid_e*.png")) == ["val_grid_e0000.png", "val_grid_e0001.png"]
    with pytest.raises(OutputError, match="--resume"):
        train(tiny_config(tmp_path, data))


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    data = make_records(tmp_path / "rec")
    full = train(tiny_config(tmp_path / "a", data, save_every=1))
    # "Kill" after 4 of 6 steps (mid-epoch), then resume.
    part = train(tiny_config(tmp_path / "b", data, max_steps=4))
    assert part["step"] == 4 and not part["finished"]
    assert load_checkpoint(tmp_path / "b" / "run" / "last.pt")["progress"] == {"step": 4, "stage": 0, "epoch": 1,
                                                                              "batch": 1}
    resumed = train(tiny_config(tmp_path / "b", data), resume=True)
    assert resumed["finished"] and resumed["step"] == full["step"]
    assert resumed["param_sha256"] == full["param_sha256"]


def test_resume_after_a_kill_logs_each_step_once(tmp_path):
    """A run killed after its last checkpoint had logged further steps; the resumed run logs them again, once."""
    import shutil

    data = make_records(tmp_path / "rec")
    cfg = tiny_config(tmp_path, data)
    train(cfg)
    run = tmp_path / "run"
    # What a kill during epoch 1 leaves on disk: the epoch-0 checkpoint as last.pt, metrics up to step 6.
    shutil.copy(run / "ckpt-e0000.pt", run / "last.pt")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 7, "lo')  # a line cut by the kill
    assert load_checkpoint(run / "last.pt")["progress"]["step"] == 3
    train(cfg, resume=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if r.get("split") != "val"]
    assert steps == sorted(set(steps)) and steps[-1] == 6
    assert [r["epoch"] for r in rows if r.get("split") == "val"] == [0, 1]


def test_init_fine_tunes_from_a_checkpoint_with_a_fresh_schedule(tmp_path):
    data = make_records(tmp_path / "rec")
    first = train(tiny_config(tmp_path / "a", data))
    source = tmp_path / "a" / "run" / "last.pt"
    # The run's config names another variant: --init's own variant and architecture win.
    tuned = train(tiny_config(tmp_path / "b", data, init=str(source), model="afn_student_m", model_args={},
                              max_steps=1, loss=LossWeights(perceptual=0.0, mask=5.0)))
    state = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert state["model"] == "afn_student_s" and state["model_args"]["fpn_channels"] == 8
    assert state["progress"]["step"] == 1 and tuned["step"] == 1  # a fresh schedule, not the source's 6 steps
    assert tuned["param_sha256"] != first["param_sha256"]  # it trained from there
    start = build_model_from_checkpoint(load_checkpoint(source))
    after = build_model_from_checkpoint(state)
    # One small Adam step from the source weights, not a new random initialisation.
    deltas = [(a - b).abs().max().item() for a, b in zip(start.parameters(), after.parameters(), strict=True)]
    assert max(deltas) < 0.05
    with pytest.raises(UsageError, match="cannot load checkpoint"):
        train(tiny_config(tmp_path / "c", data, init=str(tmp_path / "missing.pt")))
    # A deployed weight file (sharpened mask, flip ensemble) fine-tunes with both deployment settings off.
    import dataclasses

    from tryon.train.mask_sharpness import save_weights

    start.cfg = dataclasses.replace(start.cfg, flip_ensemble=True)
    deployed = save_weights(start, "afn_student_s", tmp_path / "deployed.pt", k=8.0, half=False)
    train(tiny_config(tmp_path / "d", data, init=str(deployed), max_steps=1, loss=LossWeights(perceptual=0.0)))
    args = load_checkpoint(tmp_path / "d" / "run" / "last.pt")["model_args"]
    assert args["mask_sharpness"] == 1.0 and args["flip_ensemble"] is False


def test_curriculum_runs_each_stage_at_its_size(tmp_path):
    data = make_records(tmp_path / "rec", size=(64, 64))
    cfg = tiny_config(tmp_path, data, stages=parse_stages("32x32:1:2,64x64:1:3"), dtype="bf16")  # + autocast
    assert cfg.stages == (Stage(32, 32, 1, 2), Stage(64, 64, 1, 3))
    summary = train(cfg)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {tuple(r["size"]) for r in rows if "size" in r} == {(32, 32), (64, 64)}
    assert summary["step"] == 3 + 2


def test_bad_inputs_give_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a record data set"):
        train(tiny_config(tmp_path, tmp_path / "empty"))
    with ShardWriter(tmp_path / "none", (32, 32)):
        pass
    with pytest.raises(DataError, match="no samples"):
        train(tiny_config(tmp_path, tmp_path / "none"))
    data = make_records(tmp_path / "rec")
    with pytest.raises(UsageError, match="multiples of 16"):
        train(tiny_config(tmp_path, data, stages=(Stage(40, 40, 1, 2),)))
    with pytest.raises(UsageError, match="nothing to resume"):
        train(tiny_config(tmp_path, data), resume=True)
    # A truncated checkpoint names itself.
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="corrupt"):
        train(tiny_config(tmp_path, data), resume=True)

    ds = RecordDataset(data)
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    check_batch(batch, (32, 32))
    bad = dict(batch, person=batch["person"] * 255)
    with pytest.raises(DataError, match="person values must be in"):
        check_batch(bad, (32, 32))
    with pytest.raises(DataError, match="garment_mask must be"):
        check_batch(dict(batch, garment_mask=batch["garment_mask"][:, :, :16]), (32, 32))


def test_sampler_splits_ranks_evenly_and_resumes():
    s0, s1 = ShardedSampler(5, 0, 2, seed=1), ShardedSampler(5, 1, 2, seed=1)
    for s in (s0, s1):
        s.set_epoch(3)
    a, b = list(s0), list(s1)
    assert len(a) == len(b) == 3 and set(a) | set(b) == set(range(5))
    s0.set_epoch(3, start=2)
    assert list(s0) == a[2:] and len(s0) == 1


def test_reconstruction_sample_puts_the_garment_back():
    rec = toy_record(64, 48, 0)
    out = make_reconstruction(rec, np.random.default_rng(0), tps_sigma=0.02)
    assert out is not None
    np.testing.assert_array_equal(out["person"], rec["tryon"])  # the tutor image is the input
    np.testing.assert_array_equal(out["tryon"], rec["person"])  # the real photo is the target
    g = torch.from_numpy(out["garment"].astype(np.float32)).permute(2, 0, 1)[None]
    warped = torch.nn.functional.grid_sample(g, torch.from_numpy(out["grid"])[None], align_corners=False)
    m = out["warped_mask"] > 0.5
    err = np.abs(warped[0].permute(1, 2, 0).numpy() - rec["person"].astype(np.float32))[m].mean()
    assert err < 6.0  # grey levels; bilinear resampling of the noisy toy image
    assert make_reconstruction(dict(rec, parse=np.zeros_like(rec["parse"])), np.random.default_rng(0)) is None


def test_learning_rate_schedule():
    cfg = TrainConfig(data="x", lr=1.0, decay_start=0.5, lr_final=0.0)
    assert learning_rate(cfg, 0, 100) == 1.0 and learning_rate(cfg, 49, 100) == 1.0
    assert learning_rate(cfg, 75, 100) == pytest.approx(0.5) and learning_rate(cfg, 100, 100) == 0.0


def test_cli_train_command(tmp_path, subcommand_app):
    from typer.testing import CliRunner

    from tryon.cli.options import parse_model_args
    from tryon.cli.train import register

    assert parse_model_args(["fpn_channels=8", "corr_radius=2,2,3"]) == {"fpn_channels": 8, "corr_radius": (2, 2, 3)}
    app = subcommand_app(register)

    data = make_records(tmp_path / "rec", n=4)
    # No --model: the deployed student is the default.
    args = ["train", "--data", str(data), "--out", str(tmp_path / "run"), "--size", "32x32", "--epochs", "1", "--batch-size", "2", "--workers", "0", "--threads", "1",
            "--no-progress", "--loss-weight", "perceptual=0", "--val-fraction", "0", "--json"]
    for item in TINY.items():
        k, v = item
        args += ["--model-arg", f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout is the JSON alone; logs go to stderr
    assert summary["finished"] and summary["step"] == 2
    assert "epoch 0" in result.stderr  # the epoch's log line
    from tryon.models.afn_student import DEFAULT_STUDENT

    assert load_checkpoint(tmp_path / "run" / "last.pt")["model"] == DEFAULT_STUDENT


@pytest.mark.parametrize("with_matplotlib", [True, False])
def test_plots_with_and_without_matplotlib(tmp_path, monkeypatch, with_matplotlib):
    import sys

    from PIL import Image

    from tryon.train.plots import plot_loss_curves, validation_grid

    if not with_matplotlib:
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    curves = {"loss": ([1, 2, 3, 4], [1.0, 0.5, 0.4, 0.3]), "grid": ([1, 2, 3, 4], [0.1, 0.08, 0.05, 0.04])}
    p = plot_loss_curves(tmp_path / "c.png", curves, {"loss": ([4], [0.35])})
    assert Image.open(p).size[0] > 100
    img = np.zeros((32, 24, 3), np.uint8)
    g = validation_grid(tmp_path / "g.png", [[img] * 4, [img] * 4], caption="epoch 0")
    assert Image.open(g).size == (4 * 24, 32 + 2 * 32)


def test_checkpoint_records_the_categories_it_was_trained_on(tmp_path):
    from tryon.export import checkpoint_categories

    data = make_records(tmp_path / "rec", category="lower")  # the teacher's own name for bottoms
    train(tiny_config(tmp_path, data, stages=(Stage(32, 32, 1, 2),)))
    last = tmp_path / "run" / "last.pt"
    assert load_checkpoint(last)["categories"] == ["bottoms"]
    assert checkpoint_categories(last) == ("bottoms",)  # what `tryon export` writes into the manifest
    with ShardWriter(tmp_path / "bare", (32, 32)) as w:
        w.write("p0", toy_record(32, 32, 0), {"i": 0})
    with pytest.raises(DataError, match="names no garment category"):
        train(tiny_config(tmp_path / "b", tmp_path / "bare"))
