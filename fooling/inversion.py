"""Invert a network from a hidden layer back to an input image.

Four methods:

* :func:`invert_pinv` — the essay's: per layer, last to first,
  ``layer = (layer - b) @ pinv(W)``, computing every pseudoinverse on each call.
* :class:`Inverter` on an identity network — the whole input-to-hidden map is affine,
  ``h = x @ A + c``, so the minimum-norm input is one precomputed ``(h - c) @ pinv(A)``.
* :class:`Inverter` on a tanh (or logistic) network — per layer, last to first, the
  pre-activation ``z = arctanh(h)`` is matched by the smallest previous-layer vector that
  stays strictly inside the activation's codomain (a box-constrained minimum-norm
  problem solved exactly by :func:`solve_box`), then, if any layer could not be matched,
  a Gauss-Newton refinement of the input end to end.
* :class:`Inverter` on a ReLU network — the network is piecewise affine, and a hidden
  point is reachable only inside the *closed* positive orthant of each ReLU layer (0 is
  an output, unlike tanh's -1 and 1). For a fixed activation pattern, units of the target
  that are positive are matched exactly and units at 0 need a pre-activation ``<= 0``: a
  linear program. The patterns of the reference inputs nearest the target are tried
  first, and a mixed-integer search over every pattern (HiGHS) settles the rest: it
  finds an input or proves there is none (:mod:`fooling.piecewise`). Unreachable points
  raise :class:`InversionError`; :meth:`Inverter.nearest` gives the nearest point that
  can be reached, with its inversion.

Every network can be asked for a *valid* image (every pixel inside ``pixel_range``).
Every inversion returns an :class:`InversionResult`: the image, the hidden point it
re-propagates to, the residual, class probabilities and the predicted class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import ACTIVATIONS, CODOMAINS, DERIVATIVES, Network, forward
from .piecewise import Unreachable, references, relu_preimage

__all__ = ["InversionError", "InversionResult", "Inverter", "N_REFERENCES", "RELU_EXACT", "invert_pinv",
           "solve_box"]

_INVERSES = {"identity": lambda h: h, "tanh": np.arctanh,
             "logistic": lambda h: np.log(h) - np.log1p(-h)}


class InversionError(ValueError):
    """A point cannot be inverted: not finite, wrong shape, outside the codomain, or unreachable."""


RELU_EXACT = 1e-10
"""ReLU networks: an inversion is exact when its residual is at most this times
``max(1, largest target coordinate)``."""

N_REFERENCES = 256
"""ReLU networks fitted without reference inputs get this many uniform random ones (seed 0)."""


@dataclass(frozen=True)
class InversionResult:
    """What an inversion produced.

    Attributes
    ----------
    image : ndarray of shape (n_inputs,)
        The input found (784 pixels for MNIST, in the training scale).
    target : ndarray of shape (n_hidden,)
        The hidden point that was asked for.
    hidden : ndarray of shape (n_hidden,)
        Where ``image`` lands when propagated forward again.
    residual : float
        Euclidean distance between ``hidden`` and ``target``.
    proba : ndarray of shape (n_classes,)
        Class probabilities of ``image``.
    predicted : int
        Label of the most probable class.
    pixel_min, pixel_max : float
        Range of the image's values.
    in_range : bool
        Whether every pixel lies inside the inverter's ``pixel_range``.
    method : str
    """

    image: np.ndarray
    target: np.ndarray
    hidden: np.ndarray
    residual: float
    proba: np.ndarray
    predicted: int
    pixel_min: float
    pixel_max: float
    in_range: bool
    method: str

    @property
    def confidence(self) -> float:
        """Probability of the predicted class."""
        return float(self.proba.max())


def solve_box(M: np.ndarray, t: np.ndarray, lo: float | np.ndarray = -np.inf,
              hi: float | np.ndarray = np.inf, ref: np.ndarray | None = None,
              *, tol: float = 1e-12, max_iter: int = 200) -> tuple[np.ndarray, float]:
    """Nearest point to ``ref`` with ``M @ x = t`` and ``lo <= x <= hi``.

    Solved through its dual with a semismooth Newton method: for multipliers ``lam``
    the minimiser over the box is ``x = clip(ref + M.T @ lam, lo, hi)``, and ``lam``
    is driven to ``M @ x = t``. Without bounds this is the pseudoinverse solution in
    one step. When no point of the box satisfies the equations, the answer is the
    point of the box that comes closest (least squares, by scipy's bounded-variable
    least squares), with the residual that remains.

    Parameters
    ----------
    M : ndarray of shape (m, n)
        Equations, usually ``m <= n``.
    t : ndarray of shape (m,)
    lo, hi : float or ndarray of shape (n,)
    ref : ndarray of shape (n,), optional
        Point to stay close to; default zero.
    tol : float
        Relative tolerance on ``||M x - t||``.

    Returns
    -------
    x : ndarray of shape (n,)
    residual : float
        ``||M @ x - t||``.
    """
    M = np.asarray(M, dtype=float)
    t = np.asarray(t, dtype=float)
    m, n = M.shape
    r = np.zeros(n) if ref is None else np.clip(np.asarray(ref, dtype=float), lo, hi)
    lam = np.zeros(m)
    scale = max(1.0, float(np.abs(t).max(initial=0.0)))

    def primal(lam):
        return np.clip(r + lam @ M, lo, hi)

    x = primal(lam)
    F = M @ x - t
    ridge = 1e-12 * max(1.0, float(np.einsum("ij,ij->", M, M)) / m)
    for _ in range(max_iter):
        if np.linalg.norm(F) <= tol * scale:
            break
        z = r + lam @ M  # unclipped: coordinates exactly on a bound (e.g. ref = lo) count as free,
        Mf = M[:, (z >= lo) & (z <= hi)]  # else a start on the bounds gives a singular system
        J = Mf @ Mf.T + ridge * np.eye(m)
        step = np.linalg.solve(J, -F)
        a = 1.0
        while True:
            lam_new = lam + a * step
            x_new = primal(lam_new)
            F_new = M @ x_new - t
            if np.linalg.norm(F_new) < np.linalg.norm(F) or a < 1e-3:
                break
            a *= 0.5
        lam, x, F = lam_new, x_new, F_new
        if not np.all(np.isfinite(lam)):
            break
    res = float(np.linalg.norm(M @ x - t))
    if not res <= tol * scale and np.all(np.isfinite(t)):
        # infeasible (or not converged): the box point nearest to solving M x = t
        from scipy.optimize import lsq_linear

        best = lsq_linear(M, t, bounds=(lo, hi), method="bvls", tol=1e-14)
        best_res = float(np.linalg.norm(M @ best.x - t))
        if not np.all(np.isfinite(x)) or best_res < res:
            x, res = np.clip(best.x, lo, hi), best_res
    return x, res


def _check_point(h, width: int) -> np.ndarray:
    try:
        h = np.asarray(h, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InversionError(f"the hidden point must be {width} numbers") from exc
    if h.shape != (width,):
        raise InversionError(f"the hidden point must have {width} coordinates, got {h.size}")
    if not np.all(np.isfinite(h)):
        raise InversionError("the hidden point must be finite (no NaN or infinity)")
    return h


def _fmt(h: np.ndarray) -> str:
    """A point as users read it: ``(1.5, 0)``; long vectors by their size."""
    if len(h) > 4:
        return f"the given {len(h)}-unit point"
    return "(" + ", ".join(f"{v:.4g}" for v in h) + ")"


def invert_pinv(net: Network, h: np.ndarray, layer: int | None = None) -> np.ndarray:
    """The essay's inversion: per layer, last to first, ``(layer - b) @ pinv(W)``.

    Each pseudoinverse is computed on every call. For activations other than the
    identity the inverse activation is applied first, which fails as soon as an
    intermediate value falls outside the activation's codomain (why the essay used
    identity activations).

    Parameters
    ----------
    net : Network
    h : ndarray of shape (n_hidden,)
        Activations of ``layer``.
    layer : int, optional
        Default: the last hidden layer.

    Returns
    -------
    ndarray of shape (n_inputs,)
    """
    layer = len(net.layers) - 1 if layer is None else layer
    v = _check_point(h, net.sizes[layer])
    for lay in reversed(net.layers[:layer]):
        if lay.activation not in _INVERSES:  # ReLU: no inverse where a unit is 0
            raise InversionError(f"the per-layer pseudoinverse cannot undo {lay.activation} layers; "
                                 "use Inverter, which inverts them exactly")
        lo, hi = CODOMAINS[lay.activation]
        if lay.activation != "identity" and (np.any(v <= lo) or np.any(v >= hi)):
            raise InversionError(f"an intermediate value left the {lay.activation} codomain ({lo}, {hi})")
        v = (_INVERSES[lay.activation](v) - lay.b) @ np.linalg.pinv(lay.W)
    return v


class Inverter:
    """Invert a fitted network from one hidden layer back to its input.

    Parameters
    ----------
    layer : int, optional
        Layer whose activations are given; default the last hidden layer.
    pixel_range : tuple of float, default=(0.0, 1.0)
        Valid input range, used when ``invert(..., valid=True)`` and to report
        ``in_range``.
    margin : float, default=1e-3
        Intermediate activations of bounded activations are kept this far inside
        their codomain.
    tol : float, default=1e-6
        Residual under which an inversion counts as exact (tanh; ReLU inversions are
        exact to :data:`RELU_EXACT`).
    time_limit : float, default=10.0
        ReLU networks: seconds the mixed-integer search over activation patterns may take
        per inversion (it is only reached when no reference pattern fits).

    Attributes
    ----------
    net_ : Network
    affine_ : bool
        True when every layer up to ``layer`` is the identity.
    relu_ : bool
        True when every layer up to ``layer`` is ReLU.
    references_ : fooling.piecewise.References
        Only for ReLU networks: the reference inputs whose patterns are tried first.
    A_ : ndarray of shape (n_inputs, n_hidden)
        Only for affine networks: ``h = x @ A_ + c_``.
    c_ : ndarray of shape (n_hidden,)
    pinv_ : ndarray of shape (n_hidden, n_inputs)
        Pseudoinverse of ``A_``.
    """

    def __init__(self, layer: int | None = None, pixel_range: tuple[float, float] = (0.0, 1.0),
                 margin: float = 1e-3, tol: float = 1e-6, time_limit: float = 10.0):
        self.layer = layer
        self.pixel_range = pixel_range
        self.margin = margin
        self.tol = tol
        self.time_limit = time_limit

    def fit(self, net: Network, X: np.ndarray | None = None) -> "Inverter":
        """Precompute what every inversion reuses. Returns ``self``.

        Parameters
        ----------
        net : Network
        X : ndarray of shape (n_samples, n_inputs), optional
            ReLU networks only: reference inputs (e.g. the training images) whose
            activation patterns are tried first; default :data:`N_REFERENCES` uniform
            random images in ``pixel_range`` (seed 0). Other networks ignore it.
        """
        self.net_ = net
        self.layer_ = len(net.layers) - 1 if self.layer is None else int(self.layer)
        if not 1 <= self.layer_ < len(net.layers):
            raise ValueError(f"layer must be a hidden layer, 1..{len(net.layers) - 1}")
        layers = net.layers[: self.layer_]
        self.affine_ = all(lay.activation == "identity" for lay in layers)
        self.relu_ = all(lay.activation == "relu" for lay in layers)
        if self.relu_:
            lo, hi = self.pixel_range
            if X is None:
                X = np.random.default_rng(0).uniform(lo, hi, size=(N_REFERENCES, net.sizes[0]))
            self.references_ = references(net, X, self.layer_)
            W1 = net.layers[0].W
            full = W1.shape[1] <= W1.shape[0] and np.linalg.matrix_rank(W1) == W1.shape[1]
            self.first_pinv_ = np.linalg.pinv(W1) if full else None
        elif self.affine_:
            A = np.eye(net.sizes[0])
            c = np.zeros(net.sizes[0])
            for lay in layers:
                A, c = A @ lay.W, c @ lay.W + lay.b
            self.A_, self.c_ = A, c
            self.pinv_ = np.linalg.pinv(A)
        elif any(lay.activation not in ("tanh", "logistic") for lay in layers):
            raise ValueError("only networks whose hidden layers are all identity, all ReLU, or tanh "
                             "and logistic can be inverted")
        return self

    @property
    def codomain(self) -> tuple[float, float]:
        """Interval the hidden layer's activations live in (:data:`fooling.network.CODOMAINS`).

        Open for tanh and logistic; for ReLU the lower bound 0 *is* an output (see
        :meth:`in_codomain`).
        """
        return CODOMAINS[self.net_.layers[self.layer_ - 1].activation]

    def in_codomain(self, h) -> bool:
        """Whether the hidden layer can output ``h`` at all (any input, not only valid ones).

        ReLU: every coordinate ``>= 0`` (closed); tanh, logistic: strictly inside the
        open interval; identity: any finite point. Necessary, not sufficient, for
        :meth:`invert` to succeed (a ReLU layer need not reach its whole orthant).
        """
        h = _check_point(h, self.net_.sizes[self.layer_])
        lo, hi = self.codomain
        if self.relu_:
            return bool(np.all(h >= 0.0))
        return bool(np.all((h > lo) & (h < hi)))

    def _result(self, x: np.ndarray, target: np.ndarray, method: str) -> InversionResult:
        if not np.all(np.isfinite(x)):
            raise InversionError("the point is too large to invert in floating point")
        hidden = forward(self.net_, x, self.layer_)
        proba = forward(self.net_, hidden, start=self.layer_)
        lo, hi = self.pixel_range
        eps = 1e-9 * max(1.0, hi - lo)
        return InversionResult(
            image=x, target=target, hidden=hidden,
            residual=float(np.linalg.norm(hidden - target)), proba=proba,
            predicted=int(self.net_.classes[int(np.argmax(proba))]),
            pixel_min=float(x.min()), pixel_max=float(x.max()),
            in_range=bool(x.min() >= lo - eps and x.max() <= hi + eps), method=method)

    def invert(self, h, *, valid: bool = False, ref: np.ndarray | None = None) -> InversionResult:
        """Find an input whose activations at ``layer`` equal ``h``.

        Parameters
        ----------
        h : array-like of shape (n_hidden,)
        valid : bool, default=False
            Keep every pixel inside ``pixel_range``.
        ref : ndarray of shape (n_inputs,), optional
            Among the inputs that land on ``h``, return the nearest to ``ref``
            (default: the smallest; for ``valid`` the middle of the pixel range). ReLU
            networks: nearest in L1, and with ``valid`` and no ``ref`` the image is found
            by descent from the reference input whose hidden point is nearest ``h``.

        Returns
        -------
        InversionResult

        Raises
        ------
        InversionError
            ``h`` is not finite, has the wrong length or lies outside the codomain; for
            ReLU networks also when no input (no valid image, with ``valid``) reaches it.
        """
        net = self.net_
        target = _check_point(h, net.sizes[self.layer_])
        if self.relu_:
            x, method = self._relu(target, valid, ref)
            return self._result(x, target, method + ("-box" if valid else ""))
        lo, hi = self.pixel_range if valid else (-np.inf, np.inf)
        if valid and ref is None:
            ref = np.full(net.sizes[0], 0.5 * (lo + hi))
        if self.affine_:
            if not valid and ref is None:
                return self._result((target - self.c_) @ self.pinv_, target, "affine")
            x, _ = solve_box(self.A_.T, target - self.c_, lo, hi, ref)
            return self._result(x, target, "affine-box" if valid else "affine")
        c_lo, c_hi = self.codomain
        if np.any(target <= c_lo) or np.any(target >= c_hi):
            raise InversionError(
                f"the point lies outside the {net.layers[self.layer_ - 1].activation} "
                f"codomain ({c_lo:g}, {c_hi:g}): no input can reach it")
        x, exact = self._per_layer(target, lo, hi, ref)
        if exact:
            res = self._result(x, target, "per-layer")
            if res.residual <= self.tol:
                return res
        x = self._gauss_newton(x, target, lo, hi)
        return self._result(x, target, "gauss-newton")

    def nearest(self, h, *, valid: bool = False,
                ref: np.ndarray | None = None) -> tuple[np.ndarray, InversionResult]:
        """The reachable hidden point nearest ``h``, and an input landing exactly on it.

        Reachable means: by some input, or with ``valid`` by an image with every pixel
        in ``pixel_range``. When ``h`` itself is reachable it is returned unchanged.

        * ReLU: first the projection of ``h`` onto the closed positive orthant (every
          negative coordinate set to 0); when that point is reachable it is the nearest
          one exactly, as the reachable set lies in the orthant. Otherwise a local
          search: projected Gauss-Newton on ``||h(x) - h||`` from the reference inputs
          nearest ``h``; the point returned is reached exactly, but a nearer one may
          exist (the valid-image set of a ReLU net need not be convex).
        * identity: without ``valid`` every point; with it the exact nearest point (the
          box-constrained least squares of :func:`solve_box`).
        * tanh, logistic: without ``valid`` the point clipped to ``margin`` inside the
          open codomain; with it where the valid inversion's descent ends (local).

        Parameters
        ----------
        h : array-like of shape (n_hidden,)
        valid : bool, default=False
        ref : ndarray of shape (n_inputs,), optional
            As for :meth:`invert`.

        Returns
        -------
        point : ndarray of shape (n_hidden,)
        result : InversionResult
            Its ``target`` is ``point`` and its ``residual`` is ``||hidden - point||``.
        """
        target = _check_point(h, self.net_.sizes[self.layer_])
        if self.relu_:
            return self._nearest_relu(target, valid, ref)
        if not self.affine_ and not valid:
            lo, hi = self.codomain
            m = self.margin * (hi - lo)
            target = np.clip(target, lo + m, hi - m)
        r = self.invert(target, valid=valid, ref=ref)
        if r.residual <= max(self.tol, 1e-9 * max(1.0, float(np.abs(target).max()))):
            return target, r
        return r.hidden, self._result(r.image, r.hidden, r.method)

    def _relu(self, target, valid: bool, ref, *, search: bool = True) -> tuple[np.ndarray, str]:
        point = _fmt(target)
        if np.any(target < 0):
            raise InversionError(f"ReLU units output only values >= 0, and {point} has a negative "
                                 "coordinate: no input reaches it")
        lo, hi = self.pixel_range if valid else (-np.inf, np.inf)
        exact = RELU_EXACT * max(1.0, float(target.max(initial=0.0)))
        try:
            return relu_preimage(self.net_, self.layer_, target, lo, hi, refs=self.references_,
                                 polish=self._gauss_newton, exact=exact, ref=ref,
                                 first_pinv=self.first_pinv_, time_limit=self.time_limit, search=search)
        except Unreachable as exc:
            what = f"no image with pixels in [{lo:g}, {hi:g}]" if valid else "no input"
            if exc.proven:
                where = "valid images reach" if valid else "the ReLU network can reach"
                msg = (f"{what} reaches {point}: it lies outside the region {where} "
                       "(Inverter.nearest gives the nearest point inside)")
            elif exc.reason == "time limit":
                msg = (f"{what} landing on {point} was found within the {self.time_limit:g} s "
                       "search limit (Inverter.nearest gives a nearby point that is reached)")
            else:
                msg = f"{what} landing on {point} was found: the search failed numerically"
            raise InversionError(msg) from None

    def _nearest_relu(self, target, valid: bool, ref) -> tuple[np.ndarray, InversionResult]:
        box = "-box" if valid else ""
        q = np.maximum(target, 0.0)
        if not valid:  # every pattern is searched: q is either reached or proven unreachable
            try:
                x, method = self._relu(q, valid, ref)
                return q, self._result(x, q, method)
            except InversionError:
                pass
        lo, hi = self.pixel_range if valid else (-np.inf, np.inf)
        refs = self.references_
        best, best_d = None, np.inf
        for i in np.argsort(np.linalg.norm(refs.H - q, axis=1), kind="stable")[:4]:
            x = self._gauss_newton(np.clip(refs.X[i], lo, hi), target, lo, hi)
            d = float(np.linalg.norm(forward(self.net_, x, self.layer_) - target))
            if np.all(np.isfinite(x)) and d < best_d:
                best, best_d = x, d
        if best is None:
            raise InversionError(f"no reachable point near {_fmt(target)} was found")
        hidden = forward(self.net_, best, self.layer_)
        if np.linalg.norm(hidden - q) <= RELU_EXACT * max(1.0, float(q.max(initial=0.0))):
            return q, self._result(best, q, "relu-gauss-newton" + box)
        return hidden, self._result(best, hidden, "relu-nearest" + box)

    def _per_layer(self, target, lo, hi, ref):
        v = target
        for k in range(self.layer_ - 1, -1, -1):
            lay = self.net_.layers[k]
            z = _INVERSES[lay.activation](v) - lay.b
            if k == 0:
                v, res = solve_box(lay.W.T, z, lo, hi, ref)
            else:
                a, b = CODOMAINS[self.net_.layers[k - 1].activation]
                m = self.margin * (b - a)
                v, res = solve_box(lay.W.T, z, a + m, b - m)
            if res > 1e-9 * max(1.0, float(np.abs(z).max())):
                return v if k == 0 else np.clip(np.zeros(self.net_.sizes[0]), lo, hi), False
        return v, True

    def _gauss_newton(self, x, target, lo, hi, max_iter: int = 100):
        """Minimise ``||f(x) - target||`` from ``x`` with projected Gauss-Newton steps."""
        layers = self.net_.layers[: self.layer_]
        x = np.clip(x, lo, hi)

        def run(x):
            acts = [x]
            for lay in layers:
                acts.append(ACTIVATIONS[lay.activation](acts[-1] @ lay.W + lay.b))
            return acts

        acts = run(x)
        err = acts[-1] - target
        for _ in range(max_iter):
            if np.linalg.norm(err) <= 1e-13 * max(1.0, float(np.abs(target).max())):
                break
            J = np.eye(len(target))
            for lay, a in zip(reversed(layers), reversed(acts[1:])):
                J = (J * DERIVATIVES[lay.activation](a)) @ lay.W.T
            # pixels at a bound stay free when the descent direction points inward:
            # otherwise a start on the bounds (e.g. all zeros) can never move
            grad = err @ J
            free = ((x > lo) | (grad < 0)) & ((x < hi) | (grad > 0))
            step = np.zeros_like(x)
            for _ in range(8):  # pixels the step would push out of the box are held at their bound
                if not free.any():
                    break
                step[:] = 0.0
                step[free] = -np.linalg.lstsq(J[:, free], err, rcond=None)[0]
                out = ((x <= lo) & (step < 0)) | ((x >= hi) & (step > 0))
                if not out.any():
                    break
                free &= ~out
            a = 1.0
            while a > 1e-8:
                x_new = np.clip(x + a * step, lo, hi)
                acts_new = run(x_new)
                err_new = acts_new[-1] - target
                if np.linalg.norm(err_new) < np.linalg.norm(err):
                    break
                a *= 0.5
            else:
                break
            x, acts, err = x_new, acts_new, err_new
        return x
