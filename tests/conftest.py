"""Shared fixtures: where the non-commercial sample photos live (never committed), and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRYON_SHARED_DIR", REPO.parent / "shared"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (non-commercial sample photos are read from ../shared, never committed)")
    return path


@pytest.fixture(scope="session")
def vton_samples() -> Path:
    """../shared/data/vton-samples (person/, garment/, garment_mask/, person_parse/, person_pose/)."""
    return _need(SHARED / "data" / "vton-samples")


@pytest.fixture(scope="session")
def wild_dev() -> Path:
    """../shared/data/wild-dev (50 in-the-wild persons, 70 product garments, pairs.csv; research use only)."""
    return _need(SHARED / "data" / "wild-dev")


@pytest.fixture(scope="session")
def bodypix_dir() -> Path:
    """../shared/models/bodypix (BodyPix 2.0 weights, Apache-2.0, not committed)."""
    return _need(SHARED / "models" / "bodypix")


@pytest.fixture(scope="session")
def framer():
    """``tryon.framing.PersonFramer`` with the default rules on the models ``tryon setup`` builds (skipped when they
    cannot be built)."""
    from tryon.assets import build_models, models_dir
    from tryon.errors import MissingModelError
    from tryon.framing import FramingConfig, PersonFramer

    cfg = FramingConfig()
    try:
        build_models(models_dir(), names=[cfg.segmentation_model, cfg.pose_model, cfg.face_model])
    except MissingModelError as exc:
        pytest.skip(exc.message)
    return PersonFramer(config=cfg, threads=1)


def _export_framed_student(folder: Path, size: tuple[int, int], live: bool) -> Path:
    """The committed default student exported at ``size`` into ``folder`` with person framing (and, with ``live``,
    live mode's graphs) and the garment segmenter, as ``tryon export`` deploys it; skips when it or the framing models are missing."""
    pytest.importorskip("torch")
    weights = REPO / "models" / "weights" / "afn_student_s.pt"
    if not weights.is_file():
        pytest.skip("no committed default student")
    from tryon.assets import build_models, models_dir
    from tryon.errors import MissingModelError
    from tryon.export import export_model, model_from_checkpoint
    from tryon.export.live import attach_live
    from tryon.framing import FramingConfig, attach_framing
    from tryon.garment.segmenter import attach_segmenter

    cfg = FramingConfig()
    try:
        build_models(models_dir(), names=[cfg.segmentation_model, cfg.pose_model, cfg.face_model])
    except MissingModelError as exc:
        pytest.skip(exc.message)
    model, name = model_from_checkpoint(weights)
    export_model(model, folder, name=name, size=size, version="test")
    attach_framing(folder)
    attach_segmenter(folder)
    if live:
        attach_live(folder, model)
    return folder


@pytest.fixture(scope="session")
def framed_student(tmp_path_factory) -> Path:
    """The committed default student (``models/weights/afn_student_s.pt``) exported at 128x96 (the smallest size
    it was trained at) and deployed as ``tryon export`` deploys it: with person framing
    (``tryon.framing.attach_framing``) and live mode's graphs (``tryon.export.live.attach_live``)."""
    return _export_framed_student(tmp_path_factory.mktemp("framed_student"), (128, 96), live=True)


@pytest.fixture(scope="session")
def deployed_student(tmp_path_factory) -> Path:
    """The committed default student at 256x192 with framing, as ``make setup`` deploys it (the size the output
    gate's ramps were set at, ``tests/test_output_gate.py``)."""
    return _export_framed_student(tmp_path_factory.mktemp("deployed_student"), (256, 192), live=False)


@pytest.fixture()
def subcommand_app():
    """``build(register)``: a Typer app with one ``tryon`` subcommand registered, plus a no-op command so that
    Typer keeps it a subcommand (with a single command it would become the app itself)."""
    import typer

    def build(register) -> typer.Typer:
        app = typer.Typer()
        register(app)
        app.command("noop")(lambda: None)
        return app

    return build
