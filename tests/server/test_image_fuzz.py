"""Image-decoding fuzz: a bounded random corpus made at test time (odd modes, truncations, bit flips, headers
claiming huge sizes), sent to ``tryon.processing.decode_image`` and through ``POST /v1/run``.

Every input is either decoded correctly (valid files: the expected colours) or refused with one of the named input
errors, and the API answers those as JSON with the documented status, never a 5xx. The corpus is seeded, so a
failure names a reproducible case.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tryon.errors import DecompressionBombError, ImageTooSmallError, NotAnImageError, UnreadableImageError
from tryon.processing import decode_image
from tryon.server.main import create_app

NAMED = (DecompressionBombError, ImageTooSmallError, NotAnImageError, UnreadableImageError)
STATUS = {"ImageLoadError": 400, "UnsupportedMediaType": 415, "PayloadTooLarge": 413, "ImageTooSmall": 422}
SEED = 20261204
VALID = 10  # valid files at the head of the corpus: 8 odd modes + 2 large ones


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _valid_cases() -> list[tuple[str, bytes, np.ndarray]]:
    """(name, file, expected RGB colour of its centre): the odd modes a shop or a phone may send."""
    h, w = 120, 90
    out = []
    grey16 = np.full((h, w), 40000, np.uint16)
    out.append(("I;16 png", _save(Image.fromarray(grey16), "PNG"), np.array([156, 156, 156])))  # 40000/65535*255
    la = Image.new("LA", (w, h), (0, 0))  # fully transparent: white
    la.paste((50, 255), (20, 20, 70, 100))
    out.append(("LA png", _save(la, "PNG"), np.array([50, 50, 50])))
    p = Image.new("P", (w, h), 0)
    p.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    p.paste(1, (20, 20, 70, 100))
    out.append(("P png with transparency", _save(p, "PNG", transparency=0), np.array([200, 30, 30])))
    p_edge = p.copy()
    p_edge.paste(0, (0, 0, w, h))
    out.append(("P png all transparent", _save(p_edge, "PNG", transparency=0), np.array([255, 255, 255])))
    cmyk = Image.new("CMYK", (w, h), (0, 255, 255, 0))  # red
    out.append(("CMYK jpeg", _save(cmyk, "JPEG", quality=95), np.array([255, 0, 0])))
    out.append(("RGBA webp", _save(Image.new("RGBA", (w, h), (10, 200, 10, 255)), "WEBP", lossless=True),
                np.array([10, 200, 10])))
    out.append(("1-bit bmp", _save(Image.new("1", (w, h), 1), "BMP"), np.array([255, 255, 255])))
    out.append(("L jpeg", _save(Image.new("L", (w, h), 90), "JPEG"), np.array([90, 90, 90])))
    return out


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR (with a correct CRC) claims ``width`` × ``height`` and whose data is one short row."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 marker is rewritten to claim ``width`` × ``height``."""
    data = bytearray(_save(Image.new("RGB", (80, 80), (1, 2, 3)), "JPEG"))
    i = data.index(b"\xff\xc0")
    data[i + 5: i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _corpus() -> list[tuple[str, bytes]]:
    """The bounded random corpus: every valid file (the first ``VALID`` entries), plus truncations and bit flips of
    each, plus lying headers."""
    rng = np.random.default_rng(SEED)
    valid = [(n, d) for n, d, _ in _valid_cases()]
    # Large enough to take decode_image's reduce-before-converting path (max_side 2048).
    big = Image.new("RGBA", (4200, 300), (0, 0, 0, 0))
    big.paste((30, 60, 90, 255), (1000, 50, 3000, 250))
    valid += [("big RGBA png", _save(big, "PNG")), ("big I;16 png", _save(big.convert("I;16"), "PNG"))]
    out = list(valid)
    assert len(out) == VALID
    for name, data in valid:
        for cut in sorted(set(rng.integers(1, len(data), 5).tolist())):
            out.append((f"{name} cut at {cut}", data[:cut]))
        for k in range(8):
            flipped = bytearray(data)
            for pos in rng.integers(0, len(data), 1 + k):
                flipped[pos] ^= 1 << int(rng.integers(0, 8))
            out.append((f"{name} with {1 + k} bit flips #{k}", bytes(flipped)))
    out += [("png claiming 100000x100000", _png_claiming(100_000, 100_000)),
            ("png claiming 2^31-1 wide", _png_claiming(2**31 - 1, 1)),
            ("png claiming 0x0", _png_claiming(0, 0)),
            ("jpeg claiming 65000x65000", _jpeg_claiming(65_000, 65_000)),
            ("png 40 px wide", _save(Image.new("RGB", (40, 300)), "PNG")),
            ("gif", _save(Image.new("P", (80, 80)), "GIF")),
            ("random bytes", rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()),
            ("empty", b"")]
    return out


@pytest.mark.parametrize(("name", "data", "colour"), _valid_cases(), ids=[c[0] for c in _valid_cases()])
def test_odd_modes_decode_to_the_right_colours(name, data, colour):
    img = decode_image(data, min_side=64)
    assert img.shape == (120, 90, 3) and img.dtype == np.uint8
    np.testing.assert_allclose(img[60, 45].astype(int), colour, atol=3)
    if "LA" in name or "P png with" in name:  # transparent surroundings come out white
        np.testing.assert_array_equal(img[2, 2], [255, 255, 255])


def test_every_corpus_input_decodes_or_is_refused_by_name():
    refused: dict[str, int] = {}
    for i, (name, data) in enumerate(_corpus()):
        try:
            img = decode_image(data, min_side=64, max_pixels=25_000_000, max_side=2048)
        except NAMED as exc:
            assert i >= VALID, f"{name} is a valid file, refused: {exc.message}"
            refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
            assert exc.message, name
            continue
        except Exception as exc:  # pragma: no cover - the failure this test exists to catch
            raise AssertionError(f"{name}: {type(exc).__name__}: {exc}") from exc
        assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and min(img.shape[:2]) >= 64, name
    # The corpus reaches each refusal (a corpus that only decodes would test nothing).
    assert set(refused) == {"DecompressionBombError", "ImageTooSmallError", "NotAnImageError",
                            "UnreadableImageError"}, refused
    assert len(_corpus()) > 100


def test_the_api_answers_every_corpus_input_with_a_result_or_a_named_json_error(make_settings, images):
    garment = images.encode(images.garment())
    seen: set[int] = set()
    with TestClient(create_app(make_settings(queue_size=256))) as c:
        for name, data in _corpus():
            r = c.post("/v1/run", files={"person_image": ("p", data, "application/octet-stream"),
                                         "garment_image": ("g.png", garment, "image/png")})
            seen.add(r.status_code)
            assert r.headers["content-type"] == "application/json", name
            if r.status_code == 202:
                continue
            body = r.json()
            assert r.status_code < 500, (name, r.status_code, body)
            assert STATUS.get(body["error"]) == r.status_code, (name, r.status_code, body)
    assert {202, 400, 413, 415, 422} <= seen
