"""Outfit jobs on ``POST /v1/run``: ``inputs.garments`` (JSON) and repeated ``garment_image`` parts (multipart),
the checks made at the door (422) and in the job (failed with UnsupportedCategoryError), the OpenAPI schema, and
an outfit sent over real HTTP to a real uvicorn on loopback serving the committed student with person framing on
a real person photo (realdata)."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tryon.garment.catalogue import render_garment


def _uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _catalogue_png(name: str, size=(256, 192)) -> bytes:
    return _png(render_garment(name, size=size)[0])


def _decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def _outfit(person: bytes, garments: list[tuple[bytes, str]], **extra) -> dict:
    return {"inputs": {"person_image": _uri(person),
                       "garments": [{"garment_image": _uri(g), "category": c} for g, c in garments], **extra}}


def test_outfit_of_one_garment_matches_the_single_form(client, photos):
    single = client.post("/v1/run", json={"inputs": {"person_image": _uri(photos["person"]),
                                                     "garment_image": _uri(photos["garment"])}},
                         headers={"Prefer": "wait=20"}).json()
    outfit = client.post("/v1/run", json=_outfit(photos["person"], [(photos["garment"], "auto")]),
                         headers={"Prefer": "wait=20"}).json()
    assert single["status"] == outfit["status"] == "completed", outfit
    assert np.array_equal(_decode(single["output"][0]), _decode(outfit["output"][0]))


def test_outfit_form_errors_are_422(client, photos):
    p, g = photos["person"], photos["garment"]
    dressed = client.get("/v1/models").json()[0]["categories"]
    cases = [
        ({"inputs": {"person_image": _uri(p)}}, "InputValidationError", "Field required"),
        ({"inputs": {"person_image": _uri(p), "garment_image": _uri(g), "garments": [{"garment_image": _uri(g)}]}},
         "InputValidationError", "either garment_image (one garment) or garments"),
        (_outfit(p, [(g, "auto")], category="tops"), "InputValidationError", "garments[].category"),
        (_outfit(p, [(g, "auto")] * 4), "InputValidationError", "at most 3"),
        (_outfit(p, [(g, "auto")], tuck="half"), "InputValidationError", "tuck"),
        (_outfit(p, [(g, "tops"), (g, "top")]), "UnsupportedCategoryError", "tops given twice"),
    ]
    if "bottoms" not in dressed:
        cases.append((_outfit(p, [(g, "tops"), (g, "bottoms")]), "UnsupportedCategoryError",
                      "'bottoms' is not dressed by the model this server runs (it dresses tops"))
    if "one-pieces" in dressed:
        cases.append((_outfit(p, [(g, "one-pieces"), (g, "auto")]), "UnsupportedCategoryError", "one-piece"))
    for body, name, words in cases:
        r = client.post("/v1/run", json=body)
        assert r.status_code == 422, (body.get("inputs", {}).keys(), r.text)
        assert r.json()["error"] == name and words in r.json()["message"], r.text


def test_multipart_outfit_parts(client, photos):
    p, g = photos["person"], photos["garment"]
    files = [("person_image", ("p.png", p, "image/png")), ("garment_image", ("a.png", g, "image/png")),
             ("garment_image", ("b.png", _catalogue_png("red-vneck-tank"), "image/png"))]
    # Categories per part must match the parts; one --category for an outfit is refused.
    r = client.post("/v1/run", files=files, data={"garment_category": ["tops"]})
    assert r.status_code == 422 and "1 garment_category fields for 2 garment_image parts" in r.json()["message"]
    r = client.post("/v1/run", files=files, data={"category": "tops"})
    assert r.status_code == 422 and "garment_category" in r.json()["message"]
    # Two tops classified as such (auto): the job fails, naming both garments.
    r = client.post("/v1/run", files=files, headers={"Prefer": "wait=20"})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "failed", body
    assert body["error"]["name"] == "UnsupportedCategoryError"
    assert "two tops in one outfit (garments[0] and garments[1])" in body["error"]["message"]


def test_outfit_with_a_category_the_model_does_not_dress_fails_naming_the_garment(client, photos):
    """Classified (auto) jeans in an outfit: a failed job naming the garment when the served student does not
    dress bottoms: never the jeans dressed as a top."""
    if "bottoms" in client.get("/v1/models").json()[0]["categories"]:
        pytest.skip("the served model dresses bottoms")
    body = client.post("/v1/run", json=_outfit(photos["person"], [(photos["garment"], "auto"),
                                                                    (_catalogue_png("blue-jeans"), "auto")]),
                       headers={"Prefer": "wait=20"}).json()
    assert body["status"] == "failed" and body["output"] == []
    assert body["error"]["name"] == "UnsupportedCategoryError"
    assert body["error"]["message"].startswith("garments[1]: this garment looks like 'bottoms'")


def test_openapi_documents_outfits(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    inputs = schemas["RunInputs"]["properties"]
    assert "garments" in inputs and inputs["tuck"]["enum"] == ["out", "in"]
    assert "garment_image" not in schemas["RunInputs"].get("required", [])
    assert schemas["GarmentInput"]["required"] == ["garment_image"]
    form = schemas["RunForm"]["properties"]
    assert form["garment_image"]["type"] == "array" and form["garment_image"]["items"]["format"] == "binary"
    assert "garment_category" in form


@pytest.mark.realdata
def test_outfit_over_http_with_the_framed_student(framed_student, web_dir, live, wild_dev):
    """A real person and a real tee photo, plus the catalogue's jeans, sent as an outfit to a real uvicorn: the
    tee alone as an outfit is dressed at the photo's size; with the jeans the job completes once the student
    dresses bottoms, else fails naming the jeans."""
    from tryon.server.config import Settings

    person = (wild_dev / "person" / "ccp__1249.jpg").read_bytes()
    tee = (wild_dev / "garment" / "coobytryon__garment-03-gray-tee.jpg").read_bytes()
    jeans = _catalogue_png("blue-jeans", size=(768, 576))
    settings = Settings(model_dir=framed_student, web_dir=web_dir, providers="cpu", intra_op_threads=1,
                        warmup=False, wait_max_s=120)
    with live(settings) as base, httpx.Client(base_url=base, timeout=180) as http:
        dressed = http.get("/v1/models").json()[0]["categories"]
        one = http.post("/v1/run", json=_outfit(person, [(tee, "auto")]), headers={"Prefer": "wait=120"}).json()
        assert one["status"] == "completed", one
        src = np.asarray(Image.open(io.BytesIO(person)).convert("RGB"))
        out = _decode(one["output"][0])
        assert out.shape == src.shape and np.abs(out.astype(int) - src).mean() > 0.5
        both = http.post("/v1/run", json=_outfit(person, [(tee, "auto"), (jeans, "auto")], tuck="in"),
                         headers={"Prefer": "wait=120"}).json()
        if "bottoms" in dressed:
            assert both["status"] == "completed", both
            assert not np.array_equal(_decode(both["output"][0]), out)
        else:
            assert both["status"] == "failed" and both["error"]["name"] == "UnsupportedCategoryError", both
            assert "garments[1]" in both["error"]["message"]
