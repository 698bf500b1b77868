"""Benchmark detectors over a folder of labelled ``.npz`` sets with the protocol of ``evaluation.py``.

One record per (dataset, detector): ROC-AUC and average precision on the test split, fit and score seconds,
averaged over the seeds (each seed gives its own split and, for detectors that take one, ``random_state``).
Records are written as CSV, JSON or Markdown (by suffix) and plotted with matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.evaluation import EvaluationRecord, evaluate_split, protocol_split

OUTPUT_SUFFIXES = (".csv", ".json", ".md")


#: One (dataset, detector) row: the evaluation protocol's record, averaged over the seeds.
BenchmarkRecord = EvaluationRecord
FIELDS = tuple(field.name for field in fields(EvaluationRecord))


def dataset_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The ``.npz`` files of a folder (natural order: ``2_x`` before ``10_y``), or the given files."""
    if isinstance(source, str | Path):
        folder = Path(source)
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
        files = list(folder.glob("*.npz"))
        if not files:
            raise InputError(f"{folder}: no .npz datasets")
    else:
        files = [Path(p) for p in source]
    return sorted(files, key=lambda p: [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.stem)])


def load_labelled(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels of one ``.npz`` (errors name the file)."""
    from pynomaly_core.builtin.loaders import load_npz

    dataset = load_npz(str(path))
    if dataset.y is None:
        raise InputError(f"{path}: no labels (array 'y'); a benchmark needs them")
    y = dataset.y
    values = set(np.unique(y).tolist())
    if values != {0, 1}:
        raise InputError(f"{path}: labels must be 0/1 with both classes, got values {sorted(values)[:5]}")
    if not np.isfinite(dataset.X).all():
        raise InputError(f"{path}: features contain NaN or infinity")
    return dataset.X.astype(np.float64), y.astype(np.int64)


def _make(name: str, seed: int) -> Any:
    from pynomaly_core.registry import get_registry
    from pynomaly_core.sdk import create_detector

    spec = get_registry().detector(name)
    params = {"random_state": seed} if "random_state" in spec.params else {}
    return create_detector(name, **params)


def benchmark(datasets: str | Path | Sequence[str | Path], detectors: Sequence[str], *,
              seeds: Sequence[int] = (0,), test_size: float = 0.3, max_train: int | None = None,
              on_step: Callable[[str], None] | None = None) -> list[BenchmarkRecord]:
    """Run every detector on every dataset: fit on the training split without labels, measure on the test split.

    ``max_train`` subsamples larger training splits (the same rows for every detector); ``on_step`` is called
    after each (dataset, detector, seed) with a description (the CLI's progress bar).
    """
    from pynomaly_core.registry import get_registry

    if not detectors:
        raise InputError("benchmark: no detectors given")
    for name in detectors:
        get_registry().detector(name)  # unknown names fail before any work
    if not seeds:
        raise InputError("benchmark: no seeds given")
    records = []
    for path in dataset_files(datasets):
        X, y = load_labelled(path)
        splits = [protocol_split(y, seed=seed, test_size=test_size, max_train=max_train) for seed in seeds]
        for name in detectors:
            runs = []
            for seed, (train, test) in zip(seeds, splits, strict=True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        runs.append(evaluate_split(_make(name, seed), X, y, train, test, path.stem, name))
                    except (PynomalyError, ValueError, ArithmeticError) as exc:
                        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                        raise PynomalyError(f"{path}: {name} (seed {seed}) failed: {first}") from exc
                if on_step is not None:
                    on_step(f"{path.stem} · {name} · seed {seed}")
            mean = np.mean([[getattr(run, f) for f in FIELDS[2:]] for run in runs], axis=0)
            records.append(BenchmarkRecord(path.stem, name, *(float(v) for v in mean)))
    return records


def summary(records: Sequence[BenchmarkRecord]) -> list[dict[str, Any]]:
    """Per detector: mean ROC-AUC, mean average precision and mean rank over the datasets (1 = best)."""
    from pynomaly_core.metrics import rankdata

    detectors = list(dict.fromkeys(r.detector for r in records))
    datasets = list(dict.fromkeys(r.dataset for r in records))
    auc = {(r.dataset, r.detector): r.roc_auc for r in records}
    ranks = {d: [] for d in detectors}
    for dataset in datasets:
        present = [d for d in detectors if (dataset, d) in auc]
        for d, rank in zip(present, rankdata(-np.array([auc[dataset, d] for d in present])), strict=True):
            ranks[d].append(float(rank))
    rows = []
    for d in detectors:
        mine = [r for r in records if r.detector == d]
        rows.append({"detector": d, "mean_roc_auc": float(np.mean([r.roc_auc for r in mine])),
                     "mean_average_precision": float(np.mean([r.average_precision for r in mine])),
                     "mean_rank": float(np.mean(ranks[d])), "datasets": len(mine)})
    return rows


def render(records: Sequence[BenchmarkRecord], suffix: str) -> str:
    """Records as CSV, JSON (a list of records) or a Markdown table."""
    rows = [asdict(r) for r in records]
    if suffix == ".json":
        return json.dumps(rows, indent=2) + "\n"
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: repr(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows)
        return buffer.getvalue()
    if suffix == ".md":
        lines = ["| " + " | ".join(FIELDS) + " |", "|" + " --- |" * 2 + " ---: |" * 4]
        for row in rows:
            lines.append(f"| {row['dataset']} | {row['detector']} | {row['roc_auc']:.4f} | "
                         f"{row['average_precision']:.4f} | {row['fit_s']:.4f} | {row['score_s']:.4f} |")
        return "\n".join(lines) + "\n"
    raise InputError(f"output must end in {', '.join(OUTPUT_SUFFIXES)}, got {suffix or '(none)'!r}")


def read_records(path: Path) -> list[BenchmarkRecord]:
    """Records back from a CSV or JSON file written by :func:`write_records`."""
    text = path.read_text()
    rows = json.loads(text) if path.suffix.lower() == ".json" else list(csv.DictReader(io.StringIO(text)))
    return [BenchmarkRecord(r["dataset"], r["detector"], *(float(r[k]) for k in FIELDS[2:])) for r in rows]


def write_records(records: Sequence[BenchmarkRecord], path: str | Path) -> Path:
    """Write the records atomically; the format follows the suffix (.csv, .json, .md)."""
    from pynomaly_core.cli.output import write_atomic

    path = Path(path)
    text = render(records, path.suffix.lower())
    write_atomic(path, lambda handle: handle.write(text))
    return path


def plot(records: Sequence[BenchmarkRecord], path: str | Path) -> Path:
    """A PNG: ROC-AUC per dataset (one marker per detector) and the mean rank of each detector."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plotting needs matplotlib: pip install 'pynomaly[plot]'") from None
    import os
    import tempfile

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"{path}: the plot must be a .png file")
    detectors = list(dict.fromkeys(r.detector for r in records))
    datasets = list(dict.fromkeys(r.dataset for r in records))
    auc = {(r.dataset, r.detector): r.roc_auc for r in records}
    figure, (left, right) = plt.subplots(1, 2, figsize=(max(8.0, 0.45 * len(datasets) + 5), 5),
                                         gridspec_kw={"width_ratios": [3, 1]})
    positions = np.arange(len(datasets))
    for detector in detectors:
        left.plot(positions, [auc.get((d, detector), np.nan) for d in datasets], "o-", alpha=0.8, label=detector)
    left.set_xticks(positions, datasets, rotation=60, ha="right", fontsize=8)
    left.set_ylabel("ROC-AUC (test split)")
    left.set_title("ROC-AUC per dataset")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    rows = sorted(summary(records), key=lambda r: r["mean_rank"])
    right.barh([r["detector"] for r in rows][::-1], [r["mean_rank"] for r in rows][::-1])
    right.set_xlabel("mean rank (1 = best)")
    right.set_title("rank summary")
    figure.tight_layout()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=110)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        plt.close(figure)
    return path
