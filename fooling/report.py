"""The essays' numbers beside ours: one JSON-ready dict and a plain-text table."""

from __future__ import annotations

import numpy as np

from .analysis import WorkspaceAnalysis
from .attacks import GOODFELLOW_2015, normalized_pattern, overlay_sweep
from .models import ESSAY, IRIS_MODELS
from .network import forward
from .neurons import effective_weights
from .workspace import MnistModel, Workspace

__all__ = ["overlay_report", "reproduce", "format_table"]

def _iris_report(ws: Workspace) -> dict:
    out = {}
    for name in IRIS_MODELS:
        model = ws.iris.models[name]
        probes = []
        for point, _, _ in ESSAY["iris_probes"]:
            p = model.predict_proba(np.array([point]))[0]
            probes.append({"point": list(point), "label": ws.iris.names[int(np.argmax(p))],
                           "probability": float(p.max())})
        out[name] = {"accuracy": ws.iris.accuracy(name), "probes": probes}
    return out


def overlay_report(m: MnistModel, source: int = 7, target: int = 0, *,
                   clip: tuple[float, float] | None = None,
                   strengths: np.ndarray | None = None) -> dict:
    """Overlay attack on the first correctly classified held-out ``source`` digit.

    The pattern is the target's output neuron's effective-weight image, scaled to a
    peak of one pixel unit (the whole [0, 1] range).
    """
    net, split = m.net, m.split
    proba = forward(net, split.X_test)
    ok = np.flatnonzero((split.y_test == source) & (net.classes[proba.argmax(1)] == source))
    if not len(ok):
        raise ValueError(f"no correctly classified {source} in the held-out set")
    k = int(np.flatnonzero(net.classes == target)[0])
    pattern = normalized_pattern(effective_weights(net, len(net.layers), k))
    s = np.linspace(0.0, 3.0, 301) if strengths is None else strengths
    sweep = overlay_sweep(net, split.X_test[ok[0]], pattern, target, s, clip=clip)
    return {"source_label": source, "target_label": target, "test_index": int(ok[0]),
            "clip": list(clip) if clip else None,
            "flip_strength": sweep.flip_strength, "probability": sweep.flip_probability,
            "first_flip_strength": sweep.first_flip_strength}


def reproduce(ws: Workspace, analysis: WorkspaceAnalysis | None = None) -> dict:
    """Every number of both essays, recomputed on ``ws`` (see the CLI's ``reproduce``).

    ``analysis`` supplies (and caches) the measurements; default one on ``ws``.
    """
    analysis = WorkspaceAnalysis(ws) if analysis is None else analysis
    report: dict = {"iris": _iris_report(ws), "mnist": {"source": ws.source}}
    mn = report["mnist"]
    for name in ("identity", "tanh", "relu"):
        if name not in ws.mnist:
            continue
        m = ws.mnist[name]
        t = m.trained
        mn["n_train"], mn["n_test"] = len(m.split.y_train), len(m.split.y_test)
        mn[name] = {"train_accuracy": t.train_accuracy, "test_accuracy": t.test_accuracy,
                    "epochs": len(t.loss_curve), "converged": t.converged,
                    "fooling": analysis.plane(name).far_points}
        if name == "relu":
            mn[name]["rbf_head_test_accuracy"] = analysis.plane(name).head_accuracy
    if "neurons" in ws.mnist:
        m = ws.mnist["neurons"]
        mn["neurons"] = {"train_accuracy": m.trained.train_accuracy,
                         "test_accuracy": m.trained.test_accuracy,
                         "n_train": len(m.split.y_train), "n_test": len(m.split.y_test),
                         "overlay": overlay_report(m),
                         "overlay_clipped": overlay_report(m, clip=(0.0, 1.0))}
    if "identity" in ws.mnist and "tanh" in ws.mnist:
        fr = analysis.fooling_rates()
        report["fooling_rate"] = {
            name: {k: v[k] for k in ("R1", "R2", "R5", "R10", "flagged_by_density")}
            for name, v in fr["models"].items()}
        report["fooling_rate_method"] = {"resolution": fr["resolution"], "threshold": fr["threshold"]}
        mn["identity"]["rbf_head_test_accuracy"] = fr["rbf_head_test_accuracy"]
    if any(n in ws.mnist for n in ("identity", "tanh", "relu")):
        report["ood"] = analysis.ood()
        report["alpha_ray"] = analysis.alpha_ray()
        report["fgsm"] = analysis.fgsm()
        report["fgsm_published"] = GOODFELLOW_2015
    return report


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_table(report: dict) -> str:
    """The report as an aligned three-column table: what, essay, ours."""
    rows: list[tuple[str, str, str]] = []
    for name, r in report["iris"].items():
        rows.append((f"iris {name}: accuracy", _fmt(ESSAY[name]["accuracy"]), _fmt(r["accuracy"])))
        for (pt, label, p), probe in zip(ESSAY["iris_probes"], r["probes"]):
            # the essay probed logistic regression only; its SVM section reports accuracies
            essay = f"{label} {p:.3f}" if name == "logistic" else "-"
            rows.append((f"  probe {tuple(pt)}", essay, f"{probe['label']} {probe['probability']:.3f}"))
    mn = report["mnist"]
    rows.append(("MNIST source", "full MNIST (28,911 rows of 0-3)",
                 f"{mn['source']}; 0-3 split {mn.get('n_train')}/{mn.get('n_test')}"))
    for name in ("identity", "tanh", "relu"):
        if name not in mn:
            continue
        r = mn[name]
        rows.append((f"{name} net: held-out accuracy", _fmt(ESSAY.get(name, {}).get("accuracy")),
                     _fmt(r["test_accuracy"])))
        for f in r["fooling"]:
            essay = ESSAY["hidden_points"][f["label"]] if name == "identity" else None
            ours = (f"({f['hidden'][0]:.3g}, {f['hidden'][1]:.3g}) -> {f.get('predicted')} "
                    f"p={_fmt(f.get('probability'))} res={f.get('residual', float('nan')):.1e}")
            if "max_confidence" in f:
                ours += f" max={f['max_confidence']:.3f}"
            if f.get("bounded"):
                ours += " (bounded region: its most confident point)"
            rows.append((f"  fooling {f['label']}", f"{essay} -> {f['label']} ~1.0" if essay else
                         "(not in the essay)" if name == "relu" else "(not attempted)", ours))
    if "neurons" in mn:
        r = mn["neurons"]
        rows.append(("784-64-64-10 net: held-out accuracy", "-", _fmt(r["test_accuracy"])))
        o = r["overlay"]
        rows.append(("  overlay 7 + pattern(0): flip strength", "high confidence",
                     f"{_fmt(o['flip_strength'])} (p={_fmt(o['probability'])})"))
    for name, r in report.get("fooling_rate", {}).items():
        rows.append((f"P>=0.99 share of disc, {name}: R1/R2/R5/R10", "-",
                     "/".join(f"{r[k]:.3f}" for k in ("R1", "R2", "R5", "R10"))))
    rows += _field_rows(report)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'what':<{w0}}  {'essay':<{w1}}  ours", "-" * (w0 + w1 + 30)]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


_SHORT = {"near_digits_4_9": "4-9", "uniform_noise": "unif", "gaussian_noise": "gauss", "permuted": "perm",
          "alpha_2": "x2", "alpha_5": "x5", "alpha_10": "x10", "alpha_100": "x100", "fooling_images": "fool"}


def _field_rows(report: dict) -> list[tuple[str, str, str]]:
    """Rows of the OOD tables, the alpha-ray and the FGSM table (when the report has them)."""
    rows: list[tuple[str, str, str]] = []
    ood = report.get("ood", {})
    for net, scores in ood.items():
        sets = list(next(iter(scores.values())))
        rows.append((f"OOD {net} net, AUROC/FPR95 per set", "-", " ".join(f"{_SHORT.get(s, s):>9}" for s in sets)))
        for score, per_set in scores.items():
            rows.append((f"  {score}", "-", " ".join(f"{v['auroc']:.2f}/{v['fpr95']:.2f}" for v in per_set.values())))
    for name, r in report.get("alpha_ray", {}).items():
        a, p = r["alpha"], r["mean_top_probability"]
        picks = [i for i, v in enumerate(a) if abs(np.log10(v) - round(np.log10(v))) < 1e-9][:4]
        bound = r.get("top_probability_bound")
        rows.append((f"alpha-ray {name}: mean top p at alpha 1/10/100/1000",
                     "ReLU: -> 1 (Hein et al. 2019)" if name == "relu" else "-",
                     "/".join(f"{p[i]:.3f}" for i in picks)
                     + f"; share >= 0.99 at 1000: {r['share_confident'][-1]:.2f}"
                     + (f"; cap {bound:.3f}" if bound is not None else "")))
    published = report.get("fgsm_published", {}).get("models", {})
    essay = {"identity": "shallow_softmax", "neurons": "maxout", "identity_rbf_head": "shallow_rbf"}
    for name, per_eps in report.get("fgsm", {}).items():
        theirs = published.get(essay.get(name, ""))
        paper = (f"2015, eps 0.25, {essay[name]}: {theirs['error']:.1%} at "
                 f"{theirs['mean_confidence_on_mistakes']:.1%}" if theirs else "-")
        ours = "  ".join(f"eps {e}: {v['error']:.1%} at " + ("-" if v["mean_confidence_on_mistakes"] is None
                                                             else f"{v['mean_confidence_on_mistakes']:.1%}")
                         for e, v in per_eps.items())
        rows.append((f"FGSM {name}: error at mean confidence on mistakes", paper, ours))
    return rows
