"""The tables and prose of /ood, every number read off the measurements in the page's State."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from fooling.oodsets import ALPHA_SCALES, FOOLING_RADII

from ... import ids
from .compute import (CONFIDENT, FGSM_LABELS, NETWORK_LABELS, PUBLISHED_LABELS, RAY_LABELS,
                      SCORE_LABELS, SET_LABELS, State)
from .formats import num, pct, told

__all__ = ["GOOD", "chance", "fgsm_note", "fgsm_table", "highlights", "metric_line", "mmc_table", "ood_table",
           "ray_notes", "ray_table", "sets_line", "shade", "table_legend", "theorem"]

GOOD = {"auroc": 0.9, "fpr95": 0.1, "aupr_in": 0.9, "aupr_out": 0.9}
"""A cell is shaded green at this value or better (FPR@95: at or below it)."""
_GREEN, _RED = "#e3f4e8", "#fbe3e4"
_STICKY = {"position": "sticky", "left": 0, "background": "#fff", "zIndex": 1, "textAlign": "left"}
_SPLIT = {"borderLeft": "2px solid #999"}
_PINNED = {"position": "sticky", "left": "0.25rem", "display": "inline-block", "maxWidth": "calc(100vw - 3rem)",
           "whiteSpace": "normal"}
"""A wide header cell's text stays in view (and wraps to the screen) while its table scrolls sideways."""


def _group(text: str, span: int) -> html.Tr:
    """A row heading a group of rows (a network; ours or theirs), readable on a narrow screen."""
    return html.Tr(html.Th(html.Span(text, style=_PINNED), colSpan=span, className="table-light",
                           style={"textAlign": "left"}))
_HIDDEN_SCORES = ("msp", "energy", "mahalanobis", "hidden_density", "rbf_head")
"""Scores read off a network's 2-unit layer or output (the image density reads the pixels)."""


def chance(metric: str, n_in: int, n_out: int) -> float:
    """What a score that cannot tell the two apart gets on average."""
    return {"auroc": 0.5, "fpr95": 0.95, "aupr_in": n_in / (n_in + n_out),
            "aupr_out": n_out / (n_in + n_out)}[metric]


def shade(metric: str, value: float, n_in: int, n_out: int) -> str | None:
    """'good' (at least :data:`GOOD`), 'worse' (worse than chance) or None."""
    if metric == "fpr95":
        return "good" if value <= GOOD[metric] else ("worse" if value > chance(metric, n_in, n_out) else None)
    return "good" if value >= GOOD[metric] else ("worse" if value < chance(metric, n_in, n_out) else None)


def metric_line(metric: str) -> str:
    """What a metric means, in one line (the positive class, which way is better, chance)."""
    return {
        "auroc": "AUROC: the chance that a real digit scores as more typical than an OOD input. "
                 "1 = perfect; 0.5 = chance; below 0.5 the score is more confident off the data than on it.",
        "fpr95": "FPR@95: the share of OOD inputs accepted when the threshold accepts 95% of the real "
                 "digits. Lower is better; 0.95 = chance; 1 = every OOD input accepted.",
        "aupr_in": "AUPR-In: area under precision-recall, real digits positive. Higher is better; chance "
                   "is the real digits' share of the pair (0.5 for a far set, 0.4 for digits 4-9 here).",
        "aupr_out": "AUPR-Out: area under precision-recall, OOD inputs positive (scores negated). Higher "
                    "is better; chance is the OOD share of the pair.",
    }[metric]


def sets_line(state: State) -> str:
    """What the sets are (definitions in :mod:`fooling.oodsets`)."""
    n = state.report["n"][state.networks[0]]
    scales = ", ".join(f"×{a}" for a in ALPHA_SCALES)
    near = (f"Near-OOD: {n['near_digits_4_9']:,} real digits 4-9 the 0-3 nets never saw. "
            if "near_digits_4_9" in n else "")
    return (f"In-distribution: the {n['in']:,} held-out digits 0-3. {near}Far-OOD, {n['uniform_noise']:,} "
            f"images each: uniform noise (every pixel uniform in [0, 1]); Gaussian noise (the training "
            f"pixels' mean and spread, clipped to [0, 1]); permuted pixels (a held-out digit shuffled); "
            f"{scales} (a held-out digit's pixels times that, Hein et al.'s rays); fooling images (each "
            f"net's own inversions of hidden points {FOOLING_RADII[0]:g} to {FOOLING_RADII[1]:g} data radii "
            "from its training encodings, pixels unconstrained).")


def _cell(text: str, kind: str | None, style: dict | None = None) -> html.Td:
    colour = {"good": _GREEN, "worse": _RED}.get(kind)
    st = dict(style or {})
    if colour:
        st["background"] = colour
    return html.Td(text, style=st or None, className=f"cell-{kind}" if kind else None)


def _set_headers(state: State, first: list) -> list:
    near, far = state.near_sets, state.far_sets
    top = html.Tr(first + ([html.Th("near-OOD", colSpan=len(near), className="text-center")] if near else [])
                  + [html.Th("far-OOD", colSpan=len(far), style={**_SPLIT, "textAlign": "left"})])
    names = [html.Th(SET_LABELS[s], style=_SPLIT if s == far[0] else None, className="text-nowrap")
             for s in near + far]
    return [top, names]


def ood_table(state: State, metric: str) -> dbc.Table:
    """Networks x scores x sets for ``metric``: one group of rows per network, near and far columns apart."""
    near, far = state.near_sets, state.far_sets
    top, names = _set_headers(state, [html.Th("score", rowSpan=2, style=_STICKY)])
    head = html.Thead([top, html.Tr(names)])
    body = []
    for net in state.networks:
        body.append(_group(f"{NETWORK_LABELS[net]} net", 1 + len(near) + len(far)))
        n = state.report["n"][net]
        for score, per_set in state.report["metrics"][net].items():
            cells = [html.Td(SCORE_LABELS[score], style=_STICKY, className="text-nowrap")]
            for s in near + far:
                v = per_set[s][metric]
                cells.append(_cell(num(v), shade(metric, v, n["in"], n[s]), _SPLIT if s == far[0] else None))
            body.append(html.Tr(cells, className=f"ood-row-{net}-{score}"))
    return dbc.Table([head, html.Tbody(body)], id=ids.OOD_TABLE, size="sm", bordered=False, responsive=True,
                     className="small mb-1 text-end", style={"minWidth": "720px"})


def table_legend(metric: str) -> html.P:
    good = GOOD[metric]
    way = "at or below" if metric == "fpr95" else "at least"
    return html.P([metric_line(metric), " ", html.Span("Green", style={"background": _GREEN}),
                   f": {way} {good:g}; ", html.Span("red", style={"background": _RED}), ": worse than chance."],
                  className="small text-muted mb-2")


def mmc_table(state: State) -> dbc.Table:
    """Mean max probability (Hein et al.'s MMC) per network on the real digits and every set."""
    near, far = state.near_sets, state.far_sets
    top, names = _set_headers(state, [html.Th("network", rowSpan=2, style=_STICKY),
                                      html.Th("real 0-3", rowSpan=2)])
    body = []
    for net in state.networks:
        m = state.report["mean_max_probability"][net]
        cells = [html.Td(f"{NETWORK_LABELS[net]} net", style=_STICKY, className="text-nowrap"), html.Td(pct(m["in"]))]
        for s in near + far:
            cells.append(_cell(pct(m[s]), "worse" if m[s] > m["in"] else None, _SPLIT if s == far[0] else None))
        body.append(html.Tr(cells, className=f"mmc-row-{net}"))
    return dbc.Table([html.Thead([top, html.Tr(names)]), html.Tbody(body)], id=ids.OOD_MMC_TABLE, size="sm",
                     bordered=False, responsive=True, className="small mb-1 text-end", style={"minWidth": "720px"})


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def highlights(state: State) -> list:
    """What the tables say, as a few sentences whose numbers are read off them."""
    met, mmc, far, near = state.report["metrics"], state.report["mean_max_probability"], state.far_sets, state.near_sets
    out = []
    below = []
    for net in state.networks:
        bad = [s for s in far if met[net]["msp"][s]["auroc"] < 0.5]
        low = min(far, key=lambda s: met[net]["msp"][s]["auroc"])
        below.append(f"{len(bad)} of {len(far)} far sets for the {NETWORK_LABELS[net]} net (lowest: "
                     f"{SET_LABELS[low]}, {told(met[net]['msp'][low]['auroc'])})")
    out.append("The max probability, the score every softmax classifier comes with, ranks the far sets as more "
               f"typical than the real digits (AUROC below 0.5) on {_join(below)}.")
    surer = [f"{NETWORK_LABELS[net]} {sum(mmc[net][s] > mmc[net]['in'] for s in far)}"
             for net in state.networks]
    out.append("Far sets on which a net's mean max probability is higher than on its own held-out digits: "
               f"{_join(surer)} of {len(far)}.")
    if near:
        s = near[0]
        best = max(((net, sc) for net in state.networks for sc in met[net]), key=lambda p: met[p[0]][p[1]][s]["auroc"])
        v = met[best[0]][best[1]][s]["auroc"]
        reach = "no score reaches 0.9" if v < 0.9 else "the best score reaches 0.9"
        same = all(met[net][best[1]][s]["auroc"] == v for net in state.networks)
        whose = (f"the {SCORE_LABELS[best[1]]} (the same for every net)" if same else
                 f"the {NETWORK_LABELS[best[0]]} net's {SCORE_LABELS[best[1]]}")
        out.append(f"Near-OOD is the hard case: on {SET_LABELS[s]} {reach}; the best is {whose} at {told(v)}.")
    if near and all("image_density" in met[net] for net in state.networks):
        lo = min(met[net]["image_density"][s]["auroc"] for net in state.networks for s in far)
        nv = max(met[net]["image_density"][near[0]]["auroc"] for net in state.networks)
        what = ("The image density (a Gaussian mixture on the pixels' principal components plus a residual "
                "term, −∞ for a pixel outside [0, 1]) ")
        if lo >= 0.99:
            short = {s: min(met[net]["image_density"][s]["auroc"] for net in state.networks) for s in far}
            short = {s: v for s, v in short.items() if v < 1}
            how = "AUROC 1 on every one" if not short else "AUROC 1 on all but " + _join(
                [f"{SET_LABELS[s]} ({v:.4f})" for s, v in short.items()])
            out.append(what + f"separates every far set ({how}) and reaches {told(nv)} on "
                       f"{SET_LABELS[near[0]]}: it looks at the images, not at what the net made of them.")
        else:
            out.append(what + f"has its lowest far AUROC at {told(lo)} and reaches {told(nv)} on {SET_LABELS[near[0]]}.")
    if "alpha_10" in far:
        parts = []
        for net in state.networks:
            sc = max(_HIDDEN_SCORES, key=lambda k: met[net][k]["alpha_10"]["auroc"])
            parts.append(f"{NETWORK_LABELS[net]} {told(met[net][sc]['alpha_10']['auroc'])} ({SCORE_LABELS[sc]})")
        out.append("Digits ×10, best score read off the 2-unit layer or the output: " + _join(parts) + ".")
    return out


def theorem() -> str:
    return ("Hein, Andriushchenko & Bitterwolf (CVPR 2019): a ReLU network is affine on each of finitely "
            "many polytopes, so along almost every ray α·x its top softmax probability tends to 1.")


def _pair(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` to two decimals, or three where two would show the same number."""
    return (told(a), told(b)) if told(a) != told(b) else (f"{a:.3f}", f"{b:.3f}")


def _head(name: str) -> str:
    return f"{NETWORK_LABELS[name.removesuffix('_rbf_head')]} net's RBF head"


def ray_table(state: State) -> dbc.Table:
    """Per model: the mean top probability and the share of digits at least 99% sure, at the
    ray's first and last alpha."""
    first = next(iter(state.rays.values()))["alpha"]
    a0, a1 = f"α = {first[0]:,.0f}", f"α = {first[-1]:,.0f}"
    head = html.Thead([
        html.Tr([html.Th("model", rowSpan=2, style=_STICKY),
                 html.Th("mean top probability", colSpan=2, className="text-center", style=_SPLIT),
                 html.Th(f"digits at ≥ {100 * CONFIDENT:g}%", colSpan=2, className="text-center", style=_SPLIT)]),
        html.Tr([html.Th(a0, style=_SPLIT), html.Th(a1), html.Th(a0, style=_SPLIT), html.Th(a1)])])
    body = []
    for k, r in state.rays.items():
        y, s = r["mean_top_probability"], r["share_confident"]
        lo, hi = _pair(y[0], y[-1])
        body.append(html.Tr([html.Td(RAY_LABELS[k], style=_STICKY, className="text-nowrap"),
                             html.Td(lo, style=_SPLIT), html.Td(hi), html.Td(pct(s[0]), style=_SPLIT),
                             html.Td(pct(s[-1]))], className=f"ray-row-{k}"))
    return dbc.Table([head, html.Tbody(body)], id=ids.OOD_RAYS_TABLE, size="sm", bordered=False, responsive=True,
                     className="small mb-1 text-end", style={"minWidth": "420px"})


def ray_notes(state: State) -> list[str]:
    """What the alpha-ray's numbers say about the theorem, model by model."""
    a_end = next(iter(state.rays.values()))["alpha"][-1]
    notes = []
    for net, o in state.origin.items():
        if not o["count"]:
            if state.rays[net]["share_confident"][-1] == 1.0:
                notes.append(f"The {NETWORK_LABELS[net]} net (affine: one polytope) does as the theorem says: at "
                             f"α = {a_end:,.0f} every "
                             f"held-out digit is at least {100 * CONFIDENT:g}% sure.")
            continue
        labels = _join([str(v) for v in o["labels"]])
        rest = o["n"] - o["count"]
        if o["share_others"] is None:
            others = ""
        elif o["share_others"] == 1:
            others = f" The other {rest:,} all end at least {100 * CONFIDENT:g}% sure (α = {a_end:,.0f})."
        else:
            others = (f" Of the other {rest:,}, {pct(o['share_others'])} end at least {100 * CONFIDENT:g}% sure "
                      f"(α = {a_end:,.0f}).")
        notes.append(f"The {NETWORK_LABELS[net]} net's exception: {o['count']:,} of its {o['n']:,} held-out digits "
                     f"(true label{'s' if len(o['labels']) > 1 else ''} {labels}) sit at the origin of its 2-unit layer at every α measured (every unit "
                     f"of that layer off), so its logits are the output layer's biases whatever α is: it answers "
                     f"{o['predicted']} at {pct(o['probability'])} for ever.{others}")
    tanh = state.rays.get("tanh")
    if tanh and tanh.get("top_probability_bound") is not None:
        b = tanh["top_probability_bound"]
        lo, hi = _pair(min(tanh["mean_top_probability"]), max(tanh["mean_top_probability"]))
        notes.append(f"The tanh net is not piecewise affine and saturates: no input gets a top probability above "
                     f"{pct(b)} anywhere in its plane (−1, 1)² (grid search), so no ray can tend to 1; its mean "
                     f"stays between {lo} and {hi}.")
    for k, r in state.rays.items():
        if not k.endswith("_rbf_head"):
            continue
        y, far = r["mean_top_probability"], state.far_answers.get(k)
        const = "" if far is None else f" ({far['predicted']} at {pct(far['probability'])})"
        if y[-1] >= CONFIDENT:
            why = (f" Far from every training encoding an RBF head settles on one constant answer, and this head's "
                   f"is itself sure{const}." if far is not None else
                   f" The {NETWORK_LABELS[k.removesuffix('_rbf_head')]} net's plane is bounded: no scaled digit gets "
                   "far from the training encodings, so the head keeps answering as it does on them.")
            notes.append(f"The {_head(k)} does not help along the ray: its mean ends at {_pair(y[0], y[-1])[1]}, "
                         f"{pct(r['share_confident'][-1])} of the digits at ≥ {100 * CONFIDENT:g}%.{why}")
        elif y[-1] < y[0] - 0.01:
            notes.append(f"The {_head(k)} gets less sure as α grows ({told(y[0])} → {told(y[-1])}): far from every "
                         f"training encoding each kernel value is ~0 and it settles on one constant answer{const}.")
    return notes


def fgsm_table(state: State) -> dbc.Table:
    """Error and mean confidence on the mistakes per eps for each model, then the paper's row, as theirs."""
    eps = list(next(iter(state.fgsm.values())))
    pub = state.published
    head = html.Thead([
        html.Tr([html.Th("model", rowSpan=2, style=_STICKY)]
                + [html.Th(f"ε = {float(e):g}", colSpan=2, className="text-center", style=_SPLIT) for e in eps]),
        html.Tr([html.Th(t, style=_SPLIT if i % 2 == 0 else None, className="text-nowrap")
                 for _ in eps for i, t in enumerate(("error", "confidence"))])])
    rows = [_group(f"ours, on this app's held-out digits; MNIST data: {state.source}", 1 + 2 * len(eps))]
    for name, by_eps in state.fgsm.items():
        cells = [html.Td(FGSM_LABELS[name], style=_STICKY, className="text-nowrap")]
        for e in eps:
            cells += [html.Td(pct(by_eps[e]["error"]), style=_SPLIT), html.Td(pct(by_eps[e]["mean_confidence_on_mistakes"]))]
        rows.append(html.Tr(cells, className=f"fgsm-row-{name}"))
    rows.append(_group(f"theirs: Goodfellow, Shlens & Szegedy (ICLR 2015), {pub['data']}, ε = {pub['eps']:g} only",
                       1 + 2 * len(eps)))
    for name, v in pub["models"].items():
        cells = [html.Td(PUBLISHED_LABELS.get(name, name), style=_STICKY, className="text-nowrap fst-italic")]
        for e in eps:
            hit = abs(float(e) - pub["eps"]) < 1e-12
            cells += [html.Td(pct(v["error"]) if hit else "—", style=_SPLIT),
                      html.Td(pct(v["mean_confidence_on_mistakes"]) if hit else "—")]
        rows.append(html.Tr(cells, className=f"fgsm-published-{name} fst-italic"))
    return dbc.Table([head, html.Tbody(rows)], id=ids.OOD_FGSM_TABLE, size="sm", bordered=False, responsive=True,
                     className="small mb-1 text-end", style={"minWidth": "640px"})


def fgsm_note(state: State) -> list[str]:
    """What the FGSM table says next to the paper's numbers."""
    f, pub = state.fgsm, state.published
    e = f"{float(pub['eps'])}"
    who = []
    if "identity" in state.n_test:
        who.append(f"the {state.n_test['identity']:,} held-out digits 0-3 (the 0-3 nets and their heads)")
    if "neurons" in state.n_test:
        who.append(f"the {state.n_test['neurons']:,} held-out digits 0-9 (784-64-64-10)")
    out = ["Error counts every attacked digit (also those wrong to begin with); confidence is the mean top "
           "probability on the mistakes. Pixels in [0, 1], as theirs."
           + (f" Attacked: {_join(who)}." if who else "")]
    if "identity" in f and e in f["identity"]:
        ours, theirs = f["identity"][e], pub["models"]["shallow_softmax"]
        out.append(f"The identity net is affine in the pixels up to its softmax, like their shallow softmax model: at "
                   f"ε = {pub['eps']:g} it errs on {pct(ours['error'])} at {pct(ours['mean_confidence_on_mistakes'])} "
                   f"(theirs: {pct(theirs['error'])} at {pct(theirs['mean_confidence_on_mistakes'])}).")
    heads = [k for k in f if k.endswith("_rbf_head") and e in f[k]]
    if heads:
        errs = [f[k][e]["error"] for k in heads]
        confs = [f[k][e]["mean_confidence_on_mistakes"] for k in heads if f[k][e]["mean_confidence_on_mistakes"] is not None]
        theirs = pub["models"]["shallow_rbf"]
        how = ("confidently wrong, unlike theirs" if confs and min(confs) > 0.5 else "compare with theirs")
        out.append(f"Their shallow RBF network erred on {pct(theirs['error'])} at {pct(theirs['mean_confidence_on_mistakes'])} "
                   f"confidence. Our RBF heads sit on a trained net's 2-unit layer (the attack's gradient goes "
                   f"through the net) and err on {pct(min(errs))} to {pct(max(errs))}"
                   + (f" at {pct(min(confs))} to {pct(max(confs))}: {how}." if confs else "."))
    return out
