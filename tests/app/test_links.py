"""Every view in its URL: the query parser, each page's reading of its link, the writers."""
from __future__ import annotations

import json

import pytest
from dash import no_update

from app import ids, links
from app.links import Param, choice, flag, number, query_string, read
from app.pages.compare.callbacks import update_from_link as compare_from_link
from app.pages.iris.callbacks import update_iris_result
from app.pages.neurons.callbacks import update_from_link as neurons_from_link
from app.petals import point_from_query
from tests.app.test_mnist import alerts, text_of

PARAMS = [Param("x", number(-10, 10)), Param("n", number(0, 5, integer=True)), Param("c", choice(("a", "b"))),
          Param("f", flag, default=False)]


def test_read_parses_typed_values_and_keeps_defaults():
    values, notes, present = read({"x": ["1.5"], "n": ["3"], "c": ["b"], "f": ["1"]}, PARAMS)
    assert values == {"x": 1.5, "n": 3, "c": "b", "f": True} and notes == [] and present
    values, notes, present = read({}, PARAMS)
    assert values == {"x": None, "n": None, "c": None, "f": False} and notes == [] and not present
    assert read(None, PARAMS) == ({"x": None, "n": None, "c": None, "f": False}, [], False)


@pytest.mark.parametrize("query,bad", [
    ({"x": ["nan"]}, "x"), ({"x": ["1e309"]}, "x"), ({"x": ["inf"]}, "x"), ({"x": ["11"]}, "x"),
    ({"x": ["1", "2"]}, "x"), ({"n": ["2.5"]}, "n"), ({"n": ["-1"]}, "n"), ({"c": ["evil"]}, "c"),
    ({"f": ["yes"]}, "f"), ({"x": ["9" * 50]}, "x"), ({"x": "1"}, "x"), ({"x": [1]}, "x"),
])
def test_hostile_values_fall_back_to_the_default_with_a_note(query, bad):
    values, notes, present = read(query, PARAMS)
    assert present and len(notes) == 1 and f"'{bad}" in notes[0]
    assert values[bad] == {p.name: p.default for p in PARAMS}[bad]


@pytest.mark.parametrize("query", [{"__error__": "That link is too long to read (9999999 characters)."},
                                   "not a dict", 7, ["x"]])
def test_a_query_the_browser_refused_or_garbage_is_one_note(query):
    values, notes, present = read(query, PARAMS)
    assert present and len(notes) == 1 and values["x"] is None


def test_query_string_writes_what_read_reads_back():
    s = query_string({"x": 0.1 + 0.2, "n": 3, "c": "a", "f": True, "skip": None})
    assert s == "?x=0.30000000000000004&n=3&c=a&f=1"
    parsed = {k: [v] for k, v in (kv.split("=") for kv in s[1:].split("&"))}
    assert read(parsed, PARAMS)[0] == {"x": 0.1 + 0.2, "n": 3, "c": "a", "f": True}  # the very same double


def test_the_sanitizer_limits_are_in_the_browser_code():
    assert str(links.MAX_QUERY) in links.SANITIZE_JS and "__error__" in links.SANITIZE_JS
    assert links.MAX_QUERY < 65536  # a link that passes the sanitizer fits in a callback request


def test_iris_point_from_a_link(iris_state):
    assert point_from_query({"x": ["4"], "y": ["1.2"]}) == ((4.0, 1.2), [])
    assert point_from_query({"x": ["4"]})[0] is None
    children, point = update_iris_result(iris_state, ids.QUERY, None, {"x": ["4"], "y": ["1.2"]})
    assert point == {"point": [4.0, 1.2]} and "Prediction" in text_of(children)
    children, point = update_iris_result(iris_state, None, None, {"x": ["nan"], "y": ["1"]})
    assert point is no_update and "'x=nan'" in text_of(children) and alerts(children)
    assert update_iris_result(iris_state, None, None, {}) == (no_update, no_update)


def test_neurons_controls_from_a_link(neurons_state):
    out = neurons_from_link(neurons_state, {"layer": ["2"], "neuron": ["40"], "source": ["3"], "target": ["8"],
                                            "strength": ["1.25"], "clip": ["0"]})
    assert out[:6] == (2, 40, "3", "8", 1.25, False) and out[6] is None
    out = neurons_from_link(neurons_state, {"layer": ["3"], "neuron": ["40"]})  # the output layer has 10
    assert out[0] == 3 and out[1] == 0 and "beyond layer 3" in text_of(out[6])
    out = neurons_from_link(neurons_state, {"layer": ["evil"], "strength": ["1e309"]})
    assert out[0] is no_update and out[4] is no_update and "'layer=evil'" in text_of(out[6])
    assert neurons_from_link(neurons_state, {}) == (no_update,) * 7


def test_compare_controls_from_a_link(page_states):
    state = page_states["/compare"]
    model = next(iter(state.planes))
    assert compare_from_link(state, {"model": [model], "view": ["near"]}) == (model, "near", None)
    out = compare_from_link(state, {"model": ["evil"], "view": ["near", "disc"]})
    assert out[0] is no_update and out[1] is no_update and "'model=evil'" in text_of(out[2])
    # no link: the current choices go back as they are (the density map's first drawing waits on them)
    assert compare_from_link(state, None, "svm_rbf", "far") == ("svm_rbf", "far", no_update)
    assert compare_from_link(state, {"model": ["evil"]}, "logistic", "far")[:2] == ("logistic", "far")


def test_every_page_writes_its_view_and_the_shell_reads_links(dash_app):
    """A clientside writer per page outputs the URL's search; the shell's sanitizer fills the query."""
    writers = [k for k, v in dash_app.callback_map.items() if f"{ids.URL}.search" in k]
    assert len(writers) >= 5  # iris, svm, mnist, neurons, compare
    readers = {k for k, v in dash_app.callback_map.items()
               if any(i["id"] == ids.QUERY for i in v["inputs"])}
    assert len(readers) >= 6  # every page's view, and the own digit
    sanitizer = [k for k in dash_app.callback_map if k == f"{ids.QUERY}.data"]
    assert sanitizer, json.dumps(list(dash_app.callback_map))[:500]
    # a clicked point is written from what its store has shown (after the frame that drew the
    # click's answer), never straight from the store's data (before it)
    for store in (ids.IRIS_POINT, ids.SVM_POINT, ids.MNIST_POINT):
        reads = [{i["property"] for i in dash_app.callback_map[k]["inputs"] if i["id"] == store} for k in writers]
        assert [r for r in reads if r] == [{"shown"}], (store, reads)
