"""Core-library benchmark: training time, cold vs cached load, inversion speed, split-seed spread.

Run: ``python tests/benchmarks/bench_core.py [--mnist SOURCE] [--seeds 5] [--points 1000]``.
Prints tables and writes ``bench_core.json`` beside this file. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from fooling import datasets  # noqa: E402
from fooling.inversion import Inverter, invert_pinv  # noqa: E402
from fooling.models import MLP_SPECS, train_mlp  # noqa: E402
from fooling.probes import data_radius  # noqa: E402
from fooling.workspace import load_workspace  # noqa: E402


def percentiles(seconds: list[float]) -> dict:
    a = np.asarray(seconds) * 1e6
    return {"p50_us": float(np.percentile(a, 50)), "p99_us": float(np.percentile(a, 99))}


def time_loads(mnist: str | None) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FOOLING_CACHE_DIR"] = cache
        t = time.perf_counter()
        ws = load_workspace(mnist)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        load_workspace(mnist)
        warm = time.perf_counter() - t
    training = {name: m.trained.seconds for name, m in ws.mnist.items()}
    return {"cold_s": cold, "cached_s": warm, "cold_over_cached": cold / warm, "training_s": training}, ws


def time_inversions(ws, n_points: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    m = ws.mnist["identity"]
    c, r = data_radius(m.train_hidden)
    pts = c + rng.uniform(-3, 3, size=(n_points, 2)) * r
    inv = Inverter().fit(m.net)
    for label, fn in (("essay_pinv_per_call", lambda h: invert_pinv(m.net, h)),
                      ("affine_precomputed", lambda h: inv.invert(h).image),
                      ("affine_valid_pixels", lambda h: inv.invert(h, valid=True).image)):
        times = []
        for h in pts:
            t = time.perf_counter()
            fn(h)
            times.append(time.perf_counter() - t)
        out[label] = percentiles(times)
    # the bare affine map, without re-propagation and result bookkeeping
    times = []
    for h in pts:
        t = time.perf_counter()
        (h - inv.c_) @ inv.pinv_
        times.append(time.perf_counter() - t)
    out["affine_map_only"] = percentiles(times)
    mt = ws.mnist["tanh"]
    tinv = Inverter().fit(mt.net)
    times = []
    for h in rng.uniform(-0.95, 0.95, size=(min(n_points, 300), 2)):
        t = time.perf_counter()
        tinv.invert(h)
        times.append(time.perf_counter() - t)
    out["tanh_per_layer"] = percentiles(times)
    if "relu" in ws.mnist:  # exact ReLU inversion: activation-pattern LPs, then the MILP search
        mr = ws.mnist["relu"]
        rinv = mr.inverter
        c, r = data_radius(mr.train_hidden)
        theta = rng.uniform(0, np.pi / 2, min(n_points, 300))
        far = c + rng.uniform(0, 3, (len(theta), 1)) * r * np.column_stack([np.cos(theta), np.sin(theta)])
        for label, pts, valid in (("relu_exact", far, False), ("relu_valid_pixels", mr.test_hidden[:300], True)):
            rinv.invert(pts[0], valid=valid)  # the first call imports scipy.optimize
            times = []
            for h in pts:
                t = time.perf_counter()
                rinv.invert(h, valid=valid)
                times.append(time.perf_counter() - t)
            out[label] = percentiles(times)
    base = out["essay_pinv_per_call"]["p50_us"]
    for k in out:
        out[k]["speedup_vs_essay_p50"] = base / out[k]["p50_us"]
    return out


def seed_spread(mnist: str | None, seeds: int) -> dict:
    digits = datasets.load_mnist(mnist)
    out = {}
    for name, spec in MLP_SPECS.items():
        images, labels = datasets.filter_classes(digits.images, digits.labels, spec.classes)
        X = datasets.scale_pixels(images).astype(np.float32)
        accs = []
        for seed in range(seeds):
            Xtr, Xte, ytr, yte = datasets.split(X, labels, seed=seed)
            accs.append(train_mlp(spec, Xtr, ytr, Xte, yte).test_accuracy)
            print(f"  {name} split seed {seed}: held-out {accs[-1]:.3f}", file=sys.stderr)
        out[name] = {"accuracies": accs, "mean": float(np.mean(accs)), "sd": float(np.std(accs, ddof=1))}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mnist", default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--points", type=int, default=1000)
    args = p.parse_args()
    loads, ws = time_loads(args.mnist)
    inv = time_inversions(ws, args.points)
    spread = seed_spread(args.mnist, args.seeds)
    result = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "source": ws.source, "loads": loads, "inversion": inv, "split_seeds": spread}

    print(f"\nMNIST source: {ws.source}")
    print("\nTraining (seconds)")
    for name, s in loads["training_s"].items():
        print(f"  {name:<10} {s:8.2f}")
    print(f"\nLoad: cold {loads['cold_s']:.2f} s (trains), cached {loads['cached_s']:.3f} s, "
          f"ratio {loads['cold_over_cached']:.0f}x")
    print(f"\nInversion per point over {args.points} points (microseconds)")
    print(f"  {'method':<22} {'p50':>10} {'p99':>10} {'p50 speed-up vs essay':>24}")
    for k, v in inv.items():
        print(f"  {k:<22} {v['p50_us']:10.1f} {v['p99_us']:10.1f} {v['speedup_vs_essay_p50']:23.1f}x")
    print(f"\nHeld-out accuracy over {args.seeds} split seeds (mean ± sd)")
    for name, v in spread.items():
        print(f"  {name:<10} {v['mean']:.3f} ± {v['sd']:.3f}   ({', '.join(f'{a:.3f}' for a in v['accuracies'])})")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
