"""The app factory: OpenAPI stays true, static site MIME/cache/compression/CSP, COOP/COEP, CORS, HEAD, the
front page and the favicon, and import hygiene."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import ValidationError

from tryon.server.main import create_app


def _resolve(schema: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = schema
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _all_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _all_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _all_refs(v)


def test_openapi_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {"/v1/run": {"post"}, "/v1/status/{job_id}": {"get"}, "/v1/models": {"get"}, "/healthz": {"get"},
                "/readyz": {"get"}}
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    run = paths["/v1/run"]["post"]
    content = run["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    json_body = _resolve(schema, content["application/json"]["schema"]["$ref"])
    assert json_body["required"] == ["inputs"]
    inputs = _resolve(schema, json_body["properties"]["inputs"]["$ref"])
    assert "person_image" in inputs["required"]  # and one garment: garment_image, or garments for an outfit
    assert {"garment_image", "garments", "tuck"} <= set(inputs["properties"])
    assert "tops" in inputs["properties"]["category"]["enum"]
    form = _resolve(schema, content["multipart/form-data"]["schema"]["$ref"])
    assert {"person_image", "garment_image"} <= set(form["required"])
    assert form["properties"]["person_image"]["format"] == "binary"
    assert {"200", "202", "400", "404", "413", "415", "422", "429", "503"} <= set(run["responses"])
    assert "Retry-After" in run["responses"]["429"]["headers"]
    assert any(p["name"] == "prefer" and p["in"] == "header" for p in run["parameters"])
    assert {"200", "404"} <= set(paths["/v1/status/{job_id}"]["get"]["responses"])
    assert {"200", "503"} <= set(paths["/readyz"]["get"]["responses"])
    status = _resolve(schema, paths["/v1/status/{job_id}"]["get"]["responses"]["200"]["content"]
                      ["application/json"]["schema"]["$ref"])
    assert set(status["properties"]["status"]["enum"]) == {"in_queue", "processing", "completed", "failed"}
    for ref in set(_all_refs(schema)):  # every reference resolves
        _resolve(schema, ref)
    operations = [op for ops in paths.values() for op in ops.values()]
    assert not [op for ops in paths.values() for method, op in ops.items() if method == "head"]
    assert len({op["operationId"] for op in operations}) == len(operations), "operation IDs must be unique"


def test_openapi_error_bodies_match_real_answers(client):
    """The documented ErrorBody shape is what errors really carry."""
    schema = client.get("/openapi.json").json()
    error_props = set(schema["components"]["schemas"]["ErrorBody"]["properties"])
    for r in (client.get("/v1/status/" + "0" * 32), client.post("/v1/run", content=b"x",
                                                                headers={"content-type": "text/plain"})):
        assert set(r.json()) <= error_props and {"error", "message"} <= set(r.json())


def test_site_mime_types_cache_and_csp(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'wasm-unsafe-eval'" in csp and "worker-src 'self' blob:" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.get("/app.mjs")
    assert r.headers["content-type"].startswith("text/javascript")
    r = client.get("/ort-wasm-simd-threaded.wasm")
    assert r.headers["content-type"] == "application/wasm" and r.headers["cache-control"] == "no-cache"
    r = client.get("/chunk.3f9a1c2e.js")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    r = client.get("/missing.js")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


def test_docs_pages_get_a_policy_that_lets_swagger_load(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "https://cdn.jsdelivr.net" in r.headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in client.get("/").headers["content-security-policy"]


def test_cross_origin_isolated_by_default_and_can_be_turned_off(make_settings, client, monkeypatch):
    for path in ("/", "/app.mjs", "/models/manifest.json", "/healthz"):
        r = client.get(path)
        assert r.headers["cross-origin-opener-policy"] == "same-origin", path
        assert r.headers["cross-origin-embedder-policy"] == "require-corp", path
        assert r.headers["cross-origin-resource-policy"] == "same-origin", path
    # The docs pages load Swagger UI from a CDN: no isolation there.
    assert "cross-origin-embedder-policy" not in client.get("/docs").headers
    monkeypatch.setenv("TRYON_COOP_COEP", "0")
    from tryon.server.config import Settings

    assert Settings().coop_coep is False  # the environment turns it off
    with TestClient(create_app(make_settings(coop_coep=False))) as c:
        r = c.get("/")
        assert "cross-origin-opener-policy" not in r.headers and "cross-origin-embedder-policy" not in r.headers
        assert r.headers["cross-origin-resource-policy"] == "same-origin"


def test_precompressed_siblings_by_accept_encoding(client, web_dir):
    raw = (web_dir / "vendor" / "ort" / "rt.wasm").read_bytes()
    r = client.get("/vendor/ort/rt.wasm", headers={"accept-encoding": "gzip, deflate"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"] == "application/wasm"
    assert int(r.headers["content-length"]) == (web_dir / "vendor" / "ort" / "rt.wasm.gz").stat().st_size
    assert r.content == raw  # decoded by the client
    r = client.get("/vendor/ort/rt.wasm", headers={"accept-encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br" and r.content == b"brotli stand-in"
    r = client.head("/vendor/ort/rt.wasm", headers={"accept-encoding": "br"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "br" and r.content == b""
    for accept in ("identity", "br;q=0, gzip;q=0"):
        r = client.get("/vendor/ort/rt.wasm", headers={"accept-encoding": accept})
        assert "content-encoding" not in r.headers and r.content == raw and r.headers["vary"] == "Accept-Encoding"
    etags = {client.get("/vendor/ort/rt.wasm", headers={"accept-encoding": a}).headers["etag"]
             for a in ("br", "gzip", "identity")}
    assert len(etags) == 3, "each encoding is its own representation"
    assert "vary" not in client.get("/app.mjs").headers  # no siblings, nothing varies


def test_stale_sibling_is_not_served(make_settings, tmp_path):
    import os

    (tmp_path / "a.js").write_text("export const fresh = 1;\n")
    (tmp_path / "a.js.gz").write_bytes(gzip.compress(b"export const stale = 1;\n"))
    os.utime(tmp_path / "a.js.gz", (1, 1))  # compressed long before the file was replaced
    with TestClient(create_app(make_settings(web_dir=tmp_path))) as c:
        r = c.get("/a.js", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in r.headers and b"fresh" in r.content


def test_versioned_runtime_files_are_immutable_only_for_their_version(client):
    assert client.get("/vendor/ort/rt.wasm?v=1.2.3").headers["cache-control"] == "public, max-age=31536000, immutable"
    for url in ("/vendor/ort/rt.wasm", "/vendor/ort/rt.wasm?v=1.2.2", "/app.mjs?v=1.2.3"):
        assert client.get(url).headers["cache-control"] == "no-cache", url


def test_widget_code_is_public_model_and_api_are_not(client):
    shop = {"Origin": "https://shop.example"}
    r = client.get("/src/widget.js", headers=shop)
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    for path in ("/models/manifest.json", "/v1/models", "/app.mjs"):
        assert "access-control-allow-origin" not in client.get(path, headers=shop).headers, path


def test_cors_origins_must_be_origins(make_settings):
    for good in (["https://shop.example"], ["http://localhost:3000", "http://[::1]:8080"], ["*"]):
        assert make_settings(cors_origins=good).cors_origins == good
    for bad in ("shop.example", "https://shop.example/", "https://shop.example/page", "localhost:3000"):
        with pytest.raises(ValidationError, match="scheme://host"):
            make_settings(cors_origins=[bad])


def test_dtype_names_come_from_the_manifest(make_settings):
    from tryon.manifest import DTYPES

    assert [make_settings(dtype=d).dtype for d in DTYPES] == list(DTYPES)
    with pytest.raises(ValidationError, match="int8_dynamic"):
        make_settings(dtype="int4")


def test_head_is_answered_wherever_get_is(client):
    for path in ("/healthz", "/readyz", "/v1/models", "/openapi.json", "/docs", "/app.mjs", "/models/manifest.json",
                 "/favicon.ico", "/v1/status/" + "0" * 32):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path


def test_favicon_is_a_small_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(r.content))
    assert icon.format == "ICO" and {(16, 16), (32, 32)} <= set(icon.info["sizes"])
    assert icon.convert("RGBA").getchannel("A").getextrema() == (0, 255), "a shape on a transparent background"


def test_site_favicon_wins_over_the_drawn_one(make_settings, tmp_path):
    (tmp_path / "favicon.ico").write_bytes(b"site icon")
    with TestClient(create_app(make_settings(web_dir=tmp_path))) as c:
        assert c.get("/favicon.ico").content == b"site icon"


def test_cors_for_listed_origins_only(make_settings):
    with TestClient(create_app(make_settings(cors_origins=["https://shop.example"]))) as c:
        pre = c.options("/v1/run", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "prefer,content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://shop.example"
        r = c.get("/v1/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_server_imports_no_torch_or_training_code():
    code = (
        "import sys, json\n"
        "import tryon.server.main, tryon.server.pipeline, tryon.server.testing, tryon.pasteback, tryon.garment.mask\n"
        "from tryon.server.main import create_app\n"
        "create_app()\n"
        "bad = ('torch', 'tryon.models', 'tryon.train', 'tryon.export', 'tryon.quantize', 'tryon.cli')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith(bad))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_front_page_redirects_to_the_demo_with_its_query(tmp_path):
    from tryon.server.config import Settings

    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "index.html").write_text("<!doctype html><title>demo</title>")
    with TestClient(create_app(Settings(web_dir=tmp_path, model_dir=None, warmup=False))) as client:
        r = client.get("/", follow_redirects=False)
        assert r.status_code in (302, 307) and r.headers["location"] == "/demo/"
        assert client.get("/demo/").status_code == 200
        for method in (client.get, client.head):
            r = method("/?backend=webgpu&debug", follow_redirects=False)
            assert r.status_code in (302, 307) and r.headers["location"] == "/demo/?backend=webgpu&debug"


def test_the_npm_package_files_of_web_are_not_served():
    from tryon.server.config import Settings

    with TestClient(create_app(Settings(model_dir=None, warmup=False))) as c:  # the repository's own web/
        for url in ("/package.json", "/package-lock.json", "/README.md", "/scripts/copy-ort.mjs",
                    "/node_modules/onnxruntime-web/package.json"):
            assert c.get(url).status_code == 404, url
        for url in ("/src/tryon-widget.js", "/demo/", "/demo/demo.js"):
            assert c.get(url).status_code == 200, url
