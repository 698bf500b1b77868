"""Benchmark of the TensorFlow AutoEncoder against PyOD's AutoEncoder and the torch backend's.

1. Throughput (run first, so the TensorFlow figures include a cold start): training samples per second (rows
   trained on × epochs run / fit wall time) of ``tf-default``, ``torch-default`` and ``pyod-default`` at their
   defaults, fitted in turn on the same data in each of several rounds; medians and ratios are reported.
   TensorFlow traces its compiled train/score functions on the first fit of an architecture (seconds) and reuses
   them afterwards: the first TensorFlow round (cold) is reported separately from the median (warm).
2. Accuracy: mean ROC-AUC over the ADBench sets of the same three configurations at their defaults (protocol,
   ``--seeds``, resumable ``--records``: see :mod:`_deep_autoencoder`, which runs both parts). Against PyOD the
   goal is also not to fall behind by more than 0.01.

Threads: torch runs with ``--torch-threads`` intra-op threads (default 1) for PyOD. TensorFlow runs with its
default thread pools (they are process-wide and fixed at start-up; ``TF_NUM_INTRAOP_THREADS`` changes them).
TensorFlow's one-time start-up in a fresh process is tracing; it lands in the first throughput round, which is
shown.

Run it niced, alone:
``nice python benchmarks/bench_tf_autoencoder.py [--quick] [--records r.jsonl] [--output o.json]``
(``--datasets a,b`` restricts the accuracy part).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _deep_autoencoder import Backend, run


def build(seed: int) -> Any:
    from pynomaly_tf.autoencoder import AutoEncoder

    return AutoEncoder(random_state=seed)


def banner() -> str:
    from pynomaly_tf.runtime import tf

    platform = "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
    threads = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    return f"tensorflow {tf.__version__} on {platform} (intra/inter-op threads {threads}, 0 = default)"


def main(argv: list[str] | None = None) -> int:
    goals = {"pyod-default": "|gap| <= 0.02, gap >= -0.01"}
    return run(Backend("tf", build, banner, __doc__, goals), argv)


if __name__ == "__main__":
    sys.exit(main())
