"""/ood in a real browser: the tables hold the core library's numbers, both charts are drawn,
the three switches work, and the console stays empty."""

from __future__ import annotations

from dash.testing.wait import until

from app import ids
from app.pages.ood import compute
from fooling.oodsets import FAR_SETS, NEAR_SETS
from tests.app.test_ood import two
from tests.browser.conftest import click_option, console_errors

GD = "document.querySelector('#%s .js-plotly-plot')"


def plot(dash_duo, graph_id: str, expr: str):
    return dash_duo.driver.execute_script(f"const gd = {GD % graph_id}; return gd && gd.data ? {expr} : null;")


def row_cells(dash_duo, table: str, row_class: str) -> list[str]:
    """The row's cell texts, read in one script (a table redrawn meanwhile leaves nothing stale)."""
    cells = dash_duo.driver.execute_script(
        "const row = document.querySelector('#' + CSS.escape(arguments[0]) + ' tr.' + CSS.escape(arguments[1]));"
        "return row ? [...row.querySelectorAll('td')].map(td => td.textContent.trim()) : null;", table, row_class)
    return cells or []  # no such row (yet): no cells


def test_ood_page_shows_the_measurements(dash_duo, dash_app, resources):
    ood = resources.analysis.ood()
    rays = resources.analysis.alpha_ray()
    fgsm = resources.analysis.fgsm()
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + "/ood")
    dash_duo.wait_for_element(f"#{ids.OOD_TABLE} tbody tr", timeout=30)

    # the OOD table: 3 networks x 6 scores, near and far sets, the measured AUROC
    rows = dash_duo.find_elements(f"#{ids.OOD_TABLE} tbody tr[class^='ood-row-']")
    assert len(rows) == 18
    sets = NEAR_SETS + FAR_SETS
    cells = row_cells(dash_duo, ids.OOD_TABLE, "ood-row-identity-msp")
    assert cells[1:] == [two(ood['identity']['msp'][s]['auroc']) for s in sets]
    heads = dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll('#{ids.OOD_TABLE} thead th')].map(t => t.textContent)")
    assert "near-OOD" in heads and "far-OOD" in heads

    # the metric switch: FPR@95 numbers replace the AUROC ones
    click_option(dash_duo, ids.OOD_METRIC, "FPR@95")
    want = [two(ood['tanh']['energy'][s]['fpr95']) for s in sets]
    until(lambda: row_cells(dash_duo, ids.OOD_TABLE, "ood-row-tanh-energy")[1:] == want, timeout=20)
    dash_duo.wait_for_contains_text(f"#{ids.OOD_TABLE_BOX}", "Lower is better", timeout=10)

    # the mean max probability table and the FGSM table, ours and theirs
    mmc = row_cells(dash_duo, ids.OOD_MMC_TABLE, "mmc-row-relu")
    assert mmc[1] == f"{100 * resources.analysis.ood_report()['mean_max_probability']['relu']['in']:.1f}%"
    f = row_cells(dash_duo, ids.OOD_FGSM_TABLE, "fgsm-row-identity")
    assert f[5] == f"{100 * fgsm['identity']['0.25']['error']:.1f}%"
    assert "theirs" in dash_duo.find_element(f"#{ids.OOD_FGSM_TABLE}").text

    # the alpha-ray chart: one line per model and the tanh net's bound, log alpha axis
    until(lambda: (plot(dash_duo, ids.OOD_RAYS, "gd.data.length") or 0) == len(rays) + 1, timeout=20)
    assert plot(dash_duo, ids.OOD_RAYS, "gd._fullLayout.xaxis.type") == "log"
    names = plot(dash_duo, ids.OOD_RAYS, "gd.data.map(t => t.name)")
    assert names[:len(rays)] == [compute.RAY_LEGEND[k] for k in rays]
    click_option(dash_duo, ids.OOD_RAY_VALUE, compute.RAY_VALUES["share"])
    until(lambda: plot(dash_duo, ids.OOD_RAYS, "gd.data.length") == len(rays), timeout=20)
    assert plot(dash_duo, ids.OOD_RAYS, "gd.layout.yaxis.title.text") == compute.RAY_VALUES["share"]

    # the tiles: one heatmap, captions with the chosen network's answers
    until(lambda: plot(dash_duo, ids.OOD_EXAMPLES, "gd.data[0].type") == "heatmap", timeout=20)
    ex = resources.analysis.ood_examples()

    def captions():
        return plot(dash_duo, ids.OOD_EXAMPLES, f"gd.layout.annotations.slice({len(sets)}).map(a => a.text)")

    first = next(e for e in ex["entries"] if e["set"] == "uniform_noise")
    assert any(c.startswith(f"{first['answers']['identity']['predicted']} · ") for c in captions())
    before = captions()
    click_option(dash_duo, ids.OOD_NETWORK, "ReLU net")
    until(lambda: captions() != before, timeout=20)
    relu = [e["answers"]["relu"]["predicted"] for e in ex["entries"] if e["set"] == "near_digits_4_9"]
    assert [int(c.split(" · ")[0]) for c in captions()[::len(sets)]] == relu  # row-major: the first column

    assert console_errors(dash_duo) == []
