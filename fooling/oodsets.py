"""The sets a 0-3 network's out-of-distribution scores are measured on, and the measurement.

In-distribution (``in``): the held-out digits 0-3 of the networks' split (25%, stratified,
seed :data:`fooling.datasets.SPLIT_SEED`; 500 rows of the bundled sample), the same rows
for the identity, tanh and ReLU nets.

Near-OOD, ``near_digits_4_9``: digits 4-9 of the same MNIST source, namely the rows
labelled 4-9 among the held-out 25% of the stratified ten-digit split (same seed) that
the 784-64-64-10 net is tested on (750 rows of the bundled sample, 125 per digit; about
1,500 of mnist-t10k). The 0-3 nets saw no 4-9 digit at all.

Far-OOD, each with as many images as ``in`` (seeds in :data:`SEEDS`):

* ``uniform_noise`` — every pixel uniform in [0, 1];
* ``gaussian_noise`` — every pixel normal with the mean and standard deviation of all
  training pixels (scalars), clipped to [0, 1];
* ``permuted`` — each held-out 0-3 digit with its pixels shuffled by its own random
  permutation (the same pixel values, no shape);
* ``alpha_2``, ``alpha_5``, ``alpha_10``, ``alpha_100`` — the held-out 0-3 digits times
  2, 5, 10 and 100 (Hein et al.'s rays; pixels leave [0, 1]);
* ``fooling_images`` — per network, the inversions (any pixel values, as the essay's)
  of hidden points 2 to 10 data radii from the training encodings' centroid (distance
  uniform in that range, direction uniform; for the ReLU net only directions into the
  positive quadrant, which it cannot leave; for the tanh net, whose whole plane lies
  within 1.5 data radii, the point is clipped into ``[-TANH_EDGE, TANH_EDGE]^2``: as far
  out as its plane goes). Points that do not invert are left out.
"""

from __future__ import annotations

import numpy as np

from .inversion import InversionError
from .ood import METRICS, SCORES, ood_metrics
from .probes import data_radius

__all__ = ["ALPHA_SCALES", "FAR_SETS", "FOOLING_RADII", "NEAR_SETS", "SEEDS", "SETS", "TANH_EDGE",
           "evaluate", "far_sets", "fooling_images", "fooling_targets", "near_digits"]

ALPHA_SCALES = (2, 5, 10, 100)
NEAR_SETS = ("near_digits_4_9",)
FAR_SETS = ("uniform_noise", "gaussian_noise", "permuted") + tuple(f"alpha_{a}" for a in ALPHA_SCALES) \
    + ("fooling_images",)
SETS = NEAR_SETS + FAR_SETS
"""Every out-of-distribution set, near first."""

SEEDS = {"uniform_noise": 1, "gaussian_noise": 2, "permuted": 3, "fooling_images": 4}
"""``numpy.random.default_rng`` seed of each random set (the same for every network)."""

FOOLING_RADII = (2.0, 10.0)
"""``fooling_images`` targets lie this many data radii from the encodings' centroid."""

TANH_EDGE = 0.999
"""The tanh net's ``fooling_images`` targets are clipped into ``[-TANH_EDGE, TANH_EDGE]^2``."""


def near_digits(ws) -> np.ndarray:
    """The ``near_digits_4_9`` images, ndarray of shape (n, 784) (see the module docstring).

    Raises
    ------
    ValueError
        The workspace has no ten-digit (``neurons``) network, whose split defines the rows.
    """
    if "neurons" not in ws.mnist:
        raise ValueError("near_digits_4_9 needs the ten-digit split: load the 'neurons' net too")
    split = ws.mnist["neurons"].split
    return split.X_test[split.y_test >= 4]


def far_sets(X_in: np.ndarray, X_train: np.ndarray) -> dict[str, np.ndarray]:
    """Every far-OOD set but ``fooling_images``, each of shape (len(X_in), n_inputs).

    Parameters
    ----------
    X_in : ndarray of shape (n, n_inputs)
        Held-out in-distribution digits, pixels in [0, 1].
    X_train : ndarray of shape (n_train, n_inputs)
        Training images (their pixel mean and spread set ``gaussian_noise``).
    """
    X_in = np.asarray(X_in, dtype=float)
    n, d = X_in.shape
    mean, sd = float(np.mean(X_train)), float(np.std(X_train))
    out = {
        "uniform_noise": np.random.default_rng(SEEDS["uniform_noise"]).uniform(0.0, 1.0, size=(n, d)),
        "gaussian_noise": np.clip(np.random.default_rng(SEEDS["gaussian_noise"]).normal(mean, sd, size=(n, d)),
                                  0.0, 1.0),
        "permuted": np.random.default_rng(SEEDS["permuted"]).permuted(X_in, axis=1),
    }
    out.update({f"alpha_{a}": a * X_in for a in ALPHA_SCALES})
    return out


def fooling_targets(model, n: int, seed: int = SEEDS["fooling_images"]) -> np.ndarray:
    """Hidden points 2 to 10 data radii out (see the module docstring), ndarray of shape (n, 2).

    Parameters
    ----------
    model : fooling.workspace.MnistModel
    n : int
    seed : int
    """
    inv = model.inverter
    centroid, radius = data_radius(model.train_hidden)
    rng = np.random.default_rng(seed)
    r = rng.uniform(*FOOLING_RADII, size=n) * radius
    quadrant = bool(getattr(inv, "relu_", False))
    theta = rng.uniform(0.0, np.pi / 2 if quadrant else 2 * np.pi, size=n)
    H = centroid + r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    lo, hi = inv.codomain
    if np.isfinite(lo) and np.isfinite(hi):
        H = np.clip(H, -TANH_EDGE, TANH_EDGE)
    return np.maximum(H, 0.0) if quadrant else H


def fooling_images(model, n: int, seed: int = SEEDS["fooling_images"]) -> tuple[np.ndarray, np.ndarray]:
    """Inversions of :func:`fooling_targets`: ``(images (m, 784), hidden points (m, 2))``, m <= n."""
    images, points = [], []
    for h in fooling_targets(model, n, seed):
        try:
            r = model.inverter.invert(h)
        except InversionError:
            continue
        images.append(r.image)
        points.append(h)
    d = model.net.sizes[0]
    return np.array(images).reshape(-1, d), np.array(points).reshape(-1, 2)


def evaluate(scorers: dict, X_in: np.ndarray, sets: dict[str, np.ndarray],
             own_sets: dict[str, dict[str, np.ndarray]] | None = None) -> dict:
    """Every score of every network on every set.

    Parameters
    ----------
    scorers : dict of str to fooling.ood.Scorer
    X_in : ndarray of shape (n_in, n_inputs)
        In-distribution images.
    sets : dict of str to ndarray of shape (n_set, n_inputs)
        Sets shared by the networks.
    own_sets : dict of str to dict of str to ndarray, optional
        Per network, sets of its own (``fooling_images``).

    Returns
    -------
    dict
        ``metrics``: ``{network: {score: {set: {"auroc", "fpr95", "aupr_in", "aupr_out"}}}}``;
        ``mean_max_probability``: ``{network: {"in" or set: float}}`` (Hein et al.'s MMC);
        ``n``: ``{network: {"in" or set: int}}``.
    """
    metrics, mmc, sizes = {}, {}, {}
    for name, scorer in scorers.items():
        mine = {**sets, **(own_sets or {}).get(name, {})}
        s_in = scorer.scores(X_in)
        metrics[name] = {score: {} for score in SCORES}
        mmc[name] = {"in": float(np.mean(s_in["msp"]))}
        sizes[name] = {"in": int(len(X_in))}
        for set_name in [s for s in SETS if s in mine]:
            s_out = scorer.scores(mine[set_name])
            mmc[name][set_name] = float(np.mean(s_out["msp"]))
            sizes[name][set_name] = int(len(mine[set_name]))
            for score in SCORES:
                metrics[name][score][set_name] = ood_metrics(s_in[score], s_out[score])
    return {"metrics": metrics, "mean_max_probability": mmc, "n": sizes, "metric_names": list(METRICS)}
