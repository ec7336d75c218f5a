"""app.markup: server-built text blocks as one component (JSONML), nothing dropped, nothing extra."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import plotly
import pytest
from dash import dcc, html, no_update

from app import ids
from app.markup import ATTRIBUTES, TAGS, Markup, find, markup, text
from app.pages.mnist.results import point_result
from fooling.probes import fooling_points
from tests.app.test_mnist import text_of


def test_html_elements_become_jsonml_with_their_attributes():
    tree = markup([html.Div([html.Strong("a"), " b"], className="x", id="y", style={"color": "red"}),
                   "tail", 3, None, html.Br()]).tree
    assert tree == [["div", {"className": "x", "id": "y", "style": {"color": "red"}}, ["strong", {}, "a"], " b"],
                    "tail", "3", ["br", {}]]


def test_alerts_and_tables_keep_bootstrap_classes():
    (alert,) = markup(dbc.Alert("careful", color="warning", className="small")).tree
    assert alert == ["div", {"className": "alert alert-warning small", "role": "alert"}, "careful"]
    (table,) = markup(dbc.Table(html.Tbody(html.Tr(html.Td("1"))), size="sm", className="mb-1")).tree
    assert table == ["table", {"className": "mb-1 table table-sm"}, ["tbody", {}, ["tr", {}, ["td", {}, "1"]]]]


def test_a_closed_alert_shows_nothing():
    assert markup(["a", dbc.Alert("gone", is_open=False)]).tree == ["a"]


@pytest.mark.parametrize("bad", [dcc.Graph(), html.A("x", href="javascript:alert(1)"), html.Img(src="x"),
                                 dbc.Button("x"), object(), {"a": 1}])
def test_what_it_cannot_draw_is_an_error_not_a_gap(bad):
    with pytest.raises(TypeError):
        markup(html.Div(["before", bad]))


def test_only_listed_attributes_pass():
    (div,) = markup(html.Div("x", n_clicks=3, title="t", hidden=True, **{"aria-live": "polite",
                                                                          "data-k": "v"})).tree
    assert div[1] == {"title": "t", "aria-live": "polite", "data-k": "v"}
    assert set(div[1]) - ATTRIBUTES <= {"aria-live", "data-k"}


def test_text_and_find_read_a_tree():
    m = markup(html.Ul([html.Li([html.Strong("one"), " two"], className="a b"), html.Li("three")]))
    assert text(m) == "one two three"
    assert [text(li) for li in find(m, "li")] == ["one two", "three"]
    assert len(find(m, className="b")) == 1 and find(m, "table") == []


def test_no_update_passes_through():
    assert markup(no_update) is no_update


def test_a_block_inside_a_block_is_inlined():
    inner = markup(html.Span("in"))
    assert markup(html.P(["a ", inner])).tree == [["p", {}, "a ", ["span", {}, "in"]]]


def test_markup_serialises_as_one_component():
    payload = json.loads(json.dumps(markup(html.Div([html.P("x"), dbc.Alert("y")])),
                                    cls=plotly.utils.PlotlyJSONEncoder))
    assert payload["type"] == "Markup" and payload["namespace"] == "fooling_markup"
    assert "namespace" not in json.dumps(payload["props"])  # no component inside it


@pytest.mark.parametrize("name", ["identity", "tanh"])
@pytest.mark.parametrize("valid", [False, True])
def test_a_real_mnist_result_loses_no_text_and_keeps_its_ids(mnist_state, resources, name, valid):
    far = fooling_points(resources.plane(name).model)
    for point in [tuple(far[0]["hidden"]), (0.1, -0.2), (1e6, -1e6)]:
        _, children, _ = point_result(mnist_state, name, point, valid)
        m = markup(children)
        assert " ".join(text(m).split()) == " ".join(text_of(children).split())
        if "Prediction" in text(m):
            assert len(find(m, id=ids.MNIST_DENSITY)) == 1 and len(find(m, "table")) == 1
        for node in find(m):
            assert node[0] in TAGS and set(node[1]) <= ATTRIBUTES | {k for k in node[1] if k.startswith("aria-")}


def test_markup_is_a_dash_component_with_its_props():
    m = Markup(tree=["x"], id="z", className="c")
    assert m.to_plotly_json()["props"] == {"tree": ["x"], "id": "z", "className": "c"}
    with pytest.raises(TypeError):
        Markup(children="not a prop")
