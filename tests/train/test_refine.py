"""Self-supervised training of the teacher's refiner (tryon.train.refine) on tiny synthetic photos."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch

from tryon.errors import DataError, UsageError
from tryon.models import create_model
from tryon.processing import save_image
from tryon.train.refine import (HOLE_KINDS, RefineTrainConfig, estimate_person_mask, export_weights,
                                find_person_photos, make_batch, refine_loss, register_refine_command,
                                sample_hole, skin_mask, train_refiner)

SKIN = (224, 172, 140)


def synthetic_person(seed: int, h: int = 128, w: int = 96) -> np.ndarray:
    """A cartoon person on a white background: skin head and bare arms, a coloured shirt."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 250, np.uint8)
    shirt = [(40, 60, 160), (30, 120, 60), (90, 90, 90), (20, 20, 20)][seed % 4]
    cx = w // 2 + int(rng.integers(-4, 5))
    cv2.ellipse(img, (cx, h // 7), (w // 9, h // 10), 0, 0, 360, SKIN, -1)
    cv2.rectangle(img, (cx - w // 20, h // 5), (cx + w // 20, h // 4), SKIN, -1)
    cv2.rectangle(img, (cx - w // 4, h // 4), (cx + w // 4, int(h * 0.8)), shirt, -1)
    for s in (-1, 1):
        cv2.line(img, (cx + s * w // 4 + s * 4, h // 4 + 4), (cx + s * w // 3, int(h * 0.7)), SKIN, w // 12)
    noise = rng.normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    for i in range(6):
        save_image(d / f"p{i}.png", synthetic_person(i))
    return d


def tiny_config(photo_dir, **kw) -> RefineTrainConfig:
    base = dict(data_roots=(str(photo_dir),), model="teacher_refine_tiny", height=32, width=24, cache_height=64,
                cache_width=48, batch_size=2, steps=6, max_minutes=0, checkpoint_every=3, log_every=2,
                val_count=2, warmup_steps=2, lr=3e-3)
    base.update(kw)
    return RefineTrainConfig(**base)


def test_config_is_frozen_and_validated(photo_dir):
    cfg = tiny_config(photo_dir)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 3
    with pytest.raises(UsageError):
        tiny_config(photo_dir, height=30).validate()
    with pytest.raises(UsageError):
        tiny_config(photo_dir, hint_dropout=2.0).validate()


def test_find_photos(photo_dir, tmp_path):
    assert len(find_person_photos([photo_dir])) == 6
    with pytest.raises(DataError):
        find_person_photos([tmp_path / "absent"])
    with pytest.raises(DataError):
        find_person_photos([tmp_path])


def test_person_and_skin_masks():
    img = synthetic_person(0)
    person = estimate_person_mask(img)
    assert person.dtype == bool and 0.2 < person.mean() < 0.6
    assert person[64, 48] and not person[2, 2]
    skin = skin_mask(img)
    assert skin[img.shape[0] // 7, 48] and not skin[100, 48]


@pytest.mark.parametrize("kind", HOLE_KINDS)
def test_hole_kinds(kind):
    rng = np.random.default_rng(0)
    img = synthetic_person(1)
    person = estimate_person_mask(img)
    for _ in range(5):
        hole = sample_hole(img, person, rng, kind=kind)
        assert hole.shape == person.shape and hole.dtype == bool
        assert 0.004 <= hole.mean() <= 0.46


def test_batch_layout(photo_dir):
    cfg = tiny_config(photo_dir, height=64, width=48)
    imgs = np.stack([synthetic_person(i) for i in range(3)])
    persons = np.stack([estimate_person_mask(i) for i in imgs])
    x, m, hint = make_batch(imgs, persons, [0, 1, 2], cfg, np.random.default_rng(0))
    assert x.shape == (3, 3, 64, 48) and m.shape == hint.shape == (3, 1, 64, 48)
    assert x.min() >= -1 and x.max() <= 1
    assert set(np.unique(m)) <= {0.0, 1.0}
    assert np.all(hint[m == 0] == 0)


@pytest.fixture
def one_thread():
    """Single-threaded torch: tiny convolutions on a shared 2-core machine are far faster without OpenMP."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_loss_decreases_on_a_fixed_batch(photo_dir, one_thread):
    torch.manual_seed(0)
    cfg = tiny_config(photo_dir, height=32, width=24)
    imgs = np.stack([synthetic_person(i) for i in range(4)])
    persons = np.stack([estimate_person_mask(i) for i in imgs])
    x, m, hint = map(torch.from_numpy, make_batch(imgs, persons, [0, 1, 2, 3], cfg, np.random.default_rng(0)))
    model = create_model("teacher_refine_tiny")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss, _ = refine_loss(model(x, m, hint), x, m, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.6 * losses[0]


def test_tiny_training_run_checkpoints_and_resumes(photo_dir, tmp_path):
    out = tmp_path / "run"
    ckpt = train_refiner(tiny_config(photo_dir), out)
    assert ckpt == out / "last.pt" and ckpt.is_file()
    for name in ("loss_curve.png", "val_grid.png", "history.json", "photo_cache.npz"):
        assert (out / name).is_file(), name
    ck = torch.load(ckpt, weights_only=False)
    assert ck["step"] == 6 and ck["samples"] == 12 and len(ck["history"]) == 6
    assert [v["step"] for v in ck["val_history"]] == [3, 6]
    assert not list(out.glob("*.tmp*"))                # atomic writes leave nothing behind

    ckpt = train_refiner(tiny_config(photo_dir, steps=8, resume=True), out)
    ck2 = torch.load(ckpt, weights_only=False)
    assert ck2["step"] == 8 and len(ck2["history"]) == 8
    assert ck2["history"][:6] == ck["history"]
    assert [v["step"] for v in ck2["val_history"]] == [3, 6, 8]
    assert json.loads((out / "history.json").read_text())["train"][-1]["step"] == 8

    with pytest.raises(UsageError):
        train_refiner(tiny_config(photo_dir, steps=9, resume=True, model="teacher_refine_small"), out)

    w = export_weights(ckpt, tmp_path / "w.pt")
    obj = torch.load(w, weights_only=True)
    assert obj["variant"] == "teacher_refine_tiny" and obj["steps"] == 8
    assert all(v.dtype == torch.float16 for v in obj["state_dict"].values())


def test_cli_command_registered_with_help():
    import typer
    from typer.testing import CliRunner

    app = typer.Typer()
    register_refine_command(app)

    @app.callback()
    def _cb() -> None:
        """Test app."""

    res = CliRunner().invoke(app, ["train-refine", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    for flag in ("--out", "--data", "--model", "--steps", "--max-minutes", "--resume", "--export"):
        assert flag in res.output
