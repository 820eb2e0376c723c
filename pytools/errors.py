"""User-facing errors of the toolkit, each with its own process exit code.

Every error a user can cause (bad file, no person in the photo, missing model file) is a ``TryonError``
subclass. The CLI catches ``TryonError``, prints ``error: <message>`` without a traceback and exits with
``exit_code``; the server maps them to JSON error bodies. Codes are stable: scripts may depend on them.
"""

from __future__ import annotations

__all__ = [
    "TryonError", "UsageError", "UnreadableImageError", "NotAnImageError", "DecompressionBombError",
    "ImageTooSmallError", "NoPersonError", "MultiplePeopleError", "PoseError", "BusyBackgroundError",
    "UnsupportedCategoryError", "PhotoTypeError", "MissingModelError", "DataError", "OutputError", "QualityGateError",
    "LowConfidenceError", "EXIT_CODES", "PARTIAL_BATCH_EXIT",
]


class TryonError(Exception):
    """Base class: a clear message for a person, and a distinct exit code."""

    exit_code: int = 1
    name: str = "TryonError"
    cli_hint: str | None = None
    """What the ``tryon`` command adds to the message: a way out that only the command line has (a flag), which
    the server's API and the widget, showing the same message, must not offer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(TryonError):
    """Bad command-line arguments or options (a flag out of range, a missing CSV column)."""

    exit_code = 2
    name = "UsageError"


class UnreadableImageError(TryonError):
    """The file is missing, unreadable, empty or truncated."""

    exit_code = 10
    name = "ImageLoadError"


class NotAnImageError(TryonError):
    """The file is readable but is not an image in a supported format (JPEG, PNG, WebP, BMP)."""

    exit_code = 11
    name = "UnsupportedMediaType"


class DecompressionBombError(TryonError):
    """The image declares more pixels than the configured limit (a decompression bomb, or simply too big)."""

    exit_code = 12
    name = "PayloadTooLarge"


class ImageTooSmallError(TryonError):
    """The image is smaller than the minimum side length the models need."""

    exit_code = 13
    name = "ImageTooSmall"


class NoPersonError(TryonError):
    """No person was found in the person photo."""

    exit_code = 20
    name = "NoPersonError"


class MultiplePeopleError(TryonError):
    """More than one person was found in the person photo."""

    exit_code = 21
    name = "MultiplePeopleError"


class PoseError(TryonError):
    """The person is found but cannot be dressed as photographed: shoulders out of view, seen from the back, or
    too small in the photo (the message says what to change)."""

    exit_code = 22
    name = "PoseError"


class BusyBackgroundError(TryonError):
    """The garment photo is not an in-shop shot on a plain background, so the garment cannot be cut out."""

    exit_code = 30
    name = "GarmentBackgroundError"


class UnsupportedCategoryError(TryonError):
    """The garment is of a category the teacher does not dress (it names the category)."""

    exit_code = 31
    name = "UnsupportedCategoryError"


class PhotoTypeError(TryonError):
    """The garment photo shows a person (a model wearing it, or a selfie) instead of the garment alone."""

    exit_code = 32
    name = "PhotoTypeError"


class MissingModelError(TryonError):
    """A model file is missing; the message says where to get it and where to put it."""

    exit_code = 40
    name = "MissingModelError"


class DataError(TryonError):
    """A data set, pairs CSV or record shard is empty, malformed or inconsistent."""

    exit_code = 41
    name = "DataError"


class QualityGateError(TryonError):
    """A converted (fp16/int8) model differs from fp32 by more than ``--max-delta`` or less than ``--min-psnr``."""

    exit_code = 60
    name = "QualityGateError"


class LowConfidenceError(TryonError):
    """A try-on scored below its quality gate: the teacher's (``tryon.teacher.gate``, ``quality`` a
    :class:`tryon.teacher.gate.Quality`) or the student's output gate (:func:`tryon.framing.refuse_output_gate`,
    ``quality`` a :class:`tryon.framing.OutputQuality`). The message names the weakest signal and what to change
    in the photos."""

    exit_code = 61
    name = "LowConfidenceError"
    cli_hint = "or use --no-gate to see the result anyway"

    def __init__(self, message: str, quality=None):
        super().__init__(message)
        self.quality = quality


class OutputError(TryonError):
    """An output cannot be written (unwritable folder, or it would overwrite an input)."""

    exit_code = 50
    name = "OutputError"


EXIT_CODES: dict[str, int] = {
    cls.__name__: cls.exit_code
    for cls in (TryonError, UsageError, UnreadableImageError, NotAnImageError, DecompressionBombError,
                ImageTooSmallError, NoPersonError, MultiplePeopleError, PoseError, BusyBackgroundError,
                UnsupportedCategoryError, PhotoTypeError, MissingModelError, DataError, OutputError, QualityGateError,
                LowConfidenceError)
}

PARTIAL_BATCH_EXIT = 3
"""Exit status of a batch command that finished with some pairs refused (``tryon run --pairs``; ``tryon teacher
build`` above its ``--max-refused`` share); the refusals are listed in an ``errors*.jsonl`` file."""
