"""``tryon teacher``: build the distillation records (and train the teacher's learned refinement)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import MinConfidence, NoGate, gate_threshold, parse_size
from tryon.errors import PARTIAL_BATCH_EXIT, UsageError

__all__ = ["register"]

teacher_app = typer.Typer(help="The geometric teacher: distillation records, refinement training.",
                          no_args_is_help=True)


def build(
    out: Annotated[Path, typer.Option("--out", "-o", help="Data set folder; shards and indexes go here.")],
    pairs: Annotated[Path | None, typer.Option("--pairs", help="Pairs CSV (person,garment[,category]).",
                                               rich_help_panel="Pairs")] = None,
    persons: Annotated[Path | None, typer.Option("--persons", help="Folder of person photos (with --garments).",
                                                 rich_help_panel="Pairs")] = None,
    garments: Annotated[Path | None, typer.Option("--garments", help="Folder of garment photos.",
                                                  rich_help_panel="Pairs")] = None,
    all_combinations: Annotated[bool, typer.Option("--all-combinations", help="Every person with every garment "
                                                   "(default: one garment per person).",
                                                   rich_help_panel="Pairs")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use only the first N pairs.",
                                              rich_help_panel="Pairs")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for pairing persons with garments and for --augment.",
                                      rich_help_panel="Pairs")] = 0,
    augment: Annotated[int, typer.Option("--augment", min=0, help="Also write N randomly augmented copies of each "
                                         "record (flip, zoom, colour, garment TPS; targets kept consistent).")] = 0,
    size: Annotated[str, typer.Option("--size", help="Record size HEIGHTxWIDTH (the student's input size).")] = "256x192",
    shard_size: Annotated[int, typer.Option("--shard-size", min=1, help="Samples per tar shard.")] = 512,
    rank: Annotated[int | None, typer.Option("--rank", min=0, help="This worker's rank (default: $RANK or 0).",
                                             rich_help_panel="Sharing the work")] = None,
    world_size: Annotated[int | None, typer.Option("--world-size", min=1, help="Number of workers (default: "
                                                   "$WORLD_SIZE or 1).", rich_help_panel="Sharing the work")] = None,
    refine: Annotated[bool, typer.Option("--refine/--no-refine", help="Fill uncovered skin with the learned "
                                         "refinement net (slower; experimental).")] = False,
    models_dir: Annotated[Path | None, typer.Option("--models-dir", help="Folder of the converted models.")] = None,
    min_confidence: MinConfidence = None,
    no_gate: NoGate = False,
    max_refused: Annotated[float, typer.Option(
        "--max-refused", min=0.0, max=1.0, help=f"Largest share of this run's pairs the teacher may refuse and "
        f"still exit 0; above it the command exits {PARTIAL_BATCH_EXIT} (the records written are kept). "
        "Distillation sets expect some refusals (the default student's: 11 %): pass e.g. 0.2.")] = 0.0,
    category: Annotated[str | None, typer.Option(
        "--category", help="With --persons/--garments: the garments' category (tops, bottoms, one-pieces) for "
        "every pair, e.g. one category's records from every person who shows the body part it needs (with "
        "--frame); default: classified per garment. A pairs CSV names it in its category column.")] = None,
    frame: Annotated[bool, typer.Option(
        "--frame/--no-frame", help="Crop each record's person side to its garment category's framing box "
        "(tryon.framing: upper body for tops, lower body for bottoms, full body for one-pieces), the frame every "
        "runtime gives the student; persons whose photo lacks the needed body part are refused. Without it the "
        "whole photo is letterboxed (VITON-style photos, already framed).")] = False,
) -> None:
    """Run the teacher on (person, garment) pairs and write its records as a sharded data set.

    Rerunning with the same --out resumes: pairs already written are skipped. Refused pairs (no person,
    busy garment background...) and results dropped by the quality gate (below --min-confidence, so the student
    never learns from a failure) are listed in errors-r<rank>.jsonl and counted apart in the report. Exits 3 when
    more than --max-refused of the pairs this run handled were refused (gated results are not refusals).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tryon.data.build import build_records
    from tryon.data.pairs import make_pairs, read_pairs
    from tryon.framing import FramingConfig
    from tryon.garment.category import normalise_category
    from tryon.teacher.pipeline import Teacher

    if (pairs is None) == (persons is None or garments is None):
        raise UsageError("give either --pairs CSV, or both --persons DIR and --garments DIR")
    hw = parse_size(size, multiple=8)
    rank = int(os.environ.get("RANK", 0)) if rank is None else rank
    world_size = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size
    if category is not None and pairs:
        raise UsageError("--category goes with --persons/--garments; a pairs CSV names it in its category column")
    pair_list = read_pairs(pairs) if pairs else make_pairs(persons, garments, limit=limit, seed=seed,
                                                            all_combinations=all_combinations,
                                                            category=None if category is None else
                                                            normalise_category(category))
    if pairs and limit:
        pair_list = pair_list[:limit]
    teacher = Teacher(models_dir=models_dir, refine=refine, min_confidence=gate_threshold(min_confidence, no_gate))
    total = len(pair_list[rank::world_size])
    with Progress(TextColumn(f"[bold]records r{rank}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[failed]} refused"), console=Console(stderr=True)) as progress:
        task = progress.add_task("build", total=total, failed=0)
        failed = 0

        def on_progress(name: str, ok: bool) -> None:
            nonlocal failed
            failed += not ok
            progress.update(task, advance=1, failed=failed)

        summary = build_records(pair_list, out, size=hw, shard_size=shard_size, rank=rank, world_size=world_size,
                                teacher=teacher, on_progress=on_progress, augment=augment, seed=seed,
                                framing=FramingConfig() if frame else None)
    copies = f" (x{1 + augment} records with augmented copies)" if augment else ""
    typer.echo(f"rank {rank}: wrote {summary['written']}{copies}, skipped {summary['skipped']} already built, "
               f"{summary['failed']} refused, {summary['gated']} dropped by the quality gate -> {out}")
    handled = summary["written"] + summary["failed"]
    if handled and summary["failed"] / handled > max_refused:
        typer.echo(f"{summary['failed']} of {handled} pairs refused ({summary['failed'] / handled:.0%}, above "
                   f"--max-refused {max_refused:g}); see {summary['errors']}", err=True)
        raise typer.Exit(PARTIAL_BATCH_EXIT)


def synth_garments(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the garment photos (PNG) into.")],
    category: Annotated[str, typer.Option("--category", help="Garment category to vary: bottoms (trousers, shorts, "
                                          "skirts) or one-pieces (dresses).")] = "bottoms",
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Number of variations.")] = 300,
    first_seed: Annotated[int, typer.Option("--first-seed", min=0, help="Seed of the first variation; the "
                                            "others follow it.")] = 0,
    size: Annotated[str, typer.Option("--size", help="Photo size HEIGHTxWIDTH.")] = "1024x768",
) -> None:
    """Write procedural product photos of one category (tryon.garment.synth) for distillation records.

    Each photo is named CATEGORY_SEED.png and is the same for the same seed; an existing file is kept. Pair them
    with persons who show the needed body part (`tryon teacher build --persons ... --garments OUT --category
    CATEGORY --frame`).
    """
    from PIL import Image
    from rich.progress import track

    from tryon.garment.category import normalise_category
    from tryon.garment.synth import render_synth

    cat = normalise_category(category)
    hw = parse_size(size, multiple=1)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for seed in track(range(first_seed, first_seed + count), description=f"{cat} garments", transient=True):
        path = out / f"{cat}_{seed:05d}.png"
        if path.exists():
            continue
        img, _ = render_synth(cat, seed, hw)
        Image.fromarray(img).save(path)
        written += 1
    typer.echo(f"wrote {written} {cat} garment photos ({count - written} already there) -> {out}")


def register(app: typer.Typer) -> None:
    from tryon.train.refine import register_refine_command

    teacher_app.command("build")(build)
    teacher_app.command("synth-garments")(synth_garments)
    register_refine_command(teacher_app)
    app.add_typer(teacher_app, name="teacher")
