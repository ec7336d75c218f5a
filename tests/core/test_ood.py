"""Out-of-distribution metrics on hand-computed cases, against scikit-learn, and the scores."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score

from fooling.network import forward, logits_from
from fooling.ood import (METRICS, SCORES, TiedGaussian, aupr_in, aupr_out, auroc, fpr_at_tpr,
                         ood_metrics)


def test_separated_scores_are_perfect():
    assert ood_metrics([3.0, 4.0], [1.0, 2.0]) == {"auroc": 1.0, "fpr95": 0.0, "aupr_in": 1.0, "aupr_out": 1.0}
    m = ood_metrics([1.0, 2.0], [3.0, 4.0])  # reversed: every OOD input scores higher
    assert m["auroc"] == 0.0 and m["fpr95"] == 1.0


def test_small_case_by_hand():
    # in 0.9, 0.8, 0.4; out 0.7, 0.3
    s_in, s_out = [0.9, 0.8, 0.4], [0.7, 0.3]
    assert auroc(s_in, s_out) == pytest.approx(5 / 6)  # 5 of the 6 (in, out) pairs are ordered
    assert fpr_at_tpr(s_in, s_out) == pytest.approx(0.5)  # all three in accepted at 0.4; so is 0.7
    # precision-recall, in positive: (R, P) = (1/3, 1), (2/3, 1), (2/3, 2/3), (1, 3/4), from (0, 1)
    assert aupr_in(s_in, s_out) == pytest.approx(1 / 3 + 1 / 3 + (2 / 3 + 3 / 4) / 2 / 3)
    # out positive, scores negated: (1/2, 1), (1/2, 1/2), (1, 2/3)
    assert aupr_out(s_in, s_out) == pytest.approx(1 / 2 + (1 / 2 + 2 / 3) / 2 / 2)


def test_fpr95_takes_the_threshold_keeping_95_percent():
    s_in = np.arange(100.0)  # accepting 95 of them needs the threshold 5
    assert fpr_at_tpr(s_in, [2.5, 50.5, 200.0]) == pytest.approx(2 / 3)
    assert fpr_at_tpr(s_in, [4.5, 5.5]) == pytest.approx(0.5)
    assert fpr_at_tpr(s_in, [4.5, 5.5], tpr=0.96) == pytest.approx(1.0)  # threshold 4 accepts both
    assert auroc(s_in, [2.5, 50.5, 200.0]) == pytest.approx((97 + 49 + 0) / 300)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    s_in = rng.normal(1.0, 1.0, 60).round(1)  # rounding makes ties
    s_out = rng.normal(0.0, 1.0, 45).round(1)
    y = np.r_[np.ones(60), np.zeros(45)]
    s = np.r_[s_in, s_out]
    assert auroc(s_in, s_out) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    # OOD positive with negated scores is the same area
    assert auroc(s_in, s_out) == pytest.approx(roc_auc_score(1 - y, -s), abs=1e-12)
    m = ood_metrics(s_in, s_out)
    assert list(m) == list(METRICS) and all(0.0 <= v <= 1.0 for v in m.values())


def test_infinite_scores_rank_below_and_above_everything():
    assert auroc([1.0, 2.0, 3.0], [-np.inf, -np.inf, 0.0]) == 1.0
    assert auroc([-np.inf, 5.0], [1.0]) == 0.5
    s_in, s_out = [np.inf, 0.2, -np.inf, 0.7], [0.1, -np.inf, 0.9]
    y = np.r_[np.ones(4), np.zeros(3)]
    finite = np.r_[1e9, 0.2, -1e9, 0.7, 0.1, -1e9, 0.9]
    assert auroc(s_in, s_out) == pytest.approx(roc_auc_score(y, finite), abs=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        auroc([0.1, np.nan], [0.2])
    with pytest.raises(ValueError, match="at least one"):
        auroc([], [0.2])


def test_tied_gaussian_by_hand():
    H = np.array([[-1, 0], [1, 0], [0, -2], [0, 2], [3, 0], [5, 0], [4, -2], [4, 2]], dtype=float)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    g = TiedGaussian().fit(H, y)
    np.testing.assert_allclose(g.means_, [[0, 0], [4, 0]])
    np.testing.assert_allclose(g.covariance_, np.diag([0.5, 2.0]), rtol=1e-8)
    # (1, 2): sqrt(1/0.5 + 4/2) = 2 from class 0, sqrt(9/0.5 + 4/2) = sqrt(20) from class 1
    np.testing.assert_allclose(g.distances([[1.0, 2.0]]), [[2.0, np.sqrt(20.0)]], rtol=1e-7)
    assert g.score([[1.0, 2.0]])[0] == pytest.approx(-2.0, rel=1e-7)
    again = TiedGaussian.from_arrays(g.to_arrays())
    np.testing.assert_array_equal(again.score(H), g.score(H))


def test_tied_gaussian_on_a_degenerate_relu_layer():
    # a class all at the origin and one on an axis, as a ReLU layer makes them
    H = np.array([[0.0, 0.0]] * 5 + [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    g = TiedGaussian().fit(H, np.array([0] * 5 + [1] * 3))
    assert np.all(np.isfinite(g.distances([[0.0, 1.0], [10.0, 0.0]])))


@pytest.fixture(scope="module")
def scorers(workspace):
    from fooling.analysis import WorkspaceAnalysis

    wa = WorkspaceAnalysis(workspace)
    return {n: wa.scorer(n) for n in ("identity", "tanh", "relu")}


@pytest.mark.parametrize("name", ["identity", "tanh", "relu"])
def test_scores_of_a_network(workspace, scorers, name):
    m, sc = workspace.mnist[name], scorers[name]
    X = np.asarray(m.split.X_test[:40], dtype=float)
    s = sc.scores(X)
    assert list(s) == list(SCORES) and all(v.shape == (40,) for v in s.values())
    np.testing.assert_allclose(s["msp"], forward(m.net, X).max(axis=1), rtol=1e-12)
    H = forward(m.net, X, m.hidden_layer)
    np.testing.assert_allclose(s["energy"], logsumexp(logits_from(m.net, H, m.hidden_layer), axis=1), rtol=1e-12)
    np.testing.assert_allclose(s["rbf_head"], sc.head.predict_proba(H).max(axis=1))
    np.testing.assert_allclose(s["hidden_density"], sc.density.log_density(H))
    # Lee et al.'s score by brute force: minus the smallest Mahalanobis distance over classes
    P = np.linalg.inv(sc.tied.covariance_)
    d = [np.sqrt(np.einsum("nd,de,ne->n", H - mu, P, H - mu)) for mu in sc.tied.means_]
    np.testing.assert_allclose(s["mahalanobis"], -np.min(d, axis=0), rtol=1e-9)
    assert np.all(s["image_density"] > -np.inf)
    assert np.all(sc.scores(2.0 * X)["image_density"] == -np.inf)  # pixels outside [0, 1]
