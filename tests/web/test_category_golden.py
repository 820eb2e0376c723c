"""Golden test: the widget's category names (``normaliseCategory`` + ``resolveCategory`` in ``web/src/protocol.js``,
for a folder without ``categories``) against ``tryon.garment.category`` (``normalise_category`` +
``require_supported``): every spelling either accepts, both dress it, or both refuse it with the same error and the
same category named."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tryon.errors import UnsupportedCategoryError, UsageError
from tryon.garment.category import _ALIASES, normalise_category, require_supported

RUNNER = Path(__file__).with_name("category_runner.mjs")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _python(name: str) -> dict:
    try:
        category = normalise_category(name)
        if category != "auto":  # the widget does not classify: auto passes there, the server classifies it
            require_supported(category)
    except UnsupportedCategoryError as exc:
        return {"error": "UnsupportedCategoryError", "message": exc.message}
    except UsageError as exc:
        return {"error": "TypeError", "message": exc.message}
    return {"error": None, "message": ""}


def test_js_category_names_match_python(tmp_path: Path) -> None:
    names = sorted(_ALIASES) + ["Tops", " One-Pieces ", "UPPER_BODY", "hats", "jumpsuit"]
    (tmp_path / "names.json").write_text(json.dumps(names))
    run = subprocess.run(["node", str(RUNNER), str(tmp_path / "names.json")], capture_output=True, text=True,
                         check=True, timeout=60)
    js = json.loads(run.stdout)
    for name in names:
        py = _python(name)
        assert js[name]["error"] == py["error"], name
        if py["error"] == "UnsupportedCategoryError":
            assert js[name]["message"] == py["message"], name
        elif py["error"] == "TypeError":  # the name is quoted by each language's own repr
            assert js[name]["message"].split(": ", 1)[1] == py["message"].split(": ", 1)[1], name
