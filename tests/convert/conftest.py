"""Fixtures for the converter tests: the MediaPipe .tflite files, from npm tarballs cached in the models folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mediapipe_tflite(tmp_path_factory) -> dict[str, Path]:
    """{"selfie_segmentation" | "pose_landmark_full" | "pose_landmark_heavy": path of the extracted .tflite}.

    Tarballs come from ``<models_dir>/.cache`` ($TRYON_MODELS_DIR in CI), fetched once with ``npm pack`` when
    absent; the test skips when npm or the registry is unavailable and nothing is cached.
    """
    from tryon.assets import MODELS, fetch_npm_tarball, models_dir, read_tar_member
    from tryon.errors import MissingModelError

    out = tmp_path_factory.mktemp("tflite")
    files = {}
    for spec in MODELS.values():
        try:
            tgz = fetch_npm_tarball(spec.package, spec.version, models_dir() / ".cache")
        except MissingModelError as exc:
            pytest.skip(f"MediaPipe tarball unavailable: {exc.message}")
        stem = Path(spec.member).stem
        files[stem] = out / f"{stem}.tflite"
        files[stem].write_bytes(read_tar_member(tgz, spec.member))
    return files
