"""What each neuron "looks for" (second essay).

* :func:`effective_weights` — the input image a neuron weighs most: for a neuron in
  layer k, the sum over all paths from each pixel of the products of the weights
  along the path, i.e. column ``unit`` of ``W1 @ W2 @ ... @ Wk``. It ignores the
  activations, which is exactly what makes it look like noise.
* :func:`activity_weighted_average` — the dataset's images averaged with weights equal
  to the neuron's activity on each: what the neuron responds to *within the data*.
* :func:`activation_sparsity` — per image, how many neurons of a layer are strongly
  and mildly active.

Layers are counted as in :mod:`fooling.network`: layer 1 is the first hidden layer,
``len(net.layers)`` the output layer.
"""

from __future__ import annotations

import numpy as np

from .network import Network, forward

__all__ = ["activation_sparsity", "activity_weighted_average", "effective_weights"]


def _check(net: Network, layer: int, unit: int | None = None) -> None:
    n = len(net.layers)
    if not isinstance(layer, (int, np.integer)) or not 1 <= layer <= n:
        raise ValueError(f"layer must be an integer in 1..{n}, got {layer!r}")
    if unit is not None and (not isinstance(unit, (int, np.integer))
                             or not 0 <= unit < net.sizes[layer]):
        raise ValueError(f"unit must be an integer in 0..{net.sizes[layer] - 1}, got {unit!r}")


def effective_weights(net: Network, layer: int, unit: int | None = None) -> np.ndarray:
    """Effective weight of every input pixel on a neuron (sum over paths of weight products).

    Parameters
    ----------
    net : Network
    layer : int
        1 = first hidden layer, ``len(net.layers)`` = output layer.
    unit : int, optional
        Neuron within the layer; default all of them.

    Returns
    -------
    ndarray of shape (n_inputs,), or (n_inputs, n_units) when ``unit`` is None
    """
    _check(net, layer, unit)
    E = net.layers[0].W
    for lay in net.layers[1:layer]:
        E = E @ lay.W
    return E[:, unit] if unit is not None else E


def _activity(net: Network, X: np.ndarray, layer: int) -> np.ndarray:
    A = forward(net, X, layer)
    if net.layers[layer - 1].activation in ("identity", "tanh"):
        A = np.maximum(A, 0.0)  # signed activations: only the positive response counts
    return A


def activity_weighted_average(net: Network, X: np.ndarray, layer: int,
                              unit: int | None = None) -> np.ndarray:
    """The images of ``X`` averaged with each neuron's activity as weights.

    For ReLU, logistic and softmax layers the activity is the activation itself; for
    signed activations (identity, tanh) its positive part. A neuron silent on every
    image gets an all-zero average.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_inputs)
    layer : int
    unit : int, optional
        Default: every neuron of the layer.

    Returns
    -------
    ndarray of shape (n_inputs,), or (n_inputs, n_units) when ``unit`` is None
    """
    _check(net, layer, unit)
    X = np.asarray(X, dtype=float)
    A = _activity(net, X, layer)
    if unit is not None:
        A = A[:, [unit]]
    total = A.sum(axis=0)
    avg = (X.T @ A) / np.where(total > 0, total, 1.0)
    return avg[:, 0] if unit is not None else avg


def activation_sparsity(net: Network, X: np.ndarray, layer: int, *, strong: float = 0.5,
                        mild: float = 0.1, scale_quantile: float = 0.99) -> np.ndarray:
    """How many neurons of a layer each image activates strongly and mildly.

    Each neuron's activity is divided by its own ``scale_quantile`` over ``X`` (its
    typical strong response), so neurons with large and small ranges count alike. A
    neuron is *strongly* active on an image at ``>= strong`` of that scale, *mildly*
    at ``>= mild`` and below ``strong``.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_inputs)
    layer : int
        A hidden layer.
    strong, mild : float
    scale_quantile : float

    Returns
    -------
    ndarray of shape (n_samples, 2), int
        Columns: strongly active count, mildly active count.
    """
    _check(net, layer)
    if not 0 < mild < strong:
        raise ValueError("need 0 < mild < strong")
    A = _activity(net, np.asarray(X, dtype=float), layer)
    scale = np.quantile(A, scale_quantile, axis=0)
    R = A / np.where(scale > 0, scale, np.inf)
    return np.column_stack([(R >= strong).sum(axis=1), ((R >= mild) & (R < strong)).sum(axis=1)])
