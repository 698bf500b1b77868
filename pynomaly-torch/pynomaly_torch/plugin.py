"""Entry point of the PyTorch plugin (``pynomaly`` group, name ``torch``). Imports specs only, never torch."""

from __future__ import annotations

from pynomaly_core.deep.specs import detector_specs, mmd_spec
from pynomaly_core.hookspecs import hookimpl


@hookimpl
def register_detectors(register):
    for spec in detector_specs("pynomaly_torch", "PyTorch"):
        register(spec)


@hookimpl
def register_drift_tests(register):
    register(mmd_spec("pynomaly_torch.mmd:TorchMMDDrift", "PyTorch"))
