"""ReLU networks are piecewise affine: activation patterns, and inputs that land on a target.

Fix which units of every ReLU layer are on (an *activation pattern*) and the network
up to a layer is one affine map ``u -> u @ A + c``; the inputs with that pattern form
a polyhedron (each on unit's pre-activation ``>= 0``, each off unit's ``<= 0``). So
"which inputs land exactly on the activations ``t`` of layer ``L``" is:

* for one pattern, a linear program (:func:`pattern_program`): units of ``t`` that are
  positive must be matched exactly, units at 0 need a pre-activation ``<= 0``;
* over all patterns, a mixed-integer linear program (:func:`pattern_search`): one
  binary per ReLU unit whose sign is not fixed by the bounds of its pre-activation
  (the standard big-M form of ``v = max(z, 0)``, exact for bounded inputs).

Both are solved by scipy's HiGHS (``linprog``, ``milp``), imported inside the functions.
:func:`relu_preimage` puts them together: the patterns of the reference inputs whose
activations lie nearest the target first (one small linear program each, milliseconds),
then a Gauss-Newton descent from those inputs, and only then the mixed-integer search,
which either finds an input or proves that none exists within its bounds.
The unknown ``u`` is the input itself (``first=0``) or, when the first layer's weights
have full column rank and the input is unbounded, the first layer's activations
(``first=1``: every ``v >= 0`` is reached by some input there, and the input follows
by a pseudoinverse). Layers are counted as in :mod:`fooling.network`: ``net.layers[j]``
maps the activations of layer ``j`` to those of layer ``j + 1``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .network import Network

__all__ = ["CAP_SCALES", "References", "Unreachable", "activation_patterns", "pattern_program",
           "pattern_search", "references", "relu_preimage"]

CAP_SCALES = (10.0, 1e3)
"""Unbounded inputs: the mixed-integer search bounds the first layer's activations by
these multiples of ``max(1, |target|, |biases|)``, the smaller first (tighter, faster)."""

N_CANDIDATES = 6
"""Distinct activation patterns (of the nearest reference inputs) tried before the search."""


class Unreachable(Exception):
    """No input was found that lands on the target.

    Attributes
    ----------
    proven : bool
        True when the mixed-integer search proved that none exists within its bounds.
    reason : str
        ``'infeasible'``, ``'time limit'`` or ``'failed'``.
    """

    def __init__(self, reason: str, proven: bool):
        super().__init__(reason)
        self.reason = reason
        self.proven = proven


def activation_patterns(net: Network, X: np.ndarray, upto: int, *, first: int = 0) -> list[np.ndarray]:
    """Which units are on (pre-activation > 0) for each row, in layers ``first+1 .. upto-1``.

    Parameters
    ----------
    net : Network
        Every layer before ``upto`` is ReLU.
    X : ndarray of shape (n, n_units_at_first)
        Activations of layer ``first`` (the input when ``first=0``).
    upto : int
        The target layer; its own units are not included.

    Returns
    -------
    list of ndarray, one per layer ``first+1 .. upto-1``, each bool of shape (n, n_units)
    """
    A = np.atleast_2d(np.asarray(X, dtype=float))
    out = []
    for lay in net.layers[first:upto - 1]:
        Z = A @ lay.W + lay.b
        out.append(Z > 0)
        A = np.maximum(Z, 0.0)
    return out


def _pattern_rows(net: Network, upto: int, target: np.ndarray, patterns, first: int, n: int):
    """Inequalities ``G u <= g`` and equalities ``E u = e`` of one pattern."""
    A, c = np.eye(n), np.zeros(n)
    G, g = [], []
    for lay, on in zip(net.layers[first:upto - 1], patterns):
        Az, cz = A @ lay.W, c @ lay.W + lay.b
        sign = np.where(on, -1.0, 1.0)  # on: -z <= 0; off: z <= 0
        G.append((Az * sign).T)
        g.append(-cz * sign)
        A, c = Az * on, cz * on
    last = net.layers[upto - 1]
    Az, cz = A @ last.W, c @ last.W + last.b
    pos = target > 0
    G.append(Az[:, ~pos].T)
    g.append(-cz[~pos])
    return np.vstack(G), np.concatenate(g), Az[:, pos].T, target[pos] - cz[pos]


def pattern_program(net: Network, upto: int, target: np.ndarray, patterns, lo: np.ndarray,
                    hi: np.ndarray, *, first: int = 0, ref: np.ndarray | None = None) -> np.ndarray | None:
    """The input with a given activation pattern that lands on ``target``, nearest ``ref`` in L1.

    Parameters
    ----------
    net : Network
        ReLU layers up to ``upto``.
    upto : int
        Target layer (``1 <= upto``).
    target : ndarray of shape (n_units_at_upto,)
        Non-negative activations to land on.
    patterns : list of bool ndarray
        One per layer ``first+1 .. upto-1`` (see :func:`activation_patterns`).
    lo, hi : ndarray of shape (n,)
        Bounds of the unknown (``-inf``/``inf`` allowed).
    first : int, default=0
        Which layer's activations the unknown is.
    ref : ndarray of shape (n,), optional
        Minimise ``sum |u - ref|``; default the point of the bounds nearest 0.

    Returns
    -------
    ndarray of shape (n,), or None when no such input exists (or HiGHS gives up)
    """
    from scipy.optimize import linprog

    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    n = len(lo)
    r = np.clip(np.zeros(n) if ref is None else np.asarray(ref, dtype=float), lo, hi)
    G, g, E, e = _pattern_rows(net, upto, np.asarray(target, dtype=float), patterns, first, n)
    # u = r + p - q with p, q >= 0: the L1 distance to r is sum(p + q)
    res = linprog(np.ones(2 * n), A_ub=np.hstack([G, -G]) if len(G) else None,
                  b_ub=g - G @ r if len(G) else None,
                  A_eq=np.hstack([E, -E]) if len(E) else None, b_eq=e - E @ r if len(E) else None,
                  bounds=list(zip(np.zeros(2 * n), np.concatenate([hi - r, r - lo]))), method="highs")
    if res.status != 0:
        return None
    return np.clip(r + res.x[:n] - res.x[n:], lo, hi)


def _interval(lay, alo: np.ndarray, ahi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Wp, Wn = np.maximum(lay.W, 0.0), np.minimum(lay.W, 0.0)
    return alo @ Wp + ahi @ Wn + lay.b, ahi @ Wp + alo @ Wn + lay.b


def pattern_search(net: Network, upto: int, target: np.ndarray, lo: np.ndarray, hi: np.ndarray, *,
                   first: int = 0, time_limit: float = 10.0) -> tuple[np.ndarray | None, str]:
    """Search every activation pattern at once: a mixed-integer program (HiGHS ``milp``).

    Each ReLU unit ``v = max(z, 0)`` whose pre-activation bounds ``l < 0 < u`` (from
    interval arithmetic on the bounds of the unknown) leave its sign open becomes
    ``v >= z, v >= 0, v <= z - l (1 - d), v <= u d`` with a binary ``d``; units whose
    sign is fixed need no binary. Exact for the given (finite) bounds.

    Parameters
    ----------
    net, upto, target, first
        As :func:`pattern_program`.
    lo, hi : ndarray of shape (n,)
        Finite bounds of the unknown.
    time_limit : float, default=10.0
        Seconds HiGHS may search.

    Returns
    -------
    u : ndarray of shape (n,) or None
    status : {'found', 'infeasible', 'time limit', 'failed'}
        ``'infeasible'`` proves that no unknown inside the bounds lands on ``target``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    target = np.asarray(target, dtype=float)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    layers = net.layers[first:upto]
    n = len(lo)
    widths = [lay.W.shape[1] for lay in layers[:-1]]
    nv = n + 2 * sum(widths)
    vlo, vhi = np.full(nv, -np.inf), np.full(nv, np.inf)
    vlo[:n], vhi[:n] = lo, hi
    integrality = np.zeros(nv)
    rows, rlo, rhi = [], [], []
    prev, alo, ahi, off = slice(0, n), lo, hi, n
    for lay, w in zip(layers[:-1], widths):
        zl, zu = _interval(lay, alo, ahi)
        v, d = slice(off, off + w), slice(off + w, off + 2 * w)
        vlo[v], vhi[v] = np.maximum(zl, 0.0), np.maximum(zu, 0.0)
        vlo[d], vhi[d] = (zl >= 0).astype(float), (zu > 0).astype(float)
        integrality[d] = 1
        live = (zl < 0) & (zu > 0)
        block = np.zeros((w, nv))
        block[:, prev] = -lay.W.T
        block[:, v] = np.eye(w)  # v - z
        on = zl >= 0
        rows += [block[live], block[on]]  # v - z >= b (unsettled), v - z = b (always on)
        rlo += [lay.b[live], lay.b[on]]
        rhi += [np.full(live.sum(), np.inf), lay.b[on]]
        tight = block[live].copy()
        tight[:, d] = -np.diag(zl)[live]  # v - z - l d <= b - l
        rows.append(tight)
        rlo.append(np.full(live.sum(), -np.inf))
        rhi.append(lay.b[live] - zl[live])
        cap = np.zeros((w, nv))
        cap[:, v] = np.eye(w)
        cap[:, d] = -np.diag(zu)  # v - u d <= 0
        rows.append(cap[live])
        rlo.append(np.full(live.sum(), -np.inf))
        rhi.append(np.zeros(live.sum()))
        prev, alo, ahi, off = v, vlo[v], vhi[v], off + 2 * w
    last = layers[-1]
    out = np.zeros((len(target), nv))
    out[:, prev] = last.W.T
    pos = target > 0
    rows.append(out)
    rlo.append(np.where(pos, target - last.b, -np.inf))
    rhi.append(np.where(pos, target - last.b, -last.b))
    res = milp(np.zeros(nv), constraints=LinearConstraint(np.vstack(rows), np.concatenate(rlo),
                                                          np.concatenate(rhi)),
               integrality=integrality, bounds=Bounds(vlo, vhi),
               options={"time_limit": float(time_limit), "disp": False})
    if res.x is not None and res.status in (0, 1):
        return np.clip(res.x[:n], lo, hi), "found"
    if res.status == 2:
        return None, "infeasible"
    return None, "time limit" if res.status == 1 else "failed"


class References(tuple):
    """Reference inputs with their activations at the target layer and their patterns.

    A tuple ``(X, H, patterns)``: ``X`` of shape (m, n_inputs), ``H`` of shape
    (m, n_units_at_upto), ``patterns`` a list of bool arrays of shape (m, n_units), one
    per layer ``1 .. upto-1`` (see :func:`references`).
    """

    __slots__ = ()

    @property
    def X(self) -> np.ndarray:
        return self[0]

    @property
    def H(self) -> np.ndarray:
        return self[1]

    @property
    def patterns(self) -> list:
        return self[2]


def references(net: Network, X: np.ndarray, upto: int) -> References:
    """The :class:`References` of inputs ``X`` of shape (m, n_inputs) for target layer ``upto``."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    pats = activation_patterns(net, X, upto)
    H = X
    for lay in net.layers[:upto]:
        H = np.maximum(H @ lay.W + lay.b, 0.0)
    return References((X, H, pats))


def _candidates(refs: References, target: np.ndarray, first: int, k: int):
    """Up to ``k`` distinct patterns (layers ``first+1 ..``) of the references nearest ``target``,
    with the index of the reference each came from."""
    order = np.argsort(np.linalg.norm(refs.H - target, axis=1), kind="stable")
    seen = set()
    for i in order:
        pats = [p[i] for p in refs.patterns[first:]]
        key = b"".join(np.packbits(p).tobytes() for p in pats)
        if key in seen:
            continue
        seen.add(key)
        yield i, pats
        if len(seen) >= k:
            return


def relu_preimage(net: Network, upto: int, target: np.ndarray, lo: float, hi: float, *,
                  refs: References, polish: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray],
                  exact: float, ref: np.ndarray | None = None,
                  first_pinv: np.ndarray | None = None, time_limit: float = 10.0,
                  search: bool = True) -> tuple[np.ndarray, str]:
    """An input of a ReLU network whose activations at layer ``upto`` are exactly ``target``.

    Parameters
    ----------
    net : Network
        Every layer before ``upto`` is ReLU.
    upto : int
    target : ndarray of shape (n_units_at_upto,)
        Non-negative.
    lo, hi : float
        Pixel bounds (``-inf``, ``inf`` for any input).
    refs : References
        Whose patterns are tried first.
    polish : callable ``(x, target, lo, hi) -> x``
        Refines a nearly exact input (Gauss-Newton).
    exact : float
        Largest residual ``||h(x) - target||`` accepted.
    ref : ndarray of shape (n_inputs,), optional
        Inputs nearer ``ref`` (in L1) are preferred. Default: for bounded inputs, first a
        Gauss-Newton descent from the nearest references, then the middle of the bounds;
        for unbounded ones the smallest first-layer activations (then the least-norm input).
    first_pinv : ndarray of shape (n_units_at_1, n_inputs), optional
        Pseudoinverse of the first layer's weights when they have full column rank: with
        unbounded inputs the unknown is then the first layer's activations.
    time_limit : float
        Seconds for each mixed-integer search.
    search : bool, default=True
        False: stop after the patterns and Gauss-Newton (fast, but proves nothing).

    Returns
    -------
    x : ndarray of shape (n_inputs,)
    method : {'relu-patterns', 'relu-gauss-newton', 'relu-search'}

    Raises
    ------
    Unreachable
    """
    target = np.asarray(target, dtype=float)
    n0 = net.sizes[0]
    bounded = bool(np.isfinite(lo) and np.isfinite(hi))
    first = 1 if first_pinv is not None and not bounded else 0
    x_ref = np.zeros(n0) if ref is None else np.asarray(ref, dtype=float)
    lay0 = net.layers[0]

    def to_input(u):
        if first == 0:
            return u
        return x_ref + ((u - lay0.b) - x_ref @ lay0.W) @ first_pinv  # z1 = u: on where u > 0, 0 elsewhere

    def checked(x):
        """``x`` polished, when it lands on the target; else None."""
        x = polish(x, target, lo, hi)
        if not np.all(np.isfinite(x)):
            return None
        return x if np.linalg.norm(_activations(net, x, upto) - target) <= exact else None

    n = net.sizes[first]
    if first == 1 and upto == 1:
        x = checked(to_input(target))
        if x is not None:
            return x, "relu-patterns"
    ulo = np.zeros(n) if first == 1 else np.full(n, float(lo))
    uhi = np.full(n, np.inf) if first == 1 else np.full(n, float(hi))
    u_ref = None if first == 1 else (np.full(n, 0.5 * (lo + hi)) if ref is None and bounded else x_ref)

    def by_patterns():
        for _, pats in _candidates(refs, target, first, N_CANDIDATES):
            u = pattern_program(net, upto, target, pats, ulo, uhi, first=first, ref=u_ref)
            if u is not None and (x := checked(to_input(u))) is not None:
                return x, "relu-patterns"
        return None

    def by_descent():
        for i in np.argsort(np.linalg.norm(refs.H - target, axis=1), kind="stable")[:3]:
            if (x := checked(np.clip(refs.X[i], lo, hi))) is not None:
                return x, "relu-gauss-newton"
        return None

    # valid images without a reference: descend from the nearest reference inputs first
    # (milliseconds; the image stays close to a real one), else the linear programs
    for attempt in ((by_descent, by_patterns) if bounded and ref is None else (by_patterns, by_descent)):
        if (found := attempt()) is not None:
            return found
    if not search:
        raise Unreachable("not found", proven=False)
    if bounded:
        caps = [None]
    else:
        scale = max(1.0, float(np.abs(target).max(initial=0.0)),
                    max(float(np.abs(lay.b).max(initial=0.0)) for lay in net.layers[:upto]))
        caps = [c * scale for c in CAP_SCALES]
    reason = "failed"
    for cap in caps:
        blo = ulo if cap is None or first == 1 else np.full(n, -cap)
        bhi = uhi if cap is None else np.full(n, cap)
        u, reason = pattern_search(net, upto, target, blo, bhi, first=first, time_limit=time_limit)
        if u is None:
            if reason == "infeasible":
                continue
            break
        pats = [p[0] for p in activation_patterns(net, u[None], upto, first=first)]
        for cand in (pattern_program(net, upto, target, pats, ulo, uhi, first=first, ref=u_ref), u):
            if cand is not None and (x := checked(to_input(cand))) is not None:
                return x, "relu-search"
        reason = "failed"
        break
    raise Unreachable(reason, proven=reason == "infeasible")


def _activations(net: Network, x: np.ndarray, layer: int) -> np.ndarray:
    h = np.asarray(x, dtype=float)
    for lay in net.layers[:layer]:
        h = np.maximum(h @ lay.W + lay.b, 0.0)
    return h
