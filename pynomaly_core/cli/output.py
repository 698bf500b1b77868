"""Terminal output and atomic result files for the CLI."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from pynomaly_core.errors import InputError

RESULT_SUFFIXES = (".csv", ".json")


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A rich table on a terminal; plain aligned columns when piped (greppable, and rich is not imported)."""
    cells = [[str(cell) for cell in row] for row in rows]
    if not sys.stdout.isatty():
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        lines = ([title] if title else []) + [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in [list(columns), ["-" * w for w in widths], *cells]
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in cells:
        table.add_row(*row)
    Console().print(table)


def check_output_path(path: Path) -> None:
    """Fail before any work when the output suffix or folder is unusable."""
    if path.suffix.lower() not in RESULT_SUFFIXES:
        raise InputError(f"{path}: output must end in {' or '.join(RESULT_SUFFIXES)}")
    if not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory")


def write_atomic(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written ``path``."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, newline="", encoding="utf-8"
    )
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_scores(path: Path, scores: Any, labels: Any) -> None:
    """One row per input row with columns ``score`` and ``label`` (CSV or JSON list of records)."""
    if path.suffix.lower() == ".json":
        records = [{"score": float(s), "label": int(lab)} for s, lab in zip(scores, labels, strict=True)]
        write_atomic(path, lambda f: json.dump(records, f))
        return

    def write_csv(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow(["score", "label"])
        writer.writerows((repr(float(s)), int(lab)) for s, lab in zip(scores, labels, strict=True))

    write_atomic(path, write_csv)


def report(result: Any, top: int, as_json: bool, output: Path | None) -> None:
    """Write a :class:`~pynomaly_core.results.DetectionResult`'s per-row output (when asked) and print its summary."""
    if output is not None:
        write_scores(output, result.scores, result.labels)
    summary = result.summary(top=top)
    summary["timings"] = {k: round(v, 6) for k, v in summary["timings"].items()}
    print_summary({**summary, "output": None if output is None else str(output)}, top, as_json)


def print_summary(summary: dict[str, Any], top: int, as_json: bool) -> None:
    """Print a detect/score summary (:meth:`DetectionResult.summary` plus ``output``) as text or JSON."""
    if as_json:
        print_json(summary)
        return
    timing = ", ".join(f"{k} {v:.3f}s" for k, v in summary["timings"].items())
    echo(f"{summary['detector']}: {summary['rows']} rows, {summary['anomalies']} anomalies "
         f"(threshold {summary['threshold']:.6g}; {timing})")
    for name, value in summary["metrics"].items():
        echo(f"  {name.replace('_', ' ')}: {value:.4f}")
    if top > 0:
        print_table(f"top {len(summary['top'])} anomalies", ["row", "score", "label"],
                    [(r["row"], f"{r['score']:.6g}", r["label"]) for r in summary["top"]])
    if summary["output"] is not None:
        echo(f"wrote {summary['output']}")
