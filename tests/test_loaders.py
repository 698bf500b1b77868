"""Built-in loaders: header/delimiter detection, selection, labels and one-line errors naming file, line, column."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core import load_data
from pynomaly_core.errors import InputError

from .conftest import EXAMPLES


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_with_header_labels_and_columns(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,c,y\n1,2,3,0\n4,5,6,1\n")
    data = load_data(path, labels="y")
    assert data.feature_names == ["a", "b", "c"] and data.X.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert data.y.tolist() == [0, 1]
    assert load_data(path, columns=["c", "a"]).X.tolist() == [[3, 1], [6, 4]]


def test_csv_without_header_and_other_delimiters(tmp_path):
    assert load_data(write(tmp_path, "n.csv", "1;2\n3;4\n")).X.tolist() == [[1, 2], [3, 4]]
    tsv = load_data(write(tmp_path, "t.tsv", "x\ty\n1\t2\n"))
    assert tsv.feature_names == ["x", "y"]
    assert load_data(write(tmp_path, "b.csv", "\ufeffp,q\r\n1,2\r\n\r\n")).X.tolist() == [[1, 2]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3,x\n", r"non-numeric value 'x' at line 3, column 'b'"),
        ("a,b\n1,2\n3,\n", r"an empty value at line 3, column 'b'"),
        ("a,b\n1,2\n3,4,5\n", r"line 3 has 3 fields, expected 2"),
        ("a,b\n1,nan\n", r"non-finite value 'nan' at line 2, column 'b'"),
        ("", r"the file is empty"),
        ("a,b\n", r"no data rows"),
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError, match=rf"{path}: {message}"):
        load_data(path)


def test_csv_selection_errors(tmp_path):
    path = write(tmp_path, "d.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="no column 'z'; columns are a, b"):
        load_data(path, columns=["z"])
    with pytest.raises(InputError, match="no label column 'y'"):
        load_data(path, labels="y")


def test_non_utf8_and_missing_files(tmp_path):
    path = write(tmp_path, "latin.csv", "a,b\n1,\xe9\n", encoding="latin-1")
    with pytest.raises(InputError, match=r"not UTF-8 text \(invalid byte 0xe9 at line 2, byte offset 6\)"):
        load_data(path)
    with pytest.raises(InputError, match="no such file"):
        load_data(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"no loader for suffix '.xyz'"):
        load_data(tmp_path / "data.xyz")


def test_npy_and_npz(tmp_path, pynomaly_registry):
    """With the core's loaders only (an installed graph plugin would take the graph-shaped archive)."""
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(3, 2))
    assert load_data(tmp_path / "a.npy").X.shape == (3, 2)
    np.save(tmp_path / "v.npy", np.arange(4))
    assert load_data(tmp_path / "v.npy").X.shape == (4, 1)
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="without pickle"):
        load_data(tmp_path / "o.npy")
    cardio = load_data(EXAMPLES / "cardio.npz")
    assert cardio.X.shape == (1831, 21) and int(cardio.y.sum()) == 176
    np.savez(tmp_path / "g.npz", x=np.ones((4, 2)), edge_index=np.zeros((2, 3)))
    with pytest.raises(InputError, match="no array 'X'; arrays are x, edge_index"):
        load_data(tmp_path / "g.npz")
    assert load_data(tmp_path / "g.npz", features="x", labels=None).X.shape == (4, 2)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match=r"not a readable \.npz archive"):
        load_data(tmp_path / "broken.npz")
