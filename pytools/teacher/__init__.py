"""The geometric try-on teacher (VITON / CP-VTON tradition): agnostic person, TPS garment warp, composition.

``from tryon.teacher import Teacher`` is resolved lazily so that importing a submodule (e.g. the learned
refiner) does not pull in the whole pipeline.
"""

from __future__ import annotations

__all__ = ["Teacher", "TeacherResult"]


def __getattr__(name: str):
    if name in __all__:
        from tryon.teacher import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'tryon.teacher' has no attribute {name!r}")
