"""Where a garment comes from: a file path, or ``catalogue:<name>`` for a built-in (procedurally rendered) garment."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tryon.errors import UsageError
from tryon.processing import load_image

__all__ = ["CATALOGUE_PREFIX", "load_garment"]

CATALOGUE_PREFIX = "catalogue:"


def load_garment(spec: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Load a garment given as a path or ``catalogue:<name>``.

    Returns:
        (image (H, W, 3) uint8, mask (H, W) float32 or None when it must be computed, display name).

    Raises:
        UsageError: unknown catalogue name; plus everything ``tryon.processing.load_image`` raises.
    """
    if spec.startswith(CATALOGUE_PREFIX):
        from tryon.garment.catalogue import list_garments, render_garment

        name = spec[len(CATALOGUE_PREFIX):]
        if name not in list_garments():
            raise UsageError(f"no garment {name!r} in the built-in catalogue; "
                             f"choose one of: {', '.join(list_garments())}")
        image, mask = render_garment(name)
        return image, mask, name
    return load_image(spec), None, Path(spec).stem
