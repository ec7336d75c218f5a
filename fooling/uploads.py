"""Uploaded image files (PNG, JPEG, single-frame GIF) to MNIST-style digits.

The bytes are checked before Pillow sees them: at most ``max_bytes``, a PNG, JPEG or
GIF signature, and the size the header declares (read here, not by Pillow) at least
:data:`fooling.digits.MIN_SIDE` on each side and at most ``max_pixels`` in all, so a
20,000 x 20,000 image is refused before anything is decoded; Pillow's own
decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, when lower) is checked here too,
so it never warns. A PNG must end in IEND with every chunk's checksum right and a GIF in
its trailer (Pillow stops reading once it has the pixels, so it would take a cut-off file);
a damaged JPEG fails in Pillow's decoder. Pillow opens the file restricted to that one
format (no other decoder is tried), animated PNGs and GIFs are refused,
JPEGs are decoded at a reduced scale (``draft``) when large, turned upright by their
EXIF orientation, and anything larger than :data:`WORK_SIDE` is box-averaged down
before it becomes an array. Transparent pixels are laid over a background that
contrasts with the opaque ones (a drawing pad's strokes on a transparent canvas).
The grey image then goes through :func:`fooling.digits.digit_from_array`.

Nothing is written to disk, and every failure is a :class:`fooling.digits.DigitError`.
Relies on Pillow >= 9.1 (``Image.Resampling``, ``Image.open(formats=...)``).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import struct
import zlib

import numpy as np

from .digits import MIN_SIDE, DigitError, digit_from_array

__all__ = ["FORMATS", "MAX_BYTES", "MAX_PIXELS", "WORK_SIDE", "declared_size", "digit_from_bytes",
           "digit_from_data_url", "grey_from_bytes"]

FORMATS = ("PNG", "JPEG", "GIF")
"""Pillow format names accepted."""
MAX_BYTES = 4_000_000
"""Default largest file accepted, in bytes."""
MAX_PIXELS = 4096 * 4096
"""Default largest width x height accepted (a 12-megapixel phone photo fits)."""
WORK_SIDE = 1024
"""Images are reduced (box average) to at most this many pixels on their long side."""

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_ORIENTATION = 0x0112
_NOT_IMAGE = "not a PNG, JPEG or GIF image"


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise DigitError("the JPEG file is damaged (no marker where one should be)")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        if marker in (0xD9, 0xDA):
            break
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF:
            if length < 7 or i + 9 > n:
                break
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        if length < 2:
            break
        i += 2 + length
    raise DigitError("the JPEG file is damaged or truncated (no image size before its data)")


def declared_size(data: bytes) -> tuple[str, int, int]:
    """The format and the width and height a file's header declares, without decoding it.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    format : {'PNG', 'JPEG', 'GIF'}
    width, height : int

    Raises
    ------
    DigitError
        Not one of :data:`FORMATS`, or a header too damaged to read.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise DigitError("the PNG file is damaged (no image header)")
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    if data[:3] == b"\xff\xd8\xff":
        return ("JPEG", *_jpeg_size(data))
    if data[:6] in (b"GIF87a", b"GIF89a"):
        if len(data) < 10:
            raise DigitError("the GIF file is damaged (no image header)")
        width, height = struct.unpack("<HH", data[6:10])
        return "GIF", width, height
    raise DigitError(_NOT_IMAGE)


def _check_whole(fmt: str, data: bytes) -> None:
    """Refuse a PNG whose chunks do not check out or end before IEND, a GIF without its trailer.

    (Pillow stops reading once it has every pixel, so it accepts such files.) A damaged
    JPEG fails in Pillow's decoder.
    """
    if fmt == "GIF" and data.rstrip(b"\0")[-1:] != b"\x3b":
        raise DigitError("the GIF file is truncated (it does not end with its trailer)")
    if fmt != "PNG":
        return
    i = 8
    while True:
        if i + 12 > len(data):
            raise DigitError("the PNG file is truncated (it ends before its last chunk)")
        (length,) = struct.unpack(">I", data[i:i + 4])
        end = i + 12 + length
        if end > len(data):
            raise DigitError("the PNG file is truncated (a chunk runs past the end of the file)")
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[i + 4:end - 4]) != crc:
            raise DigitError("the PNG file is damaged (a chunk fails its checksum)")
        if data[i + 4:i + 8] == b"IEND":
            return
        i = end


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma of 8-bit RGB, in [0, 1] (the weights Pillow's ``convert('L')`` uses)."""
    return (rgb[..., :3].astype(float) @ np.array([0.299, 0.587, 0.114])) / 255.0


def _reduced(im):
    factor = math.ceil(max(im.size) / WORK_SIDE)
    return im.reduce(factor) if factor > 1 else im


def _grey(im) -> np.ndarray:
    if im.mode.startswith("I;16") or im.mode == "I":  # 16-bit grey PNG
        a = np.asarray(_reduced(im.convert("I")), dtype=float) / 65535.0
        return np.clip(a, 0.0, 1.0)
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        rgba = np.asarray(_reduced(im.convert("RGBA")))
        grey, alpha = _luma(rgba), rgba[..., 3] / 255.0
        if alpha.min() < 1.0:
            weight = alpha.sum()
            opaque = float((alpha * grey).sum() / weight) if weight > 0 else 0.0
            behind = 1.0 if opaque < 0.5 else 0.0  # contrast with what is drawn
            grey = alpha * grey + (1.0 - alpha) * behind
        return grey
    if im.mode not in ("1", "L", "P", "RGB"):
        im = im.convert("RGB")
    return np.asarray(_reduced(im.convert("L")), dtype=float) / 255.0


def grey_from_bytes(data: bytes, *, max_bytes: int = MAX_BYTES,
                    max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file into grey levels, as it looks (no inversion, no cropping).

    Parameters
    ----------
    data : bytes
        The file's content.
    max_bytes : int, default=MAX_BYTES
    max_pixels : int, default=MAX_PIXELS
        Largest declared width x height accepted (``PIL.Image.MAX_IMAGE_PIXELS`` too,
        when it is lower).

    Returns
    -------
    ndarray of shape (height, width)
        Grey levels in [0, 1] (1 is white), at most :data:`WORK_SIDE` on the long side.

    Raises
    ------
    DigitError
        Empty, over ``max_bytes``, not a PNG/JPEG/GIF, too small, too large, animated,
        truncated or otherwise damaged.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DigitError("expected the file's bytes")
    data = bytes(data)
    if not data:
        raise DigitError("the file is empty")
    if len(data) > max_bytes:
        raise DigitError(f"the file is too large ({len(data):,} bytes; at most {max_bytes:,})")
    fmt, width, height = declared_size(data)
    if min(width, height) < MIN_SIDE:
        raise DigitError(f"the image is too small ({width}x{height} pixels): "
                         f"at least {MIN_SIDE}x{MIN_SIDE} needed")
    if width * height > max_pixels:
        raise DigitError(f"the image is too large ({width:,}x{height:,} pixels; "
                         f"at most {max_pixels:,} pixels in all)")
    from PIL import Image

    bomb = Image.MAX_IMAGE_PIXELS
    if bomb and width * height > bomb:  # Pillow would warn (or refuse): refuse first, quietly
        raise DigitError(f"the image is too large ({width:,}x{height:,} pixels; "
                         f"at most {int(bomb):,} pixels in all)")
    _check_whole(fmt, data)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            if im.size != (width, height):
                raise DigitError("the file is damaged (its header contradicts itself)")
            if fmt != "JPEG" and getattr(im, "n_frames", 1) > 1:  # a JPEG's extra frames (MPO) are previews
                raise DigitError("animated images are not accepted: upload a single picture")
            orientation = im.getexif().get(_ORIENTATION, 1) if fmt == "JPEG" else 1
            if fmt == "JPEG" and max(width, height) > WORK_SIDE:
                im.draft("L", (WORK_SIDE, WORK_SIDE))
            im.load()
            grey = _grey(im)
    except DigitError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise DigitError("the image is too large to decode safely") from exc
        raise DigitError(f"the file could not be read as an image ({fmt}): it is damaged or "
                         "truncated") from exc
    turn = {2: np.fliplr, 3: lambda a: np.rot90(a, 2), 4: np.flipud, 5: np.transpose,
            6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).T, 8: lambda a: np.rot90(a, 1)}
    if orientation in turn:
        grey = np.ascontiguousarray(turn[orientation](grey))
    return grey


def digit_from_bytes(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                     ink: str = "auto") -> np.ndarray:
    """An uploaded file's digit, preprocessed as MNIST's (:func:`fooling.digits.digit_from_array`).

    Parameters
    ----------
    data : bytes
        A PNG, JPEG or single-frame GIF: any size within the limits, colour or grey, dark
        ink on a light background or light on dark.
    max_bytes, max_pixels : int
        See :func:`grey_from_bytes`.
    ink : {'auto', 'light', 'dark'}, default='auto'

    Returns
    -------
    ndarray of shape (784,)
        Grey levels in [0, 1], digit bright on black, 20-pixel box, centred by mass.

    Raises
    ------
    DigitError
    """
    return digit_from_array(grey_from_bytes(data, max_bytes=max_bytes, max_pixels=max_pixels), ink=ink)


def digit_from_data_url(url: str, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                        ink: str = "auto") -> np.ndarray:
    """:func:`digit_from_bytes` of a ``data:<type>;base64,<data>`` URL.

    What ``dcc.Upload`` puts in ``contents``, and what ``canvas.toDataURL()`` gives. The
    declared media type is ignored (the bytes are sniffed); the length is checked before
    the base64 is decoded.

    Parameters
    ----------
    url : str
    max_bytes, max_pixels : int
    ink : {'auto', 'light', 'dark'}

    Returns
    -------
    ndarray of shape (784,)

    Raises
    ------
    DigitError
    """
    if not isinstance(url, str):
        raise DigitError("expected a data URL (a string starting with 'data:')")
    head, comma, payload = url[:256].partition(",")
    if not comma or not head.startswith("data:"):
        raise DigitError("expected a data URL (a string starting with 'data:')")
    if not head.endswith(";base64"):
        raise DigitError("the data URL is not base64-encoded")
    payload = url[len(head) + 1:].strip()
    if len(payload) > 4 * (max_bytes // 3 + 1):
        raise DigitError(f"the file is too large (about {len(payload) * 3 // 4:,} bytes; "
                         f"at most {max_bytes:,})")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DigitError("the data URL's content is not valid base64") from exc
    return digit_from_bytes(data, max_bytes=max_bytes, max_pixels=max_pixels, ink=ink)
