"""A timm-style model registry: family files register constructor functions on import.

Modelled on ``timm.models._registry`` (Ross Wightman, pytorch-image-models): each architecture family
lives in its own module and decorates one function per named variant with :func:`register_model`;
:func:`create_model` builds a variant by name. Importing ``tryon.models`` imports every family file, so the
registry is complete once the package is imported. Only torch is needed here (the browser/server side
never imports other ``tryon`` modules through this package).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any

__all__ = ["register_model", "create_model", "list_models", "is_model", "model_entrypoint"]

_model_entrypoints: dict[str, Callable[..., Any]] = {}
_model_to_module: dict[str, str] = {}


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: register ``fn`` under its ``__name__`` as a model variant constructor.

    Args:
        fn: a function ``fn(**cfg) -> torch.nn.Module``.

    Returns:
        ``fn`` itself, unchanged.

    Raises:
        ValueError: another module already registered a variant with the same name (re-registering from
            the same module, e.g. on ``importlib.reload``, replaces the entry).
    """
    name = fn.__name__
    module = fn.__module__
    if name in _model_entrypoints and _model_to_module[name] != module:
        raise ValueError(f"model {name!r} is already registered by {_model_to_module[name]}")
    _model_entrypoints[name] = fn
    _model_to_module[name] = module
    return fn


def is_model(name: str) -> bool:
    """True when a variant called ``name`` is registered."""
    return name in _model_entrypoints


def model_entrypoint(name: str) -> Callable[..., Any]:
    """The registered constructor for ``name``.

    Raises:
        KeyError: unknown name; the message lists the closest registered names.
    """
    if name not in _model_entrypoints:
        close = difflib.get_close_matches(name, list(_model_entrypoints), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown model {name!r}{hint} (registered: {', '.join(list_models()) or 'none'})")
    return _model_entrypoints[name]


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of registered variants, optionally filtered by a shell-style ``pattern`` ("teacher_*")."""
    names = sorted(_model_entrypoints)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def create_model(name: str, **cfg: Any) -> Any:
    """Build the registered variant ``name``.

    Keyword arguments whose value is ``None`` are dropped, so a CLI can forward every optional flag and the
    variant's own defaults apply where the user gave none.

    Args:
        name: a registered variant name (see :func:`list_models`).
        **cfg: overrides passed to the variant constructor.

    Returns:
        The constructed ``torch.nn.Module``.

    Raises:
        KeyError: unknown ``name``.
    """
    kwargs = {k: v for k, v in cfg.items() if v is not None}
    return model_entrypoint(name)(**kwargs)
