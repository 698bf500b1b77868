"""Real processes against one model store, on SQLite and on PostgreSQL: concurrent registrations of one name get
distinct consecutive versions; a process killed (SIGKILL) inside its artefact write leaves no visible version,
does not block the next registration, and ``cleanup`` removes what it left."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import numpy as np
import pytest

from pynomaly_core.modelstore import ModelNotFoundError

from .modelstore_support import backend_fixture, blocking_register_worker, fitted_hbos, register_worker, training_data

backend = backend_fixture()
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")
FORK = multiprocessing.get_context("fork")
PROCESSES, EACH = 4, 3


def start_blocked_writer(backend, name, signal_path, results=None):
    """A process registering ``name`` that is blocked inside its artefact write once this returns."""
    worker = FORK.Process(target=blocking_register_worker,
                          args=(*backend.args(), name, str(signal_path), results))
    worker.start()
    deadline = time.monotonic() + 60
    while not signal_path.exists():
        assert worker.is_alive(), f"worker died early (exit code {worker.exitcode})"
        assert time.monotonic() < deadline, "worker never reached the artefact write"
        time.sleep(0.02)
    return worker


def fitted_sha(seed: int) -> str:
    from pynomaly_core.modelstore import fingerprint

    return fingerprint(training_data(seed))["sha256"]


def test_concurrent_processes_get_distinct_consecutive_versions(backend):
    barrier, results = FORK.Barrier(PROCESSES), FORK.Queue()
    workers = [FORK.Process(target=register_worker, args=(*backend.args(), "shared", EACH, seed, barrier, results))
               for seed in range(PROCESSES)]
    for worker in workers:  # all open a model store that does not exist yet: the migration itself is concurrent
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert [error for _, _, error in outcomes if error] == []
    per_process = {seed: versions for seed, versions, _ in outcomes}
    assert all(versions == sorted(versions) and len(versions) == EACH for versions in per_process.values())
    everything = sorted(v for versions in per_process.values() for v in versions)
    assert everything == list(range(1, PROCESSES * EACH + 1))
    store = backend.store()
    listed = store.list("shared")
    assert [v.version for v in listed] == everything[::-1]
    assert len({v.path for v in listed}) == len(listed) and all(v.path.is_dir() for v in listed)
    assert store.unfinished() == []
    by_seed = {}
    for v in listed:  # every version holds the model its process fitted
        by_seed.setdefault(v.fingerprint["sha256"], []).append(v.version)
    assert sorted(len(vs) for vs in by_seed.values()) == [EACH] * PROCESSES
    data = training_data(0)
    for version in by_seed[fitted_sha(0)]:
        np.testing.assert_array_equal(store.load("shared", version).decision_function(data),
                                      fitted_hbos(0).decision_function(data))


def test_process_killed_mid_save_leaves_no_version_and_cleanup_removes_leftovers(backend, tmp_path):
    store = backend.store()
    first = store.register("crashy", fitted_hbos(0))
    signal_path = tmp_path / "blocked-in-save"
    worker = start_blocked_writer(backend, "crashy", signal_path)
    staging_model = signal_path.read_text()
    assert os.path.isfile(os.path.join(staging_model, "half-written.bin"))
    # While the writer is alive and young, its pending version is not stale and is invisible to readers.
    assert store.cleanup() == []
    assert [(row["ref"], row["status"]) for row in store.unfinished()] == [("crashy@2", "pending")]
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(30)
    assert worker.exitcode == -signal.SIGKILL

    assert [v.ref for v in store.list()] == ["crashy@1"]
    assert store.get("crashy") == first
    with pytest.raises(ModelNotFoundError, match=r"model 'crashy' has no version 2; versions: 1"):
        store.get("crashy", 2)
    assert list((backend.home / "staging").iterdir()) != []  # the killed process's half-written artefacts

    third = store.register("crashy", fitted_hbos(3))  # the next registration is not blocked
    assert third.version == 3 and store.get("crashy") == third
    assert store.cleanup() == ["crashy@2 (pending)"]
    assert store.unfinished() == [] and store.cleanup() == []
    assert list((backend.home / "staging").iterdir()) == []
    assert sorted(p.name for p in (backend.home / "models" / "crashy").iterdir()) == sorted(
        [first.path.name, third.path.name])
    assert [v.ref for v in store.list()] == ["crashy@3", "crashy@1"]
    store.load("crashy", 1)


def test_cleanup_of_a_live_but_expired_save_wins_over_its_writer(backend, tmp_path):
    store = backend.store()
    signal_path, results = tmp_path / "blocked", FORK.Queue()
    worker = start_blocked_writer(backend, "slow", signal_path, results)
    assert store.cleanup() == []  # alive and young: left alone
    assert store.cleanup(max_age_s=0) == ["slow@1 (pending)"]  # older than max_age: claimed and removed
    signal_path.with_suffix(".release").touch()
    outcome = results.get(timeout=60)
    worker.join(30)
    assert outcome.startswith("ModelStoreError: ") and "slow@1" in outcome
    assert store.list() == [] and store.unfinished() == []
    assert list((backend.home / "staging").iterdir()) == []
    assert store.register("slow", fitted_hbos()).version == 2
