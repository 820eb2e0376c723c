"""Fill the holes the geometric teacher leaves with a small learned inpainting network.

The teacher uncovers skin and background it has no pixels for (an arm under a shorter new sleeve, the chest
under a lower neckline, slivers where the old garment was wider). Classical fills there look like
"mannequin arms" (``docs/teacher-prototype.md``); :class:`Refiner` runs the self-supervised
inpainting U-Net of ``tryon.models.teacher_refine`` (trained by ``tryon.train.refine``) instead.

Full-resolution inference, in four steps:

1. Crop the hole's bounding box with context and resize it so that the person appears at a scale the
   network was trained at (training saw an upper-body photo at 128–233 px tall; inference uses 192 px, i.e.
   5.3 image pixels per network pixel for a 1024 px photo: sharper than 128 px, still in distribution).
2. Run the network on the masked crop, the hole mask and a skin/background hint from the parse map.
3. Composite the fill with the known pixels at network resolution and upsample it (the upsampled edge then
   mixes fill and neighbours: no colour step at the seam), and add photographic grain matched to the robust
   high-frequency level just outside the hole, so that the fill is not smoother than the photo around it.
4. Blend inside the hole only, with a short feather from the hole's edge inward: every pixel outside the
   hole is returned unchanged.

Opt-in (``Teacher(refine=True)``, ``tryon run --refine``), for tops and one-pieces only: on a side-by-side
against the classical synthesised skin (``tryon.teacher.skin``) over 64 dressed wild-dev, econ-icon and
evaluation pairs it was better on 7, worse on 3 and indistinguishable on 54, at about 0.35 s more per photo, so
it did not become the default (``models/weights/teacher_refine.md``, "Side-by-side against the synthesised skin").
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from tryon.errors import DataError, MissingModelError

__all__ = ["Refiner", "default_weights_path", "hint_from_parse", "skin_mask"]

# In a teacher hole (uncovered by the old garment, not covered by the new one) "torso" means bare torso skin
# (chest, midriff): the old garment is gone. Reference tone comes from skin that is visible as skin.
_SKIN_LABELS = (2, 3, 4, 5, 6, 7, 8)    # face, neck, torso, arms, hands (PARSE_LABELS)
_REF_LABELS = (2, 3, 5, 6, 7, 8)        # face, neck, arms, hands
_NONSKIN_LABELS = (0,)                  # background
_NET_PX_PER_PHOTO = 192.0               # network pixels across an upper-body photo's height at inference


def default_weights_path() -> Path:
    """``tryon/models/weights/teacher_refine.pt`` (shipped with the package)."""
    import tryon.models

    return Path(tryon.models.__file__).resolve().parent / "weights" / "teacher_refine.pt"


def skin_mask(image: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels by the YCrCb rule of Chai & Ngan (IEEE TCSVT 1999), widened a little for studio light.

    Args:
        image: (H, W, 3) uint8 RGB.

    Returns:
        (H, W) bool.
    """
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    return (y > 40) & (cr >= 135) & (cr <= 175) & (cb >= 80) & (cb <= 135)


def hint_from_parse(parse: np.ndarray | None, hole: np.ndarray) -> np.ndarray:
    """The network's hint channel from a parse map.

    Args:
        parse: (H, W) uint8 ``PARSE_LABELS`` of the *result* layout (what the hole should show), or None.
        hole: (H, W) bool.

    Returns:
        (H, W) float32: +1 where the hole should show skin (face, neck, torso, arms, hands: a teacher hole
        is where the old garment was removed, so torso there is bare skin), -1 where it should show background,
        0 elsewhere (hair, lower body) and outside the hole.
    """
    hint = np.zeros(hole.shape, np.float32)
    if parse is None:
        return hint
    hint[np.isin(parse, _SKIN_LABELS) & hole] = 1.0
    hint[np.isin(parse, _NONSKIN_LABELS) & hole] = -1.0
    return hint


class Refiner:
    """Learned hole filling for the teacher.

    Args:
        weights: path of the exported weights (``tryon.train.refine.export_weights``); None = the shipped
            ``tryon/models/weights/teacher_refine.pt``.
        feather_px: width in pixels of the blend ramp inside the hole's edge.
        grain: strength of the added grain relative to the grain measured around the hole (0 = none).
        tone_match: 0..1, how far the colour of hole pixels that should be skin (parse given) is moved to the
            person's visible skin colour (1 = fully).

    Raises:
        MissingModelError: the weights file does not exist or cannot be read.
    """

    def __init__(self, weights: str | os.PathLike | None = None, *, feather_px: float = 1.5, grain: float = 0.4,
                 tone_match: float = 1.0):
        import torch

        from tryon.models import create_model

        path = Path(weights) if weights is not None else default_weights_path()
        if not path.is_file():
            raise MissingModelError(
                f"refiner weights not found: {path}. Train them with `tryon teacher train-refine --out DIR "
                f"--export {path}` (or pass Teacher(refine=False) to skip the learned fill)")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
            arch = {k: tuple(v) if isinstance(v, list) else v for k, v in obj["arch"].items()}
            model = create_model(obj["variant"], **arch)
            model.load_state_dict({k: v.float() for k, v in obj["state_dict"].items()})
        except Exception as exc:  # noqa: BLE001  any unreadable file is the same user problem
            raise MissingModelError(f"refiner weights {path} are unreadable or do not match the model: {exc}") \
                from exc
        self.model = model.eval()
        self.stride = model.stride
        self.train_size = tuple(obj.get("train_size", (128, 96)))
        self.feather_px = float(feather_px)
        self.grain = float(grain)
        self.tone_match = float(np.clip(tone_match, 0.0, 1.0))
        self.weights_path = path
        # A fixed grain tile (unit variance, slightly blurred like sensor noise after demosaicing).
        noise = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
        self._noise = noise / noise.std()

    # ------------------------------------------------------------------------------------------ helpers
    def _net_scale(self, shape: tuple[int, int]) -> float:
        """Image pixels per network pixel: the photo's height maps to ~``_NET_PX_PER_PHOTO`` network px."""
        return max(1.0, shape[0] / _NET_PX_PER_PHOTO)

    def _crop_box(self, hole: np.ndarray, k: float) -> tuple[int, int, int, int]:
        """Hole bbox + context (≥ 24 network pixels a side), clipped to the image: (y0, y1, x0, x1)."""
        h, w = hole.shape
        ys, xs = np.nonzero(hole.any(1))[0], np.nonzero(hole.any(0))[0]
        y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
        margin_y = max(24 * k, 0.35 * (y1 - y0))
        margin_x = max(24 * k, 0.35 * (x1 - x0))
        return (int(max(0, y0 - margin_y)), int(min(h, y1 + margin_y)),
                int(max(0, x0 - margin_x)), int(min(w, x1 + margin_x)))

    def _run_net(self, crop: np.ndarray, hole: np.ndarray, hint: np.ndarray, k: float) -> np.ndarray:
        """Network fill of a crop, composited with the known pixels at network resolution and upsampled.

        Returns:
            (h, w, 3) uint8 RGB at the crop's resolution (meaningful inside the hole).
        """
        import torch

        ch, cw = hole.shape
        s = self.stride
        nh = max(s * 4, int(math.ceil(ch / k / s)) * s)
        nw = max(s * 3, int(math.ceil(cw / k / s)) * s)
        img_n = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
        # Any network pixel that touches the hole is a hole pixel: no old-garment colour leaks in.
        hole_n = cv2.resize(hole.view(np.uint8) * np.uint8(255), (nw, nh), interpolation=cv2.INTER_AREA) > 0
        hint_n = cv2.resize(hint, (nw, nh), interpolation=cv2.INTER_NEAREST) * hole_n
        x = torch.from_numpy(img_n.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0)
        m = torch.from_numpy(hole_n.astype(np.float32)[None, None])
        hn = torch.from_numpy(hint_n.astype(np.float32)[None, None])
        with torch.inference_mode():
            pred = self.model(x, m, hn)[0].numpy().transpose(1, 2, 0)
        pred = (pred + 1.0) * 127.5
        # Composite at network resolution before upsampling: near the hole's edge the upsampled values then mix
        # the fill with the (downsampled) known neighbours, which gives a seam-free transition at full size.
        # (A boundary colour correction that diffuses the ring's mismatch inward was tried and dropped: a hidden
        # arm borders background and garment, not skin, and was pulled towards their colours.)
        pred = np.where(hole_n[..., None], pred, img_n.astype(np.float32))
        # uint8 bilinear upsampling is several times faster than float cubic and loses nothing visible.
        pred8 = np.clip(pred + 0.5, 0, 255).astype(np.uint8)
        return cv2.resize(pred8, (cw, ch), interpolation=cv2.INTER_LINEAR)

    def _match_skin_tone(self, vals: np.ndarray, image: np.ndarray, hole: np.ndarray,
                         parse: np.ndarray) -> np.ndarray:
        """Move the skin fill's colour statistics (CIE Lab, robust mean and spread) to the person's own skin.

        The network gets the shading and shape of an arm right more reliably than its tone, which it has to
        guess from whatever skin is in the crop; the person's visible skin elsewhere (face, neck, hands:
        parse label and skin-colour rule agree) fixes it — Reinhard et al., "Color Transfer between Images",
        IEEE CG&A 2001, with medians and MADs instead of means and standard deviations.
        """
        ref = np.isin(parse, _REF_LABELS) & ~hole
        strict = ref & skin_mask(image)
        ref = strict if strict.sum() >= 50 else ref
        if ref.sum() < 50:
            return vals
        px = image[ref]
        if len(px) > 20000:
            px = px[:: len(px) // 20000]
        ref_lab = cv2.cvtColor(px.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
        fill8 = np.clip(vals + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3)
        lab = cv2.cvtColor(fill8, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
        mu_r, mu_f = np.median(ref_lab, 0), np.median(lab, 0)
        sd_r = 1.4826 * np.median(np.abs(ref_lab - mu_r), 0) + 1.0
        sd_f = 1.4826 * np.median(np.abs(lab - mu_f), 0) + 1.0
        # Keep the network's own shading (L spread, never amplified), take the person's tone (medians of L, a,
        # b), and clamp outliers: next to dark clothes the network bleeds their darkness into the skin.
        gain = np.clip(sd_r / sd_f, [0.5, 0.5, 0.5], [1.0, 1.2, 1.2])
        new = (lab - mu_f) * gain + mu_r
        lim = np.array([2.5, 2.0, 2.0], np.float32) * sd_r
        new = np.clip(new, mu_r - lim, mu_r + lim)
        new8 = np.clip(new + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3)
        matched = cv2.cvtColor(new8, cv2.COLOR_LAB2RGB).reshape(-1, 3).astype(np.float32)
        return vals * (1 - self.tone_match) + matched * self.tone_match

    # --------------------------------------------------------------------------------------------- call
    def __call__(self, image: np.ndarray, hole: np.ndarray, parse: np.ndarray | None = None) -> np.ndarray:
        """Fill ``hole`` in ``image``.

        Args:
            image: (H, W, 3) uint8 RGB photo (the teacher's composite; pixels inside the hole are ignored).
            hole: (H, W) bool (or float, > 0.5 = hole): pixels to repaint.
            parse: optional (H, W) uint8 ``PARSE_LABELS`` (the person's parse); face/neck/torso/arms/hands
                inside the hole ask for skin in the person's tone, background for background. Without it the
                network guesses from the surroundings, which for large holes gives blurry continuations.

        Returns:
            (H, W, 3) uint8 RGB, identical to ``image`` outside the hole.

        Raises:
            DataError: shapes or dtypes do not match the conventions above.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise DataError(f"Refiner expects an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
        if hole.shape != image.shape[:2]:
            raise DataError(f"hole {hole.shape} does not match the image {image.shape[:2]}")
        if parse is not None and parse.shape != image.shape[:2]:
            raise DataError(f"parse {parse.shape} does not match the image {image.shape[:2]}")
        hole = hole > 0.5 if hole.dtype != bool else hole
        out = image.copy()
        if not hole.any():
            return out
        k = self._net_scale(image.shape[:2])
        y0, y1, x0, x1 = self._crop_box(hole, k)
        crop = image[y0:y1, x0:x1]
        hole_c = hole[y0:y1, x0:x1]
        hint_c = hint_from_parse(None if parse is None else parse[y0:y1, x0:x1], hole_c)
        fill = self._run_net(crop, hole_c, hint_c, k)
        ys, xs = np.nonzero(hole_c)
        vals = fill[ys, xs].astype(np.float32)                               # (n, 3)
        if parse is not None and self.tone_match > 0:
            want_skin = hint_c[ys, xs] > 0
            if want_skin.sum() >= 16:
                vals[want_skin] = self._match_skin_tone(vals[want_skin], image, hole, parse)

        # Grain: match the high-frequency energy of the known pixels just outside the hole.
        if self.grain > 0:
            band = cv2.dilate(hole_c.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~hole_c
            if band.sum() > 16:
                lum = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
                hf = lum - cv2.GaussianBlur(lum, (0, 0), 1.5)
                # Robust sigma (MAD): the band also crosses real edges, which are not grain.
                amp = min(1.4826 * float(np.median(np.abs(hf[band]))), 3.0) * self.grain
                if amp > 0.3:
                    t = self._noise.shape[0]
                    vals = vals + (amp * self._noise[(ys + y0) % t, (xs + x0) % t])[:, None]

        # Feather inside the hole only: distance (px) to the nearest known pixel.
        dist = cv2.distanceTransform(hole_c.astype(np.uint8), cv2.DIST_L2, 3)[ys, xs]
        alpha = np.maximum(np.clip(dist / self.feather_px, 0.0, 1.0), 0.35) if self.feather_px > 0 else 1.0
        alpha = np.asarray(alpha, np.float32).reshape(-1, 1)
        known = crop[ys, xs].astype(np.float32)
        blended = known * (1 - alpha) + np.clip(vals, 0, 255) * alpha
        out[ys + y0, xs + x0] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out

