"""The graph loaders: what they read, and one-line errors naming the file, line/row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pynomaly_pygod.loaders import load_edgelist_csv, load_graph_npz

from pynomaly_core.errors import InputError
from pynomaly_core.sdk import load_data


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def one_line_error(call, *fragments: str) -> str:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- .npz ----------------------------------------------------------------------------------------------------
def test_npz_reads_a_shared_graph(shared_graph):
    dataset = shared_graph("books.npz")
    assert dataset.kind == "graph" and dataset.X.shape == (1418, 21) and dataset.X.dtype == np.float64
    assert dataset.extra["edge_index"].shape == (2, 3695) and dataset.extra["edge_index"].dtype == np.int64
    assert dataset.y.sum() == 28


def test_npz_through_the_registry(tmp_path):
    path = tmp_path / "g.npz"
    np.savez(path, x=np.eye(3, dtype=np.float32), edge_index=np.array([[0, 1, 2], [1, 2, 0]]))
    dataset = load_data(path, loader="pygod.graph_npz")
    assert dataset.kind == "graph" and dataset.y is None and dataset.n_rows == 3


@pytest.mark.parametrize(("arrays", "fragments"), [
    ({"x": np.eye(3)}, ["no array 'edge_index'", "arrays are x"]),
    ({"x": np.eye(3), "edge_index": np.array([[0, 1], [1, 5]])}, ["row 1, column 1", "node 5", "3 nodes"]),
    ({"x": np.eye(3), "edge_index": np.array([[0.0, 1.0], [1.0, 2.0]])}, ["integer node ids"]),
    ({"x": np.eye(3), "edge_index": np.array([0, 1, 2])}, ["shape (2, n_edges)"]),
    ({"x": np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 1.0]]), "edge_index": np.array([[0], [1]])},
     ["nan at row 1, column 0"]),
    ({"x": np.eye(3), "edge_index": np.array([[0], [1]]), "y": np.array([0, 2, 1])}, ["0/1 labels", "row 1"]),
    ({"x": np.eye(3), "edge_index": np.array([[0], [1]]), "y": np.array([0, 1])}, ["2 labels", "3 nodes"]),
])
def test_npz_errors_name_the_file_and_place(tmp_path, arrays, fragments):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    one_line_error(lambda: load_graph_npz(str(path)), str(path), *fragments)


def test_npz_missing_and_corrupt_files(tmp_path):
    one_line_error(lambda: load_graph_npz(str(tmp_path / "none.npz")), "none.npz", "no such file")
    corrupt = write(tmp_path / "corrupt.npz", "not a zip")
    one_line_error(lambda: load_graph_npz(str(corrupt)), "corrupt.npz", "not a readable .npz")


# -- edge list + node table ----------------------------------------------------------------------------------
NODES = "id,age,score,label\nalice,31,0.5,0\nbob,45,1.5,0\ncarol,22,9.0,1\n"
EDGES = "src,dst,weight\nalice,bob,1\nbob,carol,2\ncarol,alice,1\n"


def test_edge_list_with_string_ids_labels_and_features(tmp_path):
    nodes = write(tmp_path / "people.csv", NODES)
    edges = write(tmp_path / "knows.csv", EDGES)
    dataset = load_edgelist_csv(str(edges), nodes=str(nodes), labels="label")
    assert dataset.kind == "graph" and dataset.feature_names == ["age", "score"]
    np.testing.assert_array_equal(dataset.X, [[31, 0.5], [45, 1.5], [22, 9.0]])
    np.testing.assert_array_equal(dataset.y, [0, 0, 1])
    np.testing.assert_array_equal(dataset.extra["edge_index"], [[0, 1, 2], [1, 2, 0]])
    assert list(dataset.extra["node_ids"]) == ["alice", "bob", "carol"]


def test_directory_form_column_choice_and_undirected(tmp_path):
    write(tmp_path / "nodes.csv", "f1;f2\n1;2\n3;4\n5;6\n")
    write(tmp_path / "edges.csv", "a;b;to;from\n9;9;1;0\n9;9;2;1\n")
    dataset = load_data(tmp_path, loader="pygod.edgelist_csv", undirected=True)
    # no id column: nodes are rows 0..2; "from"/"to" name the source and target
    np.testing.assert_array_equal(dataset.extra["edge_index"], [[0, 1, 1, 2], [1, 2, 0, 1]])
    picked = load_edgelist_csv(str(tmp_path), columns=["f2"], source_column="to", target_column="from")
    np.testing.assert_array_equal(picked.X, [[2], [4], [6]])
    np.testing.assert_array_equal(picked.extra["edge_index"], [[1, 2], [0, 1]])


def test_headerless_numeric_edge_list(tmp_path):
    write(tmp_path / "nodes.csv", "x\n1\n2\n3\n")
    edges = write(tmp_path / "e.csv", "0,1\n1,2\n")
    dataset = load_edgelist_csv(str(edges), nodes=str(tmp_path / "nodes.csv"))
    np.testing.assert_array_equal(dataset.extra["edge_index"], [[0, 1], [1, 2]])


@pytest.mark.parametrize(("nodes", "edges", "fragments"), [
    (NODES, "src,dst\nalice,bob\nbob,dave\n", ["knows.csv", "unknown node 'dave' at line 3, column 'dst'"]),
    (NODES, "src,dst\nalice,bob,3\n", ["knows.csv", "line 2 has 3 fields, expected 2"]),
    (NODES, "src,dst\n", ["knows.csv", "no edges"]),
    ("id,age\nalice,31\nbob,old\n", EDGES, ["people.csv", "non-numeric value 'old' at line 3, column 'age'"]),
    ("id,age\nalice,31\nbob,\n", EDGES, ["people.csv", "empty value at line 3, column 'age'"]),
    ("id,age\nalice,inf\n", EDGES, ["people.csv", "non-finite value 'inf' at line 2, column 'age'"]),
    ("id,age\nalice,1\nalice,2\n", EDGES, ["people.csv", "node id 'alice' at line 3 repeats line 2"]),
    ("id,age,label\nalice,1,0\nbob,2,3\n", EDGES, ["people.csv", "label '3' at line 3, column 'label'"]),
    ("", EDGES, ["people.csv", "empty"]),
])
def test_edge_list_errors_name_the_file_line_and_column(tmp_path, nodes, edges, fragments):
    node_file = write(tmp_path / "people.csv", nodes)
    edge_file = write(tmp_path / "knows.csv", edges)
    labels = "label" if "label" in nodes else None
    one_line_error(lambda: load_edgelist_csv(str(edge_file), nodes=str(node_file), labels=labels), *fragments)


def test_edge_list_option_errors(tmp_path):
    nodes = write(tmp_path / "people.csv", NODES)
    edges = write(tmp_path / "knows.csv", EDGES)
    one_line_error(lambda: load_edgelist_csv(str(edges)), "knows.csv", "no node table", "nodes=")
    one_line_error(lambda: load_edgelist_csv(str(edges), nodes=str(nodes), labels="grade"),
                   "people.csv", "no label column 'grade'")
    one_line_error(lambda: load_edgelist_csv(str(edges), nodes=str(nodes), source_column="from"),
                   "knows.csv", "no source column 'from'", "src, dst, weight")
    one_line_error(lambda: load_edgelist_csv(str(tmp_path / "none.csv"), nodes=str(nodes)), "none.csv", "no such file")
    (tmp_path / "latin1.csv").write_bytes("id,x\nj\xf6rg,1\n".encode("latin-1"))
    one_line_error(lambda: load_edgelist_csv(str(edges), nodes=str(tmp_path / "latin1.csv")),
                   "latin1.csv", "not UTF-8", "line 2")
