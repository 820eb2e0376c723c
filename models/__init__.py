"""Network definitions (torch only) and a timm-style registry; importing this package registers all families.

Every public module of this package (one architecture family per file, e.g. ``teacher_refine``) is imported
here, so its ``@register_model`` variants are available through :func:`create_model` as soon as
``tryon.models`` is imported. Subpackages (``layers``) hold shared building blocks and register nothing.
Never import other ``tryon.*`` modules from here: the models are shared by training, export and the server.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from tryon.models._registry import create_model, is_model, list_models, model_entrypoint, register_model

FAMILIES: tuple[str, ...] = tuple(sorted(
    m.name for m in _pkgutil.iter_modules(__path__) if not m.ispkg and not m.name.startswith("_")))
"""Names of the family modules imported (and so registered) with the package."""

for _name in FAMILIES:
    _importlib.import_module(f"{__name__}.{_name}")

__all__ = ["FAMILIES", "create_model", "is_model", "list_models", "model_entrypoint", "register_model"]
