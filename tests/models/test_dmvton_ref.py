"""DM-VTON reference: published size (9.35 M params, ~34.7 GMAC at 256x192), forward, ONNX export (slow)."""

from __future__ import annotations

import pytest
import torch

from tryon.bench.complexity import complexity
from tryon.models import create_model

PUBLISHED_PARAMS = 9.35e6  # docs/reference-models.md, derived from the DM-VTON layer definitions
PUBLISHED_GMACS = 34.7


def test_params_and_gmacs_match_published():
    c = complexity(create_model("dmvton_ref"), (256, 192))
    assert abs(c.params - PUBLISHED_PARAMS) <= 0.01 * PUBLISHED_PARAMS, c.params
    assert abs(c.gmacs - PUBLISHED_GMACS) <= 0.05 * PUBLISHED_GMACS, c.gmacs
    # 98 % of the compute is in the warp module (two 256-ch FPNs + AFlowNet), as in the notes.
    assert c.by_module["generator"] / c.macs < 0.03


def test_shared_smoothing_conv_is_one_module():
    fpn = create_model("dmvton_ref").person_fpn
    assert len({id(m) for m in fpn.smooth}) == 1 and len(fpn.smooth) == 5


def test_forward_shapes():
    model = create_model("dmvton_ref").eval()
    person, garment = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    mask = torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        out = model(person, garment, mask)
    assert out["tryon"].shape == (1, 3, 64, 64) and out["grid"].shape == (1, 64, 64, 2)
    assert out["composition_mask"].min() >= 0 and out["composition_mask"].max() <= 1
    assert torch.isfinite(out["tryon"]).all()


@pytest.mark.slow
def test_exports_with_parity(tmp_path):
    from tryon.export import export_model

    result = export_model(create_model("dmvton_ref"), tmp_path, name="dmvton_ref", size=(256, 192))
    assert max(result.max_abs.values()) <= 1e-4
