"""Composition-mask sharpness: the sweep measures translucency, the choice follows the teacher, the weights
round-trip with the chosen k, and the CLI refuses bad input."""

from __future__ import annotations

import json

import pytest
import torch

from tryon.errors import DataError, UsageError
from tryon.export.onnx_export import model_from_checkpoint
from tryon.models import create_model
from tryon.train.mask_sharpness import SweepRow, choose, save_weights, sweep, translucent_share

from .test_student import TINY, make_records


def half_open_student(bias: float = 0.6):
    """A tiny student whose composition logit is a constant ``bias`` (a translucent mask at k = 1)."""
    torch.manual_seed(0)
    model = create_model("afn_student_s", **TINY)
    with torch.no_grad():
        model.generator.head[-1].bias[3] = bias
    return model.eval()


def test_translucent_share():
    m = torch.zeros(2, 1, 4, 4)
    m[0, :, :2] = 1.0
    m[0, :, 2:, :2] = 0.5  # 4 translucent of 12 support pixels
    assert translucent_share(m).tolist() == pytest.approx([4 / 12, 0.0])


def test_sweep_hardens_the_mask_and_the_weights_keep_the_choice(tmp_path):
    data = make_records(tmp_path / "rec", n=8, size=(32, 32))
    model = half_open_student()
    rows = sweep(model, data, (1.0, 8.0), val_fraction=0.5, progress=False)
    assert [r.k for r in rows] == [1.0, 8.0] and model.cfg.mask_sharpness == 1.0  # restored
    soft, hard = rows
    assert soft.translucent > 0.9 and hard.translucent < soft.translucent  # sigmoid(0.6)=0.65 vs sigmoid(4.8)=0.99
    assert 0 <= soft.teacher_translucent <= 1 and soft.teacher_translucent == hard.teacher_translucent

    out = save_weights(model, "afn_student_s", tmp_path / "w.pt", k=hard.k)
    loaded, variant = model_from_checkpoint(out)
    assert variant == "afn_student_s" and loaded.cfg.mask_sharpness == 8.0
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    gmask = torch.ones(1, 1, 32, 32)
    with torch.no_grad():
        mask = loaded(x, x, gmask)["composition_mask"]
    assert mask.max() > 0.95  # the constant logit 0.6 at k = 8

    # Fine-tuning from the sharpened weights trains at k = 1 again.
    from tryon.train.checkpoint import load_checkpoint
    from tryon.train.losses import LossWeights
    from tryon.train.student import train

    from .test_student import tiny_config

    train(tiny_config(tmp_path, data, init=str(out), max_steps=1, loss=LossWeights(perceptual=0.0)))
    assert load_checkpoint(tmp_path / "run" / "last.pt")["model_args"]["mask_sharpness"] == 1.0


def test_choice_prefers_the_smallest_k_as_opaque_as_the_teacher():
    rows = [SweepRow(1.0, 0.100, 0.2, 0.40, 0.08), SweepRow(3.0, 0.1005, 0.3, 0.10, 0.08),
            SweepRow(4.0, 0.1008, 0.3, 0.07, 0.08), SweepRow(6.0, 0.1009, 0.4, 0.05, 0.08),
            SweepRow(8.0, 0.1100, 0.5, 0.01, 0.08)]
    assert choose(rows).k == 4.0
    # With no L1 slack only k = 1 qualifies; a tolerance that never reaches the teacher takes the most opaque.
    assert choose(rows, l1_tolerance=0.0).k == 1.0
    assert choose(rows[:2]).k == 3.0
    with pytest.raises(UsageError):
        choose([])


def test_bad_input(tmp_path):
    data = make_records(tmp_path / "rec", n=4, size=(32, 32))
    with pytest.raises(UsageError, match="> 0"):
        sweep(half_open_student(), data, (0.0,), progress=False)
    with pytest.raises(DataError, match="no held-out"):
        sweep(half_open_student(), data, (1.0,), val_fraction=0.0001, progress=False)
    with pytest.raises(ValueError, match="mask_sharpness"):
        create_model("afn_student_s", mask_sharpness=-1.0)


def test_cli(tmp_path, subcommand_app):
    from typer.testing import CliRunner

    from tryon.cli.mask_sharpness import register

    data = make_records(tmp_path / "rec", n=8, size=(32, 32))
    model = half_open_student()
    ckpt = save_weights(model, "afn_student_s", tmp_path / "in.pt", k=1.0, half=False, categories=["one-pieces"])
    app = subcommand_app(register)

    out = tmp_path / "out.pt"
    args = ["mask-sharpness", str(ckpt), "--data", str(data), "-o", str(out), "--ks", "1,8", "--val-fraction",
            "0.5", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["chosen"] in (1.0, 8.0) and len(report["rows"]) == 2
    assert model_from_checkpoint(out)[0].cfg.mask_sharpness == report["chosen"]
    from tryon.export import checkpoint_categories

    assert checkpoint_categories(out) == ("one-pieces",)  # what it was trained on travels to the export
    again = CliRunner().invoke(app, args)
    assert again.exit_code != 0 and "--force" in str(again.exception)
    bad = CliRunner().invoke(app, [*args[:-5], "--ks", "a,b", "--force"])
    assert bad.exit_code != 0 and "comma-separated" in str(bad.exception)
    assert not model_from_checkpoint(out)[0].cfg.flip_ensemble  # the checkpoint's own setting by default
    flip = CliRunner().invoke(app, [*args, "--force", "--flip-ensemble"])
    assert flip.exit_code == 0, flip.output
    assert model_from_checkpoint(out)[0].cfg.flip_ensemble
