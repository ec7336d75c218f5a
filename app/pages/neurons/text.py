"""The prose of /neurons and the outputs built from its arrays (figures with their notes)."""

from __future__ import annotations

import dash
import numpy as np
from dash import html

from fooling.attacks import overlay

from ...components import result_block
from ...figures import make_curve_figure
from ...images import make_digit_figure
from .compute import CLIP, LAYER_LABELS, MIN_PROBABILITY, STRENGTH_MAX, State
from .figures import make_histogram_figure, make_weight_figure

__all__ = ["ATTACK_TEXT", "CONTRAST_TEXT", "ESSAY_SPARSITY", "INTRO_TEXT", "attack_outputs", "cursor_patch",
           "neuron_outputs", "sparsity_outputs", "unit_label"]

ESSAY_SPARSITY = (3, 10)
"""The essay's rough strongly / mildly active counts per image."""

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


def unit_label(layer: int, unit: int) -> str:
    return f"digit {unit}" if layer == 3 else f"neuron {unit}"


def neuron_outputs(state: State, layer: int, unit: int) -> tuple:
    """(effective-weight figure, average figure, note) for one neuron."""
    d = state.layers[layer]
    name = f"{LAYER_LABELS[layer]}, {unit_label(layer, unit)}"
    short = unit_label(layer, unit)
    eff = make_weight_figure(d.effective[:, unit], title=f"Effective weights ({short})", uirevision="effective")
    avg = make_digit_figure(d.average[:, unit], title=f"Activity-weighted average ({short})",
                            uirevision="average")
    active = float(d.active[unit])
    n_train = len(state.model.split.y_train)
    if layer == state.n_layers:
        note = (f"{name}: each training image weighs in with the probability the network gives "
                f"it of being a {unit}; the network calls {100 * float(d.top[unit]):.1f}% of the "
                f"{n_train} training images a {unit}.")
    elif active == 0:
        note = (f"{name}: silent on every training image (a dead unit), so its average is blank; "
                "its weights still look like an image.")
    else:
        note = f"{name}: active on {100 * active:.1f}% of the {n_train} training images."
    return eff, avg, html.Span(note)


def sparsity_outputs(state: State, layer: int) -> tuple:
    """(histogram figure, sentence with the medians) for one layer."""
    counts = state.layers[layer].sparsity
    strong, mild = (f"{np.median(counts[:, j]):g}" for j in (0, 1))
    fig = make_histogram_figure(
        {"strongly active (≥ 50% of its peak)": counts[:, 0], "mildly active (10-50%)": counts[:, 1]},
        title=None, axis_title=f"active units per image (of {state.units(layer)})", uirevision="sparsity",
        layout=dict(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, xanchor="left"), margin=dict(t=75)))
    text = (f"Median over the {len(counts)} held-out images: {strong} strongly and {mild} mildly "
            f"active of the {state.units(layer)} units of {LAYER_LABELS[layer]}. A unit's peak "
            "is its 99th-percentile activity over these images. ")
    if layer < state.n_layers:
        text += (f"The essay reported about {ESSAY_SPARSITY[0]} strong and {ESSAY_SPARSITY[1]} "
                 "mild per image for its network.")
    else:
        text += "The output is a softmax: one digit takes nearly all of it."
    return fig, text


def _flip_text(state: State, sweep, target: int) -> str:
    if sweep.flip_strength is None:
        return (f"Within strengths 0-{STRENGTH_MAX:g} the network never says {target} with "
                f"≥ {100 * MIN_PROBABILITY:.0f}% confidence.")
    f = sweep.flip_strength
    mean = f * float(np.abs(state.pattern(target)).mean())
    return (f"Flip strength {f:.2f}: the first strength at which the network says {target} "
            f"with ≥ {100 * MIN_PROBABILITY:.0f}% ({100 * sweep.flip_probability:.2f}%). The "
            "pattern is scaled so its largest absolute pixel is 1, the whole [0, 1] pixel "
            f"range, so at {f:.2f} no pixel moves by more than {f:.2f} ({100 * f:.0f}% of the "
            f"range) and the average pixel by {mean:.3f}.")


def cursor_patch(sweep, s: float) -> dash.Patch:
    """Move the curve's cursor (its last shape) to strength ``s``."""
    p = dash.Patch()
    i = 1 if sweep.flip_strength is not None else 0
    p["layout"]["shapes"][i]["x0"] = s
    p["layout"]["shapes"][i]["x1"] = s
    return p


def attack_outputs(state: State, source: int, target: int, clip: bool, index: int, *,
                   patch_curve: bool = False) -> tuple:
    """(blend figure, curve figure, result children) at sweep point ``index``.

    With ``patch_curve`` the curve is a :func:`cursor_patch` instead of a new figure.
    """
    row, sweep = state.sweep(source, target, clip)
    s = float(sweep.strengths[index])
    blend = overlay(state.model.split.X_test[row], state.pattern(target), s, clip=CLIP if clip else None)[0]
    title = f"{source} + {s:.2f} × pattern({target})"
    if blend.min() < 0 or blend.max() > 1:
        title += ": pixels outside [0, 1]"
    image = make_digit_figure(blend, title=title, uirevision="attack")
    curve = cursor_patch(sweep, s) if patch_curve else make_curve_figure(
        sweep.strengths, sweep.target_proba, marker_x=sweep.flip_strength, current_x=s,
        title=f"P({target}) vs strength", axis_titles=("strength", f"P({target})"),
        uirevision="attack-curve")
    result = result_block(
        str(int(sweep.predicted[index])), float(sweep.confidence[index]),
        html.Div([f"P({target}) = ", html.Span(f"{100 * float(sweep.target_proba[index]):.2f}%",
                                               className="target-proba"),
                  f" at strength {s:.2f}; source: held-out image #{row}, the first {source} "
                  "the network reads correctly."], className="small"),
        html.Div(_flip_text(state, sweep, target), className="small text-muted mt-1"))
    return image, curve, result
