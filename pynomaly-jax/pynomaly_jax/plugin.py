"""Entry point of the JAX plugin (``pynomaly`` group, name ``jax``). Imports specs only, never jax."""

from __future__ import annotations

from pynomaly_core.deep.specs import detector_specs, mmd_spec
from pynomaly_core.hookspecs import hookimpl


@hookimpl
def register_detectors(register):
    for spec in detector_specs("pynomaly_jax", "JAX"):
        register(spec)


@hookimpl
def register_drift_tests(register):
    register(mmd_spec("pynomaly_jax.mmd:JaxMMDDrift", "JAX"))
