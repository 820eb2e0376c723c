"""``tryon eval``: score a try-on method on person/garment pairs (FID/KID, identity, garment fidelity, GT).

Heavy imports (torch, the harness) happen inside the handler so that ``tryon --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import PairsCategory, parse_size, with_category
from tryon.errors import UsageError

__all__ = ["register", "eval_command", "compare_command"]

_METHODS = ("teacher", "student", "copy")


class _Copy:
    """Baseline that returns the person photo unchanged (perfect identity, no garment): a sanity reference."""

    def __call__(self, person, garment, category=None, garment_mask=None):
        import numpy as np

        from types import SimpleNamespace

        h, w = person.shape[:2]
        empty = np.zeros((h, w), np.float32)
        return SimpleNamespace(tryon=person, warped_garment=np.full_like(person, 255), warped_mask=empty,
                               composition_mask=empty)


def _student(model_dir: Path):
    """The exported student as the server and the widget run it (``tryon.student_runner.StudentRunner``: framing,
    refusals, full-resolution paste-back), also returning the warped garment and its support at the photo's
    resolution, as the teacher does. Like the teacher here, ungated: its output gate's confidence is a column of
    the report (``confidence``, ``confidence_weakest``), so one run shows what the gate would refuse."""
    from tryon.student_runner import DeployedStudents

    runner = DeployedStudents(model_dir, providers="cpu", gate=False)  # with the other categories' students deployed with it

    def run(person, garment, category=None, garment_mask=None):
        return runner(person, garment, category, garment_mask, details=True)

    return run


def _tryon_fn(method: str, models_dir: Path | None, refine: bool, model_dir: Path | None = None):
    if method == "copy":
        return _Copy()
    if method == "student":
        from tryon.assets import models_dir as default_models_dir

        folder = model_dir or default_models_dir() / "student"
        if not (Path(folder) / "manifest.json").is_file():
            raise UsageError(f"--model-dir {folder}: no exported student there (manifest.json); run `make setup` "
                             "or `tryon export`")
        return _student(Path(folder))
    try:
        from tryon.teacher import Teacher
    except ImportError:
        try:
            from tryon.teacher.pipeline import Teacher
        except ImportError as exc:
            raise UsageError(f"the teacher is not available in this installation ({exc})") from None
    teacher = Teacher(models_dir=models_dir, refine=refine)

    def run(person, garment, category=None, garment_mask=None):
        return teacher.run(person, garment, category=category, garment_mask=garment_mask)

    return run


def eval_command(
    pairs_csv: Annotated[Path | None, typer.Argument(
        help="CSV with columns person,garment[,ground_truth][,category]; paths relative to the CSV's folder.",
        show_default=False)] = None,
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (metrics.json, grid.png, index.html, "
                                          "results/, thumbs/); must not be an input folder.")] = Path("eval-out"),
    persons: Annotated[Path | None, typer.Option(help="Folder of person photos (instead of a CSV).")] = None,
    garments: Annotated[Path | None, typer.Option(help="Folder of garment photos (instead of a CSV).")] = None,
    paired: Annotated[bool, typer.Option(help="With --persons/--garments: pair files of the same name and use the "
                                         "person photo as ground truth (reconstruction setting).")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate at most this many pairs.")] = None,
    real: Annotated[Path | None, typer.Option(help="Real person photos for FID/KID (folder, recursive); "
                                              "default: the person photos of the pairs.")] = None,
    size: Annotated[str, typer.Option(help="Eval resolution HEIGHTxWIDTH for all image metrics.")] = "512x384",
    metrics: Annotated[str, typer.Option(help="Comma-separated subset of fid,identity,garment,gt.")]
    = "fid,identity,garment,gt",
    method: Annotated[str, typer.Option(help="Try-on method: teacher, student (the exported ONNX student, see --model-dir), or copy (returns the person unchanged; "
                                        "a baseline).")] = "teacher",
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Student: exported model folder with "
                                                   "manifest.json (default: <models folder>/student).")] = None,
    models_dir: Annotated[Path | None, typer.Option(help="Models folder for the teacher (default: tryon.assets).")]
    = None,
    refine: Annotated[bool, typer.Option(help="Teacher: fill uncovered skin with the learned refiner (off: the "
                                         "classical shaded fill, the default; tops and one-pieces only, bottoms "
                                         "keep the classical fill; refused with other methods).")] = False,
    category: PairsCategory = None,
    grid_rows: Annotated[int, typer.Option(min=1, help="Pairs shown in grid.png (the first ones).")] = 48,
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout instead of a summary.")]
    = False,
    threads: Annotated[int, typer.Option(min=0, help="Torch CPU threads (0: torch's default). On a busy "
                                         "machine 1 can be far faster than several.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Evaluate a try-on method on pairs: FID/KID (×1000) vs real photos, identity SSIM/L1 outside the garment,
    garment fidelity (EfficientNet-Lite0 feature cosine), SSIM/feature distance to ground truth, seconds per
    image. Failing pairs are recorded, not fatal.

    Examples:

      tryon eval pairs.csv -o eval-out

      tryon eval --persons data/person --garments data/garment --limit 20 -o eval-out --json
    """
    import json

    from tryon.eval.harness import (METRICS, check_out_dir, list_images, load_pairs_csv, pairs_from_dirs)

    if method not in _METHODS:
        raise UsageError(f"--method {method!r}: choose from {', '.join(_METHODS)}")
    if refine and method != "teacher":
        # The student paints its own skin and the copy baseline paints nothing: a silent no-op would make two
        # runs look like a refiner comparison that never happened.
        raise UsageError(f"--refine fills the teacher's uncovered skin; --method {method} has no such fill: "
                         "use --method teacher --refine, or drop --refine")
    wanted = tuple(m.strip() for m in metrics.split(",") if m.strip())
    bad = [m for m in wanted if m not in METRICS]
    if bad or not wanted:
        raise UsageError(f"--metrics {metrics!r}: choose from {','.join(METRICS)}")
    eval_size = parse_size(size, min_side=32, max_side=4096)
    if pairs_csv is not None and (persons or garments):
        raise UsageError("give either a pairs CSV or --persons and --garments, not both")
    scanned: list[Path] = []
    exact: list[Path] = []
    if pairs_csv is not None:
        pairs = load_pairs_csv(pairs_csv)
        if limit is not None:
            pairs = pairs[:limit]
        exact.append(pairs_csv.resolve().parent)
        for p in pairs:
            exact += [p.person.parent, p.garment.parent] + ([p.ground_truth.parent] if p.ground_truth else [])
    elif persons is not None and garments is not None:
        pairs = pairs_from_dirs(persons, garments, limit=limit, paired=paired)
        scanned += [persons, garments]
    else:
        raise UsageError("give a pairs CSV, or both --persons DIR and --garments DIR")
    pairs = with_category(pairs, category)
    if real is not None:
        list_images(real, recursive=True)  # fail early on an empty or missing folder
        scanned.append(real)
    check_out_dir(out_dir, scanned=scanned, exact=sorted(set(exact)))

    from tryon.eval.harness import evaluate_pairs

    if threads:
        import torch

        torch.set_num_threads(threads)
    fn = _tryon_fn(method, models_dir, refine, model_dir)
    result = evaluate_pairs(pairs, fn, out_dir, real=real, size=eval_size, metrics=wanted, progress=not quiet,
                            grid_rows=grid_rows, method=method)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        _summary(result, out_dir)


def _summary(result: dict, out_dir: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    agg = result["aggregate"]
    c = result["counts"]
    table = Table(title=f"tryon eval: {c['ok']}/{c['pairs']} pairs ok, {c['real']} real photos", title_justify="left")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("median", justify="right")
    table.add_column("n", justify="right")
    for key, label in (("fid", "FID"), ("kid_x1000", "KID ×1000")):
        table.add_row(label, "–" if agg[key] is None else f"{agg[key]:.2f}", "", "")
    for key, st in agg.items():
        if isinstance(st, dict) and st["n"]:
            table.add_row(key, f"{st['mean']:.4f}", f"{st['median']:.4f}", str(st["n"]))
    console = Console()
    console.print(table)
    if agg.get("reason"):
        console.print(f"FID/KID not computed: {agg['reason']}")
    for r in result["pairs"]:
        if r["error"]:
            console.print(f"[red]failed[/red] {escape(r['name'])}: {escape(r['error']['name'])}: "
                          f"{escape(r['error']['message'])}",
                          markup=True, highlight=False)
    console.print(f"wrote {out_dir / 'metrics.json'}, {out_dir / 'grid.png'}, {out_dir / 'index.html'}",
                  highlight=False)


def compare_command(
    eval_a: Annotated[Path, typer.Argument(metavar="A", help="A `tryon eval` output folder.")],
    eval_b: Annotated[Path, typer.Argument(metavar="B", help="Another one, of the same pairs.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (compare_<k>.png, compare.csv); "
                                          "must not be A or B.")] = Path("eval-compare"),
    labels: Annotated[str, typer.Option(help="Names of A and B on the sheets, comma-separated.")] = "A,B",
    rows: Annotated[int, typer.Option(min=1, help="Pairs per sheet image.")] = 4,
) -> None:
    """Side-by-side sheets of two evaluations of the same pairs, to judge by eye: person | A | B | |A-B| x4, cropped
    to where A and B differ, and compare.csv with a judgement column to fill in.

    Examples:

      tryon eval pairs.csv -o classical && tryon eval pairs.csv --refine -o refined

      tryon eval-compare classical refined --labels classical,refined -o refine-vs-classical
    """
    from tryon.eval.compare import compare_evals
    from tryon.eval.harness import check_out_dir

    names = tuple(x.strip() for x in labels.split(","))
    if len(names) != 2 or not all(names):
        raise UsageError(f"--labels {labels!r}: give two names separated by a comma, e.g. classical,refined")
    check_out_dir(out_dir, exact=[eval_a.resolve(), eval_b.resolve()])
    res = compare_evals(eval_a, eval_b, out_dir, labels=names, rows_per_sheet=rows)
    typer.echo(f"{res['pairs']} pairs compared ({res['identical']} identical; failed: {res['failed_a']} in "
               f"{names[0]}, {res['failed_b']} in {names[1]}); wrote {len(res['sheets'])} sheets and {res['csv']}")


def register(app: typer.Typer) -> None:
    """Add ``tryon eval`` and ``tryon eval-compare`` to the app."""
    app.command("eval")(eval_command)
    app.command("eval-compare")(compare_command)
