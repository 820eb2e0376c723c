"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from tryon.errors import MissingModelError


@pytest.fixture(scope="session")
def teacher_models() -> None:
    """Skip unless the teacher's converted models are built (``tryon setup``)."""
    from tryon.assets import require

    try:
        for name in ("selfie_segmentation.onnx", "pose_landmark_full.onnx", "bodypix.onnx"):
            require(name)
    except MissingModelError as exc:
        pytest.skip(f"models not built: {exc.message}")
