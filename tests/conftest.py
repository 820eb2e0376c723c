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
def more_photos() -> Path:
    """../shared/data/more-photos (1,452 person photos, 379 garments, unpaired)."""
    return _need(SHARED / "data" / "more-photos")


@pytest.fixture(scope="session")
def wild_dev() -> Path:
    """../shared/data/wild-dev (50 in-the-wild person photos, 70 garments; person/, garment/)."""
    return _need(SHARED / "data" / "wild-dev")


@pytest.fixture(scope="session")
def bodypix_dir() -> Path:
    """../shared/models/bodypix (BodyPix 2.0 weights, Apache-2.0, not committed)."""
    return _need(SHARED / "models" / "bodypix")


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
