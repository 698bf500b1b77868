"""Benchmark of the JAX AutoEncoder against PyOD's AutoEncoder and the torch backend's.

1. Throughput (run first, so the JAX figures include a cold start): training samples per second (rows trained on
   × epochs run / fit wall time) of ``jax-default``, ``torch-default`` and ``pyod-default`` at their defaults,
   fitted in turn on the same data in each of several rounds; medians and ratios are reported. JAX compiles its
   training program on the first fit of a shape (seconds on a CPU) and reuses it afterwards: the first JAX round
   (cold) is reported separately from the median (warm).
2. Accuracy: mean ROC-AUC over the ADBench sets of the same three configurations at their defaults (protocol,
   ``--seeds``, resumable ``--records``: see :mod:`_deep_autoencoder`, which runs both parts).

Threads: torch runs with ``--torch-threads`` intra-op threads (default 1) for PyOD; JAX runs with XLA's defaults.
JAX's one-time start-up in a fresh process is compiling; it lands in the first throughput round, which is shown.

Run it niced, alone:
``nice python benchmarks/bench_jax_autoencoder.py [--quick] [--records r.jsonl] [--output o.json]``
(``--datasets a,b`` restricts the accuracy part).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _deep_autoencoder import Backend, run


def build(seed: int) -> Any:
    from pynomaly_jax.autoencoder import AutoEncoder

    return AutoEncoder(random_state=seed)


def banner() -> str:
    import jax

    return f"jax {jax.__version__} on {jax.devices()[0].platform}"


def main(argv: list[str] | None = None) -> int:
    return run(Backend("jax", build, banner, __doc__), argv)


if __name__ == "__main__":
    sys.exit(main())
