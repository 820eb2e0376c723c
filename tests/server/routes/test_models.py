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


def test_students_deployed_with_the_model_are_served_from_their_sub_folder(make_settings, tmp_path):
    """A bottoms student in `bottoms/` (the manifest's `students`): its manifest and listed files are served, with
    the same caching rules; nothing else of the sub-folder is."""
    import dataclasses

    from fastapi.testclient import TestClient

    from tryon.manifest import attach_students
    from tryon.server.main import create_app
    from tryon.server.testing import write_stand_in_model

    from ..conftest import MODEL_SIZE

    write_stand_in_model(tmp_path, MODEL_SIZE)
    sub = tmp_path / "bottoms"
    sub.mkdir()
    bottoms = dataclasses.replace(write_stand_in_model(sub, MODEL_SIZE, shift=(2.0, 0.0)), categories=("bottoms",))
    bottoms.save(sub)
    (sub / "notes.txt").write_text("private")
    assert attach_students(tmp_path, {"lower": "bottoms"}).students == {"bottoms": "bottoms"}
    with TestClient(create_app(make_settings(model_dir=tmp_path))) as client:
        r = client.get("/models/bottoms/manifest.json")
        assert r.status_code == 200 and r.json()["categories"] == ["bottoms"]
        assert r.headers["cache-control"] == "no-cache"
        sha = bottoms.files[0].sha256
        r = client.get(f"/models/bottoms/model.onnx?v={sha[:16]}")
        assert r.status_code == 200 and r.content == (sub / "model.onnx").read_bytes()
        assert r.headers["etag"].strip('"') == sha and "immutable" in r.headers["cache-control"]
        assert client.get("/models/bottoms/notes.txt").status_code == 404
        assert client.get("/models/manifest.json").json()["students"] == {"bottoms": "bottoms"}
        # A student whose file no longer matches its manifest is not served (as for the main student).
        (sub / "model.onnx").write_bytes(b"changed")
        assert client.get("/models/bottoms/model.onnx").status_code == 503


def test_attach_students_refuses_what_cannot_be_deployed(tmp_path):
    import dataclasses

    import pytest

    from tryon.errors import DataError, UsageError
    from tryon.manifest import attach_students
    from tryon.server.testing import write_stand_in_model

    write_stand_in_model(tmp_path, (64, 48))
    (tmp_path / "tops2").mkdir()
    write_stand_in_model(tmp_path / "tops2", (64, 48))
    with pytest.raises(DataError, match="dresses tops, not bottoms"):
        attach_students(tmp_path, {"bottoms": "tops2"})
    with pytest.raises(DataError, match="its own student dresses tops"):
        attach_students(tmp_path, {"tops": "tops2"})
    with pytest.raises(DataError, match="sub-folder"):
        attach_students(tmp_path, {"bottoms": "../elsewhere"})
    with pytest.raises(DataError, match="cannot read manifest"):
        attach_students(tmp_path, {"bottoms": "missing"})
    with pytest.raises(UsageError):
        attach_students(tmp_path, {"hats": "tops2"})
    dataclasses.replace(Manifest.load(tmp_path / "tops2"), categories=("bottoms",)).save(tmp_path / "tops2")
    assert Manifest.load(tmp_path).students == {}
    attach_students(tmp_path, {"bottoms": "tops2/"})
    assert Manifest.from_json(Manifest.load(tmp_path).to_json()).students == {"bottoms": "tops2"}
