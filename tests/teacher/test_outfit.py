"""Outfits (tryon.teacher.outfit): the layering order, the refusals (checked before anything is dressed), and
an outfit dressed by the real teacher on a real person (realdata)."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.errors import UnsupportedCategoryError, UsageError
from tryon.garment import catalogue
from tryon.teacher.pipeline import Teacher
from tryon.teacher.outfit import OutfitGarment, dress_outfit, layer_order, plan_outfit

SIZE = (512, 384)
PERSON = "ootdiffusion__051918_0.jpg"  # Dress Code: full body, front view (research data from ../shared)


def _catalogue(name: str, with_mask: bool = False) -> OutfitGarment:
    image, mask = catalogue.render_garment(name, size=SIZE)
    return OutfitGarment(image, mask if with_mask else None, None, name)


def _dressed(category: str) -> bool:
    return category in Teacher.CATEGORIES


def test_layer_order_follows_the_tuck():
    assert layer_order(["tops", "bottoms"], "out") == ["bottoms", "tops"]
    assert layer_order(["bottoms", "tops"], "in") == ["tops", "bottoms"]
    assert layer_order(["one-pieces"], "in") == ["one-pieces"]
    with pytest.raises(UsageError, match="tuck 'half'.*out, in"):
        layer_order(["tops"], "half")


def test_outfit_refusals_name_the_garments():
    top, tank = _catalogue("white-crew-tee"), _catalogue("red-vneck-tank")
    dress, jeans, skirt = _catalogue("navy-shift-dress"), _catalogue("blue-jeans"), _catalogue("plum-pleated-skirt")
    with pytest.raises(UsageError, match="at least one garment"):
        plan_outfit([])
    # Classified from the pixels (auto): two tops, two bottoms, a one-piece with a top.
    with pytest.raises(UnsupportedCategoryError, match=r"two tops.*white-crew-tee and red-vneck-tank.*one garment "
                                                       r"per category"):
        plan_outfit([top, tank])
    with pytest.raises(UnsupportedCategoryError, match=r"two bottoms.*blue-jeans and plum-pleated-skirt"):
        plan_outfit([jeans, skirt])
    with pytest.raises(UnsupportedCategoryError, match=r"one-piece \(navy-shift-dress\).*cannot be worn with tops"):
        plan_outfit([dress, top])
    # A category named by the caller counts as that category.
    named = OutfitGarment(tank.image, None, "tops", "tank")
    with pytest.raises(UnsupportedCategoryError, match="two tops"):
        plan_outfit([top, named])
    with pytest.raises(UsageError, match="tuck"):
        plan_outfit([top], tuck="sideways")


def test_outfit_plan_orders_a_top_and_a_bottom():
    """With the teacher dressing bottoms, a top and jeans are planned bottom-first for tuck out and top-first for
    tuck in; until then the jeans are refused before anything runs, naming the garment and what is dressed."""
    top, jeans = _catalogue("white-crew-tee"), _catalogue("blue-jeans")
    if not _dressed("bottoms"):
        with pytest.raises(UnsupportedCategoryError, match=r"blue-jeans: .*'bottoms'.*only tops"):
            plan_outfit([top, jeans])
        return
    out = plan_outfit([top, jeans], tuck="out")
    assert [s.category for s in out] == ["bottoms", "tops"]
    assert [s.garment.name for s in out] == ["blue-jeans", "white-crew-tee"]
    assert all(s.garment.mask is not None and s.garment.mask.shape == SIZE for s in out)
    assert [s.category for s in plan_outfit([jeans, top], tuck="in")] == ["tops", "bottoms"]


def test_outfit_of_one_garment_is_its_category():
    steps = plan_outfit([_catalogue("graphic-print-tee", with_mask=True)])
    assert [s.category for s in steps] == ["tops"]
    # The given exact mask is kept, not recomputed.
    assert np.array_equal(steps[0].garment.mask, catalogue.render_garment("graphic-print-tee", size=SIZE)[1])


@pytest.mark.realdata
def test_dress_outfit_with_the_teacher(vton_samples, teacher):
    """A real full-body person (the teacher's shared fixture, tests/teacher/conftest.py): an outfit of one top is
    that top dressed by the teacher; a top with jeans is dressed in the tuck's order (each step on the previous
    step's output, the tuck handed to the bottoms' composition), and the two tucks differ at the waist."""
    from tryon.processing import load_image

    person = load_image(vton_samples / "person" / PERSON)
    top = _catalogue("white-crew-tee", with_mask=True)
    seen: list[tuple[str, str]] = []

    def dresser(p, image, mask, category, tuck="out"):
        seen.append((category, tuck))
        return teacher.run(p, image, garment_mask=mask, category=category, tuck=tuck)

    single = dress_outfit(person, [top], dresser=dresser, progress=lambda i, n, c: None)
    direct = teacher.run(person, top.image, garment_mask=top.mask, category="tops")
    assert single.order == ["tops"] and np.array_equal(single.tryon, direct.tryon)
    assert single.quality.confidence == direct.quality.confidence
    assert single.composition_mask.shape == person.shape[:2] and single.composition_mask.max() > 0.5

    jeans = _catalogue("blue-jeans", with_mask=True)
    seen.clear()
    if not _dressed("bottoms"):
        with pytest.raises(UnsupportedCategoryError, match="blue-jeans"):
            dress_outfit(person, [top, jeans], dresser=dresser)
        assert seen == []  # refused before the first step
        return
    results = {}
    for tuck, order in (("out", ["bottoms", "tops"]), ("in", ["tops", "bottoms"])):
        seen.clear()
        res = dress_outfit(person, [top, jeans], tuck, dresser=dresser)
        assert seen == [(c, tuck) for c in order] and res.order == order
        # The last step dressed the first step's output, not the photo.
        assert not np.array_equal(res.steps[1].result.tryon, res.steps[0].result.tryon)
        assert res.tryon is res.steps[-1].result.tryon
        both = (res.steps[0].result.composition_mask > 0.5) | (res.steps[1].result.composition_mask > 0.5)
        assert np.array_equal(res.composition_mask > 0.5, both)
        results[tuck] = res
    assert not np.array_equal(results["out"].tryon, results["in"].tryon)
