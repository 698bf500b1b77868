"""The JAX plugin passes the conformance kit (the detectors' quick presets keep it fast)."""

from pynomaly_core.testing import parametrize_plugin_checks


@parametrize_plugin_checks("jax")  # each detector's quick preset: few epochs
def test_jax_conformance(check):
    check()
