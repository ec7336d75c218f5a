"""/svm without a browser: callbacks called directly, POSTs to Dash, what the page claims."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dash import no_update
from scipy.spatial import cKDTree

from app import ids
from app.figures import HALF_TRACE, region_z, trace_index
from app.pages import svm as svm_page
from app.pages.svm import callbacks as svm
from app.pages.svm import compute as svm_compute
from app.resources import IRIS_BOUNDS
from app.components import link_zoom_js, percent as percent_text
from tests.app.test_iris import BAD_CLICKS, is_message, library, point_store, post, predictions, text

MODELS = ("svm_linear", "svm_rbf")


def test_base_figures_are_built_once_on_the_same_extended_plane(resources, svm_state):
    figs = [svm_state.figures[g] for g in (ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP)]
    assert svm_state.figures is svm_state.figures and figs[0] is svm_state.figures[ids.SVM_LINEAR_MAP]
    for fig, name in zip(figs, MODELS):
        assert tuple(fig.layout.xaxis.range) == IRIS_BOUNDS[:2]
        assert tuple(fig.layout.yaxis.range) == IRIS_BOUNDS[2:]
        assert "clicked" not in [t.name for t in fig.data]  # markers are drawn over the maps, from SVM_POINT
        assert fig.data[trace_index(fig, HALF_TRACE)].visible is True
        # the heatmap is this model's grid, not the other's: uint8 values k * levels + q
        # (class k, confidence step q < levels = 255 // K)
        grid = resources.iris_grids[name]
        k = len(resources.iris.names)
        levels = 255 // k
        z = np.asarray(fig.data[0].z)
        assert z.dtype == np.uint8 and fig.data[0].zmax == k * levels
        assert np.array_equal(z.astype(int) // levels, grid.predicted.astype(int))
        assert z.max() < k * levels
        conf = (grid.max_proba - 1 / k) / (1 - 1 / k)
        assert np.all(np.abs(z.astype(int) % levels - np.clip(conf, 0, 1) * levels) <= 1)
        assert np.array_equal(z, region_z(grid)[0])
    assert figs[0].layout.uirevision != figs[1].layout.uirevision


@pytest.mark.parametrize("point", [(10.0, 10.0), (4.9, 1.6), (-2.0, -6.0), (0.1, 5.0)])
def test_click_shows_both_models_side_by_side_and_marks_both_maps(resources, svm_state, point):
    children, marker = svm.update_svm_result(svm_state, {"points": [{"x": point[0], "y": point[1]}]})
    assert predictions(children) == [library(resources, m, *point)[:2] for m in MODELS]
    shown = text(children)
    assert shown.index("Linear SVM") < shown.index("RBF SVM")
    for m in MODELS:
        for name, q in zip(resources.iris.names, library(resources, m, *point)[2]):
            assert f"{name}{percent_text(q)}" in shown
    assert marker == {"point": [point[0], point[1]]}  # one store; both maps draw its marker


@pytest.mark.parametrize("click", BAD_CLICKS)
def test_bad_clicks_give_a_message(svm_state, click):
    children, marker = svm.update_svm_result(svm_state, click)
    assert is_message(children) and text(children)
    assert marker is no_update


def test_rbf_summary_matches_what_the_model_does(resources, svm_state):
    s = svm_state.rbf_summary
    model = resources.iris.models["svm_rbf"]
    # the far answer really is the same in every direction
    far_points = np.array([[-1000.0, 0.0], [0.0, -1000.0], [500.0, -800.0], [1e6, 1e6]])
    assert np.allclose(model.predict_proba(far_points), s["far"], atol=1e-6)
    grid = resources.iris_grids["svm_rbf"]
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    d, _ = cKDTree(resources.iris.X).query(np.column_stack([gx.ravel(), gy.ravel()]))
    proba = grid.proba.reshape(-1, 3)
    top = proba.max(axis=1)
    assert top[d > s["confident_within"]].max() < svm_compute.CONFIDENT <= top.max()
    assert s["same_beyond"] is not None
    beyond = d > s["same_beyond"]
    assert beyond.any()
    assert np.abs(proba[beyond] - s["far"]).max() < svm_compute.SAME
    # the linear SVM, by contrast, is sure far out
    assert library(resources, "svm_linear", 10, 10)[1] > 90


def test_layout_states_measured_numbers_and_accuracies(resources, svm_state):
    page = svm_page.layout(svm_state)
    blob = json.dumps(page.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o))
    for id_ in (ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP, ids.SVM_RESULT):
        assert f'"id": "{id_}"' in blob
    shown = text(page)
    for m in MODELS:
        assert f"{100 * resources.iris.accuracy(m):.2f}% here, about 96.6% in the essay" in shown
    s = svm_state.rbf_summary
    k = int(np.argmax(s["far"]))
    assert f"{resources.iris.names[k]} at {100 * s['far'][k]:.1f}%" in shown
    assert f"at most {s['confident_within']:.1f} cm" in shown
    label, percent, _ = library(resources, "svm_linear", 10, 10)
    assert f"it says {label} at {percent:.1f}%" in shown
    assert "CalibratedClassifierCV(SVC(...), ensemble=False)" in shown


def _inputs(linear=None, rbf=None):
    return [{"id": ids.SVM_LINEAR_MAP, "property": "clickData", "value": linear},
            {"id": ids.SVM_RBF_MAP, "property": "clickData", "value": rbf}]


@pytest.mark.parametrize("source", [ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP])
def test_post_click_on_either_map(dash_app, resources, source):
    client = dash_app.server.test_client()
    click = {"points": [{"x": 6.0, "y": -4.0}]}
    inputs = _inputs(click, None) if source == ids.SVM_LINEAR_MAP else _inputs(None, click)
    resp = post(client, dash_app, "svm-result.children", inputs, [f"{source}.clickData"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    assert predictions(body[ids.SVM_RESULT]["children"]) == [library(resources, m, 6.0, -4.0)[:2]
                                                            for m in MODELS]
    assert set(body) == {ids.SVM_RESULT, ids.SVM_POINT}  # the maps themselves are not sent
    assert body[ids.SVM_POINT]["data"] == {"point": [6.0, -4.0]}


def test_both_maps_draw_the_marker_of_the_point_store(dash_app, svm_state):
    store = point_store(svm_page.layout(svm_state), ids.SVM_POINT)
    assert store.graphs == [ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP]


@pytest.mark.parametrize("click, changed", [
    ({"points": [{"x": 1e308, "y": 0}]}, "svm-linear-map.clickData"),
    ({"points": [{"x": "1", "y": 0}]}, "svm-rbf-map.clickData"),
    ({"points": "all"}, "svm-linear-map.clickData"),
    ({"points": [{"x": 1, "y": 1}]}, "svm-result.children"),
    ({"points": [{"x": 1, "y": 1}]}, '{"bad json.clickData'),
])
def test_post_bad_requests_get_a_message(dash_app, click, changed):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, "svm-result.children", _inputs(click, click), [changed])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["response"][ids.SVM_RESULT]["children"]["type"] == "Alert"
    assert "app-error" not in json.dumps(body)


def test_linked_zoom_is_a_clientside_callback_on_both_maps(dash_app):
    links = [cb for cb in dash_app._callback_list
             if {i["id"] for i in cb["inputs"]} == {ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP}
             and {i["property"] for i in cb["inputs"]} == {"relayoutData"}]
    assert len(links) == 1
    assert "clientside_function" in links[0]
    js = link_zoom_js(ids.SVM_LINEAR_MAP, ids.SVM_RBF_MAP)
    assert "Patch" in js and "uirevision" in js
    assert js.count(ids.SVM_LINEAR_MAP) >= 2 and js.count(ids.SVM_RBF_MAP) >= 2
