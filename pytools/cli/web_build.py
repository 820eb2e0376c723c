"""``tryon web-build``: render the built-in garment catalogue to PNGs for the widget's demo shop page.

Writes ``<out>/<name>.png`` (the in-shop garment photo), ``<out>/<name>_mask.png`` (its exact mask, which the
widget uses instead of estimating one: ``garment-mask-src``) and ``<out>/catalogue.json`` (name, label, image,
mask, sleeve, category). Only the project's procedurally rendered garments (:mod:`tryon.garment.catalogue`: tops,
a dress, bottoms) are written, never photos. The onnxruntime-web runtime files are copied separately by ``npm ci`` in ``web/``
(``web/scripts/copy-ort.mjs``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "build_catalogue", "DEFAULT_OUT", "DEMO_SIZE"]

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "web" / "demo" / "garments"
"""``web/demo/garments`` of this checkout (the server serves ``web/`` at ``/``)."""
DEMO_SIZE = (768, 576)
"""(height, width) of the rendered catalogue photos: big enough to show the paste-back's detail, small to load."""


def build_catalogue(out: str | Path = DEFAULT_OUT, size: tuple[int, int] = DEMO_SIZE) -> list[dict[str, str]]:
    """Render every catalogue garment and its mask into ``out``; returns the catalogue entries written.

    Args:
        out: output folder (created).
        size: (height, width) of each rendered photo.

    Raises:
        OutputError: the folder cannot be written.
    """
    import numpy as np

    from tryon.garment.catalogue import garment_category, garment_sleeve, list_garments, render_garment
    from tryon.processing import atomic_write_bytes as atomic_write
    from tryon.processing import save_image

    folder = Path(out)
    entries = []
    for name in list_garments():
        image, mask = render_garment(name, size=size)  # (H, W, 3) uint8, (H, W) float32
        save_image(folder / f"{name}.png", image)
        mask_u8 = np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
        save_image(folder / f"{name}_mask.png", np.repeat(mask_u8[..., None], 3, axis=2))
        entries.append({"name": name, "label": name.replace("-", " ").capitalize(), "image": f"{name}.png",
                        "mask": f"{name}_mask.png", "sleeve": garment_sleeve(name),
                        "category": garment_category(name)})
        log.info("rendered %s", name)
    atomic_write(folder / "catalogue.json", (json.dumps({"garments": entries}, indent=2) + "\n").encode())
    return entries


def web_build(
    out: Annotated[Path, typer.Option("-o", "--out", file_okay=False,
                                      help="Folder for the catalogue PNGs and catalogue.json.")] = DEFAULT_OUT,
    size: Annotated[str, typer.Option("--size", help="HEIGHTxWIDTH of each garment photo.")] = "768x576",
) -> None:
    """Render the built-in garment catalogue (PNG + mask + catalogue.json) for the demo shop page."""
    from tryon.cli.options import parse_size

    entries = build_catalogue(out, parse_size(size))
    typer.echo(f"wrote {len(entries)} garments to {out}")


def register(app: typer.Typer) -> None:
    """Add ``tryon web-build`` to ``app``."""
    app.command("web-build")(web_build)
