"""Entry point of the TensorFlow plugin (``pynomaly`` group, name ``tf``). Imports specs only, never TensorFlow."""

from __future__ import annotations

from pynomaly_core.deep.design import PARAMS
from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec, DriftTestSpec

_CAPABILITIES = {"save", "deterministic_with_seed", "gpu", "progress"}


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="autoencoder",
        summary="Dense autoencoder (TensorFlow/Keras): squared reconstruction error of standardised rows.",
        target="pynomaly_tf.autoencoder:AutoEncoder",
        params=PARAMS["autoencoder"],
        capabilities=_CAPABILITIES,
    ))
    register(DetectorSpec(
        name="vae",
        summary="Variational autoencoder (TensorFlow/Keras): reconstruction error of the decoded posterior mean.",
        target="pynomaly_tf.vae:VAE",
        params=PARAMS["vae"],
        capabilities=_CAPABILITIES,
    ))
    register(DetectorSpec(
        name="deep_svdd",
        summary="Deep SVDD (TensorFlow/Keras): squared distance to a hypersphere centre in a learned representation.",
        target="pynomaly_tf.deep_svdd:DeepSVDD",
        params=PARAMS["deep_svdd"],
        capabilities=_CAPABILITIES,
    ))


@hookimpl
def register_drift_tests(register):
    register(DriftTestSpec(
        name="mmd",
        summary="Kernel MMD two-sample test computed with TensorFlow (float64), same permutations as builtin.mmd.",
        target="pynomaly_tf.mmd:TFMMDDrift",
        params={"alpha": 0.05, "n_permutations": 200, "bandwidth": None, "random_state": 0, "device": "cpu"},
        capabilities={"deterministic_with_seed", "gpu"},
    ))
