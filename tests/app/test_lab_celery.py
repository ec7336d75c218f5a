"""/lab on a real job queue: Debian's redis-server and real ``celery --app app.jobs:celery_app worker``
processes. The web side and the workers share no disk: each has its own cache folder, and
trained networks reach the web side through Redis.

A link trains once on a worker and is then answered from the store; a worker killed in the
middle of a job makes the page say so (no endless polling) while the web side keeps answering.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from app import create_app, ids
from app.registry import HEARTBEAT_TIMEOUT
from tests.lab_support import LabClient, celery_worker, local_transport, redis_server, text_of

pytestmark = pytest.mark.slow

LINK = {"digits": ["0,1,2,3"], "hidden": ["50,20"], "act": ["relu"], "solver": ["adam"], "lr": ["0.001"],
        "alpha": ["0.0001"], "epochs": ["20"], "seed": ["21"]}
LONG = {"digits": ["0,1,2,3,4,5,6,7,8,9"], "hidden": ["128,128,128"], "act": ["tanh"], "epochs": ["300"]}


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def worker(redis_url):
    with celery_worker(redis_url, concurrency=2, name="lab-e2e") as w:
        yield w


def web_app(monkeypatch, tmp_path, session_cache, resources, redis_url):
    cache = tmp_path / "web-cache"
    cache.mkdir()
    for f in session_cache.glob("mnist_5k*.npz"):
        shutil.copy(f, cache / f.name)
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(cache))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("FOOLING_MAX_JOBS", "2")
    return create_app(resources)


def test_a_link_trains_on_a_celery_worker_and_is_then_answered_from_redis(monkeypatch, tmp_path, session_cache,
                                                                          resources, redis_url, worker):
    app = web_app(monkeypatch, tmp_path, session_cache, resources, redis_url)
    state = app.states_["/lab"]
    assert state.jobs.kind == "celery" and type(state.jobs.manager).__name__ == "LabCelery"
    tab = LabClient(app, *local_transport(app))
    ticket = tab.open(LINK)[ids.LAB_TICKET]["data"]
    outcome, progress, _ = tab.run(ticket, timeout=240)
    assert outcome["status"] == "done" and outcome["trained"], outcome
    assert any("epoch" in str(text) for _, text in progress), progress
    assert f"{ticket['key']}" in worker.text() or "succeeded" in worker.text()
    # the worker wrote the network to its own folder and to Redis; the web side read it from Redis
    assert (worker.cache / "lab" / f"lab-{ticket['key']}.npz").exists()
    assert state.jobs.backend.redis.exists(f"fooling:artifact:{ticket['key']}")
    shown = tab.show(outcome)
    assert "held-out accuracy" in text_of(shown, ids.LAB_RESULT)
    assert (tmp_path / "web-cache" / "lab" / f"lab-{ticket['key']}.npz").exists()
    view = state.view(outcome["key"])
    x, y = view.presets[0]["hidden"]
    assert "Prediction:" in text_of(tab.click(outcome, x, y), ids.LAB_INSPECT)

    # another web container (its own empty disk) answers the same link at once, no job
    other = tmp_path / "other"
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(other))
    second = create_app(resources)
    before = second.states_["/lab"].jobs.registry.snapshot()["stats"]
    again = LabClient(second, *local_transport(second)).open(LINK)
    assert ids.LAB_TICKET not in again and again[ids.LAB_OUTCOME]["data"]["trained"] is False
    assert "no job started" in LabClient(second, *local_transport(second)).show(
        again[ids.LAB_OUTCOME]["data"])[ids.LAB_PROGRESS]["children"]
    assert second.states_["/lab"].jobs.registry.snapshot()["stats"] == before


def test_a_worker_killed_in_the_middle_of_a_job_is_reported_and_nothing_hangs(monkeypatch, tmp_path,
                                                                              session_cache, resources):
    with redis_server() as url, celery_worker(url, concurrency=1, name="lab-victim") as victim:
        app = web_app(monkeypatch, tmp_path, session_cache, resources, url)
        tab = LabClient(app, *local_transport(app))
        ticket = tab.open(LONG)[ids.LAB_TICKET]["data"]
        seen: list = []
        box: dict = {}

        def poll():
            box["result"] = tab.run(ticket, timeout=HEARTBEAT_TIMEOUT + 120,
                                    on_poll=lambda s: seen.__setitem__(slice(None), s))

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        end = time.time() + 120
        while not any("epoch" in str(text) for _, text in seen) and time.time() < end:
            time.sleep(0.2)
        assert any("epoch" in str(text) for _, text in seen), (seen, victim.text()[-2000:])
        victim.kill()
        killed = time.time()
        health = []
        while t.is_alive() and time.time() - killed < HEARTBEAT_TIMEOUT + 30:
            health.append(app.server.test_client().get("/health").status_code)  # the web side keeps answering
            time.sleep(0.5)
        t.join(1)
        assert not t.is_alive(), "the page kept polling a dead job"
        assert set(health) == {200} and len(health) > 5
        outcome, _, status = box["result"]
        assert outcome is None and status == 204  # the poll ended: no answer from a dead job
        said = text_of(tab.ended(ticket), ids.LAB_PROGRESS)
        assert "stopped answering" in said or "stopped without an answer" in said, said
        assert "Nothing was saved" in said
        assert app.states_["/lab"].jobs.registry.active() == 0
        # the slot is free: the next spec is admitted at once
        assert tab.open({**LONG, "epochs": ["1"]})[ids.LAB_TICKET]["data"]


def test_the_compose_worker_command_starts_a_worker_that_knows_the_lab_job(redis_url, tmp_path):
    """docker-compose.yml's worker runs ``celery --app app.jobs:celery_app worker``; that exact
    command, run here, registers the lab's job (no web app, no pages built)."""
    import json
    import os
    import re
    import subprocess

    from tests.lab_support import CELERY, REPO

    compose = (REPO / "docker-compose.yml").read_text()
    worker = compose[compose.index("\n  worker:"):]
    command = json.loads(re.search(r"^\s+command: (\[.*\])$", worker, re.M).group(1))
    assert command[:4] == ["celery", "--app", "app.jobs:celery_app", "worker"]
    for service in ("web", "worker"):
        assert "REDIS_URL: redis://redis:6379/0" in compose and f"\n  {service}:" in compose
    log = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": redis_url, "FOOLING_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([CELERY, *command[1:], "-n", "compose@%h", "--without-mingle"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.time() + 90
        while "ready." not in log.read_text() and time.time() < end and proc.poll() is None:
            time.sleep(0.2)
        text = log.read_text()
        assert "ready." in text, text[-2000:]
        assert re.search(r"\. background_callback_[0-9a-f]{64}", text), text[-2000:]
        import sys

        probe = subprocess.run([sys.executable, "-c", "import app.jobs, sys; print(sys.modules['app']._app is None)"],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert probe.stdout.strip() == "True", probe.stderr  # importing app.jobs builds no web app
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_with_redis_gone_the_page_says_so_and_nothing_blocks(monkeypatch, tmp_path, session_cache, resources):
    with redis_server() as url:
        app = web_app(monkeypatch, tmp_path, session_cache, resources, url)
        tab = LabClient(app, *local_transport(app))
    t0 = time.time()
    got = tab.open(LINK)
    assert "job queue cannot be reached" in text_of(got, ids.LAB_MESSAGE) and ids.LAB_TICKET not in got
    assert tab.start({"nonce": "n" * 24})[0] == 204
    assert tab.ended({"nonce": "n" * 24}) == {}
    assert app.server.test_client().get("/health").status_code == 200
    assert time.time() - t0 < 10
