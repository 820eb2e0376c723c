"""The geometric try-on teacher: person analysis + garment analysis -> warp -> composition (-> learned fill).

``Teacher().run(person, garment)`` dresses the person in the garment with no learned try-on network: the
parser-based pipeline of VITON / CP-VTON (clothing-agnostic person representation, landmark-driven
thin-plate-spline garment warp, mask composition), with hand-written geometry in place of the learned
matching and try-on modules. Its outputs (warp grids, agnostic images, composition masks) are the training
targets of the student models.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tryon.errors import PoseError, UnsupportedCategoryError, UsageError
from tryon.framing import refuse_back_view, refuse_lean, refuse_side_view
from tryon.person.labels import LABEL
from tryon.teacher.agnostic import agnostic_image, refine_arm_labels
from tryon.teacher.compose import compose
from tryon.teacher.compose_lower import TUCK
from tryon.teacher.crop import CropConfig, paste_result, work_crop
from tryon.teacher.gate import assess, check, seen_leg_raise, threshold, threshold_for
from tryon.teacher.warp import warp_garment
from tryon.teacher.warp_onepiece import legs_in_view, warp_onepiece

__all__ = ["Teacher", "TeacherResult", "require_legs", "LEGS_MIN_VISIBILITY"]

LEGS_MIN_VISIBILITY = 0.5
"""Bottoms are refused below this leg visibility (:func:`tryon.person.body.leg_visibility`): a waist-up photo."""
SIDE_VIEW_DEG = 65.0
"""A body whose shoulder line turns more than this from the photo's plane (BlazePose's depth against the image
width between the shoulders) is in side view: a refusal of its legs says to face the camera, not that the legs
are out of view (BlazePose places the far leg's joints anywhere, often below the photo)."""
LANDMARK_PEEL = 0.05
"""Least share of a top's cut-out that the backdrop fringe's peel
(:func:`tryon.garment.landmarks_onepiece.trim_backdrop_fringe`) removes for the landmarks to read the peeled mask.
The peel usually takes a thin ring (1.2 % at the median of 184 catalogue and wild-dev tops), and the landmarks keep
the whole mask. From 5 % the cut-out is a blob of backdrop round a small shop photo's garment: its neckline filled
in and its shoulders on the blob's bumps, a crew neck was read as collapsed and drawn as a notched V
(``docs/garment-mask.md``, "When the peel takes a blob")."""

log = logging.getLogger(__name__)


@dataclass
class TeacherResult:
    """Everything the teacher produced for one (person, garment) pair, at the person photo's resolution.

    Attributes:
        tryon: (H, W, 3) uint8 RGB, the person wearing the garment.
        agnostic: (H, W, 3) uint8 RGB clothing-agnostic person (old garment greyed out, VITON style).
        warped_garment: (H, W, 3) uint8 RGB garment warped onto the body (zeros outside it).
        warped_mask: (H, W) float32 [0, 1] warped garment mask.
        grid: (H, W, 2) float32 in [-1, 1], grid_sample convention (align_corners=False), x then y: for each
            output pixel, the location to sample in the garment image.
        composition_mask: (H, W) float32 [0, 1], 1 where the output shows the warped garment.
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility).
        parse: (H, W) uint8 PARSE_LABELS.
        garment_info: the garment's category and sleeve length (tryon.garment.category.GarmentInfo).
        timings: stage name -> seconds.
        hole: (H, W) bool, where the old garment (for bottoms, the old bottoms) was removed and filled (skin or
            background) and is not covered by the new one.
        garment_landmarks: landmark name -> (x, y) garment-image pixels used for the warp (for bottoms the keys of
            :mod:`tryon.garment.landmarks_lower`).
        garment_mask: (h, w) float32 [0, 1] mask of the garment in the *garment* photo (given or computed).
        warped_parts: (H, W) uint8 part of the warped garment (0 none, 1 torso, 2/3 sleeves; for bottoms 1 waist
            and hips or a whole skirt, 2/3 the left / right leg below the crotch).
        kept: (H, W) bool, the old garment kept as photographed below a top's hem (a dress's skirt under the top:
            :class:`tryon.teacher.compose.ComposeResult`), or None; the gate does not count it as old garment shown.
        quality: the result's confidence and its signals (tryon.teacher.gate.Quality).
        info: figures for quality gating: ``skin_synthesized`` (share of the skin shown that is synthesised,
            0-1), ``old_garment_visible`` (old garment still shown, remnants of its colours included, as a share
            of its area, 0-1), ``skin_tone_gap`` (CIELAB distance between the synthesised and the photographed
            skin's colours, NaN when either is too small; the gate's ``skin_tone``), ``chest_synthesized`` (share
            of the chest shown as synthesised skin, 0-1; the gate's ``chest_synthesised``), ``arms_synthesized``
            (invented arm skin shown, in squared shoulder widths; the gate's ``arms_synthesised``), ``wide_arm_skin``
            (skin shown on the arms beyond a bare arm's reach, squared shoulder widths; the gate's ``wide_arm_skin``),
            for one-pieces ``legs_in_view`` (:func:`tryon.teacher.warp_onepiece.legs_in_view`) and, for bottoms, ``skirt_flare``
            (the clothing's width at the knees in hip-joint distances for trousers and shorts, 0 for skirts:
            :func:`tryon.teacher.agnostic_lower.skirt_flare`); see :class:`tryon.teacher.compose.ComposeResult`.
    """

    tryon: np.ndarray
    agnostic: np.ndarray
    warped_garment: np.ndarray
    warped_mask: np.ndarray
    grid: np.ndarray
    composition_mask: np.ndarray
    keypoints: np.ndarray
    parse: np.ndarray
    garment_info: Any
    timings: dict[str, float] = field(default_factory=dict)
    hole: np.ndarray | None = None
    garment_landmarks: dict[str, tuple[float, float]] | None = None
    garment_mask: np.ndarray | None = None
    warped_parts: np.ndarray | None = None
    kept: np.ndarray | None = None
    quality: Any = None
    info: dict[str, float] = field(default_factory=dict)


def _info_get(info: Any, name: str, default: str) -> str:
    if info is None:
        return default
    if isinstance(info, dict):
        return info.get(name, default)
    return getattr(info, name, default)


def _with_category(info: Any, category: str) -> Any:
    if dataclasses.is_dataclass(info):
        return dataclasses.replace(info, category=category)
    if isinstance(info, dict):
        return {**info, "category": category}
    return info


def _folded_advice(garment_image: np.ndarray, garment_mask: np.ndarray | None) -> str | None:
    """What :func:`tryon.garment.category.require_laid_out` says of the garment photo, or None when it is laid out
    (its mask cut here when None is given); a pose refusal then names it in
    :func:`tryon.garment.category.also_folded`'s words."""
    from tryon.garment.category import classify_garment, require_laid_out

    if garment_mask is None:
        from tryon.garment.mask import garment_mask as cut

        garment_mask = cut(garment_image)
    try:
        require_laid_out(classify_garment(garment_image, np.asarray(garment_mask, np.float32)))
    except UnsupportedCategoryError as exc:
        return str(exc)
    return None


def require_legs(keypoints: np.ndarray, image_shape: tuple[int, int],
                 landmarks: dict[str, tuple[float, float]]) -> None:
    """Refuse to dress bottoms on a photo whose legs are not in view.

    Full-length garments (trousers: a leg longer than 1.5 times the rise, waistband to crotch; skirts longer
    than twice their waistband) need the hips, knees and ankles; shorts and short skirts the hips and knees.

    Args:
        keypoints: (33, 4) BlazePose keypoints of the person.
        image_shape: (H, W) of the person photo.
        landmarks: :func:`tryon.garment.landmarks_lower.lower_landmarks` of the garment.

    Raises:
        PoseError: the needed joints' visibility (joints outside the photo count as unseen) is below
            :data:`LEGS_MIN_VISIBILITY` (said as a side view past :data:`SIDE_VIEW_DEG`).
    """
    from tryon.person.body import leg_visibility, shoulder_turn_deg

    lm = {k: np.asarray(v, np.float64) for k, v in landmarks.items()}
    if "crotch" in lm:
        rise = max(1.0, lm["crotch"][1] - lm["waist_center"][1])
        long = max(lm["hem_left_outer"][1], lm["hem_right_outer"][1]) - lm["crotch"][1] > 1.5 * rise
    else:
        long = lm["hem_center"][1] - lm["waist_center"][1] > 2.0 * (lm["waist_left"][0] - lm["waist_right"][0])
    joints = ("hip", "knee", "ankle") if long else ("hip", "knee")
    if leg_visibility(keypoints, image_shape, joints=joints) < LEGS_MIN_VISIBILITY:
        reach = "the ankles" if long else "the knees"
        if shoulder_turn_deg(keypoints) > SIDE_VIEW_DEG:
            raise PoseError(f"your body is turned away from the camera, so your legs cannot be read: to try on "
                            f"bottoms use a full-body photo facing the camera, from the waist down to {reach}")
        raise PoseError(f"the legs are not in view: to try on bottoms use a full-body photo that shows you from the "
                        f"waist down to {reach} and below, standing and facing the camera")


class Teacher:
    """The geometric try-on teacher.

    Args:
        models_dir: folder of the converted models (default: ``tryon.assets.models_dir()``).
        refine: use the learned refiner (tryon.teacher.refine.Refiner) to fill the skin and background where
            the old garment is removed, when it can be imported and its weights exist; the classical fill
            otherwise.
        min_confidence: refuse results whose confidence (tryon.teacher.gate, always measured and returned as
            ``TeacherResult.quality``) is below this: one threshold, or one per garment category (FASHN's names;
            a category it does not name is not gated); 0 (the library default) refuses none. The CLI and the
            server pass ``tryon.teacher.gate.DEFAULT_MIN_CONFIDENCE`` (tops 0.8, bottoms and one-pieces 0.5).
        crop: when a person is small in the photo, work on a person-centred crop at about 1024 px high and paste
            the result back (``tryon.teacher.crop``); None dresses the whole photo as it is.
        framer: the framing models (:class:`tryon.framing.PersonFramer`) that tell a person photo given as the
            garment; None loads them from ``models_dir`` at the first garment photo (a server passes its student's,
            so they are loaded once).

    Raises (from :meth:`run`):
        NoPersonError, MultiplePeopleError: from the person analysis.
        BusyBackgroundError: the garment photo's background is not plain (no ``garment_mask`` given).
        UnsupportedCategoryError: the garment is neither a top, a bottom (trousers, jeans, shorts, skirt) nor a
            one-piece (dress, jumpsuit).
        PoseError: any photo taken from the back or the side (:func:`tryon.framing.refuse_back_view`,
            :func:`tryon.framing.refuse_side_view`) or of a body lying or upside down
            (:func:`tryon.framing.refuse_lean`); bottoms on a photo whose legs are not in view; one-pieces on a
            photo cut above the knees, a back view or a leaning body (:func:`tryon.framing.category_frame`).
        MissingModelError: a model file is missing (run ``tryon setup``).
        LowConfidenceError: the result's confidence is below ``min_confidence`` (its category's).
        UsageError: ``min_confidence`` is outside [0, 1], or names a category other than tops, bottoms or
            one-pieces.
    """

    CATEGORIES: tuple[str, ...] = ("tops", "bottoms", "one-pieces")
    """The garment categories the teacher dresses (FASHN's names), the one list its category gate and the outfits'
    (:mod:`tryon.teacher.outfit`) read."""

    # The learned refiner is off by default: on the evaluation grids its arm fills came out paler and blurrier
    # than the classical shaded fill, and it costs 0.6-0.9 s per photo (see models/weights/teacher_refine.md).
    def __init__(self, models_dir: str | Path | None = None, refine: bool = False,
                 min_confidence: float | Mapping[str, float] = 0.0,
                 crop: CropConfig | None = CropConfig(), framer=None):  # noqa: B008  a frozen dataclass: safe as a default
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self.crop = crop
        self.refine = refine
        self.min_confidence = threshold(min_confidence)
        self._person = None
        self._framer = framer
        self._garments_checked: OrderedDict[str, None] = OrderedDict()  # garment photos seen to show no person
        self._refiner = None
        self._refiner_tried = False

    # ------------------------------------------------------------------------------------------ components
    def load(self) -> None:
        """Create the person analysers now rather than at the first :meth:`run` (a server loads them at start-up).

        Raises:
            MissingModelError: a model file is missing (the message says how to get it).
        """
        self._person_analyzer()

    def _person_analyzer(self):
        if self._person is None:
            from tryon.person.analysis import PersonAnalyzer

            self._person = PersonAnalyzer(models_dir=self.models_dir)
        return self._person

    def _person_framer(self):
        """The framing models (selfie segmentation, BlazePose, BlazeFace), which tell a person photo given as the
        garment, as the student runner tells it (:func:`tryon.framing.refuse_person_as_garment`)."""
        if self._framer is None:
            from tryon.framing import PersonFramer

            self._framer = PersonFramer(self.models_dir)
        return self._framer

    def refiner(self):
        """The learned filler, or None when disabled, not importable or without weights (logged once)."""
        if not self.refine:
            return None
        if not self._refiner_tried:
            self._refiner_tried = True
            try:
                from tryon.teacher.refine import Refiner

                self._refiner = Refiner()
            except Exception as exc:  # noqa: BLE001  missing module, weights or torch: the classical fill
                log.info("learned refiner unavailable (%s); using the classical fill", exc)
                self._refiner = None
        return self._refiner

    # ------------------------------------------------------------------------------------------ entry points
    def run(self, person_image: np.ndarray, garment_image: np.ndarray, *, garment_mask: np.ndarray | None = None,
            category: str | None = None, tuck: str = "out") -> TeacherResult:
        """Dress the person in the garment.

        Args:
            person_image: (H, W, 3) uint8 RGB photo of one person, front-facing.
            garment_image: (h, w, 3) uint8 RGB in-shop photo of a top, a bottom (trousers, jeans, shorts, skirt)
                or a one-piece (dress, jumpsuit) on a plain background.
            garment_mask: (h, w) float32 [0, 1] garment mask; computed when None.
            category: a category to override the garment classifier, in either vocabulary (``tops``,
                ``bottoms``, ``one-pieces``, ``top``, ``lower``...; ``auto`` or None classifies).
            tuck: for bottoms, ``"out"`` (the top worn over the waistband, the default) or ``"in"`` (the
                waistband drawn over the top); ignored for tops.

        Returns:
            :class:`TeacherResult` at the person photo's resolution (its ``quality`` measured on the working crop
            when one was used).

        Raises:
            PoseError: a photo taken from the back or the side, or of a body lying or upside down, before anything
                is drawn (:func:`tryon.framing.refuse_back_view`, :func:`tryon.framing.refuse_side_view`,
                :func:`tryon.framing.refuse_lean`; the message names
                a garment photographed folded too, which would be refused next); bottoms on a
                photo whose legs are not in view (hips, knees and, for full-length
                trousers, ankles); one-pieces on a photo that does not show the shoulders, hips and both knees
                inside it, a back view or a body leaning more than the framing allows (the student's rules,
                :func:`tryon.framing.category_frame`), before dressing.
            UsageError: ``tuck`` is neither ``out`` nor ``in``.
            PhotoTypeError: without ``garment_mask``, the garment photo shows a person (saying so when the two
                photos look swapped).
            MissingModelError: the person-analysis or framing models are not built (``tryon setup``).
            UnsupportedCategoryError: a category the teacher does not dress, a garment the classifier cannot tell
                (``auto``), or a garment photographed folded, whatever category was named
                (:func:`tryon.garment.category.require_laid_out`).
        """
        from tryon.garment.category import (also_folded, classify_garment, internal_category, require_laid_out,
                                            require_supported)
        from tryon.garment.landmarks import garment_landmarks

        if tuck not in TUCK:
            raise UsageError(f"tuck {tuck!r}: use out (the top over the waistband) or in (tucked in)")
        timings: dict[str, float] = {}
        t = time.perf_counter()
        if garment_mask is None:
            # Before the person's analysis: swapped photos would otherwise be refused as "no person found". Checked
            # once per garment photo (`tryon teacher build` dresses many persons in each).
            key = hashlib.sha256(np.ascontiguousarray(garment_image).tobytes()).hexdigest() + str(garment_image.shape)
            if key not in self._garments_checked:
                from tryon.framing import refuse_person_as_garment

                refuse_person_as_garment(self._person_framer(), garment_image, person_image)
                self._garments_checked[key] = None
                while len(self._garments_checked) > 256:
                    self._garments_checked.popitem(last=False)
            timings["garment_check"] = time.perf_counter() - t
            t = time.perf_counter()
        analyzer = self._person_analyzer()
        crop = located = None
        if self.crop is not None:
            from tryon.errors import MultiplePeopleError
            from tryon.person.analysis import count_people

            located = analyzer.locate(person_image)
            crop = work_crop(located[1], located[0], self.crop)
            # The crop's own analysis cannot see a second person beside the box: count them on the whole photo.
            if crop is not None and (people := count_people(located[0])) >= 2:
                raise MultiplePeopleError(f"{people} people found in the photo; use a photo of one person")
        # Dressed whole, the photo's mask and pose from the first look are the analysis's own.
        analysis = (analyzer(person_image, located=located) if crop is None
                    else analyzer(crop.image(person_image)))
        timings["person"] = time.perf_counter() - t
        # A back view has no front for the garment's front to go on, and a side view gets it pasted flat beside the
        # body: refused before anything is drawn (the gate caught them only afterwards, with no word of the pose).
        try:
            refuse_back_view(analysis.keypoints)
            # (On the whole photo's pose when there is one: an upper-body crop hides the hips the rule reads.)
            refuse_side_view(located[1] if located is not None else analysis.keypoints)
            # A backflip was dressed with the top pasted upright on the upside-down body (seventeenth first user).
            refuse_lean(located[1] if located is not None else analysis.keypoints)
        except PoseError as exc:
            # A folded garment photo is named too: a shopper who took a photo from the front was refused again for
            # it (three of a first user's 32 pairings).
            if _folded_advice(garment_image, garment_mask) is None:
                raise
            raise PoseError(also_folded(str(exc))) from exc

        t = time.perf_counter()
        cut_here = garment_mask is None
        if cut_here:
            from tryon.garment.mask import garment_mask as cut

            garment_mask = cut(garment_image)
        garment_mask = np.asarray(garment_mask, dtype=np.float32)
        info = classify_garment(garment_image, garment_mask)
        require_laid_out(info)   # a named category does not unfold it
        category = internal_category(category)
        if category is not None:
            info = _with_category(info, category)
        require_supported(info, supported=self.CATEGORIES)
        kind = _info_get(info, "category", "top")
        if kind == "top":
            from tryon.garment.landmarks import cut_hood

            # A hood standing up would be read as the neck and drawn as a bib: worn down, it hangs behind the neck.
            garment_mask = cut_hood(garment_mask)
        alpha_mask = None
        if cut_here and kind == "top":
            from tryon.garment.landmarks_onepiece import trim_backdrop_fringe

            # A cut-out's ring of backdrop (a small shop photo's JPEG fringe) was drawn on the person as a white
            # outline and a white band under the hem: drawn without it, as the one-pieces' masks are. The
            # landmarks keep the whole mask (peeled, their read of the outline moved and good results lost the gate)
            # unless the peel takes a blob of backdrop (LANDMARK_PEEL).
            alpha_mask = trim_backdrop_fringe(garment_image, garment_mask)
        timings["garment"] = time.perf_counter() - t
        if crop is not None and kind not in self.crop.categories:
            # The box ends at mid-thigh: a garment reaching lower is dressed on the whole photo.
            t = time.perf_counter()
            crop = None
            analysis = analyzer(person_image, located=located)
            timings["person"] += time.perf_counter() - t
        t = time.perf_counter()
        if kind == "lower":
            from tryon.garment.landmarks_lower import lower_landmarks

            lm = lower_landmarks(garment_image, garment_mask)
            require_legs(analysis.keypoints, analysis.image.shape[:2], lm)
        elif kind == "dress":
            from tryon.framing import bottom_cut, category_frame
            from tryon.garment.landmarks_onepiece import onepiece_landmarks

            # The student's full-body framing rules, before anything is drawn: a photo cut above the hips, a knee
            # hidden inside the photo (crossed legs), a back view or a leaning body is refused with what to
            # change, not dressed into a broken picture; legs cut off by the photo's bottom edge are dressed
            # down to that edge.
            category_frame(analysis.keypoints, analysis.image.shape[:2], category="one-pieces",
                           bottom=bottom_cut(analysis.mask))
            lm = onepiece_landmarks(garment_image, garment_mask, info)
        else:
            lm_mask = garment_mask
            if alpha_mask is not None and (alpha_mask > 0.5).sum() < (1 - LANDMARK_PEEL) * (garment_mask > 0.5).sum():
                lm_mask = alpha_mask
            lm = garment_landmarks(garment_image, lm_mask, info)
        timings["garment"] += time.perf_counter() - t

        whole_leg_raise = None
        if crop is not None and kind == "top":
            # The gate's stance on the whole photo's legs: the upper-body crop cuts them off (a jump's lifted thigh
            # under the new top's hem was dressed and shown).
            whole_leg_raise = seen_leg_raise(located[1], person_image.shape[:2])
        drawn = garment_image
        if kind == "top":
            from tryon.garment.mask import fill_armpit_notches, fill_see_through

            # The backdrop between a hanging sleeve and the torso, narrower than the cut-out resolves, was drawn
            # as a white crescent beside the body: the fabric around it is drawn there instead.
            drawn = fill_see_through(garment_image, garment_mask)
            if "sleeve_left_outer" in lm:
                # The white wedge a small photo's cut-out closes under each sleeve, likewise; painted, its mouth
                # on the outline is fabric, not a fringe to peel.
                drawn, notches = fill_armpit_notches(drawn, garment_mask, [np.asarray(lm[f"armpit_{s}"]) for s in
                                                                            ("left", "right")])
                if alpha_mask is not None and notches.any():
                    alpha_mask = np.where(notches, garment_mask, alpha_mask)
        res = self.run_analyzed(analysis.image, analysis.parse, analysis.keypoints, drawn, garment_mask,
                                lm, info, tuck=tuck, person_mask=analysis.mask, alpha_mask=alpha_mask,
                                photo_leg_raise=whole_leg_raise)
        if crop is not None:
            t = time.perf_counter()
            res = paste_result(res, person_image, crop, self.crop)
            timings["paste"] = time.perf_counter() - t
        res.timings = {**timings, **res.timings}
        res.timings["total"] = sum(v for k, v in res.timings.items() if k != "total")
        check(res.quality, threshold_for(self.min_confidence, kind))
        return res

    def run_analyzed(self, image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, garment_image: np.ndarray,
                     garment_mask: np.ndarray, landmarks: dict[str, tuple[float, float]], info: Any = None,
                     *, tuck: str = "out", person_mask: np.ndarray | None = None,
                     alpha_mask: np.ndarray | None = None, photo_leg_raise: float | None = None) -> TeacherResult:
        """Warp and composite from analyses already made (any source of parse / keypoints / landmarks).

        Args:
            image: (H, W, 3) uint8 RGB person photo.
            parse: (H, W) uint8 PARSE_LABELS.
            keypoints: (33, 4) float32 BlazePose keypoints in ``image`` pixels.
            garment_image: (h, w, 3) uint8 RGB.
            garment_mask: (h, w) float32 [0, 1].
            landmarks: garment landmarks (tryon.garment.landmarks keys; tryon.garment.landmarks_lower keys for
                bottoms), garment pixels.
            info: GarmentInfo (category, sleeve) or None ("top", sleeves from the landmarks); category "lower"
                dresses bottoms (:func:`tryon.teacher.warp_lower.warp_lower`,
                :func:`tryon.teacher.compose_lower.compose_lower`).
            tuck: bottoms only: ``"out"`` (the top in front of the waistband) or ``"in"``.
            person_mask: optional (H, W) float32 person probability of ``image`` (the selfie segmenter's): tops
                then also lose an open outer layer the parse calls backdrop (:func:`tryon.teacher.compose.compose`).
            alpha_mask: tops: optional (h, w) float32 mask of the garment as drawn, when it differs from
                ``garment_mask`` (see :func:`tryon.teacher.warp.warp_garment`); the gate reads ``garment_mask``.
            photo_leg_raise: tops: the whole photo's :func:`tryon.teacher.gate.seen_leg_raise` (0 when its legs are
                not seen) when ``image`` is a crop that cuts the legs off; stored as ``info["leg_raise"]`` for the
                gate's ``stance``. None: the gate reads ``keypoints``.

        Returns:
            :class:`TeacherResult` (timings: parse_refine, warp, compose, agnostic, gate); its ``parse`` is the
            refined parse (bare arms merged into the torso relabelled as arms); its ``quality`` is measured
            but not gated here (:meth:`run` gates).
        """
        timings: dict[str, float] = {}
        t = time.perf_counter()
        # Bare arms that the parse merged into the torso become arms again (warp widths, arms in front).
        parse = refine_arm_labels(image, parse, keypoints)
        timings["parse_refine"] = time.perf_counter() - t
        t = time.perf_counter()
        sleeve = _info_get(info, "sleeve", None)
        category = _info_get(info, "category", "top")
        if category == "lower":
            from tryon.teacher.agnostic_lower import lower_agnostic_image
            from tryon.teacher.compose_lower import compose_lower
            from tryon.teacher.warp_lower import warp_lower

            w = warp_lower(garment_image, garment_mask, landmarks, keypoints, image.shape[:2], parse=parse)
            timings["warp"] = time.perf_counter() - t
            t = time.perf_counter()
            c = compose_lower(image, parse, keypoints, w, tuck=tuck)
            timings["compose"] = time.perf_counter() - t
            t = time.perf_counter()
            agn = lower_agnostic_image(image, parse, c.old_garment)
        else:
            if category == "dress":
                w = warp_onepiece(garment_image, garment_mask, landmarks, keypoints, image.shape[:2], parse=parse,
                                  sleeve=sleeve)
            else:
                w = warp_garment(garment_image, garment_mask, landmarks, keypoints, image.shape[:2], parse=parse,
                                 sleeve=sleeve, category=category, alpha_mask=alpha_mask)
            timings["warp"] = time.perf_counter() - t

            t = time.perf_counter()
            c = compose(image, parse, keypoints, w, refiner=self.refiner(), category=category,
                        person_mask=person_mask)
            timings["compose"] = time.perf_counter() - t

            t = time.perf_counter()
            agn = agnostic_image(image, parse, c.old_garment, category=category)
        timings["agnostic"] = time.perf_counter() - t
        res = TeacherResult(tryon=c.tryon, agnostic=agn, warped_garment=w.warped_garment,
                            warped_mask=w.warped_mask, grid=w.grid, composition_mask=c.composition_mask,
                            keypoints=np.asarray(keypoints, np.float32), parse=parse, garment_info=info,
                            timings=timings, hole=c.hole, garment_mask=garment_mask,
                            garment_landmarks={k: (float(v[0]), float(v[1])) for k, v in landmarks.items()},
                            warped_parts=w.warped_parts, kept=c.kept,
                            info={"skin_synthesized": c.skin_synthesized,
                                  "old_garment_visible": c.old_garment_visible,
                                  "skin_tone_gap": c.skin_tone_gap,
                                  "chest_synthesized": c.chest_synthesized,
                                  "arms_synthesized": c.arms_synthesized,
                                  "wide_arm_skin": c.wide_arm_skin})
        if category == "lower":
            from tryon.teacher.agnostic_lower import skirt_flare

            # Trousers and shorts (their landmarks have a crotch) over a skirt that flares: the gate's skirt_flare.
            # (Without the person mask, the parse's person stands for it.)
            person = person_mask if person_mask is not None else (parse != LABEL["background"])
            res.info["skirt_flare"] = skirt_flare(person, keypoints) if "crotch" in landmarks else 0.0
        if category == "dress":
            from tryon.framing import bottom_cut

            # The parse's person (not background) stands for the person mask, which run_analyzed is not given.
            person = (parse != LABEL["background"]).astype(np.float32)
            res.info["legs_in_view"] = legs_in_view(w.targets, keypoints, image.shape[0], bottom=bottom_cut(person))
        if photo_leg_raise is not None:
            res.info["leg_raise"] = float(photo_leg_raise)
        t = time.perf_counter()
        res.quality = assess(res)
        timings["gate"] = time.perf_counter() - t
        return res
