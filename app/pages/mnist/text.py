"""The prose of /mnist, its numbers read off the models (so it stays true after retraining)."""

from __future__ import annotations

import numpy as np

from fooling.analysis import REACH_DIRECTIONS
from fooling.reachable import contains

from .compute import NET_NAMES, State

__all__ = ["caption", "certainty", "explain", "fmt", "relu_text", "remedy_text"]


def fmt(p) -> str:
    """A hidden point, short."""
    return f"({p[0]:.4g}, {p[1]:.4g})"


def certainty(p: float) -> str:
    """How sure ``p`` is, readable when it rounds to 100%."""
    gap = 1.0 - p
    nb = "\u00a0"  # keep the inequality on one line
    text = "P = 1 to machine precision" if gap <= 0 else f"P ≥ 1 − {gap:.0e}" if gap < 5e-5 else f"P ≥ {p:.4f}"
    return text.replace(" ", nb)


def explain(state: State) -> tuple[str, str]:
    """(what the map shows, what the tanh net changes): 4 sentences, numbers from the models."""
    ident = min(f.get("probability", 0.0) for f in state.view("identity").presets)
    caps = [(f["label"], f["max_confidence"]) for f in state.view("tanh").presets if "max_confidence" in f]
    lo, hi = min(caps, key=lambda c: c[1]), max(caps, key=lambda c: c[1])
    return (
        "Each dot is a held-out digit, placed where the network's two-unit last hidden layer puts it; "
        "the colour behind is the digit the network predicts at that point (pale: unsure; black "
        "lines: P = 1/2). The regions run on far beyond the data: click anywhere and the point is "
        "inverted into a 28x28 image that re-propagates to exactly that point. Far out, the identity "
        f"net is certain that image is a digit (its four far presets: {certainty(ident)}), though "
        "it looks like nothing of the kind.",
        "The tanh net squeezes its hidden plane into the square (-1, 1)², and that caps its "
        f"confidence: no digit gets more than {100 * hi[1]:.1f}% anywhere in the square (a {hi[0]}), "
        f"a {lo[0]} at most {100 * lo[1]:.1f}%." + relu_text(state),
    )


def relu_text(state: State) -> str:
    """What the ReLU net's plane shows (empty when the page has no ReLU net)."""
    if "relu" not in state.networks:
        return ""
    far = state.view("relu").presets
    free = [f for f in far if not f.get("bounded") and "probability" in f]
    bounded = [f for f in far if f.get("bounded")]
    text = (" The ReLU net's hidden units are never negative, so its plane is the positive quadrant: "
            "most of its regions still run on without end there")
    if free:
        text += f" (its far presets for {', '.join(str(f['label']) for f in free)}: {certainty(min(f['probability'] for f in free))})"
    if bounded:
        b = bounded[0]
        text += (f", but it puts every {b['label']} at the corner ({b['hidden'][0]:.3g}, {b['hidden'][1]:.3g}), "
                 f"a region without a far side, where it is at most {100 * b['probability']:.1f}% sure")
    return text + "."


def _area(polygon: np.ndarray) -> float:
    x, y = np.asarray(polygon, dtype=float).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def remedy_text(state: State) -> tuple[str, ...]:
    """Four paragraphs on the remedies and the outlines, numbers from the models."""
    ident, tanh = state.view("identity"), state.view("tanh")
    label, p_far = state.rbf_far

    def share(v):
        x0, x1, y0, y1 = v.analysis.bounds
        pct = 100 * _area(v.analysis.polygon) / ((x1 - x0) * (y1 - y0))
        return "practically all" if pct >= 99.95 else f"{pct:.1f}%" if v.analysis.bounded else f"{pct:.0f}%"

    polygon = ident.analysis.polygon
    n = len(ident.presets)
    words = {2: "two", 3: "three", 4: "four", 5: "five"}
    count = words.get(n, str(n))
    inside = sum(bool(contains(polygon, np.array(f["hidden"]))) for f in ident.presets)
    presets = (f"none of the {count} far presets" if inside == 0 else
               f"all {count} far presets" if inside == n else f"{inside} of the {count} far presets")
    return (
        "The first remedy (the map titled 'RBF head'): keep the network up to its two hidden units and "
        "replace its linear output layer by an RBF-kernel SVM fitted on the training encodings. "
        f"Its held-out accuracy is {100 * ident.analysis.head_accuracy:.1f}% (the identity net's own head: "
        f"{100 * ident.model.trained.test_accuracy:.1f}%), but far from the data every kernel term fades "
        f"and it gives one fixed, unsure answer everywhere: a {label} at {100 * p_far:.1f}%. "
        "It still names a digit.",
        "The solid outline is where images with every pixel in [0, 1] can land: for the identity "
        f"net exactly the image of the pixel box under its affine map, a polygon of "
        f"{len(polygon):,} corners covering {share(ident)} of the map and containing "
        f"{presets}. Any image landing outside it has impossible pixels. With 'keep pixels in "
        "[0, 1]' ticked, a click inside gets a valid image that lands exactly there; a click "
        "outside gets the nearest point valid images reach (◇) and its image. For the tanh net "
        f"the outline is an estimate (the extreme valid images found in {REACH_DIRECTIONS} directions); it "
        f"covers {share(tanh)} of the square.",
        "The inverse is not unique: the identity net maps 784 pixels to 2 numbers through one "
        f"affine map, so {ident.analysis.null_dim} independent directions change the image but not the "
        "hidden point (for the tanh net, the "
        f"{tanh.analysis.null_dim} directions its first layer ignores: nothing after it changes either). "
        "The slider adds one of them: a held-out digit with what the network can see of it "
        "removed. The picture changes; the hidden point and the prediction do not.",
        "The second remedy, a density check: Gaussian mixtures fitted to the training encodings "
        "and to the training images (784 pixels) say whether a point or an image is anything like "
        "the training data. The dashed line is where the check on the hidden plane changes its mind: "
        "outside it, a point is less typical than 99% of the training encodings. Every click gets "
        "both verdicts.",
    )


def caption(state: State, head: str) -> str:
    """The line under a map: which head, and every network's held-out accuracy with it."""
    accs = {n: (rbf if head == "rbf" else linear) for n, linear, rbf, _, _ in state.accuracy_rows}
    what = ("RBF head on the same two hidden units" if head == "rbf"
            else "Linear head (the network's own output layer)")
    return f"{what}. Held-out accuracy: " + ", ".join(f"{NET_NAMES.get(n, n)} net {100 * a:.1f}%" for n, a in accs.items()) + "."
