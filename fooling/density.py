"""A density model beside the classifier: is this point anything like the training data?

The first essay's second remedy. A discriminative model answers "which class?" even
where no training point lies; a density model of the training inputs answers "how
typical is this input?", and can veto confident answers far from the data.

* :class:`DensityCheck` — a Gaussian mixture on 2D points (iris petals, an MLP's
  hidden encodings).
* :class:`ImageDensityCheck` — for 784-pixel images (e.g. inverted fooling images): a
  Gaussian mixture on the leading principal components plus an isotropic Gaussian on
  what PCA leaves out (a mixture of probabilistic PCAs sharing one subspace), so an
  image far from the digits' subspace gets a very low density; images outside the
  pixel range, and (two-sided) images *more* likely than any digit, are flagged too.

Both are fitted with scikit-learn and then hold plain arrays only: scoring is numpy
(:func:`gaussian_mixture_log_density`, equal to ``GaussianMixture.score_samples``), and
``to_arrays``/``from_arrays`` store a fitted check in an ``.npz`` and read it back
without scikit-learn. The "flagged" share of a confident area is
:func:`fooling.metrics.flagged_share`.

Both checks score a point by its log-density's *percentile* among the training
points (the share of training points with a lower log-density, 0 to 100) and call it
in distribution when that percentile is ``>= threshold_percentile``; with the default
1.0, about 1% of the training points themselves are flagged.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .params import Params

__all__ = ["DensityCheck", "ImageDensityCheck", "gaussian_mixture_log_density"]

_LOG_2PI = float(np.log(2 * np.pi))


def _full_precision_cholesky(prec_chol: np.ndarray, covariance_type: str, n_components: int,
                             n_features: int) -> np.ndarray:
    """scikit-learn's ``precisions_cholesky_`` of any covariance type as (k, d, d) matrices."""
    P = np.asarray(prec_chol, dtype=float)
    if covariance_type == "full":
        return P.reshape(n_components, n_features, n_features)
    if covariance_type == "tied":
        return np.broadcast_to(P.reshape(n_features, n_features), (n_components, n_features, n_features))
    if covariance_type == "diag":
        return np.stack([np.diag(row) for row in P.reshape(n_components, n_features)])
    if covariance_type == "spherical":
        return np.stack([v * np.eye(n_features) for v in P.reshape(n_components)])
    raise ValueError(f"unknown covariance type {covariance_type!r}")


def gaussian_mixture_log_density(X: np.ndarray, weights: np.ndarray, means: np.ndarray,
                                 prec_chol: np.ndarray) -> np.ndarray:
    """Log-density of a Gaussian mixture at each row of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    weights : ndarray of shape (k,)
    means : ndarray of shape (k, d)
    prec_chol : ndarray of shape (k, d, d)
        Cholesky factors of the precision matrices (``Sigma_k^-1 = P_k P_k^T``), as
        scikit-learn's ``precisions_cholesky_`` for full covariances.

    Returns
    -------
    ndarray of shape (n,)
        The same numbers as ``GaussianMixture.score_samples``.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    d = X.shape[1]
    logs = np.empty((len(X), len(weights)))
    for k, (mu, P) in enumerate(zip(means, prec_chol)):
        y = X @ P - mu @ P
        logs[:, k] = (-0.5 * (d * _LOG_2PI + np.einsum("ij,ij->i", y, y))
                      + np.sum(np.log(np.diag(P))) + np.log(weights[k]))
    top = logs.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    return (top + np.log(np.exp(logs - top).sum(axis=1, keepdims=True)))[:, 0]


class _Mixture:
    """A fitted Gaussian mixture as arrays (weights, means, precision Cholesky factors)."""

    def __init__(self, weights, means, prec_chol):
        self.weights = np.asarray(weights, dtype=float)
        self.means = np.asarray(means, dtype=float)
        self.prec_chol = np.asarray(prec_chol, dtype=float)

    @classmethod
    def fit(cls, X: np.ndarray, n_components: int, covariance_type: str, random_state,
            **kw) -> "_Mixture":
        from sklearn.mixture import GaussianMixture  # fitting only: scoring needs numpy alone

        g = GaussianMixture(n_components, covariance_type=covariance_type,
                            random_state=random_state, **kw).fit(X)
        k, d = g.means_.shape
        return cls(g.weights_, g.means_,
                   _full_precision_cholesky(g.precisions_cholesky_, covariance_type, k, d))

    def log_density(self, X: np.ndarray) -> np.ndarray:
        return gaussian_mixture_log_density(X, self.weights, self.means, self.prec_chol)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}weights": self.weights, f"{prefix}means": self.means,
                f"{prefix}prec_chol": self.prec_chol}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> "_Mixture":
        return cls(arrays[f"{prefix}weights"], arrays[f"{prefix}means"], arrays[f"{prefix}prec_chol"])


class _PercentileMixin(Params):
    """Percentile and verdict from ``log_density`` and ``train_log_density_``."""

    def _set_reference(self, X: np.ndarray) -> None:
        self.train_log_density_ = np.sort(self.log_density(X))

    def percentile(self, P: np.ndarray) -> np.ndarray:
        """Share of training points with a lower log-density, in percent.

        Parameters
        ----------
        P : ndarray of shape (n, n_features)

        Returns
        -------
        ndarray of shape (n,)
            In [0, 100].
        """
        ref = self.train_log_density_
        return 100.0 * np.searchsorted(ref, self.log_density(P), side="left") / len(ref)

    def in_distribution(self, P: np.ndarray) -> np.ndarray:
        """Whether each point is at least as typical as the ``threshold_percentile`` training point.

        Returns
        -------
        ndarray of shape (n,), bool
        """
        return self.percentile(P) >= self.threshold_percentile

    def _params(self) -> dict:
        return self.get_params()

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays of the fitted check (for :func:`fooling.store.save`; no pickle)."""
        out = {"params": np.array(repr(self._params())), "train_log_density": self.train_log_density_}
        out.update(self._fitted_arrays())
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]):
        """Inverse of :meth:`to_arrays`; needs numpy only."""
        import ast

        params = ast.literal_eval(str(arrays["params"]))
        if not isinstance(params, dict) or set(params) != set(cls._param_names()):
            raise ValueError(f"not the parameters of a {cls.__name__}: {params!r}")
        self = cls(**params)
        self._load_fitted(arrays)
        self.train_log_density_ = np.asarray(arrays["train_log_density"], dtype=float)
        return self


class DensityCheck(_PercentileMixin):
    """Gaussian-mixture density of 2D training points, with an out-of-distribution verdict.

    Parameters
    ----------
    n_components : int, default=4
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    random_state : int, default=0
    threshold_percentile : float, default=1.0
        Points whose log-density is below this percentile of the training points'
        are out of distribution.

    Attributes
    ----------
    mixture_ : the fitted mixture (weights, means, precision Cholesky factors)
    train_log_density_ : ndarray of shape (n_train,)
        Log-density of each training point, sorted ascending.
    """

    def __init__(self, n_components: int = 4, covariance_type: str = "full",
                 random_state: int = 0, threshold_percentile: float = 1.0):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.random_state = random_state
        self.threshold_percentile = threshold_percentile

    def __repr__(self) -> str:
        return f"DensityCheck({', '.join(f'{k}={v!r}' for k, v in self._params().items())})"

    def fit(self, X: np.ndarray) -> "DensityCheck":
        """Fit the mixture on training points of shape (n_train, n_features). Returns ``self``."""
        X = np.asarray(X, dtype=float)
        self.mixture_ = _Mixture.fit(X, self.n_components, self.covariance_type, self.random_state)
        self._set_reference(X)
        return self

    def log_density(self, P: np.ndarray) -> np.ndarray:
        """Log of the fitted density, ndarray of shape (n,), for points of shape (n, n_features)."""
        return self.mixture_.log_density(P)

    def _fitted_arrays(self) -> dict:
        return self.mixture_.arrays("gmm_")

    def _load_fitted(self, arrays) -> None:
        self.mixture_ = _Mixture.from_arrays(arrays, "gmm_")


class ImageDensityCheck(_PercentileMixin):
    """Density of images: a mixture on principal components plus a Gaussian residual.

    ``log p(x) = log p_gmm(z) + log N(r; 0, s2 I)`` where ``z`` are the ``n_pca``
    leading principal component scores of ``x``, ``r`` the part of ``x - mean``
    outside that subspace (dimension ``n_features - n_pca``) and ``s2`` the mean
    variance PCA discarded. A noise image, or an inverted image off the digits'
    subspace, has a huge residual and so a tiny density.

    Two refinements make it a check of *typicality* rather than of density alone:

    * support: an image with a pixel outside the training pixels' range
      (``[pixel_min_, pixel_max_]``, i.e. [0, 1]) cannot come from the data; its
      log-density is ``-inf``;
    * two-sided (``two_sided=True``): in 784 dimensions the *most* likely images are
      atypical. The blank image, the mean digit and a faint minimum-norm inversion all
      have a higher log-density than every training digit (a known trap of density
      models), because every real digit carries detail off the principal subspace. So
      an image is in distribution only when its percentile lies in
      ``[threshold_percentile, 100 - threshold_percentile]``.

    Parameters
    ----------
    n_pca : int, default=30
    n_components : int, default=4
    covariance_type : str, default='diag'
        Of the mixture on the PCA scores. (On MNIST digits the residual term decides
        most verdicts; the mixture's form hardly matters, and 'diag' is fastest.)
    random_state : int, default=0
    threshold_percentile : float, default=1.0
    two_sided : bool, default=True

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    components_ : ndarray of shape (n_pca, n_features)
        The principal axes (as ``sklearn.decomposition.PCA``).
    mixture_ : the mixture on the PCA scores
    noise_variance_ : float
        ``s2``, the residual variance per discarded dimension.
    pixel_min_, pixel_max_ : float
        Range of the training pixels.
    train_log_density_ : ndarray of shape (n_train,)
        Sorted ascending.
    """

    def __init__(self, n_pca: int = 30, n_components: int = 4, covariance_type: str = "diag",
                 random_state: int = 0, threshold_percentile: float = 1.0, two_sided: bool = True):
        self.n_pca = n_pca
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.random_state = random_state
        self.threshold_percentile = threshold_percentile
        self.two_sided = two_sided

    def __repr__(self) -> str:
        return f"ImageDensityCheck({', '.join(f'{k}={v!r}' for k, v in self._params().items())})"

    def fit(self, X: np.ndarray) -> "ImageDensityCheck":
        """Fit on training images of shape (n_train, n_features). Returns ``self``."""
        from sklearn.decomposition import PCA  # fitting only

        X = np.asarray(X, dtype=float)
        self.pixel_min_, self.pixel_max_ = float(X.min()), float(X.max())
        pca = PCA(self.n_pca, random_state=self.random_state).fit(X)
        self.mean_, self.components_ = pca.mean_, pca.components_
        self.mixture_ = _Mixture.fit(pca.transform(X), self.n_components, self.covariance_type,
                                     self.random_state, reg_covar=1e-4)
        self.noise_variance_ = max(float(pca.noise_variance_), 1e-12)
        self._set_reference(X)
        return self

    def scores(self, P: np.ndarray) -> np.ndarray:
        """Principal component scores of images of shape (n, n_features), shape (n, n_pca)."""
        return (np.atleast_2d(np.asarray(P, dtype=float)) - self.mean_) @ self.components_.T

    def log_density(self, P: np.ndarray) -> np.ndarray:
        """Log-density, ndarray of shape (n,), for images of shape (n, n_features).

        ``-inf`` for images with a pixel outside ``[pixel_min_, pixel_max_]``.
        """
        P = np.atleast_2d(np.asarray(P, dtype=float))
        Z = self.scores(P)
        resid = (P - self.mean_) - Z @ self.components_
        d = P.shape[1] - self.components_.shape[0]
        s2 = self.noise_variance_
        log_resid = -0.5 * (np.einsum("ij,ij->i", resid, resid) / s2 + d * np.log(2 * np.pi * s2))
        out = self.mixture_.log_density(Z) + log_resid
        eps = 1e-9 * max(1.0, self.pixel_max_ - self.pixel_min_)
        outside = (P.min(axis=1) < self.pixel_min_ - eps) | (P.max(axis=1) > self.pixel_max_ + eps)
        out[outside] = -np.inf
        return out

    def in_distribution(self, P: np.ndarray) -> np.ndarray:
        """Whether each image's log-density percentile is typical of the training images.

        Returns
        -------
        ndarray of shape (n,), bool
            ``percentile >= threshold_percentile`` and, when ``two_sided``,
            ``percentile <= 100 - threshold_percentile``.
        """
        pc = self.percentile(P)
        ok = pc >= self.threshold_percentile
        if self.two_sided:
            ok &= pc <= 100.0 - self.threshold_percentile
        return ok

    def _fitted_arrays(self) -> dict:
        return {"mean": self.mean_, "components": self.components_,
                "scalars": np.array([self.noise_variance_, self.pixel_min_, self.pixel_max_]),
                **self.mixture_.arrays("gmm_")}

    def _load_fitted(self, arrays) -> None:
        self.mean_ = np.asarray(arrays["mean"], dtype=float)
        self.components_ = np.asarray(arrays["components"], dtype=float)
        self.noise_variance_, self.pixel_min_, self.pixel_max_ = (float(v) for v in arrays["scalars"])
        self.mixture_ = _Mixture.from_arrays(arrays, "gmm_")
