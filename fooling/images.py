"""Images handed in by a user (``python -m fooling score FILE.npz``), checked and scaled.

:func:`read_images` reads the array ``images`` of an ``.npz`` file (never unpickled) and
:func:`as_images` checks and scales any array:

* shape ``(n, 784)`` or ``(n, 28, 28)``, at least one image;
* an integer array holds grey levels 0..255 and is divided by 255 (to the [0, 1] pixels
  the networks were trained on);
* a float array is taken as it is: any finite values, also outside [0, 1] (the image
  density check then calls it out of distribution); NaN or an infinity is an error;
* booleans, complex numbers, strings and objects are errors.

Every problem is a :class:`fooling.datasets.DataError` whose message names the file and
says what is wrong.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .datasets import N_PIXELS, PIXEL_MAX, DataError

__all__ = ["IMAGES_KEY", "MAX_IMAGES", "as_images", "read_images"]

IMAGES_KEY = "images"
"""The array of the ``.npz`` file that holds the images."""

MAX_IMAGES = 100_000
"""At most this many images are read at once."""


def as_images(a, where: str = "the array") -> np.ndarray:
    """Check an array of images and scale it to the training pixels.

    Parameters
    ----------
    a : array-like of shape (n, 784) or (n, 28, 28)
    where : str
        Names the array in error messages.

    Returns
    -------
    ndarray of shape (n, 784), float64

    Raises
    ------
    DataError
    """
    a = np.asarray(a)
    side = int(round(N_PIXELS ** 0.5))
    if a.dtype.kind not in "iuf":
        raise DataError(f"{where} must hold numbers (integer grey levels 0-255 or floats), not dtype {a.dtype}")
    if a.ndim == 3 and a.shape[1:] == (side, side):
        a = a.reshape(len(a), N_PIXELS)
    if a.ndim != 2 or a.shape[1] != N_PIXELS:
        raise DataError(f"{where} must have shape (n, {N_PIXELS}) or (n, {side}, {side}), got {a.shape}")
    if not len(a):
        raise DataError(f"{where} holds no image (shape {a.shape})")
    if len(a) > MAX_IMAGES:
        raise DataError(f"{where} holds {len(a):,} images; at most {MAX_IMAGES:,} are read at once")
    if a.dtype.kind in "iu":
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > PIXEL_MAX:
            raise DataError(f"{where} is an integer array, read as grey levels 0-255, but ranges from {lo} to {hi}")
        return a.astype(np.float64) / PIXEL_MAX
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise DataError(f"{where} holds {int(bad.sum())} value(s) that are NaN or infinite "
                        f"(the first in image {row}, pixel {col})")
    return a


def read_images(path: str | os.PathLike) -> np.ndarray:
    """The checked, scaled ``images`` array of an ``.npz`` file (see :func:`as_images`).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    ndarray of shape (n, 784), float64

    Raises
    ------
    DataError
        Missing or unreadable file, not an ``.npz`` archive, no ``images`` array, a
        pickled (object) array, or images :func:`as_images` refuses.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path} is not a file")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        why = "numpy could read it only by unpickling, which is never done" if "pickle" in str(exc) else exc
        raise DataError(f"{path} is not a readable .npz archive ({why})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path} is a single .npy array, not an .npz archive with an '{IMAGES_KEY}' array")
    with archive:
        if IMAGES_KEY not in archive.files:
            held = ", ".join(repr(f) for f in archive.files) or "nothing"
            raise DataError(f"{path} has no '{IMAGES_KEY}' array (it holds {held})")
        try:
            images = archive[IMAGES_KEY]
        except ValueError as exc:  # object arrays need pickle, which is never allowed
            raise DataError(f"'{IMAGES_KEY}' in {path} cannot be read without unpickling ({exc}); "
                            "save plain numeric arrays") from None
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(f"'{IMAGES_KEY}' in {path} is unreadable ({exc})") from None
    return as_images(images, f"'{IMAGES_KEY}' in {path}")
