"""``tryon run``: dress a person photo in a garment with the geometric teacher (one pair, or a pairs CSV)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from tryon.errors import OutputError, TryonError, UsageError

__all__ = ["register"]

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_INTERMEDIATES = ("agnostic", "warped_garment", "composition_mask", "parse")


def _check_output(out: Path, inputs: list[Path]) -> None:
    resolved = out.resolve()
    for i in inputs:
        if i.exists() and i.resolve() == resolved:
            raise OutputError(f"{out}: refusing to overwrite an input file")


def _save_result(result, out: Path, intermediates: bool) -> None:
    from tryon.person.labels import PARSE_LABELS
    from tryon.processing import save_image

    save_image(out, result.tryon)
    if not intermediates:
        return
    import numpy as np

    stem = out.with_suffix("")
    save_image(f"{stem}_agnostic.png", result.agnostic)
    save_image(f"{stem}_warped_garment.png", result.warped_garment)
    save_image(f"{stem}_composition_mask.png", (np.clip(result.composition_mask, 0, 1) * 255).astype(np.uint8))
    # Spread the labels over 0..255 so the parse is visible in an image viewer.
    save_image(f"{stem}_parse.png", (result.parse.astype(np.uint16) * 255 // (len(PARSE_LABELS) - 1)).astype(np.uint8))


def run(
    person: Annotated[Path | None, typer.Option("--person", "-p", help="Photo of the person to dress (JPEG, PNG, WebP). "
                                                   "One person, front-facing, upper body visible.",
                                                   rich_help_panel="Single pair")] = None,
    garment: Annotated[str, typer.Option("--garment", "-g", help="In-shop photo of a top on a plain background, or "
                                         "'catalogue:<name>' for a built-in garment (see --list-garments).",
                                         rich_help_panel="Single pair")] = "catalogue:default",
    pairs: Annotated[Path | None, typer.Option("--pairs", help="Batch mode: a CSV with columns person,garment "
                                               "(paths relative to the CSV); -o is then a folder.",
                                               rich_help_panel="Batch")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Result image (.png/.jpg/.webp); with --pairs, "
                                             "the output folder.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Garment category, 'top', 'dress' or 'lower'; "
                                                 "detected from the garment's shape when omitted. Only tops are "
                                                 "dressed for now.")] = None,
    refine: Annotated[bool, typer.Option("--refine/--no-refine", help="Fill uncovered skin with the learned "
                                         "refinement net instead of the classical shaded fill (slower; "
                                         "experimental).")] = False,
    intermediates: Annotated[bool, typer.Option("--intermediates", help="Also write the agnostic person, warped "
                                                "garment, composition mask and parse next to each result.")] = False,
    models_dir: Annotated[Path | None, typer.Option("--models-dir", help="Folder of the converted models "
                                                    "(default: $TRYON_MODELS_DIR or ~/.cache/tryon/models; "
                                                    "built by `tryon setup`).")] = None,
    list_garments: Annotated[bool, typer.Option("--list-garments", help="List the built-in garment catalogue "
                                                "and exit.")] = False,
) -> None:
    """Dress PERSON in GARMENT and write the result: [bold]tryon run -p me.jpg -o me_tryon.png[/bold].

    Without --garment the default built-in catalogue garment is used. Exit codes: 0 done; 3 some pairs of a
    batch failed (see errors.jsonl); 10-13 bad image file; 20/21 no person / several people; 30/31 garment
    background or category; 40 model missing (run `tryon setup`); 50 output not writable.
    """
    if list_garments:
        from tryon.garment.catalogue import DEFAULT_GARMENT
        from tryon.garment.catalogue import list_garments as names

        for name in names():
            typer.echo(f"catalogue:{name}" + ("   (default)" if name == DEFAULT_GARMENT else ""))
        return
    if (person is None) == (pairs is None):
        raise UsageError("give either --person (one pair) or --pairs (a CSV of pairs)")
    if out is None:
        raise UsageError("give the output with -o/--out")
    if category is not None and category not in ("top", "dress", "lower"):
        raise UsageError(f"--category must be top, dress or lower, not {category!r}")
    if garment == "catalogue:default":
        from tryon.garment.catalogue import DEFAULT_GARMENT

        garment = f"catalogue:{DEFAULT_GARMENT}"

    if person is not None:
        if out.suffix.lower() not in _IMAGE_SUFFIXES:
            raise UsageError(f"-o {out}: give an image file name ending in {', '.join(_IMAGE_SUFFIXES)}")
        _check_output(out, [person, Path(garment)])
        _run_one(person, garment, out, category=category, refine=refine, intermediates=intermediates,
                 models_dir=models_dir)
    else:
        failed = _run_batch(pairs, out, category=category, refine=refine, intermediates=intermediates,
                            models_dir=models_dir)
        if failed:
            raise typer.Exit(3)


def _run_one(person: Path, garment: str, out: Path, *, category, refine, intermediates, models_dir) -> None:
    from tryon.garment.source import load_garment
    from tryon.processing import load_image
    from tryon.teacher.pipeline import Teacher

    person_img = load_image(person)
    garment_img, garment_mask, _ = load_garment(garment)
    teacher = Teacher(models_dir=models_dir, refine=refine)
    result = teacher.run(person_img, garment_img, garment_mask=garment_mask, category=category)
    _save_result(result, out, intermediates)
    secs = sum(result.timings.values())
    typer.echo(f"wrote {out} ({result.tryon.shape[1]}x{result.tryon.shape[0]}, {secs:.2f} s)")


def _run_batch(pairs_csv: Path, out_dir: Path, *, category, refine, intermediates, models_dir) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tryon.garment.source import load_garment
    from tryon.data.pairs import read_pairs
    from tryon.processing import atomic_write_bytes, load_image
    from tryon.teacher.pipeline import Teacher

    pairs = read_pairs(pairs_csv)
    if out_dir.suffix.lower() in _IMAGE_SUFFIXES:
        raise UsageError(f"-o {out_dir}: with --pairs, -o is a folder")
    _check_output(out_dir, [pairs_csv])
    teacher = Teacher(models_dir=models_dir, refine=refine)
    errors: list[dict] = []
    with Progress(TextColumn("[bold]try-on"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[name]}")) as progress:
        task = progress.add_task("pairs", total=len(pairs), name="")
        for pair in pairs:
            progress.update(task, name=pair.name)
            try:
                garment_img, garment_mask, _ = load_garment(str(pair.garment))
                result = teacher.run(load_image(pair.person), garment_img, garment_mask=garment_mask,
                                     category=category or pair.category)
                _save_result(result, out_dir / f"{pair.name}.png", intermediates)
            except TryonError as exc:
                errors.append({"person": str(pair.person), "garment": str(pair.garment), "error": exc.name,
                               "exit_code": exc.exit_code, "message": exc.message})
            progress.advance(task)
    if errors:
        atomic_write_bytes(out_dir / "errors.jsonl", "".join(json.dumps(e) + "\n" for e in errors).encode())
        typer.echo(f"{len(errors)} of {len(pairs)} pairs failed; see {out_dir / 'errors.jsonl'}", err=True)
    typer.echo(f"wrote {len(pairs) - len(errors)} results to {out_dir}")
    return len(errors)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
