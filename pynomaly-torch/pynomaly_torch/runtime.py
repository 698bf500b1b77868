"""Torch runtime: device selection, the CPU thread count, and the seeded context of a fit.

On the CPU, fits and scoring run torch with one intra-op thread (restored afterwards): the networks are small,
so a second thread buys nothing and, on a shared machine, makes every step wait for a busy core (10-100x
slower); one thread also makes results independent of the machine's core count.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from pynomaly_core.errors import InputError


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → the first CUDA device when torch sees one, else the CPU; other names must be available."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r} requested but torch sees no CUDA device (use device='auto' or 'cpu')")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {name!r} requested but MPS is not available (use device='auto' or 'cpu')")
    return device


@contextmanager
def cpu_threads(device: torch.device, n_threads: int = 1) -> Iterator[None]:
    """Run torch with ``n_threads`` intra-op threads while on the CPU; restore the caller's setting after."""
    previous = torch.get_num_threads()
    if device.type != "cpu" or previous == n_threads:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for one fit without touching the caller's RNG state.

    The global torch RNG (weight init, dropout, VAE noise) is forked and restored afterwards; NumPy randomness
    (hold-out and batch order) uses a local ``Generator`` from the same seed, so the global NumPy state is never
    used either. On the CPU that is enough for bit-identical runs: every op the detectors use has a
    deterministic CPU kernel and :func:`cpu_threads` fixes the thread count, so
    ``torch.use_deterministic_algorithms`` is not needed (and calling it imports torch's compiler stack, seconds
    on the first fit). GPU runs are seeded the same way but may differ in the last bits: for bit-identical CUDA
    runs set ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` and ``torch.use_deterministic_algorithms(True)`` yourself.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
