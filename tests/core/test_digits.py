"""Tests for fooling.digits: MNIST's own preprocessing of a grey array, strokes, URL codes."""
from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fooling.digits import (BOX, CENTRE, MAX_POINTS, DigitError, as_image, decode_digit,
                            digit_from_array, digit_from_strokes, encode_digit)

ROWS = np.arange(28)


def box_of(x):
    """Height and width of the bounding box of the non-zero pixels of a 784-vector."""
    img = np.asarray(x).reshape(28, 28)
    r, c = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return r[-1] - r[0] + 1, c[-1] - c[0] + 1


def centre_of_mass(x):
    img = np.asarray(x).reshape(28, 28)
    return img.sum(axis=1) @ ROWS / img.sum(), img.sum(axis=0) @ ROWS / img.sum()


def l_shape(h=240, w=320, top=30, left=60):
    """A white 'L' on black: a tall bar and a foot, off-centre, of known proportions."""
    g = np.zeros((h, w))
    g[top:top + 150, left:left + 20] = 1.0          # 150 tall
    g[top + 130:top + 150, left:left + 90] = 1.0    # foot: 90 wide
    return g


# ---------------------------------------------------------------- the preprocessing
def test_long_side_is_20_aspect_kept_and_centred_by_mass():
    x = digit_from_array(l_shape())
    assert x.shape == (784,) and x.min() >= 0 and x.max() <= 1
    h, w = box_of(x)
    assert h == BOX  # 150 tall -> 20
    assert w == pytest.approx(BOX * 90 / 150, abs=1)  # 12, up to a resampling fringe
    cy, cx = centre_of_mass(x)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
    # the mass centre of an L is low and left of its box's centre: the box is not centred
    r = np.flatnonzero(x.reshape(28, 28).any(axis=1))
    assert (r[0] + r[-1]) / 2 < CENTRE - 1


def test_wide_digit_fits_its_width():
    g = np.zeros((100, 300))
    g[40:60, 20:280] = 1.0  # 260 wide, 20 tall: a dash
    h, w = box_of(digit_from_array(g))
    assert w == BOX and h == pytest.approx(BOX * 20 / 260, abs=1)


def test_position_and_canvas_size_do_not_matter():
    a = digit_from_array(l_shape())
    b = digit_from_array(l_shape(h=400, w=260, top=200, left=5))
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_dark_on_light_is_detected_and_inverted():
    g = l_shape()
    np.testing.assert_allclose(digit_from_array(1.0 - g), digit_from_array(g), atol=1e-12)
    np.testing.assert_allclose(digit_from_array(1.0 - g, ink="dark"), digit_from_array(g), atol=1e-12)


def test_background_level_is_subtracted_and_contrast_stretched():
    g = l_shape()
    grey = 0.3 + 0.5 * g  # ink 0.8 on a 0.3 background
    np.testing.assert_allclose(digit_from_array(grey), digit_from_array(g), atol=1e-6)
    paper = 0.9 - 0.6 * g  # pencil 0.3 on paper 0.9
    np.testing.assert_allclose(digit_from_array(paper), digit_from_array(g), atol=1e-6)


def test_faint_noise_is_dropped_from_the_box():
    g = l_shape()
    noisy = g.copy()
    noisy[5, 5] = noisy[-3, -7] = 0.05  # specks far away, under the noise floor
    np.testing.assert_allclose(digit_from_array(noisy), digit_from_array(g), atol=1e-12)


def test_wrong_ink_choice_finds_nothing():
    with pytest.raises(DigitError, match="blank"):
        digit_from_array(l_shape(), ink="dark")  # ink forced dark: all background
    with pytest.raises(DigitError, match="blank"):
        digit_from_array(1.0 - l_shape(), ink="light")


def test_flat_list_and_eight_bit_values_are_accepted():
    g = np.zeros((28, 28))
    g[4:24, 12:16] = 1.0
    ref = digit_from_array(g)
    np.testing.assert_allclose(digit_from_array(g.ravel().tolist()), ref, atol=0)
    np.testing.assert_allclose(digit_from_array((g * 255).astype(np.uint8), vmax=255), ref, atol=1e-12)


def test_mnist_digits_keep_their_box_and_centre(workspace):
    """Held-out MNIST digits already are MNIST-like: re-preprocessed, they barely change."""
    X = workspace.mnist["identity"].split.X_test[:50].astype(float)
    for x in X:
        y = digit_from_array(x.reshape(28, 28))
        assert max(box_of(y)) == BOX
        cy, cx = centre_of_mass(y)
        assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
        assert np.abs(y - x).mean() < 0.05


def test_mnist_digit_enlarged_and_preprocessed_back_is_predicted_the_same(workspace):
    for name in ("identity", "tanh"):
        m = workspace.mnist[name]
        from fooling.network import forward

        X = m.split.X_test[:40].astype(float)
        back = np.array([digit_from_array(np.kron(x.reshape(28, 28), np.ones((10, 10)))) for x in X])
        assert np.array_equal(np.argmax(forward(m.net, back), 1), np.argmax(forward(m.net, X), 1)), name


@pytest.mark.parametrize("bad, why", [
    (np.full((28, 28), np.nan), "NaN"),
    (np.where(np.eye(28) > 0, np.inf, 0.0), "NaN or infinite"),
    (np.zeros((28, 28, 3)), "2-D"),
    (np.zeros(783), "2-D"),
    (np.zeros((1, 1)), "too small"),
    (np.zeros((7, 40)), "too small"),
    ([[0, 1], [0]], "rectangular"),
    ("a digit", "rectangular"),
    (None, "2-D"),
    (np.full((28, 28), -0.1), r"\[0, 1\]"),
    (np.full((28, 28), 1.5), r"\[0, 1\]"),
    (np.zeros((28, 28)), "blank"),
    (np.ones((28, 28)), "blank"),
    (np.full((40, 40), 0.5), "blank"),
    (np.zeros((5000, 4000), np.uint8), "too large"),
])
def test_bad_arrays_raise_digit_error(bad, why):
    with pytest.raises(DigitError, match=why):
        digit_from_array(bad)


def test_low_contrast_is_blank_and_bad_options_are_digit_errors():
    g = np.full((40, 40), 0.5)
    g[10:30, 18:22] = 0.6
    with pytest.raises(DigitError, match="blank"):
        digit_from_array(g)
    with pytest.raises(DigitError, match="ink"):
        digit_from_array(l_shape(), ink="bright")
    for vmax in (0, -1, float("nan"), "255"):
        with pytest.raises(DigitError, match="vmax"):
            digit_from_array(l_shape(), vmax=vmax)


# ---------------------------------------------------------------- strokes
def test_a_vertical_stroke_is_a_centred_one():
    x = digit_from_strokes([[(140, 30), (140, 250)]])
    h, w = box_of(x)
    assert h == BOX and w <= 4
    cy, cx = centre_of_mass(x)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_strokes_match_the_same_drawing_as_an_array():
    """Two strokes drawn by hand into an array (discs along each segment) and by the function."""
    size, pen = 280, 20
    strokes = [[(60, 60), (220, 60)], [(220, 60), (100, 240)]]  # a '7'
    yy, xx = np.mgrid[:size, :size] + 0.5
    g = np.zeros((size, size))
    for (x0, y0), (x1, y1) in (s for s in strokes):
        for t in np.linspace(0, 1, 400):
            px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            g[(xx - px) ** 2 + (yy - py) ** 2 <= (pen / 2) ** 2] = 1.0
    a, b = digit_from_strokes(strokes, width=pen), digit_from_array(g)
    assert np.abs(a - b).mean() < 0.03 and np.corrcoef(a, b)[0, 1] > 0.97


@pytest.mark.parametrize("bad, why", [
    ("strokes", "list of lists"),
    (5, "list of lists"),
    ([[(0, "x")]], "list of \\(x, y\\) points"),
    ([[(0, 1, 2)]], "list of \\(x, y\\) points"),
    ([[(np.nan, 3)]], "NaN"),
    ([[(1e309, 3)]], "NaN"),
    ([[(i % 280, i % 200) for i in range(MAX_POINTS + 1)]], "more than"),
    ([], "blank"),
    ([[]], "blank"),
])
def test_bad_strokes_raise_digit_error(bad, why):
    with pytest.raises(DigitError, match=why):
        digit_from_strokes(bad)


def test_bad_canvas_options_raise_digit_error():
    for kw in ({"size": 4}, {"size": 10**6}, {"size": 28.5}, {"width": 0}, {"width": float("inf")}):
        with pytest.raises(DigitError):
            digit_from_strokes([[(10, 10), (20, 20)]], **kw)


# ---------------------------------------------------------------- URL codes
def test_encode_is_short_url_safe_and_decodes_to_the_8_bit_levels():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=784)
    x[:100] = 0.0
    x[100:110] = 1.0
    s = encode_digit(x)
    assert len(s) == 1046 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    y = decode_digit(s)
    assert y.shape == (784,)
    np.testing.assert_array_equal(np.rint(y * 255), np.rint(x * 255))
    assert np.abs(y - x).max() <= 0.5 / 255 + 1e-12
    assert encode_digit(x.reshape(28, 28)) == s


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=784, max_size=784))
def test_decode_then_encode_gives_the_same_string(raw):
    s = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert encode_digit(decode_digit(s)) == s
    np.testing.assert_array_equal(decode_digit(s), np.frombuffer(raw, np.uint8) / 255.0)


def test_padded_and_surrounding_space_codes_decode():
    x = np.linspace(0, 1, 784)
    s = encode_digit(x)
    np.testing.assert_array_equal(decode_digit(s + "=="), decode_digit(s))
    np.testing.assert_array_equal(decode_digit(f"  {s}\n"), decode_digit(s))


@pytest.mark.parametrize("bad, why", [
    (None, "string"),
    (b"AAAA", "string"),
    (12, "string"),
    ("", "characters"),
    ("A" * 10_000, "too long"),
    ("!" * 1046, "characters"),
    ("A" * 500 + " " + "A" * 545, "characters"),
    ("A" * 1045 + "+", "characters"),
    ("é" * 1046, "characters"),
    ("A" * 1045, "base64"),
    (base64.urlsafe_b64encode(bytes(783)).decode().rstrip("="), "783 pixels"),
    (base64.urlsafe_b64encode(bytes(785)).decode().rstrip("="), "785 pixels"),
    ("A=A" + "A" * 1043, "characters"),
])
def test_bad_codes_raise_digit_error(bad, why):
    with pytest.raises(DigitError, match=why):
        decode_digit(bad)


@pytest.mark.parametrize("bad", [np.full(784, np.nan), np.full(784, 1.2), np.full(784, -0.5),
                                 np.zeros(700), "x", np.zeros((28, 27))])
def test_encode_refuses_what_is_not_a_valid_image(bad):
    with pytest.raises(DigitError):
        encode_digit(bad)


def test_as_image_checks_and_copies():
    x = np.zeros((28, 28))
    y = as_image(x)
    y[0] = 5
    assert x[0, 0] == 0 and y.shape == (784,)
    for bad in (np.zeros(10), [np.inf] * 784, "abc", np.zeros((784, 1))):
        with pytest.raises(DigitError):
            as_image(bad)


def test_importing_the_digit_modules_does_not_import_pillow():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\n"
            "import fooling.digits, fooling.uploads, fooling.walk, fooling.export\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'dash', 'plotly', 'flask')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
