"""Plots of a time-series benchmark (matplotlib, the ``plot`` extra, imported when a plot is drawn).

* :func:`plot_summary`: VUS-PR per series (one marker per detector) and the mean rank of each detector;
* :func:`plot_series`: one PNG per series: the values with the anomaly windows shaded and each detector's flagged
  rows marked, then one panel per detector with its scores and its flagged rows; against the series' timestamps
  (dates on the x axis) when it has them in time order, else against row numbers.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plotting needs matplotlib: pip install 'pynomaly[plot]'") from None
    return plt


def _save(figure: Any, path: Path) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=100)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def plot_summary(result: Any, path: str | Path) -> Path:
    """A PNG: VUS-PR per series for each detector, and each detector's mean rank by VUS-PR."""
    from pynomaly_core.timeseries.benchmark import summary

    plt = _pyplot()
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"{path}: the plot must be a .png file")
    detectors = list(dict.fromkeys(r.detector for r in result.records))
    datasets = list(dict.fromkeys(r.dataset for r in result.records))
    value = {(r.dataset, r.detector): r.vus_pr for r in result.records}
    figure, (left, right) = plt.subplots(1, 2, figsize=(max(8.0, 0.35 * len(datasets) + 5), 5),
                                         gridspec_kw={"width_ratios": [3, 1]})
    try:
        positions = np.arange(len(datasets))
        for detector in detectors:
            left.plot(positions, [value.get((d, detector), np.nan) for d in datasets], "o", alpha=0.8,
                      label=detector)
        left.set_xticks(positions, [d.split("/")[-1] for d in datasets], rotation=70, ha="right", fontsize=7)
        left.set_ylabel("VUS-PR")
        left.set_title("VUS-PR per series")
        left.grid(alpha=0.3)
        left.legend(fontsize=8)
        rows = [r for r in summary(result) if r["mean_rank_vus_pr"] is not None]
        rows.sort(key=lambda r: r["mean_rank_vus_pr"])
        right.barh([r["detector"] for r in rows][::-1], [r["mean_rank_vus_pr"] for r in rows][::-1])
        right.set_xlabel("mean rank, VUS-PR (1 = best)")
        right.set_title("rank summary")
        figure.tight_layout()
        return _save(figure, path)
    finally:
        plt.close(figure)


def series_file_name(name: str) -> str:
    """A file name for a series name (``realKnownCause/nyc_taxi`` -> ``realKnownCause__nyc_taxi.png``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.replace("/", "__")) + ".png"


def series_axis(item: Any) -> tuple[np.ndarray, bool]:
    """The x values of a series' plot and whether they are times: its timestamps when it has one per row, none
    missing and in time order (NAB series do), else the row numbers."""
    n = item.labels.size
    stamps = getattr(item, "timestamps", None)
    if stamps is not None and stamps.size == n > 0 and np.asarray(stamps).dtype.kind == "M":
        stamps = np.asarray(stamps).astype("datetime64[ms]")
        if not np.isnat(stamps).any() and (np.diff(stamps) >= np.timedelta64(0, "ms")).all():
            return stamps, True
    return np.arange(n), False


def plot_series(result: Any, folder: str | Path) -> list[Path]:
    """One PNG per series in ``folder`` (created if missing): values, windows, scores and flagged rows."""
    plt = _pyplot()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    detectors = list(dict.fromkeys(r.detector for r in result.records))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    written = []
    for item in result.series:
        x, is_time = series_axis(item)
        figure, axes = plt.subplots(1 + len(detectors), 1, sharex=True,
                                    figsize=(12, 2.2 * (1 + len(detectors))), squeeze=False)
        try:
            axes = axes[:, 0]
            axes[0].plot(x, item.values, lw=0.7, color="0.3")
            axes[0].set_title(item.name, fontsize=10)
            axes[0].set_ylabel("value")
            for k, detector in enumerate(detectors):
                scores, flags = result.scores[item.name, detector]
                colour = colours[k % len(colours)]
                rows = np.flatnonzero(flags)
                axes[0].plot(x[rows], item.values[rows, 0], "o", ms=3, color=colour, alpha=0.7, label=detector)
                ax = axes[k + 1]
                ax.plot(x, scores, lw=0.7, color=colour)
                ax.plot(x[rows], scores[rows], "o", ms=3, color="crimson", alpha=0.7)
                ax.set_ylabel(detector, fontsize=8)
            for ax in axes:
                for span in item.spans:
                    ax.axvspan(x[min(span.start, x.size - 1)], x[min(span.stop, x.size - 1)], color="orange",
                               alpha=0.2, lw=0)
            if detectors:
                axes[0].legend(fontsize=7, loc="upper left")
            if is_time:
                import matplotlib.dates as mdates

                locator = mdates.AutoDateLocator()
                axes[-1].xaxis.set_major_locator(locator)
                axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            axes[-1].set_xlabel(f"{'time' if is_time else 'row (time order)'}; shaded: anomaly windows; "
                                "dots: flagged rows")
            figure.tight_layout()
            written.append(_save(figure, folder / series_file_name(item.name)))
        finally:
            plt.close(figure)
    return written
