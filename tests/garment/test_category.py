"""Garment category and sleeve type from the mask shape; the supported-category gate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tryon.errors import UnsupportedCategoryError
from tryon.garment import catalogue
from tryon.garment.category import (FOLDED, FOLDED_ADVICE, UNCERTAIN, GarmentInfo, classify_garment,
                                    require_supported, shape_features)
from tryon.garment.landmarks import analyse_shape


@pytest.mark.parametrize("name", catalogue.list_garments("tops"))
def test_catalogue_tops(name):
    img, mask = catalogue.render_garment(name, size=(512, 384))
    info = classify_garment(img, mask)
    assert info == GarmentInfo("top", catalogue.garment_sleeve(name))


def _poly(pts, size=(512, 384)):
    m = np.zeros(size, np.uint8)
    cv2.fillPoly(m, [np.array(pts, np.int32)], 1)
    return m.astype(np.float32)


def test_trousers_are_lower():
    m = _poly([(130, 40), (254, 40), (270, 470), (205, 470), (192, 200), (179, 470), (114, 470)])
    assert classify_garment(None, m).category == "lower"


def test_skirt_is_lower():
    m = _poly([(140, 120), (244, 120), (290, 380), (94, 380)])
    assert classify_garment(None, m).category == "lower"


def test_dress_is_dress():
    # Sleeveless dress: straps, bodice, long flared skirt.
    m = _poly([(150, 30), (165, 30), (172, 60), (212, 60), (219, 30), (234, 30), (240, 130), (232, 200),
               (300, 490), (84, 490), (152, 200), (144, 130)])
    assert classify_garment(None, m).category == "dress"


def test_skirt_with_bows_on_its_waistband_is_lower():
    # Bows at the waistband's sides cut shallow notches into the outline; they are no armholes (the old rules
    # took them for armpit valleys and dressed the skirt as a top).
    m = _poly([(130, 150), (254, 150), (262, 200), (280, 206), (272, 226), (310, 390), (74, 390), (112, 226),
               (104, 206), (122, 200)])
    info = classify_garment(None, m)
    assert info.category == "lower", info


def test_cami_straps_are_shoulders():
    # A straight top edge under two thin straps: a cami, not a skirt's waistband.
    m = _poly([(104, 150), (280, 150), (292, 380), (92, 380)])
    for x0, x1 in ((118, 128), (266, 256)):
        cv2.line(m, (x0, 150), (x1, 95), 1, 5)
    f = shape_features(analyse_shape(m))
    assert f.strap_rows >= 0.05 and f.has_shoulders
    assert classify_garment(None, m) == GarmentInfo("top", "none")


def test_a_folded_shirt_is_refused_asking_for_a_photo_laid_flat():
    """A shop's folded shirt: a filled block with a collar notch, no sleeves or armholes laid out. Read as a top it
    was dressed as a sleeveless strip with a mangled collar; it is refused, and the message asks for the photo, not
    for a category (named tops, it would be dressed as that strip all the same)."""
    m = _poly([(90, 60), (170, 60), (192, 44), (214, 60), (294, 60), (300, 300), (84, 300)])
    f = shape_features(analyse_shape(m))
    assert f.box_fill >= 0.9 and f.aspect <= 1.3
    info = classify_garment(None, m)
    assert (info.category, info.reason) == (UNCERTAIN, FOLDED)
    with pytest.raises(UnsupportedCategoryError) as ei:
        require_supported(info)
    assert ei.value.message == FOLDED_ADVICE and "laid flat" in FOLDED_ADVICE
    # The same block twice as tall is a straight dress or a skirt's outline, not a fold.
    assert classify_garment(None, _poly([(90, 20), (294, 20), (300, 470), (84, 470)])).reason != FOLDED


def test_a_folded_shirt_with_rounded_shoulders_is_refused_too():
    """A folded shirt whose shoulders and collar are rounded fills less of its box (0.87) than the full block's
    rule asks (0.9): with no sleeves read it was dressed as a sleeveless top, a vest. A block as full but taller
    (a puffer vest) is a top."""
    folded = [(84, 140), (130, 66), (172, 60), (192, 44), (212, 60), (254, 66), (300, 140), (300, 300), (84, 300)]
    m = _poly(folded)
    f = shape_features(analyse_shape(m))
    assert 0.835 <= f.box_fill < 0.9 and f.aspect <= 1.25
    photo = np.where(m[..., None] > 0.5, 70, 255).astype(np.uint8).repeat(3, axis=-1)  # a plain dark shirt
    info = classify_garment(photo, m)
    assert (info.category, info.reason) == (UNCERTAIN, FOLDED)
    # The mask alone cannot tell it from a top laid out with its sleeves along its sides (their seams are in the
    # photo): without the photo the rule does not act.
    assert classify_garment(None, m).reason != FOLDED
    vest = _poly([(x, 380 if y == 300 else y) for x, y in folded])
    f = shape_features(analyse_shape(vest))
    assert f.box_fill >= 0.835 and f.aspect > 1.25
    photo = np.where(vest[..., None] > 0.5, 70, 255).astype(np.uint8).repeat(3, axis=-1)
    assert classify_garment(photo, vest).category == "top"


@pytest.mark.realdata
def test_folded_catalogue_shirts_are_refused_and_laid_out_tops_are_not(wild_dev):
    """Judged by eye on the 557 garment photos of ../shared: the 66 the full block's rule calls folded are all
    folded shop shirts, and the 10 folded shirts of 0.84-0.89 fill in which no sleeves are read are refused by the
    second rule; the fullest garment laid out (a long-sleeved top with its sleeves along its sides, 0.874) stays a
    top, as do puffer vests as full but taller, a child's camisole with its straps at its edges and a knitted vest
    narrowing to its ribbed hem. (Missed: one folded shirt of fill 0.80.)"""
    from tryon.garment.mask import garment_mask
    from tryon.processing import load_image

    folder = wild_dev.parent / "more-photos" / "fashion-product-images" / "garment"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing (research-only photos, not committed)")
    for name in ("12361.jpg", "14757.jpg", "17723.jpg", "12354.jpg", "17713.jpg", "17727.jpg"):
        img = load_image(folder / name)
        assert classify_garment(img, garment_mask(img)).reason == FOLDED, name
    tops = [folder / n for n in ("13994.jpg", "13996.jpg", "12831.jpg")]
    vest = wild_dev.parent / "vton-samples" / "garment_raw" / "maple-cpvton__000002_1.jpg"  # knitted, ribbed hem
    if vest.is_file():
        tops.append(vest)
    for path in tops:
        img = load_image(path)
        assert classify_garment(img, garment_mask(img)).category == "top", path.name
    img = load_image(wild_dev / "garment" / "anydoor__43.jpg")
    assert classify_garment(img, garment_mask(img)).category == "top"


def test_long_top_or_short_dress_is_uncertain_and_refused_asking_for_the_category():
    # Short sleeves, hem about 2.25 torso widths below the neck: a tunic or a short dress.
    m = _poly([(160, 30), (224, 30), (272, 42), (338, 100), (312, 146), (276, 124), (284, 410), (100, 410),
               (108, 124), (72, 146), (46, 100), (112, 42)])
    info = classify_garment(None, m)
    assert (info.category, info.sleeve) == (UNCERTAIN, "short")
    with pytest.raises(UnsupportedCategoryError, match="name the category tops instead of auto") as ei:
        require_supported(info)
    assert "could not tell whether this garment is a top" in str(ei.value)
    require_supported("tops")  # the user names it a top: dressed, with the sleeves read above


def test_require_supported():
    require_supported(GarmentInfo("top", "short"))
    require_supported("tops")
    for cat, named in (("dress", "one-pieces"), ("lower", "bottoms"), ("bottoms", "bottoms")):
        with pytest.raises(UnsupportedCategoryError) as ei:
            require_supported(GarmentInfo(cat, "none") if cat in ("dress", "lower") else cat)
        assert repr(named) in str(ei.value) and "only tops" in str(ei.value)
    # The geometric teacher also dresses one-pieces; bottoms are still refused by name.
    require_supported(GarmentInfo("dress", "none"), supported=("tops", "one-pieces"))
    with pytest.raises(UnsupportedCategoryError, match="'bottoms'.*only tops .* and one-pieces"):
        require_supported(GarmentInfo("lower", "none"), supported=("tops", "one-pieces"))
    with pytest.raises(UnsupportedCategoryError, match="a dress or a jumpsuit, name the category one-pieces"):
        require_supported(GarmentInfo("uncertain", "none"), supported=("tops", "one-pieces"))


@pytest.mark.parametrize(("given", "fashn", "internal"), [
    ("tops", "tops", "top"), ("top", "tops", "top"), ("Upper_Body", "tops", "top"), ("dress", "one-pieces", "dress"),
    ("one-pieces", "one-pieces", "dress"), ("lower", "bottoms", "lower"), ("bottoms", "bottoms", "lower"),
    ("auto", "auto", None), (None, "auto", None),
])
def test_one_category_vocabulary_with_aliases(given, fashn, internal):
    from tryon.garment.category import internal_category, normalise_category

    assert normalise_category(given) == fashn and internal_category(given) == internal


def test_unknown_category_names_the_accepted_ones():
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category

    with pytest.raises(UsageError, match="tops, bottoms, one-pieces"):
        normalise_category("hats")


# Labels from the wild-dev manifest, checked by eye: the short bottoms the old rules dressed as tops, and tops
# shot flat, on a ghost mannequin and on a hanger.
WILD_NOT_TOPS = ("aceplus__1_ref.png", "dreamo__skirt.jpeg", "dressedbyai__item7.jpg", "dressedbyai__item8.jpg",
                 "page0526vton__shop2.png", "dewbm__black_skinny_dress.jpg", "tryonstylehub__do3.png")
WILD_TOPS = ("any2anytryon__garment1.jpg", "anydoor__36.jpg", "coobytryon__garment-02-blue-tee.jpg",
             "dewbm__women-14.jpeg", "imagdressing__4.jpg", "tryonstylehub__do4.png")


@pytest.mark.realdata
def test_wild_dev_bottoms_and_dresses_are_never_dressed_as_tops(wild_dev):
    from tryon.garment.mask import garment_mask
    from tryon.processing import load_image

    for names, is_top in ((WILD_NOT_TOPS, False), (WILD_TOPS, True)):
        for name in names:
            img = load_image(wild_dev / "garment" / name)
            info = classify_garment(img, garment_mask(img))
            assert (info.category == "top") == is_top, (name, info)


def _mirrored(half, w=384):
    """A left-right symmetric outline from its image-right half (neck centre to hem corner)."""
    return half + [(w - x, y) for x, y in reversed(half)]


def test_boxy_elbow_sleeves_are_short():
    # Dropped shoulders, sleeves flaring out at ~17 degrees and ending at 3/4 of the height, a short body: the
    # armpit sits high, so the underarm alone (0.59 of the armpit-to-hem height) read these sleeves long.
    m = _poly(_mirrored([(224, 40), (306, 64), (358, 236), (306, 282), (306, 366)]))
    assert classify_garment(None, m) == GarmentInfo("top", "short")


def test_sideways_short_sleeves_of_a_wide_short_tee_are_short():
    # A children's tee laid flat: sleeves straight out sideways, the body below the armpit barely longer than the
    # sleeve is wide; the outer seam is no longer than the armhole.
    m = _poly(_mirrored([(218, 120), (266, 128), (334, 156), (322, 204), (274, 196), (274, 280)]))
    assert classify_garment(None, m) == GarmentInfo("top", "short")


@pytest.mark.parametrize("half", [
    # hanging beside the body down to the hem
    [(222, 40), (276, 60), (300, 120), (316, 400), (290, 404), (276, 170), (276, 420)],
    # the boxy top's flared sleeve, but running on past its hem
    [(224, 40), (306, 64), (372, 380), (328, 400), (306, 250), (306, 366)],
])
def test_long_sleeves_stay_long(half):
    assert classify_garment(None, _poly(_mirrored(half))) == GarmentInfo("top", "long")


# Sleeve types checked by eye on the photos (wild-dev pairs #16, #20 of the tops eval: an elbow-length boxy shirt
# and a boxy tee with dropped shoulders; a three-quarter cardigan, a ghost-mannequin puffer and a blouse whose
# flat-laid long sleeves the landmarks foreshorten).
WILD_SLEEVES = {"ominicontrol__tshirt.jpg": "short", "maftulivtryon__cl_gd_11.jpg": "short",
                "anydoor__39.jpg": "long", "page0526vton__rcm1.png": "long", "dewbm__women-2.jpg": "long",
                "dewbm__women-3.jpg": "long", "coobytryon__garment-01-mint-sweatshirt.jpg": "long",
                "coobytryon__garment-04-orange-tee.jpg": "short"}


@pytest.mark.realdata
def test_wild_dev_sleeve_types(wild_dev):
    from tryon.garment.mask import garment_mask
    from tryon.processing import load_image

    got = {}
    for name in WILD_SLEEVES:
        img = load_image(wild_dev / "garment" / name)
        got[name] = classify_garment(img, garment_mask(img)).sleeve
    assert got == WILD_SLEEVES
