"""Landmarks of a front-view lower-body garment (trousers, jeans, shorts, skirt) from its mask.

A flat-lay bottom is read from its silhouette alone (:func:`tryon.garment.landmarks.analyse_shape` normalises
the mask): the waistband is the top edge, its corners the ends of the first rows; trousers and shorts have a
background gap between the legs rising from the bottom edge, whose top is the crotch; each leg's hem is the
run of its lowest rows (outer and inner end). A garment with no such gap is a skirt: its hem is the bottom
edge. These are the lower-body counterparts of the top's landmarks (the keypoints of DeepFashion2's trousers,
shorts and skirt classes: waistband corners and centre, crotch, leg openings; Ge et al., CVPR 2019), found by
hand-written rules on the outline instead of a network.

Left/right are the wearer's: ``hem_left_*`` is the wearer's left leg, on the image's right in a front view, as
BlazePose's ``left_hip``.
"""

from __future__ import annotations

import numpy as np

from tryon.garment.landmarks import ShapeAnalysis, analyse_shape

__all__ = ["LEG_LANDMARKS", "SKIRT_LANDMARKS", "lower_landmarks", "is_skirt", "leg_gap_top"]

LEG_LANDMARKS: tuple[str, ...] = ("waist_left", "waist_right", "waist_center", "crotch", "hem_left_outer",
                                  "hem_left_inner", "hem_right_outer", "hem_right_inner")
"""Landmarks of trousers, jeans and shorts (two legs)."""
SKIRT_LANDMARKS: tuple[str, ...] = ("waist_left", "waist_right", "waist_center", "hem_left", "hem_right",
                                    "hem_center")
"""Landmarks of a skirt (no legs): the waistband and the hem line's ends and centre."""

MIN_GAP = 0.12
"""Shortest leg gap, as a fraction of the garment's height, that makes two legs (shorts have short legs);
a shorter notch at the bottom centre is a skirt's slit or a pleat."""
_CENTRE_BAND = 0.3
"""The gap between the legs must lie within this fraction of the width either side of the centre line."""
_EDGE_ROWS = 0.02
"""Rows this far (fraction of the height) inside the top and bottom edges give the corners (the edge rows
themselves are ragged)."""


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) inclusive of each run of True in a 1-D bool row."""
    d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def leg_gap_top(sa: ShapeAnalysis) -> tuple[float, float] | None:
    """The crotch: the top of the background gap between two legs, rising from the bottom edge.

    Rows are scanned upwards from the lowest row that has two runs with a gap near the centre line (legs may
    touch at the ankles or flare apart); the gap's top is the last such row, its x the gap's middle there.

    Args:
        sa: the garment's :class:`ShapeAnalysis` (working-scale mask).

    Returns:
        (x, y) working-scale pixels, or None when no gap of at least :data:`MIN_GAP` of the height exists.
    """
    m = sa.mask
    h = sa.bottom - sa.top + 1
    width = sa.right - sa.left + 1
    cx = sa.cx
    band = _CENTRE_BAND * width

    def gap_in(y: int) -> tuple[float, float] | None:
        runs = _runs(m[y])
        best = None
        for (_a0, a1), (b0, _b1) in zip(runs[:-1], runs[1:], strict=True):
            mid = 0.5 * (a1 + b0)
            if abs(mid - cx) <= band and (best is None or abs(mid - cx) < abs(best[0] - cx)):
                best = (mid, float(b0 - a1 - 1))
        return best

    start = None
    for y in range(sa.bottom, sa.top + int(0.3 * h), -1):
        if gap_in(y) is not None:
            start = y
            break
        if y < sa.bottom - 0.4 * h:
            break
    if start is None:
        return None
    y = start
    x = gap_in(y)[0]
    while y - 1 > sa.top + 0.1 * h:
        g = gap_in(y - 1)
        if g is None or abs(g[0] - x) > 0.1 * width:
            break
        y -= 1
        x = g[0]
    if start - y + 1 < MIN_GAP * h:
        return None
    return x, float(y - 0.5)


def _row_extent(m: np.ndarray, y: int) -> tuple[int, int]:
    xs = np.nonzero(m[y])[0]
    return int(xs.min()), int(xs.max())


def _landmarks_work(sa: ShapeAnalysis) -> dict[str, tuple[float, float]]:
    m = sa.mask
    h = sa.bottom - sa.top + 1
    e = max(1, int(round(_EDGE_ROWS * h)))
    yw = sa.top + e
    x0, x1 = _row_extent(m, yw)
    ci = int(round(sa.cx))
    col = np.nonzero(m[:, min(max(ci, 0), m.shape[1] - 1)])[0]
    top_c = float(col.min()) if len(col) else float(sa.top)
    pts: dict[str, tuple[float, float]] = {
        "waist_right": (float(x0), float(yw)), "waist_left": (float(x1), float(yw)),
        "waist_center": (float(sa.cx), top_c)}
    crotch = leg_gap_top(sa)
    if crotch is None:
        yh = sa.bottom - e
        h0, h1 = _row_extent(m, yh)
        bottom_c = float(col.max()) if len(col) else float(sa.bottom)
        pts.update(hem_right=(float(h0), float(yh)), hem_left=(float(h1), float(yh)),
                   hem_center=(float(sa.cx), bottom_c))
        return pts
    pts["crotch"] = crotch
    cxg = crotch[0]
    for side, sel in (("right", lambda xs: xs < cxg), ("left", lambda xs: xs > cxg)):
        ys, xs = np.nonzero(m[int(crotch[1]) + 1:, :])
        ys = ys + int(crotch[1]) + 1
        mine = sel(xs)
        yb = int(ys[mine].max()) - e
        row = np.nonzero(m[yb])[0]
        row = row[sel(row)]
        outer = float(row.min() if side == "right" else row.max())
        inner = float(row.max() if side == "right" else row.min())
        pts[f"hem_{side}_outer"] = (outer, float(yb))
        pts[f"hem_{side}_inner"] = (inner, float(yb))
    return pts


def lower_landmarks(image: np.ndarray | None, mask: np.ndarray) -> dict[str, tuple[float, float]]:
    """Landmarks of a front-view lower-body garment from its mask.

    Args:
        image: (H, W, 3) uint8 RGB garment photo (unused for now: the silhouette carries the landmarks; kept for
            the signature of :func:`tryon.garment.landmarks.garment_landmarks`), or None.
        mask: (H, W) float32 [0, 1] garment mask (e.g. :func:`tryon.garment.mask.garment_mask`), waistband up.

    Returns:
        dict name -> (x, y) image pixels (floats): :data:`LEG_LANDMARKS` for trousers, jeans and shorts (a gap
        between the legs), :data:`SKIRT_LANDMARKS` otherwise. ``*_left`` is the wearer's left = image right.

    Raises:
        ValueError: the mask is empty.
    """
    sa = analyse_shape(mask)
    pts = _landmarks_work(sa)
    inv = 1.0 / sa.scale
    return {k: (float((x + 0.5) * inv - 0.5), float((y + 0.5) * inv - 0.5)) for k, (x, y) in pts.items()}


def is_skirt(landmarks: dict[str, tuple[float, float]]) -> bool:
    """True for a skirt's landmarks (no crotch), False for trousers / shorts."""
    return "crotch" not in landmarks
