"""No unused code: vulture over the Python packages and the tests, with the project's settings
(``[tool.vulture]`` in pyproject.toml; names used from outside Python's view are in vulture_whitelist.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_vulture_finds_no_unused_code():
    pytest.importorskip("vulture")  # the dev extra
    r = subprocess.run([sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "unused code (remove it, or whitelist a false positive in vulture_whitelist.py):\n" + \
        r.stdout[-4000:] + r.stderr[-2000:]
