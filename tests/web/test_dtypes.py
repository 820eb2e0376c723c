"""The widget's model-file dtype names (``web/src/backend.js`` ``DTYPE``) are the manifest's
(``tryon.manifest.DTYPES``): a file the quantizer lists under a name the widget does not know is never used."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tryon.manifest import DTYPES
from tryon.quantize.pipeline import MANIFEST_DTYPE

BACKEND_JS = Path(__file__).resolve().parents[2] / "web" / "src" / "backend.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_widget_dtype_names_are_the_manifests() -> None:
    script = f"import {{ DTYPE }} from {json.dumps(BACKEND_JS.as_uri())}; console.log(JSON.stringify(DTYPE));"
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    assert sorted(json.loads(out.stdout).values()) == sorted(DTYPES)


def test_every_quantize_mode_writes_a_known_dtype() -> None:
    assert set(MANIFEST_DTYPE.values()) <= set(DTYPES)
