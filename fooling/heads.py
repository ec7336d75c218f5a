"""Replace an MLP's linear output layer by an RBF-kernel classifier.

The first essay's first remedy. The essay's MLPs end in a 2-unit hidden layer and a
linear softmax head: in that plane every class region but a bounded few is an
unbounded wedge in which the confidence tends to one. Keep the network up to its
last hidden layer (the *encoder*), and fit on the training encodings

    StandardScaler -> CalibratedClassifierCV(SVC(kernel='rbf'), method='sigmoid',
                                             ensemble=False, cv=5)

(the replacement of the deprecated ``SVC(probability=True)``). Far from every
training encoding each RBF kernel value is ~0, so every decision value falls back to
a constant built from the SVM's intercepts and the Platt-scaled probabilities to one
fixed vector: far away the head answers the same thing everywhere. How sure that
constant answer is depends on the fit, not on the distance: on the bundled identity
net it is ~0.79 (the linear head: ~1.0), but on the ReLU net's plane it is ~0.99, so
an RBF head removes the growth of confidence with distance, not confidence far away.

Fitting uses scikit-learn; the fitted head is kept as a
:class:`fooling.classifiers.PlattSVC` (plain arrays, numpy scoring, the same
probabilities), so it can be stored with ``to_arrays`` and read back with
``from_arrays`` where scikit-learn is never imported.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .classifiers import PlattSVC, from_sklearn
from .network import Network, forward
from .params import Params

__all__ = ["RBFHead", "fit_rbf_head"]


class RBFHead(Params):
    """An RBF-kernel SVM with Platt-scaled probabilities on a network's hidden encodings.

    Parameters
    ----------
    encoder : Network, optional
        The network whose hidden layer ``layer`` the head reads (only needed by the
        image methods :meth:`predict_proba_images` and :meth:`score_images`).
    layer : int, optional
        Hidden layer of ``encoder``; default its last hidden layer.
    C : float, default=1.0
    gamma : {'scale', 'auto'} or float, default='scale'
        Of the RBF kernel, on standardised encodings.
    cv : int, default=5
        Folds of the sigmoid calibration (shuffled, seeded by ``random_state``).
    random_state : int, default=0

    Attributes
    ----------
    svc_ : fooling.classifiers.PlattSVC
        ``StandardScaler`` then ``CalibratedClassifierCV(SVC(kernel='rbf'))``, as arrays.
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(self, encoder: Network | None = None, layer: int | None = None, C: float = 1.0,
                 gamma: str | float = "scale", cv: int = 5, random_state: int = 0):
        self.encoder = encoder
        self.layer = layer
        self.C = C
        self.gamma = gamma
        self.cv = cv
        self.random_state = random_state

    def __repr__(self) -> str:  # the encoder's weight arrays would swamp sklearn's repr
        enc = None if self.encoder is None else f"<Network {self.encoder.sizes}>"
        return (f"RBFHead(encoder={enc}, layer={self.layer}, C={self.C!r}, gamma={self.gamma!r}, "
                f"cv={self.cv}, random_state={self.random_state!r})")

    def fit(self, H: np.ndarray, y: np.ndarray) -> "RBFHead":
        """Fit on hidden encodings.

        Parameters
        ----------
        H : ndarray of shape (n_train, n_hidden)
        y : ndarray of shape (n_train,)

        Returns
        -------
        self
        """
        from sklearn.calibration import CalibratedClassifierCV  # fitting only
        from sklearn.model_selection import StratifiedKFold
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        H = np.asarray(H, dtype=float)
        scaler = StandardScaler().fit(H)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        svm = CalibratedClassifierCV(SVC(kernel="rbf", C=self.C, gamma=self.gamma),
                                     method="sigmoid", ensemble=False, cv=folds)
        svm.fit(scaler.transform(H), np.asarray(y))
        self.svc_ = from_sklearn(svm, shift=scaler.mean_, scale=scaler.scale_)
        self.classes_ = self.svc_.classes_
        return self

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted head as plain arrays (the encoder is not included)."""
        params = np.array([self.C, self.cv, self.random_state], dtype=float)
        return {**self.svc_.to_arrays(), "head_params": params,
                "head_gamma": np.array(str(self.gamma)),
                "head_layer": np.array(-1 if self.layer is None else int(self.layer))}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], encoder: Network | None = None) -> "RBFHead":
        """Inverse of :meth:`to_arrays`; needs numpy only."""
        C, cv, seed = (float(v) for v in arrays["head_params"])
        gamma = str(arrays["head_gamma"])
        layer = int(arrays["head_layer"])
        head = cls(encoder, None if layer < 0 else layer, C=C,
                   gamma=gamma if gamma in ("scale", "auto") else float(gamma), cv=int(cv),
                   random_state=int(seed))
        head.svc_ = PlattSVC.from_arrays(arrays)
        head.classes_ = head.svc_.classes_
        return head

    def predict_proba(self, H: np.ndarray) -> np.ndarray:
        """Class probabilities at hidden points.

        Parameters
        ----------
        H : ndarray of shape (n, n_hidden)

        Returns
        -------
        ndarray of shape (n, n_classes)
            Columns in the order of ``classes_``.
        """
        return self.svc_.predict_proba(np.atleast_2d(np.asarray(H, dtype=float)))

    def predict(self, H: np.ndarray) -> np.ndarray:
        """Most probable class label at each hidden point, ndarray of shape (n,)."""
        return self.classes_[np.argmax(self.predict_proba(H), axis=1)]

    def score(self, H: np.ndarray, y: np.ndarray) -> float:
        """Accuracy on hidden encodings ``H`` of shape (n, n_hidden) with labels ``y``."""
        return float(np.mean(self.predict(H) == np.asarray(y)))

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Images of shape (n, n_inputs) to encodings of shape (n, n_hidden), through ``encoder``."""
        if self.encoder is None:
            raise ValueError("this head has no encoder: pass encoder= to use images")
        layer = len(self.encoder.layers) - 1 if self.layer is None else self.layer
        return forward(self.encoder, np.atleast_2d(X), layer)

    def predict_proba_images(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of images of shape (n, n_inputs), ndarray of shape (n, n_classes)."""
        return self.predict_proba(self.encode(X))

    def score_images(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy on images of shape (n, n_inputs): encoder, then this head."""
        return self.score(self.encode(X), y)


def fit_rbf_head(model, **params) -> RBFHead:
    """An :class:`RBFHead` on a trained MLP's training encodings.

    Parameters
    ----------
    model : fooling.workspace.MnistModel
        Supplies the encoder (``model.net`` up to ``model.hidden_layer``), the training
        encodings ``model.train_hidden`` and labels ``model.split.y_train``.
    **params
        ``C``, ``gamma``, ``cv``, ``random_state`` of :class:`RBFHead`.

    Returns
    -------
    RBFHead
        Fitted.
    """
    head = RBFHead(encoder=model.net, layer=model.hidden_layer, **params)
    return head.fit(model.train_hidden, model.split.y_train)
