"""Every MLflow test logs under its own temporary folder: nothing lands in ``./mlruns`` of the checkout."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _tracking_outside_the_checkout(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'default.db'}")
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _in_a_temporary_folder(tmp_path, monkeypatch):
    """A database tracking store puts artefacts under ``./mlruns`` of the working directory: make that a temp one."""
    monkeypatch.chdir(tmp_path)
