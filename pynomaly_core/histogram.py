"""Equal-width histograms that also work when the values span only a few ulps."""

from __future__ import annotations

import numpy as np


def equal_width_histogram(values: np.ndarray, bins: int, *, density: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram(values, bins)``, except that a range too narrow for ``bins`` distinct edges (NumPy raises
    "Too many bins for data range") gets a unit-wide range, as NumPy gives a constant array (wider for values so
    large that one unit is a few ulps), placed so that every value lies inside the middle bin; and that a range
    wider than the float maximum (NumPy raises "supplied range ... is not finite") is binned in scaled units."""
    low, high = (float(np.min(values)), float(np.max(values))) if values.size else (0.0, 0.0)
    if np.isfinite(low) and np.isfinite(high) and not np.isfinite(high - low):
        # the range overflows (values near ± the float maximum): bin in units of a power of two, which is exact
        from pynomaly_core.preprocessing import power_of_two_unit

        unit = float(power_of_two_unit(values))
        counts, edges = np.histogram(values / unit, bins=bins)
        edges = edges * unit
        if density:
            return counts / (counts.sum() * np.diff(edges / unit)) / unit, edges
        return counts, edges
    try:
        return np.histogram(values, bins=bins, density=density)
    except ValueError:
        if not np.all(np.isfinite(values)):
            raise
        low = float(np.min(values))
        width = max(1.0, abs(low) * 2.0**-20)
        start = low - (bins // 2 + 0.5) / bins * width
        return np.histogram(values, bins=bins, range=(start, start + width), density=density)


def shared_range(low: float, high: float, bins: int) -> tuple[tuple[float, float], float]:
    """The ``(range, unit)`` that :func:`equal_width_histogram` bins values spanning ``[low, high]`` on: counting
    each partition with :func:`counts_on` and summing gives the counts of the whole column exactly."""
    if np.isfinite(low) and np.isfinite(high) and not np.isfinite(high - low):
        from pynomaly_core.preprocessing import power_of_two_unit

        unit = float(power_of_two_unit(np.array([low, high])))
        return (low / unit, high / unit), unit
    try:
        np.histogram_bin_edges(np.array([low, high]), bins=bins)
    except ValueError:
        width = max(1.0, abs(low) * 2.0**-20)
        start = low - (bins // 2 + 0.5) / bins * width
        return (start, start + width), 1.0
    return (low, high), 1.0


def counts_on(values: np.ndarray, bins: int, span: tuple[float, float], unit: float) -> np.ndarray:
    """Counts of ``values`` in the ``bins`` equal-width bins of :func:`shared_range`'s ``span`` (in ``unit``)."""
    return np.histogram(values / unit if unit != 1.0 else values, bins=bins, range=span)[0]


def density_of(counts: np.ndarray, bins: int, span: tuple[float, float], unit: float) -> tuple[np.ndarray, np.ndarray]:
    """``(density, edges)`` as :func:`equal_width_histogram` computes them from the counts of the whole column."""
    edges = np.histogram_bin_edges(np.array(span, dtype=np.float64), bins=bins, range=span)
    if unit != 1.0:
        return counts / (counts.sum() * np.diff(edges)) / unit, edges * unit
    return counts / np.array(np.diff(edges), float) / counts.sum(), edges
