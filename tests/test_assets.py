"""tryon.assets: models folder, the MissingModelError remedies, and an idempotent offline rebuild."""

from __future__ import annotations

import json

import pytest

from tryon.assets import MODELS, build_models, models_dir, require
from tryon.errors import MissingModelError


def test_models_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TRYON_MODELS_DIR", str(tmp_path))
    assert models_dir() == tmp_path
    monkeypatch.delenv("TRYON_MODELS_DIR")
    assert models_dir().parts[-3:] == (".cache", "tryon", "models")


def test_require_messages(tmp_path):
    with pytest.raises(MissingModelError, match="tryon setup"):
        require("pose_landmark_full.onnx", tmp_path)
    with pytest.raises(MissingModelError, match="keijiro/BodyPixSentis.*--bodypix-from"):
        require("bodypix.onnx", tmp_path)
    with pytest.raises(MissingModelError, match="unknown model"):
        require("nope.onnx", tmp_path)
    (tmp_path / "selfie_segmentation.onnx").write_bytes(b"x")
    assert require("selfie_segmentation.onnx", tmp_path) == tmp_path / "selfie_segmentation.onnx"


def test_build_is_idempotent_and_offline(tmp_path, monkeypatch):
    """Second build: nothing rebuilt; with the tarball cached, npm is never called (PATH emptied)."""
    cache = models_dir() / ".cache"
    spec = MODELS["selfie_segmentation.onnx"]
    try:
        from tryon.assets import fetch_npm_tarball

        tgz = fetch_npm_tarball(spec.package, spec.version, cache)
    except MissingModelError as exc:
        pytest.skip(exc.message)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / tgz.name).symlink_to(tgz)
    monkeypatch.setenv("PATH", "")
    first = build_models(tmp_path, names=["selfie_segmentation.onnx"])
    assert first["status"] == {"selfie_segmentation.onnx": "built"}
    second = build_models(tmp_path, names=["selfie_segmentation.onnx"])
    assert second["status"] == {"selfie_segmentation.onnx": "up to date"}
    manifest = json.loads((tmp_path / "manifest.json").read_text())["models"]["selfie_segmentation.onnx"]
    assert manifest["source"].startswith("@mediapipe/selfie_segmentation@0.1.1675465747")
    assert manifest["licence"] == "Apache-2.0" and manifest["bytes"] > 100_000
    assert "Apache License" in (tmp_path / "NOTICE").read_text()
    (tmp_path / "selfie_segmentation.onnx").write_bytes(b"corrupt")
    assert build_models(tmp_path, names=["selfie_segmentation.onnx"])["status"]["selfie_segmentation.onnx"] == "built"
