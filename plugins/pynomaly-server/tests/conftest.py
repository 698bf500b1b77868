"""Fixtures of the server tests: one real uvicorn server per session, with a key per role."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from server_testkit import Server, start_server, stop_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from pynomaly_server.keys import KeyStore

    home = tmp_path_factory.mktemp("server-home")
    store = KeyStore(f"sqlite:///{home / 'server.db'}")
    keys = {role: store.create(role, name=f"test {role}", actor="test")[1] for role in ("read", "score", "admin")}
    store.close()
    running = start_server(home)
    running.keys = keys
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """300 standard-normal training rows (3 features) and 20 test rows whose row 0 is far out in feature 2."""
    rng = np.random.default_rng(11)
    test = rng.normal(size=(20, 3))
    test[0, 2] = 12.0
    return rng.normal(size=(300, 3)), test
