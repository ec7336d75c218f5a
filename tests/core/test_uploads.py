"""Tests for fooling.uploads: real PNG, JPEG and GIF files made here with Pillow, good and bad."""
from __future__ import annotations

import base64
import builtins
import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from fooling.digits import DigitError, digit_from_array
from fooling.network import forward
from fooling.uploads import declared_size, digit_from_bytes, digit_from_data_url, grey_from_bytes


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def drawing(size=(300, 220), ink=(20, 30, 140), paper=(250, 240, 225), mode="RGB"):
    """A '2'-ish stroke figure in colour ink on coloured paper."""
    im = Image.new(mode, size, paper)
    d = ImageDraw.Draw(im)
    sx, sy = size[0] / 300, size[1] / 220
    k = max(2, round(16 * min(sx, sy)))

    def at(*xy):
        return tuple(v * (sx if i % 2 == 0 else sy) for i, v in enumerate(xy))

    d.arc(at(90, 20, 210, 120), 180, 30, fill=ink, width=k)
    d.line(at(200, 90, 100, 190), fill=ink, width=k)
    d.line(at(100, 190, 215, 190), fill=ink, width=k)
    return im


def data_url(data: bytes, mime="image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def png_with_size(width: int, height: int) -> bytes:
    """A real 20x20 PNG whose IHDR is rewritten to declare another size (CRC fixed)."""
    data = encode(Image.new("L", (20, 20)), "PNG")
    ihdr = struct.pack(">II", width, height) + data[24:29]
    return data[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + data[33:]


def jpeg_with_size(width: int, height: int) -> bytes:
    data = bytearray(encode(drawing((40, 30)), "JPEG"))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# ---------------------------------------------------------------- good files
@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_lossless_colour_file_equals_the_array_path(fmt):
    im = drawing()
    data = encode(im, fmt)
    decoded = Image.open(io.BytesIO(data)).convert("L")
    ref = digit_from_array(np.asarray(decoded, dtype=float) / 255.0)
    np.testing.assert_allclose(digit_from_bytes(data), ref, atol=1e-12)


def test_colour_luma_is_pillows_grey():
    im = drawing()
    grey = grey_from_bytes(encode(im, "PNG"))
    np.testing.assert_allclose(grey, np.asarray(im.convert("L"), dtype=float) / 255.0, atol=1.01 / 255)


def test_jpeg_dark_on_light_light_on_dark_and_grey_agree():
    im = drawing()
    png = digit_from_bytes(encode(im, "PNG"))
    inverted = Image.eval(im, lambda v: 255 - v)
    for data in (encode(im, "JPEG", quality=85), encode(inverted, "JPEG", quality=85),
                 encode(inverted, "PNG"), encode(im.convert("L"), "JPEG")):
        x = digit_from_bytes(data)
        assert x.shape == (784,) and 0 <= x.min() and x.max() <= 1
        assert np.abs(x - png).mean() < 0.03 and np.corrcoef(x, png)[0, 1] > 0.97


def test_light_on_dark_is_not_inverted():
    im = drawing(ink=(255, 255, 255), paper=(0, 0, 0))
    x = digit_from_bytes(encode(im, "PNG"))
    y = digit_from_bytes(encode(Image.eval(im, lambda v: 255 - v), "PNG"))
    np.testing.assert_allclose(x, y, atol=1e-12)
    assert x.reshape(28, 28)[0].max() == 0  # background stays black


@pytest.mark.parametrize("stroke", [(0, 0, 0, 255), (255, 255, 255, 255), (200, 30, 30, 255)])
def test_strokes_on_a_transparent_canvas(stroke):
    """What a drawing pad's canvas.toDataURL() gives: ink on transparent pixels."""
    canvas = drawing(ink=stroke, paper=(0, 0, 0, 0), mode="RGBA")
    opaque = drawing(ink=(0, 0, 0), paper=(255, 255, 255))
    x = digit_from_data_url(data_url(encode(canvas, "PNG")))
    ref = digit_from_bytes(encode(opaque, "PNG"))
    assert np.abs(x - ref).mean() < 0.01


def test_sixteen_bit_grey_png():
    a = np.zeros((64, 64), np.uint16)
    a[8:56, 28:36] = 60000
    x = digit_from_bytes(encode(Image.fromarray(a), "PNG"))
    ref = digit_from_array(a / 65535.0)
    np.testing.assert_allclose(x, ref, atol=1e-12)
    assert x.max() > 0.9


def test_palette_bilevel_grey_alpha_and_transparent_palette_pngs():
    im = drawing()
    ref = digit_from_bytes(encode(im, "PNG"))
    pal = im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    paper = int(np.bincount(np.asarray(pal).ravel()).argmax())
    for other, kw in ((pal, {}), (pal, {"transparency": paper}),
                      (im.convert("1", dither=Image.Dither.NONE), {}), (im.convert("LA"), {})):
        data = encode(other, "PNG", **kw)
        assert ("transparency" in Image.open(io.BytesIO(data)).info) == bool(kw)
        x = digit_from_bytes(data)
        assert np.abs(x - ref).mean() < 0.05, (other.mode, kw)


def test_exif_orientation_is_applied():
    upright = drawing()
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # camera stored it turned
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    x = digit_from_bytes(encode(stored, "JPEG", quality=95, exif=exif))
    ref = digit_from_bytes(encode(upright, "PNG"))
    wrong = digit_from_bytes(encode(stored, "PNG"))
    assert np.abs(x - ref).mean() < 0.03 < np.abs(x - wrong).mean()


def test_large_photo_is_reduced_before_decoding_fully():
    im = Image.new("L", (4000, 3000), 235)
    ImageDraw.Draw(im).line((2000, 600, 2000, 2400), fill=30, width=180)
    grey = grey_from_bytes(encode(im, "JPEG", quality=80))
    assert max(grey.shape) <= 1024 and grey.shape[1] > grey.shape[0]
    x = digit_from_bytes(encode(im, "JPEG", quality=80))
    rows = np.flatnonzero(x.reshape(28, 28).any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20


def test_declared_size_reads_headers():
    assert declared_size(encode(drawing((123, 45)), "PNG")) == ("PNG", 123, 45)
    assert declared_size(encode(drawing((123, 45)), "JPEG", progressive=True)) == ("JPEG", 123, 45)
    assert declared_size(encode(drawing((123, 45)), "GIF")) == ("GIF", 123, 45)


def test_held_out_digit_as_a_280px_png_is_predicted_like_the_original(workspace):
    for name in ("identity", "tanh"):
        m = workspace.mnist[name]
        X = m.split.X_test[:25].astype(float)
        back = []
        for x in X:
            big = np.kron(np.rint(x.reshape(28, 28) * 255).astype(np.uint8), np.ones((10, 10), np.uint8))
            back.append(digit_from_bytes(encode(Image.fromarray(big), "PNG")))
        assert np.array_equal(np.argmax(forward(m.net, np.array(back)), 1),
                              np.argmax(forward(m.net, X), 1)), name


def test_data_url_equals_bytes_whatever_the_declared_type():
    data = encode(drawing(), "JPEG")
    ref = digit_from_bytes(data)
    for mime in ("image/jpeg", "image/png", "application/octet-stream", ""):
        np.testing.assert_array_equal(digit_from_data_url(data_url(data, mime)), ref)


# ---------------------------------------------------------------- bad files
def test_sizes_are_refused_before_pillow_opens_anything(monkeypatch):
    def no_open(*a, **k):
        raise AssertionError("Pillow was asked to open a file that should have been refused")

    monkeypatch.setattr(Image, "open", no_open)
    for data in (png_with_size(20_000, 20_000), jpeg_with_size(20_000, 20_000),
                 b"GIF89a" + struct.pack("<HH", 20_000, 20_000) + bytes(20)):
        with pytest.raises(DigitError, match="too large"):
            digit_from_bytes(data)
    for data in (png_with_size(1, 1), png_with_size(7, 500), jpeg_with_size(500, 3)):
        with pytest.raises(DigitError, match="too small"):
            digit_from_bytes(data)
    with pytest.raises(DigitError, match="too large"):
        digit_from_bytes(encode(drawing(), "PNG"), max_bytes=100)
    with pytest.raises(DigitError, match="too large"):
        digit_from_bytes(encode(drawing((300, 300)), "PNG"), max_pixels=300 * 299)


def test_pillows_bomb_limit_is_kept_without_a_warning(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = encode(drawing((40, 40)), "PNG")  # 1,600 pixels: Pillow would warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DigitError, match="too large"):
            digit_from_bytes(data)


def test_real_one_by_one_image_is_refused():
    with pytest.raises(DigitError, match="too small"):
        digit_from_bytes(encode(Image.new("L", (1, 1), 255), "PNG"))


@pytest.mark.parametrize("data, why", [
    (b"", "empty"),
    (b"hello, I am a text file", "not a PNG"),
    (os.urandom(2000), "not a PNG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG"),
    (b"BM" + bytes(100), "not a PNG"),
    (b"\x89PNG\r\n\x1a\n", "damaged"),
    (b"\xff\xd8\xff\xd9", "damaged"),
    (b"GIF89a\x10", "damaged"),
])
def test_not_images_are_refused(data, why):
    with pytest.raises(DigitError, match=why):
        digit_from_bytes(data)


@pytest.mark.parametrize("fmt", ["GIF", "PNG"])
def test_animated_images_are_refused(fmt):
    frames = [drawing(), drawing(ink=(200, 0, 0))]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:])
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    with pytest.raises(DigitError, match="animated"):
        digit_from_bytes(data)


@pytest.mark.parametrize("im", [Image.new("L", (60, 60), 255), Image.new("L", (60, 60), 0),
                                Image.new("RGB", (60, 60), (120, 200, 40)),
                                Image.new("RGBA", (60, 60), (0, 0, 0, 0))])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_blank_images_are_refused(im, fmt):
    if fmt == "JPEG" and im.mode == "RGBA":
        im = im.convert("RGB")
    with pytest.raises(DigitError, match="blank"):
        digit_from_bytes(encode(im, fmt))


@pytest.mark.parametrize("fmt, step", [("PNG", 1), ("GIF", 1), ("JPEG", 7)])
def test_every_truncation_is_refused(fmt, step):
    data = encode(drawing((90, 70)), fmt)
    digit_from_bytes(data)  # the whole file is fine
    for cut in range(0, len(data), step):
        with pytest.raises(DigitError):
            digit_from_bytes(data[:cut])


def test_corrupt_png_chunks_are_refused_and_corrupt_jpegs_never_escape():
    rng = np.random.default_rng(1)
    png, jpeg = encode(drawing((90, 70)), "PNG"), encode(drawing((90, 70)), "JPEG")
    for _ in range(150):
        bad = bytearray(png)
        bad[rng.integers(8, len(bad))] ^= int(rng.integers(1, 256))
        with pytest.raises(DigitError):
            digit_from_bytes(bytes(bad))
    survived = 0
    for _ in range(150):
        bad = bytearray(jpeg)
        bad[rng.integers(2, len(bad))] ^= int(rng.integers(1, 256))
        try:
            x = digit_from_bytes(bytes(bad))
        except DigitError:
            continue
        survived += 1  # JPEG has no checksums: a flipped byte may still decode
        assert x.shape == (784,) and np.all(np.isfinite(x)) and 0 <= x.min() <= x.max() <= 1
    assert survived < 150


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b""]), st.binary(max_size=600))
def test_random_bytes_give_a_digit_or_a_digit_error(prefix, tail):
    try:
        x = digit_from_bytes(prefix + tail)
    except DigitError as exc:
        assert str(exc)
    else:
        assert x.shape == (784,)


@pytest.mark.parametrize("url, why", [
    (None, "data URL"),
    (b"data:image/png;base64,AAAA", "data URL"),
    ("http://example.com/a.png", "data URL"),
    ("data:image/png,rawbytes", "not base64"),
    ("data:image/png;base64,@@@@", "not valid base64"),
    ("data:image/png;base64,", "empty"),
    ("data:image/png;base64," + "A" * 7_000_000, "too large"),
])
def test_bad_data_urls_are_refused(url, why):
    with pytest.raises(DigitError, match=why):
        digit_from_data_url(url)


def test_data_url_size_is_checked_before_decoding(monkeypatch):
    def no_decode(*a, **k):
        raise AssertionError("decoded a payload over the limit")

    monkeypatch.setattr(base64, "b64decode", no_decode)
    with pytest.raises(DigitError, match="too large"):
        digit_from_data_url("data:image/png;base64," + "A" * 2000, max_bytes=1000)


def test_nothing_is_written_to_disk(monkeypatch):
    data = [encode(drawing(), f) for f in ("PNG", "JPEG", "GIF")]
    for d in data:
        digit_from_bytes(d)  # Pillow's plugins imported before the trap is set

    def trap(*a, **k):
        raise AssertionError(f"file opened: {a[:1]}")

    monkeypatch.setattr(builtins, "open", trap)
    monkeypatch.setattr(os, "open", trap)
    for d in data:
        assert digit_from_bytes(d).shape == (784,)
