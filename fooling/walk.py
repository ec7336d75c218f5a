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
* tanh (any non-affine) network: a feasible start (Newton steps from ``x`` itself with
  minimum-norm corrections, else ``Inverter.invert``'s answer), then steps along the set of
  images that land on ``h'``: project ``x`` onto its tangent plane (within the pixel box)
  and pull back onto the set. A fixed point satisfies the problem's first-order
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
from .inversion import InversionError, solve_box
from .network import ACTIVATIONS, CODOMAINS, DERIVATIVES, forward
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


_INVERSES = {"tanh": np.arctanh, "logistic": lambda h: np.log(h) - np.log1p(-h)}


class _Level:
    """The map whose level set ``value(x) = goal`` is searched.

    The last hidden layer's pre-activation when its activation can be inverted (tanh): the
    same level set as the hidden point's, and far more nearly linear where tanh saturates
    (where a tanh net's digits sit); otherwise the hidden activations themselves.
    """

    def __init__(self, model):
        self.layers = model.net.layers[: model.hidden_layer]
        self.inverse = _INVERSES.get(self.layers[-1].activation)

    def goal(self, target: np.ndarray) -> np.ndarray:
        return target if self.inverse is None else self.inverse(target)

    def _run(self, x):
        acts, z = [x], x
        for lay in self.layers:
            z = acts[-1] @ lay.W + lay.b
            acts.append(ACTIVATIONS[lay.activation](z))
        return acts, z

    def value(self, x: np.ndarray) -> np.ndarray:
        acts, z = self._run(x)
        return acts[-1] if self.inverse is None else z

    def jac(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``value(x)`` and its Jacobian, shapes (2,) and (2, n_inputs)."""
        acts, z = self._run(x)
        last = self.layers[-1]
        if self.inverse is None:
            J = DERIVATIVES[last.activation](acts[-1])[:, None] * last.W.T
        else:
            J = last.W.T
        for lay, a in zip(reversed(self.layers[:-1]), reversed(acts[1:-1])):
            J = (J * DERIVATIVES[lay.activation](a)) @ lay.W.T
        return (acts[-1] if self.inverse is None else z), J


def _min_norm(J: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Smallest ``d`` with ``J @ d = e`` (rows scaled first: a saturated unit has a tiny row)."""
    n = np.linalg.norm(J, axis=1)
    n[n == 0] = 1.0
    Js, es = J / n[:, None], e / n
    try:
        w = np.linalg.solve(Js @ Js.T, es)
    except np.linalg.LinAlgError:
        w = np.linalg.lstsq(Js @ Js.T, es, rcond=None)[0]
    return w @ Js


def _box_step(J, e, y, lo, hi):
    """Smallest step ``d`` with ``J @ d = e`` keeping ``y + d`` in the box (active set)."""
    g = e @ J
    free = ((y > lo) | (g > 0)) & ((y < hi) | (g < 0))
    d = np.zeros_like(y)
    for _ in range(10):
        if not free.any():
            break
        held = ~free
        d[free] = _min_norm(J[:, free], e - J[:, held] @ d[held])
        over = free & ((y + d < lo) | (y + d > hi))
        if not over.any():
            break
        d[over] = np.clip(y[over] + d[over], lo, hi) - y[over]
        free &= ~over
    return d


def _restore(level, y, goal, lo, hi, tol, max_iter: int = 40):
    """Newton steps of smallest norm, within the box, onto ``level.value(y) = goal``."""
    y = np.clip(y, lo, hi)
    v, J = level.jac(y)
    err = float(np.linalg.norm(v - goal))
    for _ in range(max_iter):
        if err <= tol:
            return y, True
        d = _box_step(J, goal - v, y, lo, hi)
        a = 1.0
        while a >= 1e-4:
            y_new = np.clip(y + a * d, lo, hi)
            err_new = float(np.linalg.norm(level.value(y_new) - goal))
            if err_new < err * (1 - 1e-4 * a):
                break
            a *= 0.5
        else:
            return y, False
        y, err = y_new, err_new
        v, J = level.jac(y)
    return y, err <= tol


def _project(J, t, lo, hi, ref, max_iter: int = 50):
    """Nearest point to ``ref`` of the box on the plane ``J @ y = t``, and whether it converged.

    The dual in the two multipliers ``lam`` (``y = clip(ref + lam @ J)``), by semismooth
    Newton steps as in :func:`fooling.inversion.solve_box`, without its least-squares
    fallback: a plane through a point of the box always meets it.
    """
    lam = np.zeros(len(t))
    y = np.clip(ref, lo, hi)
    F = J @ y - t
    tol = 1e-12 * max(1.0, float(np.abs(t).max()))
    ridge = 1e-13 * max(1.0, float(np.einsum("ij,ij->", J, J)))
    for _ in range(max_iter):
        if np.linalg.norm(F) <= tol:
            return y, True
        z = ref + lam @ J
        Jf = J[:, (z >= lo) & (z <= hi)]
        step = np.linalg.solve(Jf @ Jf.T + ridge * np.eye(len(t)), -F)
        a = 1.0
        while a >= 1e-3:
            lam_new = lam + a * step
            y_new = np.clip(ref + lam_new @ J, lo, hi)
            F_new = J @ y_new - t
            if np.linalg.norm(F_new) < np.linalg.norm(F):
                break
            a *= 0.5
        else:
            return y, False
        lam, y, F = lam_new, y_new, F_new
    return y, bool(np.linalg.norm(F) <= tol)


def _descend(level, x0, ref, goal, lo, hi, tol, max_iter: int = 60):
    """From a feasible ``x0``, move along the level set towards ``ref`` (see module doc)."""
    x = x0
    dist = float(np.linalg.norm(x - ref))
    for _ in range(max_iter):
        _, J = level.jac(x)
        xt, ok = _project(J, J @ x, lo, hi, ref)
        if not ok:
            break
        d = xt - x
        if np.linalg.norm(d) <= 1e-6 * (1.0 + dist):  # the distance is then stationary to ~1e-12
            break
        a, before = 1.0, dist
        while a >= 1 / 64:
            y, ok = _restore(level, x + a * d, goal, lo, hi, tol)
            dy = float(np.linalg.norm(y - ref))
            if ok and dy < dist:
                x, dist = y, dy
                break
            a *= 0.5
        if before - dist <= 1e-12 * (1.0 + dist):
            break
    return x


def _follow(level, x, goal, lo, hi, tol, pieces: int = 16):
    """Restore ``x`` onto ``goal`` directly, else through intermediate goals from its own value."""
    y, ok = _restore(level, x, goal, lo, hi, tol)
    if ok:
        return y, True
    y = np.clip(x, lo, hi)
    start = level.value(y)
    for k in range(1, pieces + 1):
        y, ok = _restore(level, y, start + (k / pieces) * (goal - start), lo, hi, tol)
        if not ok:
            return y, False
    return y, True


def _nearest_nonaffine(model, x, target, lo, hi, valid):
    level = _Level(model)
    goal = level.goal(target)
    tol = 1e-12 * max(1.0, float(np.abs(goal).max()))
    y, ok = _follow(level, x, goal, lo, hi, tol)
    method = "newton"
    if not ok:
        try:
            r = model.inverter.invert(target, valid=valid, ref=x)
        except InversionError:  # inside the codomain, but no (valid) input reaches it (ReLU)
            r = model.inverter.nearest(target, valid=valid, ref=x)[1]
        except ValueError:  # an activation the inverter does not invert: what Newton reached
            return y, "nearest-reachable"
        y, ok = _restore(level, r.image, goal, lo, hi, tol)
        method = "inverter"
        if not ok:  # nothing lands on target: go to the nearest point the inverter reached
            goal = level.value(r.image)
            y, ok = _follow(level, x, goal, lo, hi, tol * 10)
            y = y if ok else r.image
            return (_descend(level, y, x, goal, lo, hi, tol * 10) if ok else y), "nearest-reachable"
    return _descend(level, y, x, goal, lo, hi, tol), method


def _nearest_affine(inv, x, target, valid):
    if not valid:
        return x + (target - x @ inv.A_ - inv.c_) @ inv.pinv_, "affine"
    from .reachable import contains, nearest_reachable, reachable_polygon  # scipy.spatial: lazy

    A, c = inv.A_, inv.c_
    polygon = reachable_polygon(A, c)
    if contains(polygon, target):
        return solve_box(A.T, target - c, 0.0, 1.0, x)[0], "affine-box"
    # Outside the zonotope of valid images: its nearest point lies on an edge (or vertex) with
    # outward normal n; every image landing there has the pixels with a_i . n > 0 at 1 and
    # those with a_i . n < 0 at 0. Only pixels whose generator is parallel to the edge are
    # free: choose them nearest to x.
    goal = nearest_reachable(polygon, target)
    s = A @ (target - goal)
    free = np.abs(s) <= 1e-9 * np.abs(s).max()
    y = (s > 0).astype(float)
    y[free] = x[free]
    if free.any():
        y[free] = solve_box(A[free].T, goal - c - y[~free] @ A[~free], 0.0, 1.0, x[free])[0]
    return y, "nearest-reachable"


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
        y, method = _nearest_affine(model.inverter, x, target, valid)
    else:
        _codomain_check(model, target)
        y, method = _nearest_nonaffine(model, x, target, lo, hi, valid)
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
