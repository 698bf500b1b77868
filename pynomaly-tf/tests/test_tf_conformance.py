"""The TensorFlow plugin passes the conformance kit (the detectors' quick presets keep it fast)."""

from pynomaly_core.testing import parametrize_plugin_checks


@parametrize_plugin_checks("tf")  # each detector's quick preset: few epochs
def test_tf_conformance(check):
    check()
