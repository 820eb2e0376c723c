"""The deployed student end to end: refusals, person framing, the ONNX student, full-resolution paste-back.

One runner for every Python path that runs the exported student: the fallback API (``tryon.server.engine``),
``tryon run --method student`` and ``tryon eval --method student``; ``web/src/worker.js`` does the same steps in
the browser. Per pair:

1. **Garment checks** (:meth:`StudentRunner.analyse_garment`, cached by the garment's pixels): a photo of a
   person given as the garment is refused (:class:`~tryon.errors.PhotoTypeError`); the garment mask on a plain
   background (:func:`tryon.garment.mask.garment_mask`, else
   :class:`~tryon.errors.BusyBackgroundError`), fed to the student of tops or one-pieces with its backdrop fringe,
   shadow and tinted paper peeled as the teacher draws those
   (:func:`tryon.garment.landmarks_onepiece.trim_backdrop_fringe`); the category (given, or from
   :func:`tryon.garment.category.classify_garment`): the student dresses the categories its manifest lists
   (``categories``; the deployed student: tops), anything else is refused with
   :class:`~tryon.errors.UnsupportedCategoryError` naming the category, and so is a garment the classifier cannot
   tell (``uncertain``: the message asks for the category).
2. **Person framing** (:class:`tryon.framing.PersonFramer`, rules from the model folder's ``manifest.json``
   ``framing``): the box of the garment's category the student was trained on (upper body for tops, lower body
   for bottoms, full body for one-pieces); no person, several people, no face, a back view, the needed body
   part out of view or a person too small are refused. A manifest without ``framing`` (a stand-in
   or an older export) letterboxes the whole photo instead, as before framing existed. A garment photographed
   folded is refused in step 1, but the person is framed all the same, and when the framing refuses the pose the
   :class:`~tryon.errors.PoseError` names both (:meth:`StudentRunner.refuse_with_pose`, as the teacher does).
3. **The student**: one onnxruntime step on the box (person) and the letterboxed garment.
4. **Output gate** (:func:`tryon.framing.output_gate_raw`, rules from the manifest's ``framing.output_gate``): a
   result whose composition mask spills beside the person, or leaves the old garment showing around the new one
   (a jacket, a coat, long sleeves), is refused with :class:`~tryon.errors.LowConfidenceError` (``gate=False``:
   measured and returned); the measurement is the result's ``quality``.
5. **Guard and paste-back**: the student's output is blended back to the photo on the head and away from the
   person (:func:`tryon.framing.student_guard`), then pasted back (:func:`tryon.pasteback.paste_back`) at the
   photo's own resolution inside the box; the photo outside the box is untouched.

The result carries what the teacher's :class:`tryon.teacher.pipeline.TeacherResult` carries where the student
has it (``tryon``, ``warped_garment``, ``warped_mask``, ``composition_mask``, ``keypoints``, ``garment_info``,
``timings``), so ``tryon eval`` scores both the same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from tryon.errors import MissingModelError, PhotoTypeError, PoseError, TryonError, UnsupportedCategoryError
from tryon.framing import (PHOTOS_SWAPPED, Framing, FramingConfig, box_transform, crop_to_box,
                           refuse_person_as_garment)
from tryon.manifest import AUTO, Manifest
from tryon.pasteback import Transform, paste_back
from tryon.processing import letterbox, to_nchw

__all__ = ["REQUIRED_INPUTS", "REQUIRED_OUTPUTS", "GarmentAnalysis", "Prepared", "StudentResult", "StudentSession",
           "StudentRunner", "DeployedStudents", "select_providers", "refuse_named_category"]

log = logging.getLogger(__name__)

REQUIRED_INPUTS = ("person", "garment", "garment_mask")
REQUIRED_OUTPUTS = ("tryon", "grid", "composition_mask")


def select_providers(preference: str) -> list[Any]:
    """onnxruntime providers for ``preference`` (``auto``, ``cuda`` or ``cpu``).

    Raises:
        MissingModelError: ``cuda`` was asked for but this onnxruntime build has no CUDAExecutionProvider.
    """
    import onnxruntime as ort

    available = ort.get_available_providers()
    if preference == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return [("CUDAExecutionProvider", {"device_id": 0, "arena_extend_strategy": "kSameAsRequested",
                                           "cudnn_conv_algo_search": "HEURISTIC"}), "CPUExecutionProvider"]
    if preference == "cuda":
        raise MissingModelError("providers=cuda, but this onnxruntime has no CUDAExecutionProvider "
                                f"(available: {', '.join(available)}); install onnxruntime-gpu or use providers=auto")
    return ["CPUExecutionProvider"]


PEEL_SIDE = 640
"""Longest side, in pixels, at which :func:`_peeled` peels a larger garment photo's mask (the student's garment input
is a few hundred pixels; the widget peels at the photo's size, with its two widest blurs at reduced size)."""


def _peeled(garment: np.ndarray, mask: np.ndarray, category: str) -> np.ndarray:
    """The garment mask a runner computed, as the student is given it: for the categories the teacher draws from a
    peeled mask (:data:`tryon.garment.segmenter.PEELED_CATEGORIES`: tops, one-pieces), the teacher's
    :func:`tryon.garment.landmarks_onepiece.trim_backdrop_fringe` (the fringe of backdrop along the outline, the
    garment's cast shadow and the paper tinted by its colour peeled), so a small shop photo's white halo is not
    drawn on the person; bottoms keep the whole mask, as the teacher draws them. The category is read from the
    whole mask first, as the teacher reads it. A photo longer than :data:`PEEL_SIDE` is peeled at that size and the
    peel brought back to the photo's (the whole mask's own outline kept where nothing was peeled).

    Args:
        garment: (Hg, Wg, 3) uint8 RGB garment photo.
        mask: (Hg, Wg) float32 [0, 1] garment mask of that photo.
        category: the garment's category, one of FASHN's names (``tops``, ``bottoms``, ``one-pieces``).

    Returns:
        (Hg, Wg) float32 [0, 1]: the mask with the peeled pixels (and the soft edge beyond them) at 0, or ``mask``
        itself for a category that is not peeled.
    """
    import cv2

    from tryon.garment.landmarks_onepiece import trim_backdrop_fringe
    from tryon.garment.segmenter import PEELED_CATEGORIES

    if category not in PEELED_CATEGORIES:
        return mask
    h, w = mask.shape[:2]
    s = PEEL_SIDE / max(h, w)
    if s >= 1.0:
        return trim_backdrop_fringe(garment, mask)
    # The student sees the mask at its own few hundred pixels: peeled at PEEL_SIDE, wild-dev's 1536x2048 tees take
    # 0.1-0.2 s instead of about 5 (a 2732x2048 photo took 55 s), and the peeled masks agree at IoU 0.995 (the peel's
    # depth is a share of the garment's width, so it scales).
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = trim_backdrop_fringe(cv2.resize(garment, size, interpolation=cv2.INTER_AREA),
                                 cv2.resize(mask, size, interpolation=cv2.INTER_AREA))
    return np.minimum(mask, cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)).astype(np.float32)


def refuse_named_category(category: str, dressed: tuple[str, ...]) -> None:
    """Refuse a category the caller named (not one the classifier guessed) that no student here dresses.

    Args:
        category: the named category (FASHN's vocabulary, normalised).
        dressed: what the deployed student(s) dress.

    Raises:
        UnsupportedCategoryError: ``category`` is not in ``dressed``; the message says what is dressed, and the
            command line adds that the teacher dresses every category.
    """
    if category in dressed:
        return
    from tryon.teacher.pipeline import Teacher

    err = UnsupportedCategoryError(f"{category} garments are not dressed by the student (it dresses "
                                   f"{' and '.join(dressed)}); pick a garment of {' or '.join(dressed)}")
    err.cli_hint = f"or leave out --method student: the teacher dresses {', '.join(Teacher.CATEGORIES)}"
    raise err


@dataclass(frozen=True)
class GarmentAnalysis:
    """What the student needs to know about a garment photo.

    Attributes:
        mask: (Hg, Wg) float32 garment mask in [0, 1], as the student is given it (one computed by the runner is
            peeled for tops and one-pieces, :func:`_peeled`).
        category: ``tops`` | ``bottoms`` | ``one-pieces`` (FASHN's vocabulary).
        info: the classifier's :class:`tryon.garment.category.GarmentInfo`, or None when the category was given.
    """

    mask: np.ndarray
    category: str
    info: Any = None


@dataclass
class Prepared:
    """One job's model feeds plus what paste-back needs.

    Attributes:
        feeds: ONNX input name -> (1, C, h, w) array.
        person: (H, W, 3) uint8 full-resolution person.
        garment: (Hg, Wg, 3) uint8 full-resolution garment.
        garment_mask: (Hg, Wg) float32 garment mask.
        person_low: (h, w, 3) uint8 person as the model saw it (the framing box, or the letterboxed photo).
        person_transform: full-resolution person -> model frame.
        garment_transform: full-resolution garment -> model frame.
        framing: the person's framing, None when the model folder has no framing rules.
        garment_info: the garment's analysis.
        timings: seconds per stage so far.
    """

    feeds: dict[str, np.ndarray]
    person: np.ndarray
    garment: np.ndarray
    garment_mask: np.ndarray
    person_low: np.ndarray
    person_transform: Transform
    garment_transform: Transform
    framing: Framing | None = None
    garment_info: GarmentAnalysis | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class StudentResult:
    """The student's try-on at the person photo's resolution (the fields the teacher's result shares).

    Attributes:
        tryon: (H, W, 3) uint8 RGB.
        composition_mask: (H, W) float32 [0, 1], 1 where the result shows the warped garment (0 outside the box).
        warped_garment: (H, W, 3) uint8 RGB garment sampled through the student's grid (white outside the box);
            None unless asked for.
        warped_mask: (H, W) float32 [0, 1] the garment mask through the same grid (the warp's support); None
            unless asked for.
        keypoints: (33, 4) float32 BlazePose keypoints of the framing, or None.
        box: (x0, y0, width, height) framing box in photo pixels, or None (whole photo letterboxed).
        garment_info: the garment's analysis.
        quality: the output gate's :class:`tryon.framing.OutputQuality` (None without framing).
        timings: seconds per stage.
    """

    tryon: np.ndarray
    composition_mask: np.ndarray
    warped_garment: np.ndarray | None = None
    warped_mask: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    box: tuple[int, int, int, int] | None = None
    garment_info: GarmentAnalysis | None = None
    quality: Any = None
    timings: dict[str, float] = field(default_factory=dict)


class StudentSession:
    """The exported student in one onnxruntime session: load, check, run (no pre- or post-processing).

    Args:
        model_dir: folder with ``manifest.json`` and the model files.
        dtype: which file of the manifest to load, one of :data:`tryon.manifest.DTYPES`, or ``auto``: on
            onnxruntime CPU the manifest's preferred file (:meth:`tryon.manifest.Manifest.preferred_file`, fp32
            when none was measured), on CUDA fp32.
        providers: ``auto``, ``cuda`` or ``cpu`` (see :func:`select_providers`).
        intra_op_threads: onnxruntime intra-op threads (0 = default).

    Raises:
        MissingModelError: no manifest, no file of that dtype, a file missing or altered (sha256), or the graph
            lacks the student's inputs/outputs.
    """

    def __init__(self, model_dir: str | os.PathLike, dtype: str = "fp32", providers: str = "auto",
                 intra_op_threads: int = 0):
        import onnxruntime as ort

        from tryon.errors import DataError

        folder = Path(model_dir)
        wanted = select_providers(providers)
        try:
            self.manifest = Manifest.load(folder)
            if dtype == AUTO:
                # The preference was measured on onnxruntime CPU; on CUDA nothing was measured: fp32.
                on_cpu = wanted[0] == "CPUExecutionProvider"
                entry = self.manifest.preferred_file("cpu") if on_cpu else self.manifest.file("fp32")
            else:
                entry = self.manifest.file(dtype)
            dtype = entry.dtype
            Manifest(name=self.manifest.name, version=self.manifest.version, inputs=(), outputs=(),
                     files=(entry,)).verify_files(folder)
        except DataError as exc:
            raise MissingModelError(f"model folder {folder}: {exc.message} (write it with `tryon export`)") from None
        except KeyError as exc:
            raise MissingModelError(f"model folder {folder}: {exc.args[0]}") from None
        self.dtype = dtype
        self.path = folder / entry.path
        opts = ort.SessionOptions()
        if intra_op_threads:
            opts.intra_op_num_threads = intra_op_threads
        self.session = ort.InferenceSession(str(self.path), opts, providers=wanted)
        self.providers: list[str] = list(self.session.get_providers())
        self.provider = self.providers[0]
        first = wanted[0] if isinstance(wanted[0], str) else wanted[0][0]
        if self.provider != first:
            # onnxruntime falls back to CPU with only a log line when CUDA libraries are missing.
            if providers == "cuda":
                raise MissingModelError(f"asked for {first} but onnxruntime bound {self.provider}; "
                                        "check the CUDA/cuDNN libraries")
            log.warning("asked for %s, onnxruntime bound %s", first, self.provider)

        ins = {i.name: i for i in self.session.get_inputs()}
        outs = [o.name for o in self.session.get_outputs()]
        missing = [n for n in REQUIRED_INPUTS if n not in ins] + [n for n in REQUIRED_OUTPUTS if n not in outs]
        if missing:
            raise MissingModelError(f"{self.path}: not a try-on student graph, missing tensors {missing} "
                                    f"(inputs {list(ins)}, outputs {outs})")
        self.output_names = outs
        self.input_dtypes = {n: (np.float16 if "float16" in i.type else np.float32) for n, i in ins.items()}
        person_shape = self.manifest.input("person").shape  # (1, 3, h, w)
        garment_shape = self.manifest.input("garment").shape
        self.size: tuple[int, int] = (int(person_shape[2]), int(person_shape[3]))
        self.garment_size: tuple[int, int] = (int(garment_shape[2]), int(garment_shape[3]))
        batch_dim = ins["person"].shape[0]
        self.dynamic_batch = not isinstance(batch_dim, int)
        log.info("loaded %s %s (%s) on %s, input %s, dynamic batch %s", self.manifest.name, self.manifest.version,
                 dtype, self.provider, self.size, self.dynamic_batch)

    def run(self, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """One model step per job, or one stacked step when the graph has a dynamic batch axis.

        Args:
            feeds: per job, input name -> (1, C, h, w) array.

        Returns:
            per job: output name -> array with a leading batch axis of 1, float32.
        """
        if self.dynamic_batch and len(feeds) > 1:
            stacked = {k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]}
            outs = self.session.run(self.output_names, stacked)
            return [{n: o[i:i + 1].astype(np.float32, copy=False) for n, o in zip(self.output_names, outs, strict=True)}
                    for i in range(len(feeds))]
        results = []
        for f in feeds:
            outs = self.session.run(self.output_names, f)
            results.append({n: o.astype(np.float32, copy=False) for n, o in zip(self.output_names, outs, strict=True)})
        return results


class StudentRunner:
    """The exported student with its framing, refusals and paste-back (see the module docstring).

    Args:
        model_dir: folder with ``manifest.json`` and the model files (``tryon export``; the framing models are
            copied next to the student when the manifest has ``framing``).
        dtype: which student file of the manifest to load, one of :data:`tryon.manifest.DTYPES`, or ``auto``
            (see :class:`StudentSession`).
        providers: ``auto``, ``cuda`` or ``cpu``.
        intra_op_threads: onnxruntime intra-op threads for the student (0 = default).
        framing_threads: intra-op threads for each framing model.
        garment_cache_size: garment analyses kept, keyed by the garment photo's pixels (shop pages send the
            same few garment photos again and again; they are catalogue images, not user data).
        gate: refuse results below the manifest's output gate (:func:`tryon.framing.refuse_output_gate`);
            False measures them (``StudentResult.quality``) and returns them anyway (``tryon run --no-gate``).

    Raises:
        MissingModelError: the student or a framing model is missing or altered.
    """

    def __init__(self, model_dir: str | os.PathLike, dtype: str = "fp32", providers: str = "auto",
                 intra_op_threads: int = 0, *, framing_threads: int = 2, garment_cache_size: int = 64,
                 gate: bool = True):
        self.session = StudentSession(model_dir, dtype, providers, intra_op_threads)
        self.manifest = self.session.manifest
        self.size = self.session.size
        self.garment_size = self.session.garment_size
        self.dynamic_batch = self.session.dynamic_batch
        self.framer = None
        if self.manifest.framing:
            from tryon.framing import PersonFramer

            folder = Path(model_dir)
            self._verify_framing_files(folder)
            self.framer = PersonFramer(folder, FramingConfig.from_dict(self.manifest.framing),
                                       threads=framing_threads)
        self.gate = gate
        self._garments: OrderedDict[str, GarmentAnalysis] = OrderedDict()
        self._garments_lock = threading.Lock()
        self.garment_cache_size = garment_cache_size

    # What the server's /readyz and /v1/models report (the session's, under the names StudentSession had there).
    @property
    def dtype(self) -> str:
        """The student file's dtype (``fp32``, ``fp16``, ``int8``)."""
        return self.session.dtype

    @property
    def provider(self) -> str:
        """The execution provider onnxruntime bound first."""
        return self.session.provider

    @property
    def providers(self) -> list[str]:
        """Every execution provider of the student's session, in order."""
        return self.session.providers

    def _verify_framing_files(self, folder: Path) -> None:
        from tryon.errors import DataError

        try:
            Manifest(name=self.manifest.name, version=self.manifest.version, inputs=(), outputs=(),
                     files=self.manifest.framing_files).verify_files(folder)
        except DataError as exc:
            raise MissingModelError(f"model folder {folder}: {exc.message} (re-export the student with "
                                    "`tryon export` after `tryon setup`)") from None

    # ------------------------------------------------------------------ garment
    @property
    def categories(self) -> tuple[str, ...]:
        """The garment categories (FASHN's names) this student dresses: its manifest's ``categories``, the ones
        :meth:`analyse_garment` lets through."""
        return self.manifest.categories

    def analyse_garment(self, garment: np.ndarray, garment_mask: np.ndarray | None = None,
                        category: str | None = None) -> GarmentAnalysis:
        """Check a garment photo and classify it (cached by its pixels when no mask is given).

        Args:
            garment: (Hg, Wg, 3) uint8 RGB garment photo.
            garment_mask: (Hg, Wg) float32 in [0, 1], for garments whose exact mask is known (the built-in
                catalogue); then the photo is not checked for a person or a plain background, and the mask is
                used as it is.
            category: ``auto`` / None (classify), or a category in either vocabulary (``tops``, ``top``...).

        Returns:
            A :class:`GarmentAnalysis` whose category is one the student dresses (``Manifest.categories``). A mask
            computed here is classified whole and, for tops and one-pieces, given to the student peeled
            (:func:`_peeled`).

        Raises:
            PhotoTypeError: the garment photo shows a person.
            BusyBackgroundError: the garment photo has no plain background.
            UnsupportedCategoryError: the student does not dress the garment's category (the message names
                it), with ``auto`` the classifier could not tell (the message asks for the category), or the photo
                shows the garment folded, whatever category was named (the message asks for it laid flat).
        """
        from tryon.garment.category import classify_garment, normalise_category, require_laid_out, require_supported

        dressed = self.categories
        wanted = normalise_category(category)
        if wanted != "auto":
            refuse_named_category(wanted, dressed)  # the caller named another category: nothing to analyse
        key = None
        if garment_mask is None:
            key = hashlib.sha256(garment.tobytes()).hexdigest() + str(garment.shape) + wanted
            with self._garments_lock:
                hit = self._garments.get(key)
                if hit is not None:
                    self._garments.move_to_end(key)
                    return hit
            if self.framer is not None:
                refuse_person_as_garment(self.framer, garment)
            from tryon.garment.mask import garment_mask as compute_mask

            garment_mask = compute_mask(garment)
        info = None
        if wanted == "auto":
            info = classify_garment(garment, garment_mask)
            # Also refuses a garment the classifier could not tell, asking for its category.
            require_supported(info, dressed)
            wanted = normalise_category(info.category)
        elif key is not None:
            # An uploaded photo named by its category: a fold is refused all the same (the catalogue's are laid out).
            require_laid_out(classify_garment(garment, garment_mask))
        require_supported(wanted, dressed)
        if key is not None:
            garment_mask = _peeled(garment, garment_mask, wanted)
        result = GarmentAnalysis(mask=garment_mask.astype(np.float32, copy=False), category=wanted, info=info)
        if key is not None:
            with self._garments_lock:
                self._garments[key] = result
                while len(self._garments) > self.garment_cache_size:
                    self._garments.popitem(last=False)
        return result

    def refuse_with_pose(self, refusal: UnsupportedCategoryError, person: np.ndarray,
                         category: str | None = None) -> NoReturn:
        """Raise a garment photo's refusal, naming the person photo's pose refusal too when the garment is folded.

        A garment photographed folded (``refusal`` says :data:`tryon.garment.category.FOLDED_ADVICE`) is refused
        before the person is framed, so a shopper who picked a garment laid out was then refused again for the
        person photo's pose. The person is framed here too, as :meth:`prepare` would frame it: for the named
        category, or with ``auto`` for the student's first (:attr:`categories`; the classifier cannot tell a folded
        garment's category). Any ``PoseError`` of the framing counts (a back or side view, a lean, a pose the gate
        refuses, the body part out of view, a person too small): each asks for another person photo, as the
        teacher's back and side views do. No person or several people (``NoPersonError``,
        ``MultiplePeopleError``) leave the fold's refusal as it was: the teacher names the fold in a ``PoseError``
        only, and one error has one type (and exit code). Nor does anything else the framing raises change the
        refusal (it is read here for more words only). Without framing rules, or for any refusal but the fold's,
        ``refusal`` is raised unchanged. Costs one framing (about 0.1 s on a CPU), on the fold's refusal only.

        Args:
            refusal: what :meth:`analyse_garment` raised.
            person: (H, W, 3) uint8 RGB person photo.
            category: the category the caller named, ``auto`` / None.

        Raises:
            PoseError: the garment is folded and the framing refuses the pose; the message is the pose's, then
                ``". Also, "`` and the fold's (:func:`tryon.garment.category.also_folded`, the teacher's words).
            UnsupportedCategoryError: ``refusal``, otherwise.
        """
        from tryon.garment.category import FOLDED_ADVICE, also_folded, normalise_category

        if self.framer is None or refusal.message != FOLDED_ADVICE:
            raise refusal
        wanted = normalise_category(category)
        try:
            self.framer(person, self.size, self.categories[0] if wanted == "auto" else wanted)
        except PoseError as pose:
            raise PoseError(also_folded(pose.message)) from pose
        except Exception as exc:  # the framing is only read here for more words: the fold's refusal stands
            if not isinstance(exc, TryonError):
                log.warning("framing the person photo of a folded garment failed: %r", exc, exc_info=True)
        raise refusal

    # ------------------------------------------------------------------ steps
    def prepare(self, person: np.ndarray, garment: np.ndarray, garment_mask: np.ndarray | None = None,
                category: str | None = None) -> Prepared:
        """Check both photos, frame the person and build the feeds.

        Args:
            person: (H, W, 3) uint8 RGB person photo.
            garment: (Hg, Wg, 3) uint8 RGB in-shop garment photo.
            garment_mask: (Hg, Wg) float32 in [0, 1] when known (see :meth:`analyse_garment`).
            category: ``auto`` / None, or a garment category.

        Raises:
            PhotoTypeError, BusyBackgroundError, UnsupportedCategoryError: from :meth:`analyse_garment` (a
                PhotoTypeError says so when the two photos look swapped).
            NoPersonError, MultiplePeopleError, PoseError: from :class:`tryon.framing.PersonFramer`; a garment
                photographed folded and a pose the framing refuses raise one PoseError naming both
                (:meth:`refuse_with_pose`).
        """
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        try:
            g = self.analyse_garment(garment, garment_mask, category)
        except PhotoTypeError:
            if self.framer is not None and not self.framer.is_person_photo(person):
                raise PhotoTypeError(PHOTOS_SWAPPED) from None
            raise
        except UnsupportedCategoryError as exc:
            self.refuse_with_pose(exc, person, category)
        t["garment"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        framing = None
        if self.framer is not None:
            framing = self.framer(person, self.size, g.category)
            person_low = crop_to_box(person, framing.box, self.size, fill=255)
            pt = framing.transform(self.size)
        else:
            person_low, pt = letterbox(person, self.size, fill=255)
        t["framing"] = time.perf_counter() - t0
        garment_low, gt = letterbox(garment, self.garment_size, fill=255)
        mask_low, _ = letterbox(g.mask, self.garment_size, fill=0)
        feeds = {
            "person": to_nchw(person_low),  # (1, 3, h, w) in [-1, 1]
            "garment": to_nchw(garment_low),  # (1, 3, h, w) in [-1, 1]
            "garment_mask": np.ascontiguousarray(mask_low[None, None], dtype=np.float32),  # (1, 1, h, w) in [0, 1]
        }
        feeds = {k: v.astype(self.session.input_dtypes[k], copy=False) for k, v in feeds.items()}
        return Prepared(feeds, person, garment, g.mask, person_low, pt, gt, framing, g, t)

    def run(self, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """The student on a list of jobs' feeds (see :meth:`StudentSession.run`)."""
        return self.session.run(feeds)

    def finish(self, prepared: Prepared, outputs: dict[str, np.ndarray], *, details: bool = False) -> StudentResult:
        """Paste the student's result back at the person photo's resolution.

        Args:
            prepared: from :meth:`prepare`.
            outputs: the job's outputs from :meth:`run`.
            details: also return the warped garment and the warp's support at full resolution (for evaluation).

        Returns:
            A :class:`StudentResult`.

        Raises:
            LowConfidenceError: the output gate refuses the result (unless the runner was made with
                ``gate=False``).
        """
        import cv2

        from tryon.pasteback import model_coords, source_pixels, upsample

        t0 = time.perf_counter()
        person = prepared.person
        ih, iw = person.shape[:2]
        if prepared.framing is not None:  # only the box's part of the photo changes
            x0, y0, bw, bh = prepared.framing.box
            rx0, ry0, rx1, ry1 = max(0, x0), max(0, y0), min(iw, x0 + bw), min(ih, y0 + bh)
            region_t = box_transform((x0 - rx0, y0 - ry0, bw, bh), self.size)
        else:
            rx0, ry0, rx1, ry1 = 0, 0, iw, ih
            region_t = prepared.person_transform
        region = np.ascontiguousarray(person[ry0:ry1, rx0:rx1])
        grid = outputs["grid"][0]  # (h, w, 2)
        comp_low = outputs["composition_mask"][0, 0]  # (h, w)
        render = np.clip((outputs["tryon"][0].transpose(1, 2, 0) + 1.0) * 127.5, 0, 255)  # (h, w, 3) float
        quality = None
        if prepared.framing is not None:
            from tryon.framing import output_gate_raw, output_gate_scores, refuse_output_gate, student_guard

            # The output gate measures what the student drew, before the guard hides any of it.
            f, cfg = prepared.framing, self.framer.config
            raw = output_gate_raw(comp_low, prepared.person_low, f.keypoints, f.box, f.person_low, f.low_scale, cfg)
            quality = output_gate_scores(raw, cfg, prepared.garment_info.category)
            if self.gate:
                refuse_output_gate(quality, cfg)
            # Nothing on the face, nothing beside the person.
            guard = student_guard(f, self.size, cfg)
            comp_low = comp_low * (1.0 - guard)
            render = render + guard[..., None] * (prepared.person_low.astype(np.float32) - render)
        render = np.clip(render + 0.5, 0, 255).astype(np.uint8)
        pasted = paste_back(region, prepared.garment, grid=grid, composition_mask=comp_low, render=render,
                            person_low=prepared.person_low, person_transform=region_t,
                            garment_transform=prepared.garment_transform, garment_model_size=self.garment_size)
        tryon = person.copy()
        tryon[ry0:ry1, rx0:rx1] = pasted
        maps = model_coords(region.shape[:2], region_t)
        comp = np.zeros((ih, iw), np.float32)
        comp[ry0:ry1, rx0:rx1] = np.clip(upsample(comp_low, maps), 0, 1)
        result = StudentResult(tryon=tryon, composition_mask=comp, garment_info=prepared.garment_info,
                               keypoints=None if prepared.framing is None else prepared.framing.keypoints,
                               box=None if prepared.framing is None else prepared.framing.box,
                               quality=quality, timings=dict(prepared.timings))
        if details:
            src = source_pixels(grid, maps, self.garment_size, prepared.garment_transform)
            warped = np.full_like(person, 255)
            warped[ry0:ry1, rx0:rx1] = cv2.remap(prepared.garment, src[0], src[1], cv2.INTER_LINEAR,
                                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
            support = np.zeros((ih, iw), np.float32)
            support[ry0:ry1, rx0:rx1] = cv2.remap(prepared.garment_mask, src[0], src[1], cv2.INTER_LINEAR,
                                                  borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            result.warped_garment, result.warped_mask = warped, np.clip(support, 0, 1)
        result.timings["pasteback"] = time.perf_counter() - t0
        return result

    def __call__(self, person: np.ndarray, garment: np.ndarray, category: str | None = None,
                 garment_mask: np.ndarray | None = None, *, details: bool = False) -> StudentResult:
        """Whole pipeline for one pair (see :meth:`prepare` for the errors raised before the student runs, and
        :meth:`finish` for the output gate's ``LowConfidenceError`` after it)."""
        prepared = self.prepare(person, garment, garment_mask, category)
        t0 = time.perf_counter()
        outputs = self.run([prepared.feeds])[0]
        prepared.timings["student"] = time.perf_counter() - t0
        result = self.finish(prepared, outputs, details=details)
        result.timings["total"] = sum(result.timings.values())
        return result

    def warmup(self) -> None:
        """One model step on neutral inputs (first-run allocations, CUDA kernel selection)."""
        h, w = self.size
        feeds = {"person": np.zeros((1, 3, h, w)), "garment": np.zeros((1, 3) + self.garment_size),
                 "garment_mask": np.zeros((1, 1) + self.garment_size)}
        self.run([{k: v.astype(self.session.input_dtypes[k]) for k, v in feeds.items()}])


class DeployedStudents:
    """The students deployed together in one folder: its own, and those of other categories in its sub-folders
    (the manifest's ``students``, :func:`tryon.manifest.attach_students`), each a :class:`StudentRunner` created
    when a garment of its category first comes, as the widget's worker loads them. ``tryon run`` and ``tryon eval``
    ``--method student`` use it.

    Args:
        model_dir: the main student's folder.
        **kwargs: passed to every :class:`StudentRunner` (``providers``, ``dtype``...).

    Raises:
        DataError: a manifest is missing or malformed (when its student is first needed, for the others).
    """

    def __init__(self, model_dir: str | os.PathLike, **kwargs: Any):
        self.folder = Path(model_dir)
        self._kwargs = kwargs
        self.main = StudentRunner(self.folder, **kwargs)
        self._runners: dict[str, StudentRunner] = {c: self.main for c in self.main.categories}
        self._subs = dict(self.main.manifest.students)

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category a student of the folder dresses (FASHN's names)."""
        return (*self.main.categories, *(c for c in self._subs if c not in self.main.categories))

    def runner(self, category: str) -> StudentRunner:
        """The runner of the student that dresses ``category`` (FASHN's name).

        Raises:
            UnsupportedCategoryError: no student of the folder dresses it (the message names what they dress).
        """
        if category not in self._runners:
            refuse_named_category(category, self.categories)
            self._runners[category] = StudentRunner(self.folder / self._subs[category], **self._kwargs)
        return self._runners[category]

    def __call__(self, person: np.ndarray, garment: np.ndarray, category: str | None = None,
                 garment_mask: np.ndarray | None = None, *, details: bool = False) -> StudentResult:
        """:meth:`StudentRunner.__call__` by the student of the garment's category: the named one, or with
        ``auto`` / None the one the garment classifier's category names (see :meth:`StudentRunner.analyse_garment`
        for the errors raised; a folded garment's refusal names the pose too, :meth:`StudentRunner.refuse_with_pose`
        by the main student)."""
        from tryon.garment.category import classify_garment, fashn_category, normalise_category, require_supported

        wanted = normalise_category(category)
        mask = garment_mask
        if wanted == "auto" and self._subs:
            try:
                # Cached by the garment's pixels and ``auto``: the main student's own call below reuses it.
                self.main.analyse_garment(garment, garment_mask, "auto")
            except UnsupportedCategoryError as exc:
                from tryon.garment.category import FOLDED_ADVICE
                from tryon.garment.mask import garment_mask as compute_mask

                if exc.message == FOLDED_ADVICE:  # refused by every student: named with the pose, as one student does
                    self.main.refuse_with_pose(exc, person, "auto")

                # The main student has checked the photo (no person, a plain background): its mask serves the
                # other student, peeled as the main student's own would be (the other one takes it as exact).
                mask = compute_mask(garment) if garment_mask is None else garment_mask
                info = classify_garment(garment, mask)
                wanted = fashn_category(info)
                if wanted not in self._subs:
                    require_supported(info, self.categories)  # names what all the students dress
                    raise
                if garment_mask is None:
                    mask = _peeled(garment, mask, wanted)
        runner = self.main if wanted == "auto" else self.runner(wanted)
        return runner(person, garment, wanted, mask, details=details)
