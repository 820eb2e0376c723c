"""Skin synthesis where the old garment is removed: the person's own tone, the photo's lighting, skin texture.

A removed garment leaves a hole on the body that the new garment does not always cover (strappy tops, short
sleeves over old long ones, a lower neckline). Filling it with one skin colour gives a flat slab. Here the
filled skin is an intrinsic-image composite, as in classical relighting and skin retouching:

    skin(x) = albedo x light(x) x form(x) + c(x) + texture(x)

* ``albedo`` (:func:`skin_albedo`): the person's own skin colour where it faces the light, the median of
  the lit part of the visible body skin (arms, hands, neck, chest, of the face's hue; the face only when no
  other skin is seen).
* ``light`` (:func:`garment_light`): the photo's lighting on the body, estimated from the *old garment's*
  low-frequency luminance (the garment was lit by the same light as the skin under it): its luminance at a
  scale of ~0.1 shoulder widths over its own median, faded where the garment is printed or multi-coloured
  (brightness changes there are the print, not the light), weakened for patterned garments, clamped. The
  ratio-image idea of intrinsic-image relighting (Shashua & Riklin-Raviv, "The quotient image", PAMI 2001;
  used for garment shading by Yang et al., "Detailed Garment Recovery from a Single-View Image", 2016).
* ``form``: the body's shading as functions of its geometry (the arm cylinders' and the torso's falloff
  towards their outlines, the key light's side, the chin's shadow; see :mod:`tryon.teacher.compose`), each
  with a gain fitted on the person's own visible skin (:func:`fit_skin_shading`), times the contact shadow
  that the new garment's edges cast on the skin beside them (:func:`contact_shadow`).
* ``c`` (:func:`screened_poisson`): a seamless boundary correction. It is the solution of the screened
  Poisson equation (Δ - λ) c = 0 in the hole with c = photo - model on the visible skin around it and zero
  flux elsewhere, i.e. Poisson image editing (Pérez et al., "Poisson Image Editing", SIGGRAPH 2003) with the
  model's gradients as the guidance field and a screening term (Bhat et al., "GradientShop", TOG 2010) so
  the correction fades back to the model a decay length away from the visible skin.
* ``texture`` (:func:`skin_texture`): the person's own fine grain (pores, ~1 px of a 1024-px photo) copied
  in patches from their visible skin, and mottling (~4 px) as band-limited noise of the amplitude measured
  there, so the fill is as smooth or as grainy as the person's own skin.

The figures :func:`synthesized_share`, :func:`old_garment_share` and :func:`skin_tone_gap` summarise a result
for quality gating; :func:`skin_relief` measures how much shading a region of skin shows (a slab: little).
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["skin_albedo", "colour_groups", "garment_light", "screened_poisson", "skin_texture", "soft_upsample",
           "drop_textured", "fit_skin_shading", "contact_shadow", "skin_relief", "skin_tone_gap", "synthesized_share",
           "old_garment_share", "old_garment_remnant"]

LIGHT_CLAMP = (0.72, 1.12)
"""Range of the lighting multiplier on synthesised skin (deep shadows are clamped: the garment's own dark
folds are not the skin's)."""


TEXTURE_GAIN = 0.7
"""Synthesised skin texture relative to the measured one (a fill slightly smoother than the skin around it
reads as skin in shadow; a grainier one reads as sand)."""


def _nconv(x: np.ndarray, m: np.ndarray, sigma: float, fallback) -> np.ndarray:
    m = m.astype(np.float32)
    num = cv2.GaussianBlur(x * (m if x.ndim == 2 else m[..., None]), (0, 0), sigma).reshape(x.shape)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    if x.ndim == 3:
        den = den[..., None]
    return (num + np.asarray(fallback, np.float32) * 1e-3) / (den + 1e-3)


LIT_BAND = (50.0, 80.0)
"""Luminance percentiles of the visible skin whose median colour is the albedo: the skin's lit colour, not its
median (see :func:`skin_albedo`)."""

FACE_HUE_TOL = 6.0
"""CIELAB a*b* distance from the face's skin hue within which other skin-coloured pixels are taken as body
skin (a pink shirt, a beige wall in shade or a tan bag also pass the skin-colour test)."""


def skin_albedo(image: np.ndarray, skin: np.ndarray, face: np.ndarray | None, tone: np.ndarray) -> np.ndarray:
    """(3,) float32 RGB: the person's skin colour where it faces the light (its lit colour).

    The fill's model multiplies this colour by the body's form (darker towards the arms' and torso's sides) and
    the light measured on the old garment (1 on average): both already darken it where they should. The
    visible skin's plain median holds its own falloff and self-shadow (a neck under the chin, hands hanging at
    the sides, arms turned away), so filling with it darkened the chest twice and left it flat and darker than
    the face (wild-dev one-pieces). The colour here is the median of the skin pixels between the
    :data:`LIT_BAND` luminance percentiles: the skin's lit part, short of its specular highlights.

    Body skin is preferred (the face is often lit differently and carries make-up); when the face's skin is
    seen (30 pixels or more), body pixels further than :data:`FACE_HUE_TOL` from its hue (CIELAB a*b*
    median) are dropped as skin-coloured things that are not skin. The face is used when fewer than 40 other
    skin pixels remain.

    Args:
        image: (H, W, 3) uint8 RGB (or float32 in 0-255).
        skin: (H, W) bool visible skin (not in the hole).
        face: (H, W) bool face pixels, or None.
        tone: (3,) RGB fallback when fewer than 10 skin pixels are seen.

    Returns:
        (3,) float32 RGB, per-channel median of the chosen pixels.
    """
    if face is not None and (skin & face).sum() >= 30:
        lab = cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        hue = np.median(lab[skin & face][:, 1:], axis=0)
        skin = skin & ((np.linalg.norm(lab[..., 1:] - hue, axis=-1) <= FACE_HUE_TOL) | face)
    body = skin & ~face if face is not None else skin
    src = body if body.sum() >= 40 else skin
    if src.sum() < 10:
        return np.asarray(tone, np.float32)
    px = np.asarray(image, np.float32)[src].reshape(-1, 3)
    lum = px @ np.array([0.299, 0.587, 0.114], np.float32)
    lo, hi = np.percentile(lum, LIT_BAND)
    lit = (lum >= lo) & (lum <= hi)
    return np.median(px[lit] if lit.sum() >= 5 else px, axis=0).astype(np.float32)


LIGHT_GROUPS = 4
"""Most colour groups an old garment is split into for its light (:func:`colour_groups`)."""


def colour_groups(image: np.ndarray, region: np.ndarray, *, k: int = LIGHT_GROUPS, min_gap: float = 0.03,
                  ) -> np.ndarray:
    """(H, W) int32 colour group of each pixel of ``region`` (-1 outside), by chromaticity.

    The chromaticity (r, g) = (R, G) / (R + G + B) of an sRGB pixel does not change when the light on it is
    scaled (the scale, and a power-law gamma of it, cancel): the shading of one fabric stays in one group, a
    differently coloured block goes to another. k-means (OpenCV, k-means++ seeding, fixed seed) with ``k``
    groups; groups whose centres lie within ``min_gap`` of each other are merged (one plain fabric is one
    group). Near-black pixels (R + G + B < 60) have no reliable chromaticity and join their own group.

    Args:
        image: (H, W, 3) uint8 RGB.
        region: (H, W) bool pixels to group.
        k: most groups.
        min_gap: chromaticity distance under which two groups are one.

    Returns:
        (H, W) int32; -1 outside ``region``, group ids (not necessarily consecutive) inside.
    """
    out = np.full(region.shape, -1, np.int32)
    n = int(region.sum())
    if n == 0:
        return out
    px = image[region].astype(np.float32)
    tot = px.sum(axis=1)
    dark = tot < 60.0
    lab = np.zeros(n, np.int32)
    lab[dark] = k
    chroma = px[~dark, :2] / tot[~dark, None]
    if len(chroma) >= 2 * k:
        cv2.setRNGSeed(0)
        _, lbl, centres = cv2.kmeans(chroma, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-4),
                                     2, cv2.KMEANS_PP_CENTERS)
        lbl = lbl.ravel()
        # Merge close centres (union-find over the few groups).
        root = list(range(k))
        for i in range(k):
            for j in range(i + 1, k):
                if np.linalg.norm(centres[i] - centres[j]) < min_gap:
                    ri, rj = root[i], root[j]
                    root = [ri if r == rj else r for r in root]
        lab[~dark] = np.asarray(root, np.int32)[lbl]
    out[region] = lab
    return out


def garment_light(image: np.ndarray, region: np.ndarray, sw: float, *, strength: float = 0.7,
                  clamp: tuple[float, float] = LIGHT_CLAMP) -> np.ndarray:
    """(H, W) float32 lighting multiplier measured on the old garment, 1 on average over it.

    Args:
        image: (H, W, 3) uint8 RGB (a reduced-resolution copy is enough: the result is low-frequency).
        region: (H, W) bool where the old garment is seen (its lighting is measured there only).
        sw: shoulder width in pixels at this resolution (sets the scales: 0.1 sw for the light's detail).
        strength: fraction of the measured relative luminance applied.
        clamp: (lo, hi) range of the result.

    Returns:
        (H, W) float32; inside ``region`` the garment's low-frequency luminance relative to the median of its
        colour group (:func:`colour_groups`), faded where its colour departs from the group's median (prints),
        extended smoothly outside it, 1 far from it.
    """
    H, W = region.shape
    if region.sum() < 20:
        return np.ones((H, W), np.float32)
    lum = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    k = int(max(3, round(0.04 * sw))) | 1
    lum = cv2.medianBlur(lum, min(k, 5)).astype(np.float32) / 255.0
    # The offset keeps black garments' sheen and noise from reading as deep shadows.
    off = 0.12
    sig = max(1.5, 0.1 * sw)
    # Each of the garment's colours is its own reference: a colour-blocked shirt, a blazer over a shirt over
    # trousers. Against one median of them all, every block read as a print and the light was dropped (a flat
    # fill). The colours are told apart by their chromaticity, which the light does not change.
    groups = colour_groups(image, region)
    ref = np.ones((H, W), np.float32)
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    ab_ref = np.zeros((H, W, 2), np.float32)
    for g in np.unique(groups[region]):
        m = region & (groups == g)
        ref[m] = float(np.median(lum[m])) + off
        ab_ref[m] = np.median(lab[..., 1:][m], axis=0)
    ratio = _nconv((lum + off) / ref, region, sig, 1.0)
    dev = _nconv(np.linalg.norm(lab[..., 1:] - ab_ref, axis=-1), region, sig, 0.0)
    # Light changes brightness, not hue: where the garment's colour is off its group's it is a print.
    trust = np.clip(1.0 - (dev - 5.0) / 10.0, 0.0, 1.0)
    spread = float(np.std(ratio[region]))
    if spread > 0.12:          # strongly patterned overall (stripes, colour blocks): mostly not light
        strength *= 0.12 / spread
    light = 1.0 + strength * trust * (ratio - 1.0)
    # Outside the garment the light continues from its nearest measured part, fading to neutral.
    cover = cv2.GaussianBlur(region.astype(np.float32), (0, 0), sig)
    light = 1.0 + (light - 1.0) * np.clip(cover * 4.0, 0.0, 1.0)
    return np.clip(light, *clamp).astype(np.float32)


SHADING_PRIOR_WEIGHT = 40.0
"""Ridge weight of :func:`fit_skin_shading`'s priors, in (pixel x feature²) at the ~192-px working height: a
feature seen over fewer pixels than this (with values spread over [0, 1]) keeps mostly its prior."""


def fit_skin_shading(image: np.ndarray, albedo: np.ndarray, skin: np.ndarray, features: dict[str, np.ndarray],
                     prior: dict[str, tuple[float, float, float]]) -> dict[str, float]:
    """Fit how the person's visible skin darkens with the body's geometry: one log-gain per geometric feature.

    The visible skin's log luminance relative to the albedo's is modelled as c + Σ k_f feature_f (x), each
    feature a fixed function of the body's geometry in [0, 1] (the arm cylinder's falloff towards its outline,
    the torso's towards its sides, the chin's shadow on the neck...). c (the overall level, unpenalised)
    and the k_f are found by ridge regression (least squares with a Tikhonov term pulling each k_f to its prior,
    weight :data:`SHADING_PRIOR_WEIGHT`): where much skin is seen with the feature varying, its own shading is
    used (a softly lit person gets a soft falloff, a side-lit one a deep one); where little is, the prior.
    The shape-from-shading view of skin shading as a function of surface orientation (Horn, "Shape from
    shading", 1970; here the orientation is a fixed profile of the body's pose, only its gain is fitted).

    Args:
        image: (H, W, 3) RGB, uint8 or float32 in 0-255.
        albedo: (3,) RGB lit skin colour (:func:`skin_albedo`).
        skin: (H, W) bool visible skin to fit on (not the face: make-up and its own relief).
        features: name -> (H, W) float32 in [0, 1].
        prior: name -> (k0, lo, hi): the prior gain and the range the fitted one is clamped to (log units;
            negative: darker where the feature is 1).

    Returns:
        name -> fitted gain k_f (log units), for every name in ``features``.

    Raises:
        ValueError: when a feature has no prior or its shape differs from ``skin``'s.
    """
    names = list(features)
    for n in names:
        if n not in prior:
            raise ValueError(f"no prior for shading feature {n!r} (priors: {sorted(prior)})")
        if features[n].shape != skin.shape:
            raise ValueError(f"feature {n!r} has shape {features[n].shape}, skin {skin.shape}")
    k0 = np.array([prior[n][0] for n in names], np.float64)
    n_px = int(skin.sum())
    if n_px < 20:
        return {n: float(prior[n][0]) for n in names}
    w3 = np.array([0.299, 0.587, 0.114])
    lum = np.asarray(image, np.float64)[skin] @ w3
    y = np.log(np.maximum(lum, 4.0) / max(float(np.asarray(albedo, np.float64) @ w3), 4.0))
    X = np.stack([np.ones(n_px)] + [features[n][skin].astype(np.float64) for n in names], 1)
    lam = np.diag([0.0] + [SHADING_PRIOR_WEIGHT] * len(names))
    k = np.linalg.solve(X.T @ X + lam, X.T @ y + lam @ np.concatenate([[0.0], k0]))[1:]
    return {n: float(np.clip(k[i], prior[n][1], prior[n][2])) for i, n in enumerate(names)}


def contact_shadow(occluder: np.ndarray, length_px: float, depth: float) -> np.ndarray:
    """(H, W) float32 multiplier <= 1: the soft shadow a garment's edge casts on the skin beside it.

    A garment stands off the body and blocks part of the sky over the skin next to its edge (a neckline, a
    strap, a sleeve's hem): ambient occlusion (Zhukov et al., "An Ambient Light Illumination Model", EGWR
    1998), approximated by 1 - ``depth`` x exp(-d / ``length_px``) with d the distance to the occluder.

    Args:
        occluder: (H, W) bool or float (> 0.5 is the occluder).
        length_px: decay length, pixels (> 0).
        depth: darkening at the edge, in [0, 1).

    Returns:
        (H, W) float32, 1 - depth on the occluder's edge, towards 1 away from it (and 1 - depth under it: mask
        it out where the occluder is drawn).

    Raises:
        ValueError: on a non-positive ``length_px`` or ``depth`` outside [0, 1).
    """
    if length_px <= 0 or not 0.0 <= depth < 1.0:
        raise ValueError(f"length_px must be > 0 and depth in [0, 1), got {length_px}, {depth}")
    occ = np.asarray(occluder) > 0.5
    if not occ.any():
        return np.ones(occ.shape, np.float32)
    d = cv2.distanceTransform((~occ).astype(np.uint8), cv2.DIST_L2, 5)
    return (1.0 - depth * np.exp(-d / length_px)).astype(np.float32)


def screened_poisson(residual: np.ndarray, unknown: np.ndarray, known: np.ndarray, decay_px: float,
                     ) -> np.ndarray:
    """Diffuse ``residual`` from the ``known`` pixels into the ``unknown`` ones: (Δ - 1/decay²) c = 0.

    Args:
        residual: (H, W, C) float32 values on the ``known`` pixels (the boundary condition).
        unknown: (H, W) bool pixels to solve for (Dirichlet where a 4-neighbour is ``known``, zero flux at
            other neighbours and at the image border).
        known: (H, W) bool pixels whose value is fixed.
        decay_px: screening length in pixels (the correction falls by e⁻¹ per ``decay_px`` away from the known
            pixels in a straight corridor).

    Returns:
        (H, W, C) float32 correction, zero outside ``unknown``. A sparse LU solve (scipy.sparse); meant for a
        few ten thousand unknowns (run it at a reduced resolution).

    Raises:
        ValueError: on mismatched shapes or a non-positive ``decay_px``.
    """
    if residual.shape[:2] != unknown.shape or known.shape != unknown.shape:
        raise ValueError(f"shapes differ: residual {residual.shape}, unknown {unknown.shape}, known {known.shape}")
    if decay_px <= 0:
        raise ValueError(f"decay_px must be > 0, got {decay_px}")
    H, W = unknown.shape
    C = residual.shape[2]
    out = np.zeros((H, W, C), np.float32)
    unknown = unknown & ~known
    n = int(unknown.sum())
    if n == 0:
        return out
    idx = -np.ones((H, W), np.int64)
    ys, xs = np.nonzero(unknown)
    idx[ys, xs] = np.arange(n)
    diag = np.full(n, 1.0 / decay_px ** 2)
    rows, cols = [], []
    rhs = np.zeros((n, C), np.float64)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        qy, qx = ys + dy, xs + dx
        ok = (qy >= 0) & (qy < H) & (qx >= 0) & (qx < W)
        p = np.nonzero(ok)[0]
        qy, qx = qy[ok], qx[ok]
        qu = unknown[qy, qx]
        qk = known[qy, qx]
        diag[p[qu | qk]] += 1.0
        rows.append(p[qu])
        cols.append(idx[qy[qu], qx[qu]])
        np.add.at(rhs, p[qk], residual[qy[qk], qx[qk]].astype(np.float64))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    A = sp.csc_matrix((np.concatenate([diag, -np.ones(r.size)]),
                       (np.concatenate([np.arange(n), r]), np.concatenate([np.arange(n), c]))), shape=(n, n))
    sol = spla.splu(A).solve(rhs)
    out[ys, xs] = sol.astype(np.float32)
    return out


def _bands(lum: np.ndarray, s1: float, s2: float) -> tuple[np.ndarray, np.ndarray]:
    b1 = cv2.GaussianBlur(lum, (0, 0), s1)
    return lum - b1, b1 - cv2.GaussianBlur(lum, (0, 0), s2)


CALM_SHARE = 0.4
"""Share of the visible skin's patch positions (the calmest by their residual's energy) that
:func:`skin_texture` copies from."""


def _texture_patches(res: np.ndarray, src: np.ndarray, box: tuple[int, int, int, int], patch: int,
                     rng: np.random.Generator, want: np.ndarray) -> np.ndarray | None:
    """Overlap-add of random ``patch`` x ``patch`` windows of ``res`` whose every pixel is in ``src``, tiling
    ``box`` = (y0, y1, x0, x1) at half-patch strides where ``want`` (the box's pixels) has a pixel; None when
    fewer than 8 such windows exist."""
    H, W = src.shape
    half = patch // 2
    inside = cv2.boxFilter(src.astype(np.float32), -1, (patch, patch), normalize=True) > 0.999
    inside[:half] = inside[H - half:] = False
    inside[:, :half] = inside[:, W - half:] = False
    cy, cx = np.nonzero(inside)
    if len(cy) < 8:
        return None
    # Only the calmer part of the skin: windows holding a stray hair, a mole, a wrinkle or a fingers' gap
    # have more energy, and copied over a chest they read as scribbles.
    energy = cv2.boxFilter(res * res, -1, (patch, patch), normalize=True)[cy, cx]
    calm = energy <= np.percentile(energy, CALM_SHARE * 100)
    cy, cx = cy[calm], cx[calm]
    y0, y1, x0, x1 = box
    step = max(1, half)
    # sin² windows at half-patch strides: neighbouring weights overlap smoothly; dividing by the root of the
    # summed squared weights keeps the variance of the sum that of one patch (no dimming where they overlap).
    win1 = np.sin(np.pi * (np.arange(patch) + 0.5) / patch) ** 2
    win = np.outer(win1, win1).astype(np.float32)
    acc = np.zeros((y1 - y0 + half + patch, x1 - x0 + half + patch), np.float32)
    wsq = np.zeros_like(acc)
    pick = rng.integers(0, len(cy), size=((y1 - y0) // step + 2) * ((x1 - x0) // step + 2))
    flip = rng.random(pick.size) < 0.5
    # Tiles over none of the wanted pixels are skipped (an integral image counts them).
    cnt = cv2.integral(np.pad(want.astype(np.uint8), ((half, patch), (half, patch))))
    k = 0
    for ty in range(0, y1 - y0 + half, step):
        for tx in range(0, x1 - x0 + half, step):
            k += 1
            if cnt[ty + patch, tx + patch] - cnt[ty, tx + patch] - cnt[ty + patch, tx] + cnt[ty, tx] == 0:
                continue
            sy, sx = cy[pick[k - 1]] - half, cx[pick[k - 1]] - half
            p = res[sy:sy + patch, sx:sx + patch]
            acc[ty:ty + patch, tx:tx + patch] += win * (p[:, ::-1] if flip[k - 1] else p)
            wsq[ty:ty + patch, tx:tx + patch] += win * win
    out = acc / np.sqrt(np.maximum(wsq, 1e-6))
    return out[half:half + y1 - y0, half:half + x1 - x0]


def skin_texture(image: np.ndarray, skin: np.ndarray, region: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """(H, W) float32 luminance texture (in 0-255 units) for synthesised skin, zero outside ``region``.

    Two bands, as measured on the visible skin. The fine one (pores, grain: the residual of the skin's
    luminance over its normalised-convolution mean at σ = 1.6 px x H/1024, clipped at 3 robust σ against moles,
    stray hairs and outline pixels) is the person's own, resampled: copied in random square patches (0.024 H a
    side, mirrored at random) that lie wholly on the visible skin and are among its calmest
    (:data:`CALM_SHARE` of the positions, by the residual's energy), laid over ``region`` at half-patch strides
    with overlapping sin² windows. This is patch-based texture synthesis by random overlap-add, the
    non-optimised baseline of Efros & Freeman, "Image Quilting for Texture Synthesis and Transfer" (SIGGRAPH
    2001): it keeps the skin's own spectrum and anisotropy, which noise of a matched amplitude does not (white
    noise read as sand). Scaled by :data:`TEXTURE_GAIN`, and down to the robust amplitude below where the copy
    is grainier (a textured thing that passed as skin). The mottling band (σ1 to 4 σ1, σ1 = 0.8 px x H/1024)
    is band-limited noise scaled to :data:`TEXTURE_GAIN` x its robust amplitude on the visible skin (lower
    quartile of |band| / 0.319): copied, that band carried the streaks and blotches of whatever lay on the
    skin. Without a patch wholly on the visible skin, the fine band is such noise too. Seeded: reproducible.

    Args:
        image: (H, W, 3) uint8 RGB at full resolution.
        skin: (H, W) bool visible skin (eroded here by 2 px so its outline's edges are not measured).
        region: (H, W) bool where the texture is wanted.
        seed: random seed (patch choice, or the fallback's noise).

    Returns:
        (H, W) float32; zeros when fewer than 200 skin pixels are seen or ``region`` is empty.
    """
    H, W = region.shape
    out = np.zeros((H, W), np.float32)
    if not region.any():
        return out
    s1 = max(0.6, 0.8 * H / 1024)
    s2 = 4.0 * s1
    src_full = cv2.erode(skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if src_full.sum() < 200:
        return out
    x, y, w, h = cv2.boundingRect(region.astype(np.uint8))
    rng = np.random.default_rng(seed)
    lum_full = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    step = max(1, int(np.sqrt(H * W / 400_000)))
    src = src_full[::step, ::step]
    f1, f2 = _bands(lum_full[::step, ::step], s1 / step, s2 / step)
    # The lower quartile of |band| / 0.319 is the σ of a Gaussian band, robust to the eyes, lips, stubble and
    # outline pixels that the skin mask also holds (they only widen the upper tail).
    a1 = min(float(np.percentile(np.abs(f1[src]), 25)) / 0.319, 4.0) * TEXTURE_GAIN
    a2 = min(float(np.percentile(np.abs(f2[src]), 25)) / 0.319, 4.0) * TEXTURE_GAIN
    m = int(3 * s2) + 2
    y0, y1, x0, x1 = max(0, y - m), min(H, y + h + m), max(0, x - m), min(W, x + w + m)
    noise = rng.standard_normal((y1 - y0, x1 - x0)).astype(np.float32)
    n1, n2 = _bands(noise, s1, s2)
    tex = a2 * n2 / max(float(n2.std()), 1e-6)
    # The fine band (pores, grain) is the person's own: the residual of the skin's luminance over its
    # normalised-convolution mean at 2 σ1, clipped at 3 robust σ (moles, stray hairs, outline pixels).
    mk = skin.astype(np.float32)
    sf = 2.0 * s1
    res = lum_full - cv2.GaussianBlur(lum_full * mk, (0, 0), sf) / np.maximum(cv2.GaussianBlur(mk, (0, 0), sf), 1e-6)
    sig = float(np.percentile(np.abs(res[src_full]), 50)) / 0.674
    res = np.clip(res, -3.0 * sig, 3.0 * sig)
    fine = _texture_patches(res, src_full, (y0, y1, x0, x1), max(8, int(round(0.024 * H))), rng,
                            region[y0:y1, x0:x1])
    if fine is None:
        fine = a1 * n1 / max(float(n1.std()), 1e-6)
    else:
        # Never grainier than the skin's robust amplitude: patches of a textured thing that passed as skin (a
        # print, a tattoo, jewellery) would otherwise be copied at their own contrast.
        fine = TEXTURE_GAIN * fine
        sd = float(fine.std())
        if sd > a1 > 0:
            fine *= a1 / sd
    out[y0:y1, x0:x1] = tex + fine
    return out * region


def drop_textured(image: np.ndarray, skin: np.ndarray, reference: np.ndarray, sw: float, *,
                  ratio: float = 1.8, floor: float = 3.0) -> np.ndarray:
    """``skin`` without the pixels whose fine texture is much stronger than the person's reference skin.

    Colour alone cannot tell skin from a knit or tweed of a skin-like hue (a pink-brown sweater on a pale
    person): skin is smooth at the scale of a few pixels, fabric weave and prints are not. The texture energy
    is the local mean (Gaussian, σ = 0.03 shoulder widths) of |luminance - its 1 px blur|; a candidate is
    dropped when its energy exceeds ``ratio`` x the median energy on ``reference`` (the face's inner skin)
    and that median plus ``floor`` grey levels (sensor and JPEG noise).

    Args:
        image: (H, W, 3) uint8 RGB.
        skin: (H, W) bool candidate skin.
        reference: (H, W) bool pixels surely skin (the eroded face); fewer than 30: nothing is dropped.
        sw: shoulder width, pixels.
        ratio, floor: thresholds above.

    Returns:
        (H, W) bool, a subset of ``skin``.
    """
    if reference.sum() < 30 or not skin.any():
        return skin
    lum = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Both blurs are normalised convolutions over the candidates only: the outline between skin and what
    # borders it (hair, backdrop, garment) is an edge, not texture.
    hf = np.abs(lum - _nconv(lum, skin, 1.0, 0.0))
    energy = _nconv(hf, skin, max(1.0, 0.03 * sw), 0.0)
    ref = float(np.median(energy[reference & skin])) if (reference & skin).sum() >= 30 else float("inf")
    return skin & ~(energy > max(ratio * ref, ref + floor))


def soft_upsample(mask: np.ndarray, size: tuple[int, int], *, sigma: float = 1.0, ramp_px: float = 1.5,
                  ) -> np.ndarray:
    """Upsample a (binary or soft) low-resolution mask to an anti-aliased alpha at ``size`` = (W, H).

    The mask is smoothed at its own resolution (σ = ``sigma`` px rounds the pixel staircase into a curve: at
    σ = 1 a slanted edge upsampled 4x wobbles by under 1 output pixel, a nearest upsampling by 2-3;
    features under ~1.5 input pixels wide fade, so thin ones want a smaller σ),
    interpolated bilinearly, and its 0.5 level re-sharpened to a linear ramp about ``ramp_px`` output pixels
    wide: a smooth outline at the output resolution with fractional alpha along it, as a photographed edge
    has (a step would show stair steps; plain bilinear interpolation of a binary mask still shows them as
    blurred blocks).

    Args:
        mask: (h, w) bool or float in [0, 1].
        size: (W, H) output size in pixels (OpenCV order).
        sigma: smoothing at the input resolution, pixels.
        ramp_px: width of the edge ramp at the output resolution, pixels.

    Returns:
        (H, W) float32 in [0, 1].
    """
    W, H = size
    m = mask.astype(np.float32)
    f = max(H / m.shape[0], W / m.shape[1])
    if sigma > 0:
        m = cv2.GaussianBlur(m, (0, 0), sigma)
    if m.shape != (H, W):
        m = cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)
    # Slope of a blurred step at its 0.5 level is 1 / (σ √(2π)) per input pixel, i.e. that / f per output
    # pixel; the gain makes it 1 / ramp_px.
    gain = max(1.0, f * sigma * np.sqrt(2 * np.pi) / ramp_px) if sigma > 0 else 1.0
    if gain != 1.0:
        m *= np.float32(gain)
        m += np.float32(0.5 - 0.5 * gain)
    return cv2.min(cv2.max(m, 0.0), 1.0)


def synthesized_share(hole: np.ndarray, body: np.ndarray, shown: np.ndarray) -> float:
    """Share of the visible body that is synthesised skin: |hole ∩ body ∩ shown| / |body ∩ shown|.

    Args:
        hole: (H, W) bool filled pixels.
        body: (H, W) bool body silhouette (skin would be there without clothes).
        shown: (H, W) bool pixels not covered by the new garment.

    Returns:
        float in [0, 1] (0 when no body pixel is shown).
    """
    vis = body & shown
    n = int(vis.sum())
    return float((hole & vis).sum()) / n if n else 0.0


def skin_relief(image: np.ndarray, region: np.ndarray, sw: float) -> float:
    """How much shading ``region`` shows: the median gradient of its smoothed log luminance, per shoulder width.

    Skin on a body is never one flat tone: its shading (the limbs' and torso's roundness, the light's falloff,
    shadows under the chin and beside clothing) changes its brightness over a few hundredths of a shoulder
    width. A synthesised fill without it reads as a slab. The log luminance (so that the figure does not depend
    on how dark the skin is) is smoothed by a normalised convolution over ``region`` only (σ = 0.03 sw: the
    skin's grain and the outline's edge are left out), and the median of its gradient magnitude over the region's
    interior (eroded by 0.03 sw) is returned, in log units per shoulder width.

    Args:
        image: (H, W, 3) uint8 RGB.
        region: (H, W) bool skin pixels to measure.
        sw: shoulder width, pixels (> 0).

    Returns:
        float >= 0; NaN when the region's interior has fewer than 50 pixels.

    Raises:
        ValueError: on a non-positive ``sw``.
    """
    if sw <= 0:
        raise ValueError(f"sw must be > 0, got {sw}")
    k = max(3, int(round(0.06 * sw)) | 1)
    inner = cv2.erode(region.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    if inner.sum() < 50:
        return float("nan")
    lum = np.log(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) + 8.0)
    m = region.astype(np.float32)
    sig = max(1.0, 0.03 * sw)
    sm = cv2.GaussianBlur(lum * m, (0, 0), sig) / np.maximum(cv2.GaussianBlur(m, (0, 0), sig), 1e-4)
    gx = cv2.Sobel(sm, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(sm, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return float(np.median(np.hypot(gx, gy)[inner])) * sw


def skin_tone_gap(image: np.ndarray, synth: np.ndarray, real: np.ndarray) -> float:
    """CIELAB distance between the median colours of the synthesised and the photographed skin of a result.

    Synthesised skin of another tone than the person's own reads as painted on (pale strips for arms, an orange
    slab under a tanned neck), however well it is shaded. Medians per channel (robust to shadows and highlights).

    Args:
        image: (H, W, 3) uint8 RGB result.
        synth: (H, W) bool synthesised skin shown.
        real: (H, W) bool photographed body skin shown (not the face).

    Returns:
        float >= 0 (CIELAB units, L* 0-100); NaN when either region has fewer than 30 pixels.
    """
    if synth.sum() < 30 or real.sum() < 30:
        return float("nan")
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return float(np.linalg.norm(np.median(lab[synth], axis=0) - np.median(lab[real], axis=0)))


def old_garment_remnant(image: np.ndarray, old: np.ndarray, shown: np.ndarray, *, tol: float = 8.0,
                        samples: int = 3000) -> np.ndarray:
    """(H, W) bool: pixels of ``shown`` whose colour is one of the old garment's (its remnants left in view).

    The detected old garment gives the palette (up to ``samples`` of its pixels, CIELAB); a shown pixel
    within ``tol`` units of its nearest palette colour (scipy.spatial.cKDTree) is a remnant. This sees what
    the old-garment mask missed (a collar, a cuff, a strip along an arm) as long as it has the garment's
    colours.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        old: (H, W) bool detected old garment (the palette).
        shown: (H, W) bool pixels shown unchanged from the photo that could be clothing (e.g. the parse's
            torso, arm, neck and hand labels, not skin, not refilled, not under the new garment).
        tol: CIELAB distance.
        samples: palette size at most (a fixed seed).

    Returns:
        (H, W) bool, a subset of ``shown``.
    """
    from scipy.spatial import cKDTree

    out = np.zeros(old.shape, bool)
    if old.sum() < 20 or not shown.any():
        return out
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    px = lab[old]
    px = px[np.random.default_rng(0).choice(len(px), size=min(len(px), samples), replace=False)]
    d = cKDTree(px).query(lab[shown], k=1)[0]
    out[shown] = d < tol
    return out


def old_garment_share(old: np.ndarray, removed: np.ndarray, covered: np.ndarray) -> float:
    """Share of the old garment still visible in the result: |old ∖ (removed ∪ covered)| / |old|.

    Args:
        old: (H, W) bool the old garment as detected (grown to the parse's outline).
        removed: (H, W) bool pixels refilled (skin or background).
        covered: (H, W) bool pixels under the new garment (or other layers drawn over the old garment).

    Returns:
        float in [0, 1] (0 when there is no old garment). Old-garment pixels the detection missed are not
        counted: this is a lower bound.
    """
    n = int(old.sum())
    return float((old & ~removed & ~covered).sum()) / n if n else 0.0
