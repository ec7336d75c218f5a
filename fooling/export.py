"""Share what was found: a PNG of an image and a JSON record anyone can re-propagate.

* :func:`image_png` — 8-bit grey PNG of a 28x28 image, or of its nearest-neighbour
  enlargement (``scale=10``: 280x280). Grey level ``round(255 * clip(x, 0, 1))``: pixels
  outside [0, 1] (an image walked far on an identity net) are clipped, so the PNG of an
  invalid image is not the image; the PNG's text chunks say so (``valid``, ``clipped``).
* :func:`export_record` — a JSON-ready dict: the network's name and artifact key
  (:attr:`fooling.workspace.MnistModel.key`), the pinned hidden point, the image's exact
  pixels, and what propagating it gives (hidden point, residual, probabilities, class).
  Python's ``json`` writes floats exactly (shortest round-trip repr), so the image read
  back is bit for bit the one exported.
* :func:`verify_record` — re-propagates a record through a model and compares.
* :func:`inversion_report` and :func:`format_inversion` — what ``python -m fooling invert``
  prints: a hidden point inverted into an image, re-propagated.

Pillow is imported only inside :func:`image_png`.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .digits import SIDE, DigitError, as_image
from .inversion import InversionError
from .network import forward

__all__ = ["FORMAT", "MAX_SCALE", "RecordCheck", "export_record", "format_inversion", "grey_levels",
           "image_png", "inversion_report", "verify_record"]

FORMAT = "fooling-export/1"
"""Value of a record's ``format`` field."""
MAX_SCALE = 40
"""Largest enlargement :func:`image_png` makes (1,120 x 1,120 pixels)."""

_FIELDS = ("network", "key", "hidden", "image", "predicted", "probabilities", "residual", "valid")


def grey_levels(image) -> tuple[np.ndarray, int]:
    """The 8-bit grey levels a PNG export holds, and how many pixels were clipped.

    Parameters
    ----------
    image : array-like of shape (784,) or (28, 28)

    Returns
    -------
    levels : ndarray of shape (28, 28), dtype uint8
        ``round(255 * clip(x, 0, 1))`` (ties to even).
    clipped : int
        Pixels outside [0, 1].

    Raises
    ------
    fooling.digits.DigitError
        Not 784 finite numbers.
    """
    x = as_image(image)
    clipped = int(np.count_nonzero((x < 0) | (x > 1)))
    return np.rint(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8).reshape(SIDE, SIDE), clipped


def image_png(image, *, scale: int = 1) -> bytes:
    """An 8-bit grey PNG of an image, enlarged ``scale`` times by repeating pixels.

    Parameters
    ----------
    image : array-like of shape (784,) or (28, 28)
    scale : int, default=1
        1 gives 28x28; 10 gives 280x280 (each pixel a 10x10 block). At most
        :data:`MAX_SCALE`.

    Returns
    -------
    bytes
        The PNG file. Its text chunks: ``Software`` (fooling), ``valid`` (``true`` when
        every pixel is in [0, 1]), ``clipped`` (how many were not) and ``Description``.

    Raises
    ------
    fooling.digits.DigitError
        Not 784 finite numbers, or ``scale`` not a whole number in [1, MAX_SCALE].
    """
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or not 1 <= scale <= MAX_SCALE:
        raise DigitError(f"scale must be a whole number in [1, {MAX_SCALE}], got {scale!r}")
    levels, clipped = grey_levels(image)
    big = np.repeat(np.repeat(levels, int(scale), axis=0), int(scale), axis=1)
    info = PngInfo()
    info.add_text("Software", "fooling")
    info.add_text("valid", "true" if clipped == 0 else "false")
    info.add_text("clipped", str(clipped))
    info.add_text("Description", "28x28 grey levels round(255 * clip(x, 0, 1))"
                  + (f", enlarged {scale}x by repeating pixels" if scale > 1 else "")
                  + ("" if clipped == 0 else f"; {clipped} pixels outside [0, 1] were clipped, "
                     "so this picture is not the exact image"))
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, format="PNG", pnginfo=info, optimize=False)
    return buf.getvalue()


def _measure(model, x: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    hidden = forward(model.net, x, model.hidden_layer)
    proba = forward(model.net, hidden, start=model.hidden_layer)
    k = int(np.argmax(proba))
    return {"landed": hidden, "residual": float(np.linalg.norm(hidden - target)), "proba": proba,
            "predicted": int(model.net.classes[k]), "confidence": float(proba[k]),
            "valid": bool(x.min() >= 0.0 and x.max() <= 1.0)}


def _point(target, width: int) -> np.ndarray:
    try:
        h = np.asarray(target, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DigitError(f"the hidden point must be {width} numbers") from exc
    if h.shape != (width,) or not np.all(np.isfinite(h)):
        raise DigitError(f"the hidden point must be {width} finite numbers")
    return h


def export_record(model, image, target=None) -> dict[str, Any]:
    """A JSON-ready record of an image pinned to a hidden point, measured by propagation.

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    image : array-like of shape (784,)
        E.g. a :class:`fooling.walk.Move`'s ``image``.
    target : array-like of shape (2,), optional
        The pinned hidden point (a Move's ``target``); default where the image lands.

    Returns
    -------
    dict
        ``format``, ``network``, ``key``, ``classes``, ``hidden`` (the pinned point),
        ``image`` (784 floats, exact), ``landed`` (where the image lands), ``residual``
        (``||landed - hidden||``), ``predicted``, ``confidence``, ``probabilities``
        (in the order of ``classes``), ``valid`` (every pixel in [0, 1]); only str, int,
        float, bool and lists, every float finite.

    Raises
    ------
    fooling.digits.DigitError
        ``image`` or ``target`` malformed.
    """
    x = as_image(image, size=model.net.sizes[0])
    width = model.net.sizes[model.hidden_layer]
    landed = forward(model.net, x, model.hidden_layer)
    h = landed if target is None else _point(target, width)
    m = _measure(model, x, h)
    return {"format": FORMAT, "network": str(model.name), "key": str(model.key),
            "classes": [int(c) for c in model.net.classes],
            "hidden": [float(v) for v in h], "image": [float(v) for v in x],
            "landed": [float(v) for v in m["landed"]], "residual": m["residual"],
            "predicted": m["predicted"], "confidence": m["confidence"],
            "probabilities": [float(p) for p in m["proba"]], "valid": m["valid"]}


@dataclass(frozen=True)
class RecordCheck:
    """What re-propagating a record's image through a model gave.

    Attributes
    ----------
    ok : bool
        Same network and key, and the recorded residual, class, probabilities and
        validity all reproduced (within ``tol``).
    lands : bool
        The image lands on the record's ``hidden`` within ``tol``.
    landed : ndarray of shape (2,)
    residual : float
        ``||landed - hidden||``, recomputed.
    predicted : int
    probabilities : ndarray of shape (n_classes,)
    tol : float
    problems : tuple of str
        What did not match, in words (empty when ``ok``).
    """

    ok: bool
    lands: bool
    landed: np.ndarray
    residual: float
    predicted: int
    probabilities: np.ndarray
    tol: float
    problems: tuple[str, ...]


def verify_record(record: Mapping[str, Any], model, *, tol: float | None = None) -> RecordCheck:
    """Re-propagate an :func:`export_record` record through ``model`` and compare.

    Parameters
    ----------
    record : mapping
        As exported (or read back with ``json.loads``).
    model : fooling.workspace.MnistModel
    tol : float, optional
        Allowed distance between recomputed and recorded numbers; default 1e-6 for an
        identity (affine) net and 1e-9 for others.

    Returns
    -------
    RecordCheck

    Raises
    ------
    fooling.digits.DigitError
        The record is not a mapping, lacks a field, or holds malformed values.
    """
    if not isinstance(record, Mapping):
        raise DigitError("the record must be a JSON object")
    missing = [f for f in _FIELDS if f not in record]
    if missing:
        raise DigitError(f"the record lacks {', '.join(missing)}")
    x = as_image(record["image"], size=model.net.sizes[0], what="the record's image")
    h = _point(record["hidden"], model.net.sizes[model.hidden_layer])
    affine = all(lay.activation == "identity" for lay in model.net.layers[: model.hidden_layer])
    tol = (1e-6 if affine else 1e-9) if tol is None else float(tol)
    m = _measure(model, x, h)
    problems = []
    if record["network"] != model.name or record["key"] != model.key:
        problems.append(f"made with {record['network']!r} ({record['key']!r}), checked with "
                        f"{model.name!r} ({model.key!r})")
    try:
        res = float(record["residual"])
        proba = np.asarray(record["probabilities"], dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DigitError("the record's residual and probabilities must be numbers") from exc
    if not (math.isfinite(res) and np.all(np.isfinite(proba))):
        raise DigitError("the record's residual and probabilities must be finite numbers")
    if abs(res - m["residual"]) > tol:
        problems.append(f"residual {res!r} recorded, {m['residual']!r} recomputed")
    if record["predicted"] != m["predicted"]:
        problems.append(f"class {record['predicted']!r} recorded, {m['predicted']} recomputed")
    if proba.shape != m["proba"].shape or not np.all(np.abs(proba - m["proba"]) <= tol):
        problems.append("the probabilities differ")
    if record["valid"] is not m["valid"]:
        problems.append(f"valid={record['valid']!r} recorded, {m['valid']} recomputed")
    return RecordCheck(ok=not problems, lands=m["residual"] <= tol, landed=m["landed"],
                       residual=m["residual"], predicted=m["predicted"], probabilities=m["proba"],
                       tol=tol, problems=tuple(problems))


def inversion_report(model, point, *, valid: bool = False) -> dict[str, Any]:
    """Invert a hidden point with the model's :class:`~fooling.inversion.Inverter`, re-propagated.

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    point : array-like of shape (2,)
    valid : bool, default=False
        Ask for pixels in [0, 1].

    Returns
    -------
    dict
        ``network``, ``key``, ``point``, ``image`` (784 floats), ``hidden`` (where the
        image lands, by forward propagation), ``residual``, ``predicted``, ``confidence``,
        ``probabilities``, ``classes``, ``valid`` (as asked) and ``in_range`` (every pixel
        in [0, 1]); JSON-ready.

    Raises
    ------
    fooling.inversion.InversionError
        The point is malformed, outside the codomain, or no image (no valid image, with
        ``valid``) lands on it; the message names the nearest point reached.
    """
    r = model.inverter.invert(point, valid=valid)
    h = np.asarray(r.target, dtype=float)
    m = _measure(model, r.image, h)
    if not m["residual"] <= 1e-6 * max(1.0, float(np.abs(h).max())):
        near = ", ".join(f"{v:.6g}" for v in m["landed"])
        what = "no image with pixels in [0, 1]" if valid else "no image"
        raise InversionError(f"{what} reaches ({', '.join(f'{v:g}' for v in h)}) on the {model.name} "
                             f"net: the nearest it gets is ({near}), {m['residual']:.4g} away")
    return {"network": str(model.name), "key": str(model.key), "point": [float(v) for v in h],
            "image": [float(v) for v in r.image], "hidden": [float(v) for v in m["landed"]],
            "residual": m["residual"], "predicted": m["predicted"], "confidence": m["confidence"],
            "probabilities": [float(p) for p in m["proba"]],
            "classes": [int(c) for c in model.net.classes], "valid": bool(valid),
            "in_range": m["valid"]}


_SHADES = " .:-=+*#%@"


def format_inversion(report: Mapping[str, Any]) -> str:
    """A readable table of an :func:`inversion_report`, the image drawn in characters.

    Pixels are shown clipped to [0, 1], darkest (blank) to brightest (``@``).
    """
    x = np.asarray(report["image"], dtype=float)
    rows = [("network", report["network"]),
            ("point", "(" + ", ".join(f"{v:g}" for v in report["point"]) + ")"),
            ("hidden", "(" + ", ".join(f"{v:.6g}" for v in report["hidden"]) + ")  re-propagated"),
            ("residual", f"{report['residual']:.3g}"),
            ("predicted", f"{report['predicted']}  (probability {report['confidence']:.4f})"),
            ("probabilities", "  ".join(f"{c}: {p:.4f}" for c, p in
                                        zip(report["classes"], report["probabilities"]))),
            ("pixels", f"min {x.min():.4g}, max {x.max():.4g}; "
                       f"{'all' if report['in_range'] else 'not all'} in [0, 1]"
                       + ("  (asked for valid pixels)" if report["valid"] else ""))]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    levels = np.clip(x, 0.0, 1.0).reshape(SIDE, SIDE)
    idx = np.minimum((levels * len(_SHADES)).astype(int), len(_SHADES) - 1)
    lines += [""] + ["".join(_SHADES[i] * 2 for i in row) for row in idx]
    return "\n".join(lines)
