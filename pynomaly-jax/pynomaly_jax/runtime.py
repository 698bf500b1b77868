"""JAX runtime: device selection and names, PRNG keys from seeds, and the scoped float64 switch.

Nothing here changes JAX's global configuration: float64 is switched on only inside :func:`float64` (a
thread-local context), and the device is passed explicitly to every array a fit or a test creates.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

import jax

from pynomaly_core.errors import InputError

_CUDA_RE = re.compile(r"^cuda(?::(\d+))?$")


def resolve_device(name: str) -> Any:
    """A ``jax.Device`` for a device name of the torch backend's grammar.

    ``"auto"`` → the first device of JAX's default backend (a GPU when the CUDA/ROCm jaxlib sees one, else the
    CPU); ``"cpu"``; ``"cuda"`` / ``"cuda:N"`` → the N-th GPU; ``"mps"`` → the Apple GPU of jax-metal.
    """
    if name == "auto":
        return jax.devices()[0]
    if name == "cpu":
        return jax.devices("cpu")[0]
    match = _CUDA_RE.match(name) if isinstance(name, str) else None
    if match is not None:
        gpus = _devices("gpu")
        index = int(match.group(1) or 0)
        if not gpus:
            raise InputError(f"device {name!r} requested but JAX sees no CUDA device (use device='auto' or 'cpu')")
        if index >= len(gpus):
            raise InputError(f"device {name!r} requested but JAX sees only {len(gpus)} GPU(s)")
        return gpus[index]
    if name == "mps":
        metal = _devices("METAL")
        if not metal:
            raise InputError(f"device {name!r} requested but JAX sees no Metal device (use device='auto' or 'cpu')")
        return metal[0]
    raise InputError(f"device must be 'cpu', 'auto', 'cuda', 'cuda:N' or 'mps', got {name!r}")


def device_name(device: Any) -> str:
    """A ``jax.Device`` by name, ``"<platform>:<id>"`` (``"cpu:0"``, ``"gpu:1"``): what a pickle keeps of it."""
    return f"{device.platform}:{device.id}"


def device_by_name(name: str) -> Any | None:
    """The device :func:`device_name` named, or ``None`` where this process has no such device."""
    platform, _, number = name.rpartition(":")
    return next((d for d in _devices(platform) if str(d.id) == number), None)


def _devices(backend: str) -> list[Any]:
    try:
        return list(jax.devices(backend))
    except RuntimeError:  # that backend is not installed or not initialised
        return []


def key_from_seed(seed: int) -> jax.Array:
    """The PRNG key of a fit (dropout masks, VAE noise) from a seed of up to 64 bits.

    The ``rbg`` implementation draws bits with XLA's RngBitGenerator: on a CPU it trains about twice as fast with
    dropout as the default threefry and compiles faster. Its streams are fixed for a JAX version and backend
    (so a seed gives bit-identical fits there) but, unlike threefry's, may change between JAX releases. The
    choice is made per key: JAX's global default is not touched.
    """
    key = jax.random.key(seed & 0xFFFFFFFF, impl="rbg")
    return jax.random.fold_in(key, seed >> 32) if seed >> 32 else key


def float64() -> AbstractContextManager:
    """A context in which JAX computes in float64; the caller's setting is back on exit (thread-local)."""
    enable = getattr(jax, "enable_x64", None)
    if enable is not None:
        return enable(True)
    from jax.experimental import enable_x64  # JAX < 0.6

    return enable_x64()
