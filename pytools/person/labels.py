"""The teacher's parse label set, and its mapping from the LIP labels used by CP-VTON / VITON parse maps.

Sides follow the person (anatomical): ``left_arm`` is the person's left arm, which is on the image's right
in a front-facing photo. BlazePose keypoints and the LIP maps use the same convention.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARSE_LABELS", "LABEL", "LIP_LABELS", "LIP_TO_PARSE", "lip_to_parse"]

PARSE_LABELS: tuple[str, ...] = (
    "background",   # 0
    "hair",         # 1 (hair and hat)
    "face",         # 2 (face, sunglasses)
    "neck",         # 3 (neck and the visible skin of the chest above the garment)
    "torso",        # 4 (upper clothes, or the upper body's skin where there is none)
    "left_arm",     # 5 (upper and lower arm, skin or sleeve)
    "right_arm",    # 6
    "left_hand",    # 7
    "right_hand",   # 8
    "lower_body",   # 9 (trousers, skirt, legs, shoes)
)
LABEL: dict[str, int] = {name: i for i, name in enumerate(PARSE_LABELS)}

LIP_LABELS: tuple[str, ...] = (
    "background", "hat", "hair", "glove", "sunglasses", "upper_clothes", "dress", "coat", "socks", "pants",
    "jumpsuits", "scarf", "skirt", "face", "left_arm", "right_arm", "left_leg", "right_leg", "left_shoe",
    "right_shoe",
)

# LIP has no neck or hand classes: its arms include the hands, and VITON parses fold the neck into
# the face or the (jumpsuits) class 10. IoU against LIP is therefore reported on merged classes
# (see tryon.person.parsing.parse_iou).
LIP_TO_PARSE: dict[int, int] = {
    0: LABEL["background"], 1: LABEL["hair"], 2: LABEL["hair"], 3: LABEL["left_hand"], 4: LABEL["face"],
    5: LABEL["torso"], 6: LABEL["torso"], 7: LABEL["torso"], 8: LABEL["lower_body"], 9: LABEL["lower_body"],
    10: LABEL["neck"], 11: LABEL["torso"], 12: LABEL["lower_body"], 13: LABEL["face"], 14: LABEL["left_arm"],
    15: LABEL["right_arm"], 16: LABEL["lower_body"], 17: LABEL["lower_body"], 18: LABEL["lower_body"],
    19: LABEL["lower_body"],
}


def lip_to_parse(lip: np.ndarray) -> np.ndarray:
    """Map an (H, W) uint8 LIP label map to the teacher's ``PARSE_LABELS`` (labels >= 20 become background)."""
    lut = np.zeros(256, dtype=np.uint8)
    for k, v in LIP_TO_PARSE.items():
        lut[k] = v
    return lut[lip]
