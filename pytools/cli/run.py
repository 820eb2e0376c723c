"""``tryon run``: dress a person photo in a garment or an outfit (one garment per category, layered by ``--tuck``:
:func:`tryon.teacher.outfit.dress_outfit`), or a pairs CSV, with the geometric teacher or the exported student
(``--method student``: ``tryon.student_runner.StudentRunner``, as the server and the widget run it)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import MinConfidence, NoGate, gate_threshold
from tryon.errors import PARTIAL_BATCH_EXIT, OutputError, TryonError, UsageError

__all__ = ["register"]

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_METHODS = ("teacher", "student")


def _check_output(out: Path, inputs: list[Path], *, folder: bool = False) -> None:
    """Refuse, before the try-on's seconds of work, an output that could not be written afterwards: an input
    file, a folder given for an image (or a file for a batch's folder), or a place under a file or a read-only
    folder. Missing folders are created when the result is written."""
    resolved = out.resolve()
    for i in inputs:
        if i.exists() and i.resolve() == resolved:
            raise OutputError(f"{out}: refusing to overwrite an input file")
    if folder and out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; -o with --pairs names a folder")
    if not folder and out.is_dir():
        raise OutputError(f"{out}: is a folder; give an image file name (e.g. {out / 'tryon.png'})")
    above = out if folder else out.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise OutputError(f"{out}: cannot be written: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: cannot be written: the folder {above} is not writable")


def _save_result(result, out: Path, intermediates: bool) -> None:
    """Write the try-on, and with ``intermediates`` whatever the method produced of the agnostic person, warped
    garment, composition mask and parse (the student has no agnostic person or parse)."""
    from tryon.person.labels import PARSE_LABELS
    from tryon.processing import save_image

    save_image(out, result.tryon)
    if not intermediates:
        return
    import numpy as np

    stem = out.with_suffix("")
    if getattr(result, "agnostic", None) is not None:
        save_image(f"{stem}_agnostic.png", result.agnostic)
    if getattr(result, "warped_garment", None) is not None:
        save_image(f"{stem}_warped_garment.png", result.warped_garment)
    save_image(f"{stem}_composition_mask.png", (np.clip(result.composition_mask, 0, 1) * 255).astype(np.uint8))
    if getattr(result, "parse", None) is not None:
        # Spread the labels over 0..255 so the parse is visible in an image viewer.
        save_image(f"{stem}_parse.png",
                   (result.parse.astype(np.uint16) * 255 // (len(PARSE_LABELS) - 1)).astype(np.uint8))


def _dresser(method: str, *, refine: bool, models_dir: Path | None, model_dir: Path | None, intermediates: bool,
             min_confidence: float | dict[str, float] = 0.0, gate: bool = True):
    """``(person, garment, garment_mask, category) -> result`` for ``method`` (its ``categories``: those it
    dresses; the teacher's also takes ``tuck``); the teacher refuses results below ``min_confidence`` (one value,
    or one per category), the student those its manifest's output gate refuses unless ``gate`` is False
    (LowConfidenceError).

    Raises:
        UsageError: ``--model-dir`` holds no exported student.
        MissingModelError: a model file is missing.
    """
    if method == "student":
        from tryon.assets import models_dir as default_models_dir
        from tryon.student_runner import DeployedStudents

        folder = model_dir or default_models_dir() / "student"
        if not (Path(folder) / "manifest.json").is_file():
            raise UsageError(f"--model-dir {folder}: no exported student there (manifest.json); run `make setup` "
                             "or `tryon export`")
        runner = DeployedStudents(folder, providers="cpu", gate=gate)  # with the other categories' students deployed with it

        def student(person, garment, garment_mask, category):
            return runner(person, garment, category, garment_mask, details=intermediates)

        student.categories = runner.categories  # what an outfit checks before its first step
        return student
    from tryon.teacher.pipeline import Teacher

    teacher = Teacher(models_dir=models_dir, refine=refine, min_confidence=min_confidence)

    def run_teacher(person, garment, garment_mask, category, tuck="out"):
        return teacher.run(person, garment, garment_mask=garment_mask, category=category, tuck=tuck)

    run_teacher.categories = Teacher.CATEGORIES
    return run_teacher


def run(
    person: Annotated[Path | None, typer.Option("--person", "-p", help="Photo of the person to dress (JPEG, PNG, WebP). "
                                                   "One person, front-facing, upper body visible.",
                                                   rich_help_panel="Single pair")] = None,
    garment: Annotated[list[str] | None, typer.Option(
        "--garment", "-g", help="In-shop photo of a garment on a plain background, or 'catalogue:<name>' for a "
        "built-in garment (see --list-garments). Give it twice for an outfit: a top and a bottom, one per "
        "category, layered as --tuck says.", rich_help_panel="Single pair")] = None,
    tuck: Annotated[str, typer.Option("--tuck", help="Outfits: out (the bottom first, then the top over its "
                                      "waistband) or in (the top first, then the bottom over it).",
                                      rich_help_panel="Single pair")] = "out",
    pairs: Annotated[Path | None, typer.Option("--pairs", help="Batch mode: a CSV with columns person,garment "
                                               "(paths relative to the CSV); -o is then a folder.",
                                               rich_help_panel="Batch")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Result image (.png/.jpg/.webp); with --pairs, "
                                             "the output folder.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Garment category: auto, tops, bottoms or "
                                                 "one-pieces (FASHN's names; top, dress and lower are accepted "
                                                 "too); auto (the default) classifies the garment's shape. A "
                                                 "category the method does not dress is refused (exit 31): the "
                                                 "teacher dresses tops, bottoms and one-pieces, the student tops "
                                                 "only. With an outfit, every garment is classified (auto).")] = None,
    method: Annotated[str, typer.Option("--method", help="teacher (the geometric teacher, at the photo's "
                                        "resolution) or student (the exported ONNX student with person framing, "
                                        "as the server and the widget run it; see --model-dir).")] = "teacher",
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="With --method student: the exported "
                                                   "student folder (default: <models folder>/student, written by "
                                                   "`make setup`).")] = None,
    refine: Annotated[bool, typer.Option("--refine/--no-refine", help="Teacher: fill uncovered skin with the "
                                         "learned refinement net instead of the classical shaded fill (tops and "
                                         "one-pieces; slower, not better on the side-by-side in "
                                         "models/weights/teacher_refine.md).")] = False,
    intermediates: Annotated[bool, typer.Option("--intermediates", help="Also write the agnostic person, warped "
                                                "garment, composition mask and parse next to each result.")] = False,
    models_dir: Annotated[Path | None, typer.Option("--models-dir", help="Folder of the converted models "
                                                    "(default: $TRYON_MODELS_DIR or ~/.cache/tryon/models; "
                                                    "built by `tryon setup`).")] = None,
    list_garments: Annotated[bool, typer.Option("--list-garments", help="List the built-in garment catalogue "
                                                "and exit.")] = False,
    min_confidence: MinConfidence = None,
    no_gate: NoGate = False,
) -> None:
    """Dress PERSON in GARMENT and write the result: [bold]tryon run -p me.jpg -o me_tryon.png[/bold].

    Without --garment the default built-in catalogue garment is used. An outfit: --garment TOP --garment BOTTOM
    [--tuck in|out], one garment per category, dressed one after the other (tryon.teacher.outfit). Exit codes: 0 done; 3 some pairs of a
    batch failed (see errors.jsonl); 10-13 bad image file; 20/21/22 no person / several people / pose (shoulders
    out of view, back view, too small); 30/31/32 garment background / category (or a folded garment) / a person in
    the garment photo;
    40 model missing (run `tryon setup`); 50 output not writable; 61 the try-on is below the quality gate (the
    teacher's, or the student's output gate; the message says what to change; --no-gate shows it anyway). The
    confidence is printed with each result (batch: quality.jsonl).
    """
    if list_garments:
        from tryon.garment.catalogue import DEFAULT_GARMENT
        from tryon.garment.catalogue import list_garments as names

        from tryon.garment.catalogue import garment_category

        width = max(len(n) for n in names())
        for name in names():
            typer.echo(f"catalogue:{name:<{width}}  {garment_category(name)}"
                       + ("   (default)" if name == DEFAULT_GARMENT else ""))
        return
    if (person is None) == (pairs is None):
        raise UsageError("give either --person (one pair) or --pairs (a CSV of pairs)")
    if out is None:
        raise UsageError("give the output with -o/--out")
    if method not in _METHODS:
        raise UsageError(f"--method must be one of {', '.join(_METHODS)}, not {method!r}")
    if refine and method != "teacher":
        raise UsageError("--refine fills the teacher's uncovered skin; the student paints its own: use --method "
                         "teacher --refine, or drop --refine")
    if category is not None:
        from tryon.garment.category import normalise_category

        normalise_category(category)  # refuses an unknown name before any model loads
    threshold = gate_threshold(min_confidence, no_gate)
    from tryon.teacher.outfit import TUCKS

    if tuck not in TUCKS:
        raise UsageError(f"--tuck must be one of {', '.join(TUCKS)}, not {tuck!r}")
    garments = list(garment or ["catalogue:default"])
    if "catalogue:default" in garments:
        from tryon.garment.catalogue import DEFAULT_GARMENT

        garments = [f"catalogue:{DEFAULT_GARMENT}" if g == "catalogue:default" else g for g in garments]
    if len(garments) > 1 and category not in (None, "auto") and pairs is None:
        raise UsageError("--category names one category for every garment, and an outfit takes one garment per "
                         "category: leave --category out (auto) to dress an outfit")
    if person is not None:
        if out.suffix.lower() not in _IMAGE_SUFFIXES:
            raise UsageError(f"-o {out}: give an image file name ending in {', '.join(_IMAGE_SUFFIXES)}")
        _check_output(out, [person, *map(Path, garments)])
        dress = _dresser(method, refine=refine, models_dir=models_dir, model_dir=model_dir,
                         intermediates=intermediates, min_confidence=threshold, gate=not no_gate)
        if len(garments) > 1:
            _run_outfit(dress, person, garments, out, tuck=tuck, intermediates=intermediates)
        else:
            _run_one(dress, person, garments[0], out, category=category, intermediates=intermediates)
    else:
        if garment:
            raise UsageError("--garment is for one pair; with --pairs the garments come from the CSV")
        if out.suffix.lower() in _IMAGE_SUFFIXES:
            raise UsageError(f"-o {out}: with --pairs, -o is a folder")
        _check_output(out, [pairs], folder=True)
        dress = _dresser(method, refine=refine, models_dir=models_dir, model_dir=model_dir,
                         intermediates=intermediates, min_confidence=threshold, gate=not no_gate)
        failed = _run_batch(dress, pairs, out, category=category, intermediates=intermediates)
        if failed:
            raise typer.Exit(PARTIAL_BATCH_EXIT)


def _run_one(dress, person: Path, garment: str, out: Path, *, category, intermediates) -> None:
    from tryon.garment.source import load_garment
    from tryon.processing import load_image

    person_img = load_image(person)
    garment_img, garment_mask, _ = load_garment(garment)
    result = dress(person_img, garment_img, garment_mask, category)
    _save_result(result, out, intermediates)
    secs = result.timings.get("total") or sum(result.timings.values())
    typer.echo(f"wrote {out} ({result.tryon.shape[1]}x{result.tryon.shape[0]}, {secs:.2f} s{_confidence(result)})")


def _run_outfit(dress, person: Path, garments: list[str], out: Path, *, tuck: str, intermediates: bool) -> None:
    """Dress ``person`` in every garment (:func:`tryon.teacher.outfit.dress_outfit`), write the result and, with
    ``intermediates``, each step's outputs as ``<out>_<n>_<category>*.png``."""
    from tryon.garment.source import load_garment
    from tryon.processing import load_image
    from tryon.teacher.outfit import OutfitGarment, dress_outfit

    parts = []
    for spec in garments:
        image, mask, name = load_garment(spec)
        parts.append(OutfitGarment(image, mask, None, name))

    def progress(i: int, n: int, category: str) -> None:
        typer.echo(f"step {i}/{n}: {category}", err=True)

    result = dress_outfit(load_image(person), parts, tuck, dresser=dress, categories=dress.categories,
                          progress=progress)
    _save_result(result, out, False)
    if intermediates:
        stem, suffix = out.with_suffix(""), out.suffix
        for i, step in enumerate(result.steps, 1):
            _save_result(step.result, Path(f"{stem}_{i}_{step.category}{suffix}"), True)
    order = " then ".join(f"{s.category} ({s.garment.name})" for s in result.steps)
    typer.echo(f"wrote {out} ({result.tryon.shape[1]}x{result.tryon.shape[0]}, {result.timings['total']:.2f} s, "
               f"tuck {tuck}: {order}{_confidence(result)})")


def _confidence(result) -> str:
    """``", confidence 0.87 (weakest: pose)"`` for a result with a confidence, ``""`` for one without (a student
    without framing, or a category its output gate does not score)."""
    q = getattr(result, "quality", None)
    return "" if q is None or not q.weakest else f", confidence {q.confidence:.2f} (weakest: {q.weakest})"


def _run_batch(dress, pairs_csv: Path, out_dir: Path, *, category, intermediates) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tryon.garment.source import load_garment
    from tryon.data.pairs import read_pairs
    from tryon.processing import atomic_write_bytes, load_image

    pairs = read_pairs(pairs_csv)
    errors: list[dict] = []
    qualities: list[dict] = []
    with Progress(TextColumn("[bold]try-on"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[name]}")) as progress:
        task = progress.add_task("pairs", total=len(pairs), name="")
        for pair in pairs:
            progress.update(task, name=pair.name)
            try:
                garment_img, garment_mask, _ = load_garment(str(pair.garment))
                result = dress(load_image(pair.person), garment_img, garment_mask, category or pair.category)
                _save_result(result, out_dir / f"{pair.name}.png", intermediates)
                if getattr(result, "quality", None) is not None:
                    qualities.append({"name": pair.name, "person": str(pair.person), "garment": str(pair.garment),
                                      **result.quality.as_dict()})
            except TryonError as exc:
                err = {"person": str(pair.person), "garment": str(pair.garment), "error": exc.name,
                       "exit_code": exc.exit_code, "message": exc.message}
                if getattr(exc, "quality", None) is not None:
                    err["quality"] = exc.quality.as_dict()
                errors.append(err)
            progress.advance(task)
    if qualities:
        atomic_write_bytes(out_dir / "quality.jsonl", "".join(json.dumps(q) + "\n" for q in qualities).encode())
    if errors:
        atomic_write_bytes(out_dir / "errors.jsonl", "".join(json.dumps(e) + "\n" for e in errors).encode())
        typer.echo(f"{len(errors)} of {len(pairs)} pairs failed:", err=True)
        for count, reason in _reasons(errors):
            typer.echo(f"  {count:3d}  {reason}", err=True)
        typer.echo(f"each pair's message, with what to change: {out_dir / 'errors.jsonl'}", err=True)
    typer.echo(f"wrote {len(pairs) - len(errors)} results to {out_dir}")
    return len(errors)


def _reasons(errors: list[dict]) -> list[tuple[int, str]]:
    """The batch's refusals grouped by what went wrong, most frequent first: ``(count, reason)``, the reason being
    the message up to its advice (a first user, told only "19 of 24 pairs failed", had to open errors.jsonl to
    learn that 6 were the same old-garment refusal)."""
    from collections import Counter

    from tryon.teacher.gate import ADVICE, REFUSAL

    def reason(e: dict) -> str:
        head = e["message"].split(ADVICE)[0].removeprefix(REFUSAL)
        head = head.split(" (")[0]
        return f"{e['error']}: {head if len(head) <= 110 else head[:109] + '…'}"

    return [(n, r) for r, n in Counter(reason(e) for e in errors).most_common()]


def register(app: typer.Typer) -> None:
    app.command("run")(run)
