"""``tryon eval-compare``: side-by-side sheets of two real ``tryon eval`` runs (the copy baseline, one of them then
given a different result, as a second method would)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tryon.errors import DataError, OutputError, UsageError
from tryon.processing import load_image, save_image

from .test_cli import _app


@pytest.fixture()
def two_evals(tmp_path: Path) -> tuple[Path, Path]:
    # Smooth photos: results/ holds JPEGs, and their re-encoding must stay below the difference level.
    yy, xx = np.mgrid[0:400, 0:300]
    for i in range(3):
        person = np.stack([yy * 0.5, xx * 0.6, np.full_like(yy, 60 * i)], axis=2).astype(np.uint8)
        save_image(tmp_path / "persons" / f"p{i}.png", person)
        save_image(tmp_path / "garments" / f"g{i}.png", np.full((120, 90, 3), 200, np.uint8))
    outs = []
    for name in ("a", "b"):
        r = CliRunner().invoke(_app(), ["eval", "--persons", str(tmp_path / "persons"), "--garments",
                                        str(tmp_path / "garments"), "-o", str(tmp_path / name), "--method", "copy",
                                        "--metrics", "identity", "--size", "96x72", "-q"])
        assert r.exit_code == 0, r.output
        outs.append(tmp_path / name)
    # In B, the second pair's result gets a patch 40x30 px at (200, 150): what a second method changed.
    res = sorted((outs[1] / "results").iterdir())[1]
    img = load_image(res)
    img[200:240, 150:180] = (255, 0, 0)
    save_image(res, img)
    return outs[0], outs[1]


def test_sheets_crop_to_where_the_two_differ(two_evals, tmp_path):
    a, b = two_evals
    out = tmp_path / "cmp"
    r = CliRunner().invoke(_app(), ["eval-compare", str(a), str(b), "--labels", "classical,refined", "-o", str(out),
                                    "--rows", "2"])
    assert r.exit_code == 0, r.output
    assert "3 pairs compared (2 identical" in r.output
    assert sorted(p.name for p in out.glob("compare_*.png")) == ["compare_0.png", "compare_1.png"]
    rows = list(csv.DictReader(open(out / "compare.csv")))
    changed = [int(x["changed_px"]) for x in rows]
    assert changed[0] == changed[2] == 0 and 40 * 30 <= changed[1] < 1.4 * 40 * 30  # the patch (+ JPEG ringing)
    assert {"status_classical", "status_refined", "judgement"} <= set(rows[0])
    x0, y0, x1, y1 = map(int, rows[1]["box"].split())
    # The crop holds the patch and little else: far smaller than the 300x400 photo.
    assert x0 <= 150 and y0 <= 200 and x1 >= 180 and y1 >= 240
    assert (x1 - x0) * (y1 - y0) < 0.2 * 300 * 400
    # Where nothing differs (and the copy baseline changed nothing), the whole photo is shown.
    assert rows[0]["box"] == "0 0 300 400"


def test_bad_inputs_are_refused_with_what_to_give(two_evals, tmp_path):
    a, b = two_evals
    r = CliRunner().invoke(_app(), ["eval-compare", str(a), str(tmp_path / "persons"), "-o", str(tmp_path / "x")])
    assert isinstance(r.exception, DataError) and "tryon eval" in str(r.exception)
    r = CliRunner().invoke(_app(), ["eval-compare", str(a), str(b), "-o", str(a)])
    assert isinstance(r.exception, OutputError)
    r = CliRunner().invoke(_app(), ["eval-compare", str(a), str(b), "-o", str(tmp_path / "y"), "--labels", "one"])
    assert isinstance(r.exception, UsageError)
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.json").write_text('{"pairs": [{"name": "zzz", "status": "ok"}]}')
    r = CliRunner().invoke(_app(), ["eval-compare", str(a), str(other), "-o", str(tmp_path / "z")])
    assert isinstance(r.exception, DataError) and "share no pair" in str(r.exception)


def test_grid_zooms_on_what_the_try_on_changed():
    """``tryon eval``'s grid: on a full-body photo the garment is small; the zoomed tile shows it at tile size."""
    from tryon.eval.report import TILE, fit_tile, make_row, zoom_tile

    yy, xx = np.mgrid[0:1200, 0:900]
    person = np.stack([yy * 0.2, xx * 0.25, np.full_like(yy, 90)], axis=2).astype(np.uint8)
    result = person.copy()
    result[500:620, 400:490] = (250, 10, 10)  # a garment a tenth of the photo's width

    def red(tile):
        return float(((tile[..., 0] > 200) & (tile[..., 1] < 60)).mean())

    assert red(zoom_tile(person, result)) > 8 * red(fit_tile(result))
    assert zoom_tile(person, result).shape == (*TILE, 3)
    assert red(zoom_tile(person, person)) == 0.0  # nothing changed: a blank tile, not the photo again
    row = make_row("p", person, person, result, None, caption="p", error=None)
    assert len(row.tiles) == 4 and np.array_equal(row.tiles[3], zoom_tile(person, result))
