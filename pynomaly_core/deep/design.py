"""Backend-neutral design of the deep detectors: parameters, defaults and architecture (pure Python).

Every backend (pynomaly-torch, pynomaly-tf, pynomaly-jax) builds its networks from this module and trains with
:mod:`pynomaly_core.deep.training`, so that one parameter set means one model whatever the framework. Importing it
imports no framework (the plugins' specs take their defaults from here).

Architecture (``d`` = number of features, ``widths`` = :func:`hidden_layer_sizes`, last width = the code):

* **Input scaling** (inside the detector, fitted on the training rows, saved with the model): ``(x - mean) / std``
  per feature; a constant feature gets ``std = 1``. Computation in float32; scores are returned as float64.
* **Dense block**: ``Linear(in, out)`` → [``BatchNorm`` when ``batch_norm``] → ``ReLU`` → [``Dropout(dropout)``
  when ``dropout > 0``]. Weights He-uniform (``U(±sqrt(6 / fan_in))``), biases zero.
* **autoencoder**: encoder = one dense block per width; decoder = one dense block per width of
  ``reversed(widths[:-1])`` then ``Linear(·, d)``. Shapes ``[d, *widths, *reversed(widths[:-1]), d]``.
  Loss: mean squared error over the batch's cells. Score: sum over features of the squared reconstruction error.
* **vae**: encoder = dense blocks for ``widths[:-1]``, then two linear heads of size ``widths[-1]`` (mean and
  log-variance, clamped to [-10, 10]); decoder as the autoencoder's. Loss per row: sum of squared
  reconstruction errors + ``beta`` · KL(q(z|x) ‖ N(0, I)), averaged over the batch; training samples
  ``z = mean + exp(logvar / 2) · eps``. Score: squared reconstruction error of the decoded mean (no sampling).
* **deep_svdd** (Ruff et al., 2018): bias-free dense blocks for ``widths[:-1]`` then a bias-free
  ``Linear(·, widths[-1])``; no batch norm (both would allow the trivial collapsed solution). The centre ``c`` is
  the mean representation of the training rows under the initial weights, with ``|c_j| < 0.1`` pushed to
  ``±0.1``. Loss: mean ``‖φ(x) − c‖²``; score: ``‖φ(x) − c‖²``.

Training (see :mod:`pynomaly_core.deep.training`): Adam (``learning_rate``, β = (0.9, 0.999), eps 1e-8, L2
``weight_decay`` added to the gradient as in ``torch.optim.Adam``; each backend writes the update out itself),
mini-batches of ``batch_size`` drawn from a seeded permutation each epoch, up to ``epochs``
epochs; when ``validation_size > 0`` a seeded hold-out of that fraction is scored after each epoch and training
stops after ``patience`` epochs without a relative improvement of :data:`MIN_RELATIVE_IMPROVEMENT`, restoring
the best epoch's weights. Scoring runs in batches of :data:`SCORE_BATCH_SIZE` rows (memory bounded by one batch).
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from pynomaly_core.errors import InputError

#: Rows scored at once: bounds the memory of scoring to one batch, whatever the input size.
SCORE_BATCH_SIZE = 4096
#: A validation loss counts as better than the best so far when below ``best · (1 − this)``.
MIN_RELATIVE_IMPROVEMENT = 1e-4
#: Deep SVDD: centre coordinates closer to zero than this are pushed to ±this (Ruff et al.).
CENTER_EPS = 0.1
#: Widths of the derived architecture: first layer = ``d`` rounded up to a power of two within these bounds.
MIN_WIDTH, MAX_WIDTH = 64, 128

#: Defaults chosen on ADBench (see benchmarks/bench_torch_autoencoder.py): batches of 128 with batch norm reach
#: PyOD's accuracy at several times its speed. Early stopping is opt-in (``validation_size=0.1`` turns it on): a
#: lower validation reconstruction loss does not mean a better anomaly ranking, and stopping on it cost accuracy
#: (ADBench http: ROC-AUC 0.55 with batches of 256, 30 epochs, validation 0.1, patience 3; 0.99 with these).
_COMMON = {
    "hidden_layers": None,
    "batch_size": 128,
    "epochs": 20,
    "learning_rate": 1e-3,
    "weight_decay": 1e-5,
    "validation_size": 0.0,
    "patience": 3,
    "contamination": 0.1,
    "device": "cpu",
    "verbose": False,
    "random_state": None,
}

#: Constructor parameters and their defaults, per detector (the specs and the classes both use these).
PARAMS: dict[str, dict[str, Any]] = {
    "autoencoder": {**_COMMON, "dropout": 0.2, "batch_norm": True},
    "vae": {**_COMMON, "dropout": 0.0, "batch_norm": False, "beta": 1.0},
    "deep_svdd": {**_COMMON, "dropout": 0.0},
}

_DEVICE_RE = re.compile(r"^(cpu|auto|mps|cuda(:\d+)?)$")


def hidden_layer_sizes(n_features: int, hidden_layers: list[int] | None = None) -> list[int]:
    """Encoder widths (the last is the code size): ``hidden_layers`` as given, or derived from ``n_features``.

    Derived: ``[w, w // 2]`` with ``w = clamp(next power of two ≥ n_features, 64, 128)``: ``[64, 32]`` up to 64
    features (PyOD's default), ``[128, 64]`` above. Narrower layers for few features ([8, 4] for 3) lowered the
    mean ADBench ROC-AUC, and wider ones than 128 did not raise it.

    >>> hidden_layer_sizes(3), hidden_layer_sizes(64), hidden_layer_sizes(100), hidden_layer_sizes(5, [4, 2])
    ([64, 32], [64, 32], [128, 64], [4, 2])
    """
    if hidden_layers is not None:
        return [int(w) for w in hidden_layers]
    width = min(MAX_WIDTH, max(MIN_WIDTH, 2 ** math.ceil(math.log2(max(n_features, 1)))))
    return [width, width // 2]


def check_params(detector: str, params: dict[str, Any]) -> None:
    """Raise :class:`InputError` (one line, naming the detector and parameter) for an invalid value."""
    def fail(name: str, expected: str) -> None:
        raise InputError(f"{detector}: {name} must be {expected}, got {params[name]!r}")

    def is_int(value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    def is_number(value: Any) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)

    layers = params.get("hidden_layers")
    if layers is not None and (
        not isinstance(layers, list | tuple) or not layers or not all(is_int(w) and w > 0 for w in layers)
    ):
        fail("hidden_layers", "null or a non-empty list of positive integers")
    for name in ("batch_size", "epochs", "patience"):
        if not is_int(params[name]) or params[name] < 1:
            fail(name, "a positive integer")
    if not is_number(params["learning_rate"]) or params["learning_rate"] <= 0:
        fail("learning_rate", "a positive number")
    if not is_number(params["weight_decay"]) or params["weight_decay"] < 0:
        fail("weight_decay", "a non-negative number")
    if not is_number(params["validation_size"]) or not 0 <= params["validation_size"] < 1:
        fail("validation_size", "in [0, 1)")
    if "dropout" in params and (not is_number(params["dropout"]) or not 0 <= params["dropout"] < 1):
        fail("dropout", "in [0, 1)")
    if "beta" in params and (not is_number(params["beta"]) or params["beta"] < 0):
        fail("beta", "a non-negative number")
    for name in ("verbose", "batch_norm"):
        if name in params and not isinstance(params[name], bool):
            fail(name, "true or false")
    if not isinstance(params["device"], str) or not _DEVICE_RE.match(params["device"]):
        fail("device", "'cpu', 'auto', 'cuda', 'cuda:N' or 'mps'")
    seed = params["random_state"]
    if seed is not None and (not is_int(seed) or seed < 0):
        fail("random_state", "null or a non-negative integer")
