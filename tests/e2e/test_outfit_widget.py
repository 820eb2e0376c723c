"""Browser test of outfits on the demo shop page: the catalogue grouped by category, one pick per category (a
second pick replaces the first, a dress clears the top and the bottom), and a top with a bottom given to the
widget as an outfit that the in-browser student refuses naming the bottom, never dressing it as a top.

The real app serves on loopback (conftest's ``site``) and Debian's chromium drives the page.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WIDGET_READY_JS = "() => customElements.get('tryon-widget') !== undefined"
CATALOGUE_READY_JS = "() => document.querySelectorAll('.garment').length > 1"
CHECKED_JS = ("() => [...document.querySelectorAll('.garment[aria-checked=\"true\"]')]"
              ".map(b => b.dataset.name).sort()")
OUTFIT_JS = "() => document.querySelector('tryon-widget').outfit.map(g => [g.category, g.alt])"
LAST_EVENT_JS = """() => { const e = window.__events.filter(e => e.type === 'result' || e.type === 'error');
  return e.length ? e[e.length - 1] : null; }"""


def _run(page) -> dict:
    page.evaluate("() => { window.__events.length = 0; }")
    page.click("tryon-widget .run")
    page.wait_for_function(LAST_EVENT_JS, timeout=240_000)
    return page.evaluate(LAST_EVENT_JS)


def test_pick_a_top_and_a_bottom(page, site, photos) -> None:
    page.goto(f"{site}/demo/?backend=wasm")
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function(CATALOGUE_READY_JS)
    groups = page.evaluate("() => [...document.querySelectorAll('.group')].map(g => [g.querySelector('h3')"
                           ".textContent, [...g.querySelectorAll('.garment')].map(b => b.dataset.name)])")
    assert [g[0] for g in groups] == ["Tops", "Bottoms", "Dresses"]
    by_group = dict(groups)
    assert {"blue-jeans", "khaki-shorts", "plum-pleated-skirt"} <= set(by_group["Bottoms"])
    assert by_group["Dresses"] == ["navy-shift-dress"]
    assert page.evaluate(CHECKED_JS) == ["white-crew-tee"]
    assert page.evaluate(OUTFIT_JS) == [["tops", "White crew tee"]]

    page.click('.garment[data-name="blue-jeans"]')
    assert page.evaluate(CHECKED_JS) == ["blue-jeans", "white-crew-tee"]
    page.click('.garment[data-name="khaki-shorts"]')  # a second bottom replaces the first
    assert page.evaluate(CHECKED_JS) == ["khaki-shorts", "white-crew-tee"]
    assert page.evaluate(OUTFIT_JS) == [["tops", "White crew tee"], ["bottoms", "Khaki shorts"]]
    assert page.evaluate("() => document.querySelector('tryon-widget').getAttribute('garment-alt')") == \
        "White crew tee and Khaki shorts"

    # The in-browser student dresses tops only: the outfit is refused naming the shorts, before any model runs.
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    event = _run(page)
    assert event["type"] == "error" and event["detail"]["name"] == "UnsupportedCategoryError", event
    assert event["detail"]["message"].startswith("Khaki shorts: this garment looks like 'bottoms'")
    assert page.evaluate("() => document.querySelector('tryon-widget').shadowRoot.querySelector('.compare').hidden")

    # A dress is worn alone: it clears the top and the bottom, and is refused by name as a one-piece.
    page.click('.garment[data-name="navy-shift-dress"]')
    assert page.evaluate(CHECKED_JS) == ["navy-shift-dress"]
    assert page.evaluate(OUTFIT_JS) == [["one-pieces", "Navy shift dress"]]
    event = _run(page)
    assert event["type"] == "error" and event["detail"]["name"] == "UnsupportedCategoryError", event
    assert "'one-pieces'" in event["detail"]["message"]

    # Back to a top alone: dressed in the browser.
    page.click('.garment[data-name="red-vneck-tank"]')
    assert page.evaluate(CHECKED_JS) == ["red-vneck-tank"]
    event = _run(page)
    assert event["type"] == "result" and event["detail"]["backend"] == "wasm", event
