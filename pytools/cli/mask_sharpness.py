"""``tryon mask-sharpness``: choose the student's deployed composition-mask sharpness on held-out records and
write its weights with it (``tryon.train.mask_sharpness``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import UsageError

__all__ = ["register", "mask_sharpness_command"]


def _parse_ks(text: str) -> tuple[float, ...]:
    try:
        ks = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise UsageError(f"--ks {text!r}: expected comma-separated numbers, e.g. 1,2,4") from None
    if not ks:
        raise UsageError("--ks: give at least one value")
    return ks


def mask_sharpness_command(
    checkpoint: Annotated[Path, typer.Argument(help="Student checkpoint or weight file (`tryon train` last.pt).",
                                               exists=True, dir_okay=False)],
    data: Annotated[Path, typer.Option("--data", help="Record folder the student was trained on (its held-out "
                                       "split is scored).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Weight file to write (fp16, with the chosen k), for "
                                      "`tryon export --checkpoint`.", dir_okay=False)],
    ks: Annotated[str, typer.Option("--ks", help="Sharpness values to try, comma-separated.")]
    = "1,1.5,2,3,4,6,8",
    val_fraction: Annotated[float, typer.Option("--val-fraction", min=0.01, max=0.9,
                                                help="Held-out share, as in `tryon train`.")] = 0.05,
    max_samples: Annotated[int, typer.Option("--max-samples", min=1, help="Held-out records scored.")] = 64,
    l1_tolerance: Annotated[float, typer.Option("--l1-tolerance", min=0.0,
                                                help="Accepted relative try-on L1 loss vs the best k.")] = 0.01,
    flip_ensemble: Annotated[bool | None, typer.Option(
        "--flip-ensemble/--no-flip-ensemble", show_default=False,
        help="Also set the deployed flip ensemble (flow averaged with its mirror estimate; "
             "StudentConfig.flip_ensemble); the sweep runs with it. Default: the checkpoint's setting.")] = None,
    threads: Annotated[int, typer.Option("--threads", min=0, help="Torch CPU threads (0: torch's default).")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sweep and the choice as JSON.")] = False,
) -> None:
    """Sweep the composition-mask sharpness k (composition = sigmoid(k·logit)·warped mask) on the records held out
    from training, pick the smallest k as opaque as the teacher without losing try-on L1, and write the weights."""
    import dataclasses

    import torch

    from tryon.export.onnx_export import checkpoint_categories, model_from_checkpoint
    from tryon.train.mask_sharpness import choose, save_weights, sweep

    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    if threads:
        torch.set_num_threads(threads)
    model, variant = model_from_checkpoint(checkpoint)
    if flip_ensemble is not None:
        if not hasattr(getattr(model, "cfg", None), "flip_ensemble"):
            raise UsageError(f"{variant} has no flip ensemble to set")
        model.cfg = dataclasses.replace(model.cfg, flip_ensemble=flip_ensemble)
    rows = sweep(model, data, _parse_ks(ks), val_fraction=val_fraction, max_samples=max_samples,
                 progress=not as_json)
    pick = choose(rows, l1_tolerance)
    save_weights(model, variant, out, k=pick.k, note=f"{variant}; mask_sharpness {pick.k:g} chosen by "
                 f"`tryon mask-sharpness` on {data.name}; flip_ensemble {getattr(model.cfg, 'flip_ensemble', False)}",
                 categories=checkpoint_categories(checkpoint))
    if as_json:
        typer.echo(json.dumps({"rows": [dataclasses.asdict(r) for r in rows], "chosen": pick.k, "out": str(out)},
                              indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"composition-mask sharpness, {variant} on held-out records of {data.name}")
    for col in ("k", "try-on L1", "mask BCE", "translucent", "teacher translucent"):
        table.add_column(col, justify="right")
    for r in rows:
        style = "bold" if r is pick else None
        table.add_row(f"{r.k:g}", f"{r.tryon_l1:.4f}", f"{r.mask_bce:.4f}", f"{r.translucent:.3f}",
                      f"{r.teacher_translucent:.3f}", style=style)
    Console().print(table)
    typer.echo(f"chosen k = {pick.k:g}; wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``tryon mask-sharpness`` to the root app."""
    app.command("mask-sharpness")(mask_sharpness_command)
