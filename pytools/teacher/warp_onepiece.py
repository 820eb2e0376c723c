"""One-piece warp: a dress's bodice like a top, its skirt (or a jumpsuit's legs) down to the hem, in one spline.

The bodice is warped exactly as a top (:func:`tryon.teacher.warp.warp_garment`: thin-plate spline for the
torso, arm-following maps for the sleeves) with its hem at the dress's waist (``category="dress"`` places it
between the natural waist and the hip joints). The skirt adds control points to the *same* thin-plate spline
(Bookstein 1989), so the bodice and the skirt are one smooth map and no seam can open at the waist:

* dress: the hem corners and centre at the garment's own length below the waist (scaled by the bodice's
  scale, ended at the ankles for a floor-length gown when the ankles are seen), its half-width the garment's own (the flare is kept),
  widened where the legs or the old skirt / trousers are wider; side points at 1/4, 1/2, 3/4 of the way from
  the waist to the hem corner on the garment's outline, their widths interpolated between the waist's and the
  hem's scale factors (an A-line stays an A-line, a pencil skirt stays straight); two centre-line points keep
  prints undistorted down the middle;
* jumpsuit: the crotch below the waist at the garment's proportion (kept within the hips' band), each leg's
  hem centred on that leg's bone chain hip -> knee -> ankle (BlazePose) at the garment's leg length, its
  outer and inner corners at the garment's leg width (at least the leg's width in the parse), and mid-leg
  points on the outer and inner seams; the gap between the garment's legs maps to the gap between the legs.

All positions are in the person's shoulder frame (:class:`tryon.person.body.BodyFrame`, sw = shoulder width);
the skirt hangs along the body's axis. The landmarks come from :func:`tryon.garment.landmarks_onepiece.
onepiece_landmarks`.
"""

from __future__ import annotations

import numpy as np

from tryon.errors import DataError
from tryon.garment.landmarks_onepiece import onepiece_mask, onepiece_sleeve, skirt_mask
from tryon.person.body import KP, BodyFrame
from tryon.teacher.warp import SIDE_FRACTIONS, WarpResult, _LabelCoords, _side_points, warp_garment

__all__ = ["warp_onepiece", "legs_in_view", "SKIRT_FRACTIONS"]

SKIRT_FRACTIONS = SIDE_FRACTIONS
"""Fractions of the waist-to-hem side seam where the skirt gets side control points."""

_LOWER = 9      # PARSE_LABELS lower_body (trousers, skirt, legs, shoes)
_REQUIRED = ("waist_left", "waist_right", "waist_center", "hem_left", "hem_right", "hem_center")


def _garment_frame(lm: dict[str, np.ndarray]):
    """The garment's frame: origin at the neck points' midpoint, u along the image's x axis towards the wearer's
    left, v down the image. In-shop photos show the garment upright; its shoulder line is not trusted for the
    axes (an uneven shoulder landmark would tilt the whole skirt)."""
    sl, sr = lm["shoulder_left"], lm["shoulder_right"]
    u = np.array([1.0 if sl[0] >= sr[0] else -1.0, 0.0])
    v = np.array([0.0, 1.0])
    o = np.array([0.5 * (lm["neck_left"][0] + lm["neck_right"][0]), 0.5 * (sl[1] + sr[1])])
    return lambda p: np.array([(np.asarray(p, float) - o) @ u, (np.asarray(p, float) - o) @ v])


def _leg_point(frame: BodyFrame, side: str, b: float) -> np.ndarray:
    """Frame coordinates of the point of ``side``'s bone chain hip -> knee -> ankle at frame height ``b``
    (extended straight past the ankle, clamped at the hip)."""
    pts = [frame.to_frame(frame.kp[f"{side}_{j}"]) for j in ("hip", "knee", "ankle")]
    if b <= pts[0][1]:
        return pts[0].copy()
    for p, q in zip(pts[:-1], pts[1:], strict=True):
        if p[1] <= b <= q[1] and q[1] - p[1] > 1e-6:
            return p + (b - p[1]) / (q[1] - p[1]) * (q - p)
    p, q = pts[-2], pts[-1]
    d = q - p
    return q + (b - q[1]) / max(d[1], 1e-6) * d


def _lower_half_width(lower: np.ndarray | None, b: float, sw: float, a0: float = 0.0,
                      aband: float | None = None) -> tuple[float, float] | None:
    """(left reach, right reach) of the lower-body parse at frame height b, around column a0 (frame units)."""
    if lower is None:
        return None
    return _LabelCoords.extent(lower, b=b, band=0.04 * sw, a=a0 if aband is not None else None,
                               aband=aband or 0.0)


def warp_onepiece(garment: np.ndarray, garment_mask: np.ndarray, landmarks: dict[str, tuple[float, float]],
                  keypoints: np.ndarray, out_shape: tuple[int, int], *, parse: np.ndarray | None = None,
                  sleeve: str | None = None, work_height: int = 256) -> WarpResult:
    """Warp an in-shop dress or jumpsuit onto a person (see the module docstring for the method).

    Args:
        garment: (h, w, 3) uint8 RGB in-shop photo.
        garment_mask: (h, w) float32 [0, 1] garment mask.
        landmarks: :func:`tryon.garment.landmarks_onepiece.onepiece_landmarks` output, garment pixels.
        keypoints: (33, 4) BlazePose keypoints of the person (x_px, y_px, z, visibility).
        out_shape: (H, W) of the person photo.
        parse: (H, W) uint8 PARSE_LABELS of the person, or None (keypoint rules only).
        sleeve: "none" drops the sleeves; otherwise (or None) short or long is read from the landmarks
            (:func:`tryon.garment.landmarks_onepiece.onepiece_sleeve`).
        work_height: the grid's working height (see :func:`tryon.teacher.warp.warp_garment`).

    Returns:
        :class:`tryon.teacher.warp.WarpResult` at ``out_shape``; its ``targets`` include ``skirt_hem_*``
        (dress) or ``crotch`` and ``leg_*`` (jumpsuit) besides the bodice's.

    Raises:
        DataError: a waist or hem landmark is missing (not a one-piece's landmarks), or a bodice landmark is.
    """
    missing = [k for k in _REQUIRED if k not in landmarks]
    if missing:
        raise DataError(f"one-piece landmarks are missing {', '.join(missing)}: the garment's outline could not "
                        "be read as a dress or a jumpsuit (photograph it flat, front view, whole)")
    lm = {k: np.asarray(v, np.float64) for k, v in landmarks.items()}
    # (a screenshot's bars, thumbnails and page fringe, a hanger: not drawn on the person)
    garment_mask = onepiece_mask(garment, garment_mask)
    if sleeve != "none":
        sleeve = onepiece_sleeve(lm)   # the classifier's sleeve type is read as for a top (see there)
    bodice = {k: v for k, v in lm.items() if not k.startswith(("hem_", "leg_", "waist_")) and k != "crotch"}
    for side in ("left", "right", "center"):
        bodice[f"hem_{side}"] = lm[f"waist_{side}"]
    gf = _garment_frame(lm)
    jumpsuit = "crotch" in lm and all(f"leg_{s}_{e}" in lm for s in ("left", "right") for e in ("outer", "inner"))
    image_right = lm["shoulder_left"][0] > lm["shoulder_right"][0]
    kp = np.asarray(keypoints, np.float32)
    ankles = kp[[KP["left_ankle"], KP["right_ankle"]]]
    ankles_seen = bool((ankles[:, 3] >= 0.5).all() and (ankles[:, 1] < out_shape[0]).all())

    def anchors(frame: BodyFrame, t: dict[str, np.ndarray], scale: float):
        sw = frame.sw
        lc = _LabelCoords(parse, frame) if parse is not None else None
        lower = lc.select((_LOWER,)) if lc is not None else None
        hip_b = frame.hips()[0]
        ankle_b = 0.5 * (frame.to_frame(frame.kp["left_ankle"])[1] + frame.to_frame(frame.kp["right_ankle"])[1])
        if not ankles_seen:
            # Ankles outside the photo or unseen (a waist-up photo): BlazePose's guess there is no floor for a
            # gown; the garment keeps its own length (and the gate's legs signal says what is missing).
            ankle_b = np.inf
        w_c = frame.to_frame(t["hem_center"])
        g_wc = gf(lm["waist_center"])
        src: list[np.ndarray] = []
        dst: list[np.ndarray] = []

        def add(name: str, p_frame: np.ndarray, g_px: np.ndarray) -> None:
            p = frame.to_img(float(p_frame[0]), float(p_frame[1]))
            t[name] = p
            src.append(p)
            dst.append(g_px)

        if not jumpsuit:
            g_hc = gf(lm["hem_center"])
            length = (g_hc[1] - g_wc[1]) * scale
            hem_b = float(np.clip(w_c[1] + length, w_c[1] + 0.3 * sw, max(ankle_b + 0.15 * sw, w_c[1] + 0.3 * sw)))
            f_len = (hem_b - w_c[1]) / max(length, 1e-6)   # < 1 when a gown is cut at the feet
            add("skirt_hem_center", np.array([0.0, hem_b]), lm["hem_center"])
            # Centre line: affine down the middle (prints stay straight).
            for f in (1 / 3, 2 / 3):
                add(f"skirt_center_{f:.2f}", np.array([0.0, w_c[1] + f * (hem_b - w_c[1])]),
                    lm["waist_center"] + f * (lm["hem_center"] - lm["waist_center"]))
            for side, sgn in (("left", 1.0), ("right", -1.0)):
                g_w, g_h = gf(lm[f"waist_{side}"]), gf(lm[f"hem_{side}"])
                p_w = frame.to_frame(t[f"hem_{side}"])
                k_w = abs(p_w[0]) / max(abs(g_w[0]), 1e-6)        # the waist's own scale across
                a_h = abs(g_h[0]) * scale
                b_h = hem_b + float(np.clip((g_h[1] - g_hc[1]) * scale * f_len, -0.15 * sw, 0.05 * sw))
                ext = _lower_half_width(lower, b_h, sw)
                if ext is not None:
                    # Cover the legs (or the old skirt / trousers) at the hem, up to a third more than the cut.
                    edge = ext[1] if sgn > 0 else -ext[0]
                    a_h = float(np.clip(edge + 0.03 * sw, a_h, 1.35 * a_h))
                k_h = a_h / max(abs(g_h[0]), 1e-6)
                add(f"skirt_hem_{side}", np.array([sgn * a_h, b_h]), lm[f"hem_{side}"])
                g_side = _side_points(garment_mask, lm[f"waist_{side}"], lm[f"hem_{side}"], np.array(SKIRT_FRACTIONS),
                                      sgn if image_right else -sgn)
                for f, g in zip(SKIRT_FRACTIONS, g_side, strict=True):
                    gq = gf(g)
                    k = k_w + f * (k_h - k_w)
                    b = p_w[1] + (gq[1] - g_w[1]) / max(g_h[1] - g_w[1], 1e-6) * (b_h - p_w[1])
                    a = abs(gq[0]) * k
                    ext = _lower_half_width(lower, b, sw)
                    if ext is not None and b > hip_b - 0.2 * sw:
                        edge = ext[1] if sgn > 0 else -ext[0]
                        a = float(np.clip(edge + 0.02 * sw, a, 1.3 * a))
                    add(f"skirt_side_{side}_{f:.2f}", np.array([sgn * a, b]), g)
            return src, dst

        # Jumpsuit: crotch, then each leg along its bone chain.
        g_cr = gf(lm["crotch"])
        cr_b = float(np.clip(w_c[1] + (g_cr[1] - g_wc[1]) * scale, hip_b - 0.1 * sw, hip_b + 0.45 * sw))
        add("crotch", np.array([0.0, cr_b]), lm["crotch"])
        for side, sgn in (("left", 1.0), ("right", -1.0)):
            g_o, g_i = gf(lm[f"leg_{side}_outer"]), gf(lm[f"leg_{side}_inner"])
            length = (0.5 * (g_o[1] + g_i[1]) - g_cr[1]) * scale
            b_hem = float(np.clip(cr_b + length, cr_b + 0.3 * sw, max(ankle_b + 0.1 * sw, cr_b + 0.3 * sw)))
            half = 0.5 * abs(g_o[0] - g_i[0]) * scale
            centre = _leg_point(frame, side, b_hem)
            ext = _lower_half_width(lower, b_hem, sw, a0=float(centre[0]), aband=0.4 * sw)
            if ext is not None:
                half = float(np.clip(0.5 * (ext[1] - ext[0]) + 0.02 * sw, half, 1.4 * half))
            add(f"leg_{side}_outer", np.array([centre[0] + sgn * half, b_hem]), lm[f"leg_{side}_outer"])
            add(f"leg_{side}_inner", np.array([centre[0] - sgn * half, b_hem]), lm[f"leg_{side}_inner"])
            # Mid-leg: the outer seam from the waist corner and the inner seam from the crotch, halfway down.
            out_dir = sgn if image_right else -sgn
            g_out = _side_points(garment_mask, lm[f"waist_{side}"], lm[f"leg_{side}_outer"], np.array([0.5]),
                                 out_dir)[0]
            g_in = _side_points(garment_mask, lm["crotch"], lm[f"leg_{side}_inner"], np.array([0.5]), -out_dir)[0]
            p_w = frame.to_frame(t[f"hem_{side}"])
            b_mid = 0.5 * (p_w[1] + b_hem)
            c_mid = _leg_point(frame, side, b_mid)
            hw = max(half, 0.5 * abs(gf(g_out)[0] - gf(g_in)[0]) * scale)
            add(f"leg_{side}_mid_outer", np.array([c_mid[0] + sgn * hw, b_mid]), g_out)
            b_in = 0.5 * (cr_b + b_hem)
            c_in = _leg_point(frame, side, b_in)
            add(f"leg_{side}_mid_inner", np.array([c_in[0] - sgn * half, b_in]), g_in)
        return src, dst

    return warp_garment(garment, garment_mask, bodice, keypoints, out_shape, parse=parse, sleeve=sleeve,
                        category="dress", work_height=work_height, extra_anchors=anchors,
                        torso_mask=skirt_mask(garment_mask, tuple(lm["waist_center"])))


def legs_in_view(targets: dict[str, np.ndarray], keypoints: np.ndarray, height: int, *,
                 bottom: bool = False) -> float:
    """Share of a one-piece's length on the body that the photo shows: from the waist down to the lowest hem
    target (dress hem corners and centre, jumpsuit leg hems), measured along the body's axis, the part above
    the photo's bottom edge. A photo whose hem falls below its bottom edge gives under 1, unless the legs leave
    the photo through that edge (``bottom``, and the ankles not both seen inside the photo): a mirror selfie or a
    photo cut at the thighs or shins is dressed down to its edge, as hosted try-on services show it
    (``docs/teacher-onepieces.md``), and the part below is the photo's frame, not legs missing.

    Args:
        targets: :attr:`tryon.teacher.warp.WarpResult.targets` of :func:`warp_onepiece` (person pixels).
        keypoints: (33, 4) BlazePose keypoints (for the body's axis).
        height: the photo's height, pixels.
        bottom: the person reaches the photo's bottom edge (:func:`tryon.framing.bottom_cut`).

    Returns:
        a share in [0, 1] (1 when the targets have no hem below the waist, or when the legs leave the photo
        through its bottom edge).
    """
    from tryon.person.body import body_frame

    ankles = np.asarray(keypoints, np.float32)[[KP["left_ankle"], KP["right_ankle"]]]
    if bottom and not bool((ankles[:, 3] >= 0.5).all() and (ankles[:, 1] < height).all()):
        return 1.0
    frame = body_frame(keypoints)
    hems = [np.asarray(v, float) for k, v in targets.items() if k.startswith(("skirt_hem_", "leg_")) and
            not k.endswith(("mid_outer", "mid_inner"))]
    if not hems or "hem_center" not in targets:
        return 1.0
    waist = frame.to_frame(np.asarray(targets["hem_center"], float))[1]
    low = max(hems, key=lambda p: frame.to_frame(p)[1])
    length = frame.to_frame(low)[1] - waist
    if length <= 1e-6:
        return 1.0
    # Where the body's axis through the lowest hem point crosses the photo's bottom edge.
    w_img = frame.to_img(0.0, waist)
    bottom = float(height - 1)
    if low[1] <= bottom:
        return 1.0
    f = (bottom - w_img[1]) / max(low[1] - w_img[1], 1e-6)
    return float(np.clip(f, 0.0, 1.0))
