"""Convolution blocks shared by the model families: conv + BatchNorm + activation, MobileNetV2 inverted residual.

Sources:
    * Inverted residual with linear bottleneck — Sandler, Howard, Zhu, Zhmoginov, Chen, "MobileNetV2: Inverted
      Residuals and Linear Bottlenecks", CVPR 2018 (arXiv 1801.04381).

Every block here exports to ONNX ops that onnxruntime-web runs on WebGPU: Conv (BatchNorm is folded into it by
the exporter in eval mode), Relu, Clip (ReLU6), Add. The activation is chosen by name so that a family can stay
inside that op set (``"leaky_relu"`` exists only for the DM-VTON reference, which reproduces the paper).
"""

from __future__ import annotations

from torch import nn

__all__ = ["ConvBnAct", "InvertedResidual", "make_act", "make_divisible"]


def make_act(name: str | None) -> nn.Module:
    """An activation module by name: ``"relu"``, ``"relu6"``, ``"leaky_relu"`` (slope 0.1), or None/``"none"``.

    Raises:
        ValueError: unknown name.
    """
    if name is None or name == "none":
        return nn.Identity()
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.1, inplace=True)
    raise ValueError(f"unknown activation {name!r}; use relu, relu6, leaky_relu or none")


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor`` (never below 90 % of ``value``), as MobileNetV2."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


class ConvBnAct(nn.Sequential):
    """``k×k`` convolution (no bias) + BatchNorm + activation; ``padding = dilation·(k−1)/2`` keeps the size at stride 1.

    Args:
        cin: input channels.
        cout: output channels.
        kernel_size: odd kernel size.
        stride: 1 or 2 (2 halves height and width, rounding up).
        groups: convolution groups (``cin`` for a depthwise convolution).
        act: activation name (see :func:`make_act`).
        bn: False gives a plain biased convolution + activation (flow heads, where batch statistics of
            displacements are meaningless).
        dilation: convolution dilation.
    """

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, groups: int = 1,
                 act: str | None = "relu6", bn: bool = True, dilation: int = 1):
        padding = dilation * (kernel_size - 1) // 2
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel_size, stride, padding, dilation=dilation,
                                             groups=groups, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(make_act(act))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expand → 3×3 depthwise (stride) → 1×1 linear projection, residual when shapes match.

    Args:
        cin: input channels.
        cout: output channels.
        stride: depthwise stride (1 or 2).
        expand_ratio: hidden width = ``round(cin · expand_ratio)``.
        always_expand: keep the 1×1 expansion even when ``expand_ratio == 1`` (DM-VTON's FPN encoder does).
        act: activation after the expansion and the depthwise convolution.

    Shapes: (N, cin, H, W) → (N, cout, ceil(H/stride), ceil(W/stride)).
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, expand_ratio: float = 6.0, always_expand: bool = False,
                 act: str = "relu6"):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = int(round(cin * expand_ratio))
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand_ratio != 1 or always_expand:
            layers.append(ConvBnAct(cin, hidden, 1, act=act))
        layers += [
            ConvBnAct(hidden, hidden, 3, stride=stride, groups=hidden, act=act),
            ConvBnAct(hidden, cout, 1, act=None),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_residual else out
