"""The widget's worker picks the framing box by the category the model folder's student dresses, and refuses the
others, in a real browser (Debian chromium, WASM) against the real app on loopback.

The folder is the committed tops student with its manifest's ``categories`` set to ``["bottoms"]``: plumbing under
test (which category the worker dresses, which box it frames with the real framing models), never a model to
ship; its try-on pictures mean nothing. Photos are read from ``../shared/data/wild-dev`` (never committed).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from .test_framing import BOX_TOLERANCE, _open, _run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def bottoms_site(framed_student_dir, tmp_path_factory):
    """The app serving ``web/`` and the relabelled folder; yields (base URL, folder)."""
    from tryon.manifest import Manifest
    from tryon.server.config import Settings

    from .conftest import STUDENT_ONLY, WEB, _serve_app

    if not (WEB / "demo" / "garments" / "catalogue.json").is_file():
        pytest.skip("web/demo/garments is missing: run `tryon web-build`")
    folder = tmp_path_factory.mktemp("bottoms_plumbing") / "student"
    shutil.copytree(framed_student_dir, folder)
    dataclasses.replace(Manifest.load(folder), categories=("bottoms",)).save(folder)
    settings = Settings(model_dir=folder, web_dir=WEB, providers="cpu", intra_op_threads=1, coop_coep=True,
                        warmup=False, teacher_categories=STUDENT_ONLY)
    with _serve_app(settings) as base:
        yield base, folder


def test_worker_frames_the_lower_body_and_refuses_tops_for_a_bottoms_folder(page, bottoms_site, wild_dev):
    from tryon.framing import FramingConfig, PersonFramer
    from tryon.processing import load_image

    base, folder = bottoms_site
    person: Path = wild_dev / "person" / "ccp__1601.jpg"  # standing, full body
    _open(page, base)
    page.evaluate("() => { document.querySelector('tryon-widget').setAttribute('category', 'tops'); }")
    got = _run(page, person)
    assert got["error"] and got["error"]["name"] == "UnsupportedCategoryError", got
    assert "'tops'" in got["error"]["message"] and "only bottoms" in got["error"]["message"]
    assert got["compareHidden"] and not got["hasResult"]

    page.evaluate("() => { document.querySelector('tryon-widget').setAttribute('category', 'auto'); }")
    # auto: the worker classifies the garment photo (trousers) and the folder dresses bottoms
    got = _run(page, person, wild_dev / "garment" / "coobytryon__uniqlo-active-tapered-pants-coffee.jpg")
    assert got["error"] is None, got
    import json

    cfg = FramingConfig.from_dict(json.loads((folder / "manifest.json").read_text())["framing"])
    framer = PersonFramer(folder, cfg, threads=1)
    image = load_image(person)
    py_box = framer(image, (256, 192), "bottoms").box
    assert py_box != framer(image, (256, 192), "tops").box
    jx0, jy0, jw, jh = got["box"]
    px0, py0, pw, ph = py_box
    worst = max(abs(jx0 - px0), abs(jy0 - py0), abs(jx0 + jw - px0 - pw), abs(jy0 + jh - py0 - ph)) / ph
    print(f"bottoms box: browser {got['box']}, Python {py_box}, worst edge {worst:.2%} of the box height")
    assert worst <= BOX_TOLERANCE
