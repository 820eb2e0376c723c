"""Pure numpy/Pillow image I/O and pre/post-processing shared by the CLI, the teacher and the server.

Images inside the toolkit are ``np.ndarray`` of shape (H, W, 3), dtype uint8, RGB, unless a docstring says
otherwise. Masks are (H, W) float32 in [0, 1] or bool. Network tensors are NCHW float32 in [-1, 1].
No torch here: the server imports this module.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from tryon.errors import (DecompressionBombError, ImageTooSmallError, NotAnImageError, OutputError,
                          UnreadableImageError)

__all__ = [
    "MAX_PIXELS", "MIN_SIDE", "SUPPORTED_FORMATS", "decode_image", "load_image", "save_image",
    "atomic_write", "atomic_write_bytes", "to_nchw", "from_nchw", "resize", "resize_mask", "letterbox",
]

MAX_PIXELS = 40_000_000
"""Largest accepted image, in pixels (about 7300×5500); larger files are refused as decompression bombs."""
MIN_SIDE = 64
"""Smallest accepted side length in pixels."""
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "MPO")


def decode_image(data: bytes, *, name: str = "image", min_side: int = MIN_SIDE,
                 max_pixels: int = MAX_PIXELS, max_side: int | None = None) -> np.ndarray:
    """Decode and validate an encoded image held in memory.

    EXIF orientation is applied; alpha is composited on white (in-shop garment PNGs are usually
    transparent around the garment).

    Args:
        data: the encoded file bytes (JPEG, PNG, WebP or BMP).
        name: what to call the image in error messages (a path or "person photo").
        min_side: smallest accepted side, pixels.
        max_pixels: largest accepted width × height, checked from the header before decoding.
        max_side: when given, an image whose longer side is at least twice this is box-reduced by a whole factor
            (Pillow ``Image.reduce``) right after decoding, before any mode conversion, to a longer side between
            ``max_side`` and ``2 * max_side``: a large photo then costs one full-size decoded copy instead of
            four or five (RGBA compositing, RGB conversion, the array). The caller resizes to its exact size.

    Returns:
        (H, W, 3) uint8 RGB array (at most ``2 * max_side - 1`` on the longer side when ``max_side`` is given).

    Raises:
        UnreadableImageError: empty or truncated data.
        NotAnImageError: not an image, or a format outside ``SUPPORTED_FORMATS``.
        DecompressionBombError: more than ``max_pixels`` pixels.
        ImageTooSmallError: a side shorter than ``min_side``.
    """
    if not data:
        raise UnreadableImageError(f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombWarning as exc:  # pragma: no cover - header check below normally fires first
        raise DecompressionBombError(f"{name}: too many pixels ({exc})") from None
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"{name}: too many pixels ({exc})") from None
    except Exception:
        raise NotAnImageError(f"{name}: not an image, or a format that cannot be read "
                              f"(supported: {', '.join(SUPPORTED_FORMATS)})") from None
    if img.format not in SUPPORTED_FORMATS:
        raise NotAnImageError(f"{name}: format {img.format} is not supported "
                              f"(supported: {', '.join(SUPPORTED_FORMATS)})")
    w, h = img.size
    if w * h > max_pixels:
        raise DecompressionBombError(
            f"{name}: {w}x{h} = {w * h:,} pixels is more than the limit of {max_pixels:,}; "
            "resize the photo before using it")
    if min(w, h) < min_side:
        raise ImageTooSmallError(f"{name}: {w}x{h} is too small; the shorter side must be at least {min_side} px")
    try:
        img.load()
        sixteen_bit = img.mode.startswith("I;16")
        if max_side is not None and max(w, h) >= 2 * max_side:
            # A box reduce needs a mode it can average: palette and 1-bit images are expanded first, 16-bit
            # greyscale goes through 32-bit integers.
            if img.mode in ("P", "1"):
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            elif sixteen_bit:
                img = img.convert("I")
            img = img.reduce(max(w, h) // max_side)
        img = ImageOps.exif_transpose(img)
    except Exception:
        raise UnreadableImageError(f"{name}: the image data is truncated or corrupt") from None
    if sixteen_bit or img.mode in ("I", "F"):
        # 16-bit (and 32-bit) greyscale: Pillow's convert("RGB") clips instead of scaling, so a 16-bit PNG
        # would come out white. Scale the stored range to 8 bits first.
        grey = np.asarray(img, dtype=np.float64)
        top = 65535.0 if sixteen_bit or grey.max() > 255 else (1.0 if grey.max() <= 1 else 255.0)
        img = Image.fromarray(np.clip(grey * (255.0 / top) + 0.5, 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def load_image(path: str | os.PathLike, *, min_side: int = MIN_SIDE, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read and validate an image file; see :func:`decode_image` for the checks and errors.

    Returns:
        (H, W, 3) uint8 RGB array.

    Raises:
        UnreadableImageError: the file does not exist or cannot be read, plus everything ``decode_image`` raises.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UnreadableImageError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise UnreadableImageError(f"{p}: is a folder, not an image file") from None
    except OSError as exc:
        raise UnreadableImageError(f"{p}: cannot be read ({exc.strerror})") from None
    return decode_image(data, name=str(p), min_side=min_side, max_pixels=max_pixels)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object], *, fsync: bool = False) -> None:
    """Create ``path`` atomically: ``write(file)`` fills a temporary file in the same folder, then ``os.replace``.

    A crash or an exception in ``write`` leaves no partial file under the final name.

    Args:
        path: the file to write (its folder is created).
        write: called once with the open binary file.
        fsync: flush to disk before the rename (checkpoints that must survive a power loss).

    Raises:
        OutputError: the folder cannot be created or written.
    """
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            # mkstemp creates 0600; give the file the permissions a plain open() would (0666 & ~umask).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, p)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise OutputError(f"{p}: cannot write ({exc.strerror or exc})") from None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Raises:
        OutputError: the folder cannot be created or written.
    """
    atomic_write(path, lambda f: f.write(data))


def save_image(path: str | os.PathLike, image: np.ndarray, *, quality: int = 95) -> None:
    """Encode an (H, W, 3) or (H, W) uint8 image by the file's suffix (.png, .jpg, .webp) and write it atomically.

    Raises:
        OutputError: unknown suffix or unwritable folder.
    """
    p = Path(path)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(p.suffix.lower())
    if fmt is None:
        raise OutputError(f"{p}: unknown image suffix {p.suffix!r}; use .png, .jpg or .webp")
    buf = io.BytesIO()
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format=fmt, **kwargs)
    atomic_write_bytes(p, buf.getvalue())


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, C) or (H, W) uint8/float array to ``size`` = (height, width) with area/bilinear filtering."""
    import cv2  # local: keeps module import light

    h, w = size
    shrink = h * w < image.shape[0] * image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W) float mask to ``size`` = (height, width), bilinear, values kept in [0, 1]."""
    return np.clip(resize(mask.astype(np.float32), size), 0.0, 1.0)


def to_nchw(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float32 in [-1, 1]."""
    x = image.astype(np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def from_nchw(x: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float in [-1, 1] -> (H, W, 3) uint8 RGB (values clipped)."""
    if x.ndim == 4:
        x = x[0]
    return np.clip((x.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def letterbox(image: np.ndarray, size: tuple[int, int],
              fill: int | float = 255) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Fit an (H, W[, C]) image into ``size`` = (height, width) keeping its aspect, padding with ``fill``.

    Returns:
        (the letterboxed image, (scale_x, scale_y, offset_x, offset_y)): a source pixel (x, y) lands at
        (x * scale_x + offset_x, y * scale_y + offset_y) in the output (pixel-centre convention, as in
        ``grid_sample`` with ``align_corners=False``).
    """
    h, w = size
    ih, iw = image.shape[:2]
    scale = min(h / ih, w / iw)
    nh, nw = max(1, round(ih * scale)), max(1, round(iw * scale))
    resized = resize(image, (nh, nw))
    out = np.full((h, w) + image.shape[2:], fill, dtype=image.dtype)
    oy, ox = (h - nh) // 2, (w - nw) // 2
    out[oy:oy + nh, ox:ox + nw] = resized
    # Map pixel centres: (x + 0.5) * (nw / iw) - 0.5 + ox.
    sx, sy = nw / iw, nh / ih
    return out, (sx, sy, ox + 0.5 * sx - 0.5, oy + 0.5 * sy - 0.5)
