"""Browser test of the server's teacher behind the widget: on the demo page, the catalogue's jeans (a category the
in-browser student does not dress) go to the server, which dresses them with the teacher, only once the shopper
agrees; the consent prompt says why, a refusal leaves no earlier result on screen and sends nothing.

Real parts: the default student in the browser (WASM), the real app on loopback with its default
``teacher_categories`` (the teacher dresses bottoms and one-pieces), Debian's chromium, and a full-body person photo
from ``../shared/data/wild-dev`` (never committed; skipped when absent). Results are written to ``tests/e2e/out``.
"""

from __future__ import annotations

import base64

import pytest

from .conftest import OUT, _teacher_site

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

FULL_BODY = "ccp__1249.jpg"  # standing, facing the camera, legs and feet in view

WIDGET_READY_JS = "() => customElements.get('tryon-widget') !== undefined"
CATALOGUE_READY_JS = "() => document.querySelectorAll('.garment').length > 1"
CHECKED_JS = ("() => [...document.querySelectorAll('.garment[aria-checked=\"true\"]')]"
              ".map(b => b.dataset.name).sort()")
LAST_EVENT_JS = """() => { const e = window.__events.filter(e => e.type === 'result' || e.type === 'error');
  return e.length ? e[e.length - 1] : null; }"""
SHADOW_JS = """() => { const r = document.querySelector('tryon-widget').shadowRoot;
  return {consentHidden: r.querySelector('.consent').hidden, consentText: r.querySelector('#consent-text').innerText,
          compareHidden: r.querySelector('.compare').hidden, afterSrc: r.querySelector('.after').getAttribute('src'),
          errorText: r.querySelector('.error-text').textContent, status: r.querySelector('.status').textContent}; }"""
CONSENT_SHOWN_JS = ("() => !document.querySelector('tryon-widget').shadowRoot.querySelector('.consent').hidden"
                    " || window.__events.some(e => e.type === 'error')")
RESULT_PNG_JS = """async () => { const b = document.querySelector('tryon-widget').result;
  const bytes = new Uint8Array(await b.arrayBuffer()); let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s); }"""


@pytest.fixture(scope="module")
def teacher_site(tiny_model_dir):
    """The app serving ``web/`` (the demo and its catalogue) and the student, with the teacher on (the default
    ``teacher_categories``); yields its base URL."""
    with _teacher_site(tiny_model_dir, warmup=True) as base:
        yield base


def _press_run(page) -> None:
    page.evaluate("() => { window.__events.length = 0; }")
    page.click("tryon-widget .run")


def _run_with_consent(page, timeout: int = 240_000) -> dict:
    """Press "Try it on", say yes to the server, and return the run's result or error event."""
    _press_run(page)
    page.wait_for_function(CONSENT_SHOWN_JS)
    page.click("tryon-widget .consent-yes")
    page.wait_for_function(LAST_EVENT_JS, timeout=timeout)
    return page.evaluate(LAST_EVENT_JS)


def test_jeans_go_to_the_server_with_consent(page, teacher_site, wild_dev) -> None:
    person = wild_dev / "person" / FULL_BODY
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/v1/run" in r.url else None)
    page.goto(f"{teacher_site}/demo/?backend=wasm")
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function(CATALOGUE_READY_JS)
    page.set_input_files("tryon-widget .file", str(person))

    # The tee is dressed in the browser: a result on screen, which the jeans' refusal below must take away.
    _press_run(page)
    page.wait_for_function(LAST_EVENT_JS, timeout=240_000)
    event = page.evaluate(LAST_EVENT_JS)
    assert event["type"] == "result" and event["detail"]["backend"] == "wasm", event
    assert not page.evaluate(SHADOW_JS)["compareHidden"]

    page.click('.garment[data-name="blue-jeans"]')
    page.click('.garment[data-name="white-crew-tee"]')  # taken off: the jeans alone
    assert page.evaluate(CHECKED_JS) == ["blue-jeans"]

    # Declined: nothing is sent, a clear message, and the tee's result is gone.
    _press_run(page)
    page.wait_for_function(CONSENT_SHOWN_JS)
    shown = page.evaluate(SHADOW_JS)
    assert not shown["consentHidden"], shown
    assert shown["consentText"].startswith("This garment (Blue jeans) is one of the bottoms"), shown["consentText"]
    assert "the model in your browser dresses tops only" in shown["consentText"]
    page.click("tryon-widget .consent-no")
    page.wait_for_function(LAST_EVENT_JS)
    event = page.evaluate(LAST_EVENT_JS)
    assert event["type"] == "error" and event["detail"]["name"] == "ConsentDeclinedError", event
    shown = page.evaluate(SHADOW_JS)
    # The shopper's choice, not a failure: said in the status, with no "something went wrong" box.
    assert shown["status"].startswith("Your photo was not sent. This garment (Blue jeans) is one of the bottoms")
    assert not shown["errorText"], shown
    assert shown["compareHidden"] and shown["afterSrc"] is None, "a stale result stayed on screen"
    assert posts == [], "the photo was sent although the shopper said no"

    # Accepted: the server's teacher dresses the jeans, shown at the photo's size.
    event = _run_with_consent(page)
    assert event["type"] == "result" and event["detail"]["backend"] == "server", event
    assert len(posts) == 1
    shown = page.evaluate(SHADOW_JS)
    assert not shown["compareHidden"] and shown["afterSrc"], shown
    assert "on the server" in shown["status"], shown["status"]
    from PIL import Image

    OUT.mkdir(exist_ok=True)
    result = OUT / "server_teacher_jeans.png"
    result.write_bytes(base64.b64decode(page.evaluate(RESULT_PNG_JS)))
    with Image.open(person) as src, Image.open(result) as out:
        assert out.size == src.size
    page.screenshot(path=str(OUT / "server_teacher_jeans_page.png"), full_page=True)

    # The tee back on: an outfit, which the browser's student cannot dress, sent to the server at once (the
    # shopper already agreed), the tee by the student over the teacher's jeans.
    page.click('.garment[data-name="white-crew-tee"]')
    assert page.evaluate(CHECKED_JS) == ["blue-jeans", "white-crew-tee"]
    _press_run(page)
    page.wait_for_function(LAST_EVENT_JS, timeout=240_000)
    event = page.evaluate(LAST_EVENT_JS)
    assert event["type"] == "result" and event["detail"]["backend"] == "server", event
    assert len(posts) == 2 and page.evaluate(SHADOW_JS)["consentHidden"]


# The category of each try-on the page sends (multipart bodies are not readable from Playwright's request).
SENT_CATEGORIES_JS = """(() => { window.__sent = []; const f = window.fetch;
  window.fetch = (url, init) => { if (init?.body instanceof FormData) window.__sent.push(init.body.get('category'));
    return f(url, init); }; })();"""
UPLOAD_JS = """async (src) => { const w = document.querySelector('tryon-widget');
  w.removeAttribute('garment-mask-src'); w.removeAttribute('garment-alt'); w.setAttribute('category', 'auto');
  w.garment = await (await fetch(src)).blob(); }"""


def test_an_uploaded_auto_garment_the_browser_calls_bottoms_goes_to_the_server(page, teacher_site, wild_dev) -> None:
    """A garment photo the page hands the widget as a file (no mask, ``category="auto"``) that the browser's
    classifier calls bottoms: not refused, but offered to the server (which dresses bottoms) with the shopper's
    consent, named bottoms as the classifier found it."""
    person = wild_dev / "person" / FULL_BODY
    page.add_init_script(SENT_CATEGORIES_JS)
    page.goto(f"{teacher_site}/demo/?backend=wasm")
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function(CATALOGUE_READY_JS)
    page.set_input_files("tryon-widget .file", str(person))
    page.evaluate(UPLOAD_JS, "garments/khaki-shorts.png")

    _press_run(page)
    page.wait_for_function(CONSENT_SHOWN_JS, timeout=240_000)
    shown = page.evaluate(SHADOW_JS)
    assert not shown["consentHidden"], (shown, page.evaluate(LAST_EVENT_JS))
    assert shown["consentText"].startswith("This garment is one of the bottoms"), shown["consentText"]
    assert page.evaluate("() => window.__sent") == [], "sent before the shopper agreed"
    page.click("tryon-widget .consent-yes")
    page.wait_for_function(LAST_EVENT_JS, timeout=240_000)
    event = page.evaluate(LAST_EVENT_JS)
    assert event["type"] == "result" and event["detail"]["backend"] == "server", event
    assert page.evaluate("() => window.__sent") == ["bottoms"]
    OUT.mkdir(exist_ok=True)
    (OUT / "server_teacher_uploaded_shorts.png").write_bytes(base64.b64decode(page.evaluate(RESULT_PNG_JS)))


def test_a_photo_refused_as_showing_no_person_is_not_sent_again(page, teacher_site, tmp_path) -> None:
    """The server's refusal of a photo with no one in it is remembered for that photo: the next try-on that would
    send it is refused at once, with no prompt and no upload; a new photo is asked about again."""
    import numpy as np
    from PIL import Image

    wall = tmp_path / "empty_wall.png"
    yy, xx = np.mgrid[0:800, 0:600]
    Image.fromarray(np.stack([180 + 30 * yy / 800, 170 + 20 * xx / 600, 150 + 0 * xx], -1).astype(np.uint8)).save(wall)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/v1/run" in r.url else None)
    page.goto(f"{teacher_site}/demo/?backend=wasm")
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function(CATALOGUE_READY_JS)
    page.click('.garment[data-name="blue-jeans"]')
    page.click('.garment[data-name="white-crew-tee"]')  # the jeans alone: the server's teacher dresses them
    page.set_input_files("tryon-widget .file", str(wall))

    event = _run_with_consent(page, timeout=120_000)
    assert event["type"] == "error" and event["detail"]["name"] == "NoPersonError", event
    assert len(posts) == 1

    page.click('.garment[data-name="khaki-shorts"]')
    _press_run(page)
    page.wait_for_function(LAST_EVENT_JS, timeout=30_000)
    event = page.evaluate(LAST_EVENT_JS)
    assert event["type"] == "error" and event["detail"]["name"] == "NoPersonError", event
    assert len(posts) == 1, "a photo the server refused was sent again"
    assert page.evaluate(SHADOW_JS)["consentHidden"]

    other = tmp_path / "another_wall.png"
    other.write_bytes(wall.read_bytes())
    page.set_input_files("tryon-widget .file", str(other))
    _press_run(page)
    page.wait_for_function(CONSENT_SHOWN_JS)
    assert not page.evaluate(SHADOW_JS)["consentHidden"]
    page.click("tryon-widget .consent-no")
    assert len(posts) == 1
