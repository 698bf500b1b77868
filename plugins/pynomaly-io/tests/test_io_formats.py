"""Parquet, Arrow IPC / Feather and HDF5 from real files: whole loads, batches, encodings, bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from io_test_data import N_ROWS, columns, expected

from pynomaly_core import load_data
from pynomaly_core.data import concat_datasets
from pynomaly_core.errors import InputError
from pynomaly_core.streaming import iter_batches
from pynomaly_core.testing import check_loader


def write_parquet(path, table):
    pq.write_table(table, path, row_group_size=16)  # several row groups: batches cross their boundaries


def write_feather(path, table):
    feather.write_feather(table, path, chunksize=9)


def write_ipc_stream(path, table):
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=11):
            writer.write_batch(batch)


WRITERS = {"t.parquet": write_parquet, "t.feather": write_feather, "t.arrow": write_ipc_stream}


@pytest.fixture(params=sorted(WRITERS))
def arrow_file(request, tmp_path):
    path = tmp_path / request.param
    table = pa.table(columns()).cast(pa.schema([("temp", pa.float64()), ("rpm", pa.int32()),
                                                ("kind", pa.dictionary(pa.int8(), pa.string())
                                                 if request.param == "t.feather" else pa.string()),
                                                ("label", pa.int64())]))
    WRITERS[request.param](path, table)
    return path


@pytest.mark.parametrize("missing", ["drop", "impute-median"])
@pytest.mark.parametrize("encoding", ["onehot", "ordinal"])
def test_arrow_formats_load_and_batch(arrow_file, missing, encoding):
    X, names, y = expected(missing, encoding)
    data = load_data(arrow_file, labels="label", missing=missing, encoding=encoding)
    assert data.feature_names == names and data.y.tolist() == y.tolist()
    np.testing.assert_allclose(data.X, X, rtol=0, atol=0)
    batches = list(iter_batches(arrow_file, 7, labels="label", missing=missing, encoding=encoding))
    assert all(b.n_rows <= 7 for b in batches)
    joined = concat_datasets(batches)
    assert np.array_equal(joined.X, data.X) and np.array_equal(joined.y, data.y)


def test_arrow_formats_pass_the_loader_conformance_checks(arrow_file):
    name = {".parquet": "io.parquet", ".feather": "io.arrow", ".arrow": "io.arrow"}[arrow_file.suffix]
    check_loader(name, arrow_file, n_rows=N_ROWS, labels="label", missing="impute-median")


def test_column_selection_reads_only_those_columns(arrow_file):
    data = load_data(arrow_file, columns=["rpm"])
    assert data.feature_names == ["rpm"] and data.X[:, 0].tolist() == columns()["rpm"]


def test_a_null_is_an_error_naming_row_and_column_by_default(arrow_file):
    with pytest.raises(InputError, match=rf"^{arrow_file}: missing value at row 4, column 'temp'"):
        load_data(arrow_file, labels="label")


def test_strings_in_a_numeric_column(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0], "b": ["1", "2", "x"]}), path)
    with pytest.raises(InputError, match=rf"{path}: non-numeric value 'x' at row 2, column 'b'"):
        load_data(path, categorical=None)
    assert load_data(path, categorical=["b"], encoding="ordinal").X[:, 1].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.parquet", b"", "the file is empty"),
        ("junk.parquet", b"not parquet at all" * 10, "not a readable Parquet file"),
        ("junk.arrow", b"\x00\x01garbage" * 10, "not a readable Arrow IPC file"),
        ("junk.h5", b"\x89HDF garbage" * 10, "not a readable HDF5 file"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"^{path}: {message}") as info:
        load_data(path)
    assert "\n" not in str(info.value)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": np.arange(1000.0)}), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match=rf"^{path}: not a readable Parquet file"):
        load_data(path)


def test_truncated_arrow_stream(tmp_path):
    path = tmp_path / "t.arrow"
    write_ipc_stream(path, pa.table({"a": np.arange(1000.0)}))
    path.write_bytes(path.read_bytes()[:-3000])
    with pytest.raises(InputError, match=rf"^{path}: not a readable Arrow IPC file"):
        list(iter_batches(path, 100))


def test_unsupported_column_type(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "when": pa.array([1, 2], pa.timestamp("s"))}), path)
    with pytest.raises(InputError, match=rf"{path}: column 'when' has unsupported type timestamp\[ms\]"):
        load_data(path)


# -- HDF5 -------------------------------------------------------------------------------------------------------
def test_hdf5_matrix_with_labels_and_column_names(tmp_path):
    path = tmp_path / "d.h5"
    X = np.arange(40.0).reshape(20, 2)
    with h5py.File(path, "w") as handle:
        handle["X"] = X
        handle["X"].attrs["columns"] = ["left", "right"]
        handle["y"] = (np.arange(20) % 4 == 0).astype(np.int8)
    data = load_data(path)
    assert data.feature_names == ["left", "right"] and np.array_equal(data.X, X)
    assert data.y.tolist() == (np.arange(20) % 4 == 0).astype(int).tolist()
    check_loader("io.hdf5", path, n_rows=20)
    assert [b.n_rows for b in iter_batches(path, 8)] == [8, 8, 4]


def test_hdf5_table_dataset_by_path(tmp_path):
    path = tmp_path / "t.h5"
    table = np.zeros(6, dtype=[("p", "f8"), ("q", "i4"), ("lab", "i1")])
    table["p"] = [1, 2, np.nan, 4, 5, 6]
    table["q"] = [10, 20, 30, 40, 50, 60]
    table["lab"] = [0, 0, 1, 0, 1, 0]
    with h5py.File(path, "w") as handle:
        handle.create_dataset("plant/readings", data=table)
        handle["other"] = np.ones(3)
    with pytest.raises(InputError, match=r"several datasets \(other, plant/readings\); pass dataset=PATH"):
        load_data(path)
    with pytest.raises(InputError, match=r"missing value at row 2, column 'p'"):
        load_data(path, dataset="plant/readings", labels="lab")
    data = load_data(path, dataset="plant/readings", labels="lab", missing="impute-median")
    assert data.feature_names == ["p", "q"] and data.X[:, 0].tolist() == [1, 2, 4, 4, 5, 6]
    assert data.y.tolist() == [0, 0, 1, 0, 1, 0]
    dropped = load_data(path, dataset="plant/readings", labels="lab", missing="drop")
    assert dropped.y.tolist() == [0, 0, 0, 1, 0]
    with pytest.raises(InputError, match=r"no dataset 'nope'; datasets are other, plant/readings"):
        load_data(path, dataset="nope")
