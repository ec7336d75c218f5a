"""Per-process arrays and output builders of the /neurons page.

Everything heavy (per-layer weight products, averages, sparsity counts, one strength
sweep per (source, target, clip)) is computed once per process and cached here
(:func:`neuron_data`); the builders turn those arrays into figures and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import dash
import numpy as np
from dash import html

from fooling.attacks import OverlaySweep, normalized_pattern, overlay, overlay_sweep
from fooling.network import forward
from fooling.neurons import activation_sparsity, activity_weighted_average, effective_weights

from .components import BadInput, result_block
from .figures import make_curve_figure, make_digit_figure, make_histogram_figure
from .figures_neurons import make_weight_figure

MODEL = "neurons"
"""Key of the 784-64-64-10 network in ``res.workspace.mnist``."""

LAYER_LABELS = {1: "hidden layer 1", 2: "hidden layer 2", 3: "output (digits)"}
STRENGTH_MAX = 3.0
STRENGTH_STEP = 0.01
STRENGTHS = np.linspace(0.0, STRENGTH_MAX, int(round(STRENGTH_MAX / STRENGTH_STEP)) + 1)
"""The sweep's strengths; the slider moves on the same grid."""
MIN_PROBABILITY = 0.9
"""Target probability a blend must reach for the flip to count."""
CLIP = (0.0, 1.0)
DEFAULT_SOURCE, DEFAULT_TARGET = 7, 0
ESSAY_SPARSITY = (3, 10)
"""The essay's rough strongly / mildly active counts per image."""


# ---- per-layer arrays and sweeps, once per process ------------------------------------------

@dataclass(frozen=True)
class LayerData:
    """Per-layer arrays, computed once.

    Attributes
    ----------
    effective : ndarray of shape (784, n_units)
        Effective weights of every unit.
    average : ndarray of shape (784, n_units)
        Activity-weighted average of the training images for every unit.
    active : ndarray of shape (n_units,)
        Fraction of training images on which the unit's activity is positive.
    top : ndarray of shape (n_units,)
        Fraction of training images on which the unit is the layer's most active one
        (for the output layer: the share of images called that digit).
    sparsity : ndarray of shape (n_test, 2)
        Strongly / mildly active units per held-out image.
    """

    effective: np.ndarray
    average: np.ndarray
    active: np.ndarray
    top: np.ndarray
    sparsity: np.ndarray


class NeuronData:
    """The network's per-layer arrays and attack sweeps, each computed on first use."""

    def __init__(self, model):
        self.model = model
        self.net = model.net
        self.n_layers = len(self.net.layers)
        self.classes = [int(c) for c in self.net.classes]
        test_proba = forward(self.net, model.split.X_test)
        self.test_predicted = self.net.classes[test_proba.argmax(axis=1)]
        self.layer = lru_cache(maxsize=None)(self._layer)
        self.sweep = lru_cache(maxsize=256)(self._sweep)

    def units(self, layer: int) -> int:
        return int(self.net.sizes[layer])

    def _layer(self, layer: int) -> LayerData:
        X_train, X_test = self.model.split.X_train, self.model.split.X_test
        A = forward(self.net, X_train, layer)
        return LayerData(
            effective=effective_weights(self.net, layer),
            average=activity_weighted_average(self.net, X_train, layer),
            active=(A > 0).mean(axis=0),
            top=np.bincount(A.argmax(axis=1), minlength=A.shape[1]) / len(A),
            sparsity=activation_sparsity(self.net, X_test, layer))

    def source_index(self, digit: int) -> int | None:
        """Held-out row of the first correctly classified ``digit`` (None if there is none)."""
        split = self.model.split
        ok = np.flatnonzero((split.y_test == digit) & (self.test_predicted == digit))
        return int(ok[0]) if len(ok) else None

    def pattern(self, target: int) -> np.ndarray:
        """The target's output-neuron effective weights, peak |pixel| scaled to 1."""
        k = self.classes.index(target)
        return normalized_pattern(self.layer(self.n_layers).effective[:, k])

    def _sweep(self, source: int, target: int, clip: bool) -> tuple[int, OverlaySweep]:
        i = self.source_index(source)
        if i is None:
            raise BadInput(f"No held-out {source} is classified correctly; pick another source.")
        image = self.model.split.X_test[i]
        return i, overlay_sweep(self.net, image, self.pattern(target), target, STRENGTHS,
                                clip=CLIP if clip else None, min_probability=MIN_PROBABILITY)

    def warm(self) -> "NeuronData":
        for layer in range(1, self.n_layers + 1):
            self.layer(layer)
        self.sweep(DEFAULT_SOURCE, DEFAULT_TARGET, True)
        return self


@lru_cache(maxsize=4)
def neuron_data(res) -> NeuronData | None:
    """The page's cached arrays for ``res`` (None when the network is not loaded)."""
    m = res.workspace.mnist.get(MODEL)
    return NeuronData(m) if m is not None else None


# ---- outputs ---------------------------------------------------------------------------

def unit_label(layer: int, unit: int) -> str:
    return f"digit {unit}" if layer == 3 else f"neuron {unit}"


def neuron_outputs(data: NeuronData, layer: int, unit: int) -> tuple:
    """(effective-weight figure, average figure, note) for one neuron."""
    d = data.layer(layer)
    name = f"{LAYER_LABELS[layer]}, {unit_label(layer, unit)}"
    short = unit_label(layer, unit)
    eff = make_weight_figure(d.effective[:, unit], title=f"Effective weights ({short})",
                             uirevision="effective")
    avg = make_digit_figure(d.average[:, unit], title=f"Activity-weighted average ({short})",
                            uirevision="average")
    active = float(d.active[unit])
    n_train = len(data.model.split.y_train)
    if layer == data.n_layers:
        note = (f"{name}: each training image weighs in with the probability the network gives "
                f"it of being a {unit}; the network calls {100 * float(d.top[unit]):.1f}% of the "
                f"{n_train} training images a {unit}.")
    elif active == 0:
        note = (f"{name}: silent on every training image (a dead unit), so its average is blank; "
                "its weights still look like an image.")
    else:
        note = f"{name}: active on {100 * active:.1f}% of the {n_train} training images."
    return eff, avg, html.Span(note)


def sparsity_outputs(data: NeuronData, layer: int) -> tuple:
    """(histogram figure, sentence with the medians) for one layer."""
    counts = data.layer(layer).sparsity
    strong, mild = (f"{np.median(counts[:, j]):g}" for j in (0, 1))
    fig = make_histogram_figure(
        {"strongly active (≥ 50% of its peak)": counts[:, 0],
         "mildly active (10-50%)": counts[:, 1]},
        title=None, axis_title=f"active units per image (of {data.units(layer)})",
        uirevision="sparsity")
    fig.update_layout(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, xanchor="left"),
                      margin=dict(t=75))
    text = (f"Median over the {len(counts)} held-out images: {strong} strongly and {mild} mildly "
            f"active of the {data.units(layer)} units of {LAYER_LABELS[layer]}. A unit's peak "
            "is its 99th-percentile activity over these images. ")
    if layer < data.n_layers:
        text += (f"The essay reported about {ESSAY_SPARSITY[0]} strong and {ESSAY_SPARSITY[1]} "
                 "mild per image for its network.")
    else:
        text += "The output is a softmax: one digit takes nearly all of it."
    return fig, text


def _flip_text(data: NeuronData, sweep: OverlaySweep, target: int) -> str:
    if sweep.flip_strength is None:
        return (f"Within strengths 0-{STRENGTH_MAX:g} the network never says {target} with "
                f"≥ {100 * MIN_PROBABILITY:.0f}% confidence.")
    f = sweep.flip_strength
    mean = f * float(np.abs(data.pattern(target)).mean())
    return (f"Flip strength {f:.2f}: the first strength at which the network says {target} "
            f"with ≥ {100 * MIN_PROBABILITY:.0f}% ({100 * sweep.flip_probability:.2f}%). The "
            "pattern is scaled so its largest absolute pixel is 1, the whole [0, 1] pixel "
            f"range, so at {f:.2f} no pixel moves by more than {f:.2f} ({100 * f:.0f}% of the "
            f"range) and the average pixel by {mean:.3f}.")


def attack_outputs(data: NeuronData, source: int, target: int, clip: bool, index: int, *,
                   patch_curve: bool = False) -> tuple:
    """(blend figure, curve figure, result children) at sweep point ``index``.

    With ``patch_curve`` the curve is a :func:`cursor_patch` instead of a new figure.
    """
    row, sweep = data.sweep(source, target, clip)
    s = float(sweep.strengths[index])
    blend = overlay(data.model.split.X_test[row], data.pattern(target), s,
                    clip=CLIP if clip else None)[0]
    title = f"{source} + {s:.2f} × pattern({target})"
    if blend.min() < 0 or blend.max() > 1:
        title += ": pixels outside [0, 1]"
    image = make_digit_figure(blend, title=title, uirevision="attack")
    curve = cursor_patch(sweep, s) if patch_curve else make_curve_figure(
        sweep.strengths, sweep.target_proba, marker_x=sweep.flip_strength, current_x=s,
        title=f"P({target}) vs strength", axis_titles=("strength", f"P({target})"),
        uirevision="attack-curve")
    if not patch_curve:
        curve.update_annotations(y=0.45, xanchor="left", yanchor="middle")
    result = result_block(
        str(int(sweep.predicted[index])), float(sweep.confidence[index]),
        html.Div([f"P({target}) = ", html.Span(f"{100 * float(sweep.target_proba[index]):.2f}%",
                                               className="target-proba"),
                  f" at strength {s:.2f}; source: held-out image #{row}, the first {source} "
                  "the network reads correctly."], className="small"),
        html.Div(_flip_text(data, sweep, target), className="small text-muted mt-1"))
    return image, curve, result


def cursor_patch(sweep: OverlaySweep, s: float) -> dash.Patch:
    """Move the curve's cursor (its last shape) to strength ``s``."""
    p = dash.Patch()
    i = 1 if sweep.flip_strength is not None else 0
    p["layout"]["shapes"][i]["x0"] = s
    p["layout"]["shapes"][i]["x1"] = s
    return p


# ---- the page's prose -----------------------------------------------------------------------

INTRO_TEXT = (
    "The second essay asks what a neuron of a trained network looks for, and finds two very "
    "different answers. Its network, rebuilt here, is a 784-64-64-10 ReLU net on all ten "
    "digits. Then it uses one of those answers to make the network read a 7 as a 0.")

CONTRAST_TEXT = (
    "Left: the neuron's effective weights, for each pixel the sum over every path to the neuron "
    "of the product of the weights along it (the ReLUs ignored): the image it weighs most if any "
    "image were allowed. It looks like noise. Right: the training digits averaged with the "
    "neuron's activity as weights, what it responds to among real digits, and that looks like "
    "strokes of digits. Digits fill only a thin slice of all 28x28 images; the network only has "
    "to separate them inside that slice, and outside it its weights can be anything at all.")

ATTACK_TEXT = (
    "Take a held-out digit the network reads correctly (the first one of the chosen class in "
    "the held-out set) and add strength × the target digit's pattern: the effective weights of "
    "its output neuron (the 'output (digits)' image above), scaled so its largest absolute pixel "
    "is 1, the whole [0, 1] pixel range. With 'clip' on, the blend is cut back to valid pixels.")
