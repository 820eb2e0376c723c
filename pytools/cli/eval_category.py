"""``tryon eval-category``: the garment category classifier on labelled garment photos (``tryon.eval.category``):
the confusion matrix (rows label, columns outcome incl. uncertain and refused) and a picture of the mistakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "eval_category_command"]


def eval_category_command(
    folder: Annotated[Path, typer.Argument(help="Folder the labels' file paths are relative to.", exists=True,
                                           file_okay=False)],
    labels: Annotated[Path, typer.Option("--labels", help="CSV with the columns file,category; rows with "
                                         "an empty category are skipped (a data set manifest can be given as it "
                                         "is).", exists=True, dir_okay=False)],
    sheet: Annotated[Path | None, typer.Option("--sheet", help="Write a picture of the garments whose outcome "
                                               "is not their label here (PNG).", dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matrix and every outcome as JSON.")] = False,
) -> None:
    """Classify every labelled garment photo as `category=auto` does (garment mask, then the shape classifier)
    and print the confusion matrix. A garment of another category in the tops column would be dressed as a top."""
    from tryon.errors import OutputError
    from tryon.eval.category import evaluate_categories, format_confusion, mistakes_sheet, read_labels

    rows = read_labels(labels)
    if sheet is not None and sheet.suffix.lower() != ".png":
        raise OutputError(f"--sheet {sheet}: write the picture as a .png file")
    report = evaluate_categories(folder, rows, progress=not as_json)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=1))
    else:
        typer.echo(format_confusion(report, title=f"garment categories, {len(rows)} photos of {folder}"))
    if sheet is not None:
        n = mistakes_sheet(report, folder, sheet)
        if not as_json:
            typer.echo(f"wrote {sheet} ({n} garments)" if n else "no mistakes: no sheet written")


def register(app: typer.Typer) -> None:
    """Add ``tryon eval-category`` to the root app."""
    app.command("eval-category")(eval_category_command)
