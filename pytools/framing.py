"""Person framing before the parser-free student: find the one person, take an upper-body box at the student's
aspect, crop, and (after the student) paste back into the full photo.

The student (DM-VTON / PF-AFN style, parser-free) was trained on VITON-style frames: one upright person, the
shoulders about a third of the way down, the hips at about 70 % of the height, horizontally centred
(measured with BlazePose on the 69 ``vton-samples`` persons the records were built from: shoulder centre
y = 0.33 H, hip centre y = 0.705 H, x = 0.50 W, torso = 1.36 x shoulder width, medians). Fed a full-body phone
photo or a landscape webcam frame squashed to 256x192 it draws the garment beside the person or over the face.
So, as DM-VTON's own demo does before its student, the pipeline first finds the person with the
person-analysis models the project already converts (MediaPipe selfie segmentation for the person mask,
BlazePose GHUM *lite* for 33 pose keypoints, BlazeFace for "is there a face"; no parse, no pose enters the
student), and crops a box that puts
the keypoints where the training frames had them (:func:`upper_body_box`). Parts of the box outside the photo
are padded white, as ``tryon.processing.letterbox`` pads.

Every rule and constant lives in :class:`FramingConfig`; ``tryon export`` writes it into the model folder's
``manifest.json`` (``framing``), and the Python runner (``tryon.student_runner``) and the browser worker
(``web/src/framing.js``) both read it from there, so the two cannot drift apart. The detection steps mirror
:class:`tryon.person.pose.PoseEstimator` (MediaPipe's ``pose_landmark_by_roi`` and ``pose_landmarks_to_roi``:
a first pass on the person mask's bounding box, a second on the tracking ROI from the first pass's auxiliary
keypoints), run on the segmenter's 256x256 output so the browser can do exactly the same.

Refusals (each names what to change): no person or a product photo (:class:`~tryon.errors.NoPersonError`),
several people (:class:`~tryon.errors.MultiplePeopleError`), shoulders out of view, back view, a person too
small in the photo, or a pose the teacher's quality gate refuses from the keypoints alone, a body turned away or
a leg raised (:class:`~tryon.errors.PoseError`, :func:`refuse_pose_gate`). A waist-up selfie (hips below the frame) is framed from
the shoulder width for tops; a photo cut at the thighs is framed for one-pieces with the leg estimated from the
torso (:func:`knees_cut`); a photo cut at the forehead is framed and padded.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from tryon.errors import MultiplePeopleError, NoPersonError, PhotoTypeError, PoseError
from tryon.person.body import (
    L_ANKLE,
    L_EAR,
    L_EYE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
)

__all__ = ["BOX_KINDS", "FramingConfig", "Framing", "PersonFramer", "upper_body_box", "category_box", "category_frame",
           "bottom_cut", "knees_cut", "box_from_frame", "crop_to_box", "box_transform", "seed_rois",
           "proportion_error", "student_guard", "guard_mask", "attach_framing", "POSE_GATE_SIGNALS", "pose_gate_scores",
           "refuse_pose_gate", "refuse_back_view", "refuse_side_view", "refuse_lean", "OUTPUT_GATE_SIGNALS", "OutputQuality",
           "output_gate_raw", "output_gate_scores", "refuse_output_gate", "person_in_model", "skin_pixels", "refuse_person_as_garment", "GARMENT_SHOWS_PERSON", "PHOTOS_SWAPPED"]


GARMENT_SHOWS_PERSON = ("the garment photo shows a person: use a product photo of the garment alone (flat lay, on a "
                        "hanger or a ghost mannequin, on a plain background)")
"""The refusal of a person photo given as the garment (the teacher's, the student runner's and the server's)."""
PHOTOS_SWAPPED = ("the person and garment photos seem to be swapped: the garment photo shows a person and the "
                  "person photo shows none")
"""The refusal when the garment photo shows a person and the person photo none."""


def refuse_person_as_garment(framer: PersonFramer, garment: np.ndarray, person: np.ndarray | None = None) -> None:
    """Refuse a garment photo that shows a person (a face and a person mask, :meth:`PersonFramer.is_person_photo`),
    saying so when the two photos look swapped.

    Args:
        framer: the framing models.
        garment: (H, W, 3) uint8 RGB garment photo.
        person: (H, W, 3) uint8 RGB person photo, or None (then only the garment photo is judged).

    Raises:
        PhotoTypeError: :data:`PHOTOS_SWAPPED` when ``person`` shows no one, else :data:`GARMENT_SHOWS_PERSON`.
    """
    if not framer.is_person_photo(garment, framer.config.garment_face_score):
        return
    if person is not None and not framer.is_person_photo(person):
        raise PhotoTypeError(PHOTOS_SWAPPED)
    raise PhotoTypeError(GARMENT_SHOWS_PERSON)


POSE_GATE_SIGNALS = ("stance", "arms_across", "forearm_raised", "pose")
"""The student's pose gate (:func:`refuse_pose_gate`): signals BlazePose's keypoints alone measure, scored before
the student runs, in this order (the order of ``FramingConfig.pose_gate`` in the manifest). ``stance``,
``arms_across`` and ``pose`` are the teacher's quality-gate signals (``tryon.teacher.gate``), with its ramps;
``forearm_raised`` (:func:`tryon.teacher.gate.forearm_raised`) is the student's own (the teacher draws the arms
in front of the garment). On a tie the first is named (a jump also hides joints from BlazePose; standing on both
feet is what to change; crossed or raised arms hide elbows too, and the arms are what to change)."""

# What a pose-gate signal means for a shopper's photo where the teacher gate's wording (tryon.teacher.gate_config.
# SIGNALS, whose ramps and advice are used as they are) speaks of what the teacher draws: the legs it synthesises
# for `stance`, the body it measures for `pose`. Otherwise the gate's own wording.
_POSE_GATE_WHAT = {
    "pose": "your body is not clearly visible (turned away from the camera, or your arms or hips hidden)",
    "stance": "one of your legs is raised (a jump, a kick or a foot lifted)",
}
# The categories a signal is scored for (absent: every category). A student dressing a top or a one-piece redraws
# the torso and would draw the garment through forearms lying across it or raised in front of it; a bottoms student
# does not redraw it.
_POSE_GATE_CATEGORIES = {"arms_across": ["tops", "one-pieces"], "forearm_raised": ["tops", "one-pieces"]}

# The student's own pose signals, with their ramps (raw units of the measure). forearm_raised: on the 227 person
# photos of ../shared, judged by eye with their keypoints drawn (session 13, docs/quality-gate.md), a wrist 0.45
# shoulder widths or more above its elbow was a hand at the hair, the face or the collar, or a wave, in all but one
# (BlazePose placing a chest-up photo's hand above the head); the three student results a user or the output gate's
# judging named for it (an orange tee painted over a hand at the hair, a tee over a gown with a hand at the head, a
# pink tee over a raised arm) read 0.53-0.73. A waist-up photo whose hands, below the frame, BlazePose guessed folded
# back at the shoulders read 0.44 at visibility 0.77-0.88 (0.46 in some live webcam frames, pausing the live mode):
# the measure counts forearms seen at 0.92 or more (the raised hands above: 0.97 or more).
_STUDENT_POSE_SIGNALS = {
    "forearm_raised": {"bad": 0.45, "good": 0.25,
                       "what": "one of your hands is raised (at your hair, your face or your collar)",
                       "advice": "use a photo with your arms relaxed at your sides or your hands on your hips"},
}


def _pose_gate_defaults() -> dict[str, dict[str, Any]]:
    from tryon.teacher.gate_config import SIGNALS

    gate = {k: dict(_STUDENT_POSE_SIGNALS[k]) if k in _STUDENT_POSE_SIGNALS else
            {"bad": SIGNALS[k].bad, "good": SIGNALS[k].good, "what": _POSE_GATE_WHAT.get(k, SIGNALS[k].what),
             "advice": SIGNALS[k].advice} for k in POSE_GATE_SIGNALS}
    for k, categories in _POSE_GATE_CATEGORIES.items():
        gate[k]["categories"] = list(categories)
    return gate


OUTPUT_GATE_SIGNALS = ("off_body", "old_garment")
"""The student's output gate (:func:`output_gate_scores`): signals measured on the student's composition mask
after it runs, in this order (the order of ``FramingConfig.output_gate`` in the manifest; ties name the first)."""


def _output_gate_defaults() -> dict[str, dict[str, Any]]:
    # Ramps set by eye on the student's results for the 35 wild-dev tops pairs (docs/quality-gate.md, "The
    # student's output gate"): three of the four judged plausible or borderline scored off_body <= 0.09 and
    # old_garment <= 0.09 (the fourth, tattooed forearms, 0.22), while most failures lay past 0.10 (the garment
    # spilled beside the person) or 0.15 (a jacket, coat or long sleeves left around the new garment). Only tops
    # were judged, so only tops are gated.
    return {
        # The words name the pair, not the shopper: a first user was told to wear a T-shirt while wearing one, when
        # it was the garment (its long sleeves, which the student loses) that left his own sleeves showing; the same
        # persons were dressed with a plain tee.
        "off_body": {"bad": 0.10, "good": 0.05, "categories": ["tops"],
                     "what": "the try-on model could not fit this garment to your body in this photo (it would "
                             "spill beside you)",
                     "advice": "try a photo where you stand facing the camera with your arms by your sides, or "
                               "another garment"},
        "old_garment": {"bad": 0.15, "good": 0.08, "categories": ["tops"],
                        "what": "your own clothes would still show around the new garment (the try-on model cannot "
                                "cover a jacket, a coat or long sleeves, and often shortens a garment's long "
                                "sleeves)",
                        "advice": "try a photo in a T-shirt or another fitted top, without a jacket or coat, or "
                                  "another garment (T-shirts and short-sleeved tops fit best)"},
    }


BOX_KINDS = ("upper_body", "lower_body", "full_body")
"""The boxes :func:`category_frame` frames; ``FramingConfig.category_boxes`` maps each garment category to one."""


@dataclass(frozen=True)
class FramingConfig:
    """The framing rules of a deployed student, written to and read from its ``manifest.json``.

    Positions are fractions of the box (0 = top / left edge, 1 = bottom / right); ``*_px`` values are pixels of
    the full-resolution photo; visibilities and presences are probabilities in [0, 1].

    Attributes:
        segmentation_model: person-mask model file (MediaPipe selfie segmentation, 256x256 NHWC in [0, 1]).
        pose_model: keypoint model file (BlazePose GHUM lite, 256x256 NHWC in [0, 1], 39 x 5 landmarks).
        face_model: face detector file (BlazeFace short range, 128x128 NHWC in [-1, 1]), run on square crops
            centred on the nose keypoint.
        face_crop_scales: sides of those crops, in shoulder widths; the best score of the crops counts.
        face_crop_min_eyes: ... and at least this many inter-eye distances (side views have narrow shoulders).
        min_face_score: a face is there at this BlazeFace score (persons and garments of ``../shared``: 111 of
            119 persons and 8 of 178 garments reach 0.6).
        garment_face_score: a garment photo shows a person (:func:`refuse_person_as_garment`) from this BlazeFace
            score: product photos' hoods and collars read as faces up to 0.76 (22 of the 557 garment photos of
            ``../shared`` reach 0.6, 1 reaches 0.8), persons' faces mostly far above (206 of 227 reach 0.8).
        category_boxes: garment category (FASHN's ``tops | bottoms | one-pieces``) -> the box its student sees,
            one of :data:`BOX_KINDS` (see :func:`category_frame`).
        shoulder_y: where the shoulder centre sits in the box (training frames: median 0.33).
        hip_y: where the hip centre sits in the box (training frames: median 0.705).
        centre_x: where the body's centre line sits in the box.
        torso_per_shoulder: torso length (shoulder centre to hip centre) per shoulder width, used when the hips
            are not seen (waist-up photos; training frames: median 1.36).
        min_torso_per_shoulder: the torso length used is at least this times the shoulder width (a person
            bending towards the camera foreshortens the torso; training frames: 10th percentile 1.14).
        lower_hip_y: lower-body box (bottoms): where the hip centre sits (the top third: the waistband and a
            high-rise top edge above it).
        lower_ankle_y: ... where the ankle centre sits (below it: the feet, and room for a hem past the ankles).
        shin_per_thigh: knee-to-ankle per hip-to-knee vertical distance, used when the ankles are not seen (a
            photo cut at the shins; BlazePose GHUM lite on 86 standing full-body persons of ``../shared``:
            median 0.88, 10th-90th percentile 0.82-1.01).
        thigh_per_torso: hip-to-knee per shoulder-to-hip vertical distance, used when the knees are out of the
            photo too (a mirror selfie or a phone photo cut at the thighs; BlazePose GHUM lite on 100 standing
            full-body persons of ``../shared``, every joint seen: median 0.80, 10th-90th percentile 0.69-0.87).
        cut_legs_boxes: the boxes (:data:`BOX_KINDS`) that frame a photo whose legs leave it at its bottom edge
            above the knees, the leg estimated from the torso (one-pieces: a dress is shown down to the photo's
            edge, as hosted try-on services show it; bottoms need the knees).
        cut_knee_margin: a knee not seen inside the photo was cut off by the photo's bottom edge (not hidden by
            crossed legs or something in front) when BlazePose places it below that edge or less than this many
            estimated thigh lengths above it (a knee on the edge is half out and unseen).
        cut_torso_per_shoulder: the torso of a photo cut at the thighs is at least this times the shoulder width:
            BlazePose squeezes such a body into the photo, its hips placed too high (torso 0.96-1.46 shoulder
            widths on five full-body ``wild-dev`` photos cut at the thighs, 1.44-1.62 uncut), so the body's
            median is the floor (standing full-body persons of ``../shared``, the 100 of ``thigh_per_torso``:
            median 1.60, 10th-90th percentile 1.41-1.99). The cut photos' boxes then come out 0.90-1.05 of the
            uncut photos' box height (0.58-0.94 with BlazePose's hips and knees as placed).
        cut_bottom_band: the person mask leaves the photo at its bottom edge (:func:`bottom_cut`) when
            ``cut_min_bottom_share`` of its columns are person in this share of its bottom rows: the selfie
            segmenter fades out towards the edge (its last row is often empty; on a Dress Code photo cut through
            a white skirt the last 3.9 % of the rows were under 2 % person). Full-body photos whose feet end
            inside it (2.2-6.6 % above the edge on the Dress Code persons) are told apart by their ankles
            (:func:`knees_cut`).
        full_shoulder_y: full-body box (one-pieces): where the shoulder centre sits (above it: the neck and
            head, as in the upper-body box).
        full_ankle_y: ... where the ankle centre sits.
        min_visibility: a keypoint counts as seen at this BlazePose visibility.
        min_person_fraction: the person mask must cover this share of the photo.
        second_person_ratio: another mask region at least this share of the largest is another person.
        min_box_height_px: the box must be at least this tall in the photo (below it the student would
            upsample a few dozen pixels into its 256 rows: "too small, come closer").
        max_lean_deg: the shoulder-to-hip line may lean at most this far from vertical, degrees (the training
            frames are upright; jumps, lying and upside-down poses are refused).
        back_view_margin: the shoulders are mirrored (left shoulder on the image's left) by more than this share
            of the shoulder width: a back view.
        min_front_width: with shoulders and hips seen, the shoulders' distance over the shoulders-to-hips
            distance below which the person is turned sideways (persons of ``../shared`` facing the camera
            0.55-1.2, median 0.68; three-quarter views 0.38-0.48 pass; profiles 0.23-0.31 are refused). 0 turns
            the rule off.
        mask_threshold: person-mask probability that counts as person.
        cut_min_bottom_share: the person is cut by the photo's bottom edge (a waist-up selfie, a webcam frame)
            when at least this share of the mask's bottom row is person. BlazePose, seeded with the mask's box,
            then shrinks the whole body into the photo (shoulders under the chin), so ...
        cut_roi_extensions: ... when the pose from the mask's own box has a :func:`proportion_error` above
            ``max_proportion_error``, the first pose pass is tried with the box extended downwards by each of
            these factors, and the result whose proportions are closest to ``shoulders_per_ear`` and
            ``neck_per_ear`` is kept (MediaPipe's own detector places the body ROI from the face for the same
            reason).
        max_proportion_error: see ``cut_roi_extensions``.
        shoulders_per_ear: shoulder width per ear-to-ear distance (training frames: median 2.38).
        neck_per_ear: nose-to-shoulder-line height per ear-to-ear distance (training frames: median 1.53).
        guard_person_dilation: the student may change the photo only within the person mask dilated by this
            share of the box width (garments are looser than bodies; beyond that it was painting the background).
        guard_head_width: the head, where the student may change nothing, is an ellipse around the ears' midpoint
            this many ear-to-ear distances wide ...
        guard_head_above: ... reaching this many ear-to-ear distances above the ears (hair) ...
        guard_chin: ... and down to the chin, this share of the way from the nose to the shoulder line.
        guard_feather: the guard's edge is blurred over this share of the box width.
        track_min_presence: live mode: below this pose presence the tracked person is lost (garment hidden,
            detection re-run on the next frame).
        one_euro_min_cutoff: live mode: One Euro filter cut-off at rest, Hz (Casiez et al., CHI 2012).
        one_euro_beta: live mode: One Euro speed coefficient (per px/s of the box).
        one_euro_d_cutoff: live mode: cut-off of the speed estimate, Hz.
        pose_gate: the student's pose gate (:func:`refuse_pose_gate`): signal name (:data:`POSE_GATE_SIGNALS`)
            -> ``{"bad", "good", "what", "advice"}`` (and ``categories`` where it is scored for some only); the
            teacher's signals' ramps and advice are read from its gate (``tryon.teacher.gate_config.SIGNALS``) when
            the config is made, ``forearm_raised``'s are the student's own, and ``tryon export`` writes them into
            the manifest so the browser applies the same ones.
        pose_gate_min_score: a photo is refused when a pose-gate signal scores at most this (0: only at or past
            the ramp's *bad* end, where the teacher's gate would refuse whatever the garment; the teacher's own
            threshold, 0.5, refused plausible studio photos with a hand in a pocket, ``docs/quality-gate.md``).
        pose_gate_resume_score: live mode: after a pose-gate refusal the garment comes back only once every
            signal scores above this (hysteresis: no flicker while a signal hovers at the refusal's edge).
        output_gate: the student's output gate (:func:`refuse_output_gate`): signal name
            (:data:`OUTPUT_GATE_SIGNALS`) -> ``{"bad", "good", "what", "advice", "categories"}``; empty: no gate
            (a manifest written before the gate existed).
        output_gate_min_score: a result is refused when an output-gate signal scores at most this.
        skin_cr: the output gate's skin colour rule: (low, high) YCrCb Cr of skin (Chai & Ngan, IEEE TCSVT 1999).
        skin_cb: ... and (low, high) Cb.
    """

    segmentation_model: str = "selfie_segmentation.onnx"
    pose_model: str = "pose_landmark_lite.onnx"
    face_model: str = "face_detection_short_range.onnx"
    face_crop_scales: tuple[float, ...] = (1.2, 2.0)
    face_crop_min_eyes: float = 6.0
    min_face_score: float = 0.6
    garment_face_score: float = 0.8
    category_boxes: dict[str, str] = field(default_factory=lambda: {
        "tops": "upper_body", "bottoms": "lower_body", "one-pieces": "full_body"})
    shoulder_y: float = 0.33
    hip_y: float = 0.705
    centre_x: float = 0.5
    torso_per_shoulder: float = 1.36
    min_torso_per_shoulder: float = 1.0
    lower_hip_y: float = 0.3
    lower_ankle_y: float = 0.92
    shin_per_thigh: float = 0.88
    thigh_per_torso: float = 0.80
    cut_legs_boxes: tuple[str, ...] = ("full_body",)
    cut_knee_margin: float = 0.25
    cut_bottom_band: float = 0.05
    cut_torso_per_shoulder: float = 1.60
    full_shoulder_y: float = 0.12
    full_ankle_y: float = 0.94
    min_visibility: float = 0.5
    min_person_fraction: float = 0.01
    second_person_ratio: float = 0.25
    min_box_height_px: int = 128
    max_lean_deg: float = 40.0
    back_view_margin: float = 0.25
    min_front_width: float = 0.35
    mask_threshold: float = 0.5
    cut_min_bottom_share: float = 0.02
    cut_roi_extensions: tuple[float, ...] = (1.0, 1.6, 2.4, 3.2)
    max_proportion_error: float = 0.5
    shoulders_per_ear: float = 2.38
    neck_per_ear: float = 1.53
    guard_person_dilation: float = 0.06
    guard_head_width: float = 1.5
    guard_head_above: float = 1.3
    guard_chin: float = 0.4
    guard_feather: float = 0.03
    track_min_presence: float = 0.1
    one_euro_min_cutoff: float = 1.0
    one_euro_beta: float = 0.01
    one_euro_d_cutoff: float = 1.0
    pose_gate: dict[str, dict[str, Any]] = field(default_factory=_pose_gate_defaults)
    pose_gate_min_score: float = 0.0
    pose_gate_resume_score: float = 0.25
    output_gate: dict[str, dict[str, Any]] = field(default_factory=_output_gate_defaults)
    output_gate_min_score: float = 0.0
    skin_cr: tuple[float, float] = (133.0, 173.0)
    skin_cb: tuple[float, float] = (77.0, 127.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what ``manifest.json`` holds under ``framing``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> FramingConfig:
        """Read a manifest's ``framing``; unknown keys are ignored, missing ones take the defaults, except
        ``output_gate`` and ``min_front_width``: a manifest without one was deployed before the output gate (or the
        side-view rule) and its student runs without it, as the browser runs it."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in (d or {}).items() if k in known}
        if d is not None and "output_gate" not in d:
            kw["output_gate"] = {}
        if d is not None and "min_front_width" not in d:
            kw["min_front_width"] = 0.0
        for key in ("face_crop_scales", "cut_roi_extensions", "skin_cr", "skin_cb"):
            if key in kw:
                kw[key] = tuple(float(v) for v in kw[key])
        if "cut_legs_boxes" in kw:
            kw["cut_legs_boxes"] = tuple(str(v) for v in kw["cut_legs_boxes"])
        if "category_boxes" in kw:
            kw["category_boxes"] = {str(k): str(v) for k, v in dict(kw["category_boxes"]).items()}
        for key in ("pose_gate", "output_gate"):
            if key in kw:
                kw[key] = {str(k): dict(v) for k, v in dict(kw[key]).items()}
        return cls(**kw)


@dataclass
class Framing:
    """Where the person is in a photo and the box the student sees.

    Attributes:
        box: (x0, y0, width, height) integer pixels of the photo; may extend past the photo's edges (padded).
        keypoints: (33, 4) float32 BlazePose keypoints: x, y photo pixels, z, visibility.
        presence: BlazePose pose presence in [0, 1].
        person_fraction: share of the photo the person mask covers.
        hips_seen: whether the hips framed the box (False: estimated from the shoulder width).
        image_size: (height, width) of the photo.
        person_low: (rh, rw) float32 person probability at the segmenter's resolution (``SelfieSegmenter.low_res``).
        low_scale: segmenter pixels per photo pixel.
        category: the garment category the box was framed for (FASHN's vocabulary).
    """

    box: tuple[int, int, int, int]
    keypoints: np.ndarray
    presence: float
    person_fraction: float
    hips_seen: bool
    image_size: tuple[int, int]
    person_low: np.ndarray | None = None
    low_scale: float = 1.0
    category: str = "tops"

    def transform(self, model_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """Photo -> model frame (``tryon.pasteback.Transform``) of this box at ``model_size`` (height, width)."""
        return box_transform(self.box, model_size)


def box_transform(box: tuple[int, int, int, int], model_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """``tryon.pasteback.Transform`` of cropping ``box`` = (x0, y0, w, h) and resizing it to ``model_size``.

    A photo pixel centre x lands at ``(x + 0.5 - x0) * mw / w - 0.5`` (pixel-centre convention, as
    ``tryon.processing.letterbox``).
    """
    x0, y0, bw, bh = box
    mh, mw = model_size
    sx, sy = mw / bw, mh / bh
    return sx, sy, (0.5 - x0) * sx - 0.5, (0.5 - y0) * sy - 0.5


def refuse_side_view(keypoints: np.ndarray, config: FramingConfig | None = None) -> None:
    """Refuse a photo taken from the side (a profile, a walk or a kick side-on), whatever the garment.

    Seen from the side the shoulders nearly overlap: their distance over the shoulders-to-hips distance falls
    below ``min_front_width`` (the teacher's torso spline and sleeves, and the student's box, are made for a
    body facing the camera; such photos were dressed into a garment pasted flat beside the body). Only when
    both shoulders and both hips are seen. Arguments as :func:`refuse_back_view`; raises ``PoseError`` on a side
    view.
    """
    cfg = config or FramingConfig()
    kp = np.asarray(keypoints, np.float64)
    if cfg.min_front_width <= 0 or not _seen(kp, (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP), cfg):
        return
    sh, hp = kp[[L_SHOULDER, R_SHOULDER], :2], kp[[L_HIP, R_HIP], :2]
    torso = float(np.linalg.norm(sh.mean(axis=0) - hp.mean(axis=0)))
    if torso > 0 and float(np.linalg.norm(sh[0] - sh[1])) < cfg.min_front_width * torso:
        raise PoseError("the photo seems to show you from the side: use a photo taken from the front, facing the "
                        "camera")


def refuse_lean(keypoints: np.ndarray, config: FramingConfig | None = None) -> None:
    """Refuse a body lying, upside down or leaning far from upright (a backflip, a cartwheel), whatever the garment.

    The shoulder-to-hip line may lean at most ``max_lean_deg`` from vertical (:func:`_refuse_lean`), as in the
    student's framing. Only when both shoulders and both hips are seen (a waist-up photo's hips are guessed).
    Arguments as :func:`refuse_back_view`; raises ``PoseError``, saying to use an upright photo.
    """
    cfg = config or FramingConfig()
    kp = np.asarray(keypoints, np.float64)
    if _seen(kp, (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP), cfg):
        _refuse_lean(kp, cfg)


def _refuse_posture(kp: np.ndarray, cfg: FramingConfig) -> None:
    """:func:`_refuse_lean`, then :func:`refuse_side_view` (shoulders and hips seen)."""
    _refuse_lean(kp, cfg)
    refuse_side_view(kp, cfg)


def _refuse_lean(kp: np.ndarray, cfg: FramingConfig) -> None:
    """PoseError when the shoulder-to-hip line leans more than ``max_lean_deg`` from vertical (180 = upside down)."""
    sh, hp = kp[[L_SHOULDER, R_SHOULDER], :2].mean(axis=0), kp[[L_HIP, R_HIP], :2].mean(axis=0)
    lean = math.degrees(math.atan2(abs(hp[0] - sh[0]), hp[1] - sh[1]))
    if lean > cfg.max_lean_deg:
        raise PoseError(f"your body is tilted {lean:.0f} degrees from upright: use a photo where you stand or sit "
                        "upright")


def pose_gate_scores(keypoints: np.ndarray, image_size: tuple[int, int],
                     config: FramingConfig | None = None, category: str = "tops") -> dict[str, float]:
    """The pose-only signals of the teacher's quality gate, scored on the framing's keypoints.

    ``pose`` is :func:`tryon.teacher.gate.pose_visibility` (lower shoulder, mean elbow, mean hip visibility; elbows
    and hips below the photo count as seen); ``stance`` is :func:`tryon.teacher.gate.leg_raise` (the ankles'
    height difference over the mean leg length), measured only when both knees and both ankles are seen inside
    the photo (else 0: a waist-up photo raises no leg); ``arms_across`` is :func:`tryon.teacher.gate.arms_across`
    (the share of a seen forearm lying over the shoulder-hip quadrilateral) and ``forearm_raised`` is
    :func:`tryon.teacher.gate.forearm_raised` (a seen wrist's height above its elbow, in shoulder widths), each for
    the categories its entry lists.
    Each raw value is mapped by the gate's straight ramp (:func:`tryon.teacher.gate.ramp`) with
    ``config.pose_gate``'s end points. ``web/src/guard.js`` (``poseGateScores``) computes the same;
    ``tests/web/test_pose_gate_parity.py`` holds them together.

    Args:
        keypoints: (33, 4) BlazePose keypoints (x, y photo pixels, z, visibility).
        image_size: (height, width) of the photo.
        config: the rules.
        category: the garment's category (any spelling :func:`tryon.garment.category.normalise_category`
            accepts): a signal whose ``pose_gate`` entry lists ``categories`` is scored only for those.

    Returns:
        signal name -> score in [0, 1] (1 = fine), for each signal of ``config.pose_gate`` scored for ``category``.

    Raises:
        UsageError: ``keypoints`` is not (33, 4); a signal of ``config.pose_gate`` is not one of
            :data:`POSE_GATE_SIGNALS`.
    """
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category
    from tryon.teacher.gate import arms_across, forearm_raised, leg_raise, pose_visibility, ramp

    cfg = config or FramingConfig()
    name = normalise_category(category)
    kp = np.asarray(keypoints, np.float64)
    legs = (L_KNEE, R_KNEE, L_ANKLE, R_ANKLE)
    raw = {"pose": pose_visibility(kp, int(image_size[0])),
           "stance": leg_raise(kp) if _seen_inside(kp, legs, image_size, cfg) else 0.0,
           "arms_across": arms_across(kp, int(image_size[0])),
           "forearm_raised": forearm_raised(kp, int(image_size[0]))}
    unknown = sorted(set(cfg.pose_gate) - set(raw))
    if unknown:
        raise UsageError(f"the pose gate has no signal {', '.join(unknown)} (it scores {', '.join(POSE_GATE_SIGNALS)})")
    return {k: ramp(raw[k], float(r["bad"]), float(r["good"])) for k, r in cfg.pose_gate.items()
            if name in r.get("categories", (name,))}


def refuse_pose_gate(keypoints: np.ndarray, image_size: tuple[int, int], config: FramingConfig | None = None,
                     min_score: float | None = None, category: str = "tops") -> dict[str, float]:
    """Refuse, before the student runs, a photo the teacher's quality gate would refuse from the pose alone.

    The student has no gate of its own after it (its result carries no warp or parse to measure), and dressed
    mid-air jumps and bodies turned away from the camera as smears (its model card,
    ``models/weights/afn_student_s.md``). The weakest signal of :func:`pose_gate_scores` is refused when it scores
    at most ``min_score``.

    Args:
        keypoints: (33, 4) BlazePose keypoints.
        image_size: (height, width) of the photo.
        config: the rules (``pose_gate``, ``pose_gate_min_score``).
        min_score: the refusal's score (default ``config.pose_gate_min_score``; live mode passes
            ``pose_gate_resume_score`` after a refusal).
        category: the garment's category (see :func:`pose_gate_scores`).

    Returns:
        the scores, when nothing is refused.

    Raises:
        PoseError: the weakest signal scores at most ``min_score``; the message says what is wrong and what to
            change (the gate's advice).
    """
    cfg = config or FramingConfig()
    limit = cfg.pose_gate_min_score if min_score is None else float(min_score)
    scores = pose_gate_scores(keypoints, image_size, cfg, category)
    if scores:
        weakest = min(scores, key=scores.__getitem__)  # ties: the first in config order (POSE_GATE_SIGNALS')
        if scores[weakest] <= limit:
            spec = cfg.pose_gate[weakest]
            raise PoseError(f"{spec['what']}: {spec['advice']}")
    return scores


@dataclass
class OutputQuality:
    """The student's output-gate measurement of one result (the fields of the teacher's
    :class:`tryon.teacher.gate.Quality` that ``tryon run`` prints and writes to ``quality.jsonl``).

    Attributes:
        confidence: the lowest signal score, in [0, 1] (1 when no signal is scored for the category).
        weakest: the name of that signal (a key of ``FramingConfig.output_gate``), or "" when none is scored.
        raw: signal name -> raw measurement (shares in [0, 1], or more for ``old_garment``).
        scores: signal name -> score in [0, 1].
    """

    confidence: float
    weakest: str
    raw: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"confidence", "weakest", "raw", "scores"}`` (floats rounded to 4 places)."""
        return {"confidence": round(self.confidence, 4), "weakest": self.weakest,
                "raw": {k: round(float(v), 4) for k, v in self.raw.items()},
                "scores": {k: round(float(v), 4) for k, v in self.scores.items()}}


def skin_pixels(image: np.ndarray, config: FramingConfig | None = None) -> np.ndarray:
    """Skin-coloured pixels by a YCrCb box (Chai & Ngan, IEEE TCSVT 1999), in plain float arithmetic (ITU-R BT.601,
    as OpenCV's RGB2YCrCb without its fixed-point rounding) so that ``web/src/guard.js`` gets the same pixels.

    Args:
        image: (h, w, 3) uint8 RGB.
        config: the rules (``skin_cr``, ``skin_cb``).

    Returns:
        (h, w) bool.
    """
    cfg = config or FramingConfig()
    rgb = np.asarray(image, np.float64)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    cr = (rgb[..., 0] - y) * 0.713 + 128.0
    cb = (rgb[..., 2] - y) * 0.564 + 128.0
    return (cr >= cfg.skin_cr[0]) & (cr <= cfg.skin_cr[1]) & (cb >= cfg.skin_cb[0]) & (cb <= cfg.skin_cb[1])


def output_gate_raw(composition_mask: np.ndarray, person_crop: np.ndarray, keypoints: np.ndarray,
                    box: tuple[int, int, int, int], person_low: np.ndarray | None, low_scale: float,
                    config: FramingConfig | None = None) -> dict[str, float]:
    """The student's output-gate measurements, in its input frame.

    A parser-free student has no parse or warp to check (the teacher's gate, ``tryon.teacher.gate``), but its
    composition mask says where it put the garment, and the framing's person mask and keypoints say where the
    person and the torso are. Two failures a shopper sees first are measurable from those alone:

    - ``off_body``: the share of the composition mask's mass outside the person mask (a garment spilled onto the
      background beside the person; the guard hides it, which leaves a garment cut off at the body's edge);
    - ``old_garment``: pixels of the person, between the shoulders (less a tenth of the torso) and the hips, off
      the head guard, that the composition mask does not cover (< 0.5) and that are not skin-coloured
      (:func:`skin_pixels`), over the composition mask's area (> 0.5): the old garment left around the new one
      (a jacket's sleeves, a coat's fronts, long sleeves under short ones). Beige clothes read as skin and very
      dark or very pale skin may not: the colour rule is coarse, and the ramps leave room for it.

    ``web/src/guard.js`` (``outputGateRaw``) computes the same; ``tests/web/test_guard_golden.py`` holds them
    together.

    Args:
        composition_mask: (h, w) float32 in [0, 1], the student's composition mask before the guard.
        person_crop: (h, w, 3) uint8 RGB, the person photo's box as the student saw it.
        keypoints: (33, 4) BlazePose keypoints, photo pixels.
        box: (x0, y0, width, height) framing box, photo pixels.
        person_low: (rh, rw) float32 person probability at the segmenter's resolution, or None (live frames
            tracked without the segmenter): nothing is measured.
        low_scale: segmenter pixels per photo pixel.
        config: the rules.

    Returns:
        ``{"off_body": share in [0, 1], "old_garment": share (may exceed 1)}``; both 1 when the composition mask is
        empty (no garment drawn); ``{}`` without a person mask.
    """
    cfg = config or FramingConfig()
    if person_low is None:
        return {}
    m = np.asarray(composition_mask, np.float64)
    mh, mw = m.shape
    size = (mh, mw)
    person = person_in_model(person_low, low_scale, box, size, cfg)
    mass = float(m.sum())
    shown = int((m > 0.5).sum())
    if mass < 1.0 or shown == 0:
        return {"off_body": 1.0, "old_garment": 1.0}
    guard = guard_mask(keypoints, box, None, low_scale, size, cfg)  # the head only
    sx, sy, ox, oy = box_transform(box, size)
    kp = np.asarray(keypoints, np.float64)
    shoulder_y = float(kp[[L_SHOULDER, R_SHOULDER], 1].mean() * sy + oy)
    hip_y = float(kp[[L_HIP, R_HIP], 1].mean() * sy + oy)
    rows = np.arange(mh, dtype=np.float64)[:, None]
    band = (rows > shoulder_y - 0.1 * (hip_y - shoulder_y)) & (rows < hip_y)
    left = person & band & (guard < 0.5) & (m < 0.5) & ~skin_pixels(person_crop, cfg)
    return {"off_body": float((m * ~person).sum() / mass), "old_garment": float(left.sum() / shown)}


def output_gate_scores(raw: dict[str, float], config: FramingConfig | None = None,
                       category: str = "tops") -> OutputQuality:
    """Score :func:`output_gate_raw`'s measurements by ``config.output_gate``'s straight ramps
    (:func:`tryon.teacher.gate.ramp`); a signal whose entry lists ``categories`` is scored only for those.

    Args:
        raw: signal name -> measurement.
        config: the rules.
        category: the garment's category (FASHN's name or an alias).

    Returns:
        an :class:`OutputQuality` (confidence 1, weakest "" when nothing is scored).

    Raises:
        UsageError: a signal of ``config.output_gate`` is not one of :data:`OUTPUT_GATE_SIGNALS`.
    """
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category
    from tryon.teacher.gate import ramp

    cfg = config or FramingConfig()
    unknown = sorted(set(cfg.output_gate) - set(OUTPUT_GATE_SIGNALS))
    if unknown:
        raise UsageError(f"the output gate has no signal {', '.join(unknown)} (it scores "
                         f"{', '.join(OUTPUT_GATE_SIGNALS)})")
    name = normalise_category(category)
    scores = {k: ramp(raw[k], float(r["bad"]), float(r["good"])) for k, r in cfg.output_gate.items()
              if name in r.get("categories", (name,)) and k in raw}
    if not scores:
        return OutputQuality(1.0, "", dict(raw), {})
    weakest = min(scores, key=scores.__getitem__)  # ties: the first in config order
    return OutputQuality(scores[weakest], weakest, dict(raw), scores)


def refuse_output_gate(quality: OutputQuality, config: FramingConfig | None = None) -> None:
    """Refuse a student result whose weakest output-gate signal scores at most ``config.output_gate_min_score``.

    Raises:
        LowConfidenceError: with ``quality`` attached; the message says what is wrong and what to change in the
            shopper's words (the signal's name is in its ``cli_hint``, which ``tryon`` prints).
    """
    from tryon.errors import LowConfidenceError

    cfg = config or FramingConfig()
    if quality.weakest and quality.confidence <= cfg.output_gate_min_score:
        spec = cfg.output_gate[quality.weakest]
        err = LowConfidenceError(f"{spec['what']}: {spec['advice']}", quality=quality)
        # The shopper reads the message; the signal's name is for whoever runs the command.
        err.cli_hint = (f"the student's output gate, weakest signal {quality.weakest} "
                        f"({quality.raw[quality.weakest]:.2f}); {LowConfidenceError.cli_hint}")
        raise err


def _round(x: float) -> int:
    """Round half up, as JavaScript's ``Math.round`` (Python's ``round`` rounds half to even)."""
    return int(math.floor(x + 0.5))


def _seen(kp: np.ndarray, idx, cfg: FramingConfig) -> bool:
    return bool(np.all(kp[list(idx), 3] >= cfg.min_visibility))


def _inside(kp: np.ndarray, idx, image_size: tuple[int, int]) -> bool:
    ih, iw = image_size
    pts = kp[list(idx)]
    return bool(np.all((pts[:, 0] >= 0) & (pts[:, 0] < iw) & (pts[:, 1] >= 0) & (pts[:, 1] < ih)))


def _seen_inside(kp: np.ndarray, idx, image_size: tuple[int, int], cfg: FramingConfig) -> bool:
    return _seen(kp, idx, cfg) and _inside(kp, idx, image_size)


def _refuse_back_view(kp: np.ndarray, left: int, right: int, cfg: FramingConfig) -> float:
    """PoseError when a left/right pair is mirrored (a back view); returns the pair's distance, px."""
    width = float(np.hypot(*(kp[left, :2] - kp[right, :2])))
    # A front-facing person's left shoulder (and hip) is on the image's right.
    if kp[left, 0] - kp[right, 0] < -cfg.back_view_margin * max(width, 1.0):
        raise PoseError("the photo seems to show you from the back: use a photo taken from the front")
    return width


def refuse_back_view(keypoints: np.ndarray, config: FramingConfig | None = None) -> None:
    """Refuse a photo taken from the back, whatever the garment (the teacher reads it before dressing a top).

    BlazePose keeps the anatomical sides on a back view, so the left shoulder (or hip, when the shoulders are not
    seen) lies on the image's left: mirrored by more than ``back_view_margin`` of their distance.

    Args:
        keypoints: (33, 4) BlazePose keypoints (x, y photo pixels, z, visibility).
        config: the rules; default :class:`FramingConfig`.

    Raises:
        PoseError: a back view.
    """
    cfg = config or FramingConfig()
    pair = (L_SHOULDER, R_SHOULDER) if _seen(keypoints, (L_SHOULDER, R_SHOULDER), cfg) else (L_HIP, R_HIP)
    if _seen(keypoints, pair, cfg):
        _refuse_back_view(keypoints, *pair, cfg)


def bottom_cut(person: np.ndarray, config: FramingConfig | None = None) -> bool:
    """Whether the person mask leaves the photo at its bottom edge (a photo cut at the thighs, a waist-up selfie,
    or feet on the edge).

    Args:
        person: (h, w) float person probability over the whole photo, at any resolution (the segmenter's
            ``low_res`` output, or the teacher's full-resolution mask).
        config: the rules (``cut_bottom_band``, ``cut_min_bottom_share``, ``mask_threshold``).

    Returns:
        True when at least ``cut_min_bottom_share`` of the columns are person in the mask's bottom
        ``cut_bottom_band`` of rows (at least one row).
    """
    cfg = config or FramingConfig()
    m = np.asarray(person) > cfg.mask_threshold
    if m.ndim != 2 or m.size == 0:
        return False
    rows = max(1, math.ceil(cfg.cut_bottom_band * m.shape[0]))
    return bool(m[-rows:].any(axis=0).mean() >= cfg.cut_min_bottom_share)


def knees_cut(keypoints: np.ndarray, image_size: tuple[int, int], config: FramingConfig | None = None,
              bottom: bool | None = None) -> bool:
    """Whether the legs leave the photo at its bottom edge above the knees (a photo cut at the thighs), rather
    than a knee being hidden inside it (crossed legs, shopping bags in front).

    The hips must be seen inside the photo, the knees not both, and the ankles not both (feet in the photo: the
    legs do not leave it above the knees). Then the legs were cut off by the frame when the person mask leaves
    the photo at its bottom edge (``bottom``, :func:`bottom_cut`), or when every knee not seen inside the
    photo is placed by BlazePose below its bottom edge or less than ``cut_knee_margin`` estimated thighs
    (``thigh_per_torso`` x the vertical shoulder-to-hip distance) above it. BlazePose alone cannot tell: on a
    photo cut at mid-thigh it squeezes the legs into the photo and may even call a knee there seen; a hidden
    knee is placed where the leg is, inside the photo, and the mask of a standing person ends at the feet.

    Args:
        keypoints: (33, 4) BlazePose keypoints, x, y in photo pixels, visibility in [0, 1].
        image_size: (height, width) of the photo.
        config: the rules; default :class:`FramingConfig`.
        bottom: whether the person mask leaves the photo at its bottom edge (:func:`bottom_cut`); None when no
            mask is at hand (keypoints only).

    Returns:
        True when the legs were cut off by the photo's bottom edge above the knees.
    """
    cfg = config or FramingConfig()
    kp = np.asarray(keypoints, np.float64)
    if (not _seen_inside(kp, (L_HIP, R_HIP), image_size, cfg) or _seen_inside(kp, (L_KNEE, R_KNEE), image_size, cfg)
            or _seen_inside(kp, (L_ANKLE, R_ANKLE), image_size, cfg)):
        return False
    if bottom:
        return True
    out = [k for k in (L_KNEE, R_KNEE) if not _seen_inside(kp, (k,), image_size, cfg)]
    thigh = cfg.thigh_per_torso * (float(kp[[L_HIP, R_HIP], 1].mean()) - float(kp[[L_SHOULDER, R_SHOULDER], 1].mean()))
    edge = float(image_size[0]) - cfg.cut_knee_margin * max(thigh, 0.0)
    return bool(all(kp[k, 1] >= edge for k in out))


def _seen_knees(kp: np.ndarray, image_size: tuple[int, int], cfg: FramingConfig) -> list[int]:
    """Both knees when both are seen inside the photo, else none (knees cut off by the frame are guesses)."""
    return [L_KNEE, R_KNEE] if _seen_inside(kp, (L_KNEE, R_KNEE), image_size, cfg) else []


def _cut_torso(kp: np.ndarray, image_size: tuple[int, int], cfg: FramingConfig) -> float:
    """The torso of a photo cut at the thighs, px: the vertical shoulder-to-hip distance, at least
    ``cut_torso_per_shoulder`` x the shoulder width when the shoulders are seen inside the photo (BlazePose
    squeezes a body cut at the thighs into the photo: its hips come out too high)."""
    torso = float(kp[[L_HIP, R_HIP], 1].mean()) - float(kp[[L_SHOULDER, R_SHOULDER], 1].mean())
    if _seen_inside(kp, (L_SHOULDER, R_SHOULDER), image_size, cfg):
        torso = max(torso, cfg.cut_torso_per_shoulder * float(np.hypot(*(kp[L_SHOULDER, :2] - kp[R_SHOULDER, :2]))))
    return torso


def _leg_length(kp: np.ndarray, image_size: tuple[int, int], cfg: FramingConfig, view: str,
                cut_ok: bool = False, bottom: bool | None = None) -> float:
    """Vertical hip-centre-to-ankle-centre distance, px: measured when both ankles are seen inside the photo,
    else ``(1 + shin_per_thigh)`` x the hip-to-knee distance; with ``cut_ok``, when the legs leave the photo at
    its bottom edge above the knees (:func:`knees_cut`), the hip-to-knee distance is ``thigh_per_torso`` x the
    torso (:func:`_cut_torso`).

    Raises:
        PoseError: the knees are not both seen inside the photo, nor (``cut_ok``) cut off by its bottom edge
            (``view`` says what the photo must show; a knee hidden inside the photo is named).
    """
    hip_y = float(kp[[L_HIP, R_HIP], 1].mean())
    if _seen_inside(kp, (L_KNEE, R_KNEE), image_size, cfg):
        thigh = float(kp[[L_KNEE, R_KNEE], 1].mean()) - hip_y
    elif cut_ok and knees_cut(kp, image_size, cfg, bottom):
        return (1.0 + cfg.shin_per_thigh) * cfg.thigh_per_torso * _cut_torso(kp, image_size, cfg)
    elif cut_ok and _seen_inside(kp, (L_HIP, R_HIP), image_size, cfg):
        raise PoseError("the legs are not in view: a knee is hidden (crossed legs, a long skirt or coat, or something "
                        f"in front of it): take a photo that shows you {view}, standing with nothing in front of your "
                        "legs (knees visible), facing the camera")
    else:
        raise PoseError(f"the legs are not in view: take a photo that shows you {view}, facing the camera")
    leg = (1.0 + cfg.shin_per_thigh) * thigh
    if _seen_inside(kp, (L_ANKLE, R_ANKLE), image_size, cfg):
        leg = float(kp[[L_ANKLE, R_ANKLE], 1].mean()) - hip_y
    if leg <= 0:
        raise PoseError("your body is upside down or lying: use a photo where you stand or sit upright")
    return leg


def category_frame(keypoints: np.ndarray, image_size: tuple[int, int], config: FramingConfig | None = None,
                   category: str = "tops", bottom: bool | None = None) -> dict[str, Any]:
    """The box of a garment category before rounding: the body's centre line, an anchor point and the height.

    Which box a category gets is data (``FramingConfig.category_boxes``):

    * ``upper_body`` (tops): the shoulder centre at ``shoulder_y`` and the hip centre at ``hip_y`` (the
      student's VITON training frames); height ``= torso / (hip_y - shoulder_y)`` with ``torso`` the vertical
      shoulder-to-hip distance, or ``torso_per_shoulder`` x the shoulder width when the hips are not seen inside
      the photo (a waist-up selfie).
    * ``lower_body`` (bottoms): the hip centre at ``lower_hip_y`` (the top third) and the ankle centre at
      ``lower_ankle_y`` (below it: the feet and a long hem); height ``= leg / (lower_ankle_y - lower_hip_y)``
      with ``leg`` the vertical hip-to-ankle distance, or ``(1 + shin_per_thigh)`` x the hip-to-knee distance
      when the ankles are not seen inside the photo (shorts and skirts need the knees only). Centred on the
      hips' and knees' mean x.
    * ``full_body`` (one-pieces): the shoulder centre at ``full_shoulder_y`` and the ankle centre at
      ``full_ankle_y``; height from the vertical shoulder-to-ankle distance (the leg estimated from the knees
      as above). Centred on the shoulders', hips' and knees' mean x.

    A box listed in ``cut_legs_boxes`` (one-pieces) also frames a photo whose legs leave it at its bottom edge
    above the knees (:func:`knees_cut`: a mirror selfie, a phone photo cut at the thighs): the hip-to-knee
    distance is then ``thigh_per_torso`` x the torso (the vertical shoulder-to-hip distance, at least
    ``cut_torso_per_shoulder`` shoulder widths), the box reaches below the photo (padded by
    :func:`crop_to_box`) and is centred on the shoulders and hips. When the legs leave the photo at its bottom
    edge (``bottom``, the ankles not seen inside it) but BlazePose calls the knees seen, the body is at least
    that estimate (it squeezes the legs of a photo cut at the thighs into the photo). A knee hidden inside the
    photo (crossed legs, something in front) is still refused.

    Args:
        keypoints: (33, 4) BlazePose keypoints, x, y in photo pixels, visibility in [0, 1].
        image_size: (height, width) of the photo.
        config: the rules; default :class:`FramingConfig`.
        category: a garment category in any spelling :func:`tryon.garment.category.normalise_category` accepts
            (not ``auto``).
        bottom: whether the person mask leaves the photo at its bottom edge (:func:`bottom_cut`; None: judged
            from the keypoints alone, see :func:`knees_cut`).

    Returns:
        ``cx``, ``cy`` (the anchor point: shoulder centre, or hip centre for ``lower_body``), ``height`` (photo
        px), ``anchor_y`` (the anchor's fraction of the box height), ``hips_seen``, ``kind`` (the box's name),
        ``part`` (words for the body part the box frames).

    Raises:
        PoseError: the needed body part is not seen inside the photo (shoulders; hips or knees for bottoms and
            one-pieces: "the legs are not in view ..."; one-pieces: knees cut off by the photo's bottom edge are
            not refused, a knee hidden inside it is), a back view, a body leaning more than
            ``max_lean_deg``, or a side view (``min_front_width``).
        UnsupportedCategoryError: the rules frame no box for that category.
        UsageError: an unknown category name, or ``auto``.
    """
    from tryon.errors import UnsupportedCategoryError, UsageError
    from tryon.garment.category import normalise_category

    cfg = config or FramingConfig()
    cat = normalise_category(category)
    if cat == "auto":
        raise UsageError("framing needs the garment's category (tops, bottoms or one-pieces), not auto")
    kind = cfg.category_boxes.get(cat)
    if kind not in BOX_KINDS:
        raise UnsupportedCategoryError(f"these framing rules frame no box for {cat} (they frame "
                                       f"{', '.join(sorted(cfg.category_boxes)) or 'nothing'}): re-export the "
                                       "student with `tryon export`")
    kp = np.asarray(keypoints, np.float64)
    if kind == "lower_body":
        view = "from the waist down to at least the knees (trousers: down to the feet)"
        if not _seen_inside(kp, (L_HIP, R_HIP), image_size, cfg):
            raise PoseError(f"the hips are not in view: take a photo that shows you {view}, facing the camera")
        shoulders = _seen_inside(kp, (L_SHOULDER, R_SHOULDER), image_size, cfg)
        if shoulders:
            _refuse_back_view(kp, L_SHOULDER, R_SHOULDER, cfg)
            _refuse_posture(kp, cfg)
        else:
            _refuse_back_view(kp, L_HIP, R_HIP, cfg)
        leg = _leg_length(kp, image_size, cfg, view, kind in cfg.cut_legs_boxes, bottom)
        cx = float(kp[[L_HIP, R_HIP] + _seen_knees(kp, image_size, cfg), 0].mean())
        cy = float(kp[[L_HIP, R_HIP], 1].mean())
        return {"cx": cx, "cy": cy, "height": leg / (cfg.lower_ankle_y - cfg.lower_hip_y),
                "anchor_y": cfg.lower_hip_y, "hips_seen": True, "kind": kind, "part": "lower body"}
    view = "from the shoulders down to at least the chest" if kind == "upper_body" else \
        "from the shoulders down to at least the knees (long dresses: down to the feet)"
    if not _seen_inside(kp, (L_SHOULDER, R_SHOULDER), image_size, cfg):
        raise PoseError(f"the shoulders are not in view: use a photo that shows you {view}, facing the camera")
    shoulder_w = _refuse_back_view(kp, L_SHOULDER, R_SHOULDER, cfg)
    centre = kp[[L_SHOULDER, R_SHOULDER], :2].mean(axis=0)
    hp = kp[[L_HIP, R_HIP]]
    hips_seen = _seen(kp, (L_HIP, R_HIP), cfg) and bool(np.all(hp[:, 1] < image_size[0]))
    if kind == "full_body":
        if not hips_seen:
            raise PoseError(f"the legs are not in view: take a photo that shows you {view}, facing the camera")
        _refuse_posture(kp, cfg)
        cut_body = _cut_torso(kp, image_size, cfg) * (1.0 + (1.0 + cfg.shin_per_thigh) * cfg.thigh_per_torso)
        if kind in cfg.cut_legs_boxes and knees_cut(kp, image_size, cfg, bottom):
            body = cut_body
        else:
            body = float(hp[:, 1].mean() - centre[1]) + _leg_length(kp, image_size, cfg, view,
                                                                     kind in cfg.cut_legs_boxes, bottom)
            if (kind in cfg.cut_legs_boxes and bottom and not _seen_inside(kp, (L_ANKLE, R_ANKLE), image_size, cfg)
                    and _seen_inside(kp, (L_HIP, R_HIP), image_size, cfg)):
                # Legs leaving the photo at its bottom edge with the knees called seen: BlazePose may have squeezed
                # them into the photo (a thigh too short), so the body is at least the torso's estimate.
                body = max(body, cut_body)
        # Knees cut off by the frame are BlazePose's guesses: the centre line from the seen joints only.
        cx = float(kp[[L_SHOULDER, R_SHOULDER, L_HIP, R_HIP] + _seen_knees(kp, image_size, cfg), 0].mean())
        return {"cx": cx, "cy": float(centre[1]), "height": body / (cfg.full_ankle_y - cfg.full_shoulder_y),
                "anchor_y": cfg.full_shoulder_y, "hips_seen": True, "kind": kind, "part": "body"}
    if hips_seen:
        torso = float(hp[:, 1].mean() - centre[1])
        cx = float((centre[0] + hp[:, 0].mean()) / 2)
        _refuse_posture(kp, cfg)
    else:
        torso = cfg.torso_per_shoulder * shoulder_w
        cx = float(centre[0])
    torso = max(torso, cfg.min_torso_per_shoulder * shoulder_w)
    return {"cx": cx, "cy": float(centre[1]), "height": torso / (cfg.hip_y - cfg.shoulder_y),
            "anchor_y": cfg.shoulder_y, "hips_seen": hips_seen, "kind": kind, "part": "upper body"}


def box_from_frame(frame: dict[str, Any], model_size: tuple[int, int],
                   config: FramingConfig | None = None) -> tuple[int, int, int, int]:
    """Round a :func:`category_frame` to whole pixels with the model's exact aspect (height a multiple of the
    aspect's terms), the anchor at its fraction of the height, the centre line at ``centre_x``.

    Args:
        frame: from :func:`category_frame`.
        model_size: (height, width) of the student's input, e.g. (256, 192).
        config: the rules.

    Returns:
        (x0, y0, width, height) in photo pixels.

    Raises:
        PoseError: the box would be shorter than ``min_box_height_px`` ("too small, come closer").
    """
    cfg = config or FramingConfig()
    mh, mw = model_size
    g = math.gcd(mh, mw)
    ah, aw = mh // g, mw // g  # e.g. 4:3
    k = max(1, _round(frame["height"] / ah))
    bh, bw = k * ah, k * aw
    if bh < cfg.min_box_height_px:
        raise PoseError(f"you are too small in the photo (your {frame['part']} is about {bh} px tall; at least "
                        f"{cfg.min_box_height_px} px are needed): come closer to the camera or crop the photo")
    x0 = _round(frame["cx"] - cfg.centre_x * bw)
    y0 = _round(frame["cy"] - frame["anchor_y"] * bh)
    return int(x0), int(y0), int(bw), int(bh)


def category_box(keypoints: np.ndarray, image_size: tuple[int, int], model_size: tuple[int, int],
                 config: FramingConfig | None = None, category: str = "tops",
                 bottom: bool | None = None) -> tuple[tuple[int, int, int, int], bool]:
    """The box a student of ``category`` sees: :func:`category_frame` rounded by :func:`box_from_frame`.

    Args:
        keypoints: (33, 4) BlazePose keypoints, x, y in photo pixels, visibility in [0, 1].
        image_size: (height, width) of the photo.
        model_size: (height, width) of the student's input.
        config: the rules; default :class:`FramingConfig`.
        category: the garment's category (``tops``, ``bottoms``, ``one-pieces``, any accepted spelling).
        bottom: whether the person mask leaves the photo at its bottom edge (see :func:`category_frame`).

    Returns:
        ((x0, y0, width, height) in photo pixels, whether the hips were used).

    Raises:
        PoseError, UnsupportedCategoryError, UsageError: see :func:`category_frame` and :func:`box_from_frame`.
    """
    frame = category_frame(keypoints, image_size, config, category, bottom)
    return box_from_frame(frame, model_size, config), frame["hips_seen"]


def upper_body_box(keypoints: np.ndarray, image_size: tuple[int, int], model_size: tuple[int, int],
                   config: FramingConfig | None = None) -> tuple[tuple[int, int, int, int], bool]:
    """The upper-body box (tops) that puts the keypoints where the student's training frames had them.

    :func:`category_box` for ``tops``: box height ``= torso / (hip_y - shoulder_y)`` with ``torso`` the vertical
    shoulder-to-hip distance (or ``torso_per_shoulder`` x the shoulder width when the hips are not seen inside
    the photo), top ``= shoulder centre - shoulder_y x height``, width from the model's aspect, centred on the
    body's centre line. The box is rounded to whole pixels with its aspect kept exactly.

    Args:
        keypoints: (33, 4) BlazePose keypoints, x, y in photo pixels, visibility in [0, 1].
        image_size: (height, width) of the photo.
        model_size: (height, width) of the student's input, e.g. (256, 192).
        config: the rules; default :class:`FramingConfig`.

    Returns:
        ((x0, y0, width, height) in photo pixels, whether the hips were used).

    Raises:
        PoseError: the shoulders are not both seen inside the photo, the shoulders are mirrored (back view), the
            body leans more than ``max_lean_deg`` or is turned sideways (``min_front_width``), or the box would be
            shorter than ``min_box_height_px``.
    """
    return category_box(keypoints, image_size, model_size, config, "tops")


def seed_rois(low: np.ndarray, scale: float, image_size: tuple[int, int], config: FramingConfig | None = None):
    """First-pass pose ROIs from the low-resolution person mask (see ``cut_roi_extensions``).

    Args:
        low: (rh, rw) person probability (``SelfieSegmenter.low_res``).
        scale: low-resolution pixels per photo pixel.
        image_size: (height, width) of the photo (the whole photo is the ROI when the mask is empty).
        config: the rules.

    Returns:
        A list of :class:`tryon.person.pose.Roi` in photo pixels: the mask box's upright square (side 1.25 x its
        longer side, as ``PoseEstimator.roi_from_mask``) first, then, when the person is cut by the bottom
        edge, one per further extension.
    """
    from tryon.person.pose import MASK_ROI_SCALE, Roi

    cfg = config or FramingConfig()
    person = low > cfg.mask_threshold
    ys, xs = np.nonzero(person)
    if len(xs) == 0:
        return [Roi(image_size[1] / 2, image_size[0] / 2, max(image_size))]
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    cut = person[-1].mean() >= cfg.cut_min_bottom_share
    rois = []
    for e in ((1.0,) + tuple(x for x in cfg.cut_roi_extensions if x != 1.0) if cut else (1.0,)):
        h = (y1 - y0) * e
        rois.append(Roi((x0 + x1) / 2 / scale, (y0 + h / 2) / scale, MASK_ROI_SCALE * max(x1 - x0, h) / scale))
    return rois


def proportion_error(keypoints: np.ndarray, config: FramingConfig | None = None) -> float:
    """How far a pose's proportions are from a person's: ``|log(shoulders/ears / shoulders_per_ear)| +
    |log(neck/ears / neck_per_ear)|`` (0 = typical; inf when the ears coincide or the neck is not below the nose).

    Args:
        keypoints: (33, 4) BlazePose keypoints.
        config: the rules.
    """
    cfg = config or FramingConfig()
    kp = np.asarray(keypoints, np.float64)
    ears = float(np.hypot(*(kp[L_EAR, :2] - kp[R_EAR, :2])))
    shoulders = float(np.hypot(*(kp[L_SHOULDER, :2] - kp[R_SHOULDER, :2])))
    neck = float(kp[[L_SHOULDER, R_SHOULDER], 1].mean() - kp[NOSE, 1])
    if ears < 1.0 or shoulders < 1.0 or neck <= 0:
        return math.inf
    return abs(math.log(shoulders / ears / cfg.shoulders_per_ear)) + abs(math.log(neck / ears / cfg.neck_per_ear))


def crop_to_box(image: np.ndarray, box: tuple[int, int, int, int], model_size: tuple[int, int],
                fill: int | float = 255) -> np.ndarray:
    """Crop ``box`` from the photo (padding with ``fill`` outside it) and resize to ``model_size``.

    Args:
        image: (H, W[, C]) array (uint8 photo or float32 mask).
        box: (x0, y0, width, height) pixels, as :func:`upper_body_box` returns; may extend past the edges.
        model_size: (height, width) of the output.
        fill: value outside the photo.

    Returns:
        (height, width[, C]) array of the image's dtype; its pixels relate to the photo's by
        :func:`box_transform`.
    """
    from tryon.processing import resize

    x0, y0, bw, bh = box
    ih, iw = image.shape[:2]
    canvas = np.full((bh, bw) + image.shape[2:], fill, dtype=image.dtype)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(iw, x0 + bw), min(ih, y0 + bh)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return resize(canvas, model_size)


class PersonFramer:
    """Find the one person in a photo and frame the student's upper-body box.

    Args:
        models_dir: folder holding the three model files named in ``config`` (default
            ``tryon.assets.models_dir()``; the student runner passes the student's folder, which carries them).
        config: the rules (a manifest's ``framing``); default :class:`FramingConfig`.
        threads: onnxruntime intra-op threads per model.

    Raises:
        MissingModelError: a model file is absent (run ``tryon setup``, or re-export the student).
    """

    def __init__(self, models_dir: str | os.PathLike | None = None, config: FramingConfig | None = None, *,
                 threads: int = 2):
        from tryon.assets import require
        from tryon.person.face import FaceDetector
        from tryon.person.pose import PoseEstimator
        from tryon.person.segmentation import SelfieSegmenter

        self.config = config or FramingConfig()
        self.segmenter = SelfieSegmenter(require(self.config.segmentation_model, models_dir), threads=threads)
        # No heatmap refinement: a box needs no sub-pixel keypoints, and the browser skips it too.
        self.pose = PoseEstimator(require(self.config.pose_model, models_dir), threads=threads,
                                  refine_with_heatmap=False)
        self.face = FaceDetector(require(self.config.face_model, models_dir), threads=threads)

    def detect(self, image: np.ndarray) -> dict[str, Any]:
        """Everything the refusals and the box are decided from, without refusing anything.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            ``keypoints`` (33, 4) float32 (x, y photo pixels, z, visibility), ``presence`` (BlazePose pose
            presence), ``person_fraction`` (share of the photo the person mask covers), ``people`` (large
            separate mask regions), ``face`` (best BlazeFace score in the crops around the nose),
            ``person_low`` / ``low_scale`` (the segmenter's mask and its pixels per photo pixel, for the guard)
            and ``bottom_cut`` (the person leaves the photo at its bottom edge, :func:`bottom_cut`).
        """
        from tryon.person.analysis import count_people

        cfg = self.config
        low, scale = self.segmenter.low_res(image)  # (rh, rw) person probability, photo px * scale = low px
        fraction = float((low > cfg.mask_threshold).mean())
        people = count_people(low, None, ratio=cfg.second_person_ratio, min_fraction=cfg.min_person_fraction,
                              threshold=cfg.mask_threshold)
        best = None
        for i, roi in enumerate(seed_rois(low, scale, image.shape[:2], cfg)):
            kp = self.pose(image, None, roi=roi)
            err = proportion_error(kp, cfg)
            if best is None or err < best[0]:
                best = (err, kp, self.pose.last_presence)
            if i == 0 and err <= cfg.max_proportion_error:
                break  # the mask's own box gave a believable body: the usual case
        _, kp, presence = best
        return {"keypoints": kp, "presence": presence, "person_fraction": fraction, "people": people,
                "face": self.face_score(image, kp), "person_low": low, "low_scale": scale,
                "bottom_cut": bottom_cut(low, cfg)}

    def face_score(self, image: np.ndarray, keypoints: np.ndarray) -> float:
        """Best face score in the crops around the nose keypoint (``face_crop_scales`` shoulder widths wide).

        Args:
            image: (H, W, 3) uint8 RGB.
            keypoints: (33, 4) BlazePose keypoints of that photo.
        """
        cfg = self.config
        kp = np.asarray(keypoints, np.float64)
        shoulder_w = float(np.hypot(*(kp[L_SHOULDER, :2] - kp[R_SHOULDER, :2])))
        eyes = float(np.hypot(*(kp[L_EYE, :2] - kp[R_EYE, :2])))
        centre = (float(kp[NOSE, 0]), float(kp[NOSE, 1]))
        return max(self.face.score(image, centre, max(k * shoulder_w, cfg.face_crop_min_eyes * eyes, 16.0))
                   for k in cfg.face_crop_scales)

    def is_person_photo(self, image: np.ndarray, min_face: float | None = None) -> bool:
        """Whether a photo shows a person with a face (to refuse a person photo given as a garment).

        Args:
            image: (H, W, 3) uint8 RGB.
            min_face: the BlazeFace score that counts as a face (default ``config.min_face_score``; a garment
                photo is judged at ``config.garment_face_score``).
        """
        d = self.detect(image)
        face = self.config.min_face_score if min_face is None else float(min_face)
        return d["person_fraction"] >= self.config.min_person_fraction and d["face"] >= face

    def __call__(self, image: np.ndarray, model_size: tuple[int, int], category: str = "tops") -> Framing:
        """Frame the person of a photo for a student of input ``model_size`` dressing ``category``.

        Args:
            image: (H, W, 3) uint8 RGB photo.
            model_size: (height, width) of the student's person input.
            category: the garment's category: which box (:func:`category_box`) is framed.

        Returns:
            A :class:`Framing`.

        Raises:
            NoPersonError: no person, or no face (a product photo, a photo of an object).
            MultiplePeopleError: two or more people.
            PoseError: a pose the teacher's gate refuses from the keypoints alone (:func:`refuse_pose_gate`), the
                body part the category needs out of view (shoulders; hips and legs for bottoms and
                one-pieces), a back view, or the person too small in the photo.
            UnsupportedCategoryError, UsageError: see :func:`category_frame`.
        """
        from tryon.garment.category import normalise_category

        cfg = self.config
        d = self.detect(image)
        kp = d["keypoints"]
        if d["person_fraction"] < cfg.min_person_fraction:
            raise NoPersonError("no person found in the photo: use a photo of yourself, facing the camera, from "
                                "the head to at least the chest (a photo of a garment goes in the garment slot)")
        if d["people"] >= 2:
            raise MultiplePeopleError(f"{d['people']} people found in the photo; use a photo of one person")
        if _seen(kp, (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP), cfg):
            _refuse_posture(np.asarray(kp, np.float64), cfg)  # before the face: BlazeFace finds no face upside down
        if d["face"] < cfg.min_face_score:
            if _seen(kp, (L_SHOULDER, R_SHOULDER), cfg) and kp[L_SHOULDER, 0] < kp[R_SHOULDER, 0]:
                raise PoseError("the photo seems to show you from the back: use a photo taken from the front")
            raise NoPersonError("no face found in the photo: use a photo of yourself facing the camera, face "
                                "visible (a photo of a garment goes in the garment slot)")
        box, hips = category_box(kp, image.shape[:2], model_size, cfg, category, d.get("bottom_cut"))
        refuse_pose_gate(kp, image.shape[:2], cfg, category=category)
        return Framing(box=box, keypoints=kp, presence=d["presence"], person_fraction=d["person_fraction"],
                       hips_seen=hips, image_size=(int(image.shape[0]), int(image.shape[1])),
                       person_low=d["person_low"], low_scale=d["low_scale"], category=normalise_category(category))


def student_guard(framing: Framing, model_size: tuple[int, int], config: FramingConfig | None = None) -> np.ndarray:
    """Where the student may not change the photo, in its input frame: 1 on the head and away from the person.

    A parser-free student sometimes warps a garment up over the chin or paints it onto the background beside
    the person; no shopper believes either. The guard is the union of the head (an ellipse from the ear and
    nose keypoints, hair included, down to the chin) and everything outside the person mask dilated by
    ``guard_person_dilation``, feathered over ``guard_feather``. The runtimes blend the student's output back to
    the photo there: ``composition_mask *= 1 - guard``, ``render = render + guard * (person - render)``.
    The arithmetic is plain (bilinear sampling with a zero border, a disk dilation, a box blur with a replicated
    border) so that ``web/src/guard.js`` computes the same values; a golden test holds them together.

    Args:
        framing: the photo's framing (with its low-resolution person mask).
        model_size: (height, width) of the student's input.
        config: the rules.

    Returns:
        (height, width) float32 in [0, 1].
    """
    cfg = config or FramingConfig()
    return guard_mask(framing.keypoints, framing.box, framing.person_low, framing.low_scale, model_size, cfg)


def guard_mask(keypoints: np.ndarray, box: tuple[int, int, int, int], person_low: np.ndarray | None,
               low_scale: float, model_size: tuple[int, int], config: FramingConfig | None = None) -> np.ndarray:
    """:func:`student_guard` on plain arrays (see there).

    Args:
        keypoints: (33, 4) BlazePose keypoints, photo pixels.
        box: (x0, y0, width, height) framing box, photo pixels.
        person_low: (rh, rw) float32 person probability at the segmenter's resolution, or None.
        low_scale: segmenter pixels per photo pixel.
        model_size: (height, width) of the student's input.
        config: the rules.

    Returns:
        (height, width) float32 in [0, 1].
    """
    cfg = config or FramingConfig()
    mh, mw = model_size
    sx, sy, ox, oy = box_transform(box, model_size)
    ys, xs = np.mgrid[:mh, :mw].astype(np.float64)
    guard = np.zeros((mh, mw), np.float32)
    if person_low is not None:
        person = person_in_model(person_low, low_scale, box, model_size, cfg)
        r = max(1, _round(cfg.guard_person_dilation * mw))
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        disk = ((dx * dx + dy * dy) <= r * r).astype(np.uint8)
        guard = 1.0 - cv2.dilate(person.astype(np.uint8), disk, borderType=cv2.BORDER_CONSTANT,
                                 borderValue=0).astype(np.float32)
    kp = np.asarray(keypoints, np.float64)
    ears = kp[[L_EAR, R_EAR], :2] * (sx, sy) + (ox, oy)  # model-frame pixels
    nose = kp[NOSE, :2] * (sx, sy) + (ox, oy)
    shoulder_y = float(kp[[L_SHOULDER, R_SHOULDER], 1].mean() * sy + oy)
    ear_d = float(np.hypot(*(ears[0] - ears[1])))
    if ear_d >= 1.0:
        cx, cy = ears.mean(axis=0)
        chin = nose[1] + cfg.guard_chin * max(0.0, shoulder_y - nose[1])
        a = cfg.guard_head_width * ear_d / 2
        b = np.where(ys < cy, cfg.guard_head_above * ear_d, max(chin - cy, 1.0))
        guard = np.maximum(guard, (((xs - cx) / a) ** 2 + ((ys - cy) / b) ** 2 <= 1.0).astype(np.float32))
    k = 2 * max(1, _round(cfg.guard_feather * mw)) + 1
    blurred = cv2.blur(guard.astype(np.float64), (k, k), borderType=cv2.BORDER_REPLICATE)
    return np.clip(blurred, 0.0, 1.0).astype(np.float32)


def person_in_model(person_low: np.ndarray, low_scale: float, box: tuple[int, int, int, int],
                    model_size: tuple[int, int], config: FramingConfig | None = None) -> np.ndarray:
    """The segmenter's person mask in the student's input frame.

    Args:
        person_low: (rh, rw) float32 person probability at the segmenter's resolution.
        low_scale: segmenter pixels per photo pixel.
        box: (x0, y0, width, height) framing box, photo pixels.
        model_size: (height, width) of the student's input.
        config: the rules (``mask_threshold``).

    Returns:
        (height, width) bool, True on the person (bilinear samples above ``mask_threshold``, 0 outside the mask).
    """
    cfg = config or FramingConfig()
    mh, mw = model_size
    sx, sy, ox, oy = box_transform(box, model_size)
    ys, xs = np.mgrid[:mh, :mw].astype(np.float64)
    # Model pixel (u, v) is photo point ((u - ox) / sx, ...), i.e. segmenter point (x + 0.5) * s - 0.5.
    lx = ((xs - ox) / sx + 0.5) * low_scale - 0.5
    ly = ((ys - oy) / sy + 0.5) * low_scale - 0.5
    return _bilinear_zero(np.asarray(person_low, np.float32), lx, ly) > cfg.mask_threshold


def _bilinear_zero(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` (h, w) at float pixel positions, 0 outside (plain float arithmetic)."""
    h, w = img.shape
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    out = np.zeros(x.shape, np.float64)
    for oy_, wy in ((0, 1 - fy), (1, fy)):
        for ox_, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + ox_, y0 + oy_
            ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            vals = np.zeros(x.shape, np.float64)
            vals[ok] = img[yi[ok], xi[ok]]
            out += wx * wy * vals
    return out


def attach_framing(folder: str | os.PathLike, *, models_dir: str | os.PathLike | None = None,
                   config: FramingConfig | None = None):
    """Deploy a student with framing: copy the framing models next to it and write the rules into its manifest.

    After this the folder is self-contained: ``tryon.student_runner.StudentRunner``, ``tryon serve`` (which
    serves the files listed in the manifest) and the widget read everything from it.

    Args:
        folder: an exported student folder (``manifest.json`` + model files).
        models_dir: where ``tryon setup`` put the person-analysis models (default ``tryon.assets.models_dir()``).
        config: the rules; default :class:`FramingConfig`.

    Returns:
        The updated :class:`tryon.manifest.Manifest` (also saved).

    Raises:
        MissingModelError: a framing model is not built (the message says to run ``tryon setup``).
        DataError: the folder has no readable manifest.
        OutputError: the folder cannot be written.
    """
    import dataclasses
    import shutil
    from pathlib import Path

    from tryon.assets import require
    from tryon.manifest import FileEntry, Manifest

    cfg = config or FramingConfig()
    out = Path(folder)
    manifest = Manifest.load(out)
    entries = []
    for name in (cfg.segmentation_model, cfg.pose_model, cfg.face_model):
        src = require(name, models_dir)
        if src.resolve() != (out / name).resolve():
            shutil.copyfile(src, out / name)
        entries.append(FileEntry.from_path(out, name))
    manifest = dataclasses.replace(manifest, framing=cfg.to_dict(), framing_files=tuple(entries))
    manifest.save(out)
    return manifest
