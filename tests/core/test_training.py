"""Lab training epoch by epoch, and bundles: what one holds, read back without pickles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fooling import datasets
from fooling.lab import LabSpec, spec_key
from fooling.models import TrainedMLP
from fooling.network import Layer, Network, forward
from fooling.training import (BUNDLE_RS, TrainingStopped, build_bundle, from_bytes, read_bundle, to_bytes,
                              train_epochs)
from fooling.workspace import split_for


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return datasets.load_mnist("bundled", cache_dir=tmp_path_factory.mktemp("data"))


def small(**kw) -> LabSpec:
    base = dict(digits=(3, 8), hidden=(16,), activation="tanh", epochs=4, seed=3)
    base.update(kw)
    return LabSpec(**base)


def test_every_epoch_is_reported_and_the_same_spec_gives_the_same_network(digits, tmp_path):
    spec = small()
    split = split_for(digits, spec.digits, tmp_path)
    seen = []
    a = train_epochs(spec, split, on_epoch=lambda e, loss: seen.append((e, loss)))
    b = train_epochs(spec, split)
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    assert np.allclose([loss for _, loss in seen], a.loss_curve) and len(a.loss_curve) == spec.epochs
    assert all(np.array_equal(x.W, y.W) for x, y in zip(a.net.layers, b.net.layers))
    other = train_epochs(small(seed=4), split)
    assert not np.allclose(other.net.layers[0].W, a.net.layers[0].W)
    # two digits: scikit-learn's single logistic output becomes a two-unit softmax
    assert a.net.sizes == (784, 16, 2, 2) and list(a.net.classes) == [3, 8]
    assert np.allclose(forward(a.net, split.X_test[:5]).sum(axis=1), 1)
    assert 0.5 < a.test_accuracy <= 1 and 0.5 < a.train_accuracy <= 1


def test_the_first_epoch_is_one_epoch_of_scikit_learns_own_fit(digits, tmp_path):
    from sklearn.neural_network import MLPClassifier

    spec = small(epochs=1, activation="relu", digits=(0, 1, 2))
    split = split_for(digits, spec.digits, tmp_path)
    ours = train_epochs(spec, split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MLPClassifier(hidden_layer_sizes=spec.layers, activation="relu", learning_rate_init=spec.lr,
                               alpha=spec.alpha, max_iter=1, random_state=spec.seed).fit(split.X_train, split.y_train)
    assert all(np.allclose(W, lay.W) for W, lay in zip(theirs.coefs_, ours.net.layers))
    assert np.isclose(theirs.loss_curve_[0], ours.loss_curve[0])


def test_a_callback_that_raises_stops_training(digits, tmp_path):
    split = split_for(digits, (3, 8), tmp_path)

    def stop(epoch, loss):
        if epoch == 2:
            raise TrainingStopped("cancelled", epoch)

    with pytest.raises(TrainingStopped) as err:
        train_epochs(small(epochs=50), split, on_epoch=stop)
    assert err.value.reason == "cancelled" and err.value.epoch == 2


def test_a_diverging_network_stops_with_a_reason(digits, tmp_path):
    split = split_for(digits, (0, 1, 2, 3), tmp_path)
    spec = LabSpec(hidden=(128, 128, 128), activation="identity", solver="sgd", lr=1.0, alpha=0.0, epochs=30)
    with pytest.raises(TrainingStopped) as err:
        train_epochs(spec, split)
    assert err.value.reason == "diverged"


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu"])
def test_a_bundle_holds_the_network_its_plane_and_the_fooling_rates_of_both_heads(digits, tmp_path, activation):
    spec = small(activation=activation, epochs=8, digits=(0, 1, 7), hidden=(24,))
    split = split_for(digits, spec.digits, tmp_path)
    trained = train_epochs(spec, split)
    stages = []
    key = spec_key(spec, digits.fingerprint())
    arrays, meta = build_bundle(spec, trained, split, key, resolution=40, cache_dir=tmp_path, on_stage=stages.append)
    assert stages and meta["key"] == key and meta["spec"] == spec.query() and meta["resolution"] == 40
    for head in ("linear", "rbf"):
        rates = meta["rates"][head]
        assert all(0 <= rates[f"R{r}"] <= 1 for r in BUNDLE_RS) and 0 < rates["max_confidence"] <= 1
    data = to_bytes(arrays, meta)
    back, meta2 = from_bytes(data)
    assert meta2 == meta and set(back) == set(arrays)
    net2, plane, plane_meta = read_bundle(back, meta2, spec)
    assert all(np.array_equal(x.W, y.W) for x, y in zip(net2.net.layers, trained.net.layers))
    assert plane["proba"].shape == (40, 40, 3) and plane_meta["model"] == key
    assert len(plane_meta["far_points"]) == 3
    with pytest.raises(ValueError, match="another spec"):
        read_bundle(back, meta2, small(seed=99))


def test_bundles_are_plain_arrays_never_pickles():
    with pytest.raises(TypeError, match="object"):
        to_bytes({"x": np.array([{"a": 1}], dtype=object)}, {})
    import io

    buf = io.BytesIO()
    np.savez(buf, x=np.array([{"a": 1}], dtype=object), __meta__=np.array("{}"))
    for junk in (buf.getvalue(), b"", b"PK\x03\x04 not a zip", b"\x80\x04pickle"):
        with pytest.raises(ValueError, match="not a bundle"):
            from_bytes(junk)


@pytest.mark.parametrize("dead, words", [((0, 1), "one point"), ((1,), "one line")])
def test_a_collapsed_bottleneck_is_refused_with_a_reason(digits, tmp_path, dead, words):
    spec = small(activation="relu", epochs=1)
    split = split_for(digits, spec.digits, tmp_path)
    t = train_epochs(spec, split)
    layers = list(t.net.layers)
    W, b = layers[-2].W.copy(), layers[-2].b.copy()  # the 2-unit layer: kill some of its units
    W[:, list(dead)], b[list(dead)] = 0.0, -1.0
    layers[-2] = Layer(W, b, "relu")
    trained = TrainedMLP(t.spec, Network(tuple(layers), t.net.classes), t.loss_curve, 0.5, 0.5, 0.0, False)
    with pytest.raises(TrainingStopped, match=words) as err:
        build_bundle(spec, trained, split, "0" * 16, resolution=20, cache_dir=tmp_path)
    assert err.value.reason == "collapsed"
