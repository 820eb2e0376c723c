"""GET /healthz and /readyz."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tryon.server.main import create_app


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_reports_provider_model_and_queue(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    # No GPU on CI machines; on a CUDA build with providers=auto this would be CUDAExecutionProvider.
    assert body["provider"] == "CPUExecutionProvider" and body["providers"][0] == body["provider"]
    assert body["model_name"] == "stand_in_student" and body["dtype"] == "fp32"
    assert body["queue_depth"] == 0 and body["queue_size"] == 16 and body["job_store"] == "memory"


def test_readyz_503_without_model_but_site_still_served(make_settings):
    with TestClient(create_app(make_settings(model_dir=None))) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "no_model"
        assert "model" in r.json()["message"]
        assert c.get("/healthz").status_code == 200
        assert c.get("/").status_code == 200
        assert c.get("/v1/models").json() == []


def test_missing_model_folder_fails_start_up(make_settings, tmp_path):
    import pytest

    from tryon.errors import MissingModelError

    with pytest.raises(MissingModelError, match="manifest"), TestClient(create_app(make_settings(model_dir=tmp_path))):
        pass


def test_altered_model_file_fails_start_up(make_settings, tmp_path, model_dir):
    import shutil

    import pytest

    from tryon.errors import MissingModelError

    shutil.copytree(model_dir, tmp_path / "m")
    with open(tmp_path / "m" / "model.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(MissingModelError, match="sha256"), TestClient(create_app(make_settings(model_dir=tmp_path / "m"))):
        pass


def test_altered_or_deleted_model_file_is_not_ready_and_never_served(make_settings, model_dir, tmp_path):
    import os
    import shutil
    import time

    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    with TestClient(create_app(make_settings(model_dir=folder))) as c:
        assert c.get("/readyz").status_code == 200
        assert c.get("/models/model.onnx").status_code == 200
        data = (folder / "model.onnx").read_bytes()
        (folder / "model.onnx").write_bytes(data[:-64] + bytes(64))  # corrupted in place, same size
        os.utime(folder / "model.onnx", ns=(time.time_ns(), time.time_ns() + 10_000_000))
        r = c.get("/readyz")
        assert r.status_code == 503 and "model.onnx" in r.json()["message"]
        assert c.get("/models/model.onnx").status_code == 503  # never served as the manifest's file
        assert c.get("/v1/models").json()[0]["files"] == []
        (folder / "model.onnx").write_bytes(data)  # restored: ready again
        assert c.get("/readyz").status_code == 200 and c.get("/models/model.onnx").status_code == 200
        (folder / "model.onnx").unlink()  # deleted
        assert c.get("/readyz").status_code == 503
        assert c.get("/v1/models").json()[0]["files"] == []
