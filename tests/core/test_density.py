"""Tests for fooling.density: 2D and image density checks, and the flagged share."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from fooling.density import DensityCheck, ImageDensityCheck, gaussian_mixture_log_density
from fooling.grids import disc_grid, top_proba
from fooling.metrics import density_flags, flagged_share
from fooling.network import predict_proba_from
from fooling.probes import data_radius, far_point


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]])
    return np.vstack([c + rng.normal(scale=0.6, size=(n // 3, 2)) for c in centres])


def ring(centroid, rho, n=64):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.asarray(centroid) + rho * np.column_stack([np.cos(t), np.sin(t)])


def test_fit_stores_sorted_training_log_density():
    X = blobs()
    d = DensityCheck(n_components=3)
    assert d.fit(X) is d
    assert d.train_log_density_.shape == (len(X),)
    assert np.all(np.diff(d.train_log_density_) >= 0)
    np.testing.assert_allclose(np.sort(d.log_density(X)), d.train_log_density_)
    assert clone(d).get_params() == d.get_params()


def test_percentile_and_verdict_on_training_and_far_points():
    X = blobs()
    d = DensityCheck(n_components=3).fit(X)
    pc = d.percentile(X)
    assert pc.min() >= 0 and pc.max() <= 100
    # by construction about threshold_percentile % of the training points are flagged
    assert 0.97 <= d.in_distribution(X).mean() <= 1.0
    assert d.in_distribution(blobs(seed=1)).mean() >= 0.95  # fresh points of the same law
    c, r = data_radius(X)
    far = ring(c, 10 * r)
    assert not d.in_distribution(far).any()
    assert np.all(d.percentile(far) == 0.0)
    # a stricter threshold flags more
    strict = DensityCheck(n_components=3, threshold_percentile=20).fit(X)
    assert strict.in_distribution(X).mean() == pytest.approx(0.8, abs=0.01)


def test_deterministic_for_a_seed():
    X = blobs()
    a = DensityCheck(random_state=3).fit(X).log_density(X[:10])
    b = DensityCheck(random_state=3).fit(X).log_density(X[:10])
    np.testing.assert_array_equal(a, b)


def linear_model(W, b):
    def proba(P):
        z = P @ W + b
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)
    return proba


def _flagged(d, f, c, r, R, resolution):
    pts = disc_grid(c, R * r, resolution)
    confident = top_proba(f, pts) >= 0.99
    return flagged_share(density_flags(d, pts, confident), confident)


def test_flagged_share_of_a_linear_models_confident_area():
    X = blobs()
    d = DensityCheck(n_components=3).fit(X)
    c, r = data_radius(X)
    f = linear_model(np.array([[-3.0, 3.0, 0.0], [-1.0, -1.0, 3.0]]), np.zeros(3))
    far = _flagged(d, f, c, r, 10, resolution=151)
    near = _flagged(d, f, c, r, 1, resolution=151)
    assert far > 0.98  # the linear model's confidence reaches far past the data
    assert near < far
    # a model that is never confident has no confident area to flag
    assert _flagged(d, lambda P: np.full((len(P), 2), 0.5), c, r, 5, resolution=51) is None


def test_flags_judge_only_the_confident_points():
    X = blobs()
    d = DensityCheck(n_components=3).fit(X)
    far = np.array([[100.0, 100.0], [200.0, -50.0]])
    P = np.vstack([X[:3], far])
    confident = np.array([True, False, True, True, False])
    flags = density_flags(d, P, confident)
    np.testing.assert_array_equal(flags, [False, False, False, True, False])
    assert flagged_share(flags, confident) == 1 / 3
    assert flagged_share(flags, np.zeros(5, bool)) is None


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_numpy_log_density_equals_scikit_learn(covariance_type):
    from sklearn.mixture import GaussianMixture

    X = blobs()
    d = DensityCheck(n_components=3, covariance_type=covariance_type).fit(X)
    g = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    P = np.vstack([X, np.random.default_rng(1).normal(scale=30, size=(200, 2))])
    np.testing.assert_allclose(d.log_density(P), g.score_samples(P), rtol=1e-12, atol=1e-9)
    m = d.mixture_
    np.testing.assert_allclose(gaussian_mixture_log_density(P, m.weights, m.means, m.prec_chol),
                               g.score_samples(P), rtol=1e-12, atol=1e-9)


def test_density_checks_round_trip_through_plain_arrays(tmp_path):
    from fooling import store

    X = blobs()
    d = DensityCheck(n_components=3, threshold_percentile=2.5).fit(X)
    path = store.save(tmp_path / "d.npz", d.to_arrays())
    back = DensityCheck.from_arrays(store.load(path)[0])
    assert back.get_params() == d.get_params()
    P = np.random.default_rng(2).normal(scale=5, size=(100, 2))
    np.testing.assert_array_equal(back.log_density(P), d.log_density(P))
    np.testing.assert_array_equal(back.in_distribution(P), d.in_distribution(P))
    images = np.random.default_rng(3).random((120, 40))
    c = ImageDensityCheck(n_pca=5, n_components=2).fit(images)
    again = ImageDensityCheck.from_arrays(store.load(store.save(tmp_path / "i.npz", c.to_arrays()))[0])
    np.testing.assert_array_equal(again.log_density(images), c.log_density(images))
    with pytest.raises(ValueError, match="parameters"):
        ImageDensityCheck.from_arrays(d.to_arrays())


def test_iris_petals_density(workspace):
    X = workspace.iris.X
    d = DensityCheck().fit(X)
    c, r = data_radius(X)
    assert d.in_distribution(X).mean() >= 0.98
    assert not d.in_distribution(ring(c, 10 * r)).any()
    # the essay's fooling points: (0.1, 5), (10, 10), (5, -5) are all out of distribution
    assert not d.in_distribution(np.array([[0.1, 5.0], [10.0, 10.0], [5.0, -5.0]])).any()


@pytest.fixture(scope="module")
def image_check(workspace):
    return ImageDensityCheck().fit(workspace.mnist["identity"].split.X_train)


def test_image_check_flags_noise_and_keeps_digits(workspace, image_check):
    split = workspace.mnist["identity"].split
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 1, size=(20, split.X_train.shape[1]))
    assert not image_check.in_distribution(noise).any()
    assert image_check.in_distribution(split.X_test).mean() >= 0.9
    assert image_check.noise_variance_ > 0
    assert image_check.percentile(split.X_test).shape == (len(split.X_test),)


def test_image_check_is_a_typicality_check(workspace, image_check):
    """The most likely images are not typical: blank and mean-digit images have a higher
    log-density than every training digit; the two-sided check flags them, a one-sided
    one does not. Pixels outside the data's range are outside its support."""
    X = workspace.mnist["identity"].split.X_train
    odd = np.array([np.zeros(X.shape[1]), X.mean(axis=0)])
    assert np.all(image_check.percentile(odd) == 100.0)
    assert not image_check.in_distribution(odd).any()
    one_sided = clone(image_check).set_params(two_sided=False).fit(X)
    assert one_sided.in_distribution(odd).all()
    assert one_sided.in_distribution(X).mean() > image_check.in_distribution(X).mean()
    out_of_range = X[:3].copy()
    out_of_range[:, 400] = [-0.01, 1.01, 5.0]
    assert np.all(image_check.log_density(out_of_range) == -np.inf)
    assert (image_check.pixel_min_, image_check.pixel_max_) == (0.0, 1.0)


def test_image_check_flags_inverted_fooling_images(workspace, image_check):
    """Every inverted image gets a verdict: the essay's far points (3 data radii out along
    each class's direction) invert to images the density check rejects."""
    m = workspace.mnist["identity"]
    c, r = data_radius(m.train_hidden)
    W = m.net.layers[-1].W
    images = []
    for k in range(len(m.net.classes)):
        res = m.inverter.invert(far_point(W, k, c, r, 3.0))
        assert res.confidence > 0.99
        images.append(res.image)
    assert not image_check.in_distribution(np.array(images)).any()
    # the linear head is sure of every one of them
    proba = predict_proba_from(m.net, m.train_hidden[:5], m.hidden_layer)
    assert proba.shape == (5, len(m.net.classes))
