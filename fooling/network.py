"""A multi-layer perceptron as plain arrays.

A :class:`Network` is a list of dense layers ``(W, b, activation)`` in the
row-vector convention of scikit-learn: a layer maps ``x`` of shape
``(n_samples, n_in)`` to ``activation(x @ W + b)`` of shape ``(n_samples, n_out)``.
The last layer's activation is the output function (``softmax`` for more than two
classes), so class probabilities can be computed from the activations of any layer.

Layers are counted from the input: ``forward(net, X, upto=0)`` is the input itself,
``upto=k`` the activations after the k-th layer, and ``upto=len(net.layers)`` the
class probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "CODOMAINS",
    "DERIVATIVES",
    "Layer",
    "Network",
    "forward",
    "logits_from",
    "predict_proba_from",
    "softmax",
]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Rows sum to one.
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):  # e.g. -1e308 - 1e308 = -inf, whose exp is exactly 0
        z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _logistic(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: z,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "logistic": _logistic,
    "softmax": softmax,
}
"""Activation functions by the names scikit-learn uses."""

DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: np.ones_like(a),
    "tanh": lambda a: 1.0 - a**2,
    "relu": lambda a: (a > 0).astype(float),
    "logistic": lambda a: a * (1.0 - a),
}
"""Derivative of each hidden activation, written in terms of its *output* ``a``."""

CODOMAINS: dict[str, tuple[float, float]] = {
    "identity": (-np.inf, np.inf),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
    "logistic": (0.0, 1.0),
}
"""Interval each hidden activation can output: open, except that ReLU's lower bound 0 is an
output too (its range is ``[0, inf)``; see :meth:`fooling.inversion.Inverter.in_codomain`)."""


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``activation(x @ W + b)``.

    Attributes
    ----------
    W : ndarray of shape (n_in, n_out)
    b : ndarray of shape (n_out,)
    activation : str
        A key of :data:`ACTIVATIONS`.
    """

    W: np.ndarray
    b: np.ndarray
    activation: str

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[1],):
            raise ValueError(f"layer shapes do not match: W {self.W.shape}, b {self.b.shape}")


@dataclass(frozen=True)
class Network:
    """A feed-forward network as a sequence of :class:`Layer`.

    Attributes
    ----------
    layers : tuple of Layer
        Hidden layers then the output layer.
    classes : ndarray of shape (n_classes,)
        Class label of each output unit.
    """

    layers: tuple[Layer, ...]
    classes: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        coefs: Sequence[np.ndarray],
        intercepts: Sequence[np.ndarray],
        hidden_activation: str,
        classes: Sequence,
        output_activation: str = "softmax",
    ) -> "Network":
        """Build a network from weight and bias lists (as in ``MLPClassifier``).

        Parameters
        ----------
        coefs : sequence of ndarray, each of shape (n_in, n_out)
        intercepts : sequence of ndarray, each of shape (n_out,)
        hidden_activation : str
            Activation of every layer but the last.
        classes : sequence of length n_classes
        output_activation : str, default="softmax"
        """
        if len(coefs) != len(intercepts) or not coefs:
            raise ValueError("need as many weight matrices as bias vectors, at least one")
        n = len(coefs)
        layers = tuple(
            Layer(
                np.asarray(W, dtype=float),
                np.asarray(b, dtype=float),
                output_activation if i == n - 1 else hidden_activation,
            )
            for i, (W, b) in enumerate(zip(coefs, intercepts))
        )
        return cls(layers, np.asarray(classes))

    @classmethod
    def from_mlp(cls, mlp) -> "Network":
        """Copy the public ``coefs_``/``intercepts_`` of a fitted ``MLPClassifier``.

        A two-class MLP ends in one logistic unit ``s = sigmoid(z)``; it becomes a
        two-unit softmax over the logits ``(0, z)``, which gives exactly ``(1 - s, s)``.
        """
        out = mlp.out_activation_
        coefs, intercepts = list(mlp.coefs_), list(mlp.intercepts_)
        if out == "logistic":
            if len(mlp.classes_) != 2 or coefs[-1].shape[1] != 1:
                raise ValueError("only two-class MLPs end in a logistic unit")
            W, b = coefs[-1], intercepts[-1]
            coefs[-1] = np.hstack([np.zeros_like(W), W])
            intercepts[-1] = np.concatenate([np.zeros_like(b), b])
            out = "softmax"
        return cls.from_arrays(coefs, intercepts, mlp.activation, mlp.classes_, out)

    @property
    def hidden_activation(self) -> str:
        """Activation shared by the hidden layers."""
        return self.layers[0].activation if len(self.layers) > 1 else "identity"

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, input first: e.g. ``(784, 50, 20, 2, 4)``."""
        return (self.layers[0].W.shape[0],) + tuple(layer.W.shape[1] for layer in self.layers)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat dict of arrays (``W0, b0, W1, ...``, ``classes``, ``activations``) for ``np.savez``."""
        arrays: dict[str, np.ndarray] = {"classes": self.classes,
                                         "activations": np.array([l.activation for l in self.layers])}
        for i, layer in enumerate(self.layers):
            arrays[f"W{i}"] = layer.W
            arrays[f"b{i}"] = layer.b
        return arrays

    @classmethod
    def from_saved(cls, arrays) -> "Network":
        """Inverse of :meth:`to_arrays`."""
        acts = [str(a) for a in arrays["activations"]]
        layers = tuple(Layer(np.asarray(arrays[f"W{i}"], dtype=float),
                             np.asarray(arrays[f"b{i}"], dtype=float), a)
                       for i, a in enumerate(acts))
        return cls(layers, np.asarray(arrays["classes"]))


def _as_rows(X: np.ndarray, width: int, what: str) -> tuple[np.ndarray, bool]:
    X = np.asarray(X, dtype=float)
    single = X.ndim == 1
    X = np.atleast_2d(X)
    if X.ndim != 2 or X.shape[1] != width:
        raise ValueError(f"{what} must have {width} columns, got shape {np.shape(X)}")
    return X, single


def forward(net: Network, X: np.ndarray, upto: int | None = None, *, start: int = 0) -> np.ndarray:
    """Propagate activations through layers ``start .. upto-1``.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_units_at_start) or (n_units_at_start,)
        Activations of layer ``start`` (the input when ``start=0``).
    upto : int, optional
        Stop after this many layers from the input; default: through the output
        (class probabilities).
    start : int, default=0
        Layer whose activations ``X`` holds.

    Returns
    -------
    ndarray of shape (n_samples, n_units_at_upto), or 1-D for 1-D input
    """
    n = len(net.layers)
    upto = n if upto is None else upto
    if not 0 <= start <= upto <= n:
        raise ValueError(f"need 0 <= start <= upto <= {n}, got start={start}, upto={upto}")
    H, single = _as_rows(X, net.sizes[start], f"activations of layer {start}")
    for layer in net.layers[start:upto]:
        H = ACTIVATIONS[layer.activation](H @ layer.W + layer.b)
    return H[0] if single else H


def logits_from(net: Network, H: np.ndarray, layer: int) -> np.ndarray:
    """Output-layer pre-activations (logits) from the activations of ``layer``.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_units) or (n_units,)
    layer : int
        Which layer ``H`` belongs to (``len(net.layers) - 1`` is the last hidden layer).
    """
    n = len(net.layers)
    H = forward(net, H, n - 1, start=layer)
    last = net.layers[-1]
    return np.asarray(H) @ last.W + last.b


def predict_proba_from(net: Network, H: np.ndarray, layer: int) -> np.ndarray:
    """Class probabilities from the activations of any layer.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_units) or (n_units,)
    layer : int
        Which layer ``H`` belongs to; 0 is the input.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), or (n_classes,) for 1-D input
    """
    return forward(net, H, start=layer)
