"""Out-of-core scoring: stream a chunk-capable source through a fitted detector and write results as they come.

Memory stays bounded by one batch: scores are written per batch to a temporary file next to the output (renamed
over it at the end, removed on any error, so an existing output is never touched by a failed run), the top-N rows
are kept in a bounded heap, and the anomaly count is a running sum. Only when labels are given are the scores and
labels kept (9 bytes per row) to compute ROC-AUC and average precision exactly.
"""

from __future__ import annotations

import heapq
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from pynomaly_core.data import Dataset, batch_reader, select_loader
from pynomaly_core.errors import InputError
from pynomaly_core.metrics import label_metrics
from pynomaly_core.results import run_summary

#: Output formats of streamed scores, by suffix.
STREAM_SUFFIXES = (".csv", ".json", ".jsonl", ".parquet")
DEFAULT_BATCH_ROWS = 65_536


def iter_batches(source: str, rows: int = DEFAULT_BATCH_ROWS, *, loader: str | None = None,
                 **options: Any) -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of ``source`` from the loader chosen by name, URL scheme or suffix."""
    from pynomaly_core.registry import get_registry

    spec = select_loader(str(source), get_registry(), loader)
    return batch_reader(spec)(str(source), rows, **options)


def check_stream_output(path: Path) -> None:
    """Fail before any work when the output suffix or folder is unusable."""
    if path.suffix.lower() not in STREAM_SUFFIXES:
        raise InputError(f"{path}: output must end in {', '.join(STREAM_SUFFIXES)}")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(f"{path}: writing Parquet needs pyarrow (pip install pyarrow)") from None
    if not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory")


class ScoreWriter:
    """Writes ``score,label`` rows batch by batch to a temporary file, renamed to ``path`` on success.

    CSV and JSON are byte-identical to what the CLI writes for a whole-file run; ``.jsonl`` has one record per
    line; ``.parquet`` has columns ``score`` (float64) and ``label`` (int64).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.format = self.path.suffix.lower().lstrip(".")
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        os.close(fd)
        self.temp = Path(name)
        self._rows = 0
        self._handle: Any = None
        self._parquet: Any = None

    def __enter__(self) -> ScoreWriter:
        try:
            if self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                self._schema = pa.schema([("score", pa.float64()), ("label", pa.int64())])
                self._parquet = pq.ParquetWriter(self.temp, self._schema)
            else:
                self._handle = self.temp.open("w", encoding="utf-8", newline="")
                self._handle.write({"csv": "score,label\r\n", "json": "["}.get(self.format, ""))
        except BaseException:
            self.temp.unlink(missing_ok=True)
            raise
        return self

    def write(self, scores: np.ndarray, labels: np.ndarray) -> None:
        if self.format == "parquet":
            import pyarrow as pa

            self._parquet.write_table(pa.table({"score": scores, "label": labels.astype(np.int64)},
                                               schema=self._schema))
        elif self.format == "csv":
            self._handle.write("".join(f"{s!r},{lab}\r\n" for s, lab in zip(scores.tolist(), labels.tolist(),
                                                                               strict=True)))
        else:
            records = [json.dumps({"score": s, "label": lab})
                       for s, lab in zip(scores.tolist(), labels.tolist(), strict=True)]
            if self.format == "jsonl":
                self._handle.write("".join(r + "\n" for r in records))
            elif records:
                self._handle.write((", " if self._rows else "") + ", ".join(records))
        self._rows += int(scores.size)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self._parquet is not None:
                self._parquet.close()
            if self._handle is not None:
                if kind is None and self.format == "json":
                    self._handle.write("]")
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
            if kind is None:
                os.replace(self.temp, self.path)
        finally:
            self.temp.unlink(missing_ok=True)


class TopN:
    """The ``n`` highest scores seen so far with their row numbers; ties go to the earlier row (like a stable
    descending sort of all scores)."""

    def __init__(self, n: int):
        self.n = max(0, n)
        self._heap: list[tuple[float, int, int]] = []  # (score, -row, label): the root is the weakest kept

    def push(self, scores: np.ndarray, labels: np.ndarray, offset: int) -> None:
        if self.n == 0 or scores.size == 0:
            return
        k = min(self.n, scores.size)
        candidates = np.argsort(-scores, kind="stable")[:k]  # among equal scores, the earlier rows
        for i in candidates.tolist():
            item = (float(scores[i]), -(offset + i), int(labels[i]))
            if len(self._heap) < self.n:
                heapq.heappush(self._heap, item)
            elif item > self._heap[0]:
                heapq.heapreplace(self._heap, item)

    def rows(self) -> list[dict[str, Any]]:
        ordered = sorted(self._heap, key=lambda t: (-t[0], -t[1]))
        return [{"row": -neg_row, "score": score, "label": label} for score, neg_row, label in ordered]


def stream_score(model: Any, batches: Iterator[Dataset], *, output: Path | None = None,
                 top: int = 10) -> dict[str, Any]:
    """Score every batch with ``model`` (fitted) through :func:`~pynomaly_core.pipeline.score_detector`; write
    ``score,label`` rows to ``output`` atomically.

    Returns the run summary (:func:`~pynomaly_core.results.run_summary`): rows, anomalies, threshold, top rows,
    metrics (when the batches carry labels) and the time spent.
    """
    from pynomaly_core.pipeline import qualified_name_of, score_detector

    start = time.perf_counter()
    best = TopN(top)
    rows = anomalies = 0
    kept_scores: list[np.ndarray] = []
    kept_y: list[np.ndarray] = []
    has_labels = True

    def run(writer: ScoreWriter | None) -> None:
        nonlocal rows, anomalies, has_labels
        for batch in batches:
            result = score_detector(model, batch.features(), y=None)
            if writer is not None:
                writer.write(result.scores, result.labels)
            best.push(result.scores, result.labels, rows)
            rows += int(result.scores.size)
            anomalies += result.n_anomalies
            if batch.y is None:
                has_labels = False
            if has_labels:
                kept_scores.append(result.scores)
                kept_y.append(np.asarray(batch.y).astype(np.int8, copy=False))

    if output is None:
        run(None)
    else:
        with ScoreWriter(output) as writer:
            run(writer)
    if rows == 0:
        raise InputError("no rows to score")
    metrics = label_metrics(np.concatenate(kept_y), np.concatenate(kept_scores)) if has_labels and kept_y else {}
    return run_summary(detector=qualified_name_of(model), params=model.get_params(), rows=rows, anomalies=anomalies,
                       threshold=float(model.threshold_), timings={"score_s": time.perf_counter() - start},
                       metrics=metrics, top=best.rows())


def whole_or_refused(model: Any, batches: Iterator[Dataset], rows: int) -> Iterator[Dataset]:
    """``batches`` unchanged, unless ``model`` is ``batch_dependent`` and the data does not fit in one batch: then an
    :class:`InputError` before anything is scored (its scores in batches would differ from a whole-data run)."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of(model)
    if spec is None or "batch_dependent" not in spec.capabilities:
        return batches
    iterator = iter(batches)
    first = next(iterator, None)
    if next(iterator, None) is not None:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
        raise InputError(f"{spec.qualified_name} is batch-dependent (a row's score depends on the other rows scored "
                         f"with it): in batches of {rows} rows its scores would differ from a whole-data run; pass "
                         "--batch-rows above the number of rows to score the data whole")
    return iter([] if first is None else [first])


def score_stream(model: Any, spec: Any, source: str, options: dict[str, Any], rows: int,
                 output: Path | None, top: int) -> dict[str, Any]:
    """``pynomaly score`` on a chunk-capable loader: the summary the CLI prints (same keys as a whole run).

    A ``batch_dependent`` model is scored only when the data fits in one batch (see :func:`whole_or_refused`)."""
    batches = whole_or_refused(model, batch_reader(spec)(source, rows, **options), rows)
    summary = stream_score(model, batches, output=output, top=top)
    summary["timings"] = {k: round(v, 6) for k, v in summary["timings"].items()}
    return {**summary, "output": None if output is None else str(output)}


def first_batch_columns(spec: Any, source: str, options: dict[str, Any]) -> tuple[list[str] | None, int | None]:
    """Column names and count of the data a chunk-capable loader streams, from its first batch (so the schema
    check runs before any output is written)."""
    batches = batch_reader(spec)(source, 1, **options)
    try:
        first = next(iter(batches), None)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    return (None, None) if first is None else (first.feature_names, first.n_features)
