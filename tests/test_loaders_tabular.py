"""Core loaders beyond plain numbers: categorical columns, missing-value policies, JSON Lines, batches, bad files,
and DataFrames / Arrow tables handed to the SDK."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynomaly_core import detect, load_data
from pynomaly_core.data import concat_datasets
from pynomaly_core.errors import InputError
from pynomaly_core.streaming import iter_batches
from pynomaly_core.testing import check_loader

CATEGORICAL_CSV = "a,color,b,y\n1,red,2,0\n2,blue,,1\n3,red,4,0\n,green,5,1\n7,blue,9,0\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_categorical_onehot_and_ordinal(tmp_path):
    path = write(tmp_path, "c.csv", "a,color\n1,red\n2,blue\n3,red\n")
    onehot = load_data(path)
    assert onehot.feature_names == ["a", "color=blue", "color=red"]
    assert onehot.X.tolist() == [[1, 0, 1], [2, 1, 0], [3, 0, 1]]
    ordinal = load_data(path, encoding="ordinal")
    assert ordinal.feature_names == ["a", "color"] and ordinal.X[:, 1].tolist() == [1, 0, 1]
    # explicit categorical: a numeric-looking column is encoded too
    coded = load_data(path, categorical=["a"], columns=["a"])
    assert coded.feature_names == ["a=1", "a=2", "a=3"] and coded.X.sum(axis=1).tolist() == [1, 1, 1]
    with pytest.raises(InputError, match="encoding must be one of onehot, ordinal"):
        load_data(path, encoding="binary")


def test_missing_policies(tmp_path):
    path = write(tmp_path, "m.csv", CATEGORICAL_CSV)
    with pytest.raises(InputError, match=rf"{path}: an empty value at line 3, column 'b'$"):
        load_data(path, labels="y")
    dropped = load_data(path, labels="y", missing="drop")
    assert dropped.X[:, 0].tolist() == [1, 3, 7] and dropped.y.tolist() == [0, 0, 0]
    imputed = load_data(path, labels="y", missing="impute-median", encoding="ordinal")
    # a: median of 1,2,3,7 = 2.5; b: median of 2,4,5,9 = 4.5
    assert imputed.X[:, 0].tolist() == [1, 2, 3, 2.5, 7] and imputed.X[:, 2].tolist() == [2, 4.5, 4, 5, 9]
    with pytest.raises(InputError, match="missing must be one of error, drop, impute-median"):
        load_data(path, missing="zero")


def test_missing_category_imputed_with_the_mode(tmp_path):
    path = write(tmp_path, "m.csv", "x,k\n1,u\n2,\n3,v\n4,u\n")
    data = load_data(path, missing="impute-median", encoding="ordinal")
    assert data.X[:, 1].tolist() == [0, 0, 1, 0]


def test_jsonl_loader(tmp_path):
    rows = [{"a": 1, "kind": "x", "y": 0}, {"a": 2.5, "kind": "y", "y": 1}, {"a": None, "kind": "x", "y": 0}]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    data = load_data(path, labels="y", missing="drop")
    assert data.feature_names == ["a", "kind=x", "kind=y"] and data.X.tolist() == [[1, 1, 0], [2.5, 0, 1]]
    assert data.y.tolist() == [0, 1]
    with pytest.raises(InputError, match=rf"{path}: missing value at line 3, column 'a'"):
        load_data(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1}\n{"a": }\n', r"line 2 is not valid JSON \(Expecting value at column 7\)"),
        ('{"a": 1}\n[1, 2]\n', r"line 2 is not a JSON object"),
        ('{"a": 1}\n{"a": 2, "b": 3}\n', r"line 2 has unknown key 'b'; keys are a"),
        ('{"a": 1}\n{"a": "x"}\n{"a": 3}\n', r"non-numeric value 'x' at line 2, column 'a'"),
        ("", r"the file is empty"),
    ],
)
def test_jsonl_errors(tmp_path, text, message):
    path = write(tmp_path, "bad.jsonl", text)
    with pytest.raises(InputError, match=rf"{path}: {message}"):
        load_data(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,2\n3,4\n5", r"line 4 has 1 fields, expected 2"),  # truncated mid-row
        (b"a,b\n1,2\n\"3,4\n", r"malformed CSV at line 3"),  # truncated inside a quote
        (b"a,b\n1,2\n3,4,5\n", r"line 3 has 3 fields, expected 2"),
        (b"a,b\n1,2\n3,x\n", r"non-numeric value 'x' at line 3, column 'b'"),
        (b"a,b\n1,2\n3,\xff\n", r"not UTF-8 text \(invalid byte 0xff at line 3, byte offset 10\)"),
        (b"   \n\n", r"the file is empty"),
        (b"a,b\n1,inf\n", r"non-finite value 'inf' at line 2, column 'b'"),
    ],
)
def test_bad_csv_files_name_the_line_and_column(tmp_path, content, message):
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(InputError, match=rf"^{path}: {message}") as info:
        load_data(path)
    assert "\n" not in str(info.value)


def test_huge_single_line_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    from pynomaly_core.builtin import loaders

    monkeypatch.setattr(loaders, "MAX_LINE_BYTES", 1024)
    path = write(tmp_path, "wide.csv", "a,b\n1,2\n" + "9," * 2000 + "9\n")
    with pytest.raises(InputError, match=rf"{path}: line 3 is longer than"):
        load_data(path)
    monkeypatch.undo()
    # csv's own field limit (a field longer than 128 KiB) is reported with its line as well
    big = write(tmp_path, "field.csv", 'a,b\n1,"' + "x" * 200_000 + '"\n')
    with pytest.raises(InputError, match=rf"{big}: malformed CSV at line 2 \(field larger than field limit"):
        load_data(big)


def test_npy_batches_are_memory_mapped_slices(tmp_path):
    array = np.arange(30.0).reshape(10, 3)
    np.save(tmp_path / "a.npy", array)
    batches = list(iter_batches(tmp_path / "a.npy", 4))
    assert [b.n_rows for b in batches] == [4, 4, 2]
    assert np.array_equal(concat_datasets(batches).X, array) and type(batches[0].X) is np.ndarray


def test_loaders_without_iter_target_are_sliced(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.arange(10.0).reshape(5, 2), y=np.array([0, 1, 0, 0, 1]))
    batches = list(iter_batches(tmp_path / "d.npz", 2))
    assert [b.n_rows for b in batches] == [2, 2, 1] and concat_datasets(batches).y.tolist() == [0, 1, 0, 0, 1]


def test_conformance_kit_checks_batches(tmp_path):
    path = write(tmp_path, "c.csv", CATEGORICAL_CSV)
    check_loader("csv", path, n_rows=3, labels="y", missing="drop")
    check_loader("csv", path, n_rows=5, labels="y", missing="impute-median")
    jsonl = write(tmp_path, "d.jsonl", "".join(json.dumps({"a": i, "k": "xyz"[i % 3]}) + "\n" for i in range(20)))
    check_loader("jsonl", jsonl, n_rows=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.tuples(st.one_of(st.none(), st.integers(-50, 50)), st.sampled_from(["p", "q", "r", ""])),
                    min_size=1, max_size=40),
    rows=st.integers(1, 45),
    missing=st.sampled_from(["drop", "impute-median"]),
    encoding=st.sampled_from(["onehot", "ordinal"]),
)
def test_any_batch_size_gives_the_whole_load(tmp_path_factory, values, rows, missing, encoding):
    """The law behind out-of-core scoring: batches of any size concatenate to the whole load, with the same
    categories and fill values (fitted on a first pass), for every missing-value policy and encoding."""
    values = [(7, "p"), *values]  # at least one complete row
    path = tmp_path_factory.mktemp("law") / "d.csv"
    path.write_text("num,cat\n" + "".join(f"{'' if n is None else n},{c}\n" for n, c in values))
    options = {"missing": missing, "encoding": encoding, "categorical": ["cat"]}
    whole = load_data(path, **options)
    batches = list(iter_batches(path, rows, **options))
    assert all(0 < b.n_rows <= rows for b in batches)
    joined = concat_datasets(batches)
    assert np.array_equal(joined.X, whole.X) and joined.feature_names == whole.feature_names
    expected = sum(1 for n, c in values if n is not None and c) if missing == "drop" else len(values)
    assert whole.n_rows == expected


def test_dataframes_and_arrow_tables_keep_column_names():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[5] = 9.0
    columns = {"temp": X[:, 0], "load": X[:, 1], "speed": X[:, 2]}
    expected = detect(X, "ecod").scores
    for frame in (pd.DataFrame(columns), pl.DataFrame(columns), pa.table(columns)):
        result = detect(frame, "ecod")
        assert result.feature_names == ["temp", "load", "speed"], type(frame)
        assert np.allclose(result.scores, expected) and int(result.top(1)[0]) == 5
    with pytest.raises(InputError, match="column 'kind' is not numeric"):
        detect(pd.DataFrame({**columns, "kind": ["a"] * 200}), "ecod")
