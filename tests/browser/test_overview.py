"""The overview page in a real browser."""

from tests.browser.conftest import console_errors


def test_overview_renders_cards_and_scores(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_element("#overview-table", timeout=20)
    rows = dash_duo.find_elements("#overview-table tbody tr")
    assert len(rows) == 6
    assert "logistic regression" in rows[0].text
    links = [a.get_attribute("href") for a in dash_duo.find_elements(".card a")]
    assert {h.rsplit("/", 1)[-1] for h in links} == {"iris", "svm", "mnist", "neurons", "compare"}
    assert console_errors(dash_duo) == []


def test_unknown_path_says_not_found(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/no-such-page")
    dash_duo.wait_for_text_to_equal("h1", "Page not found", timeout=20)
    assert console_errors(dash_duo) == []
