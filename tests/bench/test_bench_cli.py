"""``tryon bench`` model specs: a registered variant with configuration overrides, e.g. the deployed default."""

from __future__ import annotations

import json

import pytest

from tryon.cli.bench import DEPLOYED, default_models, parse_model_spec
from tryon.errors import UsageError


def test_parse_model_spec():
    assert parse_model_spec("afn_student_s") == ("afn_student_s", {})
    assert parse_model_spec(DEPLOYED) == ("afn_student_s", {"flip_ensemble": True, "mask_sharpness": 6})
    assert DEPLOYED in default_models() and "afn_student_s" in default_models()
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_model_spec("afn_student_s:flip_ensemble")


def test_bench_compares_the_flip_ensemble_with_the_plain_variant(tmp_path, subcommand_app):
    pytest.importorskip("onnxruntime")
    from typer.testing import CliRunner

    from tryon.cli.bench import register

    app = subcommand_app(register)

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--model", "afn_student_s:flip_ensemble=true", "--reference",
                                      "afn_student_s", "--size", "64x48", "--runs", "0", "--samples", "1",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(out.read_text())["rows"]}
    flip, plain = rows["afn_student_s:flip_ensemble=true"], rows["afn_student_s"]
    assert flip["params"] == plain["params"] and 1.4 * plain["gmacs"] < flip["gmacs"] < 2 * plain["gmacs"]
    bad = CliRunner().invoke(app, ["bench", "--model", "afn_student_s:no_such_field=1", "--runs", "0",
                                   "--reference", "afn_student_s", "--size", "64x48"])
    assert bad.exit_code != 0 and "no_such_field" in str(bad.exception)
