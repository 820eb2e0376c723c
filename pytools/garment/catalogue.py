"""Built-in catalogue of procedurally rendered garments (made by the project, no photos, no licence strings).

Tops, one-pieces (a shift dress) and bottoms (jeans, shorts, a pleated skirt), one or more per category of
:data:`tryon.garment.category.FASHN_CATEGORIES`, each drawn so that :func:`tryon.garment.category.classify_garment`
reads it as its category (``tests/garment/test_catalogue.py``). Each top or dress is a parametric flat-lay silhouette (neckline, shoulders, sleeves, torso, hem) drawn as anti-aliased
polygons (4x supersampled, then area-downsampled) with in-shop style shading: low-frequency value noise for
soft folds, darkening towards the silhouette (fabric curving away), a soft drop shadow on a white background,
rib bands at neckline, cuffs and hem, seams, and per-garment details (stripes, print, placket, hood). Rendering
is deterministic (fixed seeds). Ground-truth landmarks come from the same template, so they serve as test truth
for :func:`tryon.garment.landmarks.garment_landmarks`. A bottom is a waistband and either two legs (trousers,
shorts: denim twill, fly, pocket stitching, hem turn-ups) or a flared skirt (knife pleats shaded as folds), with the
same shading, shadow and background.

Left/right follow the project convention: ``*_left`` is the WEARER's left, i.e. the image RIGHT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from tryon.errors import UsageError

__all__ = ["list_garments", "DEFAULT_GARMENT", "render_garment", "render_on_graded_paper", "render_on_hanger",
           "render_garment_landmarks", "garment_sleeve", "garment_category", "UnknownGarmentError"]

_DW, _DH = 768.0, 1024.0  # design space: every template coordinate below is in these units
_SS = 4  # supersampling factor for anti-aliasing


class UnknownGarmentError(UsageError, KeyError):
    """An unknown catalogue name (a UsageError, and a KeyError for dict-like callers)."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.message


@dataclass(frozen=True)
class _Spec:
    colour: tuple[int, int, int]
    sleeve: str  # "none" | "short" | "long"
    neck: str = "crew"  # "crew" | "v" | "collar" | "hood"
    pattern: str = "plain"  # "plain" | "stripes" | "print" | "buttons"
    neck_w: float = 66.0  # half width of the neck opening
    neck_depth: float = 62.0  # front neckline depth below the neck points
    shoulder_w: float = 178.0  # half width at the shoulder points
    armpit_w: float = 150.0
    armpit_y: float = 385.0
    hem_w: float = 150.0
    hem_y: float = 860.0
    sleeve_outer: tuple[float, float] = (300.0, 420.0)  # offset of the outer sleeve-end point from the centre
    sleeve_inner: tuple[float, float] = (222.0, 470.0)
    rib: bool = True
    seed: int = 0
    extra: dict = field(default_factory=dict)
    category: str = "tops"  # FASHN's name: "tops" | "bottoms" | "one-pieces"
    background: tuple[float, float, float] = (250.0, 250.0, 250.0)  # the backdrop's RGB at the photo's top
    kind: str = "top"  # "top" (tops and one-pieces: the top template) | "trousers" | "skirt"


@dataclass(frozen=True)
class _Lower:
    """Design-space outline of a bottom: a waistband at ``waist_y`` and the hem at ``hem_y`` (half widths from the
    centre line); trousers also have a crotch at ``crotch_y`` and legs ``leg_w`` wide at the hem."""

    waist_w: float = 150.0
    waist_y: float = 110.0
    hip_w: float = 172.0
    hip_y: float = 330.0
    crotch_y: float = 430.0
    hem_w: float = 168.0
    hem_y: float = 985.0
    leg_w: float = 120.0
    band: float = 34.0  # waistband height
    pleats: int = 0


_Y0 = 190.0  # neck points' height
_CX = 384.0

_SPECS: dict[str, _Spec] = {
    "white-crew-tee": _Spec(colour=(244, 244, 242), sleeve="short", armpit_w=160, hem_w=162, hem_y=800, seed=1),
    "navy-striped-longsleeve": _Spec(
        colour=(32, 42, 78), sleeve="long", pattern="stripes", shoulder_w=168, armpit_w=146, armpit_y=380,
        hem_w=146, hem_y=800, sleeve_outer=(262, 800), sleeve_inner=(196, 812), seed=2,
        extra={"stripe": (236, 236, 230)}),
    "red-vneck-tank": _Spec(
        colour=(196, 30, 42), sleeve="none", neck="v", neck_w=92, neck_depth=150, shoulder_w=140, armpit_w=156,
        armpit_y=400, hem_w=156, hem_y=800, rib=False, seed=3),
    "black-hoodie": _Spec(
        colour=(36, 36, 38), sleeve="long", neck="hood", neck_w=72, neck_depth=40, shoulder_w=196, armpit_w=170,
        armpit_y=390, hem_w=162, hem_y=800, sleeve_outer=(300, 780), sleeve_inner=(222, 795), seed=4),
    "graphic-print-tee": _Spec(
        colour=(236, 200, 64), sleeve="short", pattern="print", shoulder_w=182, armpit_w=160, hem_w=162,
        hem_y=790, seed=5, sleeve_outer=(312, 395), sleeve_inner=(236, 455)),
    "denim-button-shirt": _Spec(
        colour=(78, 112, 160), sleeve="long", neck="collar", pattern="buttons", neck_w=58, neck_depth=70,
        shoulder_w=176, armpit_w=156, armpit_y=395, hem_w=156, hem_y=840, sleeve_outer=(330, 760),
        sleeve_inner=(262, 790), rib=False, seed=6),
    # One-pieces: the top template, long (neck-to-hem about 2.7 torso widths; the classifier's dresses start at
    # 2.4) and a little flared.
    "navy-shift-dress": _Spec(
        colour=(38, 52, 96), sleeve="short", neck_w=62, neck_depth=58, shoulder_w=150, armpit_w=138,
        armpit_y=375, hem_w=178, hem_y=1000, sleeve_outer=(238, 372), sleeve_inner=(186, 420), rib=False, seed=7,
        category="one-pieces"),
    # Bottoms: drawn from a _Lower outline (extra["lower"]).
    "blue-jeans": _Spec(
        colour=(58, 86, 132), sleeve="none", rib=False, seed=8, category="bottoms", kind="trousers",
        extra={"lower": _Lower()}),
    "khaki-shorts": _Spec(
        colour=(186, 164, 118), sleeve="none", rib=False, seed=9, category="bottoms", kind="trousers",
        extra={"lower": _Lower(waist_y=200, hip_y=380, crotch_y=520, hem_w=190, hem_y=700, leg_w=170)}),
    "plum-pleated-skirt": _Spec(
        colour=(112, 44, 82), sleeve="none", rib=False, seed=10, category="bottoms", kind="skirt",
        extra={"lower": _Lower(waist_w=140, waist_y=160, hip_w=190, hip_y=360, hem_w=280, hem_y=860, band=40,
                               pleats=14)}),
}

DEFAULT_GARMENT = "white-crew-tee"
"""Name of the catalogue garment used when none is given."""


def list_garments(category: str | None = None) -> list[str]:
    """Names of the built-in catalogue garments, in catalogue order.

    Args:
        category: only this category's garments (any spelling :func:`tryon.garment.category.normalise_category`
            accepts; ``auto`` or None: all).

    Raises:
        UsageError: an unknown category name.
    """
    from tryon.garment.category import normalise_category

    wanted = normalise_category(category)
    return [n for n, sp in _SPECS.items() if wanted in ("auto", sp.category)]


def _spec(name: str) -> _Spec:
    try:
        return _SPECS[name]
    except KeyError:
        raise UnknownGarmentError(
            f"unknown catalogue garment {name!r}; known garments: {', '.join(_SPECS)}") from None


def garment_sleeve(name: str) -> str:
    """Sleeve type ("none" | "short" | "long") of a catalogue garment ("none" for bottoms). Raises
    UnknownGarmentError."""
    return _spec(name).sleeve


def garment_category(name: str) -> str:
    """Category of a catalogue garment in FASHN's vocabulary ("tops" | "bottoms" | "one-pieces"). Raises
    UnknownGarmentError."""
    return _spec(name).category


def _template(sp: _Spec) -> dict[str, tuple[float, float]]:
    """Design-space landmarks of a spec (x right, y down; *_left = image right)."""
    if sp.kind != "top":
        return _lower_template(sp)
    y0 = _Y0
    sh_y = y0 + (12.0 if sp.sleeve == "none" else 36.0)
    p: dict[str, tuple[float, float]] = {
        "neck_left": (_CX + sp.neck_w, y0), "neck_right": (_CX - sp.neck_w, y0),
        "neck_front": (_CX, y0 + sp.neck_depth),
        "shoulder_left": (_CX + sp.shoulder_w, sh_y), "shoulder_right": (_CX - sp.shoulder_w, sh_y),
        "armpit_left": (_CX + sp.armpit_w, sp.armpit_y), "armpit_right": (_CX - sp.armpit_w, sp.armpit_y),
        "hem_left": (_CX + sp.hem_w, sp.hem_y), "hem_right": (_CX - sp.hem_w, sp.hem_y),
        "hem_center": (_CX, sp.hem_y + 6.0),
    }
    if sp.sleeve != "none":
        ox, oy = sp.sleeve_outer
        ix, iy = sp.sleeve_inner
        p |= {"sleeve_left_outer": (_CX + ox, oy), "sleeve_left_inner": (_CX + ix, iy),
              "sleeve_right_outer": (_CX - ox, oy), "sleeve_right_inner": (_CX - ix, iy)}
    return p


def _lower_template(sp: _Spec) -> dict[str, tuple[float, float]]:
    """Design-space landmarks of a bottom, with the keys of :mod:`tryon.garment.landmarks_lower`: the waistband's
    corners and centre, then trousers' crotch and each leg's outer and inner hem corner
    (``LEG_LANDMARKS``), or a skirt's hem ends and centre (``SKIRT_LANDMARKS``)."""
    lo: _Lower = sp.extra["lower"]
    p = {"waist_left": (_CX + lo.waist_w, lo.waist_y), "waist_right": (_CX - lo.waist_w, lo.waist_y),
         "waist_center": (_CX, lo.waist_y)}
    if sp.kind == "trousers":
        inner = lo.hem_w - lo.leg_w
        return p | {"crotch": (_CX, lo.crotch_y), "hem_left_outer": (_CX + lo.hem_w, lo.hem_y),
                    "hem_left_inner": (_CX + inner, lo.hem_y), "hem_right_outer": (_CX - lo.hem_w, lo.hem_y),
                    "hem_right_inner": (_CX - inner, lo.hem_y)}
    return p | {"hem_left": (_CX + lo.hem_w, lo.hem_y), "hem_right": (_CX - lo.hem_w, lo.hem_y),
                "hem_center": (_CX, lo.hem_y)}


def _lower_outline(sp: _Spec) -> np.ndarray:
    """Design-space outline of a bottom (trousers: from the crotch round the image-left leg; skirt: from the
    waistband's image-left corner)."""
    lo: _Lower = sp.extra["lower"]
    t = _lower_template(sp)
    wl = np.array(t["waist_left"])
    hl = np.array((_CX + lo.hip_w, lo.hip_y))
    ml = np.array((_CX + lo.hem_w, lo.hem_y))
    side = np.vstack([_arc(wl, hl, -6.0, 12), _arc(hl, ml, 2.0, 16)[1:]])  # hip curve, then down the side
    if sp.kind == "trousers":
        il = np.array(t["hem_left_inner"])
        # Outer leg down, the hem, up the inner leg to the crotch.
        # The crotch is a rounded notch (the seams part at once), as on a flat-laid pair, not a hairline V.
        notch = np.array((_CX + 22.0, lo.crotch_y + 26.0))
        half = np.vstack([side, _arc(ml, il, -1.5, 6)[1:], _arc(il, notch, 0.0, 12)[1:],
                          _arc(notch, (_CX, lo.crotch_y), -4.0, 8)[1:]])
        return np.vstack([_mirror(half)[::-1], half[:-1]])  # crotch, right leg, waistband, left leg
    # Skirt: the hem dips a little at each pleat's edge (knife pleats lie in steps).
    n = max(1, lo.pleats)
    xs = np.linspace(_CX - lo.hem_w, _CX + lo.hem_w, n + 1)
    hem = [(x, lo.hem_y + (4.0 if i % 2 else 0.0)) for i, x in enumerate(xs)]
    return np.vstack([_mirror(side), np.reshape(hem[1:-1], (-1, 2)), side[::-1]])  # right side down, the hem, left side up


def _arc(p0, p1, sag: float, n: int = 16) -> np.ndarray:
    """Points on a quadratic curve from p0 to p1 whose midpoint is pushed by ``sag`` along the normal."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    nrm = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    c = (p0 + p1) / 2 + nrm * sag * 2
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * p1


def _mirror(pts: np.ndarray) -> np.ndarray:
    out = pts.copy()
    out[:, 0] = 2 * _CX - out[:, 0]
    return out


def _shapes(sp: _Spec) -> dict[str, np.ndarray]:
    """Design-space polygons: body (incl. back neck), sleeves (image left/right), front-neck opening."""
    t = _template(sp)
    y0 = _Y0
    back_depth = 16.0
    # Right half of the image (wearer's left), from the neck point round the outline to the hem centre.
    nl, sl, al, hl = (np.array(t[k]) for k in ("neck_left", "shoulder_left", "armpit_left", "hem_left"))
    side = _arc(al, hl, -4.0 if sp.sleeve != "none" else 3.0)
    hem = _arc(hl, (_CX, sp.hem_y + 6.0), -2.0, 8)
    if sp.sleeve == "none":
        # Strap from neck to shoulder, then the concave armhole down to the armpit.
        armhole = _arc(sl, al, 34.0, 20)
        half = np.vstack([[nl], armhole, side[1:], hem[1:]])
    else:
        half = np.vstack([[nl], [sl], [al], side[1:], hem[1:]])
    body_right = half
    body = np.vstack([body_right, _mirror(body_right)[::-1][1:]])
    back = _arc(t["neck_right"], t["neck_left"], back_depth, 16)  # the back neckline, slightly lowered
    body = np.vstack([body, back[1:-1]])
    front = np.vstack([[t["neck_right"]], [(_CX - sp.neck_w * 0.55, y0 + sp.neck_depth * 0.85)],
                       [t["neck_front"]], [(_CX + sp.neck_w * 0.55, y0 + sp.neck_depth * 0.85)],
                       [t["neck_left"]]]) if sp.neck == "v" else _arc(
        t["neck_right"], t["neck_left"], sp.neck_depth, 24)
    shapes = {"body": body, "front_neck": np.vstack([front, back[::-1][1:-1]])}
    if sp.sleeve != "none":
        so, si = np.array(t["sleeve_left_outer"]), np.array(t["sleeve_left_inner"])
        # The sleeve overlaps the torso a little past the armhole seam, as a real sleeve does.
        sleeve = np.vstack([sl + (-6, 0), _arc(sl, so, 3.0, 12), _arc(so, si, 1.0, 5)[1:],
                            _arc(si, al, 3.0 if sp.sleeve == "long" else -2.0, 12)[1:], [al + (-10, 4)]])
        shapes["sleeve_left"] = sleeve
        shapes["sleeve_right"] = _mirror(sleeve)
    return shapes


def _value_noise(h: int, w: int, rng: np.random.Generator, cells: tuple[int, int]) -> np.ndarray:
    g = rng.standard_normal((cells[0], cells[1])).astype(np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def _poly_mask(pts: np.ndarray, h: int, w: int, sx: float, sy: float) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    q = np.round(pts * [sx, sy] * 16).astype(np.int32)  # 4 fractional bits: sub-pixel accurate edges
    cv2.fillPoly(m, [q], 1, lineType=cv2.LINE_8, shift=4)
    return m.astype(bool)


def _coverage(pts: np.ndarray, H: int, W: int) -> np.ndarray:
    """Anti-aliased (H, W) float32 coverage of a design-space polygon (supersampled, area-averaged)."""
    m = _poly_mask(pts, H * _SS, W * _SS, W * _SS / _DW, H * _SS / _DH).astype(np.float32)
    return cv2.resize(m, (W, H), interpolation=cv2.INTER_AREA)


def _blend(img: np.ndarray, alpha: np.ndarray, colour) -> None:
    a = alpha[..., None]
    img *= 1.0 - a
    img += a * np.asarray(colour, np.float32)


def render_garment(name: str, size: tuple[int, int] = (1024, 768)) -> tuple[np.ndarray, np.ndarray]:
    """Render a catalogue garment (top, dress or bottom) as an in-shop product photo.

    Args:
        name: a name from :func:`list_garments`.
        size: (H, W) output size in pixels; the garment is drawn in a 768x1024 design space scaled per axis
            (other aspects stretch it).

    Returns:
        ``(image, mask)``: (H, W, 3) uint8 RGB on a white background, and (H, W) float32 [0, 1] garment mask
        (anti-aliased). Deterministic for a given name and size.

    Raises:
        UnknownGarmentError: (a UsageError and KeyError) ``name`` is not in the catalogue; lists the names.
    """
    return _render_spec(_spec(name), size)


def render_on_graded_paper(name: str, size: tuple[int, int] = (512, 384), light: str = "spot"
                           ) -> tuple[np.ndarray, np.ndarray]:
    """A catalogue garment photographed on peach-tinted paper that darkens away from the light, with a soft drop
    shadow: a shop photo whose backdrop is neither white nor one flat colour, which a border-colour cut-out cannot
    model (``docs/garment-mask.md``).

    Args:
        name: a name from :func:`list_garments`.
        size: (H, W) output size in pixels.
        light: ``"spot"``: a spotlight, the paper darkens radially to the corners (by up to 55 % x the distance from
            the centre in image widths and heights); ``"side"``: lit from the left, it darkens by 35 % across.

    Returns:
        ``(image, mask)`` as :func:`render_garment`: (H, W, 3) uint8 RGB and (H, W) float32 [0, 1] garment mask.

    Raises:
        UnknownGarmentError: ``name`` is not in the catalogue. UsageError: an unknown ``light``.
    """
    img, truth = render_garment(name, size=size)
    h, w = truth.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if light == "spot":
        fall = 0.55 * np.sqrt(((xx - 0.5 * w) / w) ** 2 + ((yy - 0.45 * h) / h) ** 2)
    elif light == "side":
        fall = 0.35 * xx / w
    else:
        raise UsageError(f"light must be 'spot' or 'side', not {light!r}")
    bg = np.array([236, 214, 196], np.float32) * (1.0 - fall[..., None])
    shadow = cv2.GaussianBlur(np.roll(truth, (8, 6), (0, 1)), (0, 0), 6)
    bg *= 1.0 - 0.35 * shadow[..., None]
    # The catalogue renders on white with its own shadow; keep only the garment's pixels.
    a = truth[..., None]
    out = img.astype(np.float32) * a + bg * (1 - a)
    return np.clip(out, 0, 255).astype(np.uint8), truth


def render_on_hanger(name: str, size: tuple[int, int] = (1024, 768)) -> tuple[np.ndarray, np.ndarray]:
    """A catalogue top photographed on a wooden hanger: the bar rises from the shoulders to an apex above the
    neckline (20 % of the garment's height), with a thin grey wire hook on top, as many shop photos show tops. The
    hanger is not garment: a cut-out must take it out (``tryon.garment.mask.drop_hanger``).

    Args:
        name: a top's name from :func:`list_garments`.
        size: (H, W) output size in pixels.

    Returns:
        ``(image, mask)`` as :func:`render_garment` (the mask is the garment's alone, without the hanger).

    Raises:
        UnknownGarmentError: ``name`` is not in the catalogue.
    """
    img, truth = render_garment(name, size=size)
    lm = render_garment_landmarks(name, size=size)
    ys = np.nonzero(truth > 0.5)[0]
    gh = ys.max() - ys.min()
    cx = (lm["neck_left"][0] + lm["neck_right"][0]) / 2
    apex = (cx, lm["neck_left"][1] - 0.2 * gh)
    img = img.copy()
    bar = np.array([lm["shoulder_right"], apex, lm["shoulder_left"]], np.int32)
    cv2.polylines(img, [bar], False, (150, 100, 55), int(0.035 * gh), cv2.LINE_AA)
    hook = np.array([apex, (cx, apex[1] - 0.06 * gh), (cx + 0.03 * gh, apex[1] - 0.1 * gh),
                     (cx + 0.06 * gh, apex[1] - 0.07 * gh)], np.int32)
    cv2.polylines(img, [hook], False, (110, 110, 110), max(2, int(0.006 * gh)), cv2.LINE_AA)
    return img, truth


def _render_spec(sp: _Spec, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`render_garment` for a spec (a catalogue garment's, or :mod:`tryon.garment.synth`'s variations)."""
    H, W = int(size[0]), int(size[1])
    sx, sy = W / _DW, H / _DH
    rng = np.random.default_rng(1000 + sp.seed)
    if sp.kind != "top":
        return _render_lower(sp, H, W, rng)
    sh = _shapes(sp)
    body = _coverage(sh["body"], H, W)
    opening = _coverage(sh["front_neck"], H, W)
    sleeves = [_coverage(sh[k], H, W) for k in ("sleeve_left", "sleeve_right") if k in sh]
    full = body.copy()
    for sl in sleeves:
        full = np.maximum(full, sl)
    hood = _coverage(_hood_pts(sp), H, W) if sp.neck == "hood" else None
    if hood is not None:
        full = np.maximum(full, hood)
    base = np.array(sp.colour, np.float32)
    img = np.empty((H, W, 3), np.float32)
    img[:] = base
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    dx, dy = xx / sx, yy / sy  # design-space coordinates of every pixel

    if hood is not None:
        _blend(img, hood * (1 - body), base * 0.8)
    if sp.pattern == "stripes":
        on = np.clip(8.0 - np.abs(((dy - 230.0) % 44.0) - 8.0), 0, 1) * 1.0  # 16 design-units bands, soft
        _blend(img, on * (dy > 250), sp.extra["stripe"])
    elif sp.pattern == "print":
        canvas = np.zeros((H, W, 3), np.uint8)
        alpha = np.zeros((H, W), np.uint8)
        _draw_print(canvas, alpha, sx, sy)
        a = alpha.astype(np.float32)[..., None] / 255.0
        img[:] = img * (1 - a) + canvas.astype(np.float32) * a
    elif sp.pattern == "buttons":
        placket = np.clip(1.0 - (np.abs(dx - _CX) - 14.0) * sx, 0, 1) * (dy > _Y0 + sp.neck_depth)
        img *= 1.0 - 0.1 * placket[..., None]
        lw = max(1, int(round(2 * sx)))
        for by in np.arange(_Y0 + sp.neck_depth + 40, sp.hem_y - 30, 95):
            c = (int(_CX * sx), int(by * sy))
            cv2.circle(img, c, max(2, int(8 * sx)), (226, 222, 210), -1, cv2.LINE_AA)
            cv2.circle(img, c, max(2, int(8 * sx)), (120, 116, 110), lw, cv2.LINE_AA)
        px0, py0 = _CX + 60, _Y0 + 150  # chest pocket on the wearer's left (image right)
        cv2.rectangle(img, (int(px0 * sx), int(py0 * sy)), (int((px0 + 70) * sx), int((py0 + 80) * sy)),
                      tuple(float(c) for c in base * 0.82), lw, cv2.LINE_AA)

    # Inside of the back seen through the neck opening: darker, as on a real shop photo.
    _blend(img, opening, base * 0.62 + 8)
    if sp.rib or sp.neck == "hood":
        ring = np.clip(_coverage(_grow_neck(sh["front_neck"]), H, W) - opening, 0, 1)
        img *= 1.0 - 0.1 * ring[..., None]
    if sp.rib:
        band = full * np.clip((dy - (sp.hem_y - 38)) * sy, 0, 1)
        img *= 1.0 - (0.07 - 0.04 * (np.sin(dx * 1.4) > 0))[..., None] * band[..., None]
    if sp.neck == "collar":
        _draw_collar(img, sp, sx, sy, base)
    if sp.neck == "hood":
        _draw_hood(img, sp, sx, sy, base)

    # Sleeves: a slightly different shade (fabric direction) and a seam along the armhole.
    shade = np.ones((H, W), np.float32)
    for sl in sleeves:
        own = sl * (1 - body)
        shade -= 0.04 * own
        seam = cv2.morphologyEx(sl, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) * body
        shade -= 0.18 * np.clip(seam, 0, 1)
        if sp.rib and sp.sleeve == "long":
            cuff_y = (sp.sleeve_outer[1] + sp.sleeve_inner[1]) / 2 - 50
            shade -= 0.07 * own * (dy > cuff_y)
    return _finish(img, full, shade, sp, rng, base)


def _finish(img: np.ndarray, full: np.ndarray, shade: np.ndarray, sp: _Spec, rng: np.random.Generator,
            base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Folds, rim darkening, drop shadow, studio background and grain, common to every garment: ``img`` (H, W, 3)
    float32 RGB garment colours, ``full`` (H, W) float32 coverage, ``shade`` (H, W) float32 multiplicative
    shading so far. Returns :func:`render_garment`'s ``(image, mask)``."""
    H, W = full.shape
    sx, sy = W / _DW, H / _DH
    yy = np.mgrid[0:H, 0:W][0].astype(np.float32)
    # Soft folds: value noise stretched vertically (fabric hangs in vertical drapes; round blotches read as
    # stains on light colours), and darkening towards the silhouette (fabric curving away).
    folds = 0.03 * _value_noise(H, W, rng, (3, 9)) + 0.012 * _value_noise(H, W, rng, (8, 24))
    dist = cv2.distanceTransform((full > 0.5).astype(np.uint8), cv2.DIST_L2, 5) / sx
    rim = 1.0 - 0.14 * np.exp(-dist / 18.0)
    shade *= (1.0 + folds) * rim
    gain = 1.0 if base.mean() > 60 else 1.35  # dark fabric needs relatively stronger shading to read
    img *= (1.0 + (shade[..., None] - 1.0) * gain)

    # Studio background (white unless the spec says otherwise), faint vertical gradient, soft drop shadow.
    shadow = cv2.GaussianBlur(full, (0, 0), 14 * sx)
    shadow = np.roll(shadow, (int(4 * sy), int(2 * sx)), axis=(0, 1))
    bgv = (np.asarray(sp.background, np.float32) - 8.0 * (yy / H)[..., None]) * (1.0 - 0.035 * shadow)[..., None]
    a = full[..., None]
    out = img * a + bgv * (1 - a)
    grain = np.random.default_rng(7 + sp.seed).normal(0, 0.8, out.shape).astype(np.float32)
    return np.clip(out + grain, 0, 255).astype(np.uint8), np.clip(full, 0, 1).astype(np.float32)


def _render_lower(sp: _Spec, H: int, W: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`render_garment` for a bottom: outline, waistband, then trousers' denim twill, fly, pockets and
    turn-ups, or a skirt's pleats (alternating light and dark panels with a crease between)."""
    lo: _Lower = sp.extra["lower"]
    sx, sy = W / _DW, H / _DH
    full = _coverage(_lower_outline(sp), H, W)
    base = np.array(sp.colour, np.float32)
    img = np.empty((H, W, 3), np.float32)
    img[:] = base
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    dx, dy = xx / sx, yy / sy
    shade = np.ones((H, W), np.float32)
    lw = max(1, int(round(2 * sx)))
    stitch = tuple(float(c) for c in np.clip(base * 1.35 + 30, 0, 255))
    band_bottom = lo.waist_y + lo.band
    # The waistband: a slightly darker band with a stitched lower edge.
    shade -= 0.08 * full * (dy < band_bottom)
    cv2.line(img, (int((_CX - lo.waist_w - 10) * sx), int(band_bottom * sy)),
             (int((_CX + lo.waist_w + 10) * sx), int(band_bottom * sy)), stitch, lw, cv2.LINE_AA)
    if sp.kind == "trousers":
        # Denim twill: fine diagonal ribs, and a faded centre of each leg.
        shade *= 1.0 + 0.05 * np.sin((dx + dy) * 1.3)
        for sgn in (-1, 1):
            leg_c = _CX + sgn * (lo.hem_w - lo.leg_w / 2)
            shade += 0.06 * np.exp(-((dx - leg_c) / 45.0) ** 2) * np.clip((dy - lo.crotch_y + 160) / 120, 0, 1)
        # Fly: a J-shaped stitch from the waistband down the left of the centre line; a button on the band.
        fly = np.vstack([[(_CX + 4, band_bottom)], _arc((_CX + 34, band_bottom), (_CX + 4, lo.crotch_y - 30), -8, 12)])
        cv2.polylines(img, [np.round(fly * [sx, sy] * 16).astype(np.int32)], False, stitch, lw, cv2.LINE_AA, shift=4)
        cv2.circle(img, (int(_CX * sx), int((lo.waist_y + lo.band / 2) * sy)), max(2, int(9 * sx)),
                   (196, 170, 110), -1, cv2.LINE_AA)
        # Front pockets: a curved opening from the waistband to the side.
        for sgn in (-1, 1):
            pk = _arc((_CX + sgn * (lo.waist_w - 70), band_bottom), (_CX + sgn * (lo.hip_w - 8), band_bottom + 110),
                      sgn * 14.0, 16)
            cv2.polylines(img, [np.round(pk * [sx, sy] * 16).astype(np.int32)], False, stitch, lw, cv2.LINE_AA,
                          shift=4)
        # Hem turn-ups: a darker band at each leg's end.
        shade -= 0.1 * full * (dy > lo.hem_y - 30)
    elif lo.pleats:
        # Knife pleats: panels from the waistband, each lit on one side and shaded on the other, a crease between.
        n = max(1, lo.pleats)
        frac = np.clip((dy - band_bottom) / (lo.hem_y - band_bottom), 0, 1)
        half_w = lo.waist_w + (lo.hem_w - lo.waist_w) * frac  # the skirt's half width at each row (linear)
        u = (dx - _CX) / np.maximum(1.0, half_w) * n / 2  # pleat coordinate: one unit per pleat
        phase = u - np.floor(u)
        panel = (0.07 * (phase - 0.5) - 0.12 * np.exp(-(phase / 0.05) ** 2)) * (dy > band_bottom)
        shade += panel * full
    return _finish(img, full, shade, sp, rng, base)


def _grow_neck(front: np.ndarray) -> np.ndarray:
    c = front.mean(axis=0)
    return c + (front - c) * 1.18


def _draw_print(canvas: np.ndarray, alpha: np.ndarray, sx: float, sy: float) -> None:
    """A procedural chest graphic (rings, a burst, block letters) into a uint8 canvas and its alpha."""
    cx, cy = int(_CX * sx), int(430 * sy)
    r = int(110 * sx)
    lw = max(2, int(9 * sx))
    for target, col in ((canvas, None), (alpha, 255)):
        def c(v, col=col):
            return v if col is None else col
        cv2.circle(target, (cx, cy), r, c((30, 60, 130)), -1, cv2.LINE_AA)
        cv2.circle(target, (cx, cy), int(r * 0.78), c((245, 240, 225)), -1, cv2.LINE_AA)
        for k in range(12):
            ang = k * np.pi / 6
            p1 = (int(cx + np.cos(ang) * r * 0.2), int(cy + np.sin(ang) * r * 0.2))
            p2 = (int(cx + np.cos(ang) * r * 0.7), int(cy + np.sin(ang) * r * 0.7))
            cv2.line(target, p1, p2, c((220, 70, 50)), lw, cv2.LINE_AA)
        cv2.circle(target, (cx, cy), int(r * 0.22), c((30, 60, 130)), -1, cv2.LINE_AA)
        font = cv2.FONT_HERSHEY_DUPLEX
        scale, th = 2.2 * sx, max(2, int(4 * sx))
        (tw, _), _ = cv2.getTextSize("SUNRISE", font, scale, th)
        cv2.putText(target, "SUNRISE", (cx - tw // 2, int(600 * sy)), font, scale, c((30, 60, 130)), th,
                    cv2.LINE_AA)


def _draw_collar(img: np.ndarray, sp: _Spec, sx: float, sy: float, base: np.ndarray) -> None:
    """Two pointed shirt-collar leaves over the neck opening, with a stitched edge."""
    for sgn in (-1, 1):
        pts = np.array([[_CX + sgn * (sp.neck_w + 14), _Y0 - 8], [_CX + sgn * 4, _Y0 + sp.neck_depth + 4],
                        [_CX + sgn * (sp.neck_w + 40), _Y0 + 96], [_CX + sgn * (sp.neck_w + 30), _Y0 + 20]])
        q = np.round(pts * [sx, sy] * 16).astype(np.int32)
        cv2.fillPoly(img, [q], tuple(float(c) for c in base * 1.06), cv2.LINE_AA, shift=4)
        cv2.polylines(img, [q], True, tuple(float(c) for c in base * 0.7), max(1, int(2 * sx)), cv2.LINE_AA,
                      shift=4)


def _hood_pts(sp: _Spec) -> np.ndarray:
    return np.vstack([_arc((_CX - sp.neck_w - 30, _Y0 + 20), (_CX + sp.neck_w + 30, _Y0 + 20), -75.0, 24)])


def _draw_hood(img: np.ndarray, sp: _Spec, sx: float, sy: float, base: np.ndarray) -> None:
    """Drawstrings and a kangaroo pocket (the hood itself is blended in by the caller)."""
    lw = max(2, int(5 * sx))
    for sgn in (-1, 1):
        x = int((_CX + sgn * 26) * sx)
        cv2.line(img, (x, int((_Y0 + 45) * sy)), (x + int(sgn * 4 * sx), int((_Y0 + 230) * sy)), (225, 225, 225),
                 lw, cv2.LINE_AA)
    pocket = np.array([[_CX - 120, 640], [_CX + 120, 640], [_CX + 150, 790], [_CX - 150, 790]])
    cv2.polylines(img, [np.round(pocket * [sx, sy] * 16).astype(np.int32)], True,
                  tuple(float(c) for c in base * 0.6), max(1, int(3 * sx)), cv2.LINE_AA, shift=4)


def render_garment_landmarks(name: str, size: tuple[int, int] = (1024, 768)) -> dict[str, tuple[float, float]]:
    """Ground-truth landmarks of :func:`render_garment` ``(name, size)`` in output image pixels (x, y).

    Keys as in :func:`tryon.garment.landmarks.garment_landmarks` (sleeve keys absent for sleeveless tops);
    ``*_left`` is the wearer's left = image right. Raises UnknownGarmentError for an unknown name.
    """
    sp = _spec(name)
    H, W = size
    sx, sy = W / _DW, H / _DH
    return {k: (float(x * sx), float(y * sy)) for k, (x, y) in _template(sp).items()}
