"""/iris without a browser: callbacks called directly, POSTs to Dash, the figure factory."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from dash import no_update

from app import ids
from app.components import PointStore, percent as percent_text
from app.figures import HALF_TRACE, IRIS_AXES, THIRD_TRACE, make_iris_figure, trace_index
from app.pages.iris import callbacks as iris
from app.pages import iris as iris_page
from app.resources import IRIS_BOUNDS, IRIS_DATA_BOUNDS
from tests.app._text import text, texts  # noqa: F401 -- shared helpers
from tests.conftest import shown_value

PREDICTION = re.compile(r"Prediction: (\w+) \((>?\d+\.\d\d)%\)")

BAD_CLICKS = [
    None, "x", 3, [], {}, {"points": []}, {"points": None}, {"points": [{}]},
    {"points": [{"x": 1.0}]}, {"points": [{"x": "a", "y": 1.0}]},
    {"points": [{"x": [1, 2], "y": 1.0}]}, {"points": [{"x": True, "y": 1.0}]},
    {"points": [{"x": None, "y": 1.0}]}, {"points": [{"x": math.nan, "y": 1.0}]},
    {"points": [{"x": 1.0, "y": math.inf}]}, {"points": [{"x": -math.inf, "y": 1.0}]},
    {"points": [{"x": 1e308, "y": 1.0}]}, {"points": [{"x": 1.0, "y": -1e308}]},
    {"points": [{"x": {"a": 1}, "y": 1.0}]},
]


# ---- helpers shared with test_svm -------------------------------------------------------

def predictions(node) -> list[tuple[str, float]]:
    """(label, percent) of every 'Prediction: X (p%)' line."""
    return [(m.group(1), float(m.group(2).lstrip(">"))) for m in PREDICTION.finditer(text(node))]


def is_message(node) -> bool:
    data = node.to_plotly_json() if hasattr(node, "to_plotly_json") else node
    return isinstance(data, dict) and data.get("type") == "Alert"


def library(res, name: str, x: float, y: float) -> tuple[str, float, np.ndarray]:
    """What the core models say at (x, y): label, percent to 2 decimals, probabilities."""
    p = res.iris.models[name].predict_proba(np.array([[x, y]]))[0]
    k = int(np.argmax(p))
    return res.iris.names[k], shown_value(p[k]), p


def operations(patch) -> list[dict]:
    return patch.to_plotly_json()["operations"]


def callback_key(app, fragment: str) -> str:
    keys = [k for k in app.callback_map if fragment in k]
    assert len(keys) == 1, keys
    return keys[0]


def post(client, app, fragment: str, inputs: list, changed: list[str], query=None):
    """POST a callback request the way dash-renderer builds it; a callback that also reads the
    page's link gets the query store's ``query`` (None: a page opened without parameters)."""
    key = callback_key(app, fragment)
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    wanted = [(i["id"], i["property"]) for i in app.callback_map[key]["inputs"]]
    if (ids.QUERY, "data") in wanted and len(inputs) < len(wanted):
        entry = {"id": ids.QUERY, "property": "data"}
        if query is not None:
            entry["value"] = query
        inputs = list(inputs) + [entry]
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": inputs, "changedPropIds": changed, "state": []}
    return client.post("/_dash-update-component", json=body)


def response_children(resp, component_id: str):
    return resp.get_json()["response"][component_id]["children"]


def point_store(layout, store: str) -> PointStore:
    """The page's :class:`PointStore` ``store`` (which draws its point's markers in the browser,
    ``assets/markers.js``): exactly one, and no callback draws markers besides it."""
    found = [c for c in layout._traverse() if getattr(c, "id", None) == store]
    assert len(found) == 1 and isinstance(found[0], PointStore), found
    return found[0]


# ---- the figure ---------------------------------------------------------------------------

def test_factory_draws_regions_data_rings_probes_and_no_marker_trace(resources):
    grid = resources.iris_grids["logistic"]
    X, y = resources.iris.X, resources.iris.y
    pred = resources.iris_predictions["logistic"]
    probes = np.array([[0.1, 5.0], [10.0, 10.0]])
    fig = make_iris_figure(grid, resources.iris.names, X, y, pred, probes=probes,
                           half=grid.contours(0.5), third=grid.contours(1 / 3),
                           show_half=False, show_third=True, view=IRIS_DATA_BOUNDS)
    names = [t.name for t in fig.data]
    assert names[0] == "regions" and names[-1] == "essay's probes"
    assert "clicked" not in names  # the clicked point is drawn over the map in the browser
    assert fig.data[trace_index(fig, HALF_TRACE)].visible is False
    assert fig.data[trace_index(fig, THIRD_TRACE)].visible is True
    ring = fig.data[trace_index(fig, "misclassified")]
    assert len(ring.x) == int(np.sum(pred != y)) > 0
    for k, name in enumerate(resources.iris.names):
        trace = fig.data[trace_index(fig, name)]
        assert len(trace.x) == int(np.sum(y == k))
        assert trace.marker.line.color == "#333"
    assert np.allclose(fig.data[trace_index(fig, "essay's probes")].x, probes[:, 0])
    assert tuple(fig.layout.xaxis.range) == IRIS_DATA_BOUNDS[:2]
    assert tuple(fig.layout.yaxis.range) == IRIS_DATA_BOUNDS[2:]
    assert fig.layout.xaxis.title.text == IRIS_AXES[0]


def test_factory_without_overlays_has_no_contour_traces(resources):
    grid = resources.iris_grids["svm_rbf"]
    fig = make_iris_figure(grid, resources.iris.names, resources.iris.X, resources.iris.y,
                           resources.iris.y)
    assert "misclassified" not in [t.name for t in fig.data]
    with pytest.raises(ValueError):
        trace_index(fig, HALF_TRACE)


def test_base_figure_is_built_once_over_the_extended_plane(resources, iris_state):
    fig = iris_state.figure
    assert fig is iris_state.figure
    assert tuple(fig.layout.xaxis.range) == IRIS_BOUNDS[:2]
    assert tuple(fig.layout.yaxis.range) == IRIS_BOUNDS[2:]
    assert fig.data[trace_index(fig, HALF_TRACE)].visible is True
    assert fig.data[trace_index(fig, THIRD_TRACE)].visible is False
    assert "clicked" not in [t.name for t in fig.data]  # markers are drawn over it, from IRIS_POINT
    stars = fig.data[trace_index(fig, "essay's probes")]
    assert [(x, y) for x, y in zip(stars.x, stars.y)] == [p for p, _, _ in resources.essay["iris_probes"]]


# ---- the result callback -------------------------------------------------------------------

@pytest.mark.parametrize("point", [(10.0, 10.0), (-2.5, 3.0), (4.5, 1.5), (11.0, -6.5)])
def test_map_click_shows_the_models_answer_and_moves_the_marker(resources, iris_state, point):
    children, marker = iris.update_iris_result(iris_state, ids.IRIS_MAP,
                                               {"points": [{"x": point[0], "y": point[1]}]})
    label, percent, p = library(resources, "logistic", *point)
    assert predictions(children) == [(label, percent)]
    shown = text(children)
    for name, q in zip(resources.iris.names, p):
        assert f"{name}{percent_text(q)}" in shown
    assert f"petal length {point[0]:.2f} cm" in shown
    assert ("negative petal" in shown) == (min(point) < 0)
    assert marker == {"point": [point[0], point[1]]}  # the marker's store: the map is not touched


def test_far_click_is_virginica_with_near_certainty(iris_state):
    children, _ = iris.update_iris_result(iris_state, ids.IRIS_MAP, {"points": [{"x": 10, "y": 10}]})
    [(label, percent)] = predictions(children)
    assert label == "virginica" and percent >= 99.0


@pytest.mark.parametrize("index", [0, 1, 2])
def test_probe_buttons_show_ours_beside_the_essays(resources, iris_state, index):
    (x, y), essay_label, essay_p = resources.essay["iris_probes"][index]
    children, marker = iris.update_iris_result(iris_state, {"type": ids.IRIS_PROBE, "index": index}, None)
    label, percent, _ = library(resources, "logistic", x, y)
    assert predictions(children) == [(label, percent)]
    shown = text(children)
    assert f"The essay: {essay_label} at {100 * essay_p:.1f}%" in shown
    assert ("agrees" in shown) == (label == essay_label)
    assert marker == {"point": [x, y]}


@pytest.mark.parametrize("click", BAD_CLICKS)
def test_bad_click_payloads_give_a_message(iris_state, click):
    children, marker = iris.update_iris_result(iris_state, ids.IRIS_MAP, click)
    assert is_message(children) and text(children)
    assert marker is no_update


@pytest.mark.parametrize("trigger", [
    {"type": ids.IRIS_PROBE, "index": 3}, {"type": ids.IRIS_PROBE, "index": -1},
    {"type": ids.IRIS_PROBE, "index": "0"}, {"type": ids.IRIS_PROBE, "index": True},
    {"type": ids.IRIS_PROBE, "index": 1.0}, {"type": ids.IRIS_PROBE}, {"type": "other", "index": 0},
    "", "somewhere-else", 7])
def test_bad_triggers_give_a_message(iris_state, trigger):
    children, marker = iris.update_iris_result(iris_state, trigger, {"points": [{"x": 1, "y": 1}]})
    assert is_message(children)
    assert marker is no_update


def test_clicks_at_the_coordinate_limit_still_answer(resources, iris_state):
    for point in [(1e7, 1e7), (-1e7, 0.0), (0.0, -1e7)]:
        children, _ = iris.update_iris_result(iris_state, ids.IRIS_MAP,
                                              {"points": [{"x": point[0], "y": point[1]}]})
        [(label, percent)] = predictions(children)
        assert (label, percent) == library(resources, "logistic", *point)[:2]


# ---- overlays and view ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [[], ["half"], ["third"], ["half", "third"]])
def test_overlay_toggle_patches_visibility_only(iris_state, value):
    fig = iris_state.figure
    ops = operations(iris.update_iris_overlays(iris_state, value))
    got = {o["location"][1]: o["params"]["value"] for o in ops}
    assert all(o["location"][0] == "data" and o["location"][2] == "visible" for o in ops)
    assert got == {trace_index(fig, HALF_TRACE): "half" in value,
                   trace_index(fig, THIRD_TRACE): "third" in value}


@pytest.mark.parametrize("value", [None, "half", ["bogus"], [1], [None], {"half": 1}, 3])
def test_bad_overlay_values_change_nothing(iris_state, value):
    assert iris.update_iris_overlays(iris_state, value) is no_update


@pytest.mark.parametrize("view, bounds", [("near", IRIS_DATA_BOUNDS), ("far", IRIS_BOUNDS)])
def test_view_switch_patches_axis_ranges(view, bounds):
    ops = {tuple(o["location"]): o["params"]["value"] for o in operations(iris.update_iris_view(view))}
    assert ops[("layout", "xaxis", "range")] == list(bounds[:2])
    assert ops[("layout", "yaxis", "range")] == list(bounds[2:])
    assert ops[("layout", "xaxis", "autorange")] is False
    assert all(loc[0] == "layout" for loc in ops)


@pytest.mark.parametrize("value", [None, "", "nearer", 1, ["near"], {"v": "far"}])
def test_bad_view_values_change_nothing(value):
    assert iris.update_iris_view(value) is no_update


# ---- layout -----------------------------------------------------------------------------------

def test_layout_has_the_contract_ids_accuracy_and_essay_probes(resources, iris_state):
    page = iris_page.layout(iris_state)
    blob = json.dumps(page.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o))
    for id_ in (ids.IRIS_MAP, ids.IRIS_RESULT, ids.IRIS_OVERLAYS, ids.IRIS_VIEW):
        assert f'"id": "{id_}"' in blob
    for i in range(3):
        assert json.dumps({"type": ids.IRIS_PROBE, "index": i}) in blob
    shown = text(page)
    ours = 100 * np.mean(resources.iris.models["logistic"].predict(resources.iris.X) == resources.iris.y)
    assert f"{ours:.2f}% here, 96.6% in the essay" in shown
    (x, y), _, _ = resources.essay["iris_probes"][2]
    label, percent, _ = library(resources, "logistic", x, y)
    assert f"the model says {label} with {percent:.2f}% confidence" in shown


# ---- over HTTP ----------------------------------------------------------------------------------

def _probe_inputs(clicks=(None, None, None)):
    return [{"id": {"index": i, "type": ids.IRIS_PROBE}, "property": "n_clicks", "value": c}
            for i, c in enumerate(clicks)]


def test_post_click_returns_the_prediction(dash_app, resources):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, "iris-result.children",
                [{"id": ids.IRIS_MAP, "property": "clickData", "value": {"points": [{"x": 10, "y": 10}]}},
                 _probe_inputs()], [f"{ids.IRIS_MAP}.clickData"])
    assert resp.status_code == 200
    assert predictions(response_children(resp, ids.IRIS_RESULT)) == [
        library(resources, "logistic", 10, 10)[:2]]
    body = resp.get_json()["response"]
    assert set(body) == {ids.IRIS_RESULT, ids.IRIS_POINT}  # the map itself is not sent
    assert body[ids.IRIS_POINT]["data"] == {"point": [10, 10]}


def test_the_marker_is_drawn_from_the_point_store(dash_app, iris_state):
    store = point_store(iris_page.layout(iris_state), ids.IRIS_POINT)
    assert store.graphs == [ids.IRIS_MAP] and not hasattr(store, "fields")  # the clicked point, by default
    assert store.to_plotly_json()["namespace"] == "fooling_marks"
    # no clientside callback draws markers any more: the store itself does, as its data change
    assert not any("foolingMarkers" in s for s in dash_app._inline_scripts)


def test_post_probe_returns_the_prediction(dash_app, resources):
    client = dash_app.server.test_client()
    changed = json.dumps({"index": 2, "type": ids.IRIS_PROBE}, separators=(",", ":")) + ".n_clicks"
    resp = post(client, dash_app, "iris-result.children",
                [{"id": ids.IRIS_MAP, "property": "clickData", "value": None},
                 _probe_inputs((None, None, 1))], [changed])
    assert resp.status_code == 200
    (x, y), _, _ = resources.essay["iris_probes"][2]
    assert predictions(response_children(resp, ids.IRIS_RESULT)) == [library(resources, "logistic", x, y)[:2]]


@pytest.mark.parametrize("click", BAD_CLICKS[:8] + [{"points": [{"x": 1e308, "y": 1}]},
                                                    {"points": [{"x": "NaN", "y": 1}]}])
def test_post_bad_clicks_get_a_message_not_an_error(dash_app, click):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, "iris-result.children",
                [{"id": ids.IRIS_MAP, "property": "clickData", "value": click}, _probe_inputs()],
                [f"{ids.IRIS_MAP}.clickData"])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["response"][ids.IRIS_RESULT]["children"]["type"] == "Alert"
    assert "app-error" not in json.dumps(body)


@pytest.mark.parametrize("changed", ['{"index":9,"type":"iris-probe"}.n_clicks',
                                     '{"index":"x","type":"iris-probe"}.n_clicks',
                                     '{not json.n_clicks', "nothing.n_clicks"])
def test_post_bad_triggers_get_a_message(dash_app, changed):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, "iris-result.children",
                [{"id": ids.IRIS_MAP, "property": "clickData", "value": None}, _probe_inputs()], [changed])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["response"][ids.IRIS_RESULT]["children"]["type"] == "Alert"
    assert "app-error" not in json.dumps(body)


def test_post_overlays_and_view(dash_app):
    client = dash_app.server.test_client()
    for fragment, prop, ok, bad in ((ids.IRIS_OVERLAYS, "value", ["third"], "third"),
                                    (ids.IRIS_VIEW, "value", "near", ["near"])):
        key = next(k for k, cb in dash_app.callback_map.items()
                   if any(i["id"] == fragment for i in cb["inputs"]))
        out_id, out_prop = key.rsplit(".", 1)
        for value, good in ((ok, True), (bad, False)):
            body = {"output": key, "outputs": {"id": out_id, "property": out_prop},
                    "inputs": [{"id": fragment, "property": prop, "value": value}],
                    "changedPropIds": [f"{fragment}.{prop}"], "state": []}
            resp = client.post("/_dash-update-component", json=body)
            assert resp.status_code in ((200,) if good else (200, 204)), (fragment, value)
            sent = resp.get_json()["response"] if resp.status_code == 200 else {}
            if good:
                patch = sent[out_id]["figure"]
                assert patch["__dash_patch_update"] and patch["operations"]
            else:  # no_update: nothing sent back
                assert sent == {}
