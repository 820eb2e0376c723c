"""Data-parallel training: two CPU processes on gloo, launched by torchrun, end with identical weights."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tryon.data.records import ShardWriter
from tryon.person.labels import LABEL
from tryon.train.checkpoint import load_checkpoint

TINY = {"enc_channels": [8] * 5, "enc_depth": [1] * 5, "stem_channels": 8, "fpn_channels": 8, "corr_radius": [2] * 5,
        "flow_channels": [8] * 5, "gen_channels": [8] * 5, "out_channels": 8}

SCRIPT = """
import json, sys
from tryon.train.student import TrainConfig, train
cfg = TrainConfig.from_dict(json.loads(sys.argv[1]))
summary = train(cfg)
with open(f"{cfg.out}/summary-r{summary['rank']}.json", "w") as f:
    json.dump(summary, f)
"""


def _records(path, n=7, size=(32, 32)):
    rng = np.random.default_rng(0)
    h, w = size
    mask = np.zeros(size, np.float32)
    mask[8:24, 8:24] = 1
    parse = (mask * LABEL["torso"]).astype(np.uint8)
    ys, xs = np.meshgrid((np.arange(h) * 2 + 1) / h - 1, (np.arange(w) * 2 + 1) / w - 1, indexing="ij")
    with ShardWriter(path, size, shard_size=3) as wr:
        for i in range(n):
            img = lambda: rng.integers(0, 256, (h, w, 3), dtype=np.uint8)  # noqa: E731
            wr.write(f"p{i}", {"person": img(), "garment": img(), "tryon": img(), "agnostic": img(),
                               "warped_garment": img(), "garment_mask": np.ones(size, np.float32), "warped_mask": mask,
                               "composition_mask": mask, "parse": parse,
                               "grid": np.stack([xs, ys], -1).astype(np.float32) * 0.8,
                               "keypoints": np.zeros((33, 4), np.float32)}, {"category": "top"})


def test_two_gloo_processes_train_in_step(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    _records(tmp_path / "rec")
    out = tmp_path / "run"
    cfg = {"data": str(tmp_path / "rec"), "out": str(out), "model": "afn_student_s", "model_args": TINY,
           "stages": [{"height": 32, "width": 32, "epochs": 2, "batch_size": 2}], "workers": 0, "threads": 1,
           "progress": False, "val_fraction": 0.0, "val_rows": 2, "save_every": 0, "recon_prob": 0.5,
           "loss": {"perceptual": 0.0}}
    (tmp_path / "ddp_train.py").write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", str(tmp_path / "ddp_train.py"),
                           json.dumps(cfg)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    s0, s1 = (json.loads((out / f"summary-r{r}.json").read_text()) for r in (0, 1))
    assert s0["world_size"] == s1["world_size"] == 2
    # 7 samples over 2 ranks -> 4 per rank (one padded) -> 2 steps of 2 per epoch, 2 epochs.
    assert s0["step"] == s1["step"] == 4 and s0["finished"] and s1["finished"]
    assert s0["param_sha256"] == s1["param_sha256"]
    state = load_checkpoint(out / "last.pt")
    assert state["progress"]["step"] == 4 and state["config"]["stages"][0]["batch_size"] == 2
    assert (out / "loss_curve.png").exists() and (out / "val_grid_e0001.png").exists()
