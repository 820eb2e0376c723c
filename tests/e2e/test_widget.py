"""Browser tests of ``<tryon-widget>`` on the demo page, served by the real app (``tryon.server.create_app``).

Each backend's try-on is checked against onnxruntime in Python on the same input tensors (the widget's
``debug`` hook exposes the feeds and raw outputs of its last run), and its pasted full-resolution result against
``tryon.pasteback.paste_back`` fed with those outputs. The server fallback's result is checked against the
server's own pipeline run in-process. Tolerances are stated below as data. A screenshot of the demo page
showing a result is written to ``tests/e2e/out/`` and copied to ``artifacts/e2e/``.
"""

from __future__ import annotations

import base64
import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from pathlib import Path

OUT = Path(__file__).with_name("out")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"

pytestmark = pytest.mark.browser

TOLERANCE = {
    # backend: max abs difference of the raw model outputs vs onnxruntime CPU (Python) on the same feeds
    "wasm": 1e-4,
    "webgpu": 1e-4,  # measured 3e-6 on SwiftShader; GridSample amplifies grid differences on garment edges
    # feeds: JS letterbox + NCHW vs tryon.processing on the same PNGs (uint8 levels in [-1, 1] units)
    "feeds": 1.0 / 127.5 + 1e-6,
    # pasted result (uint8 levels) vs tryon.pasteback.paste_back on the widget's own outputs
    "pasted": 1,
    # server fallback result vs the server pipeline in-process (uint8 levels)
    "server": 1,
}

# Page scripts are arrow functions, never bare expressions: the app's CSP forbids eval, which Playwright
# uses for expression strings. The widget's events are recorded in window.__events (conftest's page fixture).
DEBUG_JS = """() => {
  const d = document.querySelector('tryon-widget').debugLastRun;
  const arr = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.from(v)]));
  return {size: d.size, feeds: arr(d.feeds), outputs: arr(d.outputs)};
}"""

RESULT_JS = """async () => {
  const b = document.querySelector('tryon-widget').result;
  const bytes = new Uint8Array(await b.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def _open(page, site: str, query: str) -> None:
    page.goto(f"{site}/demo/?{query}")
    page.wait_for_function("() => customElements.get('tryon-widget') !== undefined")
    # The catalogue loads after the widget and then selects its first top: pointing the widget at the test garment
    # before that left the catalogue's garment in its place (a CI run compared the wrong garment's feeds).
    page.wait_for_selector('.garment[data-name="graphic-print-tee"]', state="attached")
    # Select the same design in the catalogue (for the screenshot), then point the widget at the test copy of it
    # whose mask and size the Python reference reads.
    page.evaluate("""() => {
      document.querySelector('.garment[data-name="graphic-print-tee"]').click();
      const w = document.querySelector('tryon-widget');
      w.garmentSrc = '/demo/testdata/garment.png';
      w.garmentMaskSrc = '/demo/testdata/garment_mask.png';
      w.setAttribute('garment-alt', 'the graphic print tee');
    }""")


def _result_image(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(page.evaluate(RESULT_JS)))).convert("RGB"))


def _load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _check_local(page, backend: str, model_dir, photos) -> dict[str, float]:
    """Compare the widget's feeds, raw outputs and pasted result with the Python side; returns the measures."""
    import onnxruntime as ort

    from tryon.pasteback import paste_back
    from tryon.processing import from_nchw, letterbox, to_nchw

    dbg = page.evaluate(DEBUG_JS)
    h, w = dbg["size"]  # the model's input size, from its manifest
    model_size = (h, w)
    feeds = {"person": np.array(dbg["feeds"]["person"], np.float32).reshape(1, 3, h, w),
             "garment": np.array(dbg["feeds"]["garment"], np.float32).reshape(1, 3, h, w),
             "garment_mask": np.array(dbg["feeds"]["garment_mask"], np.float32).reshape(1, 1, h, w)}
    person, garment = _load(photos["person"]), _load(photos["garment"])
    mask = _load(photos["garment_mask"])[..., 0].astype(np.float32) / 255.0
    person_low, pt = letterbox(person, model_size, fill=255)
    garment_low, gt = letterbox(garment, model_size, fill=255)
    mask_low, _ = letterbox(mask, model_size, fill=0)
    measures = {
        "feeds_person": float(np.abs(feeds["person"] - to_nchw(person_low)).max()),
        "feeds_garment": float(np.abs(feeds["garment"] - to_nchw(garment_low)).max()),
        "feeds_mask": float(np.abs(feeds["garment_mask"][0, 0] - mask_low).max()),
    }
    for k in ("feeds_person", "feeds_garment", "feeds_mask"):
        assert measures[k] <= TOLERANCE["feeds"], f"{backend} {k}: {measures[k]}"

    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    ref = dict(zip(names, session.run(names, feeds), strict=True))
    for name in names:
        got = np.array(dbg["outputs"][name], np.float32).reshape(ref[name].shape)
        measures[f"raw_{name}"] = float(np.abs(got - ref[name]).max())
    _record(backend, measures)  # written before asserting, so a failure still leaves the numbers
    bad = {k: v for k, v in measures.items() if k.startswith("raw_") and v > TOLERANCE[backend]}
    assert not bad, f"{backend}: outputs differ from onnxruntime CPU beyond {TOLERANCE[backend]}: {bad}"

    out = {k: np.array(v, np.float32) for k, v in dbg["outputs"].items()}
    render = from_nchw(out["tryon"].reshape(1, 3, h, w))
    expected = paste_back(person, garment, grid=out["grid"].reshape(h, w, 2),
                          composition_mask=out["composition_mask"].reshape(h, w), render=render,
                          person_low=np.asarray(from_nchw(feeds["person"])), person_transform=pt,
                          garment_transform=gt, garment_model_size=model_size)
    result = _result_image(page)
    assert result.shape == person.shape, "the result must have the person photo's resolution"
    measures["pasted_u8"] = float(np.abs(result.astype(int) - expected.astype(int)).max())
    assert measures["pasted_u8"] <= TOLERANCE["pasted"], f"{backend} pasted: {measures['pasted_u8']}"
    # The try-on must actually differ from the photo where the garment lands.
    assert np.abs(result.astype(int) - person.astype(int)).mean() > 1.0
    return measures


def _record(name: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "agreement.json"
    all_data = json.loads(path.read_text()) if path.exists() else {}
    all_data[name] = data
    path.write_text(json.dumps(all_data, indent=2) + "\n")


def _screenshot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => document.querySelector('tryon-widget').shadowRoot.querySelector('.after').complete")
    page.screenshot(path=str(OUT / name), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(OUT / name, ARTIFACTS / name)


def test_wasm_try_on_matches_onnxruntime(page, try_on, site, tiny_model_dir, photos) -> None:
    _open(page, site, "backend=wasm&debug")
    detail = try_on(page, photos["person"])
    assert detail["backend"] == "wasm"
    events = page.evaluate("() => window.__events")
    statuses = {e["detail"]["status"] for e in events if e["type"] == "progress"}
    assert {"initiate", "download", "done", "ready"} <= statuses, statuses
    assert any(e["type"] == "load" and e["detail"]["backend"] == "wasm" for e in events)
    measures = _check_local(page, "wasm", tiny_model_dir, photos)
    measures["ms"] = detail["ms"]
    _record("wasm", measures)
    _screenshot(page, "demo_wasm_result.png")
    # The slider is keyboard-operable and reveals the original photo.
    page.focus("tryon-widget .slider")
    page.keyboard.press("Home")
    assert page.evaluate("() => document.querySelector('tryon-widget').shadowRoot.querySelector('.after').style.clipPath") \
        == "inset(0px 100% 0px 0px)"


GARMENT_BLOB_JS = """([b64]) => {
  const w = document.querySelector('tryon-widget');
  w.removeAttribute('garment-mask-src');
  w.garment = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], {type: 'image/png'});
}"""


def test_an_uploaded_garment_on_graded_paper_is_cut_out_by_the_segmenter(page, try_on, site, photos) -> None:
    """An uploaded product photo whose backdrop the flood fill cannot model (tinted paper darkening to the corners):
    the worker loads the deployed segmenter and the student is fed its mask, close to the true one."""
    from tryon.garment.catalogue import render_on_graded_paper
    from tryon.processing import letterbox

    _open(page, site, "backend=wasm&server-fallback=never&debug")
    image, truth = render_on_graded_paper("navy-striped-longsleeve", size=(512, 384))
    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    page.evaluate(GARMENT_BLOB_JS, [base64.b64encode(png.getvalue()).decode()])
    try_on(page, photos["person"])
    events = page.evaluate("() => window.__events")
    fetched = {e["detail"].get("file") for e in events if e["type"] == "progress"}
    assert any(f and f.endswith("garment_seg.onnx") for f in fetched), fetched
    dbg = page.evaluate("""() => { const d = document.querySelector('tryon-widget').debugLastRun;
      return {info: d.garmentMask, size: d.size, mask: Array.from(d.feeds.garment_mask)}; }""")
    assert dbg["info"]["method"] == "segmenter" and dbg["info"]["confidence"] < 0.8, dbg["info"]
    h, w = dbg["size"]
    fed = np.array(dbg["mask"], np.float32).reshape(h, w) > 0.5
    want = letterbox(truth, (h, w), fill=0)[0] > 0.5
    assert (fed & want).sum() / (fed | want).sum() > 0.8  # measured 0.883 (the student's 128x96 input)


def test_webgpu_try_on_matches_onnxruntime(page, try_on, site, tiny_model_dir, photos) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    _open(page, site, "backend=webgpu&debug")
    gpu = page.evaluate("async () => !!(navigator.gpu && await navigator.gpu.requestAdapter())")
    if not gpu:
        pytest.skip("no WebGPU adapter in this chromium (needs --enable-unsafe-webgpu)")
    detail = try_on(page, photos["person"])
    changes = [e["detail"] for e in page.evaluate("() => window.__events") if e["type"] == "backend-change"]
    # The widget rejects WebGPU when a warm-up run raises WebGPU validation errors (onnxruntime-web would
    # otherwise return garbage silently), e.g. a Concat with more inputs than maxStorageBuffersPerShaderStage.
    assert detail["backend"] == "webgpu", f"the widget fell back from WebGPU: {changes}"
    measures = _check_local(page, "webgpu", tiny_model_dir, photos)
    measures["ms"] = detail["ms"]
    measures["adapter"] = page.evaluate("() => document.querySelector('tryon-widget').modelInfo.adapter")
    _record("webgpu", measures)
    # onnxruntime-web warns when nodes fall back to the CPU: every op of the student must run on WebGPU.
    assert not [m for m in console if "not assigned to the preferred execution providers" in m], console


def test_live_camera_mode_shows_fps(page, site) -> None:
    """Live mode on Chromium's fake camera: continuous try-on frames, FPS and backend shown, then stopped."""
    _open(page, site, "backend=wasm")
    page.click("tryon-widget .camera")
    page.wait_for_function("""() => /FPS/.test(document.querySelector('tryon-widget').shadowRoot
      .querySelector('.fps').textContent)""", timeout=120_000)
    fps_text = page.inner_text("tryon-widget .fps")
    assert "WebAssembly" in fps_text
    canvas = page.evaluate("""() => { const c = document.querySelector('tryon-widget').shadowRoot
      .querySelector('.live-canvas'); return [c.width, c.height]; }""")
    assert canvas[0] > 0 and canvas[1] > 0
    page.click("tryon-widget .camera")
    assert page.get_attribute("tryon-widget .camera", "aria-pressed") == "false"
    events = page.evaluate("() => window.__events")
    assert not [e for e in events if e["type"] == "error"], events
    _record("live", {"fps_text": fps_text, "frame": canvas})


def test_server_fallback_with_consent_matches_pipeline(page, site, tiny_model_dir, photos) -> None:
    from tryon.student_runner import StudentRunner

    _open(page, site, "backend=server&server-fallback=ask")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector("tryon-widget .consent:not([hidden])")
    page.click("tryon-widget .consent-yes")
    page.wait_for_function("() => window.__events.some(e => e.type === 'result' || e.type === 'error')", timeout=120_000)
    events = page.evaluate("() => window.__events")
    assert not [e for e in events if e["type"] == "error"], events
    detail = next(e for e in events if e["type"] == "result")["detail"]
    assert detail["backend"] == "server"
    assert any(e["type"] == "backend-change" and e["detail"]["backend"] == "server" for e in events)
    result = _result_image(page)
    expected = StudentRunner(tiny_model_dir, providers="cpu")(_load(photos["person"]), _load(photos["garment"])).tryon
    diff = float(np.abs(result.astype(int) - expected.astype(int)).max())
    _record("server", {"pasted_u8_vs_pipeline": diff, "ms": detail["ms"]})
    assert diff <= TOLERANCE["server"]
    _screenshot(page, "demo_server_result.png")


def test_bad_upload_and_refused_server_show_messages(page, site, photos) -> None:
    _open(page, site, "backend=wasm")
    page.set_input_files("tryon-widget .file", str(photos["bad"]))
    page.wait_for_selector("tryon-widget .error:not([hidden])")  # told at once, on upload
    assert "not an image" in page.inner_text("tryon-widget .error")
    page.click("tryon-widget .run")  # and again when trying on, without downloading the model for it
    page.wait_for_function("() => window.__events.filter(e => e.type === 'error').length >= 2")
    events = page.evaluate("() => window.__events")
    assert {e["detail"]["name"] for e in events if e["type"] == "error"} == {"NotAnImageError"}
    assert not [e for e in events if e["type"] == "progress"], "no model download for a bad upload"
    assert page.get_attribute("tryon-widget", "status") == "error"
    _screenshot_error = OUT / "demo_bad_upload.png"
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(_screenshot_error))

    # server-fallback="never": the photo never leaves the device, an error says why.
    _open(page, site, "backend=server&server-fallback=never")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_selector("tryon-widget .error:not([hidden])")
    events = page.evaluate("() => window.__events")
    assert [e["detail"]["name"] for e in events if e["type"] == "error"] == ["BackendUnavailableError"]


def test_sha256_mismatch_is_an_error_and_not_cached(page, site, photos) -> None:
    def tamper(route):
        response = route.fetch()
        manifest = response.json()
        for f in manifest["files"]:
            f["sha256"] = "0" * 64
        route.fulfill(response=response, json=manifest)

    page.context.route("**/models/manifest.json", tamper)
    _open(page, site, "backend=wasm")
    page.set_input_files("tryon-widget .file", str(photos["person"]))
    page.click("tryon-widget .run")
    page.wait_for_function("() => window.__events.some(e => e.type === 'error')", timeout=120_000)
    events = page.evaluate("() => window.__events")
    assert [e["detail"]["name"] for e in events if e["type"] == "error"] == ["IntegrityError"]
    cached = page.evaluate("async () => (await (await caches.open('tryon-models-v1')).keys()).length")
    assert cached == 0


def test_webgpu_validation_errors_fall_back_to_wasm(page, try_on, site, wide_concat_model_dir, photos) -> None:
    """A graph JSEP WebGPU computes wrongly without throwing (a Concat needing more storage buffers than the
    device allows) must not reach the shopper: the widget's warm-up run sees the WebGPU validation error and
    falls back to WASM, saying why. The model is swapped in through request routing (same app, same URLs)."""
    manifest = json.loads((wide_concat_model_dir / "manifest.json").read_text())
    model_bytes = (wide_concat_model_dir / "model.onnx").read_bytes()
    page.context.route("**/models/manifest.json", lambda route: route.fulfill(json=manifest))
    page.context.route("**/models/model.onnx*", lambda route: route.fulfill(
        body=model_bytes, headers={"content-type": "application/octet-stream", "cross-origin-resource-policy": "same-origin"}))
    _open(page, site, "backend=webgpu")
    if not page.evaluate("async () => !!(navigator.gpu && await navigator.gpu.requestAdapter())"):
        pytest.skip("no WebGPU adapter in this chromium")
    detail = try_on(page, photos["person"])
    assert detail["backend"] == "wasm"
    changes = [e["detail"] for e in page.evaluate("() => window.__events") if e["type"] == "backend-change"]
    assert changes[-1]["backend"] == "wasm" and "storage buffers" in changes[-1]["reason"], changes
    _record("webgpu_guard", {"fallback_reason": changes[-1]["reason"]})


def test_corrupt_cache_entry_is_replaced(page, try_on, site, photos) -> None:
    """A cached model file that fails its sha256 check is deleted and downloaded again, never used."""
    _open(page, site, "backend=wasm")
    key = page.evaluate("""async () => {
      const m = await (await fetch('/models/manifest.json')).json();
      const f = m.files.find((x) => x.dtype === 'fp32');
      const url = new URL(f.path, new URL('/models/manifest.json', location.href));
      url.searchParams.set('v', f.sha256.slice(0, 16));
      const cache = await caches.open('tryon-models-v1');
      await cache.put(url.href, new Response(new Uint8Array([1, 2, 3])));
      return url.href;
    }""")
    detail = try_on(page, photos["person"])
    assert detail["backend"] == "wasm"
    events = page.evaluate("() => window.__events")
    done = [e["detail"] for e in events if e["type"] == "progress" and e["detail"]["status"] == "done"]
    assert done and done[0]["cached"] is False, done  # re-downloaded, not the corrupt copy
    size = page.evaluate("async (k) => (await (await (await caches.open('tryon-models-v1')).match(k)).arrayBuffer()).byteLength", key)
    assert size > 3


def test_threaded_wasm_under_isolation_and_csp(page, try_on, site, photos) -> None:
    """The demo page is cross-origin isolated with the app's default settings, under its strict CSP, and WASM
    then runs with more than one thread by default (``env.numThreads`` 0) wherever there are 2 cores or more."""
    _open(page, site, "backend=wasm")
    assert page.evaluate("() => crossOriginIsolated") is True
    cores = page.evaluate("() => navigator.hardwareConcurrency")
    detail = try_on(page, photos["person"])
    assert detail["backend"] == "wasm"
    load = next(e["detail"] for e in page.evaluate("() => window.__events") if e["type"] == "load")
    assert load["threads"] == page.evaluate("() => document.querySelector('tryon-widget').modelInfo.threads")
    _record("threads", {"cores": cores, "threads": load["threads"]})
    if cores >= 2:
        assert load["threads"] > 1, f"{cores} cores but WASM runs on {load['threads']} thread(s)"


def test_widget_embedded_in_a_plain_page_on_another_origin(page, try_on, shop, photos) -> None:
    """The README's embedding: a shop page on another origin with one module script and one element, nothing
    else; the worker, onnxruntime-web, the model and the garment all come from our host through CORS."""
    url, base = shop
    assert url.split("/")[2] != base.split("/")[2], "the shop must be another origin"
    page.goto(url)
    page.wait_for_function("() => customElements.get('tryon-widget') !== undefined")
    detail = try_on(page, photos["person"])
    assert detail["backend"] in ("webgpu", "wasm")
    result = _result_image(page)
    person = _load(photos["person"])
    assert result.shape == person.shape
    assert np.abs(result.astype(int) - person.astype(int)).mean() > 1.0
    _screenshot(page, "embedded_cross_origin.png")


def test_shopper_flow_with_the_default_student_at_full_size(page, try_on, shopper_site, shopper_photo) -> None:
    """What a shopper does on the demo page: upload a photo, pick a catalogue garment, try it on. The trained
    default student runs at its real 256×192 on WASM; the result comes back at the photo's resolution, and
    the face and background above the shoulders are the photo's own pixels (the student changes the person
    only where the garment goes), then the page is photographed."""
    page.goto(f"{shopper_site}/demo/?backend=wasm")
    page.wait_for_function("() => customElements.get('tryon-widget') !== undefined")
    page.click('.garment[data-name="red-vneck-tank"]')
    detail = try_on(page, shopper_photo)
    assert detail["backend"] == "wasm"
    result = _result_image(page).astype(int)
    person = _load(shopper_photo).astype(int)
    assert result.shape == person.shape
    h = person.shape[0]
    head = np.abs(result[: h // 10] - person[: h // 10]).mean()  # top tenth: hair, face or background
    body = np.abs(result[h // 4: 3 * h // 5] - person[h // 4: 3 * h // 5]).mean()  # chest to waist
    _record("shopper", {"photo": shopper_photo.name, "ms": detail["ms"], "head_mean_abs": float(head),
                        "body_mean_abs": float(body)})
    assert head < 3.0, f"the student changed the head region by {head:.2f} levels on average"
    assert body > 4 * max(head, 1.0), f"the garment barely changed the body (body {body:.2f}, head {head:.2f})"
    _screenshot(page, "demo_shopper_256x192.png")
