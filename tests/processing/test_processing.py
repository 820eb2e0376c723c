"""Image decoding, validation and the pure pre/post-processing helpers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tryon.errors import (EXIT_CODES, DecompressionBombError, ImageTooSmallError, NotAnImageError, OutputError,
                          UnreadableImageError)
from tryon.processing import (decode_image, from_nchw, letterbox, load_image, save_image, to_nchw)


def _encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def test_exit_codes_are_distinct():
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)
    assert all(code not in (0, 1) for name, code in EXIT_CODES.items() if name != "TryonError")


def test_decode_rgb_and_alpha_on_white():
    rgba = Image.new("RGBA", (80, 100), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (10, 10, 30, 30))
    arr = decode_image(_encode(rgba))
    assert arr.shape == (100, 80, 3) and arr.dtype == np.uint8
    assert tuple(arr[0, 0]) == (255, 255, 255)  # transparent -> white, as in-shop photos expect
    assert tuple(arr[20, 20]) == (0, 0, 255)


def test_16_bit_greyscale_is_scaled_not_clipped_to_white():
    ramp = (np.arange(80 * 100, dtype=np.uint32).reshape(100, 80) * 8).astype(np.uint16)  # 0 .. 63,992
    img = Image.fromarray(ramp)
    assert img.mode.startswith("I;16")
    arr = decode_image(_encode(img))
    assert arr.shape == (100, 80, 3) and (arr[..., 0] == arr[..., 1]).all()
    expected = np.round(ramp.astype(np.float64) * 255 / 65535)
    assert np.abs(arr[..., 0].astype(float) - expected).max() <= 1  # a grey ramp, not 99.98 % white
    assert (arr == 255).mean() < 0.01


def test_truncated_jpeg_is_unreadable():
    data = _encode(Image.new("RGB", (300, 300), (10, 200, 30)), "JPEG")
    with pytest.raises(UnreadableImageError):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not an image at all", b"\x00" * 1000])
def test_non_images_are_refused(data):
    with pytest.raises((NotAnImageError, UnreadableImageError)):
        decode_image(data)


def test_decompression_bomb_refused_before_decoding():
    # A 1-bit PNG declaring 20000 x 20000 pixels is tiny on disk.
    data = _encode(Image.new("1", (20000, 20000)))
    assert len(data) < 200_000
    with pytest.raises(DecompressionBombError):
        decode_image(data, max_pixels=10_000_000)


def test_tiny_image_refused():
    with pytest.raises(ImageTooSmallError):
        decode_image(_encode(Image.new("RGB", (40, 300))))


def test_unsupported_format_refused():
    data = _encode(Image.new("RGB", (100, 100)), "TIFF")
    with pytest.raises(NotAnImageError, match="TIFF"):
        decode_image(data)


def test_load_image_missing_file_and_folder(tmp_path):
    with pytest.raises(UnreadableImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(UnreadableImageError, match="folder"):
        load_image(tmp_path)


def test_save_image_is_atomic_and_checks_suffix(tmp_path):
    img = np.zeros((70, 90, 3), np.uint8)
    save_image(tmp_path / "a" / "b.png", img)
    assert (tmp_path / "a" / "b.png").exists()
    assert not list((tmp_path / "a").glob("*.part"))
    with pytest.raises(OutputError):
        save_image(tmp_path / "c.gif", img)


def test_nchw_round_trip():
    img = np.random.default_rng(0).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    x = to_nchw(img)
    assert x.shape == (1, 3, 13, 17) and x.min() >= -1 and x.max() <= 1
    np.testing.assert_array_equal(from_nchw(x), img)


def test_letterbox_maps_pixel_centres():
    img = np.zeros((100, 50, 3), np.uint8)
    img[10, 20] = 255
    out, (sx, sy, ox, oy) = letterbox(img, (64, 64), fill=0)
    assert out.shape == (64, 64, 3)
    x, y = 20 * sx + ox, 10 * sy + oy
    # The bright pixel lands (after area resampling) at the predicted position.
    yy, xx = np.unravel_index(np.argmax(out[..., 0]), out.shape[:2])
    assert abs(xx - x) <= 1 and abs(yy - y) <= 1


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "LA"])
def test_large_photos_are_reduced_before_conversion_and_look_the_same(mode):
    """max_side box-reduces a big photo by a whole factor before alpha compositing and mode conversion; the
    colours (alpha on white, 16-bit scaled to 8) match the full-size decode."""
    base = Image.new("RGBA", (2400, 1000), (255, 0, 0, 0))
    base.paste((0, 0, 255, 255), (400, 200, 1200, 800))
    if mode == "P":
        img = base.convert("RGB").quantize(4)
        img.info["transparency"] = 0
    elif mode == "I;16":
        img = Image.fromarray((np.linspace(0, 65535, 2400)[None].repeat(1000, 0)).astype(np.uint16))
    else:
        img = base.convert(mode)
    data = _encode(img)
    full = decode_image(data)
    small = decode_image(data, max_side=1000)
    assert small.shape == (500, 1200, 3)  # factor 2: the longer side within [max_side, 2 * max_side)
    np.testing.assert_allclose(small.astype(float), full[::2, ::2].astype(float), atol=130)  # edges differ
    assert abs(small.astype(float).mean() - full.astype(float).mean()) < 1.0
    assert decode_image(data, max_side=2048).shape == full.shape  # under twice max_side: left as decoded
