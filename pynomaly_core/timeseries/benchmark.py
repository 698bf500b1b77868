"""Benchmark detectors over labelled time series: point, range, VUS and NAB metrics per (series, detector).

A source is either a NAB corpus (a folder with ``labels/combined_windows.json``: the labels are the anomaly
windows) or a folder of series: ``.csv`` files with a per-row 0/1 label column (``label`` by default), an optional
``timestamp`` column and numeric feature columns, or ``.npz`` files with ``X`` (rows in time order) and ``y``.

Protocol: each detector is created fresh for each series, fitted on the whole series, and its training scores
(``decision_scores_``) are evaluated. Time-series detectors give prequential scores there (each row scored before
it is learned, as NAB asks); a tabular detector sees each row's values alone, fitted on the whole series. Flagged
rows are those above the detector's own threshold (``threshold_``, from its contamination); range precision,
recall and F1 (Tatbul et al.) use them. VUS uses buffers up to ``max_buffer`` rows; the NAB score uses the
standard profile with the labelled ranges (or the corpus windows) as anomaly windows.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.timeseries.nab.scorer import Span

OUTPUT_SUFFIXES = (".csv", ".json", ".md")
DetectorRef = str | Callable[[], Any]


@dataclass
class Series:
    """One labelled series: feature rows in time order, 0/1 labels, its anomaly windows, optional timestamps."""

    name: str
    values: np.ndarray
    labels: np.ndarray
    spans: list[Span]
    timestamps: np.ndarray | None = None


@dataclass(frozen=True)
class SeriesRecord:
    """The metrics of one detector on one series (NaN where a metric is undefined, e.g. no anomaly)."""

    dataset: str
    detector: str
    rows: int
    anomalies: int
    flagged: int
    roc_auc: float
    average_precision: float
    vus_roc: float
    vus_pr: float
    range_precision: float
    range_recall: float
    range_f1: float
    nab_standard: float
    fit_s: float


FIELDS = tuple(f.name for f in fields(SeriesRecord))
METRICS = FIELDS[5:13]


@dataclass
class SeriesBenchmark:
    """Records, plus the scores and flags of each (dataset, detector) and the NAB score of each detector over all
    series, per profile."""

    records: list[SeriesRecord]
    series: list[Series]
    scores: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    nab: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- loading -----------------------------------------------------------------------------------------------------
def load_series(source: str | Path, label_column: str = "label") -> list[Series]:
    """The series of a NAB corpus or of a folder of labelled ``.csv`` / ``.npz`` files (natural order)."""
    from pynomaly_core.timeseries.nab.scorer import spans_from_labels, spans_from_timestamps

    folder = Path(source)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if (folder / "labels" / "combined_windows.json").is_file():
        from pynomaly_core.timeseries.nab.corpus import load_corpus

        corpus = load_corpus(folder)
        series = []
        for relative in corpus.files:
            stamps, values = corpus.series(relative)
            spans = spans_from_timestamps(stamps, corpus.windows[relative], relative)
            series.append(Series(relative.removesuffix(".csv"), values[:, None], corpus.labels(relative), spans,
                                 stamps))
        return series
    files = [p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".npz") and p.is_file()]
    if not files:
        raise InputError(f"{folder}: no .csv or .npz series (and no labels/combined_windows.json of a NAB corpus)")
    files.sort(key=lambda p: [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.stem)])
    series = []
    for path in files:
        values, labels, stamps = (_read_npz(path) if path.suffix.lower() == ".npz"
                                  else _read_csv(path, label_column))
        series.append(Series(path.stem, values, labels, spans_from_labels(labels), stamps))
    return series


def _check_labels(path: Path, labels: np.ndarray, where: str, first_row: int) -> np.ndarray:
    """0/1 labels as int64; ``where`` names the column, ``first_row`` is the number of the first row in errors."""
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: row {row + first_row}, {where}: labels must be 0/1, got {labels[row]:g}")
    return labels.astype(np.int64)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, None]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise InputError(f"{path}: needs arrays 'X' (rows in time order) and 'y' (0/1 labels)")
            X, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).reshape(-1)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    if X.ndim != 2 or X.shape[0] != y.size:
        raise InputError(f"{path}: X has shape {X.shape} but y has {y.size} rows")
    if not np.isfinite(X).all():
        row, col = map(int, np.argwhere(~np.isfinite(X))[0])
        raise InputError(f"{path}: X row {row}, column {col} is not finite")
    return X, _check_labels(path, y, "array 'y'", 0), None


def _read_csv(path: Path, label_column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    try:
        rows = [row for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) if row]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if len(rows) < 2:
        raise InputError(f"{path}: needs a header and at least one row")
    header = [c.strip() for c in rows[0]]
    if label_column not in header:
        raise InputError(f"{path}: no label column {label_column!r} (columns: {', '.join(header)})")
    body = rows[1:]
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise InputError(f"{path}: row {i + 2}: expected {len(header)} columns, got {len(row)}")
    stamps = None
    if "timestamp" in header:
        col = header.index("timestamp")
        try:
            stamps = np.array([row[col].strip() for row in body], dtype="datetime64[us]")
        except ValueError:
            for i, row in enumerate(body):
                try:
                    np.datetime64(row[col].strip(), "us")
                except ValueError:
                    raise InputError(f"{path}: row {i + 2}, column 'timestamp': cannot parse "
                                     f"{row[col]!r}") from None
    features = [j for j, name in enumerate(header) if name not in (label_column, "timestamp")]
    if not features:
        raise InputError(f"{path}: no feature columns besides {label_column!r}")
    values = np.empty((len(body), len(features)))
    labels = np.empty(len(body))
    for i, row in enumerate(body):
        for k, j in enumerate([*features, header.index(label_column)]):
            try:
                value = float(row[j])
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise InputError(f"{path}: row {i + 2}, column {header[j]!r}: not a finite number: {row[j]!r}")
            if k < len(features):
                values[i, k] = value
            else:
                labels[i] = value
    return values, _check_labels(path, labels, f"column {label_column!r}", 2), stamps


# -- running -----------------------------------------------------------------------------------------------------
def _make(ref: DetectorRef, seed: int) -> tuple[str, Any]:
    if callable(ref):
        detector = ref()
        return getattr(ref, "__name__", type(detector).__name__), detector
    from pynomaly_core.registry import get_registry
    from pynomaly_core.sdk import create_detector

    spec = get_registry().detector(ref)
    params = {"random_state": seed} if "random_state" in spec.params else {}
    return ref, create_detector(ref, **params)


def _nan_if_undefined(func: Callable[[], float]) -> float:
    try:
        return float(func())
    except InputError:
        return math.nan


def evaluate(series: Series, scores: np.ndarray, flags: np.ndarray, *, max_buffer: int = 100) -> dict[str, float]:
    """The metrics of one score series (NaN where undefined: a series without anomalies has no ROC-AUC)."""
    from pynomaly_core.metrics import average_precision, roc_auc
    from pynomaly_core.timeseries.metrics import range_precision, range_recall, vus
    from pynomaly_core.timeseries.nab.scorer import DEFAULT_PROFILES, score_corpus

    y = series.labels
    both = 0 < y.sum() < y.size
    buffer = min(max_buffer, y.size)
    volume = vus(y, scores, buffer) if both else None
    precision = range_precision(y, flags) if y.sum() else math.nan
    recall = range_recall(y, flags) if y.sum() else math.nan
    f1 = (0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)) if y.sum() else math.nan
    nab = score_corpus([(scores, series.spans)], DEFAULT_PROFILES["standard"]).score if series.spans else math.nan
    return {
        "roc_auc": roc_auc(y, scores) if both else math.nan,
        "average_precision": average_precision(y, scores) if both else math.nan,
        "vus_roc": volume.roc if volume else math.nan,
        "vus_pr": volume.pr if volume else math.nan,
        "range_precision": precision, "range_recall": recall, "range_f1": f1, "nab_standard": nab,
    }


def run(series: Sequence[Series], detectors: Sequence[DetectorRef], *, max_buffer: int = 100, seed: int = 0,
        on_step: Callable[[str], None] | None = None) -> SeriesBenchmark:
    """Fit every detector on every series and evaluate its training scores (see the module docstring)."""
    from pynomaly_core.timeseries.nab.scorer import DEFAULT_PROFILES, score_corpus

    if not detectors:
        raise InputError("benchmark: no detectors given")
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer < 0:
        raise InputError(f"--max-buffer must be an integer >= 0, got {max_buffer!r}")
    for ref in detectors:
        if not callable(ref):
            from pynomaly_core.registry import get_registry

            get_registry().detector(ref)  # unknown names fail before any work
    result = SeriesBenchmark([], list(series))
    per_detector: dict[str, list[tuple[np.ndarray, list[Span]]]] = {}
    for item in series:
        for ref in detectors:
            name = ref if isinstance(ref, str) else getattr(ref, "__name__", "detector")
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    name, detector = _make(ref, seed)
                    detector.fit(item.values)
                    scores = np.asarray(detector.decision_scores_, dtype=np.float64).reshape(-1)
                    flags = (scores > detector.threshold_).astype(np.int64)
                except (PynomalyError, ValueError, ArithmeticError) as exc:
                    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise PynomalyError(f"{item.name}: {name} failed: {first}") from exc
            elapsed = time.perf_counter() - start
            metrics = evaluate(item, scores, flags, max_buffer=max_buffer)
            result.records.append(SeriesRecord(item.name, name, int(item.labels.size), int(item.labels.sum()),
                                               int(flags.sum()), **metrics, fit_s=elapsed))
            result.scores[item.name, name] = (scores, flags)
            per_detector.setdefault(name, []).append((scores, item.spans))
            if on_step is not None:
                on_step(f"{item.name} · {name}")
    for name, items in per_detector.items():
        if any(spans for _, spans in items):
            result.nab[name] = {p: score_corpus(items, profile, name=p).to_dict()
                                for p, profile in DEFAULT_PROFILES.items()}
    return result


# -- reporting ---------------------------------------------------------------------------------------------------
def summary(result: SeriesBenchmark) -> list[dict[str, Any]]:
    """Per detector: the mean of each metric over the series where it is defined, the mean rank by VUS-PR
    (1 = best), and the NAB scores over all series."""
    from pynomaly_core.metrics import rankdata

    records = result.records
    detectors = list(dict.fromkeys(r.detector for r in records))
    ranks: dict[str, list[float]] = {d: [] for d in detectors}
    for dataset in dict.fromkeys(r.dataset for r in records):
        present = [r for r in records if r.dataset == dataset and not math.isnan(r.vus_pr)]
        if present:
            for r, rank in zip(present, rankdata(-np.array([r.vus_pr for r in present])), strict=True):
                ranks[r.detector].append(float(rank))
    rows = []
    for d in detectors:
        mine = [r for r in records if r.detector == d]
        row: dict[str, Any] = {"detector": d, "series": len(mine)}
        for metric in METRICS:
            values = [getattr(r, metric) for r in mine if not math.isnan(getattr(r, metric))]
            row[f"mean_{metric}"] = float(np.mean(values)) if values else None
        row["mean_rank_vus_pr"] = float(np.mean(ranks[d])) if ranks[d] else None
        row["nab"] = {p: s["score"] for p, s in result.nab.get(d, {}).items()}
        row["fit_s"] = float(sum(r.fit_s for r in mine))
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def render(records: Sequence[SeriesRecord], suffix: str) -> str:
    """Records as CSV, JSON (NaN as null) or a Markdown table."""
    rows = [asdict(r) for r in records]
    if suffix == ".json":
        return json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], indent=2) + "\n"
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: repr(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows)
        return buffer.getvalue()
    if suffix == ".md":
        lines = ["| " + " | ".join(FIELDS) + " |", "|" + " --- |" * 2 + " ---: |" * (len(FIELDS) - 2)]
        for row in rows:
            lines.append("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values())
                         + " |")
        return "\n".join(lines) + "\n"
    raise InputError(f"output must end in {', '.join(OUTPUT_SUFFIXES)}, got {suffix or '(none)'!r}")


def write_records(records: Sequence[SeriesRecord], path: str | Path) -> Path:
    """Write the records atomically; the format follows the suffix (.csv, .json, .md)."""
    from pynomaly_core.cli.output import write_atomic

    path = Path(path)
    text = render(records, path.suffix.lower())
    write_atomic(path, lambda handle: handle.write(text))
    return path
