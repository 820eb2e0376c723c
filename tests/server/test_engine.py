"""The engine: micro-batching (stacked with a dynamic batch axis, sequential otherwise) and queue timeouts."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from tryon.server.main import create_app


def _files(images):
    return {"person_image": ("p.png", images.encode(images.person()), "image/png"),
            "garment_image": ("g.png", images.encode(images.garment()), "image/png")}


def _wait(client, job_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while (body := client.get(f"/v1/status/{job_id}").json())["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return body


def _hold_first_job(engine):
    """Block the worker inside the first job's preparation until the returned event is set."""
    gate = threading.Event()
    real = engine.model.prepare
    calls = {"n": 0}

    def prepare(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            gate.wait(20)
        return real(*args, **kwargs)

    engine.model.prepare = prepare
    return gate


def _record_runs(engine):
    sizes: list[int] = []
    real = engine.model.run

    def run(feeds):
        sizes.append(len(feeds))
        return real(feeds)

    engine.model.run = run
    return sizes


def test_waiting_jobs_are_stacked_into_one_step_with_a_dynamic_batch(make_settings, dynamic_model_dir, images):
    settings = make_settings(model_dir=dynamic_model_dir, max_batch=4, batch_wait_ms=200)
    with TestClient(create_app(settings)) as c:
        engine = c.app.state.engine
        assert engine.model.dynamic_batch
        gate = _hold_first_job(engine)
        sizes = _record_runs(engine)
        first = c.post("/v1/run", files=_files(images)).json()["id"]
        while c.get(f"/v1/status/{first}").json()["status"] != "processing":
            time.sleep(0.01)
        rest = [c.post("/v1/run", files=_files(images)).json()["id"] for _ in range(3)]
        assert c.get("/readyz").json()["queue_depth"] == 3
        gate.set()
        results = [_wait(c, j) for j in [first, *rest]]
        assert all(r["status"] == "completed" for r in results)
        assert sizes == [1, 3]  # the three that waited ran as one stacked step
        assert results[1]["output"] == results[2]["output"]  # same inputs, same answer from a stacked step


def test_batch_one_model_runs_batched_jobs_one_by_one(make_settings, images):
    with TestClient(create_app(make_settings(max_batch=4, batch_wait_ms=200))) as c:
        engine = c.app.state.engine
        assert not engine.model.dynamic_batch
        gate = _hold_first_job(engine)
        first = c.post("/v1/run", files=_files(images)).json()["id"]
        while c.get(f"/v1/status/{first}").json()["status"] != "processing":
            time.sleep(0.01)
        rest = [c.post("/v1/run", files=_files(images)).json()["id"] for _ in range(2)]
        sizes = _record_runs(engine)
        steps: list[int] = []
        session_run = engine.model.session.session.run  # the onnxruntime session

        def counting_run(names, feeds):
            steps.append(feeds["person"].shape[0])
            return session_run(names, feeds)

        engine.model.session.session.run = counting_run
        gate.set()
        assert all(_wait(c, j)["status"] == "completed" for j in [first, *rest])
        assert sizes == [1, 2]  # the two that waited were collected into one batch ...
        assert steps == [1, 1, 1]  # ... and, the graph having batch 1, ran as batch-1 steps


def test_job_that_waited_too_long_fails_with_timeout(make_settings, images):
    with TestClient(create_app(make_settings(job_timeout_s=0.2, max_batch=1))) as c:
        gate = _hold_first_job(c.app.state.engine)
        first = c.post("/v1/run", files=_files(images)).json()["id"]
        while c.get(f"/v1/status/{first}").json()["status"] != "processing":
            time.sleep(0.01)
        late = c.post("/v1/run", files=_files(images)).json()["id"]
        time.sleep(0.4)
        gate.set()
        body = _wait(c, late)
        assert body["status"] == "failed" and body["error"]["name"] == "TimeoutError"


def test_garment_masks_are_cached_by_garment_pixels(client, images, monkeypatch):
    import tryon.garment.mask as mask_module

    calls = []
    real = mask_module.garment_mask

    def counting(image, **kwargs):
        calls.append(image.shape)
        return real(image, **kwargs)

    monkeypatch.setattr(mask_module, "garment_mask", counting)
    for _ in range(3):
        assert client.post("/v1/run", files=_files(images), headers={"Prefer": "wait=20"}).json()["status"] == "completed"
    assert len(calls) == 1  # same garment photo: mask computed once
    other = {"person_image": ("p.png", images.encode(images.person()), "image/png"),
             "garment_image": ("g.png", images.encode(images.garment(color=(20, 160, 40))), "image/png")}
    assert client.post("/v1/run", files=other, headers={"Prefer": "wait=20"}).json()["status"] == "completed"
    assert len(calls) == 2


def test_predict_time_is_each_jobs_own_work_not_time_since_the_batch_began(make_settings, images):
    with TestClient(create_app(make_settings(max_batch=4, batch_wait_ms=200))) as c:
        engine = c.app.state.engine
        gate = _hold_first_job(engine)
        first = c.post("/v1/run", files=_files(images)).json()["id"]
        while c.get(f"/v1/status/{first}").json()["status"] != "processing":
            time.sleep(0.01)
        rest = [c.post("/v1/run", files=_files(images)).json()["id"] for _ in range(3)]
        slow = engine.model.prepare

        def prepare(*args, **kwargs):  # each job's own preparation takes 0.15 s
            time.sleep(0.15)
            return slow(*args, **kwargs)

        engine.model.prepare = prepare
        gate.set()
        times = [_wait(c, j)["metrics"]["predict_time"] for j in rest]
    # One batch of three: summed from the batch's start they would be about 0.15, 0.30 and 0.45 s.
    assert all(0.14 < t < 0.3 for t in times), times
