"""Static markup (app/markup.py, assets/markup.js) in a real browser: it draws what the same
Dash components draw, text stays text, and what is not allowed is not drawn."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from app import ASSETS, ids
from app.markup import Markup, markup
from tests.browser.conftest import console_errors, emit_click

SAMPLE = [html.Div([html.Span("Prediction: "), html.Strong("3"), html.Span(" (>99.99%)", className="confidence")],
                   className="prediction fs-5"),
          html.Ul([html.Li([html.Strong("Image: in distribution"), ". Its percentile is 51.0"]), html.Li("plain")],
                  className="small mb-1 ps-3", id="sample-list"),
          html.P(["line", html.Br(), "next"], style={"color": "rgb(200, 0, 0)"}, title="a title",
                 **{"aria-live": "polite", "data-kind": "x"}),
          html.Table(html.Tbody(html.Tr([html.Td("0"), html.Td("12.5%", style={"fontWeight": "bold"})])))]

HOSTILE = "<script>window.__markupPwned = 1</script><img src=x onerror=\"window.__markupPwned = 2\">"

CRAFTED = [["script", {}, "window.__markupPwned = 3"],
           ["img", {"src": "x", "onError": "window.__markupPwned = 4"}],
           ["a", {"href": "javascript:window.__markupPwned = 5"}, "link"],
           ["div", {"onClick": "window.__markupPwned = 6", "dangerouslySetInnerHTML": {"__html": "<b>raw</b>"},
                    "style": "color: red", "href": "x", "className": "kept"}, "inside"],
           ["span", "not attributes", "dropped"], {"not": "a node"}, "after"]


def _app():
    app = dash.Dash(__name__, assets_folder=str(ASSETS), serve_locally=True)
    app.layout = html.Div([
        html.Div(SAMPLE, id="as-components"),
        html.Div(markup(SAMPLE), id="as-markup"),
        html.Div(markup([html.P(HOSTILE), dbc.Alert("careful", color="warning", className="small")]), id="hostile"),
        html.Div(Markup(tree=CRAFTED), id="crafted"),
        Markup(tree=["own"], id="own-block", className="own"),
    ])
    return app


def test_markup_draws_what_the_components_draw(dash_duo):
    dash_duo.start_server(_app())
    dash_duo.wait_for_element("#as-markup .prediction", timeout=20)
    # the same elements, attributes (in any order), styles and text
    canonical = """
        const walk = (n) => n.nodeType === 3 ? JSON.stringify(n.data) : n.nodeType !== 1 ? '' :
            '<' + n.tagName + [...n.attributes].map(a => ' ' + a.name + '=' + JSON.stringify(a.value)).sort().join('')
            + '>' + [...n.childNodes].map(walk).join('') + '</' + n.tagName + '>';
        return [...document.getElementById(arguments[0]).childNodes].map(walk).join('');
    """
    drawn = dash_duo.driver.execute_script(canonical, "as-markup")
    assert drawn == dash_duo.driver.execute_script(canonical, "as-components")
    assert drawn.count("<LI") == 2 and "<TABLE" in drawn and "<BR>" in drawn
    p = dash_duo.find_element("#as-markup p")
    assert p.get_attribute("title") == "a title" and p.get_attribute("aria-live") == "polite"
    assert p.get_attribute("data-kind") == "x" and p.value_of_css_property("color") in ("rgb(200, 0, 0)", "rgba(200, 0, 0, 1)")
    alert = dash_duo.find_element("#hostile [role=alert]")
    assert {"alert", "alert-warning", "small"} <= set(alert.get_attribute("class").split())
    own = dash_duo.find_element("#own-block")
    assert own.get_attribute("class") == "own" and own.text == "own"
    assert console_errors(dash_duo) == []


def test_markup_text_stays_text_and_the_rest_is_not_drawn(dash_duo):
    dash_duo.start_server(_app())
    dash_duo.wait_for_element("#crafted .kept", timeout=20)
    d = dash_duo.driver
    assert dash_duo.find_element("#hostile p").text == HOSTILE
    assert d.execute_script("return document.querySelectorAll('#hostile script, #hostile img').length") == 0
    assert d.execute_script("return document.querySelectorAll('#crafted script, #crafted img, #crafted a, "
                            "#crafted b').length") == 0
    kept = dash_duo.find_element("#crafted .kept")
    assert kept.text == "inside" and kept.get_attribute("style") in (None, "")
    assert kept.get_attribute("onclick") is None and kept.get_attribute("href") is None
    kept.click()
    assert d.execute_script("return window.__markupPwned === undefined")
    assert dash_duo.find_element("#crafted").text.strip() == "inside\nafter"


def test_the_mnist_result_is_one_component(dash_duo, dash_app, resources):
    """A click's result arrives as the tree of the page's one static-markup block: the page's
    store holds no component inside it (each would be a wrapper dash-renderer re-checks on
    every store update), and the click changed a prop of that block, not its children."""
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/mnist")
    dash_duo.wait_for_element(f"#{ids.MNIST_MAP} .main-svg", timeout=20)
    x, y = (float(v) for v in resources.plane("identity").centroid)
    emit_click(dash_duo, ids.MNIST_MAP, x + 40, y)
    dash_duo.wait_for_contains_text(f"#{ids.MNIST_RESULT}", "Prediction", timeout=20)
    kinds = dash_duo.driver.execute_script("""
        const s = window.store.getState(), path = s.paths.strs[arguments[0]];
        let c = s.layout;
        for (const k of path) { c = c[k]; }
        return [c.namespace, c.type, c.props.children === undefined, JSON.stringify(c.props.tree)];
    """, ids.MNIST_RESULT)
    assert kinds[:3] == ["fooling_markup", "Markup", True] and "Prediction" in kinds[3]
    assert dash_duo.find_element(f"#{ids.MNIST_DENSITY}").text.startswith("Density check")
    assert console_errors(dash_duo) == []
