"""/compare without a browser: the numbers against the core library, the page's state (measured
once), the callbacks called directly and through POSTs, and the figure factories.

The page's grids are made coarse here (:data:`SMALL`, shared with the browser test); the
numbers are compared with the core library run at the same resolutions.
"""

from __future__ import annotations

import gc
import inspect
import json
import math
import re
import threading
import time
import weakref

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import Patch, no_update

from app import ids
from app.pages import compare as compare_page
from app.pages.compare import callbacks as cb
from app.pages.compare import compute as compare
from app.pages.compare.figures import (DENSITY_COLORS, MODEL_COLORS, density_map_z, make_confidence_curves_figure,
                                       make_density_map_figure)
from app.pages.compare.text import table_rows
from fooling.analysis import workspace_fooling_rates
from fooling.grids import disc_grid
from fooling.metrics import confidence_vs_distance
from fooling.metrics_maps import log_density_level
from fooling.probes import data_radius
from fooling.regions import contour_segments
from tests.app.test_iris import is_message, operations, post, text

SMALL = {"RESOLUTION": 61, "CURVE_RESOLUTION": 81, "CONTOUR_RESOLUTION": 81}
"""Coarse grids for tests (the page's defaults are the library's documented ones)."""
DOCUMENTED = {k: getattr(compare, k) for k in SMALL}
"""The page's own resolutions, read before any test patches them."""

BAD_MODELS = [None, "", "nope", "LOGISTIC", ["logistic"], 3, 1.5, math.nan, True, {"a": 1},
              "logistic ", "x" * 500]
BAD_VIEWS = [None, "", "far", ["disc"], 0, {"view": "disc"}, True]
PERCENT = re.compile(r"(-?\d+\.\d+)%")
MEASURED = ("summary", "curves", "curve_lines", "curves_figure", "density_maps", "density_figures")
"""The page state's measurements (computed once, on first use or by ``warm()``)."""


@pytest.fixture(scope="module", autouse=True)
def small_grids():
    """The page's resolutions made coarse for the whole module (before any state or app is built)."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SMALL.items():
            mp.setattr(compare, k, v)
        yield


@pytest.fixture(scope="module")
def state(resources, small_grids):
    """The page's state at the test resolutions, warmed as ``create_app`` warms it."""
    return compare.State(resources).warm()


@pytest.fixture(scope="module")
def truth(resources):
    """What the core library measures for the session workspace at the test resolution."""
    return workspace_fooling_rates(resources.workspace, Rs=compare.RS, threshold=compare.THRESHOLD,
                                   resolution=SMALL["RESOLUTION"])


class NoMeasuring:
    """Stands in for a state's ``analysis``: lists the models, refuses to measure anything."""

    def __init__(self, real):
        self.planes = real.planes

    def __getattr__(self, name):
        raise AssertionError(f"measured {name}")


def pct(v: float) -> str:
    return f"{100 * v:.2f}%"


# ---- what the page computes ----------------------------------------------------------------

def test_page_measures_at_the_libraries_documented_resolutions():
    assert DOCUMENTED["RESOLUTION"] == inspect.signature(workspace_fooling_rates).parameters["resolution"].default
    assert DOCUMENTED["CURVE_RESOLUTION"] == \
        inspect.signature(confidence_vs_distance).parameters["resolution"].default


def test_layout_computes_nothing_and_leaves_placeholders(resources):
    fresh = compare.State(resources)
    fresh.analysis = NoMeasuring(resources.analysis)  # any measurement asked for fails the test
    page = compare_page.layout(fresh)
    assert not set(MEASURED) & set(vars(fresh))  # nothing measured for this state
    found = json.dumps(page.to_plotly_json(), default=lambda o: o.to_plotly_json())
    for cid in (ids.COMPARE_MODEL, ids.COMPARE_CURVES, ids.COMPARE_DENSITY, ids.COMPARE_TABLE_BOX,
                ids.COMPARE_VIEW, ids.COMPARE_LOAD):
        assert f'"{cid}"' in found
    assert f'"{ids.COMPARE_TABLE}"' not in found  # the table arrives with the first callback


def test_table_rows_equal_workspace_fooling_rates(resources, state, truth):
    assert state.summary["resolution"] == SMALL["RESOLUTION"]
    rows = table_rows(resources, state.summary)
    assert [r["name"] for r in rows] == list(compare.MODELS)
    assert set(truth["models"]) == set(compare.MODELS)
    for r in rows:
        m = truth["models"][r["name"]]
        for R in compare.RS:
            assert r[f"R{R:g}"] == pct(m[f"R{R:g}"])
        assert r["max"] == pct(m["max_confidence"])
        if m["flagged_by_density"] is None:
            assert r["flagged"] == "n/a"
        else:
            assert r["flagged"] == pct(m["flagged_by_density"])
    acc = {r["name"]: r["accuracy"] for r in rows}
    assert acc["mlp_identity_rbf_head"] == f"{100 * truth['rbf_head_test_accuracy']:.1f}%"
    assert acc["mlp_identity"] == f"{100 * resources.workspace.mnist['identity'].trained.test_accuracy:.1f}%"
    assert acc["logistic"] == f"{100 * resources.iris.accuracy('logistic'):.1f}%"


def test_overview_text_states_definitions_and_numbers(resources, state, truth):
    paragraphs, table, fig, note = cb.update_overview(state)
    shown = text(paragraphs)
    n = truth["resolution"]
    assert f"{n} × {n}" in shown
    assert "largest distance of a training point" in shown
    tanh = truth["models"]["mlp_tanh"]["max_confidence"]
    assert pct(tanh) in shown
    assert ("never reaches 99%" in shown) == (tanh < compare.THRESHOLD)
    assert "(−1, 1)²" in shown
    assert f"held-out accuracy {100 * truth['rbf_head_test_accuracy']:.1f}%" in shown
    linear = resources.workspace.mnist["identity"].trained.test_accuracy
    assert f"against {100 * linear:.1f}% for the linear head" in shown
    assert "below the 1st percentile" in shown
    # the table component: six rows, the first cells the model labels
    tbl = table[0]
    assert tbl.id == ids.COMPARE_TABLE
    body = tbl.children[1].children
    assert [row.children[0].children for row in body] == [compare.LABELS[m] for m in compare.MODELS]
    assert [row.children[4].children for row in body] == [pct(truth["models"][m]["R10"]) for m in compare.MODELS]


def test_curves_are_the_libraries_for_every_model(resources, state):
    _, _, fig, note = cb.update_overview(state)
    medians = [t for t in fig.data if t.showlegend is not False and t.name in compare.LABELS.values()]
    assert [t.name for t in medians] == [compare.LABELS[m] for m in compare.MODELS]
    assert len(fig.data) >= 2 * len(compare.MODELS)
    p = state.planes["logistic"]
    ref = confidence_vs_distance(p.proba_fn, resources.iris.X, R=compare.FLAG_R,
                                 resolution=SMALL["CURVE_RESOLUTION"])
    ok = ref["count"] > 0
    trace = medians[0]
    assert np.allclose(np.asarray(trace.x, float), ref["centres"][ok] / ref["radius"], rtol=1e-6)
    assert np.allclose(np.asarray(trace.y, float), ref["median"][ok], atol=1e-6)
    # the essay's point, read off the curves: linear heads stay sure far out, RBF models do not
    for name in compare.MODELS:
        c = state.curves[name]
        last = c["median"][np.flatnonzero(c["count"])[-1]]
        if name in ("logistic", "mlp_identity"):
            assert last >= compare.THRESHOLD
        if name in ("svm_rbf", "mlp_identity_rbf_head"):
            assert last < 0.9
        assert f"{compare.LABELS[name]} {100 * last:.1f}%" in note


def test_the_tanh_curve_covers_its_whole_square(resources, state):
    c = state.curves["mlp_tanh"]
    m = resources.workspace.mnist["tanh"]
    centroid, radius = data_radius(m.train_hidden)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], float)
    assert c["R"] <= compare.FLAG_R
    assert np.linalg.norm(corners - centroid, axis=1).max() <= c["R"] * radius
    assert c["count"].sum() > 1000  # sampled as finely as the unbounded planes


@pytest.mark.parametrize("name", compare.MODELS)
def test_density_map_is_counted_on_the_tables_grid(state, truth, name):
    d = state.density_maps[name]
    p = state.planes[name]
    m = truth["models"][name]
    top, flagged = d["top"], d["flagged"]
    inside = np.isfinite(top)
    confident = inside & (np.nan_to_num(top) >= compare.THRESHOLD)
    assert d["n_cells"] == int(inside.sum()) and d["n_confident"] == int(confident.sum())
    if p.bounds is None:
        assert d["n_cells"] == len(disc_grid(d["centroid"], d["rho"], SMALL["RESOLUTION"]))
        assert d["share"] == pytest.approx(m["R10"], abs=1e-12)
        if m["flagged_by_density"] is None:
            assert d["flagged_share"] is None
        else:
            assert d["flagged_share"] == pytest.approx(m["flagged_by_density"], abs=1e-12)
    else:
        assert d["n_cells"] == SMALL["RESOLUTION"] ** 2  # the disc holds the whole square
        assert (d["n_confident"] == 0) == (m["max_confidence"] < compare.THRESHOLD)
    # cells hold the model's own answer and the check's own verdict
    rows, cols = np.nonzero(inside)
    pick = np.random.default_rng(0).choice(len(rows), 25, replace=False)
    pts = np.column_stack([d["xs"][cols[pick]], d["ys"][rows[pick]]])
    assert np.allclose(top[rows[pick], cols[pick]], p.proba_fn(pts).max(axis=1), atol=1e-9)
    if confident.any():
        r, c = np.nonzero(confident)
        cpts = np.column_stack([d["xs"][c], d["ys"][r]])
        assert np.array_equal(flagged[r, c], ~p.density.in_distribution(cpts))
    # outside the disc: blank
    gx, gy = np.meshgrid(d["xs"], d["ys"])
    far = (gx - d["centroid"][0]) ** 2 + (gy - d["centroid"][1]) ** 2 > d["rho"] ** 2 * 1.0001
    assert not np.isfinite(top[far]).any()


@pytest.mark.parametrize("name", ["logistic", "mlp_identity"])
def test_log_density_level_is_the_checks_boundary(state, name):
    p = state.planes[name]
    level = log_density_level(p.density)
    ld = p.density.log_density(p.points)
    assert np.array_equal(p.density.in_distribution(p.points), ld > level)
    assert 0 < np.mean(ld <= level) <= 0.02
    above = np.sum(ld > log_density_level(p.density, 50))  # iris has duplicate flowers: ties
    assert len(ld) - math.ceil(len(ld) / 2) - 3 <= above <= len(ld) - math.ceil(len(ld) / 2)
    contours = state.density_maps[name]["contours"]
    assert len(contours) == 2 and len(next(iter(contours.values()))) > 0
    # the solid line is the boundary level traced on a regular grid over the disc's square
    d = state.density_maps[name]
    (c0, c1), rho, n = d["centroid"], d["rho"], SMALL["CONTOUR_RESOLUTION"]
    cx, cy = np.linspace(c0 - rho, c0 + rho, n), np.linspace(c1 - rho, c1 + rho, n)
    gx, gy = np.meshgrid(cx, cy)
    logd = p.density.log_density(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    first = next(iter(contours.values()))
    assert np.allclose(first, contour_segments(logd, cx, cy, level))


def test_everything_is_measured_once_per_state(state, monkeypatch):
    assert set(MEASURED) <= set(vars(state))  # warm() measured it all
    maps, figures, summary = state.density_maps, state.density_figures, state.summary
    overview = cb.update_overview(state)
    monkeypatch.setattr(state, "analysis", NoMeasuring(state.analysis))  # nothing is measured again
    for name in ("make_density_map_figure", "make_confidence_curves_figure"):
        monkeypatch.setattr(compare, name, lambda *a, **k: pytest.fail("a figure was rebuilt"))
    for name in compare.MODELS:
        assert state.density_maps[name] is maps[name]
        assert state.density_figures[name] is figures[name]
        assert cb.update_density(state, name, "disc")[0] is figures[name]
    assert state.summary is summary
    assert cb.update_overview(state)[2] is overview[2] is state.curves_figure


def test_a_measurement_is_made_once_under_concurrent_first_reads(resources, state):
    real = resources.analysis
    calls = []

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def fooling_rates(self, **kwargs):
            calls.append(kwargs)
            time.sleep(0.05)  # a slow first measurement: the other readers arrive meanwhile
            return real.fooling_rates(**kwargs)

    fresh = compare.State(resources)
    fresh.analysis = Counting()
    barrier, results = threading.Barrier(8), []

    def worker():
        barrier.wait()
        results.append(fresh.summary)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)
    assert results[0] == state.summary  # the same numbers (from the analysis's disk cache)
    # nothing outside the state keeps it (or its measurements) alive
    ref = weakref.ref(fresh)
    del fresh, results, threads, worker
    gc.collect()
    assert ref() is None


# ---- the density callback ------------------------------------------------------------------

@pytest.mark.parametrize("name", compare.MODELS)
def test_choosing_a_model_shows_its_map_and_numbers(state, name):
    fig, note = cb.update_density(state, name, "disc")
    d = state.density_maps[name]
    assert isinstance(fig, go.Figure)
    assert fig.layout.uirevision == f"compare-density-{name}-disc"
    p = state.planes[name]
    z = density_map_z(d["top"], d["flagged"], threshold=compare.THRESHOLD, chance=1 / p.n_classes)
    assert np.array_equal(np.asarray(fig.data[0].z), z, equal_nan=True)
    assert note.startswith(compare.LABELS[name])
    if d["n_confident"]:
        assert PERCENT.findall(note)[:2] == [pct(d["share"])[:-1], pct(d["flagged_share"])[:-1]]
        assert f"{d['n_confident']:,} of {d['n_cells']:,} grid cells" in note
    else:
        assert pct(d["max_confidence"]) in note and "nothing for the density check" in note


def test_view_near_the_data_is_a_copy_or_a_patch(state):
    name = "mlp_identity"
    d = state.density_maps[name]
    fig, note = cb.update_density(state, name, "near")
    x0, x1, y0, y1 = d["views"]["near"]
    assert tuple(fig.layout.xaxis.range) == (x0, x1) and tuple(fig.layout.yaxis.range) == (y0, y1)
    cached = state.density_figures[name]
    assert fig is not cached and tuple(cached.layout.xaxis.range) == d["views"]["disc"][:2]
    patch, unchanged = cb.update_density(state, name, "near", trigger="view")
    assert isinstance(patch, Patch) and unchanged is no_update
    got = {tuple(o["location"]): o["params"]["value"] for o in operations(patch)}
    assert got[("layout", "xaxis", "range")] == [x0, x1]
    assert got[("layout", "yaxis", "range")] == [y0, y1]
    assert got[("layout", "uirevision")] == f"compare-density-{name}-near"
    # near the data really is nearer: a smaller box around the centroid
    X0, X1 = d["views"]["disc"][:2]
    assert x1 - x0 < (X1 - X0) / 3 and x0 < d["centroid"][0] < x1


@pytest.mark.parametrize("model", BAD_MODELS)
def test_bad_model_gives_a_message(state, model):
    fig, note = cb.update_density(state, model, "disc")
    assert fig is no_update and is_message(note) and "Unknown model" in text(note)


@pytest.mark.parametrize("view", BAD_VIEWS)
def test_bad_view_gives_a_message(state, view):
    for trigger in ("model", "view"):
        fig, note = cb.update_density(state, "logistic", view, trigger)
        assert fig is no_update and is_message(note) and "Unknown view" in text(note)


# ---- through Dash ----------------------------------------------------------------------------

def _density_inputs(model, view):
    return [{"id": ids.COMPARE_MODEL, "property": "value", "value": model},
            {"id": ids.COMPARE_VIEW, "property": "value", "value": view}]


@pytest.mark.parametrize("data", [0, None, "x", {"a": 1}, [1e308], -1])
def test_post_load_fills_table_and_curves_whatever_it_carries(dash_app, resources, truth, data):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, f"{ids.COMPARE_TEXT}.children",
                [{"id": ids.COMPARE_LOAD, "property": "data", "value": data}], [f"{ids.COMPARE_LOAD}.data"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    shown = text(body[ids.COMPARE_TABLE_BOX]["children"])
    for name in compare.MODELS:
        assert compare.LABELS[name] in shown
        assert pct(truth["models"][name]["R10"]) in shown
    assert len(body[ids.COMPARE_CURVES]["figure"]["data"]) >= 2 * len(compare.MODELS)


def test_post_model_and_view(dash_app, resources):
    client = dash_app.server.test_client()
    frag = f"{ids.COMPARE_DENSITY}.figure"
    resp = post(client, dash_app, frag, _density_inputs("svm_linear", "disc"), [f"{ids.COMPARE_MODEL}.value"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    assert body[ids.COMPARE_DENSITY]["figure"]["layout"]["uirevision"] == "compare-density-svm_linear-disc"
    assert body[ids.COMPARE_DENSITY_NOTE]["children"].startswith(compare.LABELS["svm_linear"])
    resp = post(client, dash_app, frag, _density_inputs("svm_linear", "near"), [f"{ids.COMPARE_VIEW}.value"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    assert ids.COMPARE_DENSITY_NOTE not in body
    assert "app-error" not in json.dumps(body)


@pytest.mark.parametrize("model,view", [(m, "disc") for m in BAD_MODELS if not isinstance(m, float)]
                         + [("logistic", v) for v in BAD_VIEWS])
def test_post_bad_values_get_a_message(dash_app, model, view):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, f"{ids.COMPARE_DENSITY}.figure", _density_inputs(model, view),
                [f"{ids.COMPARE_MODEL}.value"])
    assert resp.status_code == 200
    body = resp.get_json()["response"]
    assert ids.COMPARE_DENSITY not in body
    assert body[ids.COMPARE_DENSITY_NOTE]["children"]["type"] == "Alert"
    assert "app-error" not in json.dumps(body)


@pytest.mark.parametrize("inputs", [[], [{"id": ids.COMPARE_MODEL, "property": "value"}], None, "x"])
def test_post_malformed_bodies_never_500(dash_app, inputs):
    client = dash_app.server.test_client()
    resp = post(client, dash_app, f"{ids.COMPARE_DENSITY}.figure", inputs, [f"{ids.COMPARE_MODEL}.value"])
    assert resp.status_code < 500


# ---- figure factories ----------------------------------------------------------------------

def test_curves_factory_draws_median_and_dashed_p90_per_model():
    curves = {"logistic": {"x": np.array([0.5, 1.5, 2.5]), "median": np.array([0.9, np.nan, 1.0]),
                           "p90": np.array([0.95, 0.99, 1.0])},
              "svm_rbf": {"x": np.array([0.5, 1.5]), "median": np.array([0.8, 0.6]),
                          "p90": np.array([0.9, 0.7])}}
    fig = make_confidence_curves_figure(curves, labels={"logistic": "LR"}, threshold=0.99)
    assert len(fig.data) == 5
    med, p90 = fig.data[0], fig.data[1]
    assert med.name == "LR" and med.showlegend is True and p90.showlegend is False
    assert list(np.asarray(med.x)) == [0.5, 2.5]  # the NaN bin is left out
    assert list(np.asarray(p90.x)) == [0.5, 1.5, 2.5]
    assert med.line.color == p90.line.color == MODEL_COLORS["logistic"]
    assert med.line.dash == "solid" and p90.line.dash == "dash"
    assert fig.data[2].name == "svm_rbf" and fig.data[2].line.color == MODEL_COLORS["svm_rbf"]
    assert [s.y0 for s in fig.layout.shapes] == [0.99]
    assert fig.layout.uirevision == "compare-curves"


def test_density_values_and_colours():
    top = np.array([[np.nan, 0.25, 0.62], [0.99, 0.995, 1.0]])
    flagged = np.array([[True, True, False], [False, True, False]])
    z = density_map_z(top, flagged, threshold=0.99, chance=0.25)
    assert np.isnan(z[0, 0]) and z[0, 1] == 0.0 and z[0, 2] == pytest.approx(0.5)
    assert list(z[1]) == [1.5, 2.5, 1.5]
    assert z.dtype == np.float32


def test_density_map_factory_draws_everything_asked_for():
    xs, ys = np.linspace(-2, 2, 5), np.linspace(-2, 2, 4)
    top = np.full((4, 5), 0.999)
    top[0, 0] = np.nan
    flagged = np.zeros((4, 5), bool)
    flagged[1, 1] = True
    segs = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    pts = np.array([[0.1, 0.2], [0.3, -0.1]])
    fig = make_density_map_figure(xs, ys, top, flagged, threshold=0.99, chance=1 / 3,
                                  contours={"boundary": segs, "median": np.empty((0, 2, 2))},
                                  points=pts, disc=((0.0, 0.0), 2.0, 10), bounds=(-1, 1, -1, 1),
                                  view=(-3, 3, -2.5, 2.5), axis_titles=("u", "v"), uirevision="t")
    names = [t.name for t in fig.data]
    assert isinstance(fig.data[0], go.Heatmap)
    assert np.array_equal(np.asarray(fig.data[0].z), density_map_z(top, flagged, threshold=0.99, chance=1 / 3),
                          equal_nan=True)
    scale = [c for _, c in fig.data[0].colorscale]
    assert DENSITY_COLORS["passes"] in scale and DENSITY_COLORS["flagged"] in scale
    b = fig.data[names.index("boundary")]
    assert b.line.dash == "solid" and fig.data[names.index("median")].line.dash == "dash"
    assert list(np.asarray(b.x, float)[:2]) == [0.0, 1.0]
    assert "training points (2)" in names and "disc of 10 data radii" in names
    disc = fig.data[names.index("disc of 10 data radii")]
    assert np.allclose(np.hypot(np.asarray(disc.x, float), np.asarray(disc.y, float)), 2.0)
    rect = fig.data[names.index("square the tanh net can reach")]
    assert list(rect.x) == [-1, 1, 1, -1, -1]
    assert tuple(fig.layout.xaxis.range) == (-3, 3) and tuple(fig.layout.yaxis.range) == (-2.5, 2.5)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.xaxis.title.text == "u"
    assert fig.layout.uirevision == "t"
