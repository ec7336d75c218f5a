"""Walk a digit away: the smallest change to an image that moves it to a chosen hidden point.

For an image ``x`` and a target ``h'`` on a network's 2-unit last hidden layer,
:func:`move_to` finds the image nearest to ``x`` (Euclidean) that lands on ``h'``:

* identity (affine) network, any pixels: ``x + (h' - h(x)) @ pinv(A)`` with
  ``h(x) = x @ A + c`` (:class:`fooling.inversion.Inverter`'s ``A_``, ``c_``, ``pinv_``),
  the exact minimiser;
* identity network, pixels kept in [0, 1]: the nearest point of the pixel box on the
  affine slice ``x' @ A + c = h'``, a convex problem solved exactly by
  :func:`fooling.inversion.solve_box` with ``ref=x`` (what ``Inverter.invert(h', valid=True,
  ref=x)`` does);
* tanh (any non-affine) network (:mod:`fooling.levelsets`): a feasible start (Newton steps
  from ``x`` itself with minimum-norm corrections, else ``Inverter.invert``'s answer), then
  steps along the set of images that land on ``h'``: project ``x`` onto its tangent plane
  (within the pixel box) and pull back onto the set. A fixed point satisfies the problem's first-order
  conditions; the problem is not convex, so it is a local minimum. (``Inverter.invert``
  with ``ref=x`` alone is not the nearest image on a tanh net: it picks the smallest
  intermediate activations layer by layer, and only the first layer is nearest to ``x``.)
  On a ReLU net the same descent gives a local answer that may stop near a kink of the
  level set (where a unit switches on or off), never farther than the inverter's.

A target no image can reach behaves as in :mod:`fooling.inversion`: outside tanh's open
square, :class:`~fooling.inversion.InversionError`; beyond what pixels in [0, 1] (or a tanh
net's bounded inner layers) allow, the nearest image to ``x`` among those landing on the
nearest reachable point, with ``reached=False`` and the residual left. For the identity
net that point is exact: the projection onto the zonotope of valid images
(:mod:`fooling.reachable`), whose edge fixes every pixel but those parallel to it; for tanh
it is where the inverter's Gauss-Newton gets closest.

:func:`trace_ray` is the ray from the training encodings' centroid through the digit's own
hidden point; :func:`walk` moves the digit ``t`` data radii along it. Every
:class:`Move` is measured by propagating its image forward, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .digits import as_image
from .inversion import InversionError
from .levelsets import nearest_affine, nearest_nonaffine
from .network import CODOMAINS, forward
from .probes import data_radius

__all__ = ["MAX_T", "REACHED", "Move", "Ray", "move_to", "trace_ray", "walk"]

MAX_T = 10.0
"""Largest walk, in data radii."""
REACHED = 1e-6
"""A move has reached its target when the residual is at most this (times the target's
largest coordinate when that exceeds 1): the inverter's default tolerance."""


@dataclass(frozen=True)
class Ray:
    """The ray from the training encodings' centroid through a digit's hidden point.

    Attributes
    ----------
    centroid : ndarray of shape (2,)
        Of the network's training encodings.
    radius : float
        Data radius: the largest distance of a training encoding from ``centroid``.
    start : ndarray of shape (2,)
        The digit's own hidden point (``t = 0``).
    direction : ndarray of shape (2,)
        Unit vector from ``centroid`` through ``start`` (the first axis if they coincide).
    t_max : float
        Where the ray leaves the hidden layer's codomain, in data radii: ``inf`` for an
        identity net; for tanh the boundary of (-1, 1)², itself unreachable. (A tanh net's
        digits sit in the square's saturated corners: on the bundled net half of the
        held-out digits have ``t_max`` below 3e-5.)
    """

    centroid: np.ndarray
    radius: float
    start: np.ndarray
    direction: np.ndarray
    t_max: float

    def point(self, t: float) -> np.ndarray:
        """The hidden point ``t`` data radii beyond ``start``, ndarray of shape (2,)."""
        return self.start + float(t) * self.radius * self.direction


@dataclass(frozen=True)
class Move:
    """A digit moved to a hidden point, measured by propagating the moved image.

    Attributes
    ----------
    image : ndarray of shape (784,)
        The moved image.
    original : ndarray of shape (784,)
    target : ndarray of shape (2,)
        The hidden point asked for.
    hidden : ndarray of shape (2,)
        Where ``image`` lands (forward propagation).
    residual : float
        ``||hidden - target||``.
    reached : bool
        ``residual`` at most :data:`REACHED` (relative to the target's size).
    proba : ndarray of shape (n_classes,)
        The network's class probabilities for ``image``.
    predicted : int
    confidence : float
    head_proba : ndarray of shape (n_classes,) or None
        The RBF head's probabilities at ``hidden``, when a head was given.
    head_predicted : int or None
    head_confidence : float or None
    change_l2, change_max : float
        ``||image - original||`` and its largest absolute pixel change.
    valid : bool
        Every pixel of ``image`` in [0, 1].
    t : float or None
        Data radii walked along the ray (:func:`walk`).
    method : str
    """

    image: np.ndarray
    original: np.ndarray
    target: np.ndarray
    hidden: np.ndarray
    residual: float
    reached: bool
    proba: np.ndarray
    predicted: int
    confidence: float
    head_proba: np.ndarray | None
    head_predicted: int | None
    head_confidence: float | None
    change_l2: float
    change_max: float
    valid: bool
    t: float | None
    method: str


def _hidden(model, image: np.ndarray) -> np.ndarray:
    return forward(model.net, image, model.hidden_layer)


def _codomain_check(model, target: np.ndarray) -> None:
    act = model.net.layers[model.hidden_layer - 1].activation
    lo, hi = CODOMAINS[act]
    outside = np.any(target < lo) or np.any(target > hi)
    if act in ("tanh", "logistic"):
        outside = outside or np.any(target == lo) or np.any(target == hi)
    if outside and act == "relu":
        raise InversionError("the point has a negative coordinate, and ReLU units output only "
                             "values >= 0: no input can reach it")
    if outside:
        raise InversionError(f"the point lies outside the {act} codomain ({lo:g}, {hi:g}): no input can "
                             "reach it")


def trace_ray(model, image) -> Ray:
    """The ray a digit walks along (see :class:`Ray`).

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    image : array-like of shape (784,)

    Returns
    -------
    Ray

    Raises
    ------
    fooling.digits.DigitError
        ``image`` is not 784 finite numbers.
    """
    x = as_image(image, size=model.net.sizes[0])
    centroid, radius = data_radius(model.train_hidden)
    start = _hidden(model, x)
    d = start - centroid
    n = float(np.linalg.norm(d))
    u = d / n if n > 1e-12 * max(1.0, radius) else np.eye(len(start))[0]
    lo, hi = CODOMAINS[model.net.layers[model.hidden_layer - 1].activation]
    with np.errstate(divide="ignore", invalid="ignore"):
        exits = np.where(u > 0, (hi - start) / u, np.where(u < 0, (lo - start) / u, np.inf))
    t_max = float(np.nanmin(exits)) / radius
    return Ray(centroid, radius, start, u, max(0.0, t_max) if np.isfinite(t_max) else np.inf)


def move_to(model, image, target, *, valid: bool = False, head=None, t: float | None = None) -> Move:
    """The image nearest to ``image`` that lands on the hidden point ``target``.

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    image : array-like of shape (784,)
        The digit (e.g. from :mod:`fooling.uploads`), finite.
    target : array-like of shape (2,)
        A point on the last hidden layer.
    valid : bool, default=False
        Keep every pixel in [0, 1]; otherwise pixels are unbounded.
    head : fooling.heads.RBFHead, optional
        Also report this head's answer at the moved image's hidden point.
    t : float, optional
        Recorded in the result (set by :func:`walk`).

    Returns
    -------
    Move

    Raises
    ------
    fooling.digits.DigitError
        ``image`` is not 784 finite numbers.
    fooling.inversion.InversionError
        ``target`` is not two finite numbers or lies outside the codomain.
    """
    x = as_image(image, size=model.net.sizes[0])
    try:
        target = np.asarray(target, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InversionError("the hidden point must be 2 numbers") from exc
    width = model.net.sizes[model.hidden_layer]
    if target.shape != (width,) or not np.all(np.isfinite(target)):
        raise InversionError(f"the hidden point must be {width} finite numbers")
    lo, hi = (0.0, 1.0) if valid else (-np.inf, np.inf)
    if np.array_equal(_hidden(model, x), target) and (not valid or lo <= x.min() <= x.max() <= hi):
        y, method = x.copy(), "unchanged"
    elif all(lay.activation == "identity" for lay in model.net.layers[: model.hidden_layer]):
        y, method = nearest_affine(model.inverter, x, target, valid=valid)
    else:
        _codomain_check(model, target)
        y, method = nearest_nonaffine(model, x, target, valid=valid)
    if not np.all(np.isfinite(y)):
        raise InversionError("the point is too large to reach in floating point")
    hidden = _hidden(model, y)
    proba = forward(model.net, hidden, start=model.hidden_layer)
    residual = float(np.linalg.norm(hidden - target))
    k = int(np.argmax(proba))
    hp = hk = hc = None
    if head is not None:
        hp = np.asarray(head.predict_proba(hidden[None]), dtype=float)[0]
        hk, hc = int(np.asarray(head.classes_)[int(np.argmax(hp))]), float(hp.max())
    delta = y - x
    return Move(image=y, original=x, target=target, hidden=hidden, residual=residual,
                reached=residual <= REACHED * max(1.0, float(np.abs(target).max())),
                proba=proba, predicted=int(model.net.classes[k]), confidence=float(proba[k]),
                head_proba=hp, head_predicted=hk, head_confidence=hc,
                change_l2=float(np.linalg.norm(delta)), change_max=float(np.abs(delta).max()),
                valid=bool(y.min() >= 0.0 and y.max() <= 1.0), t=t, method=method)


def walk(model, image, t: float, *, valid: bool = False, head=None, ray: Ray | None = None) -> Move:
    """Move a digit ``t`` data radii along its :func:`trace_ray` ray (``t = 0``: its own point).

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    image : array-like of shape (784,)
    t : float
        In [0, :data:`MAX_T`].
    valid : bool, default=False
    head : fooling.heads.RBFHead, optional
    ray : Ray, optional
        ``trace_ray(model, image)``, when already computed (a slider's many steps).

    Returns
    -------
    Move

    Raises
    ------
    fooling.inversion.InversionError
        ``t`` not a number in [0, MAX_T], or (tanh) at or beyond ``ray.t_max``, where the
        ray leaves the codomain.
    """
    try:
        t = float(t)
    except (TypeError, ValueError) as exc:
        raise InversionError("the distance t must be a number") from exc
    if not 0.0 <= t <= MAX_T:
        raise InversionError(f"the distance t must lie in [0, {MAX_T:g}] data radii, got {t!r}")
    ray = trace_ray(model, image) if ray is None else ray
    act = model.net.layers[model.hidden_layer - 1].activation
    closed = act == "relu"  # ReLU outputs 0 itself; tanh never reaches -1 or 1
    if t > ray.t_max or (t == ray.t_max and not closed):
        where = {"tanh": "the open square (-1, 1)²", "relu": "the quadrant of points >= 0"}.get(act, act)
        raise InversionError(f"{t:g} data radii leaves {where}, all this network's hidden layer can "
                             f"output: along this ray only t {'<=' if closed else '<'} "
                             f"{ray.t_max:.3g} can be reached")
    point = ray.point(t)
    if closed:  # at t_max a coordinate is 0 up to rounding
        point = np.maximum(point, CODOMAINS[act][0])
    return move_to(model, image, point, valid=valid, head=head, t=t)
