"""Graph loaders (NumPy only): they return a :class:`~pynomaly_core.data.Dataset` of kind ``"graph"``.

``X`` holds the node features (float64, one row per node), ``y`` optional 0/1 node labels and
``extra["edge_index"]`` the edges as an int64 (2, n_edges) array of row numbers (PyG's layout). Every problem is
an :class:`InputError` of one line naming the file and, where there is one, the line/row and column.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pynomaly_core.data import Dataset
from pynomaly_core.errors import InputError
from pynomaly_pygod.graph import GRAPH_KIND

#: Column names taken as the source / target of an edge when none is given (case-insensitive, in this order).
SOURCE_NAMES = ("source", "src", "from", "u")
TARGET_NAMES = ("target", "dst", "to", "v")
EDGES_FILE = "edges.csv"
NODES_FILE = "nodes.csv"


# -- .npz -------------------------------------------------------------------------------------------------------
def is_graph_npz(source: str) -> bool:
    """Whether ``source`` is an ``.npz`` archive with the graph layout (arrays ``x`` and ``edge_index``): the sniffer
    that lets ``.npz`` files go to this loader or to the core's table loader by their content."""
    try:
        with np.load(source, allow_pickle=False) as archive:
            return {"x", "edge_index"} <= set(archive.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


def load_graph_npz(source: str, *, features: str = "x", edges: str = "edge_index", labels: str | None = "y") -> Dataset:
    """Read a graph archive: node features ``x`` (n_nodes, n_features), ``edge_index`` (2, n_edges) and optional
    0/1 node labels ``y`` (the layout of the PyGOD benchmark graphs converted to NumPy). No pickle."""
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            for key in (features, edges):
                if key not in keys:
                    raise InputError(f"{path}: no array {key!r}; arrays are {', '.join(keys)}")
            x = archive[features]
            edge_index = archive[edges]
            y = archive[labels] if labels is not None and labels in keys else None
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz archive ({str(exc).splitlines()[0]})") from None
    if x.dtype.kind not in "biuf" or x.ndim != 2:
        raise InputError(f"{path}: {features!r} must be a 2-D numeric array, got dtype {x.dtype}, shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{path}: {features!r} holds {x[row, column]} at row {row}, column {column}")
    edge_index = _check_edges(edge_index, x.shape[0], path, edges)
    if y is not None:
        y = _check_labels(y.reshape(-1), x.shape[0], path, labels)
    return Dataset(X=np.asarray(x, dtype=np.float64), y=y, source=str(path), kind=GRAPH_KIND,
                   extra={"edge_index": edge_index})


def _check_edges(edge_index: np.ndarray, n_nodes: int, path: Path, key: str) -> np.ndarray:
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise InputError(f"{path}: {key!r} must have shape (2, n_edges), got {edge_index.shape}")
    if edge_index.dtype.kind not in "iu":
        raise InputError(f"{path}: {key!r} must hold integer node ids, got dtype {edge_index.dtype}")
    if edge_index.shape[1] == 0:
        raise InputError(f"{path}: {key!r} has no edges")
    outside = (edge_index < 0) | (edge_index >= n_nodes)
    if outside.any():
        row, column = (int(i) for i in np.argwhere(outside)[0])
        raise InputError(f"{path}: {key!r} row {row}, column {column} refers to node {int(edge_index[row, column])} "
                         f"but there are {n_nodes} nodes (ids 0..{n_nodes - 1})")
    return np.ascontiguousarray(edge_index, dtype=np.int64)


def _check_labels(y: np.ndarray, n_nodes: int, path: Path, key: str) -> np.ndarray:
    if y.shape[0] != n_nodes:
        raise InputError(f"{path}: {key!r} has {y.shape[0]} labels but there are {n_nodes} nodes")
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        bad = int(np.flatnonzero(~np.isin(y, (0, 1)))[0]) if y.dtype.kind in "biuf" else 0
        raise InputError(f"{path}: {key!r} must hold 0/1 labels; row {bad} holds {y[bad]!r}")
    return y.astype(np.int64)


# -- edge list + node table (CSV) -------------------------------------------------------------------------------
def load_edgelist_csv(
    source: str,
    *,
    nodes: str | None = None,
    columns: Sequence[str | int] | None = None,
    labels: str | None = None,
    id_column: str | None = "id",
    source_column: str | None = None,
    target_column: str | None = None,
    delimiter: str | None = None,
    undirected: bool = False,
) -> Dataset:
    """Read a graph from an edge-list CSV and a node-table CSV.

    ``source`` is the edge file, or a directory holding ``edges.csv`` and ``nodes.csv``. ``nodes`` names the node
    table (default: ``nodes.csv`` in that directory; required when ``source`` is a file).

    * Node table: a header row; one row per node. The ``id_column`` (default ``id``; when the table has no such
      column, nodes are numbered 0, 1, ... by row) names the node as the edge list does; the ``labels`` column
      (0/1) becomes ``y``; the feature columns are ``columns`` (names or indices), else every other column.
    * Edge list: one edge per row, source and target node ids: the ``source_column``/``target_column``, else the
      columns named source/target (src/dst, from/to, u/v), else the first two. The first row is a header unless all
      its cells are numbers. Other columns (weights, times) are ignored. ``undirected=True`` adds each edge's
      reverse (PyGOD's detectors read ``edge_index`` as directed: an undirected graph lists both directions).
    """
    path = Path(source)
    if path.is_dir():
        edges_path, nodes_path = path / EDGES_FILE, Path(nodes) if nodes else path / NODES_FILE
    else:
        if nodes is None:
            raise InputError(f"{path}: no node table: pass nodes=<node CSV>, or give a directory holding "
                             f"{EDGES_FILE} and {NODES_FILE}")
        edges_path, nodes_path = path, Path(nodes)
    node_ids, x, y, names = _read_nodes(nodes_path, columns, labels, id_column, delimiter)
    edge_index = _read_edges(edges_path, nodes_path, node_ids, source_column, target_column, delimiter)
    if undirected:
        edge_index = _with_reverse(edge_index)
    return Dataset(X=x, y=y, feature_names=names, source=str(edges_path), kind=GRAPH_KIND,
                   extra={"edge_index": edge_index, "node_ids": np.asarray(list(node_ids), dtype=str)})


def _read_table(path: Path, delimiter: str | None) -> list[tuple[int, list[str]]]:
    """Non-empty rows of a CSV file with their line numbers."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}: not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at line {line})") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(f"{path}: not valid CSV ({exc})") from None
    return [(i + 1, [cell.strip() for cell in row]) for i, row in enumerate(rows) if any(c.strip() for c in row)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _column(names: list[str], wanted: str | int, path: Path, what: str) -> int:
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit() and wanted not in names):
        index = int(wanted)
        if not 0 <= index < len(names):
            raise InputError(f"{path}: {what} column index {index} out of range (0..{len(names) - 1})")
        return index
    if wanted not in names:
        raise InputError(f"{path}: no {what} column {wanted!r}; columns are {', '.join(names)}")
    return names.index(wanted)


def _read_nodes(path: Path, columns: Sequence[str | int] | None, labels: str | None, id_column: str | None,
                delimiter: str | None) -> tuple[dict[str, int], np.ndarray, np.ndarray | None, list[str]]:
    rows = _read_table(path, delimiter)
    (_, names), body = rows[0], rows[1:]
    if not body:
        raise InputError(f"{path}: no node rows under the header")
    id_index = names.index(id_column) if id_column is not None and id_column in names else None
    label_index = _column(names, labels, path, "label") if labels is not None else None
    if columns is not None:
        feature_indices = [_column(names, c, path, "feature") for c in columns]
    else:
        feature_indices = [i for i in range(len(names)) if i not in (id_index, label_index)]
    if not feature_indices:
        raise InputError(f"{path}: no feature columns (columns are {', '.join(names)})")
    node_ids: dict[str, int] = {}
    first_line: dict[str, int] = {}
    x = np.empty((len(body), len(feature_indices)))
    y = np.empty(len(body), dtype=np.int64) if label_index is not None else None
    for r, (line, row) in enumerate(body):
        if len(row) != len(names):
            raise InputError(f"{path}: line {line} has {len(row)} fields, expected {len(names)}")
        node = row[id_index] if id_index is not None else str(r)
        if id_index is not None and not node:
            raise InputError(f"{path}: empty node id at line {line}, column {names[id_index]!r}")
        if node in node_ids:
            raise InputError(f"{path}: node id {node!r} at line {line} repeats line {first_line[node]}")
        node_ids[node], first_line[node] = r, line
        for j, c in enumerate(feature_indices):
            x[r, j] = _number(row[c], path, line, names[c])
        if label_index is not None:
            value = _number(row[label_index], path, line, names[label_index])
            if value not in (0.0, 1.0):
                raise InputError(f"{path}: label {row[label_index]!r} at line {line}, column "
                                 f"{names[label_index]!r} is not 0 or 1")
            y[r] = int(value)  # type: ignore[index]
    return node_ids, x, y, [names[c] for c in feature_indices]


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        what = "an empty value" if not cell else f"non-numeric value {cell[:40]!r}"
        raise InputError(f"{path}: {what} at line {line}, column {column!r}") from None
    if not np.isfinite(value):
        raise InputError(f"{path}: non-finite value {cell!r} at line {line}, column {column!r}")
    return value


def _read_edges(path: Path, nodes_path: Path, node_ids: dict[str, int], source_column: str | None,
                target_column: str | None, delimiter: str | None) -> np.ndarray:
    rows = _read_table(path, delimiter)
    first_line, first = rows[0]
    if all(_is_number(cell) for cell in first):
        names, body = [str(i) for i in range(len(first))], rows
    else:
        names, body = first, rows[1:]
    if len(names) < 2:
        raise InputError(f"{path}: an edge list needs two columns (source, target), line {first_line} has "
                         f"{len(names)}")
    lowered = [n.lower() for n in names]
    src = (_column(names, source_column, path, "source") if source_column is not None
           else _default(lowered, SOURCE_NAMES, 0))
    dst = (_column(names, target_column, path, "target") if target_column is not None
           else _default(lowered, TARGET_NAMES, 1))
    if not body:
        raise InputError(f"{path}: no edges under the header")
    edges = np.empty((2, len(body)), dtype=np.int64)
    for e, (line, row) in enumerate(body):
        if len(row) != len(names):
            raise InputError(f"{path}: line {line} has {len(row)} fields, expected {len(names)}")
        for side, c in enumerate((src, dst)):
            index = node_ids.get(row[c])
            if index is None:
                shown = repr(row[c]) if row[c] else "an empty node id"
                raise InputError(f"{path}: unknown node {shown} at line {line}, column {names[c]!r} "
                                 f"(not in {nodes_path.name})")
            edges[side, e] = index
    return edges


def _default(lowered: list[str], candidates: tuple[str, ...], fallback: int) -> int:
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    return fallback


def _with_reverse(edge_index: np.ndarray) -> np.ndarray:
    """The edges followed by the reverse of each, without duplicates (first occurrence kept)."""
    both = np.concatenate([edge_index, edge_index[::-1]], axis=1)
    codes = both[0] * (int(both.max()) + 1) + both[1]
    _, first = np.unique(codes, return_index=True)
    return np.ascontiguousarray(both[:, np.sort(first)])

