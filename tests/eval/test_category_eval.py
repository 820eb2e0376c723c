"""``tryon eval-category``: labels read and checked, the confusion matrix and the picture of the mistakes, on
garment photos the project makes itself (the catalogue tops and drawn bottoms), and on wild-dev when present."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from tryon.cli.eval_category import register
from tryon.errors import DataError
from tryon.eval.category import evaluate_categories, read_labels
from tryon.garment import catalogue
from tryon.processing import load_image, save_image


def _drawn(pts, colour, size=(512, 384)) -> np.ndarray:
    """A garment photo: a textured polygon on light grey studio paper."""
    rng = np.random.default_rng(0)
    img = np.full((*size, 3), 232, np.uint8)
    m = np.zeros(size, np.uint8)
    cv2.fillPoly(m, [np.array(pts, np.int32)], 1)
    cloth = np.clip(np.array(colour, np.float32) + rng.normal(0, 6, (*size, 3)), 0, 255).astype(np.uint8)
    img[m > 0] = cloth[m > 0]
    return img


SKIRT = [(130, 150), (254, 150), (262, 200), (280, 206), (272, 226), (310, 390), (74, 390), (112, 226), (104, 206),
         (122, 200)]
TROUSERS = [(130, 40), (254, 40), (270, 470), (205, 470), (192, 200), (179, 470), (114, 470)]


@pytest.fixture()
def garments(tmp_path):
    """Catalogue tops and two drawn bottoms as photos, and their labels (one deliberately wrong)."""
    rows = ["file,category,notes"]
    for name in catalogue.list_garments()[:3]:
        img, _ = catalogue.render_garment(name, size=(512, 384))
        save_image(tmp_path / f"{name}.png", img)
        rows.append(f"{name}.png,tops,")
    save_image(tmp_path / "skirt.png", _drawn(SKIRT, (40, 60, 140)))
    save_image(tmp_path / "trousers.png", _drawn(TROUSERS, (30, 30, 35)))
    rows += ["skirt.png,bottoms,", "trousers.png,bottoms,", "person.png,,a row without a category is skipped"]
    # A top labelled bottoms: the report must show it in the tops column, as a non-top dressed as a top.
    img, _ = catalogue.render_garment(catalogue.list_garments()[4], size=(512, 384))
    save_image(tmp_path / "mislabelled.png", img)
    rows.append("mislabelled.png,lower,")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_confusion_matrix_and_mistakes_sheet(garments, subcommand_app):
    sheet = garments / "out" / "mistakes.png"
    res = CliRunner().invoke(subcommand_app(register), ["eval-category", str(garments), "--labels", str(garments / "labels.csv"),
                                      "--sheet", str(sheet)])
    assert res.exit_code == 0, res.output
    lines = {ln.split()[0]: ln.split()[1:] for ln in res.output.splitlines()
             if ln.split() and ln.split()[-1].isdigit()}
    # Columns: tops bottoms one-pieces uncertain refused total.
    assert lines["tops"] == ["3", "0", "0", "0", "0", "3"]
    assert lines["bottoms"] == ["1", "2", "0", "0", "0", "3"]
    assert "dressed as a top although not a top: 1 (mislabelled.png)" in res.output
    assert "tops dressed: 3 of 3 (100%)" in res.output
    picture = load_image(sheet, min_side=1)
    assert picture.shape[0] > 100 and picture.std() > 10


def test_json_lists_every_outcome(garments, subcommand_app):
    res = CliRunner().invoke(subcommand_app(register), ["eval-category", str(garments), "--labels", str(garments / "labels.csv"),
                                      "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["confusion"]["bottoms"]["bottoms"] == 2
    by_file = {o["file"]: o for o in out["outcomes"]}
    assert set(by_file) == {*(f"{n}.png" for n in catalogue.list_garments()[:3]), "skirt.png", "trousers.png",
                            "mislabelled.png"}
    assert by_file["skirt.png"]["predicted"] == "bottoms" and "waistband" in by_file["skirt.png"]["reason"]


@pytest.mark.parametrize(("text", "message"), [
    ("path,category\na.png,tops\n", "needs the columns file,category"),
    ("file,category\na.png,hats\n", "unknown garment category 'hats'"),
    ("file,category\na.png,auto\n", "must name the category"),
    ("file,category\na.png,\n", "no row has a category"),
])
def test_bad_labels_are_refused_with_the_line(tmp_path, text, message):
    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        read_labels(tmp_path / "labels.csv")


def test_missing_photo_is_named(tmp_path):
    (tmp_path / "labels.csv").write_text("file,category\nnowhere.png,tops\n")
    with pytest.raises(DataError, match="nowhere.png"):
        evaluate_categories(tmp_path, read_labels(tmp_path / "labels.csv"), progress=False)


@pytest.mark.realdata
def test_wild_dev_manifest_as_labels(wild_dev):
    """The manifest is read as it is (persons skipped); no bottom or dress of wild-dev is dressed as a top."""
    labels = read_labels(wild_dev / "manifest.csv")
    assert {g.category for g in labels} == {"tops", "bottoms", "one-pieces"}
    assert all(g.file.startswith("garment/") for g in labels)
    not_tops = [g for g in labels if g.category != "tops"]
    report = evaluate_categories(wild_dev, not_tops, progress=False)
    assert report.dressed_as_tops == []
