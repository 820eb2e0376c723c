"""(person, garment) pair lists: read from a CSV, or formed from two folders.

A pairs CSV has a header with at least ``person`` and ``garment`` columns (a garment may also be
``catalogue:<name>``, a built-in garment) (an optional ``ground_truth``
column names the photo of that person really wearing that garment, and ``category`` the garment category).
Relative paths are resolved against the CSV's folder.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import DataError

__all__ = ["Pair", "IMAGE_SUFFIXES", "read_pairs", "list_images", "make_pairs"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass(frozen=True)
class Pair:
    """One try-on job: dress ``person`` in ``garment``."""

    person: Path
    garment: Path
    ground_truth: Path | None = None
    category: str | None = None

    @property
    def name(self) -> str:
        """A short unique-ish id, ``<person stem>__<garment stem>``, usable as a file name."""
        return f"{self.person.stem}__{self.garment.stem}"


def read_pairs(csv_path: str | Path) -> list[Pair]:
    """Read a pairs CSV.

    Raises:
        DataError: missing file, missing ``person``/``garment`` columns, or no rows.
    """
    p = Path(csv_path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{p}: cannot read the pairs CSV ({exc.strerror or exc})") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise DataError(f"{p}: the pairs CSV has no rows (expected a header 'person,garment' and one row a pair)")
    missing = {"person", "garment"} - set(rows[0].keys())
    if missing:
        raise DataError(f"{p}: the pairs CSV lacks the column(s) {', '.join(sorted(missing))}")
    base = p.parent

    def resolve(v: str | None) -> Path | None:
        if not v or not v.strip():
            return None
        if v.strip().startswith("catalogue:"):  # a built-in garment, see tryon.garment.source
            return Path(v.strip())
        q = Path(v.strip()).expanduser()
        return q if q.is_absolute() else base / q

    pairs = []
    for i, row in enumerate(rows, start=2):
        person, garment = resolve(row.get("person")), resolve(row.get("garment"))
        if person is None or garment is None:
            raise DataError(f"{p}:{i}: empty person or garment path")
        pairs.append(Pair(person, garment, resolve(row.get("ground_truth")), (row.get("category") or None)))
    return pairs


def list_images(folder: str | Path) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name.

    Raises:
        DataError: the folder does not exist or holds no image.
    """
    d = Path(folder)
    if not d.is_dir():
        raise DataError(f"{d}: no such folder")
    files = sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    if not files:
        raise DataError(f"{d}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    return files


def make_pairs(persons: str | Path, garments: str | Path, *, limit: int | None = None, seed: int = 0,
               all_combinations: bool = False, category: str | None = None) -> list[Pair]:
    """Form unpaired (person, garment) jobs from two folders.

    With ``all_combinations`` every person meets every garment (persons × garments, shuffled); otherwise each
    person gets one garment, drawn deterministically from ``seed``. ``limit`` keeps the first N pairs.
    ``category`` names the garments' category for every pair (a folder of one category's garments; None = the
    teacher classifies each garment).
    """
    ps, gs = list_images(persons), list_images(garments)
    rng = random.Random(seed)
    if all_combinations:
        pairs = [Pair(p, g, None, category) for p in ps for g in gs]
        rng.shuffle(pairs)
    else:
        pairs = [Pair(p, gs[rng.randrange(len(gs))], None, category) for p in ps]
    return pairs[:limit] if limit else pairs
