"""/lab through the callback route, with the default job manager (local processes, diskcache):
a link trains once and is then answered from the store, clicks invert points of every
activation, bad specs and links start nothing, the limits refuse with a message, the gate
starts a job only for a ticket it claims, cancel and the time limit stop a job and free its slot.
"""

from __future__ import annotations

import re
import shutil
import threading
import time

import pytest

from app import create_app, ids
from app.pages.lab.submit import update_lab_submit
from fooling.lab import DEFAULT
from tests.lab_support import LabClient, local_transport, text_of

pytestmark = pytest.mark.slow

SMALL = {"digits": ["0,1,7"], "hidden": ["24"], "epochs": ["15"], "seed": ["5"]}
LONG = {"digits": ["0,1,2,3,4,5,6,7,8,9"], "hidden": ["128,128,128"], "act": ["tanh"], "epochs": ["300"]}


@pytest.fixture
def lab_env(monkeypatch, tmp_path, session_cache):
    """A fresh job registry and artifact store (the parsed digits copied, not parsed again)."""
    cache = tmp_path / "lab-cache"
    cache.mkdir()
    for f in session_cache.glob("mnist_5k*.npz"):
        shutil.copy(f, cache / f.name)
    monkeypatch.setenv("FOOLING_CACHE_DIR", str(cache))
    monkeypatch.setenv("FOOLING_MAX_JOBS", "2")
    monkeypatch.setenv("FOOLING_JOB_SECONDS", "120")
    monkeypatch.delenv("REDIS_URL", raising=False)
    return cache


@pytest.fixture
def lab_app(lab_env, resources):
    return create_app(resources)


def client(app, session=None) -> LabClient:
    return LabClient(app, *local_transport(app), session=session)


def stats(app) -> dict:
    return app.states_["/lab"].jobs.registry.snapshot()["stats"]


def epochs_seen(progress) -> list[int]:
    return [int(m.group(1)) for _, text in progress if isinstance(text, str)
            for m in [re.match(r"epoch (\d+)/", text)] if m]


def test_a_link_trains_once_then_is_answered_from_the_store(lab_app):
    tab = client(lab_app)
    opened = tab.open(SMALL)
    ticket = opened[ids.LAB_TICKET]["data"]
    assert opened[ids.LAB_DIGITS]["value"] == [0, 1, 7] and opened[ids.LAB_EPOCHS]["value"] == 15
    assert "queued" in opened[ids.LAB_PROGRESS]["children"] and ids.LAB_OUTCOME not in opened
    outcome, progress, _ = tab.run(ticket, interval=0.05)
    assert outcome["status"] == "done" and outcome["trained"] is True, outcome
    seen = epochs_seen(progress)
    # progress as the browser sees it: the latest report at each poll, only ever advancing
    bars = [v for v, _ in progress]
    assert seen and seen == sorted(seen) and seen[-1] <= 15, progress
    assert len({text for _, text in progress}) >= 2 and bars == sorted(bars), progress
    shown = tab.show(outcome)
    result = text_of(shown, ids.LAB_RESULT)
    assert re.search(r"train accuracy \d+\.\d% · held-out accuracy \d+\.\d%", result), result
    assert "trained: 15 epochs" in shown[ids.LAB_PROGRESS]["children"]
    heat = shown[ids.LAB_MAP]["figure"]["data"][0]
    assert heat["type"] == "heatmap" and shown[ids.LAB_RBF_MAP]["figure"]["data"][0]["type"] == "heatmap"
    assert "R = 10" in text_of(shown, ids.LAB_RATES) and "flagged by density" in text_of(shown, ids.LAB_RATES)
    shown_presets = {k: v["className"] for k, v in shown.items() if ids.LAB_PRESET in k}
    assert len(shown_presets) == 10 and sum("d-none" not in c for c in shown_presets.values()) == 3
    assert shown[ids.LAB_POINT]["data"] is None
    assert stats(lab_app)["admitted"] == 1 and stats(lab_app)["done"] == 1

    # the same link again, in another tab and another app: at once from the store, no job
    again = client(create_app(lab_app.resources_)).open(SMALL)
    assert ids.LAB_TICKET not in again and again[ids.LAB_OUTCOME]["data"] == {
        "key": outcome["key"], "status": "done", "trained": False}
    assert "no job started" in client(lab_app).show(again[ids.LAB_OUTCOME]["data"])[ids.LAB_PROGRESS]["children"]
    assert stats(lab_app)["admitted"] == 1
    # Train pressed with that spec: the same answer, and the spec written into the URL
    pressed = tab.train(digits=[0, 1, 7], hidden="24", epochs=15, seed=5)
    assert pressed[ids.LAB_OUTCOME]["data"]["key"] == outcome["key"]
    assert pressed[ids.LAB_WRITE]["data"] == {
        "search": "?digits=0,1,7&hidden=24&act=relu&solver=adam&lr=0.001&alpha=0.0001&epochs=15&seed=5"}


RESIDUAL = re.compile(r"residual ([0-9.e+-]+)")
LANDS = re.compile(r"re-propagates to \(([^,]+), ([^)]+)\)")


@pytest.mark.parametrize("act", ["identity", "tanh", "relu"])
def test_clicks_invert_far_points_of_every_activation(lab_app, act):
    tab = client(lab_app)
    outcome, _, _ = tab.run(tab.open({**SMALL, "act": [act]})[ids.LAB_TICKET]["data"])
    assert outcome["status"] == "done", outcome
    view = lab_app.states_["/lab"].view(outcome["key"])
    far = [p for p in view.presets if "probability" in p]
    assert far
    for p in far:
        x, y = p["hidden"]
        got = tab.click(outcome, x, y)
        text = text_of(got, ids.LAB_INSPECT)
        m = re.search(r"Prediction: (\d) \((>?\d+\.\d+)%\)", text)
        assert m and m.group(1) == str(p["predicted"]), text
        assert float(RESIDUAL.search(text).group(1)) < 1e-6
        assert got[ids.LAB_POINT]["data"]["point"] == [x, y] and ids.LAB_IMAGE in got
        valid = text_of(tab.click(outcome, x, y, valid=True), ids.LAB_INSPECT)
        assert "Prediction:" in valid and "Not a valid image" not in valid
        pressed = tab.preset(outcome, p["label"])  # the far preset button of that digit: the same point
        assert pressed[ids.LAB_POINT]["data"]["point"] == [x, y]
        assert text_of(pressed, ids.LAB_INSPECT) == text
    # a point no input reaches: shown with the nearest one that is reached
    out = {"identity": None, "tanh": (3.0, -3.0), "relu": (-4.0, -2.0)}[act]
    if out is not None:
        got = tab.click(outcome, *out)
        near = got[ids.LAB_POINT]["data"]["nearest"]
        assert "cannot be reached" in text_of(got, ids.LAB_INSPECT) and near is not None
        if act == "relu":
            assert min(near) >= 0  # the closed positive quadrant
        else:
            assert max(abs(v) for v in near) < 1
        lands = [float(v) for v in LANDS.search(text_of(got, ids.LAB_INSPECT)).groups()]
        assert all(abs(a - b) < 1e-3 for a, b in zip(lands, near))


@pytest.mark.parametrize("form, field", [
    ({"digits": []}, "digits"), ({"digits": [4]}, "digits"), ({"hidden": "10000"}, "hidden"),
    ({"hidden": "50,20,10,5"}, "hidden"), ({"epochs": -1}, "epochs"), ({"epochs": None}, "epochs"),
    ({"lr": "nan"}, "lr"), ({"lr": "inf"}, "lr"), ({"activation": "evil"}, "activation"),
    ({"solver": "lbfgs"}, "solver"), ({"alpha": "-1"}, "alpha"), ({"seed": "x"}, "seed"),
    ({"lr": "1" * 60_000}, "lr"),
])
def test_invalid_specs_are_refused_before_anything_starts(lab_app, form, field):
    got = client(lab_app).train(**form)
    text = text_of(got, ids.LAB_MESSAGE)
    assert text.startswith("Not started:") and field in text and "Allowed:" in text
    assert ids.LAB_TICKET not in got and ids.LAB_OUTCOME not in got
    assert stats(lab_app).get("admitted", 0) == 0


def test_a_spec_of_a_megabyte_starts_nothing(lab_app):
    tab = client(lab_app)
    status, data = tab.call(tab.k_spec, {f"{ids.LAB_LR}.value": "1" * 2**20, f"{ids.LAB_TRAIN}.n_clicks": 1},
                            [f"{ids.LAB_TRAIN}.n_clicks"])
    assert status == 413  # the request gate: it never reaches a callback
    # what the callback says to one that got through anyway
    got = update_lab_submit(lab_app.states_["/lab"], "train", form={**DEFAULT.as_dict(), "lr": "1" * 2**20})
    assert "Not started: lr is too long" in str(got[0].children) and "Allowed:" in str(got[0].children)
    assert stats(lab_app).get("admitted", 0) == 0


@pytest.mark.parametrize("params, words", [
    ({"digits": ["0,1", "2,3"]}, "more than once"), ({"act": ["evil"]}, "act"), ({"epochs": ["-1"]}, "epochs"),
    ({"lr": ["nan"]}, "lr"), ({"hidden": ["10000"]}, "hidden"), ({"epochs": ["9" * 4096]}, "too long"),
    ({"nonsense": ["1"]}, "Unknown"), ({"__error__": "That link is too long to read (1048576 characters)"}, "too long"),
    ("garbage", "could not be read"), ({"digits": [1, 2]}, "could not be read"),
])
def test_hostile_links_fall_back_to_the_defaults_with_a_message(lab_app, params, words):
    got = client(lab_app).open(params)
    text = text_of(got, ids.LAB_MESSAGE)
    assert text.startswith("Not trained") and words in text and len(text) < 600
    assert ids.LAB_TICKET not in got
    assert got[ids.LAB_HIDDEN]["value"] == "50,20" or "hidden" not in words
    assert stats(lab_app).get("admitted", 0) == 0


def test_one_job_per_session_and_at_most_max_jobs(lab_app):
    a, b, c = client(lab_app), client(lab_app), client(lab_app)
    first = a.open({**SMALL, "seed": ["1"]})[ids.LAB_TICKET]["data"]
    assert first
    assert "already have a training running" in text_of(a.open({**SMALL, "seed": ["2"]}), ids.LAB_MESSAGE)
    assert "being trained right now" in text_of(b.open({**SMALL, "seed": ["1"]}), ids.LAB_MESSAGE)
    assert b.open({**SMALL, "seed": ["3"]})[ids.LAB_TICKET]["data"]
    busy = c.open({**SMALL, "seed": ["4"]})
    assert "busy: 2 trainings running" in text_of(busy, ids.LAB_MESSAGE) and ids.LAB_TICKET not in busy
    # a tab without a (well-formed) token gets a fresh one, and is a session of its own
    fresh = client(lab_app, session="x").train(seed=9)
    assert re.match(r"^[A-Za-z0-9_-]{16}$", fresh[ids.LAB_SESSION]["data"])
    assert "busy" in text_of(fresh, ids.LAB_MESSAGE)
    assert ids.LAB_SESSION not in a.open({**SMALL, "seed": ["2"]})  # a good token is kept


def test_the_gate_starts_a_job_only_for_a_ticket_it_claims(lab_app):
    tab = client(lab_app)
    for junk in (None, {"nonce": "forged-forged-forged-1234"}, {"nonce": 5}, "x", [1], {"nonce": "../" * 10}):
        assert tab.start(junk)[0] == 204
    ticket = tab.open({**SMALL, "seed": ["8"]})[ids.LAB_TICKET]["data"]
    status, handles = tab.start(ticket)
    assert status == 200 and set(handles) >= {"cacheKey", "job"}
    assert tab.start(ticket)[0] == 204  # replayed: no second job
    assert stats(lab_app)["submitted"] == 1
    # polls carry Dash's own signed handles; forged ones read nothing and start nothing
    forged = f"&cacheKey={'0' * 64}~{'1' * 64}&job=1~{'2' * 64}"
    assert tab.call(tab.k_job, {f"{ids.LAB_TICKET}.data": None}, [f"{ids.LAB_TICKET}.data"], forged)[0] == 204
    # the gate's strictness about the query string
    assert tab.call(tab.k_job, {}, [], "&evil=1")[0] == 400
    assert tab.call(tab.k_spec, {}, [], f"&cacheKey={'0' * 10}")[0] == 400  # not a background callback
    assert tab.call(tab.k_job, {}, [], "&cacheKey=" + "0" * 600)[0] == 400
    outcome, _, _ = tab.run(tab.open({**SMALL, "seed": ["8"]}).get(ids.LAB_TICKET, {}).get("data"))
    assert outcome is None  # this session's job is still in flight: no new ticket to run


def run_in_thread(tab, ticket, **kw):
    box: dict = {}

    def go():
        box["result"] = tab.run(ticket, **kw)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


def test_cancel_stops_the_job_and_frees_its_slot(lab_app):
    tab = client(lab_app)
    ticket = tab.open(LONG)[ids.LAB_TICKET]["data"]
    seen: list = []
    t, box = run_in_thread(tab, ticket, on_poll=lambda s: seen.__setitem__(slice(None), s))
    end = time.time() + 60
    while not epochs_seen(seen) and time.time() < end:
        time.sleep(0.1)
    assert epochs_seen(seen), seen
    job = lab_app.states_["/lab"].jobs.registry.status(ticket["nonce"])["job"]
    cancelled = tab.cancel(ticket)
    assert "Cancelled after epoch" in text_of(cancelled, ids.LAB_PROGRESS)
    t.join(30)
    assert not t.is_alive(), "the poll did not end after a cancel"
    outcome = box["result"][0]
    assert outcome is None or outcome["status"] == "cancelled"
    assert "Cancelled" in text_of(tab.ended(ticket), ids.LAB_PROGRESS)
    assert lab_app.states_["/lab"].jobs.registry.active() == 0
    import psutil

    time.sleep(1.5)
    assert not psutil.pid_exists(int(job)) or psutil.Process(int(job)).status() == psutil.STATUS_ZOMBIE
    assert not lab_app.states_["/lab"].jobs.artifacts.has(ticket["key"])


def test_a_job_past_its_time_limit_stops_with_a_message(lab_app, monkeypatch, resources):
    monkeypatch.setenv("FOOLING_JOB_SECONDS", "5")
    app = create_app(resources)
    tab = client(app)
    ticket = tab.open({**LONG, "seed": ["2"]})[ids.LAB_TICKET]["data"]
    t0 = time.time()
    outcome, _, _ = tab.run(ticket, timeout=90)
    assert outcome["status"] == "timeout" and "time limit (5 s)" in outcome["message"], outcome
    assert time.time() - t0 < 40
    shown = tab.show(outcome)
    assert "time limit" in text_of(shown, ids.LAB_PROGRESS) and ids.LAB_MAP not in shown
    assert app.states_["/lab"].jobs.registry.active() == 0


def test_a_job_process_killed_mid_training_is_reported(lab_app):
    import os
    import signal

    tab = client(lab_app)
    ticket = tab.open({**LONG, "seed": ["5"]})[ids.LAB_TICKET]["data"]
    seen: list = []
    t, box = run_in_thread(tab, ticket, on_poll=lambda s: seen.__setitem__(slice(None), s))
    end = time.time() + 60
    while not epochs_seen(seen) and time.time() < end:
        time.sleep(0.1)
    job = lab_app.states_["/lab"].jobs.registry.status(ticket["nonce"])["job"]
    os.kill(int(job), signal.SIGKILL)  # as the OOM killer would
    t.join(30)
    assert not t.is_alive(), "the page kept polling a dead job"
    assert box["result"][0] is None and box["result"][2] == 204
    said = text_of(tab.ended(ticket), ids.LAB_PROGRESS)
    assert "stopped without an answer" in said and "Nothing was saved" in said, said
    assert lab_app.states_["/lab"].jobs.registry.active() == 0
