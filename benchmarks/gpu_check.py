"""Train and score every installed backend's AutoEncoder on the CPU and, when CUDA is visible, on the GPU.

Backends are the registered detectors named ``<plugin>.autoencoder`` with the ``gpu`` capability; by the
backends' shared design (``pynomaly_core/deep/design.py``) each takes ``device="cpu" | "cuda"`` and raises
``InputError`` for ``"cuda"`` when its framework sees no GPU, which this script reports as "no GPU".

Usage: ``python benchmarks/gpu_check.py [--rows 50000] [--features 32] [--epochs 5]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.registry import get_registry
from pynomaly_core.sdk import create_detector


def timed_run(name: str, device: str, train: np.ndarray, test: np.ndarray, epochs: int) -> tuple[float, float, Any]:
    """(fit seconds, scoring seconds, scores) of one seeded fit on ``device`` (no hold-out: equal work)."""
    detector = create_detector(name, device=device, epochs=epochs, validation_size=0.0, random_state=0)
    start = time.perf_counter()
    detector.fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.decision_function(test)
    return fit_s, time.perf_counter() - start, scores


def check(name: str, train: np.ndarray, test: np.ndarray, epochs: int) -> None:
    cpu_fit, cpu_score, cpu_scores = timed_run(name, "cpu", train, test, epochs)
    print(f"{name}: cpu  fit {cpu_fit:7.2f}s  score {cpu_score:6.2f}s")
    try:
        timed_run(name, "cuda", train[:512], test[:512], 1)  # warm-up: CUDA context and kernels
    except InputError as exc:
        print(f"{name}: no GPU ({exc})")
        return
    gpu_fit, gpu_score, gpu_scores = timed_run(name, "cuda", train, test, epochs)
    agreement = np.corrcoef(cpu_scores, gpu_scores)[0, 1]
    print(f"{name}: cuda fit {gpu_fit:7.2f}s  score {gpu_score:6.2f}s  speed-up fit {cpu_fit / gpu_fit:.1f}x, "
          f"score {cpu_score / gpu_score:.1f}x  (score correlation cpu/gpu {agreement:.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    names = [spec.qualified_name for spec in get_registry().detectors()
             if spec.name == "autoencoder" and "gpu" in spec.capabilities]
    if not names:
        print("no backend with a GPU-capable autoencoder is installed")
        return 1
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(args.features, args.features))
    train = rng.normal(size=(args.rows, args.features)) @ mixing
    test = rng.normal(size=(4 * args.rows, args.features)) @ mixing
    print(f"{args.rows} training rows, {test.shape[0]} scored rows, {args.features} features, {args.epochs} epochs")
    for name in names:
        check(name, train, test, args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
