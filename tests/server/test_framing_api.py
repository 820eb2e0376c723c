"""The fallback API with a student deployed with person framing: shoppers' photos are dressed inside the person's
box, and what cannot work comes back as a failed job with a FASHN-style error name (real photos from
``../shared/data/wild-dev``, skipped when absent)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tryon.server.config import Settings
from tryon.server.main import create_app

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def framed_client(framed_student, web_dir):
    # The student alone: its own refusals are what this module tests (test_teacher_api.py serves the teacher).
    settings = Settings(model_dir=framed_student, web_dir=web_dir, providers="cpu", intra_op_threads=1,
                        warmup=False, teacher_categories="none")
    with TestClient(create_app(settings)) as c:
        yield c


def _run(client, person: bytes, garment: bytes, **form):
    files = {"person_image": ("p.jpg", person, "image/jpeg"), "garment_image": ("g.jpg", garment, "image/jpeg")}
    r = client.post("/v1/run", files=files, data=form, headers={"Prefer": "wait=60"})
    assert r.status_code == 200, r.text
    return r.json()


def test_models_route_and_static_files_include_the_framing_models(framed_client):
    manifest = framed_client.get("/models/manifest.json").json()
    assert manifest["framing"]["pose_model"] == "pose_landmark_lite.onnx"
    for f in manifest["framing_files"]:
        r = framed_client.get(f"/models/{f['path']}")
        assert r.status_code == 200 and len(r.content) == f["bytes"]


def test_full_body_photo_is_dressed_and_refusals_are_failed_jobs(framed_client, wild_dev):
    person = (wild_dev / "person" / "ccp__1249.jpg").read_bytes()
    tee = (wild_dev / "garment" / "coobytryon__garment-03-gray-tee.jpg").read_bytes()
    done = _run(framed_client, person, tee)
    assert done["status"] == "completed", done
    head, b64 = done["output"][0].split(",", 1)
    out = np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))
    src = np.asarray(Image.open(io.BytesIO(person)).convert("RGB"))
    assert out.shape == src.shape
    # The lower legs are outside the framing box: untouched.
    assert np.abs(out[-80:].astype(int) - src[-80:].astype(int)).max() <= 1
    cases = [
        (tee, tee, {}, "NoPersonError"),  # a product photo as the person
        (person, (wild_dev / "person" / "ccp__0193.jpg").read_bytes(), {}, "PhotoTypeError"),  # a person as garment
        (person, (wild_dev / "garment" / "minahilvton__BlackPant2.PNG").read_bytes(), {}, "UnsupportedCategoryError"),
    ]
    for p, g, form, name in cases:
        body = _run(framed_client, p, g, **form)
        assert body["status"] == "failed" and body["error"]["name"] == name, body


def test_without_a_teacher_the_output_gate_refusal_is_a_failed_job(framed_client, wild_dev):
    assert framed_client.get("/v1/models").json()[0]["gated_to"] is None
    body = _run(framed_client, (wild_dev / "person" / "omnitry__person_tie.jpg").read_bytes(),
                (wild_dev / "garment" / "dewbm__men-13.jpeg").read_bytes(), category="tops")
    assert body["status"] == "failed" and body["error"]["name"] == "LowConfidenceError", body
    assert body["error"]["message"].startswith("your own clothes would still show") and "--no-gate" not in \
        body["error"]["message"]
