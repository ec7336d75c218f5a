"""Load benchmark: a real gunicorn (2 workers, --preload) on 127.0.0.1 under a request mix.

Run: ``python tests/benchmarks/bench_load.py [--requests 5000] [--clients 32] [--workers 2]``.
Uses ``$FOOLING_CACHE_DIR`` (trains into it once if empty). Prints a table and writes
``bench_load.json`` beside this file. Not part of the test suite.

The mix (what a browser does): page loads (the HTML shell of /, /iris, /svm, /mnist,
/neurons and ``/_dash-layout``), page content (the routing callback that returns a page's
layout and figures), map clicks on every page that has them, and static files (the
Bootstrap CSS and a Dash component bundle).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tests.app.test_fuzz import build_body, components, normal_clicks, server_callbacks  # noqa: E402
from tests.test_serving import Server, free_port, gunicorn_cmd  # noqa: E402

PAGES = ("/", "/iris", "/svm", "/mnist", "/neurons")
MIX = {"page": 0.15, "content": 0.15, "click": 0.45, "static": 0.25}


def memory(pid: int) -> dict:
    """RSS and PSS (MiB) of a process, from /proc."""
    out = {}
    for name, path in (("rss", f"/proc/{pid}/status"), ("pss", f"/proc/{pid}/smaps_rollup")):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        key = "VmRSS:" if name == "rss" else "Pss:"
        m = re.search(rf"^{key}\s+(\d+) kB", text, re.M)
        if m:
            out[name] = int(m.group(1)) / 1024
    return out


class Sampler(threading.Thread):
    """Peak RSS/PSS of a server's workers, sampled every 0.2 s."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.peak, self.stop_ = server, {}, threading.Event()

    def run(self):
        while not self.stop_.is_set():
            for pid in self.server.workers():
                m = memory(pid)
                p = self.peak.setdefault(pid, {"rss": 0.0, "pss": 0.0})
                for k in p:
                    p[k] = max(p[k], m.get(k, 0.0))
            self.stop_.wait(0.2)


def local_app():
    """An app built like the server's, to read its callbacks and layout (not served)."""
    from app import create_app, load_resources
    from app.settings import Settings

    res = load_resources(Settings.from_env(), progress=False)
    return create_app(res), res


def plan(dash_app, res, n: int, seed: int, static_paths: list[str]) -> list[tuple[str, str, str, bytes | None]]:
    """``n`` requests (kind, label, path, JSON body or None), drawn reproducibly."""
    rng = random.Random(seed)
    comps = components(dash_app)
    nav_key = next(k for k in server_callbacks(dash_app) if k.startswith("page-content."))
    clicks = []  # (label, callback key, prop, sampler of (x, y))
    for body, expect in normal_clicks(dash_app, res):
        if expect != "Prediction":
            continue
        prop = body["changedPropIds"][0]
        graph = prop.rsplit(".", 1)[0]
        if graph.startswith("mnist"):
            network = getattr(comps.get("mnist-network"), "value", None) or "identity"
            x0, x1, y0, y1 = res.plane(network).bounds
        else:
            x0, x1, y0, y1 = (-3.0, 12.0, -7.0, 12.0)
        clicks.append((graph, body["output"], prop, (x0, x1, y0, y1)))
    if not clicks:
        raise SystemExit("no click callbacks in the app")
    out = []
    kinds, weights = zip(*MIX.items())
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        if kind == "page":
            path = rng.choice(PAGES + ("/_dash-layout",))
            out.append((kind, path, path, None))
        elif kind == "content":
            page = rng.choice(PAGES)
            body = build_body(dash_app, nav_key, {"url.pathname": page}, comps=comps)
            out.append((kind, f"content {page}", "/_dash-update-component", json.dumps(body).encode()))
        elif kind == "click":
            graph, key, prop, (x0, x1, y0, y1) = rng.choice(clicks)
            click = {"points": [{"x": rng.uniform(x0, x1), "y": rng.uniform(y0, y1),
                                 "curveNumber": 0, "pointNumber": 0}]}
            body = build_body(dash_app, key, {prop: click}, [prop], comps)
            out.append((kind, f"click {graph}", "/_dash-update-component", json.dumps(body).encode()))
        else:
            path = rng.choice(static_paths)
            out.append((kind, path, path, None))
    return out


def run(port: int, requests_: list, clients: int) -> tuple[list, float]:
    """Fire every request over ``clients`` keep-alive connections: (results, seconds)."""
    def work(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        results = []
        for kind, label, path, body in chunk:
            t = time.perf_counter()
            try:
                if body is None:
                    conn.request("GET", path)
                else:
                    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                ok = r.status == 200 and (kind != "click" or b"Prediction" in data or b"alert" in data)
                results.append((kind, label, time.perf_counter() - t, r.status, ok, len(data)))
            except (OSError, http.client.HTTPException) as exc:
                results.append((kind, label, time.perf_counter() - t, repr(exc), False, 0))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.close()
        return results

    chunks = [requests_[i::clients] for i in range(clients)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for rs in pool.map(work, chunks) for r in rs]
    return results, time.perf_counter() - t0


def summarise(results: list, seconds: float) -> dict:
    by_kind: dict[str, list] = {}
    for kind, *_ in results:
        by_kind.setdefault(kind, [])
    for r in results:
        by_kind[r[0]].append(r)
    table = {}
    for kind, rs in sorted(by_kind.items()):
        ms = np.array([r[2] for r in rs]) * 1000
        table[kind] = {"n": len(rs), "errors": sum(not r[4] for r in rs),
                       "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
                       "p99_ms": float(np.percentile(ms, 99)), "mean_kb": float(np.mean([r[5] for r in rs]) / 1024)}
    return {"requests": len(results), "seconds": seconds, "throughput_rps": len(results) / seconds,
            "errors": sum(not r[4] for r in results), "by_kind": table,
            "error_samples": [r[:4] for r in results if not r[4]][:10]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    print("building the app locally to read its callbacks ...", file=sys.stderr)
    dash_app, res = local_app()
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_load_{port}.log"
    cmd = gunicorn_cmd("-c", "gunicorn.conf.py", "--preload", "-w", str(args.workers),
                       "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "app:server")
    server = Server(cmd, port, {**os.environ, "PYTHONPATH": str(REPO)}, REPO, log)
    try:
        started = server.wait_healthy()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/")
        html = conn.getresponse().read().decode()
        conn.close()
        suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', html)
        static = ["/_fooling/bootstrap.min.css", "/assets/style.css",
                  next(s for s in suites if "dash_renderer" in s)]
        reqs = plan(dash_app, res, args.requests, args.seed, static)
        warm = plan(dash_app, res, 200, args.seed + 1, static)
        run(port, warm, args.clients)  # every worker has served every page once
        idle = {pid: memory(pid) for pid in server.workers()}
        solo = summarise(*run(port, plan(dash_app, res, 300, args.seed + 2, static), 1))
        sampler = Sampler(server)
        sampler.start()
        results, seconds = run(port, reqs, args.clients)
        sampler.stop_.set()
        sampler.join()
        master = memory(server.proc.pid)
    finally:
        server.stop()
    out = summarise(results, seconds)
    kinds = out["by_kind"]
    out.update({
        "clients": args.clients, "workers": args.workers, "threads_per_worker": 4,
        "startup_s": started, "mix": MIX, "one_client": solo,
        "rss_mib_per_worker_after_warmup": {str(k): v for k, v in idle.items()},
        "peak_mib_per_worker": {str(k): v for k, v in sampler.peak.items()},
        "master_mib": master,
        "p99_click_over_p99_static": kinds["click"]["p99_ms"] / kinds["static"]["p99_ms"],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "grid": os.environ.get("FOOLING_GRID", "200"),
    })
    print(f"\n{out['requests']} requests, {args.clients} clients, {args.workers} workers x 4 threads, "
          f"{seconds:.1f} s: {out['throughput_rps']:.0f} req/s, errors {out['errors']}")
    print(f"{'kind':<8} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean KiB':>9}")
    for kind, row in kinds.items():
        print(f"{kind:<8} {row['n']:>5} {row['errors']:>4} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
              f"{row['p99_ms']:>8.1f} {row['mean_kb']:>9.1f}")
    print(f"p99(click) / p99(static) = {out['p99_click_over_p99_static']:.1f}")
    print(f"\nservice time with one client ({solo['requests']} requests, {solo['throughput_rps']:.0f} req/s, "
          f"errors {solo['errors']}):")
    for kind, row in solo["by_kind"].items():
        print(f"{kind:<8} {row['n']:>5} {row['errors']:>4} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
              f"{row['p99_ms']:>8.1f} {row['mean_kb']:>9.1f}")
    for pid, m in sampler.peak.items():
        print(f"worker {pid}: peak RSS {m['rss']:.0f} MiB, peak PSS {m['pss']:.0f} MiB "
              f"(after warm-up RSS {idle.get(pid, {}).get('rss', float('nan')):.0f} MiB)")
    print(f"master: RSS {master.get('rss', float('nan')):.0f} MiB")
    if out["error_samples"]:
        print("errors:", out["error_samples"])
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path.relative_to(REPO)}")
    return 1 if out["errors"] or solo["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
