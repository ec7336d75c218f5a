"""The lab's job registry on both backends: admission limits, one claim per ticket, leases that
free the slot of a lost job, and the JSON-only diskcache."""

from __future__ import annotations

import pytest

from app import registry as reg
from app.backends import Artifacts, DiskBackend, JsonDisk, RedisBackend, open_cache
from app.registry import JobRegistry
from tests.lab_support import redis_server


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(params=["disk", "redis"])
def backend(request, tmp_path, redis_url):
    if request.param == "disk":
        return DiskBackend(tmp_path / "jobs")
    b = RedisBackend(redis_url, prefix=f"test-{tmp_path.name}:")
    return b


def admit(r, session, key="k" * 16, epochs=10):
    return r.admit(session, key, "digits=0,1", epochs=epochs, fingerprint="f", resolution=50)


def test_admission_limits_and_one_claim_per_ticket(backend):
    clock = Clock()
    r = JobRegistry(backend, max_jobs=2, seconds=60, clock=clock)
    a = admit(r, "sessionA1", "a" * 16)
    assert a.nonce and a.reason == "admitted" and a.active == 1
    assert admit(r, "sessionA1", "b" * 16).reason == "session"  # one job in flight per session
    same = admit(r, "sessionB1", "a" * 16)
    assert same.reason == "same" and same.other["key"] == "a" * 16
    b = admit(r, "sessionB1", "b" * 16)
    assert b.nonce
    busy = admit(r, "sessionC1", "c" * 16)
    assert busy.nonce is None and busy.reason == "busy" and busy.active == 2
    assert r.claim(a.nonce) and not r.claim(a.nonce)  # a ticket starts one job
    assert not r.claim("forged-nonce-000000000") and not r.claim(None) and not r.claim({"x": 1})
    assert r.start(a.nonce)["state"] == "running" and r.start(a.nonce) is None
    assert r.start(b.nonce) is None  # never claimed: no job may run it
    assert r.beat(a.nonce, 3, 0.5) == "running"
    assert r.finish(a.nonce, "done")["state"] == "done"
    assert admit(r, "sessionC1", "c" * 16).nonce  # the slot is free again
    stats = r.snapshot()["stats"]
    assert stats["admitted"] == 3 and stats["refused_busy"] == 1 and stats["refused_session"] == 1


def test_leases_free_the_slots_of_lost_jobs(backend):
    clock = Clock()
    r = JobRegistry(backend, max_jobs=3, seconds=60, clock=clock)
    never = admit(r, "sessionA1", "a" * 16).nonce
    queued = admit(r, "sessionB1", "b" * 16).nonce
    killed = admit(r, "sessionC1", "c" * 16).nonce
    r.claim(queued), r.claim(killed), r.start(killed)
    clock.t += reg.CLAIM_SECONDS + 1
    assert r.status(never)["state"] == "expired"
    clock.t += reg.HEARTBEAT_TIMEOUT
    lost = r.status(killed)
    assert lost["state"] == "failed" and "stopped answering" in lost["message"]
    assert r.status(queued)["state"] == "submitted"  # waiting for a worker is not lost yet
    clock.t += 60 + reg.QUEUE_GRACE
    assert "No worker" in r.status(queued)["message"]
    assert r.active() == 0


def test_a_running_job_past_its_hard_limit_is_timed_out(backend):
    clock = Clock()
    r = JobRegistry(backend, max_jobs=1, seconds=10, clock=clock)
    n = admit(r, "sessionA1").nonce
    r.claim(n), r.start(n), r.attach(n, "1234")
    for _ in range(5):  # it keeps beating, but runs too long
        clock.t += 9
        r.beat(n, 1, 1.0)
    entry = r.by_job("1234")
    assert entry["state"] == "timeout" and "time limit" in entry["message"]
    assert r.beat(n, 2, 1.0) == "timeout"  # the job learns it must stop


def test_cancel_only_ones_own_job(backend):
    r = JobRegistry(backend, max_jobs=2, seconds=60, clock=Clock())
    n = admit(r, "sessionA1").nonce
    assert r.cancel("sessionB1", n) is None
    assert r.cancel("sessionA1", n)["state"] == "cancelled"
    assert r.active() == 0


def test_finished_entries_are_pruned(backend, monkeypatch):
    monkeypatch.setattr(reg, "KEEP_ENTRIES", 5)
    clock = Clock()
    r = JobRegistry(backend, max_jobs=1, seconds=60, clock=clock)
    for i in range(12):
        n = admit(r, f"session{i:04d}", f"{i:016x}").nonce
        r.claim(n), r.start(n), r.finish(n, "done")
        clock.t += 1
    assert len(r.snapshot()["jobs"]) <= 5
    clock.t += reg.KEEP_SECONDS + 10
    assert r.snapshot()["jobs"] == {}


def test_artifacts_round_trip_and_refuse_keys_that_are_not_keys(tmp_path, redis_url):
    disk = Artifacts(tmp_path / "a", DiskBackend(tmp_path / "j"), keep=3)
    assert disk.get("../../etc/passwd") is None and disk.get(None) is None and not disk.has("x")
    for i in range(5):
        disk.put(f"{i:016x}", b"npz %d" % i)
    assert disk.get(f"{4:016x}") == b"npz 4" and len(list((tmp_path / "a").glob("lab-*.npz"))) == 3
    shared = RedisBackend(redis_url, prefix="test-art:")
    one, other = Artifacts(tmp_path / "one", shared), Artifacts(tmp_path / "other", shared)
    one.put("ab" * 8, b"bytes")
    assert other.get("ab" * 8) == b"bytes"  # through Redis: no disk in common
    assert (tmp_path / "other" / f"lab-{'ab' * 8}.npz").read_bytes() == b"bytes"
    assert shared.redis.ttl("test-art:artifact:" + "ab" * 8) > 0


def test_the_diskcache_stores_json_and_never_reads_a_pickle(tmp_path):
    import pickle

    cache = open_cache(tmp_path / "c")
    cache.set("x", {"a": [1, 2.5, "s"]})
    cache.set("b", b"\x00raw")
    assert cache.get("x") == {"a": [1, 2.5, "s"]} and cache.get("b") == b"\x00raw"
    raw = diskcache_raw(tmp_path / "c")
    assert raw and all(b"\x80" not in r for r in raw)  # no pickle protocol header in any stored value
    plain = __import__("diskcache").Cache(str(tmp_path / "c"))  # a writer that pickles
    plain.set("evil", {"a": 1})
    assert pickle.dumps({"a": 1})[:1] == b"\x80"
    with pytest.raises(ValueError, match="pickled"):
        open_cache(tmp_path / "c").get("evil")
    assert issubclass(JsonDisk, __import__("diskcache").Disk)


def diskcache_raw(directory) -> list[bytes]:
    import sqlite3

    with sqlite3.connect(directory / "cache.db") as db:
        return [bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode()
                for (v,) in db.execute("SELECT value FROM Cache WHERE value IS NOT NULL")]
