"""Blocks shared by the model families (torch only): conv + BN + activation, MobileNetV2 inverted residual,
local correlation in standard ops, appearance-flow warping."""

from tryon.models.layers.conv_bn_act import ConvBnAct, InvertedResidual, make_act, make_divisible
from tryon.models.layers.correlation import LocalCorrelation, local_correlation, local_correlation_reference
from tryon.models.layers.flow_warp import (
    compose_flow,
    identity_grid,
    offset_to_grid,
    pixels_to_normalized,
    upsample_flow,
    warp,
)

__all__ = [
    "ConvBnAct", "InvertedResidual", "make_act", "make_divisible",
    "LocalCorrelation", "local_correlation", "local_correlation_reference",
    "compose_flow", "identity_grid", "offset_to_grid", "pixels_to_normalized", "upsample_flow", "warp",
]
