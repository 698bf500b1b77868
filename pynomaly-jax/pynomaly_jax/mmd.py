"""``jax.mmd``: the core's MMD drift test with the kernel matrix and permutation statistics in JAX (float64).

Same computation as :mod:`pynomaly_core.builtin.mmd_drift` (unbiased MMD², Gaussian kernel, median-heuristic
bandwidth, permutations from ``permutation_indices``), so on the same data and seed the statistic agrees to
rounding and so do the p-values. Permutations are evaluated in chunks as ``W K Wᵀ`` products with 0/1 group
indicators ``W`` instead of re-indexing the kernel matrix once per permutation (as in ``torch.mmd``).

Division of labour: the bandwidth and the scaled squared distances ``‖a − b‖² / (2σ²)`` come from the reference's
own NumPy functions (O(n²·d)); the kernel and every statistic (the O(permutations·n²) part, where the time goes)
are computed with JAX. Both steps of the first part are rounding-sensitive on degenerate data, and the reference
is the definition: with repeated rows, whether two equal rows are at distance exactly 0 or at a rounding residue of
``|a|² + |b|² − 2a·b`` depends on the matrix-product kernel (OpenBLAS for NumPy, Eigen for XLA, which also fuses a
one-feature product into a multiply-add), and the median heuristic counts a residue as a positive distance; and
XLA on a CPU flushes subnormal numbers to zero, so distances of tiny values would vanish. Either would change the
bandwidth, and with it the statistic, on such data.

Float64: JAX computes in float32 unless x64 is enabled. The test runs inside :func:`pynomaly_jax.runtime.float64`
(``jax.enable_x64(True)`` as a context manager): float64 holds for the arrays created during the test only, and
the caller's setting (normally float32) is back when ``run`` returns; the global ``jax_enable_x64`` flag is never
flipped.

Compilation: the two programs (the kernel; the statistics of a chunk of permutations) are jit-compiled for
the pooled size rounded up to a power of two, with the padding rows masked out, so a new sample size rarely
compiles anything. The observed statistic is row 0 of the first chunk (the identity permutation).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from pynomaly_core.builtin.mmd_drift import MMDDrift, median_bandwidth, pairwise_sq_dists, permutation_indices
from pynomaly_core.errors import InputError
from pynomaly_jax.runtime import float64, resolve_device

#: Permuted statistics within this of the observed one are ties and count as "at least as large" (rounding
#: differs between the observed and a permuted sum of the same kernel entries).
TIE_TOLERANCE = 1e-10
#: Indicator rows evaluated at once are limited to about this many matrix entries (bounded memory).
_CHUNK_ENTRIES = 1 << 22
#: The pooled sample is padded to a power of two rows, at least this many (fewer compiled shapes).
MIN_POOLED_ROWS = 32


@jax.jit
def gaussian_kernel(scaled_sq: jax.Array) -> jax.Array:
    """``exp(−‖a − b‖² / (2σ²))`` from the scaled squared distances."""
    return jnp.exp(-scaled_sq)


@jax.jit
def mmd2_of_groups(kernel: jax.Array, first: jax.Array, n_valid: jax.Array, n_x: jax.Array) -> jax.Array:
    """Unbiased MMD² for each row of ``first``: the pooled rows in the first sample (entries past the kernel's
    size are padding), against the other of the ``n_valid`` real rows."""
    size = kernel.shape[0]
    valid = (jnp.arange(size) < n_valid).astype(kernel.dtype)
    in_x = jnp.zeros((first.shape[0], size), kernel.dtype).at[
        jnp.arange(first.shape[0])[:, None], first].set(1.0, mode="drop")
    in_y = valid - in_x
    n_y = n_valid - n_x
    diag = jnp.diagonal(kernel)
    k_x = in_x @ kernel
    k_y = in_y @ kernel
    sum_xx = ((k_x * in_x).sum(axis=1) - in_x @ diag) / (n_x * (n_x - 1))
    sum_yy = ((k_y * in_y).sum(axis=1) - in_y @ diag) / (n_y * (n_y - 1))
    return sum_xx + sum_yy - 2.0 * (k_x * in_y).sum(axis=1) / (n_x * n_y)


def _power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, n_permutations: int, seed: int | None,
                         bandwidth: float | None = None, device: str = "cpu") -> tuple[float, float, float]:
    """(MMD² statistic, permutation p-value, bandwidth), computed with JAX in float64 on ``device``."""
    target = resolve_device(device)
    n_x, n_total = x.shape[0], x.shape[0] + y.shape[0]
    size = _power_of_two(max(n_total, MIN_POOLED_ROWS))
    pooled = np.concatenate([x, y]).astype(np.float64)
    sigma = median_bandwidth(pooled) if bandwidth is None else float(bandwidth)
    scaled = np.zeros((size, size), dtype=np.float64)
    scaled[:n_total, :n_total] = pairwise_sq_dists(pooled, pooled) / (2.0 * sigma**2)
    # Row 0: the identity (the observed statistic); then the shared permutations, first n_x entries of each.
    first = np.full((n_permutations + 1, size), size, dtype=np.int64)  # index `size` = padding, dropped
    first[0, :n_x] = np.arange(n_x)
    first[1:, :n_x] = permutation_indices(n_total, n_permutations, seed)[:, :n_x]
    chunk = max(1, _CHUNK_ENTRIES // size)  # a power of two, as size is
    rows = min(chunk, _power_of_two(first.shape[0]))
    with float64():
        put = partial(jax.device_put, device=target)
        counts = put(np.asarray(n_total)), put(np.asarray(n_x))
        kernel = gaussian_kernel(put(scaled))
        statistics = []
        for start in range(0, first.shape[0], rows):
            block = np.full((rows, size), size, dtype=np.int64)
            part = first[start:start + rows]
            block[:part.shape[0]] = part
            statistics.append(np.asarray(mmd2_of_groups(kernel, put(block), *counts))[:part.shape[0]])
    values = np.concatenate(statistics)
    statistic = float(values[0])
    exceed = int((values[1:] >= statistic - TIE_TOLERANCE).sum())
    return statistic, (exceed + 1) / (n_permutations + 1), sigma


class JaxMMDDrift(MMDDrift):
    """:class:`~pynomaly_core.builtin.mmd_drift.MMDDrift` computed with JAX in float64 (scoped, see the module).

    ``device``: ``"cpu"`` (default), ``"auto"`` (JAX's default backend: a GPU when the CUDA jaxlib sees one),
    ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    """

    name = "jax.mmd"

    def __init__(self, alpha: float = 0.05, n_permutations: int = 200, bandwidth: float | None = None,
                 random_state: int | None = 0, device: str = "cpu"):
        super().__init__(alpha=alpha, n_permutations=n_permutations, bandwidth=bandwidth, random_state=random_state)
        if not isinstance(device, str):
            raise InputError(f"jax.mmd: device must be a string, got {device!r}")
        self.device = device

    def _test(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        try:
            return mmd_permutation_test(x, y, self.n_permutations, self.random_state, self.bandwidth, self.device)
        except InputError as exc:
            raise InputError(f"jax.mmd: {exc}") from None
