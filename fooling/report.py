"""The essays' numbers beside ours: one JSON-ready dict and a plain-text table."""

from __future__ import annotations

import numpy as np

from .attacks import normalized_pattern, overlay_sweep
from .inversion import InversionError
from .metrics import workspace_fooling_rates
from .models import ESSAY, IRIS_MODELS
from .network import forward, predict_proba_from
from .neurons import effective_weights
from .probes import data_radius, far_point, most_confident_point
from .workspace import MnistModel, Workspace

__all__ = ["FAR_RATIO", "TANH_BOX", "fooling_points", "overlay_report", "reproduce", "format_table"]

FAR_RATIO = 3.0
"""Identity net: fooling points sit this many data radii from the encodings' centroid."""

TANH_BOX = 0.95
"""Tanh net: fooling points are the most confident grid points of [-0.95, 0.95]^2."""


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


def fooling_points(m: MnistModel) -> list[dict]:
    """One fooling image per class: where it is, how it is classified, how exact.

    Identity net: :func:`~fooling.probes.far_point` at :data:`FAR_RATIO` data radii.
    Tanh net: the most confident grid point of ``[-TANH_BOX, TANH_BOX]^2``; each entry
    also gives ``max_confidence``, the highest probability the class reaches anywhere
    in the closed square ``[-1, 1]^2`` (tanh bounds the plane and so the logits).
    """
    net, layer = m.net, m.hidden_layer
    centroid, radius = data_radius(m.train_hidden)
    bounded = m.inverter.codomain[0] > -np.inf

    def proba(H):
        return predict_proba_from(net, H, layer)

    out = []
    for k, label in enumerate(net.classes):
        entry = {"label": int(label)}
        if bounded:
            point, _ = most_confident_point(proba, k, (-TANH_BOX, TANH_BOX) * 2)
            entry["max_confidence"] = most_confident_point(proba, k, (-1.0, 1.0) * 2)[1]
        else:
            point = far_point(net.layers[-1].W, k, centroid, radius, FAR_RATIO)
        try:
            r = m.inverter.invert(point)
        except InversionError as exc:
            entry.update(hidden=point.tolist(), error=str(exc))
            out.append(entry)
            continue
        entry.update(
            hidden=[float(v) for v in point], predicted=r.predicted,
            probability=float(r.proba[k]), residual=r.residual,
            pixel_min=r.pixel_min, pixel_max=r.pixel_max,
            data_radius_ratio=float(np.linalg.norm(point - centroid) / radius))
        out.append(entry)
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


def reproduce(ws: Workspace) -> dict:
    """Every number of both essays, recomputed on ``ws`` (see the CLI's ``reproduce``)."""
    report: dict = {"iris": _iris_report(ws), "mnist": {"source": ws.source}}
    mn = report["mnist"]
    for name in ("identity", "tanh"):
        if name not in ws.mnist:
            continue
        m = ws.mnist[name]
        t = m.trained
        mn["n_train"], mn["n_test"] = len(m.split.y_train), len(m.split.y_test)
        mn[name] = {"train_accuracy": t.train_accuracy, "test_accuracy": t.test_accuracy,
                    "epochs": len(t.loss_curve), "converged": t.converged,
                    "fooling": fooling_points(m)}
    if "neurons" in ws.mnist:
        m = ws.mnist["neurons"]
        mn["neurons"] = {"train_accuracy": m.trained.train_accuracy,
                         "test_accuracy": m.trained.test_accuracy,
                         "n_train": len(m.split.y_train), "n_test": len(m.split.y_test),
                         "overlay": overlay_report(m),
                         "overlay_clipped": overlay_report(m, clip=(0.0, 1.0))}
    if "identity" in ws.mnist and "tanh" in ws.mnist:
        fr = workspace_fooling_rates(ws)
        report["fooling_rate"] = {
            name: {k: v[k] for k in ("R1", "R2", "R5", "R10", "flagged_by_density")}
            for name, v in fr["models"].items()}
        report["fooling_rate_method"] = {"resolution": fr["resolution"], "threshold": fr["threshold"]}
        mn["identity"]["rbf_head_test_accuracy"] = fr["rbf_head_test_accuracy"]
    return report


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_table(report: dict) -> str:
    """The report as an aligned three-column table: what, essay, ours."""
    rows: list[tuple[str, str, str]] = []
    for name, r in report["iris"].items():
        rows.append((f"iris {name}: accuracy", _fmt(ESSAY[name]["accuracy"]), _fmt(r["accuracy"])))
        for (pt, label, p), probe in zip(ESSAY["iris_probes"], r["probes"]):
            rows.append((f"  probe {tuple(pt)}", f"{label} {p:.3f}",
                         f"{probe['label']} {probe['probability']:.3f}"))
    mn = report["mnist"]
    rows.append(("MNIST source", "full MNIST (28,911 rows of 0-3)",
                 f"{mn['source']}; 0-3 split {mn.get('n_train')}/{mn.get('n_test')}"))
    for name in ("identity", "tanh"):
        if name not in mn:
            continue
        r = mn[name]
        rows.append((f"{name} net: held-out accuracy", _fmt(ESSAY[name]["accuracy"]), _fmt(r["test_accuracy"])))
        for f in r["fooling"]:
            essay = ESSAY["hidden_points"][f["label"]] if name == "identity" else None
            ours = (f"({f['hidden'][0]:.3g}, {f['hidden'][1]:.3g}) -> {f.get('predicted')} "
                    f"p={_fmt(f.get('probability'))} res={f.get('residual', float('nan')):.1e}")
            if "max_confidence" in f:
                ours += f" max={f['max_confidence']:.3f}"
            rows.append((f"  fooling {f['label']}", f"{essay} -> {f['label']} ~1.0" if essay else
                         "(not attempted)", ours))
    if "neurons" in mn:
        r = mn["neurons"]
        rows.append(("784-64-64-10 net: held-out accuracy", "-", _fmt(r["test_accuracy"])))
        o = r["overlay"]
        rows.append(("  overlay 7 + pattern(0): flip strength", "high confidence",
                     f"{_fmt(o['flip_strength'])} (p={_fmt(o['probability'])})"))
    for name, r in report.get("fooling_rate", {}).items():
        rows.append((f"P>=0.99 share of disc, {name}: R1/R2/R5/R10", "-",
                     "/".join(f"{r[k]:.3f}" for k in ("R1", "R2", "R5", "R10"))))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'what':<{w0}}  {'essay':<{w1}}  ours", "-" * (w0 + w1 + 30)]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    return "\n".join(lines)
