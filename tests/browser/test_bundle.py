"""Every page draws with the cartesian partial bundle of plotly.js: the full bundle is never
requested, the figures render, the console stays empty."""

from __future__ import annotations

from app import ids
from app.pages import PAGES
from tests.browser.conftest import console_errors
from tests.conftest import require_or_skip

LOADED = """
return performance.getEntriesByType('resource').map(e => e.name.replace(location.origin, ''))
    .filter(n => n.includes('plotly'));
"""


def test_every_page_draws_with_the_partial_bundle(dash_duo, dash_app, plotly_bundle):
    require_or_skip(plotly_bundle is not None, "the npm registry, for plotly.js's cartesian bundle")
    assert dash_app.plotly_bundle_ == plotly_bundle
    dash_duo.start_server(dash_app)
    for page in PAGES:
        dash_duo.driver.get(dash_duo.server_url + page.path)
        dash_duo.wait_for_element(f"#{ids.PAGE} > *", timeout=30)
        if page.path != "/":
            dash_duo.wait_for_element(f"#{ids.PAGE} .js-plotly-plot .main-svg", timeout=30)
        version = dash_duo.driver.execute_script("return window.Plotly && window.Plotly.version;")
        assert version == plotly_bundle.version, page.path
        assert dash_duo.driver.execute_script(LOADED) == [plotly_bundle.route], page.path
        drawn = dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('.js-plotly-plot')].every(gd => gd._fullLayout && "
            "gd.querySelector('.main-svg'));")
        assert drawn, page.path
        assert console_errors(dash_duo) == [], page.path
