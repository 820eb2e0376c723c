"""The `tryon` console script: help texts, and bad input answered with a message and a distinct exit code,
with nothing written. Runs the real installed entry point in a subprocess."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tryon.errors import EXIT_CODES

TRYON = shutil.which("tryon") or str(__import__("pathlib").Path(sys.executable).with_name("tryon"))


def tryon(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([TRYON, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_lists_subcommands_and_explains_flags():
    top = tryon("--help")
    assert top.returncode == 0
    for cmd in ("run", "eval", "teacher", "setup", "env"):
        assert cmd in top.stdout
    run_help = tryon("run", "--help").stdout
    for flag in ("--person", "--garment", "--pairs", "--out", "--category", "--list-garments", "--models-dir"):
        assert flag in run_help
    assert "--shard-size" in tryon("teacher", "build", "--help").stdout


def _png(path, size=(300, 400), color=(200, 180, 160)):
    Image.new("RGB", size, color).save(path)
    return path


@pytest.mark.parametrize("content,code", [
    (b"", "UnreadableImageError"),
    (b"this is not an image", "NotAnImageError"),
])
def test_bad_person_file(tmp_path, content, code):
    bad = tmp_path / "person.jpg"
    bad.write_bytes(content)
    out = tmp_path / "out.png"
    r = tryon("run", "-p", str(bad), "-o", str(out))
    assert r.returncode == EXIT_CODES[code], r.stderr
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert not out.exists()


def test_truncated_tiny_and_bomb(tmp_path):
    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buf, "JPEG")
    (tmp_path / "trunc.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    r = tryon("run", "-p", str(tmp_path / "trunc.jpg"), "-o", str(tmp_path / "o.png"))
    assert r.returncode == EXIT_CODES["UnreadableImageError"], r.stderr
    _png(tmp_path / "tiny.png", size=(20, 30))
    r = tryon("run", "-p", str(tmp_path / "tiny.png"), "-o", str(tmp_path / "o.png"))
    assert r.returncode == EXIT_CODES["ImageTooSmallError"], r.stderr
    Image.new("1", (9000, 9000)).save(tmp_path / "bomb.png")
    r = tryon("run", "-p", str(tmp_path / "bomb.png"), "-o", str(tmp_path / "o.png"))
    assert r.returncode == EXIT_CODES["DecompressionBombError"], r.stderr
    assert not (tmp_path / "o.png").exists()


def test_usage_errors(tmp_path):
    p = _png(tmp_path / "p.png")
    assert tryon("run", "-o", str(tmp_path / "o.png")).returncode == EXIT_CODES["UsageError"]
    r = tryon("run", "-p", str(p), "-o", str(tmp_path / "o.txt"))
    assert r.returncode == EXIT_CODES["UsageError"] and "image file name" in r.stderr
    r = tryon("run", "-p", str(p), "-o", str(p))
    assert r.returncode == EXIT_CODES["OutputError"]
    # Refused before the try-on, not after its seconds of work: a place under a file, a folder for an image.
    r = tryon("run", "-p", str(p), "-o", str(p / "x.png"))
    assert r.returncode == EXIT_CODES["OutputError"] and "is a file, not a folder" in r.stderr, r.stderr
    r = tryon("run", "-p", str(p), "-o", str(tmp_path))
    assert r.returncode == EXIT_CODES["UsageError"] and "image file name" in r.stderr, r.stderr
    (tmp_path / "d.png").mkdir()
    r = tryon("run", "-p", str(p), "-o", str(tmp_path / "d.png"))
    assert r.returncode == EXIT_CODES["OutputError"] and "is a folder" in r.stderr, r.stderr
    r = tryon("run", "-p", str(p), "-g", "catalogue:no-such-garment", "-o", str(tmp_path / "o.png"))
    assert r.returncode == EXIT_CODES["UsageError"] and "catalogue" in r.stderr
    r = tryon("run", "-p", str(p), "--method", "student", "--refine", "-o", str(tmp_path / "o.png"))
    assert r.returncode == EXIT_CODES["UsageError"] and "--refine" in r.stderr
    assert not (tmp_path / "o.png").exists()
    r = tryon("teacher", "build", "-o", str(tmp_path / "ds"), "--size", "250x190", "--pairs", str(p))
    assert r.returncode == EXIT_CODES["UsageError"]
    r = tryon("teacher", "build", "-o", str(tmp_path / "ds"), "--pairs", str(p), "--category", "bottoms")
    assert r.returncode == EXIT_CODES["UsageError"] and "category column" in r.stderr
    r = tryon("teacher", "build", "-o", str(tmp_path / "ds"), "--persons", str(tmp_path), "--garments",
              str(tmp_path), "--category", "hats")
    assert r.returncode == EXIT_CODES["UsageError"] and "unknown garment category" in r.stderr


def test_list_garments():
    r = tryon("run", "--list-garments")
    assert r.returncode == 0 and "(default)" in r.stdout and r.stdout.count("catalogue:") >= 3
    # Each garment with its category, every category present.
    assert {line.split()[1] for line in r.stdout.splitlines()} == {"tops", "bottoms", "one-pieces"}
