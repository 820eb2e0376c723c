"""Garment segmenter training end to end on project-made photos (catalogue renders on coloured paper):
pseudo-labels, cut-and-paste augmentation, a short run, float16 weights the runtime loads, ONNX export."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tryon.errors import DataError
from tryon.garment import catalogue
from tryon.processing import save_image
from tryon.train.garseg import GarsegTrainConfig, augment, export_onnx, train_garseg, training_photos


@pytest.fixture()
def data_root(tmp_path):
    d = tmp_path / "data" / "vton-samples" / "garment"
    d.mkdir(parents=True)
    for i, name in enumerate(catalogue.list_garments()[:3]):
        img, truth = catalogue.render_garment(name, size=(256, 192))
        paper = np.array([[235, 225, 210], [210, 215, 225], [245, 245, 245]][i], np.float32)
        a = truth[..., None]
        save_image(d / f"g{i}.png", (img * a + paper * (1 - a)).astype(np.uint8))
    return tmp_path / "data"


def test_no_photos_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no garment photos"):
        training_photos(tmp_path)


def test_augment_pastes_on_new_backgrounds():
    img, truth = catalogue.render_garment("navy-striped-longsleeve", size=(128, 96))
    cfg = dataclasses.replace(GarsegTrainConfig(), p_composite=1.0)
    rng = np.random.default_rng(0)
    out, m = augment(img, (truth * 255).astype(np.uint8), rng, cfg)
    assert out.shape == img.shape and out.dtype == np.uint8 and m.shape == truth.shape
    # The background is no longer the catalogue's white paper.
    assert abs(float(out[~(m > 0.5)].mean()) - float(img[truth < 0.5].mean())) > 3


def test_short_run_exports_weights_the_runtime_loads(data_root, tmp_path):
    from tryon.garment.segmenter import GarmentSegmenter

    cfg = GarsegTrainConfig(data_root=str(data_root), model="garment_seg_tiny", steps=6, batch_size=2,
                            max_minutes=0)
    ckpt = train_garseg(cfg, tmp_path / "run", export=tmp_path / "w.pt")
    assert ckpt.is_file() and (tmp_path / "run" / "samples.png").is_file()
    seg = GarmentSegmenter(tmp_path / "w.pt")
    assert seg.size == (128, 96)
    m = seg(catalogue.render_garment("black-hoodie", size=(300, 200))[0])
    assert m.shape == (300, 200) and m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1
    diff = export_onnx(tmp_path / "w.pt", tmp_path / "seg.onnx")
    assert (tmp_path / "seg.onnx").stat().st_size > 1000 and diff["logits"] < 1e-4
