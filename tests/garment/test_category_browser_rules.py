"""The manifest's ``garment_category`` (:func:`tryon.garment.category.browser_rules`) carries every threshold the
widget's classifier (``web/src/category.js``) reads, so none is repeated in JavaScript."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tryon.errors import UsageError
from tryon.garment.category import DRESSED, browser_rules

CATEGORY_JS = Path(__file__).resolve().parents[2] / "web" / "src" / "category.js"


def test_every_threshold_the_browser_reads_is_in_the_manifest_rules() -> None:
    read = set(re.findall(r"\brules\.([a-z_0-9]+)", CATEGORY_JS.read_text()))
    rules = browser_rules()["rules"]
    assert read, "category.js reads no rules: the pattern is out of date"
    assert read <= set(rules), f"category.js reads thresholds the manifest lacks: {sorted(read - set(rules))}"
    assert all(isinstance(v, (int, float)) for v in rules.values())


def test_dressed_categories_are_written_in_the_users_vocabulary() -> None:
    assert browser_rules()["dressed"] == list(DRESSED) == ["tops"]
    assert browser_rules(("top", "dress"))["dressed"] == ["tops", "one-pieces"]
    with pytest.raises(UsageError):
        browser_rules(("hats",))
    with pytest.raises(UsageError):
        browser_rules(("auto",))


def test_the_folded_garment_words_are_pythons() -> None:
    """The widget's reason and refusal for a folded garment are the Python module's, word for word."""
    from tryon.garment.category import FOLDED, FOLDED_ADVICE

    js = CATEGORY_JS.read_text()
    reason = re.search(r"export const FOLDED = '([^']*)'", js)
    advice = re.search(r"export const FOLDED_ADVICE = '([^']*)'\s*\+\s*'([^']*)'", js)
    assert reason and reason.group(1) == FOLDED
    assert advice and advice.group(1) + advice.group(2) == FOLDED_ADVICE


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_pose_and_fold_refusal_words_are_pythons() -> None:
    """The widget's PoseError naming a folded garment too (``alsoFolded``) is the teacher's and the student runner's
    (:func:`tryon.garment.category.also_folded`), word for word, on the framing's own pose refusals."""
    import json
    import subprocess

    from tryon.garment.category import FOLDED_ADVICE, also_folded

    poses = ["the photo seems to show you from the side: use a photo taken from the front, facing the camera",
             "the photo seems to show you from the back: use a photo taken from the front"]
    script = (f"import {{ alsoFolded }} from {json.dumps(CATEGORY_JS.as_uri())};\n"
              f"process.stdout.write(JSON.stringify({json.dumps(poses)}.map(alsoFolded)));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], check=True, capture_output=True, text=True,
                         timeout=60)
    js = json.loads(out.stdout)
    assert js == [also_folded(p) for p in poses]
    # The format the teacher's pose refusals also use (pytools/teacher/pipeline.py calls also_folded).
    assert js[0] == f"{poses[0]}. Also, {FOLDED_ADVICE}"
