"""Fast exact rank queries against a sorted column: how many training values are ≤ x and < x.

``np.searchsorted`` of a million random values into a sorted array of 100k is dominated by cache misses.
:class:`RankIndex` maps each query to an equal-width bucket of the training range (a multiply and two
comparisons that make the bucket exact), reads the rank window of that bucket from a table, then finishes
with a short vectorised scan over the few training values inside the window. Queries whose window holds many
values (heavy ties, or a range stretched by extreme values) fall back to ``searchsorted``. Results are exact.
"""

from __future__ import annotations

import numpy as np

_MAX_SCAN = 8
_MAX_BUCKETS = 1 << 20
#: Below this many queries two binary searches beat the bucket machinery's fixed cost (no cache misses to save).
_SMALL_QUERY = 64


class RankIndex:
    """Exact ``#(values <= x)`` and ``#(values < x)`` for a sorted 1-D array of finite values."""

    def __init__(self, ordered: np.ndarray):
        self.ordered = np.ascontiguousarray(ordered, dtype=np.float64)
        n = self.ordered.size
        starts = np.r_[True, self.ordered[1:] != self.ordered[:-1]]
        #: for each sorted position, the count of strictly smaller values (index of the first equal value)
        self.first_equal = np.flatnonzero(starts)[np.cumsum(starts) - 1]
        low, high = float(self.ordered[0]), float(self.ordered[-1])
        self.n_buckets = int(min(max(4 * n, 16), _MAX_BUCKETS))
        span = high - low
        # a span beyond the float maximum (values near both of its ends) is split without overflowing
        width = span / self.n_buckets if np.isfinite(span) else high / self.n_buckets - low / self.n_buckets
        self.low = low
        self.scale = 1.0 / width if width > 0 and np.isfinite(1.0 / width) else 0.0
        #: left edge of every bucket, then +inf; bucket b holds x with edges[b] <= x < edges[b + 1]
        steps = np.arange(self.n_buckets)
        if np.isfinite(span):
            left = low + steps * width
        else:  # interpolate between the ends instead: no intermediate overflow
            fraction = steps / self.n_buckets
            left = low * (1 - fraction) + high * fraction
        self.edges = np.r_[left, np.inf]
        #: count of values below each edge
        self.bucket_start = np.searchsorted(self.ordered, self.edges, side="left").astype(np.int64)
        self.bucket_start[-1] = n

    def _bucket(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # far outside a range near the float maximum: clipped below
            position = (x - self.low) * self.scale
        np.clip(position, 0, self.n_buckets - 1, out=position)
        bucket = position.astype(np.int64)
        bucket -= (x < self.edges[bucket]) & (bucket > 0)  # undo rounding up
        bucket += x >= self.edges[bucket + 1]  # undo rounding down
        return bucket

    def counts(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(``#values <= x``, ``#values < x``) for every element of ``x``."""
        ordered = self.ordered
        if self.scale == 0.0 or x.size <= _SMALL_QUERY:
            at_most = np.searchsorted(ordered, x, side="right")
            return at_most, np.searchsorted(ordered, x, side="left")
        bucket = self._bucket(x)
        at_most = self.bucket_start[bucket]
        hi = self.bucket_start[bucket + 1]
        # A value equal to x lies in x's bucket: only queries in occupied buckets can tie or need a scan.
        occupied = np.flatnonzero(hi > at_most)
        wide = occupied[hi[occupied] - at_most[occupied] > _MAX_SCAN]
        if wide.size:
            at_most[wide] = np.searchsorted(ordered, x[wide], side="right")
            hi[wide] = at_most[wide]
        active = occupied[at_most[occupied] < hi[occupied]]
        while active.size:
            step = ordered[at_most[active]] <= x[active]
            active = active[step]
            at_most[active] += 1
            active = active[at_most[active] < hi[active]]
        below = at_most.copy()
        previous = at_most[occupied] - 1
        tie = previous >= 0
        tie[tie] = ordered[previous[tie]] == x[occupied[tie]]
        below[occupied[tie]] = self.first_equal[previous[tie]]
        return at_most, below
