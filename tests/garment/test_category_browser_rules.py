"""The manifest's ``garment_category`` (:func:`tryon.garment.category.browser_rules`) carries every threshold the
widget's classifier (``web/src/category.js``) reads, so none is repeated in JavaScript."""

from __future__ import annotations

import re
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
