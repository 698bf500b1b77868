"""The NAB corpus layout and the layout of detector results.

A corpus folder holds ``data/<category>/<name>.csv`` (columns ``timestamp,value``), ``labels/combined_windows.json``
(for each ``"<category>/<name>.csv"``, its anomaly windows as ``[start, end]`` timestamps) and, optionally,
``config/profiles.json`` (the application profiles; NAB's three when absent). The keys of the windows file are the
series of the corpus.

Results of a detector live under ``<results>/<detector>/<category>/<detector>_<name>.csv``, one row per row of the
data file, with an ``anomaly_score`` column (other columns are ignored), as in NAB's ``results/`` folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.nab.scorer import DEFAULT_PROFILES, CostProfile

WINDOWS_FILE = "labels/combined_windows.json"
PROFILES_FILE = "config/profiles.json"
SCORE_COLUMN = "anomaly_score"

Window = tuple[np.datetime64, np.datetime64]


@dataclass
class NabCorpus:
    """A NAB corpus: its series (relative paths), their anomaly windows and the cost profiles."""

    root: Path
    windows: dict[str, list[Window]]
    profiles: dict[str, CostProfile]
    _series: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def files(self) -> list[str]:
        """The relative paths of the series (``"realKnownCause/nyc_taxi.csv"``), sorted."""
        return sorted(self.windows)

    def data_path(self, relative: str) -> Path:
        return self.root / "data" / relative

    def series(self, relative: str) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps (``datetime64[us]``) and values (float64) of one series, read once."""
        if relative not in self._series:
            self._series[relative] = read_series(self.data_path(relative))
        return self._series[relative]

    def timestamps(self, relative: str) -> np.ndarray:
        return self.series(relative)[0]

    def labels(self, relative: str) -> np.ndarray:
        """Per-row 0/1 labels: 1 inside an anomaly window (start and end included)."""
        stamps = self.timestamps(relative)
        labels = np.zeros(stamps.size, dtype=np.int64)
        for start, end in self.windows[relative]:
            labels[(stamps >= start) & (stamps <= end)] = 1
        return labels


def load_corpus(root: str | Path) -> NabCorpus:
    """Read a corpus folder (windows and profiles now; each series when first asked for)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected a NAB corpus with data/ and {WINDOWS_FILE})")
    windows_path = root / WINDOWS_FILE
    if not windows_path.is_file():
        raise InputError(f"{root}: no {WINDOWS_FILE}; is this a NAB corpus?")
    windows = read_windows(windows_path)
    for relative in windows:
        if not (root / "data" / relative).is_file():
            raise InputError(f"{windows_path}: series {relative!r} has no data file {root / 'data' / relative}")
    profiles_path = root / PROFILES_FILE
    profiles = read_profiles(profiles_path) if profiles_path.is_file() else dict(DEFAULT_PROFILES)
    return NabCorpus(root, windows, profiles)


def _parse_time(text: Any, where: str) -> np.datetime64:
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a timestamp string, got {text!r}")
    try:
        return np.datetime64(text.strip(), "us")
    except ValueError:
        raise InputError(f"{where}: cannot parse timestamp {text!r}") from None


def read_windows(path: Path) -> dict[str, list[Window]]:
    """``labels/combined_windows.json``: relative path -> sorted ``(start, end)`` windows."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the windows: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected an object mapping each series to its windows")
    windows: dict[str, list[Window]] = {}
    for relative, limits in raw.items():
        where = f"{path}: {relative!r}"
        if not isinstance(limits, list):
            raise InputError(f"{where}: expected a list of [start, end] windows")
        parsed = []
        for k, limit in enumerate(limits):
            if not isinstance(limit, list | tuple) or len(limit) != 2:
                raise InputError(f"{where}: window {k} must be [start, end]")
            start, end = (_parse_time(t, f"{where}: window {k}") for t in limit)
            if end < start:
                raise InputError(f"{where}: window {k} ends before it starts")
            parsed.append((start, end))
        windows[relative] = sorted(parsed)
    return windows


def read_profiles(path: Path) -> dict[str, CostProfile]:
    """``config/profiles.json``: profile name -> its cost matrix."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the profiles: {exc}") from None
    profiles = {}
    for name, body in (raw.items() if isinstance(raw, dict) else []):
        matrix = body.get("CostMatrix") if isinstance(body, dict) else None
        try:
            profiles[name] = CostProfile(*(float(matrix[k]) for k in ("tpWeight", "fpWeight", "fnWeight")))
        except (TypeError, KeyError, ValueError):
            raise InputError(f"{path}: profile {name!r} needs a CostMatrix with numeric tpWeight, fpWeight "
                             "and fnWeight") from None
    if not profiles:
        raise InputError(f"{path}: no profiles")
    return profiles


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if '"' in text:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    else:  # no quoting: a plain split gives what csv.reader would, several times faster
        rows = [line.split(",") for line in text.splitlines() if line]
    if not rows:
        raise InputError(f"{path}: empty file")
    return [c.strip() for c in rows[0]], rows[1:]


def _column(path: Path, header: list[str], name: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise InputError(f"{path}: no column {name!r} (columns: {', '.join(header)})") from None


def read_series(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A data file: timestamps (``datetime64[us]``) and float values; errors name the file, row and column."""
    header, rows = _read_rows(path)
    t_col, v_col = _column(path, header, "timestamp"), _column(path, header, "value")
    for i, row in enumerate(rows):
        if len(row) <= max(t_col, v_col):
            raise InputError(f"{path}: row {i + 2}: expected {len(header)} columns, got {len(row)}")
    stamps_text = [row[t_col].strip() for row in rows]
    values_text = [row[v_col] for row in rows]
    try:
        stamps = np.array(stamps_text, dtype="datetime64[us]")
    except ValueError:
        for i, text in enumerate(stamps_text):
            _parse_time(text, f"{path}: row {i + 2}, column 'timestamp'")
        raise
    try:
        values = np.array(values_text, dtype=np.float64)
    except ValueError:
        for i, text in enumerate(values_text):
            try:
                float(text)
            except ValueError:
                raise InputError(f"{path}: row {i + 2}, column 'value': not a number: {text!r}") from None
        raise
    return stamps, values


def read_score_file(path: Path, rows: int | None = None) -> np.ndarray:
    """The ``anomaly_score`` column of a results file (finite floats; ``rows`` of them when given)."""
    header, body = _read_rows(path)
    col = _column(path, header, SCORE_COLUMN)
    texts = [row[col] if col < len(row) else "" for row in body]
    try:
        scores = np.array(texts, dtype=np.float64)
    except ValueError:
        scores = np.array([_float_or_nan(text) for text in texts])
    if not np.isfinite(scores).all():
        i = int(np.flatnonzero(~np.isfinite(scores))[0])
        raise InputError(f"{path}: row {i + 2}, column {SCORE_COLUMN!r}: not a finite number: {texts[i]!r}")
    if rows is not None and scores.size != rows:
        raise InputError(f"{path}: {scores.size} scores but the data file has {rows} rows")
    return scores


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def results_path(results: str | Path, detector: str, relative: str) -> Path:
    """``<results>/<detector>/<category>/<detector>_<name>.csv`` of the series ``<category>/<name>.csv``."""
    relative_path = Path(relative)
    return Path(results) / detector / relative_path.parent / f"{detector}_{relative_path.name}"


def list_detectors(results: str | Path) -> list[str]:
    """The detectors with a results folder under ``results`` (sub-folders holding ``<name>/*/<name>_*.csv``)."""
    results = Path(results)
    if not results.is_dir():
        raise InputError(f"{results}: not a folder")
    return sorted(d.name for d in results.iterdir()
                  if d.is_dir() and any(d.glob(f"*/{d.name}_*.csv")))


def read_detector_scores(results: str | Path, detector: str, corpus: NabCorpus,
                         files: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The scores of ``detector`` for every series of the corpus (or ``files``); a missing file is an error."""
    scores = {}
    for relative in corpus.files if files is None else files:
        path = results_path(results, detector, relative)
        if not path.is_file():
            raise InputError(f"{path}: missing: detector {detector!r} has no scores for {relative}")
        scores[relative] = read_score_file(path, rows=corpus.timestamps(relative).size)
    return scores


def write_scores(out_dir: str | Path, detector_name: str, scores: Mapping[str, Any]) -> list[Path]:
    """Write ``{relative csv path: scores}`` as ``<out_dir>/<detector>/<category>/<detector>_<name>.csv``.

    Each file has one ``anomaly_score`` column (the layout of NAB's ``results/`` and of the shipped
    ``reference/`` scores), written atomically; returns the paths written.
    """
    from pynomaly_core.cli.output import write_atomic

    if not detector_name or "/" in detector_name or detector_name.startswith("."):
        raise InputError(f"write_scores: detector name {detector_name!r} cannot name a folder")
    written = []
    for relative, values in scores.items():
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        if not np.isfinite(array).all():
            row = int(np.flatnonzero(~np.isfinite(array))[0])
            raise InputError(f"write_scores: scores of {relative} contain {array[row]} at row {row}")
        path = results_path(out_dir, detector_name, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = SCORE_COLUMN + "\n" + "".join(f"{v!r}\n" for v in array.tolist())
        write_atomic(path, lambda handle, text=text: handle.write(text))
        written.append(path)
    return written
