"""The overview page in a real browser."""

from app.pages import PAGES
from fooling.models import IRIS_MODELS
from tests.browser.conftest import console_errors


def test_overview_renders_cards_and_scores(dash_duo, dash_app, resources):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_element("#overview-table", timeout=20)
    rows = dash_duo.find_elements("#overview-table tbody tr")
    # one score row per model: the iris models, then every network of the workspace
    assert len(rows) == len(IRIS_MODELS) + len(resources.workspace.mnist)
    assert "logistic regression" in rows[0].text
    for row, m in zip(rows[len(IRIS_MODELS):], resources.workspace.mnist.values()):
        assert f"{100 * m.trained.test_accuracy:.1f}%" in row.text
    links = [a.get_attribute("href") for a in dash_duo.find_elements(".card a")]
    assert {h.rsplit("/", 1)[-1] for h in links} == {p.path.strip("/") for p in PAGES if p.path != "/"}
    assert console_errors(dash_duo) == []


def test_unknown_path_says_not_found(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    url = dash_duo.server_url + "/no-such-page"
    dash_duo.driver.get(url)
    dash_duo.wait_for_text_to_equal("h1", "Page not found", timeout=20)
    # the server answers an unknown page with status 404 (the browser logs that load, and
    # nothing else: no script error)
    errors = console_errors(dash_duo)
    assert [e for e in errors if not (e.get("source") == "network" and e["message"].startswith(url + " ")
                                      and "404" in e["message"])] == []
    assert len(errors) == 1
