"""Outfits: dress a person in one garment per category (a top and a bottom, or a one-piece), layered in a stated
order.

The method is the layering of M&M VTO (Zhu et al., "M&M VTO: Multi-Garment Virtual Try-On and Editing", CVPR
2024), which dresses a top and a bottom in one pass and lets the user state the tuck; here a single-garment
engine (the geometric teacher, or the exported student) runs once per garment, each step dressing the previous
step's output, and the order of the steps is the layering:

* ``tuck="out"`` (the default, an untucked top): the bottom first, then the top over its waistband;
* ``tuck="in"``: the top first, then the bottom over the top's hem.

:func:`plan_outfit` checks the garments before anything runs (one garment per category; a one-piece is the whole
outfit; every garment of a category the engine dresses) and returns the dressing order; :func:`dress_outfit`
runs it. ``tryon run --garment TOP --garment BOTTOM [--tuck in|out]`` and the API's ``garments`` list call
:func:`dress_outfit`. See ``docs/api-conventions.md`` for the API's form.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon.errors import UnsupportedCategoryError, UsageError
from tryon.teacher.compose_lower import TUCK

__all__ = ["TUCKS", "DEFAULT_TUCK", "OutfitGarment", "OutfitStep", "OutfitResult", "plan_outfit", "dress_outfit",
           "layer_order"]

log = logging.getLogger(__name__)

TUCKS = TUCK
"""How a top meets a bottom: ``out`` (the top over the bottom's waistband) or ``in`` (tucked into the bottom); the
bottoms' composition defines them (:data:`tryon.teacher.compose_lower.TUCK`)."""
DEFAULT_TUCK = "out"
"""The tuck when none is given (an untucked top, as most shop photos show)."""

_ORDER = {"out": ("bottoms", "tops"), "in": ("tops", "bottoms")}
"""Dressing order per tuck: each later garment is drawn over the earlier ones."""


@dataclass(frozen=True)
class OutfitGarment:
    """One garment of an outfit.

    Attributes:
        image: (H, W, 3) uint8 RGB in-shop photo on a plain background.
        mask: (H, W) float32 [0, 1] garment mask when known exactly (the built-in catalogue); None: cut from the
            photo (:func:`tryon.garment.mask.garment_mask`).
        category: ``auto`` / None (classified by :func:`tryon.garment.category.classify_garment`), or a category in
            any spelling :func:`tryon.garment.category.normalise_category` accepts.
        name: for messages (a file name or a catalogue name).
    """

    image: np.ndarray
    mask: np.ndarray | None = None
    category: str | None = None
    name: str = ""


@dataclass
class OutfitStep:
    """One garment dressed: its category (FASHN's name), the garment and the engine's result for this step."""

    category: str
    garment: OutfitGarment
    result: Any = None


@dataclass
class OutfitResult:
    """An outfit dressed.

    Attributes:
        tryon: (H, W, 3) uint8 RGB, the person wearing every garment (the last step's output).
        steps: the steps in dressing order (the first garment is the lowest layer).
        tuck: the tuck the order followed.
        composition_mask: (H, W) float32 [0, 1], where any step drew its garment (the union of the steps').
        quality: the weakest step's :class:`tryon.teacher.gate.Quality` (None when the engine measures none).
        timings: ``<category>.<stage>`` -> seconds for every step, and ``total``.
    """

    tryon: np.ndarray
    steps: list[OutfitStep]
    tuck: str
    composition_mask: np.ndarray
    quality: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        """The categories in dressing order."""
        return [s.category for s in self.steps]


def layer_order(categories: Sequence[str], tuck: str = DEFAULT_TUCK) -> list[str]:
    """The dressing order of an outfit's categories (FASHN's names) for ``tuck``.

    Raises:
        UsageError: ``tuck`` is not one of :data:`TUCKS`.
    """
    if tuck not in TUCKS:
        raise UsageError(f"tuck {tuck!r}: use one of {', '.join(TUCKS)} (out: the top over the bottom's waistband; "
                         "in: the top tucked into the bottom)")
    rank = {c: i for i, c in enumerate(_ORDER[tuck])}
    return sorted(categories, key=lambda c: rank.get(c, -1))


def _category_of(g: OutfitGarment, require: Callable[[Any], None]) -> tuple[str, np.ndarray]:
    """The garment's category (FASHN's name) and its mask; an ``auto`` garment is classified, and one the
    classifier cannot tell is refused (by ``require``, whose message asks for the category)."""
    from tryon.garment.category import UNCERTAIN, classify_garment, normalise_category

    mask = g.mask
    if mask is None:
        from tryon.garment.mask import garment_mask

        mask = garment_mask(g.image)
    mask = np.asarray(mask, np.float32)
    wanted = normalise_category(g.category)
    if wanted == "auto":
        info = classify_garment(g.image, mask)
        if info.category == UNCERTAIN:
            try:
                require(info)  # the engine's own words asking for the category
            except UnsupportedCategoryError as exc:
                raise UnsupportedCategoryError(f"{g.name or 'a garment'}: {exc.message}") from None
            raise UnsupportedCategoryError(f"{g.name or 'a garment'}: could not tell its category ({info.reason}); "
                                           "name it (tops, bottoms or one-pieces)")
        wanted = normalise_category(info.category)
    return wanted, mask


def plan_outfit(garments: Sequence[OutfitGarment], tuck: str = DEFAULT_TUCK,
                categories: Sequence[str] | None = None) -> list[OutfitStep]:
    """Check an outfit and return its steps in dressing order, before any garment is dressed.

    Args:
        garments: one to three garments, at most one per category.
        tuck: one of :data:`TUCKS`.
        categories: the categories the engine dresses (FASHN's names); default the teacher's
            (:attr:`tryon.teacher.pipeline.Teacher.CATEGORIES`). The gate is
            :func:`tryon.garment.category.require_supported` with them.

    Returns:
        The steps (category, garment with its mask filled in), the lowest layer first.

    Raises:
        UsageError: no garment; a bad ``tuck``.
        UnsupportedCategoryError: two garments of one category; a one-piece with a top or a bottom; a garment
            of a category the engine does not dress, or one ``auto`` cannot tell (each message says what to do).
        BusyBackgroundError: a garment photo without a plain background (no mask given).
    """
    from tryon.garment.category import require_supported

    if categories is None:
        from tryon.teacher.pipeline import Teacher

        categories = Teacher.CATEGORIES
    dressed = tuple(categories)

    def require(what: Any) -> None:
        require_supported(what, supported=dressed)

    if not garments:
        raise UsageError("an outfit needs at least one garment")
    if tuck not in TUCKS:
        layer_order([], tuck)  # raises with the message
    steps: dict[str, OutfitStep] = {}
    for g in garments:
        category, mask = _category_of(g, require)
        if category in steps:
            first = steps[category].garment.name or "another garment"
            raise UnsupportedCategoryError(
                f"two {category} in one outfit ({first} and {g.name or 'another garment'}): an outfit takes one "
                "garment per category; pick one of them (or name another category if one is misclassified)")
        steps[category] = OutfitStep(category, OutfitGarment(g.image, mask, category, g.name))
    if "one-pieces" in steps and len(steps) > 1:
        others = " and ".join(c for c in steps if c != "one-pieces")
        raise UnsupportedCategoryError(
            f"a one-piece ({steps['one-pieces'].garment.name or 'a dress or jumpsuit'}) dresses the whole body and "
            f"cannot be worn with {others}: try it on alone, or pick a top and a bottom instead")
    for category, step in steps.items():
        try:
            require(category)
        except UnsupportedCategoryError as exc:
            raise UnsupportedCategoryError(f"{step.garment.name or category}: {exc.message}") from None
    return [steps[c] for c in layer_order(list(steps), tuck)]


def _accepts_tuck(dresser: Callable[..., Any]) -> bool:
    try:
        return "tuck" in inspect.signature(dresser).parameters
    except (TypeError, ValueError):
        return False


def dress_outfit(person: np.ndarray, garments: Sequence[OutfitGarment], tuck: str = DEFAULT_TUCK, *,
                 dresser: Callable[..., Any] | None = None, categories: Sequence[str] | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> OutfitResult:
    """Dress a person in an outfit, one garment per step, in the layering order of ``tuck``.

    Args:
        person: (H, W, 3) uint8 RGB photo of one person, front-facing.
        garments: the outfit (:func:`plan_outfit` checks it first: nothing runs for an outfit it refuses).
        tuck: ``out`` (bottom, then the top over it) or ``in`` (top, then the bottom over it).
        dresser: ``(person, garment_image, garment_mask, category) -> result`` with ``result.tryon`` (H, W, 3)
            uint8 and ``result.composition_mask`` (H, W) float32; a dresser with a ``tuck`` keyword also gets the
            tuck (the teacher's bottoms composition draws the waistband under the top for ``out``, over it for
            ``in``). Default: a :class:`tryon.teacher.pipeline.Teacher` (no gate).
        categories: the categories ``dresser`` dresses (see :func:`plan_outfit`); default the teacher's.
        progress: called with ``(step, steps, category)`` before each step (1-based).

    Returns:
        :class:`OutfitResult` at the person photo's resolution.

    Raises:
        Everything :func:`plan_outfit` raises, and whatever the dresser raises for a step (NoPersonError,
        PoseError, LowConfidenceError, ...; the outfit stops there).
    """
    steps = plan_outfit(garments, tuck, categories)
    if dresser is None:
        from tryon.teacher.pipeline import Teacher

        teacher = Teacher()

        def dresser(p, image, mask, category, tuck=DEFAULT_TUCK):
            return teacher.run(p, image, garment_mask=mask, category=category, tuck=tuck)

    with_tuck = _accepts_tuck(dresser)
    current = np.asarray(person)
    comp = np.zeros(current.shape[:2], np.float32)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    for i, step in enumerate(steps, 1):
        if progress is not None:
            progress(i, len(steps), step.category)
        g = step.garment
        extra = {"tuck": tuck} if with_tuck else {}
        step.result = dresser(current, g.image, g.mask, step.category, **extra)
        current = step.result.tryon
        cm = getattr(step.result, "composition_mask", None)
        if cm is not None and cm.shape == comp.shape:
            comp = np.maximum(comp, cm.astype(np.float32))
        for k, v in (getattr(step.result, "timings", None) or {}).items():
            if k != "total":
                timings[f"{step.category}.{k}"] = v
        log.info("outfit step %d/%d: %s dressed", i, len(steps), step.category)
    timings["total"] = time.perf_counter() - t_all
    qualities = [s.result.quality for s in steps if getattr(s.result, "quality", None) is not None]
    quality = min(qualities, key=lambda q: q.confidence) if qualities else None
    return OutfitResult(tryon=current, steps=steps, tuck=tuck, composition_mask=comp, quality=quality,
                        timings=timings)
