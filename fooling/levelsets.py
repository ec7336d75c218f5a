"""Nearest points of a network's level sets: the image nearest to ``x`` with ``h(image) = h'``.

The solvers behind :func:`fooling.walk.move_to` (see its module for what each returns):

* :func:`nearest_affine` — identity networks: the pseudoinverse step, the exact
  box-constrained projection (:func:`fooling.inversion.solve_box` with ``ref``), or, for a
  target valid images cannot reach, the nearest image on the nearest point of the
  zonotope of valid images (:mod:`fooling.reachable`).
* :func:`nearest_nonaffine` — tanh (and ReLU) networks. The level set is searched as
  ``z(x) = arctanh(h')`` (the last hidden layer's pre-activation) when the activation can
  be inverted: the same set, far more nearly linear where tanh saturates. A feasible start
  comes from minimum-norm Newton steps from ``x`` (directly, else by continuation from
  ``x``'s own point), else from the inverter's image; then tangent-plane projections of
  ``x`` (within the pixel box) are pulled back onto the set while they bring the image
  nearer. A fixed point meets the problem's first-order conditions: a local minimum.
"""

from __future__ import annotations

import numpy as np

from .inversion import InversionError, solve_box
from .network import ACTIVATIONS, DERIVATIVES

__all__ = ["nearest_affine", "nearest_nonaffine"]

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


def nearest_nonaffine(model, x: np.ndarray, target: np.ndarray, *, valid: bool = False
                      ) -> tuple[np.ndarray, str]:
    """The image nearest to ``x`` (locally) that lands on ``target``, for a non-affine net.

    Parameters
    ----------
    model : fooling.workspace.MnistModel
        Or anything with ``net``, ``hidden_layer`` and ``inverter``.
    x : ndarray of shape (n_inputs,)
    target : ndarray of shape (n_hidden,)
        Inside the hidden layer's codomain (not checked here).
    valid : bool, default=False
        Pixels in [0, 1].

    Returns
    -------
    image : ndarray of shape (n_inputs,)
    method : {'newton', 'inverter', 'nearest-reachable'}
        How the start was found; 'nearest-reachable' when no image lands on ``target``
        and ``image`` lands on the nearest point the inverter reached instead.

    Raises
    ------
    fooling.inversion.InversionError
        From the inverter, when even its nearest reachable point cannot be found.
    """
    lo, hi = (0.0, 1.0) if valid else (-np.inf, np.inf)
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


def nearest_affine(inv, x: np.ndarray, target: np.ndarray, *, valid: bool = False
                   ) -> tuple[np.ndarray, str]:
    """The image nearest to ``x`` that lands on ``target``, for an identity (affine) net.

    Parameters
    ----------
    inv : fooling.inversion.Inverter
        Fitted to the network (``A_``, ``c_``, ``pinv_``).
    x : ndarray of shape (n_inputs,)
    target : ndarray of shape (n_hidden,)
    valid : bool, default=False
        Pixels in [0, 1].

    Returns
    -------
    image : ndarray of shape (n_inputs,)
    method : {'affine', 'affine-box', 'nearest-reachable'}
        'nearest-reachable': no valid image lands on ``target``; ``image`` is the nearest
        to ``x`` of those landing on the reachable point nearest ``target``.
    """
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
