"""The conformance kit for plugin authors.

``check_detector``, ``check_loader``, ``check_explainer`` and ``check_drift_test`` each run a battery of checks
and raise ``AssertionError`` naming the first that fails. In a plugin's test file::

    from pynomaly_core.testing import parametrize_plugin_checks

    @parametrize_plugin_checks("myplugin")
    def test_conformance(check):
        check()

gives one test per (contribution, check). The pytest plugin (installed with pynomaly) also provides the
``pynomaly_registry`` fixture (an isolated registry for in-test plugins) and ``pynomaly_cli`` (the CLI run
in-process). Deep-learning backends can also reuse the shared tests of :mod:`pynomaly_core.testing.deep_checks`
(import it directly: it is not loaded from here).
"""

from pynomaly_core.testing.checks import (
    DETECTOR_CHECKS,
    HEAVY_MODULES,
    check_detector,
    check_drift_test,
    check_explainer,
    check_loader,
    check_loader_batches,
    check_registration_is_light,
    plugin_checks,
)


def parametrize_plugin_checks(plugin: str, params=None, skip=None):
    """``pytest.mark.parametrize("check", ...)`` over every check of every contribution of ``plugin``.

    ``params``: ``{"plugin.detector": {constructor overrides}}`` (e.g. fewer epochs in tests);
    ``skip``: ``{"plugin.detector::check": "reason"}`` for checks a contribution cannot pass, with the reason.
    """
    import pytest

    checks = plugin_checks(plugin, params=params, skip=skip)
    return pytest.mark.parametrize("check", [c for _, c in checks], ids=[i for i, _ in checks])


__all__ = [
    "DETECTOR_CHECKS",
    "HEAVY_MODULES",
    "check_detector",
    "check_drift_test",
    "check_explainer",
    "check_loader",
    "check_loader_batches",
    "check_registration_is_light",
    "parametrize_plugin_checks",
    "plugin_checks",
]
