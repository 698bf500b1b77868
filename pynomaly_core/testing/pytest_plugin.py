"""pytest plugin of pynomaly (entry point ``pytest11``): fixtures for plugin authors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Detailed assertion messages from the deep-backend check kit (it must not be imported before this line).
pytest.register_assert_rewrite("pynomaly_core.testing.deep_checks")


@pytest.fixture
def pynomaly_registry() -> Iterator[object]:
    """An isolated registry holding only the built-in plugin, installed process-wide for the test.

    Add in-test plugins with ``pynomaly_registry.add_plugin(module_or_object, name="mine")``.
    """
    from pynomaly_core.plugins import builtin_source
    from pynomaly_core.registry import Registry, set_registry

    registry = Registry.from_sources([builtin_source()])
    previous = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(previous)


@pytest.fixture
def pynomaly_cli(capsys: pytest.CaptureFixture[str]) -> object:
    """Run the ``pynomaly`` CLI in-process: ``code, out, err = pynomaly_cli("detect", path, "--json")``."""
    from pynomaly_core.testing.cli import in_process_cli

    return in_process_cli(capsys)
