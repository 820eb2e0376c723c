"""Fixtures of the teacher's tests: a Teacher on the built models plus BodyPix from ../shared."""

from __future__ import annotations

import pytest

from tryon.errors import MissingModelError
from tryon.teacher.pipeline import Teacher


@pytest.fixture(scope="session")
def teacher(tmp_path_factory, bodypix_dir):
    """A Teacher whose models folder has the built models plus BodyPix from ../shared (links, no copies)."""
    from tryon.assets import models_dir

    d = tmp_path_factory.mktemp("models")
    base = models_dir()
    if base.is_dir():
        for f in base.iterdir():
            (d / f.name).symlink_to(f)
    if not (d / "bodypix.onnx").exists():
        src = sorted(bodypix_dir.glob("*.onnx"))
        if not src:
            pytest.skip("no BodyPix ONNX file in ../shared/models/bodypix")
        (d / "bodypix.onnx").symlink_to(src[0])
    t = Teacher(models_dir=d, refine=False)
    try:
        t._person_analyzer()
    except MissingModelError as exc:
        pytest.skip(f"models not built: {exc}")
    return t
