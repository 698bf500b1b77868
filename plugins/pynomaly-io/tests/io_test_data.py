"""Data shared by the pynomaly-io tests (a uniquely named module: never import a conftest)."""

from __future__ import annotations

import numpy as np

N_ROWS = 50


def columns() -> dict[str, list]:
    """50 rows: a float column with two nulls, an int column, a string column with one null, 0/1 labels."""
    rng = np.random.default_rng(3)
    temp = rng.normal(20, 2, N_ROWS).round(3).tolist()
    temp[4] = temp[31] = None
    kind = [["pump", "fan", "valve"][i % 3] for i in range(N_ROWS)]
    kind[10] = None
    return {"temp": temp, "rpm": [int(v) for v in rng.integers(900, 1100, N_ROWS)], "kind": kind,
            "label": [int(i % 10 == 0) for i in range(N_ROWS)]}


def expected(missing: str, encoding: str = "onehot") -> tuple[np.ndarray, list[str], np.ndarray]:
    """What every loader must produce for :func:`columns` with labels="label" (computed independently)."""
    data = columns()
    temp = np.array([np.nan if v is None else v for v in data["temp"]])
    rpm = np.array(data["rpm"], dtype=float)
    kind = data["kind"]
    cats = sorted({k for k in kind if k is not None})
    keep = np.ones(N_ROWS, dtype=bool)
    if missing == "drop":
        keep = ~np.isnan(temp) & np.array([k is not None for k in kind])
    else:
        temp = np.where(np.isnan(temp), np.nanmedian(temp), temp)
        mode = max(cats, key=lambda c: (kind.count(c), -cats.index(c)))
        kind = [mode if k is None else k for k in kind]
    codes = np.array([cats.index(k) if k is not None else -1 for k in kind])
    if encoding == "ordinal":
        X = np.column_stack([temp, rpm, codes.astype(float)])
        names = ["temp", "rpm", "kind"]
    else:
        X = np.column_stack([temp, rpm, *[(codes == c).astype(float) for c in range(len(cats))]])
        names = ["temp", "rpm", *[f"kind={c}" for c in cats]]
    return X[keep], names, np.array(data["label"])[keep]
