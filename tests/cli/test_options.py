"""The shared HEIGHTxWIDTH parser of the subcommands."""

import pytest

from tryon.cli.options import parse_size
from tryon.errors import UsageError


def test_parse_size_forms_and_limits():
    assert parse_size("256x192") == (256, 192)
    assert parse_size("512×384") == (512, 384)
    for bad in ("256", "axb", "256x192x3", ""):
        with pytest.raises(UsageError, match="HEIGHTxWIDTH"):
            parse_size(bad)
    with pytest.raises(UsageError, match="at least 32"):
        parse_size("16x16", min_side=32)
    with pytest.raises(UsageError, match="between 32 and 64"):
        parse_size("128x32", min_side=32, max_side=64)
    with pytest.raises(UsageError, match="multiples of 8"):
        parse_size("250x190", multiple=8, flag="--size")
