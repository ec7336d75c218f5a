"""A flood of /lab trainings against a real gunicorn (2 workers x 4 threads, the default job manager):
50 Train requests from 10 browser sessions within a few seconds. At most ``FOOLING_MAX_JOBS``
run at once, every other request gets the page's message, nothing answers 5xx or shows the
error banner, no web worker dies or times out, and every accepted job completes."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time

import pytest

from app import ids
from app.backends import DiskBackend
from app.registry import JobRegistry
from tests.app.test_fuzz import ERROR_MARKERS
from tests.lab_support import LabClient, http_transport, text_of
from tests.test_serving import BAD_WORKER_LOG, REPO, free_port, gunicorn_cmd, serving

pytestmark = pytest.mark.slow

MAX_JOBS = 2
SESSIONS, PER_SESSION = 10, 5
SPEC = dict(digits=list(range(10)), hidden="64,32", activation="tanh", epochs=120)
REFUSALS = ("The server is busy", "already have a training running", "being trained right now")


def test_a_flood_of_trainings_runs_at_most_max_jobs_and_answers_everyone(tmp_path, dash_app, session_cache):
    cache = tmp_path / "cache"
    shutil.copytree(session_cache, cache, ignore=shutil.ignore_patterns("jobs", "lab", "dash-jobs"))
    port = free_port()
    env = {**os.environ, "FOOLING_CACHE_DIR": str(cache), "FOOLING_MAX_JOBS": str(MAX_JOBS),
           "FOOLING_GRID": "120", "FOOLING_JOB_SECONDS": "120", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
           "OMP_NUM_THREADS": "1"}
    env.pop("REDIS_URL", None)
    cmd = gunicorn_cmd("-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:server")
    with serving(cmd, port, env, REPO, tmp_path / "gunicorn.log") as server:
        workers = server.wait_workers(2)
        registry = JobRegistry(DiskBackend(cache / "jobs"), max_jobs=MAX_JOBS)
        post, get = http_transport(port, timeout=60)
        tabs = [LabClient(dash_app, post, get) for _ in range(SESSIONS)]
        answers: list[tuple[int, dict]] = []
        outcomes: list = []
        peak = [0]
        lock = threading.Lock()
        flooding = threading.Event()
        flooding.set()

        def sample():
            while flooding.is_set():
                peak[0] = max(peak[0], registry.active())
                time.sleep(0.05)

        def run(tab, ticket):
            outcome, _, status = tab.run(ticket, timeout=240, interval=0.25)
            with lock:
                outcomes.append((outcome, status))

        runners: list[threading.Thread] = []

        sent: list[float] = []

        def press(i, k, tab):
            sent.append(time.time())
            got = tab.train(**SPEC, seed=1000 * i + k)
            with lock:
                answers.append((i, got))
            ticket = got.get(ids.LAB_TICKET, {}).get("data")
            if ticket:  # accepted: this tab's browser starts the job at once
                t = threading.Thread(target=run, args=(tab, ticket), daemon=True)
                t.start()
                runners.append(t)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        flood = []
        for k in range(PER_SESSION):  # each tab presses Train 5 times, 0.4 s apart, not waiting for answers
            for i, tab in enumerate(tabs):
                flood.append(threading.Thread(target=press, args=(i, k, tab)))
                flood[-1].start()
            time.sleep(0.4)
        for t in flood:
            t.join(120)
        for t in runners:
            t.join(300)
        flooding.clear()
        sampler.join(5)
        flood_seconds = max(sent) - min(sent)

        messages = sorted({text_of(a, ids.LAB_MESSAGE)[:60] for _, a in answers})
        assert len(answers) == SESSIONS * PER_SESSION and flood_seconds < 4, (flood_seconds, messages)
        accepted = [a for _, a in answers if ids.LAB_TICKET in a]
        refused = [a for _, a in answers if ids.LAB_TICKET not in a]
        assert 1 <= len(accepted) < len(refused)
        for a in refused:
            assert any(r in text_of(a, ids.LAB_MESSAGE) for r in REFUSALS), text_of(a, ids.LAB_MESSAGE)
        for _, a in answers:
            assert not any(m.decode() in str(a) for m in ERROR_MARKERS)
        assert peak[0] <= MAX_JOBS, peak
        print(f"flood: {len(accepted)} accepted, {len(refused)} refused, sent within {flood_seconds:.1f} s, "
              f"peak {peak[0]}; {messages}")
        snap = registry.snapshot()
        assert len(outcomes) == len(accepted)
        assert all(o is not None and o["status"] == "done" for o, _ in outcomes), outcomes
        # never more than MAX_JOBS in flight, from every job's own admission and end times
        spans = [(e["t"]["admitted"], e["t"]["ended"]) for e in snap["jobs"].values() if e["state"] == "done"]
        assert len(spans) == len(accepted)
        assert max(sum(a <= t < b for a, b in spans) for t, _ in spans) <= MAX_JOBS
        assert snap["stats"].get("refused_busy", 0) >= 1
        # the web workers are the same, alive, and never timed out
        status, _ = get("/health")
        assert status == 200 and server.workers() == workers
        log = server.text()
        assert not any(bad in log for bad in BAD_WORKER_LOG), log[-3000:]
        assert not re.search(r'HTTP/1\.[01]" 5\d\d ', log), "a 5xx in the access log"
