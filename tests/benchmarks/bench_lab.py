"""/lab: how long a training takes, how fast a stored network is answered, and trainings per minute
on 1 and 2 Celery workers.

Run: ``python tests/benchmarks/bench_lab.py [--repeats 3] [--jobs 6]``.

* **train the default spec** (digits 0-3, 50-20-2 ReLU, adam, 50 epochs, bundled data):
  the core's epoch loop alone (:func:`fooling.training.train_epochs`), the bundle (maps of
  both heads, density check, reachable region, far points, fooling rates), and the whole page
  path with the default manager: Train pressed -> job process -> outcome, polled as the
  browser polls (every 200 ms). The stored network is deleted between repeats.
* **answer a stored spec**: Train pressed for a stored network -> outcome (no job), and the
  results callback (maps, loss, rates) -- first in a fresh process state (the bundle read and
  its figures built), then warm (p50 of ``--repeats * 10``).
* **trainings per minute**: a real ``redis-server`` and 1, then 2 ``celery --app
  app.jobs:celery_app worker --concurrency 1`` processes, ``--jobs`` different specs (the default
  spec with tanh instead of ReLU, whose bottleneck loses a unit for some seeds, and other
  seeds) sent by as many browser sessions at once (``FOOLING_MAX_JOBS`` = jobs), each
  polled to its end; one warm-up job per worker first (data parsed, imports done).

Everything goes through ``app.server.test_client()`` (no network). Prints a table and writes
``bench_lab.json`` beside this file. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app, ids, load_resources  # noqa: E402
from fooling import datasets  # noqa: E402
from fooling.lab import DEFAULT, spec_key  # noqa: E402
from fooling.training import build_bundle, train_epochs  # noqa: E402
from fooling.workspace import split_for  # noqa: E402
from tests.lab_support import LabClient, celery_worker, local_transport, redis_server  # noqa: E402

OUT = Path(__file__).with_name("bench_lab.json")
QUERY = {"digits": ["0,1,2,3"], "hidden": ["50,20"], "act": ["relu"], "solver": ["adam"], "lr": ["0.001"],
         "alpha": ["0.0001"], "epochs": ["50"], "seed": ["21"]}
THROUGHPUT = {**QUERY, "act": ["tanh"]}


def lab_env(root: Path, **extra) -> None:
    """Point the lab (its job records and artifacts) at ``root``: nothing of the user's cache is touched."""
    os.environ["FOOLING_CACHE_DIR"] = str(root)
    for k, v in extra.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = str(v)


def core_training(repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        digits = datasets.load_mnist("bundled", cache_dir=tmp)
        split = split_for(digits, DEFAULT.digits, tmp)
        train = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trained = train_epochs(DEFAULT, split)
            train.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        build_bundle(DEFAULT, trained, split, spec_key(DEFAULT, digits.fingerprint()), resolution=200, cache_dir=tmp)
        bundle = time.perf_counter() - t0
    return {"train_s": statistics.median(train), "bundle_s": bundle, "test_accuracy": trained.test_accuracy}


def page_training(res, repeats: int) -> dict:
    """Train pressed -> outcome through the default manager (a job process per training)."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        lab_env(Path(tmp), REDIS_URL=None, FOOLING_MAX_JOBS=2)
        app = create_app(res)
        state = app.states_["/lab"]
        for _ in range(repeats):
            key = state.key(DEFAULT)
            state.jobs.artifacts.path(key).unlink(missing_ok=True)
            state._views.clear()
            tab = LabClient(app, *local_transport(app))
            t0 = time.perf_counter()
            ticket = tab.open(QUERY)[ids.LAB_TICKET]["data"]
            outcome, _, _ = tab.run(ticket, interval=0.2)
            times.append(time.perf_counter() - t0)
            assert outcome["status"] == "done", outcome
    return {"train_page_s": statistics.median(times), "train_page_all_s": times}


def stored_answers(res, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lab_env(Path(tmp), REDIS_URL=None, FOOLING_MAX_JOBS=2)
        app = create_app(res)
        tab = LabClient(app, *local_transport(app))
        outcome, _, _ = tab.run(tab.open(QUERY)[ids.LAB_TICKET]["data"])
        cold, warm = [], []
        for _ in range(repeats):  # a fresh process state: the bundle read, its figures built
            fresh = create_app(res)
            t = LabClient(fresh, *local_transport(fresh))
            t0 = time.perf_counter()
            got = t.open(QUERY)
            t.show(got[ids.LAB_OUTCOME]["data"])
            cold.append(time.perf_counter() - t0)
            assert ids.LAB_TICKET not in got
        before = app.states_["/lab"].jobs.registry.snapshot()["stats"]
        for _ in range(repeats * 10):
            t0 = time.perf_counter()
            got = tab.open(QUERY)
            tab.show(got[ids.LAB_OUTCOME]["data"])
            warm.append(time.perf_counter() - t0)
        assert app.states_["/lab"].jobs.registry.snapshot()["stats"] == before  # no job started
        del outcome
    return {"stored_cold_ms": 1000 * statistics.median(cold), "stored_warm_p50_ms": 1000 * statistics.median(warm),
            "stored_warm_p95_ms": 1000 * sorted(warm)[int(0.95 * len(warm)) - 1]}


def run_all(app, specs: list[dict]) -> tuple[float, list]:
    """Send every spec from its own session at once; wall time until all are done."""
    results, threads = [], []

    def one(query):
        tab = LabClient(app, *local_transport(app))
        ticket = tab.open(query)[ids.LAB_TICKET]["data"]
        t0 = time.perf_counter()
        outcome, _, _ = tab.run(ticket, timeout=600, interval=0.2)
        results.append((outcome["status"], time.perf_counter() - t0, outcome.get("message"), query["seed"][0]))

    t0 = time.perf_counter()
    for q in specs:
        threads.append(threading.Thread(target=one, args=(q,)))
        threads[-1].start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def celery_throughput(res, n_jobs: int) -> dict:
    out = {}
    seed = 1000
    for n_workers in (1, 2):
        with redis_server() as url, tempfile.TemporaryDirectory() as tmp:
            lab_env(Path(tmp), REDIS_URL=url, FOOLING_MAX_JOBS=n_jobs)
            workers = [celery_worker(url, concurrency=1, name=f"bench{n_workers}-{i}") for i in range(n_workers)]
            app = None
            for w in workers:
                w.__enter__()
            try:
                app = create_app(res)
                warm = [{**THROUGHPUT, "seed": [str(seed + i)]} for i in range(n_workers)]
                seed += n_workers
                run_all(app, warm)
                specs = [{**THROUGHPUT, "seed": [str(seed + i)]} for i in range(n_jobs)]
                seed += n_jobs
                wall, results = run_all(app, specs)
                assert all(r[0] == "done" for r in results), results
                out[f"workers_{n_workers}"] = {"jobs": n_jobs, "wall_s": wall, "per_minute": 60 * n_jobs / wall,
                                               "latency_p50_s": statistics.median(r[1] for r in results)}
            finally:
                for w in reversed(workers):
                    w.__exit__(None, None, None)
                import gc

                del app
                gc.collect()  # Celery's result objects let go of Redis while it still runs
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--jobs", type=int, default=6)
    args = p.parse_args(argv)
    res = load_resources(progress=False)  # the user's cache: models and grids as served
    report = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "spec": DEFAULT.query()}
    report.update(core_training(args.repeats))
    report.update(page_training(res, args.repeats))
    report.update(stored_answers(res, args.repeats))
    report["celery"] = celery_throughput(res, args.jobs)
    c1, c2 = report["celery"]["workers_1"], report["celery"]["workers_2"]
    rows = [
        ("train the default spec: epoch loop (50 epochs)", f"{report['train_s']:.2f} s"),
        ("  + its bundle (maps, RBF head, density, reachable region, rates)", f"{report['bundle_s']:.2f} s"),
        ("  Train pressed -> outcome, default manager (job process)", f"{report['train_page_s']:.2f} s"),
        ("answer a stored spec, fresh process state (read + figures)", f"{report['stored_cold_ms']:.0f} ms"),
        ("answer a stored spec, warm (spec + results callbacks), p50 / p95",
         f"{report['stored_warm_p50_ms']:.1f} / {report['stored_warm_p95_ms']:.1f} ms"),
        (f"trainings per minute, 1 Celery worker ({c1['jobs']} jobs, default spec with tanh)",
         f"{c1['per_minute']:.1f} (p50 latency {c1['latency_p50_s']:.1f} s)"),
        (f"trainings per minute, 2 Celery workers ({c2['jobs']} jobs, default spec with tanh)",
         f"{c2['per_minute']:.1f} (p50 latency {c2['latency_p50_s']:.1f} s)"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  measured")
    for what, value in rows:
        print(f"{what:<{width}}  {value}")
    OUT.write_text(json.dumps(report, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
