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


def test_cheek_region_lies_between_the_eyes_and_the_mouth_and_follows_a_tilted_head():
    kp = np.zeros((33, 4), np.float32)
    kp[:, 3] = 1.0
    for name, xy in {"left_eye": (120, 100), "right_eye": (80, 100), "left_eye_outer": (130, 100),
                     "right_eye_outer": (70, 100), "mouth_left": (112, 140), "mouth_right": (88, 140)}.items():
        kp[body.KP[name], :2] = xy
    m = body.cheek_region(kp, (240, 200))
    ys, xs = np.nonzero(m)
    assert ys.min() > 100 + 0.1 * 40 and ys.max() < 140 - 0.05 * 40   # below the eyes, above the mouth
    assert abs(xs.mean() - 100) < 1 and xs.max() - xs.min() <= 2 * 0.5 * 60 + 1
    # A head tilted by 90 degrees (lying on its side): the band turns with it.
    rot = kp.copy()
    rot[:, 0], rot[:, 1] = kp[:, 1], kp[:, 0]
    assert np.array_equal(body.cheek_region(rot, (200, 240)), m.T)
