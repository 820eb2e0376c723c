"""The timm-style model registry of tryon.models."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import tryon.models as models
from tryon.models import _registry, create_model, is_model, list_models, register_model


def test_family_files_register_on_import():
    names = list_models()
    assert {"teacher_refine_tiny", "teacher_refine_small", "teacher_refine_base"} <= set(names)
    assert names == sorted(names)
    assert "teacher_refine" in models.FAMILIES


def test_list_models_pattern_and_is_model():
    assert list_models("teacher_refine_*") == ["teacher_refine_base", "teacher_refine_small", "teacher_refine_tiny"]
    assert list_models("no_such_*") == []
    assert is_model("teacher_refine_small")
    assert not is_model("teacher_refine_huge")


def test_create_model_drops_none_kwargs():
    m = create_model("teacher_refine_tiny", widths=None, dilations=None, use_hint=None)
    assert isinstance(m, torch.nn.Module)
    assert m.widths == (8, 16, 24, 32)
    m2 = create_model("teacher_refine_tiny", use_hint=False, widths=None)
    assert m2.use_hint is False


def test_unknown_model_suggests_close_names():
    with pytest.raises(KeyError, match="teacher_refine_small"):
        create_model("teacher_refine_smal")


def test_register_duplicates():
    def my_test_variant(**kw):
        return torch.nn.Identity()

    try:
        register_model(my_test_variant)
        assert is_model("my_test_variant")
        assert isinstance(create_model("my_test_variant"), torch.nn.Identity)
        register_model(my_test_variant)            # same module again (reload): allowed
        other = type(my_test_variant)(my_test_variant.__code__, {}, "my_test_variant")
        other.__module__ = "somewhere.else"
        with pytest.raises(ValueError, match="already registered"):
            register_model(other)
    finally:
        _registry._model_entrypoints.pop("my_test_variant", None)
        _registry._model_to_module.pop("my_test_variant", None)
    assert not is_model("my_test_variant")


def test_models_package_imports_only_torch():
    code = ("import sys, tryon.models\n"
            "bad = sorted(m for m in sys.modules if m.startswith('tryon') and m != 'tryon' "
            "and not m.startswith('tryon.models'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"tryon.models imported other tryon modules: {out}"
