"""tryon.person.body: the one definition of BlazePose landmark indices and the upper-body frame."""

from __future__ import annotations

import numpy as np

from tryon.person import body


def test_indices_follow_mediapipe_pose():
    assert len(body.POSE_LANDMARKS) == 33 and body.KP["nose"] == 0
    assert (body.L_SHOULDER, body.R_SHOULDER, body.L_HIP, body.R_HIP) == (11, 12, 23, 24)
    assert (body.L_EAR, body.R_EAR, body.L_KNEE, body.R_ANKLE) == (7, 8, 25, 28)
    assert all(body.POSE_LANDMARKS[i] == name for name, i in body.KP.items())


def test_body_frame_axes_point_across_and_down_the_body():
    kp = np.zeros((33, 4), np.float32)
    kp[body.L_SHOULDER, :2], kp[body.R_SHOULDER, :2] = (140, 100), (60, 100)
    kp[body.L_HIP, :2], kp[body.R_HIP, :2] = (130, 250), (70, 250)
    fr = body.body_frame(kp)
    assert fr.sw == 80 and np.allclose(fr.origin, (100, 100))
    assert np.allclose(fr.u, (1, 0)) and np.allclose(fr.v, (0, 1))
    assert np.allclose(fr.to_frame(fr.to_img(10.0, 20.0)), (10, 20))
    upside_down = kp.copy()
    upside_down[[body.L_HIP, body.R_HIP], 1] = -50  # hips above the shoulders: v still points at them
    assert body.body_frame(upside_down).v[1] < 0
