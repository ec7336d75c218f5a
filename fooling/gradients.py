"""Exact input gradients of the cross-entropy loss, for networks and for RBF heads.

* :func:`network_gradient` — ``d(-log p_y(x)) / dx`` of a :class:`fooling.network.Network`
  by back-propagation, each hidden layer's derivative taken from
  :data:`fooling.network.DERIVATIVES` (written in terms of the layer's output).
* :func:`backpropagate` — pulls a gradient at any layer back to the input.
* :func:`platt_svc_gradient` — the loss of a :class:`fooling.classifiers.PlattSVC`
  (an SVC with Platt-scaled one-vs-rest probabilities on standardised inputs, as the
  RBF heads are) and its exact gradient, derived through every step of its scoring:

  1. standardise, ``u = (h - shift) / scale``;
  2. kernel, ``K_s = exp(-gamma ||u - s||^2)`` (RBF) or ``u . s`` (linear), so
     ``dK_s/du = -2 gamma K_s (u - s)`` or ``s``;
  3. one-vs-one values ``o_p = sum_s a_ps K_s + rho_p``, one per pair ``p = (i, j)``;
  4. one-vs-rest values ``f_i = votes_i + c_i / (3 (|c_i| + 1))`` with
     ``c_i = sum_{p=(i,.)} o_p - sum_{p=(.,i)} o_p``; the votes are piecewise constant,
     so almost everywhere ``df_i/dc_i = 1 / (3 (|c_i| + 1)^2)``;
  5. Platt's sigmoids ``q_i = 1 / (1 + exp(A_i f_i + B_i))``, ``dq_i/df_i = -A_i q_i (1 - q_i)``;
  6. normalised, ``P_i = q_i / sum_j q_j``; the loss ``-log P_y = -log q_y + log sum_j q_j``.

  At the measure-zero set where a one-vs-one value is exactly 0 a vote flips and the
  probabilities jump; there the gradient is the one-sided limit. The tests compare
  both gradients with central finite differences.
* :func:`head_gradient` — the RBF head's loss differentiated with respect to the
  *image*: the head's gradient at the encoding, pulled back through the network.
"""

from __future__ import annotations

import numpy as np

from .network import DERIVATIVES, Network, softmax

__all__ = ["backpropagate", "head_gradient", "label_indices", "network_gradient", "platt_svc_gradient"]


def label_indices(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Column of each label ``y`` in ``classes``, ndarray of shape (n,); unknown labels raise."""
    lookup = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    try:
        return np.array([lookup[v] for v in np.asarray(y).reshape(-1).tolist()], dtype=int)
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not one of the classes {sorted(lookup)}") from None


def _activations(net: Network, X: np.ndarray, upto: int) -> list[np.ndarray]:
    from .network import ACTIVATIONS

    acts = [X]
    for lay in net.layers[:upto]:
        acts.append(ACTIVATIONS[lay.activation](acts[-1] @ lay.W + lay.b))
    return acts


def backpropagate(net: Network, X: np.ndarray, G: np.ndarray, layer: int) -> np.ndarray:
    """Pull ``G = dL/dh`` at hidden layer ``layer`` back to the input.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n, n_inputs)
    G : ndarray of shape (n, n_units_at_layer)
        Gradient of some loss with respect to the activations of ``layer``.
    layer : int
        A hidden layer (``1 .. len(net.layers) - 1``).

    Returns
    -------
    ndarray of shape (n, n_inputs)
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    acts = _activations(net, X, layer)
    for lay, a in zip(reversed(net.layers[:layer]), reversed(acts[1:])):
        G = (G * DERIVATIVES[lay.activation](a)) @ lay.W.T
    return G


def network_gradient(net: Network, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy loss ``-log p_y(x)`` of a softmax network and its gradient in ``x``.

    Parameters
    ----------
    net : Network
        Ends in a softmax layer.
    X : ndarray of shape (n, n_inputs)
    y : ndarray of shape (n,)
        Class labels (values of ``net.classes``).

    Returns
    -------
    loss : ndarray of shape (n,)
    grad : ndarray of shape (n, n_inputs)
    """
    if net.layers[-1].activation != "softmax":
        raise ValueError("the network must end in a softmax layer")
    X = np.atleast_2d(np.asarray(X, dtype=float))
    k = label_indices(net.classes, y)
    acts = _activations(net, X, len(net.layers) - 1)
    last = net.layers[-1]
    z = acts[-1] @ last.W + last.b
    p = softmax(z)
    z = z - z.max(axis=1, keepdims=True)
    loss = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(k)), k]
    G = p.copy()
    G[np.arange(len(k)), k] -= 1.0  # dL/dz
    G = G @ last.W.T
    for lay, a in zip(reversed(net.layers[:-1]), reversed(acts[1:])):
        G = (G * DERIVATIVES[lay.activation](a)) @ lay.W.T
    return loss, G


def _pair_matrices(svc) -> tuple[np.ndarray, np.ndarray]:
    """Dual coefficients per one-vs-one pair (n_sv, n_pairs) and the one-vs-rest signs (n_pairs, n_classes)."""
    n_classes = len(svc.classes_)
    starts = np.concatenate([[0], np.cumsum(svc.n_support_)])
    n_sv = len(svc.support_vectors_)
    pairs = [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]
    A = np.zeros((n_sv, len(pairs)))
    C = np.zeros((len(pairs), n_classes))
    for p, (i, j) in enumerate(pairs):
        si, sj = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
        A[si, p] = svc.dual_coef_[j - 1, si]
        A[sj, p] = svc.dual_coef_[i, sj]
        C[p, i], C[p, j] = 1.0, -1.0
    return A, C


def platt_svc_gradient(svc, H: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loss ``-log P_y(h)`` of a multi-class :class:`~fooling.classifiers.PlattSVC` and its gradient.

    Parameters
    ----------
    svc : fooling.classifiers.PlattSVC
        Three classes or more, linear or RBF kernel.
    H : ndarray of shape (n, n_features)
    y : ndarray of shape (n,)
        Labels (values of ``svc.classes_``).

    Returns
    -------
    loss : ndarray of shape (n,)
    grad : ndarray of shape (n, n_features)
    """
    if len(svc.classes_) < 3:
        raise ValueError("the gradient is implemented for three classes or more")
    H = np.atleast_2d(np.asarray(H, dtype=float))
    k = label_indices(svc.classes_, y)
    n = len(H)
    U = (H - svc.shift_) / svc.scale_
    S = svc.support_vectors_
    A, C = _pair_matrices(svc)
    if svc.kernel == "rbf":
        d2 = np.einsum("ij,ij->i", U, U)[:, None] + np.einsum("ij,ij->i", S, S)[None, :] - 2.0 * U @ S.T
        K = np.exp(-svc.gamma * np.maximum(d2, 0.0))
    else:
        K = U @ S.T
    ovo = K @ A + svc.intercept_
    conf = ovo @ C
    votes = (ovo >= 0).astype(float) @ np.maximum(C, 0.0) + (ovo < 0).astype(float) @ np.maximum(-C, 0.0)
    f = votes + conf / (3.0 * (np.abs(conf) + 1.0))
    t = svc.sigmoid_a_ * f + svc.sigmoid_b_
    log_q, log_1mq = -np.logaddexp(0.0, t), -np.logaddexp(0.0, -t)  # log q, log(1 - q), stably
    top = log_q.max(axis=1, keepdims=True)
    log_total = (top + np.log(np.exp(log_q - top).sum(axis=1, keepdims=True)))[:, 0]
    rows = np.arange(n)
    loss = log_total - log_q[rows, k]
    # dL/df_i = (q_i / total - [i = y]) * (-A_i (1 - q_i)), from dL/dq_i = 1/total - [i = y] / q_y
    share = np.exp(log_q - log_total[:, None])
    df = -svc.sigmoid_a_ * np.exp(log_1mq) * share
    df[rows, k] += svc.sigmoid_a_[k] * np.exp(log_1mq[rows, k])
    dconf = df / (3.0 * (np.abs(conf) + 1.0) ** 2)
    dovo = dconf @ C.T  # (n, n_pairs)
    W = dovo @ A.T  # (n, n_sv): dL/dK_s
    if svc.kernel == "rbf":
        WK = W * K
        dU = -2.0 * svc.gamma * (WK.sum(axis=1, keepdims=True) * U - WK @ S)
    else:
        dU = W @ S
    return loss, dU / svc.scale_


def head_gradient(head, net: Network, layer: int, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An RBF head's loss on images and its gradient with respect to the pixels.

    Parameters
    ----------
    head : fooling.heads.RBFHead
        Fitted on the encodings of ``net`` at ``layer``.
    net : Network
    layer : int
    X : ndarray of shape (n, n_inputs)
    y : ndarray of shape (n,)

    Returns
    -------
    loss : ndarray of shape (n,)
    grad : ndarray of shape (n, n_inputs)
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    H = _activations(net, X, layer)[-1]
    loss, G = platt_svc_gradient(head.svc_, H, y)
    return loss, backpropagate(net, X, G, layer)
