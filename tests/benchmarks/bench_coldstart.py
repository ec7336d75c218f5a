"""Cold-start benchmark: seconds from launching gunicorn to the first 200 on /mnist.

Run: ``python tests/benchmarks/bench_coldstart.py [--warm-runs 3] [--cold-runs 1]``.
"cold" starts with an empty artifact cache (a fresh temporary ``FOOLING_CACHE_DIR``: the
master trains every model before it serves); "warm" starts on the cache that run left.
Also reports each worker's memory after one visit of every page and a click. Prints a
table and writes ``bench_coldstart.json`` beside this file. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.bench_load import memory  # noqa: E402
from tests.test_serving import Server, free_port, gunicorn_cmd  # noqa: E402

PAGES = ("/", "/iris", "/svm", "/mnist", "/neurons")
NAV = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
       "changedPropIds": ["url.pathname"]}


def get(port: int, path: str, body: dict | None = None, timeout: float = 5) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if body is None:
            conn.request("GET", path)
        else:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def start(cache: Path, workers: int, log: Path, limit: float = 600) -> dict:
    """Launch gunicorn, time the first 200 on /mnist, visit every page, measure, stop."""
    port = free_port()
    env = {**os.environ, "FOOLING_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    cmd = gunicorn_cmd("-c", "gunicorn.conf.py", "--preload", "-w", str(workers),
                       "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "app:server")
    t0 = time.perf_counter()
    server = Server(cmd, port, env, REPO, log)
    try:
        first = None
        while time.perf_counter() - t0 < limit:
            if server.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{server.text()[-3000:]}")
            try:
                if get(port, "/mnist") == 200:
                    first = time.perf_counter() - t0
                    break
            except OSError:
                pass
            time.sleep(0.05)
        if first is None:
            raise SystemExit(f"no 200 on /mnist within {limit} s")
        for _ in range(2 * workers):  # spread over the workers (new connection each time)
            for page in PAGES:
                assert get(port, page, timeout=60) == 200
                assert get(port, "/_dash-update-component",
                           {**NAV, "inputs": [{"id": "url", "property": "pathname", "value": page}]},
                           timeout=60) == 200
        mem = {str(pid): memory(pid) for pid in sorted(server.workers())}
        master = memory(server.proc.pid)
    finally:
        server.stop()
    return {"first_mnist_200_s": first, "worker_mib": mem, "master_mib": master}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--warm-runs", type=int, default=3)
    p.add_argument("--cold-runs", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    runs = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="fooling-coldstart-") as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        for i in range(max(1, args.cold_runs)):
            fresh = tmp / f"cold{i}"
            print(f"cold start {i + 1} (empty cache: trains first) ...", file=sys.stderr)
            runs["cold"].append(start(fresh, args.workers, tmp / f"cold{i}.log"))
            cache = fresh
        for i in range(args.warm_runs):
            print(f"warm start {i + 1} ...", file=sys.stderr)
            runs["warm"].append(start(cache, args.workers, tmp / f"warm{i}.log"))
    out = {"workers": args.workers, "grid": os.environ.get("FOOLING_GRID", "200"),
           "mnist": os.environ.get("FOOLING_MNIST", "bundled"), "runs": runs,
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "platform": platform.platform()}}
    for kind in ("cold", "warm"):
        times = [r["first_mnist_200_s"] for r in runs[kind]]
        out[f"{kind}_median_s"] = statistics.median(times)
    print(f"\n{'start':<6} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7}")
    for kind in ("cold", "warm"):
        times = [r["first_mnist_200_s"] for r in runs[kind]]
        print(f"{kind:<6} {len(times):>4} {statistics.median(times):>9.2f} {min(times):>7.2f} {max(times):>7.2f}")
    last = runs["warm"][-1] if runs["warm"] else runs["cold"][-1]
    print("\nafter visiting every page (last warm start):")
    for pid, m in last["worker_mib"].items():
        print(f"worker {pid}: RSS {m.get('rss', 0):.0f} MiB, PSS {m.get('pss', 0):.0f} MiB")
    print(f"master: RSS {last['master_mib'].get('rss', 0):.0f} MiB, PSS {last['master_mib'].get('pss', 0):.0f} MiB")
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
