"""Training-data fingerprints (same numbers → same hash, any change → another) and the column check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.data import Dataset, NamedArray
from pynomaly_core.errors import InputError
from pynomaly_core.modelstore import check_schema, fingerprint, schema_differences
from pynomaly_core.sdk import load_data

SENSORS = ["temperature", "pressure", "vibration", "current", "humidity"]


def test_same_values_from_any_container_share_the_hash(tmp_path):
    pd = pytest.importorskip("pandas")
    values = np.random.default_rng(0).normal(size=(50, 3))
    frame = pd.DataFrame(values, columns=["a", "b", "c"])
    csv = tmp_path / "d.csv"
    frame.to_csv(csv, index=False, float_format="%.17g")
    from_csv = fingerprint(load_data(csv))
    expected = fingerprint(values)["sha256"]
    for fp in (fingerprint(frame), fingerprint(NamedArray(values, ["a", "b", "c"])), from_csv,
               fingerprint(Dataset(X=values, y=np.zeros(50), feature_names=["a", "b", "c"]))):
        assert fp["sha256"] == expected and fp["n_rows"] == 50 and fp["n_features"] == 3
        assert fp["columns"] == ["a", "b", "c"]
    assert from_csv["source"] == str(csv) and fingerprint(values)["columns"] is None
    assert fingerprint(values, source="s3://b/k")["source"] == "s3://b/k"
    assert fingerprint(values.astype(np.float32).astype(np.float64))["sha256"] != expected


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 12), cols=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_any_single_change_changes_the_hash(rows, cols, seed, data):
    values = np.random.default_rng(seed).normal(size=(rows, cols))
    before = fingerprint(values)["sha256"]
    i, j = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))
    changed = values.copy()
    changed[i, j] = np.nextafter(changed[i, j], np.inf)
    assert fingerprint(changed)["sha256"] != before
    assert fingerprint(values.copy())["sha256"] == before
    if rows * cols > 1 and rows != cols:  # same bytes, other shape
        assert fingerprint(values.reshape(cols, rows))["sha256"] != before


def test_non_numeric_data_is_refused():
    with pytest.raises(InputError, match="training data has a non-numeric value 'x' at row 1, column 0"):
        fingerprint(np.array([["1"], ["x"]], dtype=object))


@pytest.mark.parametrize(("columns", "message"), [
    (["temperature", "pressure", "vibration", "current"], "4 columns instead of 5; missing 'humidity'"),
    (["temperature", "pressure", "vibration", "current", "foo"], "missing 'humidity'; unexpected 'foo'"),
    (["temperature", "pressure", "vibration", "current", "humidity", "foo"],
     "6 columns instead of 5; unexpected 'foo'"),
    (["temperature", "vibration", "pressure", "current", "humidity"],
     "order differs at position 1 ('vibration' here, 'pressure' in training)"),
])
def test_schema_differences_say_exactly_what_differs(columns, message):
    expected = {"columns": SENSORS, "n_features": 5}
    assert "; ".join(schema_differences(expected, columns, len(columns))) == message
    with pytest.raises(InputError) as info:
        check_schema(expected, columns, len(columns), "sensors@3")
    assert str(info.value) == f"columns differ from model sensors@3's training data: {message}"


def test_schema_check_without_names_compares_counts():
    assert schema_differences({"columns": None, "n_features": 5}, ["a", "b"], 2) == ["2 columns instead of 5"]
    assert schema_differences({"columns": SENSORS, "n_features": 5}, None, 5) == []
    assert schema_differences({"columns": SENSORS, "n_features": 5}, SENSORS, 5) == []
    check_schema(None, ["x"], 1, "dir")  # no fingerprint: nothing to check
