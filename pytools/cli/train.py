"""``tryon train``: distil the geometric teacher's records into the parser-free student.

Speed on CPU: preload tcmalloc (``LD_PRELOAD=libtcmalloc_minimal.so.4``, Debian ``libtcmalloc-minimal4``,
installed by ``make system``); without it glibc malloc makes steps 1.5-6x slower and erratic. The variable
must be set before Python starts, so it is the caller's (or the Makefile's) job, never the code's.
Data-parallel: ``torchrun --nproc_per_node N -m tryon.cli.main train ...`` (see ``tryon.train.student``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import UsageError

__all__ = ["register", "train_command"]


def _parse_loss_weights(items: list[str]):
    from tryon.train.losses import LossWeights

    weights = {}
    names = set(LossWeights.__dataclass_fields__)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in names:
            raise UsageError(f"--loss-weight {item!r} must be NAME=NUMBER with NAME one of {', '.join(sorted(names))}")
        try:
            weights[key] = float(value)
        except ValueError:
            raise UsageError(f"--loss-weight {item!r}: {value!r} is not a number") from None
    return LossWeights(**weights)


def train_command(
    data: Annotated[Path, typer.Option("--data", help="Record folder written by `tryon teacher build`.",
                                       rich_help_panel="Required")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoints, metrics.jsonl, PNGs.",
                                      rich_help_panel="Required")],
    # No default here: importing the models package would load torch at CLI start-up; TrainConfig has it.
    model: Annotated[str | None, typer.Option("--model", help="Registered student (afn_student_s, afn_student_m, "
                                              "...); default: the deployed one, tryon.models.afn_student."
                                              "DEFAULT_STUDENT.", show_default=False)] = None,
    model_arg: Annotated[list[str] | None, typer.Option("--model-arg", help="Architecture override NAME=VALUE "
                                                        "(repeatable; tuples as 1,2,3).")] = None,
    init: Annotated[Path | None, typer.Option("--init", help="Fine-tune: start from this checkpoint or weight file "
                                              "(e.g. models/weights/afn_student_s.pt) with a fresh optimiser; "
                                              "its variant replaces --model.")] = None,
    size: Annotated[str, typer.Option("--size", help="Training size HEIGHTxWIDTH (one stage).",
                                      rich_help_panel="Schedule")] = "256x192",
    epochs: Annotated[int, typer.Option("--epochs", min=0, help="Epochs (one stage).", rich_help_panel="Schedule")]
    = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Samples per step per process.",
                                            rich_help_panel="Schedule")] = 8,
    curriculum: Annotated[str | None, typer.Option(
        "--curriculum", help="Resolution stages HxW:EPOCHS[:BATCH],... e.g. 128x96:10:32,256x192:5:8 "
        "(replaces --size/--epochs).", rich_help_panel="Schedule")] = None,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak Adam learning rate.", rich_help_panel="Schedule")]
    = 2e-4,
    max_steps: Annotated[int, typer.Option("--max-steps", min=0, help="Stop after N steps in all (0 = no limit).",
                                           rich_help_panel="Schedule")] = 0,
    max_minutes: Annotated[float, typer.Option("--max-minutes", min=0.0, help="Stop after this wall time.",
                                               rich_help_panel="Schedule")] = 0.0,
    recon_prob: Annotated[float, typer.Option("--recon-prob", min=0.0, max=1.0, help="Share of self-supervised "
                                              "reconstruction samples.", rich_help_panel="Data")] = 0.25,
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help="Random flip, zoom, colour, garment TPS.",
                                          rich_help_panel="Data")] = True,
    val_data: Annotated[Path | None, typer.Option("--val-data", help="Separate validation record folder.",
                                                  rich_help_panel="Data")] = None,
    val_fraction: Annotated[float, typer.Option("--val-fraction", min=0.0, max=0.9, help="Pairs held out when no "
                                                "--val-data.", rich_help_panel="Data")] = 0.05,
    loss_weight: Annotated[list[str] | None, typer.Option("--loss-weight", help="Loss weight NAME=NUMBER "
                                                          "(tryon, warp, grid, mask, tv, perceptual, recon).",
                                                          rich_help_panel="Losses")] = None,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.", rich_help_panel="Hardware")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", help="fp32 | bf16 (autocast).", rich_help_panel="Hardware")]
    = "fp32",
    workers: Annotated[int, typer.Option("--workers", min=0, help="DataLoader workers per process.",
                                         rich_help_panel="Hardware")] = 2,
    threads: Annotated[int, typer.Option("--threads", min=0, help="Torch CPU threads (0 = cores / processes; "
                                         "use 1 on a machine shared with other jobs).",
                                         rich_help_panel="Hardware")] = 0,
    channels_last: Annotated[bool, typer.Option("--channels-last/--no-channels-last", help="NHWC memory format.",
                                                rich_help_panel="Hardware")] = True,
    save_every: Annotated[int, typer.Option("--save-every", min=0, help="Also checkpoint every N steps.",
                                            rich_help_panel="Checkpoints")] = 500,
    keep: Annotated[int, typer.Option("--keep", min=0, help="Epoch checkpoints kept.",
                                      rich_help_panel="Checkpoints")] = 3,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out from last.pt.",
                                         rich_help_panel="Checkpoints")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of weights, data order and augmentation.")] = 0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (stdout holds only the JSON; "
                                          "logs and progress go to stderr).")] = False,
) -> None:
    """Train (or resume) the student on the teacher's records; see `tryon.train.student` for the method."""
    import logging

    from rich.logging import RichHandler

    from tryon.cli.options import parse_model_args, parse_size
    from tryon.data.augment import AugmentConfig
    from tryon.train.losses import LossWeights
    from tryon.train.student import Stage, TrainConfig, parse_stages, train

    from rich.console import Console

    # Logs and the progress bar go to stderr: stdout holds only the summary (JSON with --json).
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=Console(stderr=True), show_path=False)], force=True)
    if curriculum:
        stages = parse_stages(curriculum, default_batch=batch_size)
    else:
        h, w = parse_size(size, multiple=8)
        stages = (Stage(h, w, epochs, batch_size),)
    cfg = TrainConfig(
        data=str(data), out=str(out), model=model or TrainConfig.model, model_args=parse_model_args(model_arg or []),
        init=str(init) if init else None, stages=stages,
        val_data=str(val_data) if val_data else None, val_fraction=val_fraction, lr=lr,
        loss=_parse_loss_weights(loss_weight or []) if loss_weight else LossWeights(),
        augment=AugmentConfig() if augment else None, recon_prob=recon_prob, seed=seed, device=device, dtype=dtype,
        channels_last=channels_last, workers=workers, threads=threads, save_every=save_every, keep=keep,
        max_steps=max_steps, max_minutes=max_minutes, progress=progress)
    summary = train(cfg, resume=resume)
    if summary["rank"] != 0:
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
        return
    from rich.table import Table

    from tryon.cli.tables import print_table

    table = Table(title=f"student training ({'finished' if summary['finished'] else 'stopped'})")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("steps", str(summary["step"]))
    table.add_row("samples/s (last epoch, all processes)", f"{summary['samples_per_s']:.2f}")
    for k, v in summary["losses"].items():
        table.add_row(f"train {k}", f"{v:.4f}")
    for k, v in summary["val"].items():
        table.add_row(f"val {k}", f"{v:.4f}")
    table.add_row("checkpoint", summary["checkpoint"])
    print_table(table)


def register(app: typer.Typer) -> None:
    """Add ``tryon train`` to the root app."""
    app.command("train")(train_command)
