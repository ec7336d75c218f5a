"""The prose and the fooling-rate table of /compare, their numbers read off the measurements."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from fooling.analysis import Plane
from fooling.models import IRIS_MODELS

from ... import ids
from .compute import FLAG_R, LABELS, MODELS, RS, THRESHOLD, ordinal

__all__ = ["curves_note", "density_note", "overview_text", "table", "table_rows"]


def _p(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f}%"


def _accuracy(res, name: str, s: dict) -> float | None:
    if name in IRIS_MODELS:
        return res.iris.accuracy(name)
    if name == "mlp_identity_rbf_head":
        return s["rbf_head_test_accuracy"]
    return res.workspace.mnist[name[4:]].trained.test_accuracy


def table_rows(res, s: dict) -> list[dict]:
    """One dict per model of summary ``s``: ``name``, ``label``, formatted ``R1``..``R10``,
    ``max``, ``flagged``, ``accuracy``."""
    rows = []
    for name in MODELS:
        if name not in s["models"]:
            continue
        m = s["models"][name]
        acc = _accuracy(res, name, s)
        flagged = m.get("flagged_by_density")
        rows.append({"name": name, "label": LABELS[name],
                     **{f"R{R:g}": _p(m[f"R{R:g}"]) for R in RS},
                     "max": _p(m["max_confidence"]),
                     "flagged": _p(flagged) if flagged is not None else "n/a",
                     "accuracy": _p(acc, 1) if acc is not None else "n/a"})
    return rows


def table(res, rows: list[dict]) -> list:
    """The fooling-rate table of ``rows`` (:func:`table_rows`) and its legend."""
    head = html.Thead(html.Tr([html.Th("model")] + [html.Th(f"R = {R:g}") for R in RS] + [
        html.Th("max P"), html.Th("flagged"), html.Th("accuracy")]))
    body = html.Tbody([html.Tr([html.Td(r["label"])] + [html.Td(r[f"R{R:g}"]) for R in RS] + [
        html.Td(r["max"]), html.Td(r["flagged"]), html.Td(r["accuracy"])], className=f"row-{r['name']}")
        for r in rows])
    tbl = dbc.Table([head, body], id=ids.COMPARE_TABLE, striped=True, size="sm", responsive=True,
                    className="small mb-1")
    return [tbl, html.P(
        f"R = r: the fooling rate on the disc of r data radii. max P: the highest top probability "
        f"on the disc of {FLAG_R} radii. flagged: the share of the confident area within {FLAG_R} radii "
        f"that the density check calls out of distribution. Accuracy: iris on all {len(res.iris.X)} "
        "flowers (its training set too), MNIST on held-out digits.", className="small text-muted")]


def overview_text(res, s: dict, pl: dict[str, Plane]) -> list:
    """The page's explanatory paragraphs, given summary ``s`` and planes ``pl``."""
    n = s["resolution"]
    parts = [html.P(
        f"A model is fooled where it is sure of an answer although nothing like its training data "
        f"lies there. Its fooling rate at R is the share of the area of a disc of R data radii, "
        f"centred on its training points' centroid, where its top class probability is at least "
        f"{100 * s['threshold']:g}%. The data radius is the largest distance of a training point from "
        f"that centroid. Iris models live on the petal plane (the {len(res.iris.X)} flowers); the "
        f"MNIST nets on their 2-unit last hidden layer (the training digits' encodings). Areas are "
        f"counted on a grid of {n} × {n} cell centres over each disc's bounding square.")]
    if "mlp_tanh" in s["models"]:
        mx = s["models"]["mlp_tanh"]["max_confidence"]
        reach = ("never reaches {t:g}% there at all: the highest anywhere is {m}." if mx < s["threshold"]
                 else "reaches at most {m} there.").format(t=100 * s["threshold"], m=_p(mx))
        parts.append(html.P(
            "The tanh net's hidden units lie in (−1, 1), so no input reaches beyond the square "
            "(−1, 1)²: its disc is intersected with that square and its rates are shares of the "
            f"intersection. Its top probability {reach}"))
    if "mlp_identity" in pl:
        d = pl["mlp_identity"].density
        acc = s["rbf_head_test_accuracy"]
        linear = res.workspace.mnist["identity"].trained.test_accuracy
        parts.append(html.P([
            html.Strong("Two remedies. "),
            "An RBF head: keep the identity net up to its 2-unit layer and replace the linear output "
            f"layer by an RBF-kernel SVM with Platt-scaled probabilities, fitted on the training "
            f"encodings (held-out accuracy {_p(acc, 1)}, against {_p(linear, 1)} for the linear head). "
            f"A density check beside the classifier: a Gaussian mixture ({d.n_components} components) "
            "fitted on the training points (petals, or encodings) flags a point as out of "
            f"distribution when its log-density is below the {ordinal(d.threshold_percentile)} "
            "percentile of the training points' own. The table's column 'flagged' is the share of "
            f"each model's confident area (within {FLAG_R} data radii) that it flags."]))
    return parts


def curves_note(curves: dict[str, dict]) -> str:
    """The sentence under the curves, given every model's :func:`curve`."""
    far = []
    for name, c in curves.items():
        ok = np.flatnonzero(c["count"])
        far.append(f"{LABELS[name]} {_p(c['median'][ok[-1]], 1)}")
    text = ("On an unbounded plane a linear head's confidence hardly fades with distance, or grows; "
            "an RBF model's falls back to one fixed answer well below certainty. Median top "
            "probability in the farthest bin: " + "; ".join(far) + ".")
    if "mlp_tanh" in curves:
        c = curves["mlp_tanh"]
        text += (f" The tanh net's curve covers its whole square, which lies within "
                 f"{c['edges'][-1] / c['radius']:.2f} data radii of a training encoding.")
    return text


def density_note(name: str, d: dict, bounded: bool) -> str:
    """The sentence under the density map of ``name`` (its :func:`density_map` ``d``)."""
    t = f"{100 * THRESHOLD:g}%"
    if not bounded:
        where = f"the disc of {FLAG_R} data radii"
    else:
        where = f"the square (−1, 1)² (the disc of {FLAG_R} data radii holds all of it)"
    if not d["n_confident"]:
        return (f"{LABELS[name]}: the top probability reaches {t} nowhere on {where}; the highest is "
                f"{_p(d['max_confidence'])}, so there is nothing for the density check to catch.")
    return (f"{LABELS[name]}: the top probability is {t} or more on {_p(d['share'])} of {where} "
            f"({d['n_confident']:,} of {d['n_cells']:,} grid cells); the density check flags "
            f"{_p(d['flagged_share'])} of that confident area as out of distribution.")
