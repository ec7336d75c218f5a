"""Own-digit benchmark: preprocessing uploads and drawings, walk steps, exports.

Run: ``python tests/benchmarks/bench_own_digit.py [--mnist SOURCE] [--repeat 30]``.
Uses the artifact cache (trains once when it is empty). Prints a table and writes
``bench_own_digit.json`` beside this file. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from fooling.digits import decode_digit, digit_from_array, encode_digit  # noqa: E402
from fooling.export import export_record, image_png  # noqa: E402
from fooling.uploads import digit_from_bytes, digit_from_data_url  # noqa: E402
from fooling.walk import move_to, trace_ray, walk  # noqa: E402
from fooling.workspace import load_workspace  # noqa: E402


def timed(fn, repeat: int) -> dict:
    fn()  # warm (imports, caches)
    t = []
    for _ in range(repeat):
        s = time.perf_counter()
        fn()
        t.append(time.perf_counter() - s)
    a = np.asarray(t) * 1e3
    return {"p50_ms": float(np.percentile(a, 50)), "p90_ms": float(np.percentile(a, 90))}


def files() -> dict[str, bytes]:
    def sketch(size, ink, paper, mode="RGB"):
        im = Image.new(mode, size, paper)
        d = ImageDraw.Draw(im)
        w, h = size
        k = max(2, w // 18)
        d.arc((w * 0.3, h * 0.1, w * 0.7, h * 0.5), 180, 30, fill=ink, width=k)
        d.line((w * 0.68, h * 0.4, w * 0.33, h * 0.85), fill=ink, width=k)
        d.line((w * 0.33, h * 0.85, w * 0.72, h * 0.85), fill=ink, width=k)
        return im

    def enc(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, format=fmt, **kw)
        return buf.getvalue()

    return {"canvas 280x280 PNG (data URL)": enc(sketch((280, 280), (0, 0, 0, 255), (0, 0, 0, 0), "RGBA"), "PNG"),
            "photo 1000x800 colour JPEG": enc(sketch((1000, 800), (30, 30, 120), (240, 235, 220)), "JPEG"),
            "photo 4000x3000 colour JPEG": enc(sketch((4000, 3000), (30, 30, 120), (240, 235, 220)), "JPEG",
                                               quality=85)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mnist", default=None)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    ws = load_workspace(args.mnist, models=("identity", "tanh"))
    rows = {}
    for name, data in files().items():
        if "data URL" in name:
            url = "data:image/png;base64," + base64.b64encode(data).decode()
            rows[f"preprocess {name}"] = timed(lambda: digit_from_data_url(url), args.repeat)
        else:
            rows[f"preprocess {name}"] = timed(lambda: digit_from_bytes(data), args.repeat)
    grid = np.zeros((28, 28))
    grid[4:24, 12:16] = 1.0
    rows["preprocess 28x28 drawing-pad grid"] = timed(lambda: digit_from_array(grid), args.repeat)
    m, t = ws.mnist["identity"], ws.mnist["tanh"]
    x = m.split.X_test[0].astype(float)
    code = encode_digit(x)
    rows["URL code: encode + decode"] = timed(lambda: decode_digit(encode_digit(x)), args.repeat)
    ray = trace_ray(m, x)
    rows["identity walk step t=3, any pixels"] = timed(lambda: walk(m, x, 3.0, ray=ray), args.repeat)
    rows["identity walk step t=1, valid pixels"] = timed(lambda: walk(m, x, 1.0, valid=True, ray=ray), args.repeat)
    rows["identity walk step t=8, valid (unreachable)"] = timed(lambda: walk(m, x, 8.0, valid=True, ray=ray),
                                                                 args.repeat)
    xt = t.split.X_test[0].astype(float)
    rt = trace_ray(t, xt)
    rows["tanh walk step t=t_max/2, any pixels"] = timed(lambda: walk(t, xt, rt.t_max / 2, ray=rt), args.repeat)
    rows["tanh walk step t=t_max/2, valid pixels"] = timed(lambda: walk(t, xt, rt.t_max / 2, valid=True, ray=rt),
                                                            args.repeat)
    centres = [t.train_hidden[t.split.y_train == k].mean(axis=0) for k in range(4)]
    for valid in (False, True):
        rows[f"tanh move to a class centre, {'valid' if valid else 'any'} pixels"] = timed(
            lambda: [move_to(t, xt, c, valid=valid) for c in centres[1:2]], max(5, args.repeat // 3))
    rows["PNG 28x28 + 280x280"] = timed(lambda: (image_png(x), image_png(x, scale=10)), args.repeat)
    mv = walk(m, x, 3.0, ray=ray)
    rows["export record + json.dumps"] = timed(lambda: json.dumps(export_record(m, mv.image, mv.target)),
                                               args.repeat)
    width = max(map(len, rows))
    print(f"{'what':<{width}}  {'p50 ms':>8}  {'p90 ms':>8}")
    for k, v in rows.items():
        print(f"{k:<{width}}  {v['p50_ms']:8.2f}  {v['p90_ms']:8.2f}")
    print(f"(URL code: {len(code)} characters; tanh t_max for this digit: {rt.t_max:.3g} data radii)")
    out = {"machine": platform.platform(), "python": platform.python_version(), "rows": rows}
    (Path(__file__).with_suffix(".json")).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
