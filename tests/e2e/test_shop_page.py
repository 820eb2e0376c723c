"""Browser tests of the demo shop page and of how ``tryon serve`` hosts it: the front page's redirect, the
model file WASM downloads, compression and caching of the runtime, the consent prompt's wording, the phone
layout, the catalogue's keyboard behaviour, a shop origin the server does not list, the favicon and HEAD.

The real app serves on loopback (conftest's ``site`` and friends) and Debian's chromium drives the page.
Page scripts are arrow functions: the app's CSP forbids eval, which Playwright uses for expression strings.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

WIDGET_READY_JS = "() => customElements.get('tryon-widget') !== undefined"
CATALOGUE_READY_JS = "() => document.querySelectorAll('.garment').length > 1"

# The phone: its viewport, every scroll position the page passes through, where an element of the widget is.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
RECORD_SCROLLS_JS = "() => { window.__scrolls = []; addEventListener('scroll', () => window.__scrolls.push(scrollY)); }"
RECT_JS = """(selector) => {
  const w = document.querySelector('tryon-widget');
  const r = w.shadowRoot.querySelector(selector).getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, height: r.height, viewport: innerHeight, scrollY};
}"""


def _events(page, kind: str | None = None) -> list[dict]:
    events = page.evaluate("() => window.__events")
    return [e for e in events if kind is None or e["type"] == kind]


def _open_demo(page, site: str, query: str = "") -> None:
    page.goto(f"{site}/demo/{'?' + query if query else ''}")
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function(CATALOGUE_READY_JS)


def test_front_page_redirect_keeps_the_query(page, site) -> None:
    page.goto(f"{site}/?backend=webgpu&debug")
    assert page.url == f"{site}/demo/?backend=webgpu&debug"
    page.wait_for_function(WIDGET_READY_JS)
    attrs = page.evaluate("() => { const w = document.querySelector('tryon-widget');"
                          " return [w.getAttribute('backend'), w.hasAttribute('debug')]; }")
    assert attrs == ["webgpu", True]


def test_wasm_downloads_the_quantized_file_the_manifest_lists(page, try_on, quantized_site, photos) -> None:
    """The model folder `make setup` ships lists fp32, fp16 and the dynamic int8 file as `int8_dynamic`: WASM
    must download that one, not fp32."""
    manifest = json.loads(page.request.get(f"{quantized_site}/models/manifest.json").text())
    by_dtype = {f["dtype"]: f["path"] for f in manifest["files"]}
    assert set(by_dtype) == {"fp32", "int8_dynamic"}
    fetched: list[str] = []
    page.context.on("request", lambda r: fetched.append(r.url) if "/models/" in r.url and ".onnx" in r.url else None)
    _open_demo(page, quantized_site, "backend=wasm")
    detail = try_on(page, photos["person"])
    assert detail["backend"] == "wasm"
    names = sorted({url.split("/models/")[1].split("?")[0] for url in fetched})
    assert names == [by_dtype["int8_dynamic"]], f"WASM fetched {names}"
    load = _events(page, "load")[0]["detail"]
    assert load["dtype"] == "int8_dynamic"
    assert page.evaluate("() => document.querySelector('tryon-widget').modelInfo.dtype") == "int8_dynamic"


def test_runtime_is_sent_precompressed_and_cached_for_a_year(page, site) -> None:
    """The 28 MB onnxruntime .wasm travels as its brotli (or gzip) sibling, asked for with its version so the
    browser may keep it for a year."""
    responses = []
    page.context.on("response", lambda r: responses.append(r) if "/vendor/ort/" in r.url else None)
    _open_demo(page, site, "backend=wasm")
    page.evaluate("() => document.querySelector('tryon-widget').load()")
    version = page.request.get(f"{site}/vendor/ort/VERSION").text().strip()
    wasm = [r for r in responses if ".wasm" in r.url]
    assert len(wasm) == 1, [r.url for r in responses]
    response = wasm[0]
    assert response.url.endswith(f".jsep.wasm?v={version}")
    accepted = response.request.all_headers()["accept-encoding"]
    headers = response.all_headers()
    expected = "br" if "br" in accepted else "gzip"
    assert headers["content-encoding"] == expected, (accepted, headers)
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "application/wasm"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    raw = len(page.request.get(response.url, headers={"accept-encoding": "identity"}).body())
    sent = response.request.sizes()["responseBodySize"]
    assert sent < raw / 3, f"{sent} bytes on the wire for a {raw}-byte file"
    assert _events(page, "load"), "the runtime must work from the compressed file"


def test_consent_prompt_says_why_the_server_is_used(page, site, photos) -> None:
    # The page chose the server: the device may well run the try-on.
    _open_demo(page, site, "backend=server&server-fallback=ask")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector("tryon-widget .consent:not([hidden])")
    chosen = page.inner_text("tryon-widget .consent")
    assert "cannot run" not in chosen and "runs the try-on on our server" in chosen, chosen
    page.click("tryon-widget .consent-no")
    page.wait_for_function("() => window.__events.some(e => e.type === 'error')")
    declined = _events(page, "error")[0]["detail"]
    assert declined["name"] == "ConsentDeclinedError" and "cannot run" not in declined["message"], declined

    # No in-browser backend can load the model (a file onnxruntime cannot parse, with a matching sha256).
    junk = b"not an ONNX model"
    def manifest(route):
        m = route.fetch().json()
        m["files"] = [{"path": "model.onnx", "dtype": "fp32", "bytes": len(junk),
                       "sha256": hashlib.sha256(junk).hexdigest()}]
        route.fulfill(json=m)
    page.context.route("**/models/manifest.json", manifest)
    page.context.route("**/models/model.onnx*", lambda route: route.fulfill(
        body=junk, headers={"content-type": "application/octet-stream"}))
    _open_demo(page, site, "backend=wasm&server-fallback=ask")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector("tryon-widget .consent:not([hidden])")
    assert "This device cannot run the try-on itself" in page.inner_text("tryon-widget .consent")


def _tall_photo(photos, folder):
    """The test person scaled to a phone camera's 768×1024: its result is taller than what is left of the
    screen below the controls."""
    path = folder / "person_768x1024.png"
    Image.open(photos["person"]).resize((768, 1024), Image.Resampling.BICUBIC).save(path)
    return path


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_phone_layout_controls_first_and_result_scrolled_into_view(make_page, try_on, site, photos, tmp_path,
                                                                   motion) -> None:
    page = make_page(**PHONE, reduced_motion=motion)
    fits = "() => document.documentElement.scrollWidth <= innerWidth"
    _open_demo(page, site, "backend=wasm")
    page.screenshot(path=str(tmp_path / "phone_start.png"))
    assert page.evaluate(fits), "the page is wider than the phone"
    for control in (".upload", ".run"):
        box = page.evaluate(RECT_JS, control)
        assert 0 <= box["top"] and box["bottom"] <= box["viewport"], f"{control} is below the fold: {box}"
    # Every garment is still on the first screen's row (scrolling sideways), none pushed below the controls.
    tiles = page.evaluate("() => [...document.querySelectorAll('.garment')].map(b => b.getBoundingClientRect().top)")
    assert max(tiles) < page.evaluate(RECT_JS, ".upload")["top"]

    page.evaluate(RECORD_SCROLLS_JS)
    try_on(page, _tall_photo(photos, tmp_path))
    page.wait_for_function(f"() => {{ const r = ({RECT_JS})('.compare');"
                           " return r.height > 0 && r.top >= 0 && r.bottom <= r.viewport; }", timeout=15_000)
    page.screenshot(path=str(tmp_path / "phone_result.png"))
    figure = page.evaluate(RECT_JS, ".compare")
    assert figure["scrollY"] > 0, "the page must scroll to the result"
    assert page.evaluate(fits), "the result makes the page wider than the phone"
    scrolls = page.evaluate("() => window.__scrolls")
    if motion == "reduce":
        assert len(set(scrolls)) == 1, f"scrolled in steps despite prefers-reduced-motion: {scrolls}"
    else:
        assert len(set(scrolls)) > 1, f"expected a smooth scroll: {scrolls}"
    for name in ("phone_start.png", "phone_result.png"):
        assert Image.open(tmp_path / name).size == (780, 1688)


def test_catalogue_is_one_tab_stop_per_group_and_arrow_keys_choose(page, site) -> None:
    _open_demo(page, site, "backend=wasm")
    every = page.evaluate("() => [...document.querySelectorAll('.garment')].map(b => b.dataset.name)")
    firsts = page.evaluate("() => [...document.querySelectorAll('.group')].map(g => g.querySelector('.garment')"
                           ".dataset.name)")
    names = page.evaluate("() => [...document.querySelectorAll('.garment[data-category=\"tops\"]')]"
                          ".map(b => b.dataset.name)")
    focused = ("() => { const a = document.activeElement;"
               " return a?.classList.contains('garment') ? a.dataset.name : a?.localName; }")
    checked = "() => document.querySelector('.garment[data-category=\"tops\"][aria-checked=\"true\"]').dataset.name"

    stops = []
    for _ in range(30):  # once through the page's Tab order, until focus wraps around to the document
        page.keyboard.press("Tab")
        stops.append(page.evaluate(focused))
        if stops[-1] == "body":
            break
    # One stop per category group: its checked garment (the first top), else its first garment.
    assert [s for s in stops if s in every] == firsts and firsts[0] == names[0], f"Tab stops: {stops}"
    assert "tryon-widget" in stops, f"Tab stops: {stops}"

    page.evaluate("() => document.querySelector('.garment[aria-checked=\"true\"]').focus()")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == page.evaluate(checked) == names[1]
    assert names[1] in page.evaluate("() => document.querySelector('tryon-widget').garmentSrc")
    page.keyboard.press("End")
    assert page.evaluate(checked) == names[-1]
    page.keyboard.press("ArrowDown")  # wraps around
    assert page.evaluate(checked) == names[0]
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(focused) == page.evaluate(checked) == names[-1]
    page.keyboard.press("Tab")  # out of the group, and back in to the checked radio
    assert page.evaluate(focused) not in names
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == names[-1]


def test_unlisted_shop_origin_is_told_how_to_start_the_server(page, unlisted_shop) -> None:
    """A shop page embedding the widget from a server started without its origin: the element still shows, and
    says why it cannot load the model and how to start the server."""
    url, base = unlisted_shop
    shop_origin = "/".join(url.split("/")[:3])
    page.goto(url)
    page.wait_for_function(WIDGET_READY_JS)
    page.wait_for_function("() => document.querySelector('tryon-widget').getAttribute('status') === 'error'",
                           timeout=30_000)
    errors = [e["detail"] for e in _events(page, "error")]
    assert [e["name"] for e in errors] == ["CORSError"], errors
    assert f"--cors-origin {shop_origin}" in errors[0]["message"]
    shown = page.inner_text("tryon-widget .error")
    assert f"--cors-origin {shop_origin}" in shown and base in shown, shown
    assert page.is_visible("tryon-widget .upload"), "the element renders its controls"


def test_favicon_and_head_requests(page, site) -> None:
    _open_demo(page, site)
    icon = page.evaluate("""async () => {
      const r = await fetch('/favicon.ico');
      const bitmap = await createImageBitmap(await r.blob());
      return {status: r.status, type: r.headers.get('content-type'), width: bitmap.width, height: bitmap.height};
    }""")
    assert icon["status"] == 200 and icon["type"] == "image/x-icon" and icon["width"] >= 16, icon
    heads = page.evaluate("""async () => {
      const out = {};
      for (const path of ['/', '/favicon.ico', '/healthz', '/readyz', '/v1/models', '/demo/']) {
        const r = await fetch(path, {method: 'HEAD'});
        out[path] = {status: r.status, url: new URL(r.url).pathname, body: (await r.text()).length};
      }
      return out;
    }""")
    assert {p: h["status"] for p, h in heads.items()} == dict.fromkeys(heads, 200), heads
    assert heads["/"]["url"] == "/demo/" and not any(h["body"] for h in heads.values()), heads


POSTS_JS = """() => { window.__posts = 0; const f = window.fetch;
  window.fetch = (url, init) => { if ((init?.method || 'GET') === 'POST' && String(url).includes('/v1/run'))
    window.__posts += 1; return f(url, init); }; }"""
CONSENT_OPEN = "tryon-widget .consent:not([hidden])"


def test_consent_prompt_is_withdrawn_when_the_garment_changes_and_asked_again_for_a_new_photo(
        page, site, photos, tmp_path) -> None:
    """A prompt names one garment and one photo: changing the garment while it is open withdraws it (nothing sent,
    the run button back); an answer holds for later try-ons of the same photo, and a new photo is asked about."""
    _open_demo(page, site, "backend=server&server-fallback=ask")
    page.evaluate(POSTS_JS)
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector(CONSENT_OPEN)
    page.click('.garment[data-name="graphic-print-tee"]')
    page.wait_for_selector("tryon-widget .consent", state="hidden")
    status = page.inner_text("tryon-widget .status")
    assert "nothing was sent" in status and "again" in status, status
    assert page.evaluate("() => window.__posts") == 0
    assert page.is_enabled("tryon-widget .run")
    assert not _events(page, "error"), "a withdrawn prompt is not an error"

    page.click("tryon-widget .run")
    page.wait_for_selector(CONSENT_OPEN)
    page.click("tryon-widget .consent-yes")
    page.wait_for_function("() => window.__events.some(e => e.type === 'result')", timeout=120_000)
    assert page.evaluate("() => window.__posts") == 1
    # The same photo with another garment: the answer holds.
    page.click('.garment[data-name="white-crew-tee"]')
    page.evaluate("() => { window.__events.length = 0; }")
    page.click("tryon-widget .run")
    page.wait_for_function("() => window.__events.some(e => e.type === 'result')", timeout=120_000)
    assert page.evaluate("() => window.__posts") == 2
    # A new photo: the previous result leaves the stage, and the shopper is asked again.
    again = tmp_path / "another_photo.png"
    again.write_bytes(photos["person"].read_bytes())
    page.set_input_files("tryon-widget .file", str(again))
    assert page.evaluate("() => document.querySelector('tryon-widget').shadowRoot.querySelector('.compare').hidden")
    page.click("tryon-widget .run")
    page.wait_for_selector(CONSENT_OPEN)
    assert page.evaluate("() => window.__posts") == 2
    page.click("tryon-widget .consent-no")
    page.wait_for_function("() => window.__events.some(e => e.type === 'error')")
    assert _events(page, "error")[-1]["detail"]["name"] == "ConsentDeclinedError"
    # The shopper's choice, not a failure: in the status, no error box.
    assert page.inner_text("tryon-widget .status").startswith("Your photo was not sent.")
    assert page.evaluate("() => document.querySelector('tryon-widget').shadowRoot.querySelector('.error').hidden")


def test_phone_scrolls_the_status_and_the_consent_prompt_into_view(make_page, site, photos) -> None:
    page = make_page(**PHONE)
    _open_demo(page, site, "backend=wasm")
    page.evaluate("() => { document.querySelector('tryon-widget').shadowRoot.querySelector('.status')"
                  ".style.marginTop = '1200px'; }")  # as far below the fold as a long product page puts it
    assert page.evaluate(RECT_JS, ".status")["top"] > PHONE["viewport"]["height"]
    page.click("tryon-widget .run")  # no photo yet
    page.wait_for_function("() => window.__events.some(e => e.type === 'error')")
    page.wait_for_function(f"() => {{ const r = ({RECT_JS})('.status'); return r.top >= -1 && r.bottom <= r.viewport + 1; }}",
                           timeout=10_000)  # (+-1: sub-pixel layout)
    assert "Choose a photo" in page.inner_text("tryon-widget .status")

    _open_demo(page, site, "backend=server&server-fallback=ask")
    page.evaluate("() => { document.querySelector('tryon-widget').shadowRoot.querySelector('.consent')"
                  ".style.marginTop = '1200px'; }")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector(CONSENT_OPEN)
    page.wait_for_function(f"() => {{ const r = ({RECT_JS})('.consent'); return r.top >= -1 && r.bottom <= r.viewport + 1; }}",
                           timeout=10_000)  # (+-1: sub-pixel layout)


PREVIEW_JS = """() => { const r = document.querySelector('tryon-widget').shadowRoot, p = r.querySelector('.preview');
  return {hidden: p.hidden, width: p.naturalWidth, height: p.naturalHeight, compareHidden: r.querySelector('.compare').hidden}; }"""


def test_chosen_photo_is_previewed_until_its_try_on(page, site, photos) -> None:
    _open_demo(page, site, "backend=wasm")
    page.set_input_files("tryon-widget .file", str(photos["bad"]))  # not a photo: nothing to preview
    page.wait_for_function("() => window.__events.some(e => e.type === 'error')")
    assert page.evaluate(PREVIEW_JS)["hidden"]
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.wait_for_function(f"() => {{ const p = ({PREVIEW_JS})(); return !p.hidden && p.width > 0; }}")
    with Image.open(photos["person"]) as im:
        shown = page.evaluate(PREVIEW_JS)
        assert (shown["width"], shown["height"]) == im.size and shown["compareHidden"], shown
    page.click("tryon-widget .run")
    page.wait_for_function("() => window.__events.some(e => e.type === 'result')", timeout=120_000)
    after = page.evaluate(PREVIEW_JS)
    assert after["hidden"] and not after["compareHidden"], after
