"""Shared helpers of the model-store tests: a model store on SQLite or on the real PostgreSQL server (each test
in a schema of its own, dropped afterwards), and the worker processes of the concurrency and crash tests."""

from __future__ import annotations

import functools
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pynomaly_core.builtin.hbos import HBOS

POSTGRES_URL = os.environ.get("PYNOMALY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@functools.lru_cache(maxsize=1)
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for the tests (``None``: it can)."""
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # driver missing, server down, …
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@dataclass
class Backend:
    """A model store location for one test: database URL, schema (PostgreSQL) and artefact home."""

    kind: str
    url: str
    home: Path
    schema: str | None = None
    stores: list[Any] = field(default_factory=list)

    def store(self) -> Any:
        from pynomaly_core.modelstore import ModelStore

        store = ModelStore(url=self.url, home=self.home, schema=self.schema)
        self.stores.append(store)
        return store

    def env(self) -> dict[str, str]:
        env = {"PYNOMALY_HOME": str(self.home), "PYNOMALY_DATABASE_URL": self.url}
        if self.schema:
            env["PYNOMALY_DATABASE_SCHEMA"] = self.schema
        return env

    def args(self) -> tuple[str, Path, str | None]:
        return self.url, self.home, self.schema


def make_backend(kind: str, tmp_path: Path) -> Backend:
    if kind == "sqlite":
        return Backend(kind, f"sqlite:///{(tmp_path / 'store.db').as_posix()}", tmp_path / "home")
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} not usable: {problem}")
    return Backend(kind, POSTGRES_URL, tmp_path / "home", schema=f"pynomaly_test_{uuid.uuid4().hex[:12]}")


def drop_backend(backend: Backend) -> None:
    for store in backend.stores:
        store.close()
    if backend.schema is None:
        return
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{backend.schema}" CASCADE'))
    engine.dispose()


def backend_fixture() -> Any:
    """The ``backend`` fixture (a test module binds it with ``backend = backend_fixture()``): each test runs once
    on SQLite and once on PostgreSQL."""

    @pytest.fixture(params=BACKENDS)
    def backend(request: pytest.FixtureRequest, tmp_path: Path):
        made = make_backend(request.param, tmp_path)
        try:
            yield made
        finally:
            drop_backend(made)

    return backend


def training_data(seed: int = 0, rows: int = 200, columns: tuple[str, ...] = ("a", "b", "c")) -> Any:
    from pynomaly_core.data import NamedArray

    return NamedArray(np.random.default_rng(seed).normal(size=(rows, len(columns))), list(columns))


def fitted_hbos(seed: int = 0) -> HBOS:
    return HBOS(n_bins=8).fit(training_data(seed))


class BlockingHBOS(HBOS):
    """HBOS whose save writes part of its artefacts, signals through ``signal_path``, then blocks (test only):
    the crash test kills the process while it is stuck inside the artefact write."""

    qualified_name = "builtin.hbos"
    signal_path: str = ""

    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        written = super()._save_artefacts(directory)
        (directory / "half-written.bin").write_bytes(b"\0" * 4096)
        ready = Path(self.signal_path)
        ready.with_suffix(".tmp").write_text(str(directory))
        os.replace(ready.with_suffix(".tmp"), ready)
        release = ready.with_suffix(".release")
        deadline = time.monotonic() + 300
        while not release.exists() and time.monotonic() < deadline:  # until killed or released
            time.sleep(0.02)
        return written


class FailingHBOS(HBOS):
    """HBOS whose save fails half-way (an ordinary exception, not a crash)."""

    qualified_name = "builtin.hbos"

    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        super()._save_artefacts(directory)
        raise OSError("disk full (simulated)")


def register_worker(url: str, home: Path, schema: str | None, name: str, count: int, seed: int,
                    barrier: Any, results: Any) -> None:
    """Child process: open the model store, wait for the others, register ``count`` versions of ``name``."""
    from pynomaly_core.modelstore import ModelStore, fingerprint

    try:
        store = ModelStore(url=url, home=home, schema=schema)
        data = training_data(seed)
        model = HBOS(n_bins=8).fit(data)
        barrier.wait(timeout=60)
        versions = [store.register(name, model, data_fingerprint=fingerprint(data)).version for _ in range(count)]
        store.close()
        results.put((seed, versions, None))
    except BaseException as exc:
        results.put((seed, [], f"{type(exc).__name__}: {exc}"))


def blocking_register_worker(url: str, home: Path, schema: str | None, name: str, signal_path: str,
                             results: Any = None) -> None:
    """Child process: register a model whose artefact write blocks until the test kills or releases it."""
    from pynomaly_core.modelstore import ModelStore

    store = ModelStore(url=url, home=home, schema=schema)
    model = BlockingHBOS(n_bins=8).fit(training_data(1))
    model.signal_path = signal_path
    try:
        outcome = store.register(name, model).ref
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    if results is not None:
        results.put(outcome)
