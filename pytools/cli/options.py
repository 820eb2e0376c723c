"""Parsing of option values shared by the subcommands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tryon.errors import UsageError
from tryon.teacher.gate_config import DEFAULT_MIN_CONFIDENCE

__all__ = ["parse_size", "parse_model_args", "MinConfidence", "NoGate", "gate_threshold", "PairsCategory",
           "with_category"]

MinConfidence = Annotated[float | None, typer.Option(
    "--min-confidence", min=0.0, max=1.0, rich_help_panel="Quality gate", show_default=False,
    help="Teacher: refuse a try-on whose confidence (0-1, the weakest of the measured signals: pose visibility, "
         "garment mask and landmarks, old garment left, invented skin, warp distortion; see "
         "docs/quality-gate.md) is below this, whatever the garment's category. Default: "
         + ", ".join(f"{k} {v}" for k, v in DEFAULT_MIN_CONFIDENCE.items()) + ". 0 turns the gate off.")]
"""The quality gate's threshold option, shared by ``tryon run`` and ``tryon teacher build`` (None: the per-category
``tryon.teacher.gate.DEFAULT_MIN_CONFIDENCE``)."""

NoGate = Annotated[bool, typer.Option("--no-gate", rich_help_panel="Quality gate",
                                      help="Keep every result whatever its confidence: the teacher's (same "
                                           "as --min-confidence 0) and the student's output gate; the "
                                           "confidence is still reported.")]
"""The quality gate's off switch."""


PairsCategory = Annotated[str | None, typer.Option(
    "--category", help="Garment category of every pair: auto, tops, bottoms or one-pieces (FASHN's names; top, "
    "dress and lower are accepted too). Default: each pair's CSV category column, else auto (the garment "
    "classifier). A category the teacher does not dress is refused per pair (UnsupportedCategoryError).")]
"""The garment category option of ``tryon eval``."""


def with_category(pairs: list, category: str | None) -> list:
    """``pairs`` (:class:`tryon.data.pairs.Pair`) with ``category`` set on every pair, or unchanged when None.

    Raises:
        UsageError: an unknown category name (before any model loads).
    """
    if category is None:
        return pairs
    import dataclasses

    from tryon.garment.category import normalise_category

    name = normalise_category(category)
    return [dataclasses.replace(p, category=name) for p in pairs]


def gate_threshold(min_confidence: float | None = None, no_gate: bool = False) -> float | dict[str, float]:
    """The threshold the teacher is given: 0 with ``--no-gate``, else ``--min-confidence``, else the per-category
    default (``tryon.teacher.gate_config.DEFAULT_MIN_CONFIDENCE``)."""
    if no_gate:
        return 0.0
    return dict(DEFAULT_MIN_CONFIDENCE) if min_confidence is None else float(min_confidence)


def parse_size(text: str, *, flag: str = "--size", min_side: int = 1, max_side: int | None = None,
               multiple: int = 1) -> tuple[int, int]:
    """``"256x192"`` (or ``256×192``) -> (256, 192) as (height, width) in pixels.

    Args:
        text: HEIGHTxWIDTH.
        flag: the option's name, for the message.
        min_side / max_side: accepted side lengths, pixels.
        multiple: both sides must be multiples of this (e.g. 8 or 16 for the student's pyramids).

    Raises:
        UsageError: not two integers joined by x, or a side outside the limits.
    """
    try:
        h, w = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected HEIGHTxWIDTH, e.g. 256x192") from None
    if min(h, w) < min_side or (max_side is not None and max(h, w) > max_side):
        limit = f"between {min_side} and {max_side}" if max_side is not None else f"at least {min_side}"
        raise UsageError(f"{flag} {text!r}: sides must be {limit} pixels")
    if h % multiple or w % multiple:
        raise UsageError(f"{flag} {text!r}: height and width must be multiples of {multiple}")
    return h, w


def parse_model_args(items: list[str], *, flag: str = "--model-arg") -> dict:
    """Architecture overrides NAME=VALUE, values as JSON where they parse, comma-separated values as tuples:
    ``["fpn_channels=32", "corr_radius=2,2,3,3,3", "flip_ensemble=true"]`` ->
    ``{"fpn_channels": 32, "corr_radius": (2, 2, 3, 3, 3), "flip_ensemble": True}``.

    Raises:
        UsageError: an item that is not NAME=VALUE (``flag`` names the option in the message).
    """
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r} must be NAME=VALUE")
        parts = []
        for v in value.split(","):
            try:
                parts.append(json.loads(v))
            except json.JSONDecodeError:
                parts.append(v)
        out[key.strip()] = tuple(parts) if "," in value else parts[0]
    return out
