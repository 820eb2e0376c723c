"""GET /v1/models and the model files under /models/."""

from __future__ import annotations

from tryon.manifest import Manifest


def test_models_lists_loaded_model_with_pinned_urls(client, model_dir):
    r = client.get("/v1/models")
    assert r.status_code == 200
    (info,) = r.json()
    manifest = Manifest.load(model_dir)
    assert info["model_name"] == manifest.name and info["version"] == manifest.version
    assert info["resolution"] == {"height": 64, "width": 48} and info["categories"] == ["tops"]
    assert info["provider"] == "CPUExecutionProvider" and info["manifest_url"] == "/models/manifest.json"
    (f,) = info["files"]
    assert f["sha256"] == manifest.files[0].sha256 and f["bytes"] == manifest.files[0].bytes
    assert f["url"] == f"/models/model.onnx?v={f['sha256'][:16]}"


def test_model_files_mime_and_cache(client, model_dir):
    url = client.get("/v1/models").json()[0]["files"][0]["url"]
    r = client.get(url)
    assert r.status_code == 200 and r.content == (model_dir / "model.onnx").read_bytes()
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = r.headers["etag"]
    assert etag.strip('"') == Manifest.load(model_dir).files[0].sha256
    # Unpinned URL: must revalidate (the same path may hold a new model tomorrow).
    r = client.get("/models/model.onnx")
    assert r.headers["cache-control"] == "no-cache"
    assert client.get("/models/model.onnx", headers={"If-None-Match": etag}).status_code == 304
    r = client.get("/models/manifest.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-cache" and r.json()["name"] == "stand_in_student"


def test_only_listed_model_files_are_served(client, model_dir):
    (model_dir / "notes.txt").write_text("private")
    try:
        r = client.get("/models/notes.txt")
        assert r.status_code == 404 and r.json()["error"] == "NotFound"
        assert client.get("/models/../manifest.json").status_code == 404
    finally:
        (model_dir / "notes.txt").unlink()
