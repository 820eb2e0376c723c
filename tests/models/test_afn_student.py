"""AFN student: registry, config, forward shapes and ranges at both sizes, gradients, WebGPU-safe ONNX graph."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tryon.bench.complexity import complexity
from tryon.models import create_model, list_models
from tryon.models.afn_student import AFNStudent, StudentConfig

VARIANTS = ["afn_student_s", "afn_student_m", "afn_student_m_hr"]


def _inputs(h: int, w: int, n: int = 1, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    person = torch.rand(n, 3, h, w, generator=g) * 2 - 1
    garment = torch.rand(n, 3, h, w, generator=g) * 2 - 1
    mask = (torch.rand(n, 1, h, w, generator=g) > 0.3).float()
    return person, garment, mask


def _randomize_flow_heads(model: AFNStudent, std: float = 0.05) -> None:
    """The flow heads' and the generator head's last layers start at zero (identity flow, identity render);
    make them non-trivial so that warps and the generator are exercised."""
    torch.manual_seed(0)
    with torch.no_grad():
        for head in list(model.flow.main) + list(model.flow.refine) + [model.generator.head]:
            head[-1].weight.normal_(0, std)


def test_variants_registered():
    assert set(VARIANTS) <= set(list_models("afn_student*"))


def test_config_is_frozen_and_validated():
    cfg = StudentConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.fpn_channels = 8  # type: ignore[misc]
    with pytest.raises(ValueError):
        StudentConfig(corr_radius=(1, 2, 3, 3, 3))  # a 9-channel cost volume would feed a 3x3 Conv
    with pytest.raises(ValueError):
        StudentConfig(enc_depth=(1, 1))
    m = create_model("afn_student_s", fpn_channels=24)
    assert m.cfg.fpn_channels == 24 and m.default_cfg["arch"] is m.cfg


@pytest.mark.parametrize("size", [(256, 192), (512, 384)])
def test_forward_shapes_and_ranges(size):
    h, w = size
    model = create_model("afn_student_s").eval()
    _randomize_flow_heads(model)
    with torch.no_grad():
        out = model(*_inputs(h, w))
    assert out["tryon"].shape == (1, 3, h, w)
    assert out["warped_garment"].shape == (1, 3, h, w)
    assert out["grid"].shape == (1, h, w, 2)
    assert out["composition_mask"].shape == (1, 1, h, w)
    for v in out.values():
        assert torch.isfinite(v).all()
    assert out["tryon"].abs().max() <= 1.0 + 1e-6
    assert out["warped_garment"].abs().max() <= 1.0 + 1e-6
    assert out["grid"].abs().max() <= 1.0
    m = out["composition_mask"]
    assert m.min() >= 0 and m.max() <= 1


def test_identity_at_init_reproduces_garment():
    """Zero-initialised flow heads give the identity warp: the warped garment is the garment."""
    model = create_model("afn_student_s").eval()
    person, garment, mask = _inputs(64, 48)
    with torch.no_grad():
        out = model(person, garment, mask)
    torch.testing.assert_close(out["warped_garment"], garment, atol=1e-5, rtol=0)


def test_flip_ensemble_is_mirror_equivariant_and_averages_the_two_flows():
    """With the ensemble, mirroring the inputs mirrors the outputs (the grid's x negated); the grid is the
    mean of the plain and the mirrored estimate, so it differs from either alone when the flow is not
    already symmetric."""
    plain = create_model("afn_student_s").eval()
    _randomize_flow_heads(plain)
    model = create_model("afn_student_s", flip_ensemble=True).eval()
    model.load_state_dict(plain.state_dict())
    person, garment, mask = _inputs(64, 48)
    with torch.no_grad():
        out = model(person, garment, mask)
        mirrored = model(person.flip(-1), garment.flip(-1), mask.flip(-1))
        single = plain(person, garment, mask)
    torch.testing.assert_close(mirrored["grid"].flip(2) * torch.tensor([-1.0, 1.0]), out["grid"], atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(mirrored["warped_garment"].flip(-1), out["warped_garment"], atol=1e-4, rtol=0)
    assert (out["grid"] - single["grid"]).abs().max() > 1e-3
    ident = create_model("afn_student_s", flip_ensemble=True).eval()  # zero flow heads: identity either way
    with torch.no_grad():
        torch.testing.assert_close(ident(person, garment, mask)["warped_garment"], garment, atol=1e-5, rtol=0)


def test_rejects_bad_shapes():
    model = create_model("afn_student_s").eval()
    person, garment, mask = _inputs(64, 48)
    with pytest.raises(ValueError):
        model(person, garment, mask[:, :, :32])
    with pytest.raises(ValueError):
        model(*_inputs(72, 48))


def test_residual_render_starts_as_the_identity_on_the_person():
    """A fresh residual student passes the person through outside the composition mask, exactly."""
    model = create_model("afn_student_s").eval()
    assert model.cfg.render == "residual"
    person, garment, mask = _inputs(64, 48)
    with torch.no_grad():
        out = model(person, garment, mask, return_aux=True)
    assert torch.equal(out["rendered"], person.clamp(-1, 1))
    m = out["composition_mask"]
    expected = m * out["warped_garment"] + (1 - m) * person
    assert torch.allclose(out["tryon"], expected, atol=1e-6)
    full = create_model("afn_student_s", render="full").eval()
    with torch.no_grad():
        assert not torch.equal(full(person, garment, mask, return_aux=True)["rendered"], person)
    with pytest.raises(ValueError, match="render"):
        create_model("afn_student_s", render="paint")


def test_gradients_reach_every_parameter():
    model = create_model("afn_student_s").train()
    _randomize_flow_heads(model)
    out = model(*_inputs(64, 48, n=2), return_aux=True)
    assert len(out["flows"]) == 5 and out["flows"][-1].shape == (2, 2, 32, 24)
    loss = out["tryon"].abs().mean() + out["flows"][-1].abs().mean() + out["rendered"].square().mean()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    dead = [n for n, p in model.named_parameters() if p.grad.abs().sum() == 0]
    assert not dead, dead


@pytest.mark.parametrize("name", VARIANTS)
def test_budget(name):
    c = complexity(create_model(name), (256, 192))
    assert c.gmacs <= 3.5
    assert c.params < 2e6
    if name in ("afn_student_s", "afn_student_m"):
        assert 0.4 <= c.gmacs <= 1.5


def test_exported_graph_is_webgpu_safe(tmp_path):
    """Export at a small size; scan for ops outside the allow-list and 3x3 Convs on 6 or 9 channels."""
    onnx = pytest.importorskip("onnx")
    from tryon.export import WEBGPU_OPS, export_model, find_webgpu_issues

    model = create_model("afn_student_s")
    _randomize_flow_heads(model)
    result = export_model(model, tmp_path, name="afn_student_s", size=(64, 48), strict_webgpu=True)
    proto = onnx.load(str(result.onnx_path))
    assert find_webgpu_issues(proto) == []
    assert set(result.ops) <= WEBGPU_OPS, set(result.ops) - WEBGPU_OPS
    assert result.ops["GridSample"] == 20
    assert max(result.max_abs.values()) <= 1e-4


def test_flip_ensemble_exports_webgpu_safe_within_budget(tmp_path):
    pytest.importorskip("onnx")
    from tryon.export import WEBGPU_OPS, export_model

    model = create_model("afn_student_s", flip_ensemble=True, mask_sharpness=8.0)
    _randomize_flow_heads(model)
    result = export_model(model, tmp_path, name="afn_student_s", size=(64, 48), strict_webgpu=True)
    assert set(result.ops) <= WEBGPU_OPS, set(result.ops) - WEBGPU_OPS
    assert result.ops["GridSample"] == 38  # two flow estimates (18 each) + the garment and its mask
    assert max(result.max_abs.values()) <= 1e-4
    single, double = (complexity(create_model("afn_student_s", flip_ensemble=f), (256, 192)) for f in (False, True))
    assert 1.4 * single.gmacs < double.gmacs <= 3.5 and double.params == single.params
