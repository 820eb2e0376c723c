"""Augmentation of distillation records, applied consistently to the student's inputs and the teacher's targets.

A record (``tryon.data.records``) holds two coordinate frames: the *person frame* (person, tryon, agnostic,
warped_garment, the three person-side masks, parse, keypoints and the sampling grid's *positions*) and the
*garment frame* (garment, garment_mask and the grid's *values*, which are locations in the garment image).
Every transform below says which frame it moves and updates the grid on both sides accordingly, so that
``grid_sample(garment, grid)`` still reproduces the warped garment after augmentation:

* :func:`hflip` mirrors both frames: arrays are flipped left-right, the grid's x values are negated (exact
  under ``align_corners=False``), left/right parse labels and BlazePose keypoints are swapped (sides are the
  person's anatomical sides, which change under a mirror).
* :func:`person_affine` zooms and shifts the person frame (the grid is resampled, its values unchanged).
* :func:`colour_jitter` applies one per-pixel affine colour map to the person side and another to the garment
  side; the teacher's try-on image gets the garment map inside its composition mask and the person map
  outside, which is what the teacher would have produced from the jittered inputs.
* :func:`garment_warp` deforms the garment image by a small affine + thin-plate-spline (Bookstein, "Principal
  warps: thin-plate splines and the decomposition of deformations", TPAMI 1989) map ``D`` (new garment
  location → old garment location) and composes the grid with ``D⁻¹`` (found by fixed-point iteration, which
  converges because the jitter is small), so the warped garment is unchanged.

All functions take and return a record dict of numpy arrays (images (H, W, 3) uint8, masks (H, W) float32 in
[0, 1], ``parse`` (H, W) uint8, ``grid`` (H, W, 2) float32 in [-1, 1], ``keypoints`` (33, 4) float32 in record
pixels, pixel-centre convention); fields a record lacks are skipped; inputs are never modified in place.
Randomness comes only from the ``numpy.random.Generator`` passed in, so a (seed, index) pair reproduces a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.person.labels import LABEL

__all__ = [
    "AugmentConfig", "KEYPOINT_FLIP", "PARSE_FLIP", "hflip", "person_affine", "colour_jitter", "colour_matrix",
    "garment_warp", "tps_displacement", "augment_record",
]

PERSON_IMAGES = ("person", "tryon", "agnostic", "warped_garment")
PERSON_MASKS = ("warped_mask", "composition_mask")
GARMENT_IMAGES = ("garment",)
GARMENT_MASKS = ("garment_mask",)

# BlazePose order (tryon.person.pose.POSE_LANDMARKS): 0 nose; 1-3 left eye, 4-6 right eye; 7/8 ears; 9/10 mouth;
# then left/right pairs from 11 (shoulders) to 31/32 (foot index). A mirror swaps every left with its right.
KEYPOINT_FLIP: tuple[int, ...] = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9) + tuple(
    i + 1 if i % 2 else i - 1 for i in range(11, 33))
"""Index permutation of the 33 BlazePose keypoints under a horizontal flip."""

PARSE_FLIP: np.ndarray = np.arange(256, dtype=np.uint8)
PARSE_FLIP[[LABEL["left_arm"], LABEL["right_arm"], LABEL["left_hand"], LABEL["right_hand"]]] = [
    LABEL["right_arm"], LABEL["left_arm"], LABEL["right_hand"], LABEL["left_hand"]]
"""Lookup table swapping the left/right parse labels."""


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random augmentation (:func:`augment_record`).

    Attributes:
        flip_p: probability of a horizontal flip.
        affine_p: probability of zooming/shifting the person frame.
        scale: (min, max) zoom of the person frame (>1 enlarges the person).
        shift: maximum shift of the person frame, as a fraction of width (x) and height (y).
        colour_p: probability of colour jitter (drawn separately for the person and the garment side).
        brightness, contrast, saturation: maximum relative change (0.15 = ±15 %).
        hue: maximum hue rotation in turns (0.03 = ±11°).
        garment_p: probability of deforming the garment image.
        garment_scale: (min, max) zoom of the garment image.
        garment_shift: maximum shift of the garment image in normalised units ([-1, 1] spans the image).
        tps_sigma: standard deviation of the thin-plate-spline control-point offsets, normalised units.
        tps_points: control points per side (a tps_points × tps_points lattice).
    """

    flip_p: float = 0.5
    affine_p: float = 0.5
    scale: tuple[float, float] = (0.9, 1.1)
    shift: float = 0.05
    colour_p: float = 0.8
    brightness: float = 0.15
    contrast: float = 0.15
    saturation: float = 0.2
    hue: float = 0.03
    garment_p: float = 0.5
    garment_scale: tuple[float, float] = (0.92, 1.08)
    garment_shift: float = 0.04
    tps_sigma: float = 0.02
    tps_points: int = 4


# ---------------------------------------------------------------------------------------------- flip
def hflip(rec: dict) -> dict:
    """Mirror a record left-right (both frames); see the module docstring.

    Returns:
        a new record; applying it twice gives the original back.
    """
    out = dict(rec)
    w = _width(rec)
    for name in PERSON_IMAGES + PERSON_MASKS + GARMENT_IMAGES + GARMENT_MASKS:
        if name in rec:
            out[name] = np.ascontiguousarray(rec[name][:, ::-1])
    if "parse" in rec:
        out["parse"] = PARSE_FLIP[np.ascontiguousarray(rec["parse"][:, ::-1])]
    if "grid" in rec:
        grid = rec["grid"][:, ::-1].copy()  # (H, W, 2): positions mirrored
        grid[..., 0] = -grid[..., 0]  # values mirrored: the garment image is flipped too
        out["grid"] = grid
    if "keypoints" in rec:
        kp = rec["keypoints"][list(KEYPOINT_FLIP)].copy()  # (33, 4): left <-> right
        kp[:, 0] = (w - 1) - kp[:, 0]  # pixel-centre convention: column j -> W-1-j
        out["keypoints"] = kp
    return out


def _width(rec: dict) -> int:
    for name in PERSON_IMAGES + GARMENT_IMAGES + ("grid", "parse"):
        if name in rec:
            return rec[name].shape[1]
    raise KeyError("the record holds no image")


def _size(rec: dict) -> tuple[int, int]:
    for name in PERSON_IMAGES + ("grid", "parse"):
        if name in rec:
            return rec[name].shape[:2]
    raise KeyError("the record holds no person-frame array")


# -------------------------------------------------------------------------------------- person affine
def person_affine(rec: dict, scale: float, shift_x: float, shift_y: float) -> dict:
    """Zoom the person frame about its centre by ``scale`` and shift it by (shift_x, shift_y) pixels.

    Images are resampled bilinearly with replicated borders (the letterboxed photos continue their edge),
    masks bilinearly with zeros outside, the parse with nearest neighbour, the grid bilinearly (its values,
    garment locations, stay as they are). Keypoints move with the frame.
    """
    h, w = _size(rec)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    # dst = scale * (src - c) + c + shift  (pixel-centre coordinates, as cv2 uses)
    m = np.array([[scale, 0.0, (1 - scale) * cx + shift_x], [0.0, scale, (1 - scale) * cy + shift_y]], np.float64)
    out = dict(rec)

    def warp(a: np.ndarray, interp: int, border: int, value: float = 0.0) -> np.ndarray:
        return cv2.warpAffine(a, m, (w, h), flags=interp, borderMode=border, borderValue=value)

    for name in PERSON_IMAGES:
        if name in rec:
            out[name] = warp(rec[name], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
    for name in PERSON_MASKS:
        if name in rec:
            out[name] = np.clip(warp(rec[name].astype(np.float32), cv2.INTER_LINEAR, cv2.BORDER_CONSTANT), 0, 1)
    if "parse" in rec:
        out["parse"] = warp(rec["parse"], cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)
    if "grid" in rec:
        out["grid"] = np.clip(warp(rec["grid"].astype(np.float32), cv2.INTER_LINEAR, cv2.BORDER_CONSTANT, -1.0),
                              -1, 1)
    if "keypoints" in rec:
        kp = rec["keypoints"].copy()
        kp[:, 0] = kp[:, 0] * scale + m[0, 2]
        kp[:, 1] = kp[:, 1] * scale + m[1, 2]
        out["keypoints"] = kp
    return out


# --------------------------------------------------------------------------------------------- colour
def colour_matrix(brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0,
                  hue: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A per-pixel affine colour map ``rgb' = M @ rgb + b`` (RGB in [0, 1]).

    Args:
        brightness: gain (1 = unchanged). contrast: gain about mid-grey 0.5 (a fixed pivot, not the image mean,
            so that the same map can be applied to several images of one sample). saturation: gain of the
            chroma about the luma (Rec. 601). hue: rotation of the chroma plane in turns (YIQ space).

    Returns:
        (M (3, 3), b (3,)) float32.
    """
    rgb2yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    yiq2rgb = np.linalg.inv(rgb2yiq)
    a = 2 * np.pi * hue
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    sat = np.diag([1.0, saturation, saturation])
    m = contrast * brightness * (yiq2rgb @ sat @ rot @ rgb2yiq)
    b = np.full(3, 0.5 * (1 - contrast))
    return m.astype(np.float32), b.astype(np.float32)


def _apply_colour(image: np.ndarray, mb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    m, b = mb
    x = image.astype(np.float32) / 255.0  # (H, W, 3)
    y = x @ m.T + b
    return y


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def colour_jitter(rec: dict, person: tuple[np.ndarray, np.ndarray] | None,
                  garment: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """Apply the colour map ``person`` to the person side and ``garment`` to the garment side (None = identity).

    The person, agnostic image take the person map; garment and warped garment the garment map; the teacher's
    try-on mixes both by its composition mask (garment map where the result shows the warped garment).
    """
    ident = (np.eye(3, dtype=np.float32), np.zeros(3, np.float32))
    person = person or ident
    garment = garment or ident
    out = dict(rec)
    for name in ("person", "agnostic"):
        if name in rec:
            out[name] = _to_u8(_apply_colour(rec[name], person))
    for name in ("garment", "warped_garment"):
        if name in rec:
            out[name] = _to_u8(_apply_colour(rec[name], garment))
    if "tryon" in rec:
        comp = rec.get("composition_mask")
        comp = np.zeros(rec["tryon"].shape[:2], np.float32) if comp is None else comp
        c = comp[..., None].astype(np.float32)
        out["tryon"] = _to_u8(c * _apply_colour(rec["tryon"], garment) + (1 - c) * _apply_colour(rec["tryon"], person))
    return out


def _random_colour(rng: np.random.Generator, cfg: AugmentConfig) -> tuple[np.ndarray, np.ndarray] | None:
    if rng.random() >= cfg.colour_p:
        return None
    u = rng.uniform(-1, 1, 4)
    return colour_matrix(1 + cfg.brightness * u[0], 1 + cfg.contrast * u[1], 1 + cfg.saturation * u[2],
                         cfg.hue * u[3])


# -------------------------------------------------------------------------------------- garment warp
def _tps_kernel(r2: np.ndarray) -> np.ndarray:
    """U(r) = r² log r² (Bookstein 1989), 0 at r = 0."""
    return np.where(r2 > 0, r2 * np.log(np.maximum(r2, 1e-12)), 0.0)


def tps_displacement(ctrl: np.ndarray, offsets: np.ndarray, *, lattice: int | None = 65, extent: float = 1.5):
    """Fit a thin-plate spline through control points and return its displacement function.

    Args:
        ctrl: (K, 2) control points (normalised units).
        offsets: (K, 2) displacement wanted at each control point.
        lattice: evaluate the spline once on a ``lattice × lattice`` grid over ``[-extent, extent]²`` and
            interpolate it bilinearly afterwards (the spline is smooth: for the jitter used here the error stays
            under 0.1 px at 256×192, and a whole field costs ~50× less); None = evaluate exactly.
        extent: half-width of the lattice; points outside read its border.

    Returns:
        ``f(points (..., 2)) -> (..., 2)`` the interpolated displacement (exact at the control points up to the
        lattice interpolation, minimal bending energy elsewhere, affine part included).
    """
    k = len(ctrl)
    d2 = ((ctrl[:, None] - ctrl[None]) ** 2).sum(-1)  # (K, K)
    p = np.concatenate([np.ones((k, 1)), ctrl], axis=1)  # (K, 3)
    a = np.zeros((k + 3, k + 3))
    a[:k, :k], a[:k, k:], a[k:, :k] = _tps_kernel(d2), p, p.T
    rhs = np.zeros((k + 3, 2))
    rhs[:k] = offsets
    coef = np.linalg.solve(a, rhs)  # (K+3, 2): K kernel weights, then affine (1, x, y)
    w, aff = coef[:k], coef[k:]

    def exact(points: np.ndarray) -> np.ndarray:
        shape = points.shape
        q = points.reshape(-1, 2).astype(np.float64)
        u = _tps_kernel(((q[:, None] - ctrl[None]) ** 2).sum(-1))  # (P, K)
        d = u @ w + aff[0] + q @ aff[1:]  # (P, 2)
        return d.reshape(shape)

    if lattice is None:
        return exact
    t = np.linspace(-extent, extent, lattice)
    field = exact(np.stack(np.meshgrid(t, t, indexing="xy"), -1)).astype(np.float32)  # (L, L, 2), rows = y
    scale = (lattice - 1) / (2 * extent)

    def interpolated(points: np.ndarray) -> np.ndarray:
        shape = points.shape
        q = points.reshape(-1, 2)
        n = len(q)
        cols = 1024  # cv2.remap wants maps under 32767 rows and columns
        q = np.concatenate([q, np.zeros((-n % cols, 2), q.dtype)]).reshape(-1, cols, 2)
        mx = ((q[..., 0] + extent) * scale).astype(np.float32)  # (R, cols) lattice column
        my = ((q[..., 1] + extent) * scale).astype(np.float32)
        d = cv2.remap(field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # (R, cols, 2)
        return d.reshape(-1, 2)[:n].reshape(shape).astype(np.float64)

    return interpolated


def garment_warp(rec: dict, scale: float, shift: tuple[float, float], tps_offsets: np.ndarray | None = None,
                 iterations: int = 10) -> dict:
    """Deform the garment image and compose the grid so that the warped garment is unchanged.

    The deformation ``D`` maps a location ``u`` of the new garment image to ``(u - shift) / scale + tps(u)``
    in the old one (normalised units, x then y); ``scale > 1`` enlarges the garment.

    Args:
        scale: zoom of the garment image.
        shift: (x, y) shift of the garment image, normalised units.
        tps_offsets: (n, n, 2) control-point displacements on an n×n lattice over [-0.8, 0.8]² (None: none).
        iterations: fixed-point iterations for ``D⁻¹`` (the error shrinks geometrically with the jitter's
            Lipschitz constant, ~0.1 for the default ranges).

    Returns:
        the new record: garment (white outside), garment_mask (0 outside) and grid (clipped to [-1, 1]).
    """
    gh, gw = (rec["garment"].shape[:2] if "garment" in rec else rec["garment_mask"].shape[:2])
    sx, sy = shift
    if tps_offsets is not None:
        n = tps_offsets.shape[0]
        t = np.linspace(-0.8, 0.8, n)
        ctrl = np.stack(np.meshgrid(t, t, indexing="xy"), -1).reshape(-1, 2)  # (n², 2) x, y
        tps = tps_displacement(ctrl, tps_offsets.reshape(-1, 2))
    else:
        def tps(points: np.ndarray) -> np.ndarray:
            return np.zeros_like(points, dtype=np.float64)
    shift_v = np.array([sx, sy])

    def forward(u: np.ndarray) -> np.ndarray:  # new garment location -> old garment location
        return (u - shift_v) / scale + tps(u)

    out = dict(rec)
    # Image side: sample the old garment at D(u) for every pixel centre u of the new image.
    xs = (np.arange(gw) * 2 + 1) / gw - 1
    ys = (np.arange(gh) * 2 + 1) / gh - 1
    u = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1)  # (Hg, Wg, 2)
    src = forward(u)
    map_x = ((src[..., 0] + 1) * gw / 2 - 0.5).astype(np.float32)
    map_y = ((src[..., 1] + 1) * gh / 2 - 0.5).astype(np.float32)
    if "garment" in rec:
        out["garment"] = cv2.remap(rec["garment"], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=(255, 255, 255))
    if "garment_mask" in rec:
        out["garment_mask"] = np.clip(cv2.remap(rec["garment_mask"].astype(np.float32), map_x, map_y,
                                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0), 0, 1)
    if "grid" in rec:
        # Grid values r are old garment locations; the new grid holds u with D(u) = r, i.e. the fixed point of
        # u = scale * (r - tps(u)) + shift.
        r = rec["grid"].astype(np.float64)
        u = scale * r + shift_v
        for _ in range(iterations):
            u = scale * (r - tps(u)) + shift_v
        out["grid"] = np.clip(u, -1, 1).astype(np.float32)
    return out


# -------------------------------------------------------------------------------------------- random
def augment_record(rec: dict, rng: np.random.Generator, cfg: AugmentConfig | None = None) -> dict:
    """Apply a random flip, person-frame zoom/shift, colour jitter and garment deformation (see
    :class:`AugmentConfig` for the ranges), drawing everything from ``rng``.

    Returns:
        a new record with the same fields, shapes and dtypes.
    """
    cfg = cfg or AugmentConfig()
    h, w = _size(rec)
    out = rec
    if rng.random() < cfg.flip_p:
        out = hflip(out)
    if rng.random() < cfg.affine_p:
        s = rng.uniform(*cfg.scale)
        dx, dy = rng.uniform(-cfg.shift, cfg.shift, 2) * (w, h)
        out = person_affine(out, s, dx, dy)
    pc, gc = _random_colour(rng, cfg), _random_colour(rng, cfg)
    if pc is not None or gc is not None:
        out = colour_jitter(out, pc, gc)
    if rng.random() < cfg.garment_p:
        s = rng.uniform(*cfg.garment_scale)
        shift = tuple(rng.uniform(-cfg.garment_shift, cfg.garment_shift, 2))
        n = cfg.tps_points
        offsets = rng.normal(0, cfg.tps_sigma, (n, n, 2)) if n >= 2 and cfg.tps_sigma > 0 else None
        out = garment_warp(out, s, shift, offsets)
    return dict(out) if out is rec else out
