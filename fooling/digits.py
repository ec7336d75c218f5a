"""A digit of the user's own, made the way MNIST's digits were made.

MNIST's digits (LeCun, Cortes, Burges) were size-normalised to fit a 20x20 box with
their aspect ratio kept, anti-aliased into grey levels, then placed in a 28x28 field so
that their centre of mass sits at its centre. Measured on the bundled digits: the long
side of the ink's box is 20 pixels, and the centre of mass lies at pixel (row, column)
= (14.0, 14.0) on average with a spread of 0.29 in each axis, the spread of a whole-pixel
shift (uniform on [-0.5, 0.5]). :func:`digit_from_array` does the same:

1. grey levels in ``[0, 1]`` with the ink bright (white on black, like MNIST): with
   ``ink="auto"`` the background is the median of a thin frame along the border, and an
   image whose ink lies further below the background than above it (dark on light) is
   inverted;
2. the background level is subtracted and the ink's contrast stretched to ``[0, 1]``;
   what stays under :data:`NOISE_FLOOR` of the contrast (paper grain, JPEG ringing) is
   set to 0; too little contrast left means there is no digit (:class:`DigitError`);
3. the bounding box of the ink is resampled (Lanczos, anti-aliased) so that its longer
   side is :data:`BOX` = 20 pixels, aspect ratio kept;
4. it is pasted into a black 28x28 field, shifted by whole pixels so its centre of mass
   lands on pixel (14, 14) (moved less only where that would push ink off the field).

Decoding uploaded files is :mod:`fooling.uploads`. :func:`encode_digit` and
:func:`decode_digit` turn the 784 grey levels into ~1 kB of URL-safe base64 and back.
Every bad input raises :class:`DigitError` with a message meant for the user.
Pillow is imported only inside the functions that resample.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Sequence

import numpy as np

__all__ = ["BOX", "CENTRE", "MAX_ARRAY", "MAX_POINTS", "MIN_CONTRAST", "MIN_SIDE", "NOISE_FLOOR", "SIDE",
           "DigitError", "as_image", "decode_digit", "digit_from_array", "digit_from_strokes",
           "encode_digit"]

SIDE = 28
"""Width and height of an MNIST image."""
BOX = 20
"""The ink's bounding box is scaled so its longer side has this many pixels."""
CENTRE = 14
"""Row and column index the centre of mass is moved to (MNIST's own average)."""
MIN_SIDE = 8
"""Images and drawings narrower or lower than this many pixels are refused."""
MIN_CONTRAST = 0.15
"""Ink less than this far (in grey levels of [0, 1]) from the background: no digit."""
NOISE_FLOOR = 0.1
"""After stretching the ink to [0, 1], grey levels below this are set to 0."""
MAX_POINTS = 20_000
"""Largest number of points in a drawing given as strokes."""
MAX_ARRAY = 4096 * 4096
"""Largest number of grey levels :func:`digit_from_array` takes."""

_URL_CHARS = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_URL_LEN = (4 * SIDE * SIDE + 2) // 3  # 1046 characters, unpadded
_INK = ("auto", "light", "dark")


class DigitError(ValueError):
    """A file, drawing, array or URL string that cannot become a digit; the message says why."""


def as_image(x, *, size: int = SIDE * SIDE, what: str = "the image") -> np.ndarray:
    """Check a flat image of ``size`` finite numbers.

    Parameters
    ----------
    x : array-like of shape (size,), or (28, 28) when ``size`` is 784
    size : int, default=784
    what : str
        How the message names it.

    Returns
    -------
    ndarray of shape (size,), float64 (a new array)

    Raises
    ------
    DigitError
        Not numbers, the wrong number of them, NaN or infinity.
    """
    try:
        a = np.array(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DigitError(f"{what} must be {size} numbers") from exc
    shapes = ((size,), (SIDE, SIDE)) if size == SIDE * SIDE else ((size,),)
    if a.shape not in shapes:
        raise DigitError(f"{what} must be {size} numbers, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DigitError(f"{what} contains NaN or infinite values")
    return a.reshape(-1)


def _grey_array(grey, vmax: float) -> np.ndarray:
    if not (isinstance(vmax, (int, float)) and np.isfinite(vmax) and vmax > 0):
        raise DigitError(f"vmax must be a positive number, got {vmax!r}")
    try:
        g = np.array(grey, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DigitError("the drawing must be a rectangular array of grey levels") from exc
    if g.shape == (SIDE * SIDE,):
        g = g.reshape(SIDE, SIDE)
    if g.ndim != 2:
        raise DigitError(f"the drawing must be a 2-D array of grey levels (or {SIDE * SIDE} of them), "
                         f"got shape {g.shape}")
    if g.size > MAX_ARRAY:
        raise DigitError(f"the drawing is too large ({g.shape[1]}x{g.shape[0]} values; at most "
                         f"{MAX_ARRAY:,} in all)")
    if min(g.shape) < MIN_SIDE:
        raise DigitError(f"the image is too small ({g.shape[1]}x{g.shape[0]} pixels): "
                         f"at least {MIN_SIDE}x{MIN_SIDE} needed")
    if not np.all(np.isfinite(g)):
        raise DigitError("the drawing contains NaN or infinite values")
    if g.min() < 0 or g.max() > vmax:
        raise DigitError(f"grey levels must lie in [0, {vmax:g}], got [{g.min():g}, {g.max():g}]")
    return g / vmax


def _border(g: np.ndarray) -> np.ndarray:
    k = max(1, min(g.shape) // 40)
    return np.concatenate([g[:k].ravel(), g[-k:].ravel(), g[k:-k, :k].ravel(), g[k:-k, -k:].ravel()])


def _resample(crop: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32))  # mode "F": no rounding
    out = im.resize((width, height), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(out, dtype=float), 0.0, 1.0)


def _mnist_like(g: np.ndarray, ink: str) -> np.ndarray:
    if ink not in _INK:
        raise DigitError(f"ink must be one of {', '.join(_INK)}, got {ink!r}")
    bg = float(np.median(_border(g)))
    if ink == "dark" or (ink == "auto" and bg - g.min() > g.max() - bg):
        g = 1.0 - g
        bg = 1.0 - bg
    contrast = float(g.max()) - bg
    if contrast < MIN_CONTRAST:
        raise DigitError("no digit found: the image is blank (or its ink hardly differs from "
                         "the background)")
    v = np.clip((g - bg) / contrast, 0.0, 1.0)
    v[v < NOISE_FLOOR] = 0.0
    rows = np.flatnonzero(v.any(axis=1))
    cols = np.flatnonzero(v.any(axis=0))
    crop = v[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    s = BOX / max(h, w)
    r = _resample(crop, max(1, min(BOX, round(w * s))), max(1, min(BOX, round(h * s))))
    mass = r.sum()
    if not mass > 0:
        raise DigitError("no digit found: the ink vanished when scaled to 20x20 pixels")
    out = np.zeros((SIDE, SIDE))
    offset = []
    for axis in (0, 1):
        profile = r.sum(axis=1 - axis)
        com = float(profile @ np.arange(len(profile))) / mass
        offset.append(int(np.clip(round(CENTRE - com), 0, SIDE - len(profile))))
    (oy, ox), (rh, rw) = offset, r.shape
    out[oy:oy + rh, ox:ox + rw] = r
    return out.reshape(-1)


def digit_from_array(grey, *, ink: str = "auto", vmax: float = 1.0) -> np.ndarray:
    """Preprocess a decoded grey image (e.g. a drawing pad's canvas) as MNIST's digits were.

    Parameters
    ----------
    grey : array-like of shape (height, width) or (784,)
        Grey levels in ``[0, vmax]``, at least 8x8 (a drawing pad's 28x28 grid, or a
        larger canvas); a flat list of 784 is read as 28x28, row by row.
    ink : {'auto', 'light', 'dark'}, default='auto'
        Whether the ink is brighter than the background ('light', like MNIST), darker
        ('dark', pencil on paper; inverted), or to decide from the border ('auto').
    vmax : float, default=1.0
        The grey level of white (255 for 8-bit values).

    Returns
    -------
    ndarray of shape (784,)
        Grey levels in [0, 1], the digit bright on black, its ink box 20 pixels on its
        long side, its centre of mass on pixel (14, 14).

    Raises
    ------
    DigitError
        Wrong shape, too small, NaN or infinity, values outside ``[0, vmax]``, no ink.
    """
    return _mnist_like(_grey_array(grey, vmax), ink)


def digit_from_strokes(strokes: Sequence[Sequence[Sequence[float]]], *, size: int = 280,
                       width: float | None = None) -> np.ndarray:
    """Draw strokes in white on a black square canvas, then :func:`digit_from_array`.

    Parameters
    ----------
    strokes : sequence of sequences of (x, y)
        Each stroke is the pen's path in canvas pixels (x to the right, y down); a stroke
        of one point is a dot. At most :data:`MAX_POINTS` points in all.
    size : int, default=280
        Width and height of the canvas.
    width : float, optional
        Pen width in canvas pixels; default ``size / 14`` (20 for 280).

    Returns
    -------
    ndarray of shape (784,)

    Raises
    ------
    DigitError
        Not a list of point lists, too many points, non-finite coordinates, no ink.
    """
    from PIL import Image, ImageDraw

    if not isinstance(size, int) or not MIN_SIDE <= size <= 4096:
        raise DigitError(f"the canvas size must be a whole number in [{MIN_SIDE}, 4096]")
    pen = size / 14 if width is None else width
    if not isinstance(pen, (int, float)) or not np.isfinite(pen) or not 0 < pen <= size:
        raise DigitError("the pen width must be a positive number no larger than the canvas")
    if isinstance(strokes, (str, bytes)) or not hasattr(strokes, "__len__"):
        raise DigitError("strokes must be a list of lists of (x, y) points")
    paths, total = [], 0
    for stroke in strokes:
        try:
            p = np.array(stroke, dtype=float).reshape(-1, 2) if len(stroke) else np.zeros((0, 2))
        except (TypeError, ValueError) as exc:
            raise DigitError("each stroke must be a list of (x, y) points") from exc
        total += len(p)
        if total > MAX_POINTS:
            raise DigitError(f"the drawing has more than {MAX_POINTS} points")
        if not np.all(np.isfinite(p)):
            raise DigitError("a stroke has NaN or infinite coordinates")
        paths.append(np.clip(p, -pen, size + pen))
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for p in paths:
        pts = [tuple(q) for q in p.tolist()]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, round(pen)))
        for x, y in pts:  # round caps and joints
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return digit_from_array(np.asarray(canvas), ink="light", vmax=255)


def encode_digit(image) -> str:
    """The 784 grey levels as URL-safe base64 of one byte each (1,046 characters, no padding).

    Each pixel is stored as ``round(255 * x)``: :func:`decode_digit` gives back the
    grey levels to within 1/510, and ``encode_digit(decode_digit(s)) == s``.

    Parameters
    ----------
    image : array-like of shape (784,) or (28, 28)
        Grey levels in [0, 1].

    Returns
    -------
    str

    Raises
    ------
    DigitError
        Not 784 finite numbers in [0, 1].
    """
    x = as_image(image)
    if x.min() < -1e-9 or x.max() > 1 + 1e-9:
        raise DigitError(f"only grey levels in [0, 1] can be encoded, got [{x.min():g}, {x.max():g}]")
    q = np.rint(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)
    return base64.urlsafe_b64encode(q.tobytes()).rstrip(b"=").decode("ascii")


def decode_digit(text: str) -> np.ndarray:
    """Inverse of :func:`encode_digit`.

    Parameters
    ----------
    text : str
        URL-safe base64 of 784 bytes, with or without ``=`` padding.

    Returns
    -------
    ndarray of shape (784,)
        Grey levels ``k / 255``.

    Raises
    ------
    DigitError
        Not a string, too long, characters outside the URL-safe alphabet, or not 784 bytes.
    """
    if not isinstance(text, str):
        raise DigitError("the digit code must be a string")
    text = text.strip()
    if len(text) > _URL_LEN + 2:
        raise DigitError(f"the digit code is too long ({len(text)} characters, expected {_URL_LEN})")
    if not _URL_CHARS.fullmatch(text):
        raise DigitError("the digit code contains characters other than A-Z, a-z, 0-9, - and _")
    body = text.rstrip("=")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DigitError("the digit code is not valid base64") from exc
    if len(raw) != SIDE * SIDE:
        raise DigitError(f"the digit code holds {len(raw)} pixels, expected {SIDE * SIDE}")
    return np.frombuffer(raw, dtype=np.uint8).astype(float) / 255.0
