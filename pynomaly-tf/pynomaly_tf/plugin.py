"""Entry point of the TensorFlow plugin (``pynomaly`` group, name ``tf``). Imports specs only, never TensorFlow."""

from __future__ import annotations

from pynomaly_core.deep.specs import detector_specs, mmd_spec
from pynomaly_core.hookspecs import hookimpl


@hookimpl
def register_detectors(register):
    for spec in detector_specs("pynomaly_tf", "TensorFlow/Keras"):
        register(spec)


@hookimpl
def register_drift_tests(register):
    register(mmd_spec("pynomaly_tf.mmd:TFMMDDrift", "TensorFlow"))
