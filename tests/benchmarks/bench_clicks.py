"""Server time of a map click, against a trivial callback on the same app.

Run: ``python tests/benchmarks/bench_clicks.py [--n 500] [--seed 0]``.

Builds the app once (models from the artifact cache, grids at the configured resolution),
registers one trivial callback on it (a ``dcc.Store`` echoed into a ``Div``), then POSTs to
``/_dash-update-component`` through ``app.server.test_client()``:

* ``n`` clicks at random points of the identity net's hidden plane (the /mnist click callback),
* ``n`` at random points of the tanh net's plane ``[-1, 1]^2``,
* ``n`` at random points of the extended iris plane (the /iris click callback),
* ``n`` requests to the trivial callback.

Request bodies are built from ``app.callback_map`` and the components in the app's
validation layout, the way the browser builds them. The time of a request is the
wall-clock time of ``test_client().post`` (Flask routing, JSON in, callback, JSON out;
no network; CPU time alongside, less sensitive to a busy machine). Kinds are interleaved
request by request. Prints p50/p99 per kind and their ratio to the trivial callback, and writes
``bench_clicks.json`` beside this file. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from dash import Input, Output, dcc, html  # noqa: E402

from app import create_app, ids, load_resources  # noqa: E402
from app.resources import IRIS_BOUNDS  # noqa: E402
from app.settings import Settings  # noqa: E402

OUT = Path(__file__).with_name("bench_clicks.json")
TRIVIAL_IN, TRIVIAL_OUT = "bench-trivial-in", "bench-trivial-out"


def _split_outputs(key: str) -> list[dict]:
    """``..a.b...c.d@hash..`` (or ``a.b``) into [{"id", "property"}] (hash suffixes dropped)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        cid, prop = part.split("@", 1)[0].rsplit(".", 1)
        out.append({"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop})
    return out


def _components(layout) -> list:
    return [c for c in layout._traverse() if getattr(c, "id", None) is not None]


def _matches(pattern: dict, cid) -> bool:
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(isinstance(v, list) or cid[k] == v for k, v in pattern.items())


def _values(specs: list[dict], comps: list, override: dict) -> list:
    """Input/state entries with the layout's current values (``override`` by 'id.prop')."""
    out = []
    for spec in specs:
        sid, prop = spec["id"], spec["property"]
        if sid.startswith("{"):
            pattern = json.loads(sid)
            out.append([{"id": c.id, "property": prop, "value": getattr(c, prop, None)}
                        for c in comps if _matches(pattern, c.id)])
            continue
        value = override.get(f"{sid}.{prop}")
        if value is None:
            found = [c for c in comps if c.id == sid]
            value = getattr(found[0], prop, None) if found else None
        out.append({"id": sid, "property": prop, "value": value})
    return out


def request_maker(app, changed: str):
    """``make(values) -> body`` for the callback with input ``changed`` ('id.prop')."""
    keys = [k for k, cb in app.callback_map.items()
            if any(f"{i['id']}.{i['property']}" == changed for i in cb["inputs"])]
    if not keys:
        return None
    key = keys[0]
    cb = app.callback_map[key]
    comps = _components(app.validation_layout)
    outputs = _split_outputs(key)

    def make(override: dict) -> dict:
        return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
                "inputs": _values(cb["inputs"], comps, override), "changedPropIds": [changed],
                "state": _values(cb["state"], comps, override)}

    return make


def add_trivial_callback(app) -> None:
    """A callback that does nothing but echo: the floor every other callback stands on."""
    app.validation_layout = html.Div([app.validation_layout, dcc.Store(id=TRIVIAL_IN), html.Div(id=TRIVIAL_OUT)])

    @app.callback(Output(TRIVIAL_OUT, "children"), Input(TRIVIAL_IN, "data"), prevent_initial_call=True)
    def echo(data):
        return str(data)


def run(client, kinds: dict[str, tuple[list, object]]) -> dict:
    """POST every body, round-robin over the kinds (so a change of machine load hits all alike)."""
    wall = {k: [] for k in kinds}
    cpu = {k: [] for k in kinds}
    bad = dict.fromkeys(kinds, 0)
    ok = dict.fromkeys(kinds, 0)
    n = min(len(bodies) for bodies, _ in kinds.values())
    for i in range(n):
        for name, (bodies, check) in kinds.items():
            data = json.dumps(bodies[i])
            c, t = time.process_time(), time.perf_counter()
            r = client.post("/_dash-update-component", data=data, content_type="application/json")
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            if r.status_code != 200:
                bad[name] += 1
            elif check(r.get_data(as_text=True)):
                ok[name] += 1
    out = {}
    for name in kinds:
        a, b = np.asarray(wall[name]) * 1e3, np.asarray(cpu[name]) * 1e3
        out[name] = {"n": len(a), "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
                     "mean_ms": float(a.mean()), "cpu_p50_ms": float(np.percentile(b, 50)),
                     "cpu_p99_ms": float(np.percentile(b, 99)), "non_200": bad[name],
                     "with_expected_content": ok[name]}
    return out


def click(x: float, y: float) -> dict:
    return {"points": [{"x": float(x), "y": float(y), "curveNumber": 0, "pointNumber": 0}]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="requests per kind (default 500)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    settings = Settings.from_env()
    t = time.perf_counter()
    res = load_resources(settings, progress=True)
    app = create_app(res, settings)
    build_s = time.perf_counter() - t
    add_trivial_callback(app)
    client = app.server.test_client()
    assert client.get("/health").status_code == 200

    kinds: dict[str, tuple[list, object]] = {}
    mnist = request_maker(app, f"{ids.MNIST_MAP}.clickData")
    for name in ("identity", "tanh"):
        x0, x1, y0, y1 = res.plane(name).bounds
        pts = rng.uniform((x0, y0), (x1, y1), size=(args.n, 2))
        kinds[f"mnist click ({name})"] = (
            [mnist({f"{ids.MNIST_NETWORK}.value": name, f"{ids.MNIST_MAP}.clickData": click(*p)}) for p in pts],
            lambda s: "Prediction: " in s or "cannot reach" in s)
    iris = request_maker(app, f"{ids.IRIS_MAP}.clickData")
    if iris is None:
        print("the /iris page registers no callback on iris-map.clickData: its row is skipped", file=sys.stderr)
    else:
        x0, x1, y0, y1 = IRIS_BOUNDS
        pts = rng.uniform((x0, y0), (x1, y1), size=(args.n, 2))
        kinds["iris click"] = ([iris({f"{ids.IRIS_MAP}.clickData": click(*p)}) for p in pts],
                               lambda s: "Prediction: " in s)
    trivial = request_maker(app, f"{TRIVIAL_IN}.data")
    kinds["trivial callback"] = ([trivial({f"{TRIVIAL_IN}.data": int(i)}) for i in range(args.n)],
                                 lambda s: TRIVIAL_OUT in s)

    for bodies, _ in kinds.values():  # warm-up: first-request setup, lazy imports
        client.post("/_dash-update-component", data=json.dumps(bodies[0]), content_type="application/json")
    results = run(client, kinds)
    base = results["trivial callback"]
    for r in results.values():
        r["p50_over_trivial"] = r["p50_ms"] / base["p50_ms"]
        r["p99_over_trivial"] = r["p99_ms"] / base["p99_ms"]

    w = max(len(k) for k in results)
    cols = ("n", "p50 ms", "p99 ms", "p50/triv", "p99/triv", "cpu p50", "cpu p99", "non-200", "content ok")
    print("\n" + f"{'kind':<{w}}" + "".join(f"  {c:>8}" for c in cols))
    for name, r in results.items():
        row = (r["n"], f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['p50_over_trivial']:.1f}",
               f"{r['p99_over_trivial']:.1f}", f"{r['cpu_p50_ms']:.2f}", f"{r['cpu_p99_ms']:.2f}",
               r["non_200"], r["with_expected_content"])
        print(f"{name:<{w}}" + "".join(f"  {v:>8}" for v in row))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    report = {"build_app_s": build_s, "grid": settings.grid, "n_per_kind": args.n, "seed": args.seed,
              "python": platform.python_version(), "machine": platform.machine(),
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpus": os.cpu_count(),
              "load_average_1min": load, "results": results}
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\napp built in {build_s:.1f} s (grid {settings.grid}); load average {load}; wrote {OUT}")
    return report


if __name__ == "__main__":
    main()
