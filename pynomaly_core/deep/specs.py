"""The registry specs of the deep detectors and the MMD drift test, the same in every backend but for the code path.

Pure Python, like :mod:`pynomaly_core.deep.design`: a backend's plugin module registers these without importing its
framework.
"""

from __future__ import annotations

from pynomaly_core.deep.design import PARAMS
from pynomaly_core.specs import DetectorSpec, DriftTestSpec

CAPABILITIES = frozenset({"save", "deterministic_with_seed", "gpu", "progress", "float32"})
#: Few epochs and large batches: the conformance kit and scikit-learn's checks stay fast (see ``quick`` in
#: :data:`pynomaly_core.specs.PRESETS`).
QUICK = {"epochs": 5, "batch_size": 64}

#: Detector name → (class name in ``<package>.<name>``, summary with ``{framework}`` to fill in).
_DETECTORS = {
    "autoencoder": ("AutoEncoder", "Dense autoencoder ({framework}): squared reconstruction error of standardised "
                                   "rows."),
    "vae": ("VAE", "Variational autoencoder ({framework}): reconstruction error of the decoded posterior mean."),
    "deep_svdd": ("DeepSVDD", "Deep SVDD ({framework}): squared distance to a hypersphere centre in a learned "
                              "representation."),
}


def detector_specs(package: str, framework: str) -> list[DetectorSpec]:
    """AutoEncoder, VAE and DeepSVDD of the backend whose import package is ``package`` (e.g. ``pynomaly_torch``)."""
    return [
        DetectorSpec(name=name, summary=summary.format(framework=framework), target=f"{package}.{name}:{cls}",
                     params=PARAMS[name], capabilities=CAPABILITIES, presets={"quick": QUICK})
        for name, (cls, summary) in _DETECTORS.items()
    ]


def mmd_spec(target: str, framework: str) -> DriftTestSpec:
    """The backend's MMD drift test (``target``: its class), with the parameters of ``builtin.mmd`` plus ``device``."""
    return DriftTestSpec(
        name="mmd",
        summary=f"Kernel MMD two-sample test computed with {framework} (float64), same permutations as builtin.mmd.",
        target=target,
        params={"alpha": 0.05, "n_permutations": 200, "bandwidth": None, "random_state": 0, "device": "cpu"},
        capabilities={"deterministic_with_seed", "gpu"},
    )
