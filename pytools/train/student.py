"""Train the parser-free student by distillation from the geometric teacher's records.

The method is DM-VTON's student stage (Nguyen-Ngoc et al., "DM-VTON: Distilled Mobile Real-time Virtual
Try-On", ISMAR-Adjunct 2023; itself PF-AFN's, Ge et al., CVPR 2021) with our teacher's outputs as targets:
the losses are in ``tryon.train.losses``, the samples (teacher records + self-supervised reconstructions of
the real photos) in ``tryon.train.dataset``, augmentation in ``tryon.data.augment``. Optimiser as DM-VTON:
Adam(β1 = 0.5, β2 = 0.999), constant learning rate for the first half of the schedule, then a linear decay.

Commands (``tryon train --help`` lists every flag)::

    # one CPU process; tcmalloc makes CPU training 1.5-6x faster and steadier (apt-get install libtcmalloc-minimal4)
    LD_PRELOAD=libtcmalloc_minimal.so.4 tryon train --data records/ --out runs/s1 --model afn_student_m

    # low-resolution curriculum: 10 epochs at 128x96 (batch 32), then 5 at 256x192 (batch 8)
    tryon train --data records/ --out runs/s1 --curriculum 128x96:10:32,256x192:5:8

    # resume a killed run (same --out); flags that decide the training are taken from the checkpoint
    tryon train --data records/ --out runs/s1 --resume

    # data-parallel: one process per GPU (nccl) or CPU socket (gloo); several machines with --nnodes/--rdzv-*
    torchrun --nproc_per_node 2 -m tryon.cli.main train --data records/ --out runs/ddp --device cuda --dtype bf16

Outputs in ``--out``: ``last.pt`` (checkpoint, rewritten every ``save_every`` steps and at each epoch end),
``ckpt-e<epoch>.pt`` (the last ``keep`` epochs), ``metrics.jsonl`` (one JSON object per logged step and per
validation; on resume the rows past the checkpoint are dropped, so each step appears once), ``loss_curve.png`` and ``val_grid_e<epoch>.png`` (person | garment | teacher | student).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from tryon.data.augment import AugmentConfig
from tryon.errors import DataError, OutputError, UsageError
from tryon.models.afn_student import DEFAULT_STUDENT
from tryon.processing import atomic_write_bytes
from tryon.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from tryon.train.dataset import (
    IMAGE_KEYS,
    MASK_KEYS,
    RecordDataset,
    ShardedSampler,
    record_categories,
    split_keys,
)
from tryon.train.losses import LossWeights, StudentLoss

__all__ = ["Stage", "TrainConfig", "RUNTIME_FIELDS", "train", "check_batch", "learning_rate", "parse_stages"]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class Stage:
    """One stage of the resolution curriculum.

    Attributes:
        height, width: training size in pixels (multiples of the model's divisor, 16 for the AFN students;
            same aspect ratio as the records, which are resized with an area filter).
        epochs: passes over the training samples at this size.
        batch_size: samples per step per process.
    """

    height: int = 256
    width: int = 192
    epochs: int = 10
    batch_size: int = 8


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a student training run; stored whole in every checkpoint.

    Attributes:
        data: record folder (``tryon teacher build``).
        out: run folder (checkpoints, metrics, pictures).
        model: registered student (``tryon.models.list_models("afn_student_*")``); default the deployed one,
            :data:`tryon.models.afn_student.DEFAULT_STUDENT`.
        model_args: architecture overrides passed to ``create_model`` (e.g. narrower widths for a test).
        init: start from these weights (a ``tryon train`` checkpoint or a weight file such as the committed
            default student) with a fresh optimiser and schedule: fine-tuning. Its variant and architecture
            replace ``model`` / ``model_args``. None = random initialisation.
        stages: the resolution curriculum, run in order.
        val_data: a separate record folder for validation; None = hold out ``val_fraction`` of ``data``.
        val_fraction: share of the pairs held out (by a hash of the pair key, so stable across runs).
        val_max: at most this many validation samples are scored per epoch.
        val_rows: rows of the validation grid picture.
        lr: peak Adam learning rate; betas: Adam betas (DM-VTON: 0.5, 0.999).
        decay_start: fraction of the schedule after which the learning rate decays linearly to ``lr_final``.
        lr_final: final learning rate as a fraction of ``lr``.
        grad_clip: clip the global gradient norm to this (0 = off).
        loss: loss weights.
        augment: random augmentation of the records, or None.
        recon_prob: share of samples turned into self-supervised reconstructions of the real photo.
        seed: seeds the model's initialisation, the data order and every per-sample random draw.
        device: "auto" (CUDA when available), "cpu" or "cuda".
        dtype: "fp32", or "bf16" autocast (halves memory on CUDA; no speed-up on these CPUs).
        channels_last: NHWC memory format (1.5x faster convolutions on CPU).
        workers: DataLoader worker processes per training process.
        threads: torch CPU threads per process (0 = cores / processes on this machine). On a machine shared
            with other jobs use 1: OpenMP threads wait for each other at every op, and a descheduled thread
            stalls the rest (measured here under load: 2 threads 1.9 s/sample, 1 thread 0.22 s/sample).
        save_every: also checkpoint every this many steps (0 = at epoch ends only).
        keep: epoch checkpoints kept.
        log_every: steps between metric lines.
        max_steps: stop (with a checkpoint) after this many steps in all (0 = the whole schedule).
        max_minutes: stop (with a checkpoint) after this much wall-clock time (0 = no limit).
        progress: show a progress bar (rank 0).
    """

    data: str = ""
    out: str = "runs/student"
    model: str = DEFAULT_STUDENT
    model_args: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    stages: tuple[Stage, ...] = (Stage(),)
    val_data: str | None = None
    val_fraction: float = 0.05
    val_max: int = 64
    val_rows: int = 6
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    decay_start: float = 0.5
    lr_final: float = 0.01
    grad_clip: float = 5.0
    loss: LossWeights = LossWeights()
    augment: AugmentConfig | None = AugmentConfig()
    recon_prob: float = 0.25
    seed: int = 0
    device: str = "auto"
    dtype: str = "fp32"
    channels_last: bool = True
    workers: int = 2
    threads: int = 0
    save_every: int = 500
    keep: int = 3
    log_every: int = 10
    max_steps: int = 0
    max_minutes: float = 0.0
    progress: bool = True

    def __post_init__(self) -> None:
        if not self.stages:
            raise UsageError("the curriculum needs at least one stage")
        for s in self.stages:
            if s.height <= 0 or s.width <= 0 or s.epochs < 0 or s.batch_size < 1:
                raise UsageError(f"bad curriculum stage {s}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.dtype not in ("fp32", "bf16"):
            raise UsageError(f"dtype must be fp32 or bf16, not {self.dtype!r}")
        if not 0 <= self.recon_prob <= 1 or not 0 <= self.val_fraction < 1:
            raise UsageError("recon_prob must be in [0, 1] and val_fraction in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        """Plain containers only (what a ``weights_only`` checkpoint can hold)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys (from a newer version) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if "stages" in d:
            d["stages"] = tuple(Stage(**s) if isinstance(s, dict) else s for s in d["stages"])
        if isinstance(d.get("loss"), dict):
            d["loss"] = LossWeights(**d["loss"])
        if isinstance(d.get("augment"), dict):
            a = {k: tuple(v) if isinstance(v, list) else v for k, v in d["augment"].items()}
            d["augment"] = AugmentConfig(**a)
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        return cls(**d)


RUNTIME_FIELDS = ("data", "out", "val_data", "device", "dtype", "channels_last", "workers", "threads", "save_every",
                  "keep", "log_every", "max_steps", "max_minutes", "progress", "val_max", "val_rows")
"""Fields a resumed run takes from the command line; all others come from the checkpoint."""


def parse_stages(text: str, default_batch: int = 8) -> tuple[Stage, ...]:
    """``"128x96:10:32,256x192:5"`` -> stages (HEIGHTxWIDTH:EPOCHS[:BATCH]).

    Raises:
        UsageError: malformed text.
    """
    stages = []
    for part in text.split(","):
        bits = part.strip().split(":")
        try:
            h, w = (int(v) for v in bits[0].lower().split("x"))
            epochs = int(bits[1])
            batch = int(bits[2]) if len(bits) > 2 else default_batch
        except (ValueError, IndexError):
            raise UsageError(f"curriculum stage {part!r} must be HEIGHTxWIDTH:EPOCHS[:BATCH], e.g. 128x96:10:32") \
                from None
        stages.append(Stage(h, w, epochs, batch))
    return tuple(stages)


# ------------------------------------------------------------------------------------------- helpers
def learning_rate(cfg: TrainConfig, step: int, total: int) -> float:
    """Constant ``lr`` until ``decay_start · total`` steps, then linear decay to ``lr_final · lr``."""
    start = cfg.decay_start * total
    if step < start or total <= start:
        return cfg.lr
    frac = min(1.0, (step - start) / (total - start))
    return cfg.lr * (1.0 - frac * (1.0 - cfg.lr_final))


def check_batch(batch: dict[str, torch.Tensor], size: tuple[int, int]) -> None:
    """Check a training batch at the model boundary.

    Expects images (N, 3, H, W) and masks (N, 1, H, W) and ``grid`` (N, H, W, 2), floating point, finite,
    images and grid in [-1, 1], masks in [0, 1], (H, W) = ``size``.

    Raises:
        DataError: naming the field, its shape or its value range.
    """
    h, w = size
    n = batch["person"].shape[0]
    tol = 1e-3
    expect = {**{k: ((n, 3, h, w), -1.0, 1.0) for k in IMAGE_KEYS}, **{k: ((n, 1, h, w), 0.0, 1.0) for k in MASK_KEYS},
              "grid": ((n, h, w, 2), -1.0, 1.0)}
    for name, (shape, lo, hi) in expect.items():
        t = batch.get(name)
        if t is None:
            raise DataError(f"training batch lacks {name!r}")
        if tuple(t.shape) != shape or not t.is_floating_point():
            raise DataError(f"training batch: {name} must be {shape} float, got {tuple(t.shape)} {t.dtype}")
        tmin, tmax = torch.aminmax(t)
        tmin, tmax = float(tmin), float(tmax)
        if not (math.isfinite(tmin) and math.isfinite(tmax)) or tmin < lo - tol or tmax > hi + tol:
            raise DataError(f"training batch: {name} values must be in [{lo}, {hi}], got [{tmin:.4g}, {tmax:.4g}]")


def _resolve_device(pref: str, local_rank: int) -> torch.device:
    if pref == "cuda" or (pref == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA device is available to this torch build")
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def _setup_distributed(device: torch.device) -> tuple[int, int, bool]:
    """(rank, world size, whether this call created the process group) from torchrun's environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), False
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), True


def _worker_init(_: int) -> None:
    # Each loader worker decodes PNGs; letting it spawn a thread per core oversubscribes the CPU.
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def _param_digest(model: torch.nn.Module) -> str:
    """sha256 over the trainable parameters (BatchNorm running statistics are per-rank until the next forward,
    where DDP broadcasts rank 0's, so they are left out)."""
    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _to_image(x: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5 + 0.5).byte().permute(1, 2, 0).cpu().numpy()


class _Run:
    """State of one training process (kept in one place so the loop reads top to bottom)."""

    def __init__(self, cfg: TrainConfig, resume: bool):
        from tryon.models import create_model

        self.out = Path(cfg.out)
        self.last = self.out / "last.pt"
        state = None
        if resume:
            if not self.last.exists():
                raise UsageError(f"--resume: {self.last} does not exist; nothing to resume")
            state = load_checkpoint(self.last)
            saved = TrainConfig.from_dict(state["config"])
            changed = [f for f in dataclasses.fields(TrainConfig)
                       if f.name not in RUNTIME_FIELDS and getattr(saved, f.name) != getattr(cfg, f.name)
                       and getattr(cfg, f.name) != getattr(TrainConfig(data=cfg.data), f.name)]
            if changed:
                log.warning("resuming: the checkpoint's %s are kept (the command line's are ignored)",
                            ", ".join(f.name for f in changed))
            cfg = dataclasses.replace(saved, **{k: getattr(cfg, k) for k in RUNTIME_FIELDS})
        elif self.last.exists():
            raise OutputError(f"{self.out} already holds a training run (last.pt); pass --resume to continue it "
                              "or choose another --out")
        self.cfg = cfg
        if not cfg.data:
            raise UsageError("no data folder given (--data)")

        # --- devices, processes ---
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = _resolve_device(cfg.device, self.local_rank)
        self.rank, self.world, self.owns_group = _setup_distributed(self.device)
        self.main = self.rank == 0
        if self.device.type == "cpu":
            local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
            torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // local_world))
        else:
            # Fixed input sizes per stage: let cuDNN pick its fastest kernels; TF32 is ample for distillation.
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank (DDP broadcasts them anyway)

        # --- data ---
        full = RecordDataset(cfg.data)
        self.samples = full.samples
        # What the student will dress: written into every checkpoint, then by `tryon export` into the manifest.
        self.categories = record_categories(self.samples)
        if cfg.val_data:
            train_idx, val_idx = list(range(len(self.samples))), None
        else:
            train_idx, val_idx = split_keys([s[0] for s in self.samples], cfg.val_fraction)
            if not train_idx:
                train_idx, val_idx = val_idx, []
        if not train_idx:
            raise DataError(f"{cfg.data}: no training samples")
        if val_idx is not None and not val_idx:
            # Too few pairs to hold any out: show (but do not score as held-out) a few training samples.
            val_idx = train_idx[: max(1, cfg.val_rows)]
            if self.main and cfg.val_fraction > 0:
                log.warning("%s: too few samples for a held-out validation split; validating on training samples",
                            cfg.data)
        self.train_idx, self.val_idx = train_idx, val_idx

        # --- model, loss, optimiser ---
        name = state["model"] if state else cfg.model
        args = {k: tuple(v) if isinstance(v, list) else v
                for k, v in (state["model_args"] if state else cfg.model_args).items()}
        if state:
            model = create_model(name, **args)
            model.load_state_dict(state["model_state"])
        elif cfg.init:
            from tryon.export.onnx_export import model_from_checkpoint

            model, name = model_from_checkpoint(cfg.init)
            model.train()
            if getattr(getattr(model, "cfg", None), "mask_sharpness", 1.0) != 1.0:
                # A deployed sharpness (tryon mask-sharpness) is chosen after training; training runs at 1.
                model.cfg = dataclasses.replace(model.cfg, mask_sharpness=1.0)
            if getattr(getattr(model, "cfg", None), "flip_ensemble", False):
                # Likewise the deployed flip ensemble: training estimates one flow per sample.
                model.cfg = dataclasses.replace(model.cfg, flip_ensemble=False)
            if self.main:
                log.info("fine-tuning %s from %s", name, cfg.init)
        else:
            model = create_model(name, **args)
        self.model_name = name
        self.model_args = dataclasses.asdict(model.cfg) if dataclasses.is_dataclass(getattr(model, "cfg", None)) \
            else args
        self.divisor = getattr(getattr(model, "cfg", None), "divisor", 16)
        for s in cfg.stages:
            if s.height % self.divisor or s.width % self.divisor:
                raise UsageError(f"curriculum size {s.height}x{s.width}: height and width must be multiples of "
                                 f"{self.divisor} for {name}")
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        model = model.to(self.device, memory_format=self.memory_format)
        self.raw_model = model
        self.aux = "return_aux" in inspect.signature(model.forward).parameters
        if self.world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.model = model
        self.criterion = StudentLoss(cfg.loss).to(self.device, memory_format=self.memory_format)
        self.optimizer = torch.optim.Adam(self.raw_model.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
        self.progress = {"step": 0, "stage": 0, "epoch": 0, "batch": 0}
        if state:
            self.optimizer.load_state_dict(state["optimizer"])
            self.progress = dict(state["progress"])
            if "rng" in state and self.main:
                set_rng_state(state["rng"])
        self.autocast = cfg.dtype == "bf16"
        self.metrics_path = self.out / "metrics.jsonl"
        self.out.mkdir(parents=True, exist_ok=True)
        if self.main:
            for stale in self.out.glob(".*.pt.*.part"):  # left by a run killed while saving
                stale.unlink(missing_ok=True)
            if state:
                self.trim_metrics()

    def trim_metrics(self) -> None:
        """Drop the ``metrics.jsonl`` rows the checkpoint had not reached: a run killed after its last save
        logged steps (and possibly an epoch's validation) that the resumed run logs again."""
        if not self.metrics_path.exists():
            return
        p = self.progress
        epochs_done = sum(s.epochs for s in self.cfg.stages[:p["stage"]]) + p["epoch"]
        kept, dropped = [], 0
        for line in self.metrics_path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                dropped += 1  # a line cut by the kill
                continue
            reached = row.get("step", 0) <= p["step"] and (row.get("split") != "val" or row["epoch"] < epochs_done)
            if reached:
                kept.append(line)
            else:
                dropped += 1
        if dropped:
            log.info("resuming at step %d: %d metric line(s) past the checkpoint dropped", p["step"], dropped)
            atomic_write_bytes(self.metrics_path, "".join(f"{ln}\n" for ln in kept).encode())

    # ------------------------------------------------------------------------------------------------
    def batches_per_epoch(self, stage: Stage) -> int:
        per_rank = -(-len(self.train_idx) // self.world)
        return per_rank // stage.batch_size if per_rank >= stage.batch_size else 1

    def loader(self, stage: Stage, epoch_global: int, start_batch: int) -> DataLoader:
        cfg = self.cfg
        ds = RecordDataset(cfg.data, (stage.height, stage.width), indices=self.train_idx, augment=cfg.augment,
                           recon_prob=cfg.recon_prob, seed=cfg.seed, samples=self.samples)
        ds.set_epoch(epoch_global)
        sampler = ShardedSampler(len(ds), self.rank, self.world, shuffle=True, seed=cfg.seed)
        sampler.set_epoch(epoch_global, start_batch * stage.batch_size)
        per_rank = sampler.per_rank
        return DataLoader(ds, batch_size=stage.batch_size, sampler=sampler, num_workers=cfg.workers,
                          drop_last=per_rank >= stage.batch_size, pin_memory=self.device.type == "cuda",
                          worker_init_fn=_worker_init if cfg.workers else None,
                          persistent_workers=False)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mf = self.memory_format
        person = batch["person"].contiguous(memory_format=mf)
        garment = batch["garment"].contiguous(memory_format=mf)
        gmask = batch["garment_mask"].contiguous(memory_format=mf)
        kwargs = {"return_aux": True} if self.aux else {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.model(person, garment, gmask, **kwargs)
            return out, self.criterion(out, batch)

    def save(self, metrics: dict[str, float], epoch_end: bool = False, epoch_global: int = 0) -> None:
        if not self.main:
            return
        state = {"model": self.model_name, "model_args": self.model_args,
                 "model_state": {k: v.detach().cpu() for k, v in self.raw_model.state_dict().items()},
                 "config": self.cfg.to_dict(), "optimizer": self.optimizer.state_dict(),
                 "progress": dict(self.progress), "rng": rng_state(), "metrics": metrics,
                 "categories": list(self.categories)}
        save_checkpoint(self.last, state)
        if epoch_end and self.cfg.keep > 0:
            save_checkpoint(self.out / f"ckpt-e{epoch_global:04d}.pt", state)
            olds = sorted(self.out.glob("ckpt-e*.pt"))
            for old in olds[: -self.cfg.keep]:
                old.unlink(missing_ok=True)

    def log_metrics(self, row: dict[str, Any]) -> None:
        if self.main:
            with open(self.metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")

    @torch.no_grad()
    def validate(self, stage: Stage, epoch_global: int) -> dict[str, float]:
        """Score up to ``val_max`` validation samples and draw the validation grid (rank 0 only)."""
        from tryon.train.plots import validation_grid

        cfg = self.cfg
        data = cfg.val_data or cfg.data
        idx = None if cfg.val_data else self.val_idx
        ds = RecordDataset(data, (stage.height, stage.width), indices=idx, augment=None, recon_prob=0.0,
                           seed=cfg.seed, samples=None if cfg.val_data else self.samples)
        n = min(len(ds), max(cfg.val_max, cfg.val_rows))
        model = self.raw_model
        was_training = model.training
        model.eval()
        sums: dict[str, float] = {}
        rows = []
        count = 0
        loader = DataLoader(torch.utils.data.Subset(ds, range(n)), batch_size=stage.batch_size, num_workers=0)
        for batch in loader:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            mf = self.memory_format
            kwargs = {"return_aux": True} if self.aux else {}
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                out = model(batch["person"].contiguous(memory_format=mf), batch["garment"].contiguous(memory_format=mf),
                            batch["garment_mask"].contiguous(memory_format=mf), **kwargs)
                losses = self.criterion(out, batch)
            b = batch["person"].shape[0]
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * b
            count += b
            for i in range(b):
                if len(rows) < cfg.val_rows:
                    rows.append([_to_image(batch["person"][i]), _to_image(batch["garment"][i]),
                                 _to_image(batch["tryon"][i]), _to_image(out["tryon"][i])])
        model.train(was_training)
        result = {k: v / max(count, 1) for k, v in sums.items() if k != "recon"}
        if rows:
            validation_grid(self.out / f"val_grid_e{epoch_global:04d}.png", rows,
                            caption=f"epoch {epoch_global}, step {self.progress['step']}, "
                                    f"{stage.height}x{stage.width}")
        return result

    def plot(self) -> None:
        from tryon.train.plots import plot_loss_curves

        train: dict[str, tuple[list[int], list[float]]] = {}
        val: dict[str, tuple[list[int], list[float]]] = {}
        if not self.metrics_path.exists():
            return
        for line in self.metrics_path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            target = val if row.get("split") == "val" else train
            for k in ("loss", "tryon", "warp", "grid", "mask", "tv", "perceptual", "recon"):
                if k in row:
                    target.setdefault(k, ([], []))
                    target[k][0].append(row["step"])
                    target[k][1].append(row[k])
        plot_loss_curves(self.out / "loss_curve.png", train, val, title=f"{self.model_name} distillation")


# ------------------------------------------------------------------------------------------------ train
def train(cfg: TrainConfig, *, resume: bool = False) -> dict[str, Any]:
    """Run (or resume) a student training; every process of a ``torchrun`` job calls this.

    Args:
        cfg: the run's configuration (on resume only its ``RUNTIME_FIELDS`` are used).
        resume: continue from ``<cfg.out>/last.pt``.

    Returns:
        summary: ``step``, ``finished`` (the whole schedule ran), ``checkpoint`` (path), ``samples_per_s``
        (training throughput of all processes together, last epoch), ``losses`` (the last logged values),
        ``val`` (the last validation scores), ``rank``, ``world_size``, ``param_sha256`` (digest of this
        process's parameters; equal on every rank).

    Raises:
        DataError: no samples, unreadable shards, a corrupt checkpoint, or inputs out of shape/range.
        UsageError: bad configuration (sizes, device). OutputError: ``out`` holds a run and ``resume`` is off.
    """
    run = _Run(cfg, resume)
    try:
        return _loop(run)
    finally:
        if run.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def _loop(run: _Run) -> dict[str, Any]:
    cfg = run.cfg
    stages = cfg.stages
    total_steps = sum(run.batches_per_epoch(s) * s.epochs for s in stages)
    total_steps_shown = min(total_steps, cfg.max_steps) if cfg.max_steps else total_steps
    t_start = time.monotonic()
    last_losses: dict[str, float] = {}
    last_val: dict[str, float] = {}
    samples_per_s = 0.0
    stopped = False
    skipped_in_a_row = 0
    p = run.progress

    progress_cm = _progress_bar(run.main and cfg.progress)
    with progress_cm as bar:
        task = bar.add_task("train", total=total_steps_shown, completed=p["step"], info="") if bar is not None \
            else None
        while p["stage"] < len(stages) and not stopped:
            si = p["stage"]
            stage = stages[si]
            if stage.epochs == 0:
                p["stage"], p["epoch"], p["batch"] = si + 1, 0, 0
                continue
            epoch_global = sum(s.epochs for s in stages[:si]) + p["epoch"]
            loader = run.loader(stage, epoch_global, p["batch"])
            run.model.train()
            window: dict[str, float] = {}
            window_n = 0
            t_epoch = t_window = time.monotonic()
            epoch_samples = 0
            for batch in loader:
                batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
                check_batch(batch, (stage.height, stage.width))
                lr = learning_rate(cfg, p["step"], total_steps)
                for group in run.optimizer.param_groups:
                    group["lr"] = lr
                _, losses = run.forward(batch)
                run.optimizer.zero_grad(set_to_none=True)
                losses["loss"].backward()
                # After DDP's all-reduce the gradients are the same on every rank, so every rank takes the same
                # decision here and the processes stay in step.
                norm = torch.nn.utils.clip_grad_norm_(run.raw_model.parameters(),
                                                      cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
                if torch.isfinite(norm):
                    run.optimizer.step()
                    skipped_in_a_row = 0
                else:
                    skipped_in_a_row += 1
                    log.warning("step %d: non-finite gradient, update skipped", p["step"])
                    if skipped_in_a_row >= 20:
                        raise DataError(f"20 steps in a row gave non-finite gradients at step {p['step']}; lower "
                                        f"the learning rate or check the data (last checkpoint: {run.last})")
                p["step"] += 1
                p["batch"] += 1
                n = batch["person"].shape[0] * run.world
                epoch_samples += n
                for k, v in losses.items():
                    window[k] = window.get(k, 0.0) + float(v.detach())
                window_n += 1
                if p["step"] % cfg.log_every == 0 or p["batch"] == 1:
                    now = time.monotonic()
                    last_losses = {k: v / window_n for k, v in window.items()}
                    run.log_metrics({"step": p["step"], "stage": si, "epoch": epoch_global, "lr": lr,
                                     "size": [stage.height, stage.width],
                                     "samples_per_s": window_n * n / max(now - t_window, 1e-9), **last_losses})
                    window, window_n, t_window = {}, 0, now
                if bar is not None:
                    bar.update(task, completed=p["step"], info=f"e{epoch_global} {stage.height}x{stage.width} "
                               f"loss {float(losses['loss']):.4f}")
                if cfg.save_every and p["step"] % cfg.save_every == 0:
                    run.save(last_losses)
                out_of_time = cfg.max_minutes and (time.monotonic() - t_start) / 60 >= cfg.max_minutes
                if (cfg.max_steps and p["step"] >= cfg.max_steps) or out_of_time:
                    stopped = True
                    break
            samples_per_s = epoch_samples / max(time.monotonic() - t_epoch, 1e-9)
            if stopped and p["batch"] < run.batches_per_epoch(stage):
                run.save(last_losses)  # mid-epoch: --resume continues from the next batch
                break
            # --- epoch end: validation, pictures, checkpoint ---
            p["epoch"] += 1
            p["batch"] = 0
            if p["epoch"] >= stage.epochs:
                p["stage"], p["epoch"] = si + 1, 0
            if run.main:
                last_val = run.validate(stage, epoch_global)
                run.log_metrics({"split": "val", "step": p["step"], "epoch": epoch_global, **last_val})
                run.plot()
                log.info("epoch %d: %s", epoch_global, " ".join(f"{k} {v:.4f}" for k, v in last_val.items()))
            run.save(last_losses, epoch_end=True, epoch_global=epoch_global)
    if run.world > 1:
        dist.barrier()
    finished = p["stage"] >= len(stages)
    return {"step": p["step"], "finished": finished, "checkpoint": str(run.last), "samples_per_s": samples_per_s,
            "losses": last_losses, "val": last_val, "rank": run.rank, "world_size": run.world,
            "param_sha256": _param_digest(run.raw_model), "out": str(run.out)}


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def _progress_bar(enabled: bool):
    if not enabled:
        return _NoBar()
    from rich.progress import (
        BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
    )

    from rich.console import Console

    return Progress(TextColumn("[bold]student"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=Console(stderr=True))
