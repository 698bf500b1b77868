"""``torch.mmd``: the core's MMD drift test with the kernel matrix and permutation statistics in torch (float64).

Same computation as :mod:`pynomaly_core.builtin.mmd_drift` (unbiased MMD², Gaussian kernel, median-heuristic
bandwidth, permutations from ``permutation_indices``), so on the same data and seed the statistic agrees to
rounding and so do the p-values. Permutations are evaluated in chunks as ``W K Wᵀ`` products with 0/1 group
indicators ``W`` instead of re-indexing the kernel matrix once per permutation. On the CPU it runs with one
torch thread, like the detectors (see :mod:`pynomaly_torch.runtime`).
"""

from __future__ import annotations

import numpy as np
import torch

#: Permuted statistics within this of the observed one are ties and count as "at least as large" (rounding
#: differs between the observed and a permuted sum of the same kernel entries).
from pynomaly_core.builtin.mmd_drift import DISTANCE_NOISE, TIE_TOLERANCE, MMDDrift, permutation_indices
from pynomaly_core.errors import InputError
from pynomaly_torch.runtime import cpu_threads, resolve_device

#: Indicator rows evaluated at once are limited to about this many matrix entries (bounded memory).
_CHUNK_ENTRIES = 1 << 22


def pairwise_sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """As :func:`pynomaly_core.builtin.mmd_drift.pairwise_sq_dists`: rounding noise of the expansion becomes 0."""
    norms = (a * a).sum(dim=1)[:, None] + (b * b).sum(dim=1)[None, :]
    sq = norms - 2.0 * a @ b.T
    return torch.where(sq <= DISTANCE_NOISE * norms, torch.zeros_like(sq), sq)


def median_bandwidth(sq_dists: torch.Tensor) -> float:
    """sqrt(median of the non-zero pairwise squared distances / 2), median as NumPy's (mean of the middle two)."""
    upper = sq_dists.triu(diagonal=1)  # the lower triangle becomes 0 and is dropped with the zero distances
    positive = upper[upper > 0].sort().values
    if positive.numel() == 0:
        return 1.0
    m = positive.numel()
    median = (positive[(m - 1) // 2] + positive[m // 2]) / 2
    return float(torch.sqrt(median / 2))


def mmd2_of_groups(kernel: torch.Tensor, in_x: torch.Tensor, n_x: int) -> torch.Tensor:
    """Unbiased MMD² for each row of ``in_x`` (0/1 indicators of the rows in the first sample)."""
    n_y = kernel.shape[0] - n_x
    in_y = 1.0 - in_x
    diag = kernel.diagonal()
    k_x = in_x @ kernel
    k_y = in_y @ kernel
    sum_xx = ((k_x * in_x).sum(dim=1) - in_x @ diag) / (n_x * (n_x - 1))
    sum_yy = ((k_y * in_y).sum(dim=1) - in_y @ diag) / (n_y * (n_y - 1))
    return sum_xx + sum_yy - 2.0 * (k_x * in_y).sum(dim=1) / (n_x * n_y)


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, n_permutations: int, seed: int | None,
                         bandwidth: float | None = None, device: torch.device | str = "cpu"
                         ) -> tuple[float, float, float]:
    """(MMD² statistic, permutation p-value, bandwidth), computed with torch in float64 on ``device``."""
    pooled = torch.from_numpy(np.concatenate([x, y])).to(device=device, dtype=torch.float64)
    n_total, n_x = pooled.shape[0], x.shape[0]
    sq = pairwise_sq_dists(pooled, pooled)
    sigma = median_bandwidth(sq) if bandwidth is None else float(bandwidth)
    kernel = torch.exp(-sq / (2.0 * sigma**2))
    identity = torch.zeros((1, n_total), dtype=torch.float64, device=pooled.device)
    identity[0, :n_x] = 1.0
    statistic = float(mmd2_of_groups(kernel, identity, n_x)[0])
    exceed = 0
    permutations = torch.from_numpy(permutation_indices(n_total, n_permutations, seed)).to(pooled.device)
    chunk = max(1, _CHUNK_ENTRIES // n_total)
    for start in range(0, n_permutations, chunk):
        block = permutations[start:start + chunk]
        in_x = torch.zeros(block.shape, dtype=torch.float64, device=pooled.device)
        in_x.scatter_(1, block[:, :n_x], 1.0)
        permuted = mmd2_of_groups(kernel, in_x, n_x)
        exceed += int((permuted >= statistic - TIE_TOLERANCE).sum())
    return statistic, (exceed + 1) / (n_permutations + 1), sigma


class TorchMMDDrift(MMDDrift):
    """:class:`~pynomaly_core.builtin.mmd_drift.MMDDrift` computed with torch; ``device="auto"`` uses CUDA."""

    name = "torch.mmd"

    def __init__(self, alpha: float = 0.05, n_permutations: int = 200, bandwidth: float | None = None,
                 random_state: int | None = 0, device: str = "cpu"):
        super().__init__(alpha=alpha, n_permutations=n_permutations, bandwidth=bandwidth, random_state=random_state)
        if not isinstance(device, str):
            raise InputError(f"torch.mmd: device must be a string, got {device!r}")
        self.device = device

    def _test(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        device = resolve_device(self.device)
        with cpu_threads(device):
            return mmd_permutation_test(x, y, self.n_permutations, self.random_state, self.bandwidth, device)
