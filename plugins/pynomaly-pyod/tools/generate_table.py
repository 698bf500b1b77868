"""Generate ``pynomaly_pyod/_table.py``, the static table of PyOD models, from the installed PyOD.

    python tools/generate_table.py          # rewrite the table
    python tools/generate_table.py --check  # exit 1 when the committed table differs from the installed PyOD

Discovery reads PyOD's source (``pyod/models/*.py``) with :mod:`ast`, so it works without PyOD's optional
dependencies: every public class that derives from PyOD's ``BaseDetector`` is a model. Parameters and defaults
come from :func:`inspect.signature` when the module imports, else from the ``__init__`` definition in the source
(``tests/test_pyod_table.py`` checks that both readings agree). Optional packages a model needs are the
third-party imports of its module (and of the PyOD modules it imports) plus the ``requires`` of PyOD's own
knowledge base. Anything the generator cannot map (a new non-JSON default, a model that fits no data kind)
stops it with an error naming the model, so a new PyOD release is reviewed before it is registered.

Defaults that JSON cannot hold are mapped as follows: a tuple becomes a list (the adapter passes a tuple back
to PyOD); a parameter without default (``DeepSVDD.n_features``, ``LSCP.detector_list``) gets ``None`` and is
listed in ``required``. Any other non-JSON default is an error.

Read from the source: ``transductive`` (``decision_function`` only raises NotImplementedError, or the model is in
``BATCH_LOCAL``: it refits on the rows it scores), ``supervised`` (``fit(self, X, y)`` without a default for ``y``)
and ``standard_threshold`` (``fit`` ends with PyOD's default threshold). Capabilities: ``save`` for ``SAFE_STATE``,
else ``pickle_save`` (neither when transductive or in ``UNSAVEABLE``); ``deterministic_with_seed`` unless the model
is in ``UNSEEDED`` or needs torch without a seed parameter; ``gpu`` with a ``device`` parameter; ``supervised``;
``transductive``; ``batch_dependent`` (``BATCH_DEPENDENT``); ``single_feature`` (``SINGLE_FEATURE``); ``float32``
for the models that need torch. The curated
sets below say why for each entry; the conformance kit checks the batch and transductive claims against the models.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from pynomaly_core.wrapping import render_table, write_or_check

TABLE = Path(__file__).resolve().parents[1] / "pynomaly_pyod" / "_table.py"

#: Abstract bases of PyOD's detectors (not models themselves).
ABSTRACT = frozenset({"pyod.models.base:BaseDetector", "pyod.models.base_dl:BaseDeepLearningDetector"})

#: Models that pynomaly cannot drive, with the reason (shown by the table test and the README).
EXCLUDED = {
    "pyod.models.embedding:EmbeddingOD": "raw text/image/audio input through a foundation-model encoder; "
                                         "no pynomaly data kind for it",
    "pyod.models.embedding:MultiModalOD": "a dict of raw modalities (text, image, audio); no pynomaly data kind for it",
    "pyod.models.audio_ae:AudioAE": "audio clips (paths or waveforms), not a numeric matrix; no pynomaly data kind",
}

#: Registry names and adapter class names where the module name or PyOD class name does not serve.
NAMES = {"pyod.models.so_gaal_new:SO_GAAL": ("so_gaal_new", "SO_GAAL_New")}

#: Summary notes for models that PyOD's knowledge base does not describe.
SUMMARIES = {
    "so_gaal_new": "Single-Objective Generative Adversarial Active Learning, PyOD's rewrite on its deep-learning base.",
}

#: Models whose fitted PyOD object holds only arrays, numbers and strings: saved as npz + JSON (no pickle).
SAFE_STATE = frozenset({"cof", "copod", "ecod", "hbos", "inne", "loci", "loda", "mad", "sod", "sos"})

#: Models whose ``decision_function`` refits on the rows it is given, so new rows are scored from those rows alone
#: (fitting on N(0, 1) or on N(5, 3) gives bit-identical scores): registered as transductive.
BATCH_LOCAL = {
    "cof": "decision_function runs COF on the given rows only (and fails on batches smaller than n_neighbors)",
    "lmdd": "decision_function computes the deviation of the given rows only (a single row scores 0)",
    "loci": "decision_function runs LOCI on the given rows only (a single row scores 0)",
    "sod": "decision_function runs SOD on the given rows only (a single row is an input error)",
    "sos": "decision_function computes affinities among the given rows only (a single row gives NaN)",
}

#: Models whose score of a row depends on the other rows scored with it: they declare ``batch_dependent``, so
#: out-of-core scoring refuses them and scikit-learn's subset-invariance checks are expected to fail. Every
#: time-series model does too (its windows span the rows around each one).
BATCH_DEPENDENT = {
    "copod": "decision_function fits its copula on the training rows and the scored rows together",
    "ecod": "decision_function fits its ECDFs on the training rows and the scored rows together",
    "cd": "decision_function computes leverages and residual variance from the scored rows themselves",
    "dif": "decision_function standardises the scored rows' representations with their own statistics",
    "rgraph": "decision_function appends blocks of scored rows to the training rows and solves for them together",
    "rod": "decision_function rescales the scored rows by their own median and MAD",
    "vae": "decision_function samples latent codes in order through the batch: a row's draw depends on its position",
}

#: Models that fit data with exactly one feature.
SINGLE_FEATURE = {"mad": "PyOD's MAD accepts one feature only"}

#: Models whose fitted PyOD object cannot be pickled, so they declare neither ``save`` nor ``pickle_save``.
UNSAVEABLE = {
    "mo_gaal": "its discriminators are instances of a class defined inside gaal_base.create_discriminator",
    "ts_lstm": "its network is an instance of a class defined inside _LSTMModel.__init__",
}

#: Parameters that hold PyOD detectors: the adapter also accepts pynomaly names there (``["lof", "knn"]``).
DETECTOR_PARAMS = {
    "feature_bagging": ("base_estimator",),
    "lscp": ("detector_list",),
    "suod": ("base_estimators",),
    "xgbod": ("estimator_list",),
}

#: Models that draw random numbers they take no seed for (torch models without a seed parameter are found
#: automatically); they do not declare ``deterministic_with_seed``.
UNSEEDED = {
    "suod": "its random projections take no seed parameter",
    "ts_od": "the inner detector it builds from a name (IForest by default) gets no seed",
}

#: Attribute names of the adapter (pynomaly's BaseDetector plus the adapter's own) that no parameter may take.
RESERVED = frozenset({"allow_nan", "decision_function", "decision_scores_", "qualified_name", "estimator_",
                      "feature_names_in_", "fit", "fit_predict", "get_params", "labels_", "n_features_in_",
                      "partial_fit", "predict", "save", "score_samples", "set_params", "threshold_"})

#: PyOD knowledge-base data types → pynomaly data kinds.
KINDS = {"tabular": "tabular", "time_series": "timeseries", "graph": "graph"}
SEED_PARAMS = ("random_state", "random_seed")
#: Import names that PyOD itself depends on (never "missing" when PyOD is installed).
PYOD_DEPENDENCIES = frozenset({"joblib", "matplotlib", "numpy", "numba", "scipy", "sklearn"})


def pyod_root() -> Path:
    spec = importlib.util.find_spec("pyod")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("PyOD is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def pyod_version() -> str:
    return importlib.metadata.version("pyod")


def knowledge_base() -> dict[str, dict[str, Any]]:
    """PyOD's own algorithm metadata, keyed by ``module:Class``."""
    entries = json.loads((pyod_root() / "utils" / "knowledge" / "algorithms.json").read_text())
    return {_colon(entry["class_path"]): entry for entry in entries.values()}


def _colon(dotted: str) -> str:
    module, _, name = dotted.rpartition(".")
    return f"{module}:{name}"


# -- discovery -------------------------------------------------------------------------------------------
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def discover() -> dict[str, ast.ClassDef]:
    """Every public detector class in ``pyod/models`` (``module:Class`` → its AST), abstract bases excluded."""
    return {key: node for key, (node, _) in _classes().items()
            if _derives(key, "BaseDetector") and key not in ABSTRACT}


@functools.cache
def _classes() -> dict[str, tuple[ast.ClassDef, list[str]]]:
    """Every public class in ``pyod/models`` with the names of its bases."""
    classes: dict[str, tuple[ast.ClassDef, list[str]]] = {}
    for path in sorted((pyod_root() / "models").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = f"pyod.models.{path.stem}"
        for node in _parse(path).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = [ast.unparse(base).rpartition(".")[2] for base in node.bases]
                classes[f"{module}:{node.name}"] = (node, bases)
    return classes


def _derives(key: str, base: str) -> bool:
    """Whether the class ``key`` is ``base`` or derives from it (by class name, through PyOD's own classes)."""
    classes = _classes()
    family = {base}
    changed = True
    while changed:
        changed = False
        for other, (_, bases) in classes.items():
            name = other.partition(":")[2]
            if name not in family and family.intersection(bases):
                family.add(name)
                changed = True
    return key.partition(":")[2] in family


# -- signatures ------------------------------------------------------------------------------------------
_MISSING = object()


def signature_inspect(target: str) -> dict[str, Any] | None:
    """``{parameter: default or _MISSING}`` read with inspect, or None when the module does not import."""
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except Exception:  # optional dependency absent (torch, combo, xgboost, ...)
        return None
    parameters = inspect.signature(cls.__init__).parameters
    return {name: _MISSING if p.default is p.empty else p.default for name, p in parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def signature_source(target: str, node: ast.ClassDef) -> dict[str, Any]:
    """The same mapping read from the class's ``__init__`` in PyOD's source."""
    init = _method(node, "__init__")
    if init is None:
        raise SystemExit(f"{target}: no __init__ in the class body; cannot read its parameters without importing it")
    constants = _module_constants(target)
    args = init.args
    positional = args.posonlyargs + args.args
    defaults = [_MISSING] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults, strict=True))[1:]
    pairs += list(zip(args.kwonlyargs, [_MISSING if d is None else d for d in args.kw_defaults], strict=True))
    return {arg.arg: default if default is _MISSING else _literal(default, constants, target)
            for arg, default in pairs}


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    return next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _module_constants(target: str) -> dict[str, Any]:
    path = pyod_root() / "models" / f"{target.partition(':')[0].rpartition('.')[2]}.py"
    constants = {}
    for node in _parse(path).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def _literal(node: ast.expr, constants: dict[str, Any], target: str) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise SystemExit(f"{target}: default {ast.unparse(node)!r} is not a literal") from None


def jsonable(target: str, name: str, default: Any) -> tuple[Any, bool]:
    """``(JSON default, was_tuple)``; stops on a default that has no sensible JSON form."""
    was_tuple = isinstance(default, tuple)
    value = list(default) if was_tuple else default
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise SystemExit(f"{target}: default of {name!r} ({default!r}) has no JSON form; add a mapping") from None
    if json.loads(text) != value:
        raise SystemExit(f"{target}: default of {name!r} ({default!r}) does not survive JSON; add a mapping")
    return value, was_tuple


# -- behaviour read from the source ----------------------------------------------------------------------
def is_transductive(node: ast.ClassDef) -> bool:
    """``decision_function`` only raises NotImplementedError: the model scores its training data only."""
    method = _method(node, "decision_function")
    if method is None:
        return False
    body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


def is_supervised(node: ast.ClassDef) -> bool:
    """``fit(self, X, y)`` without a default for ``y``: the model needs labels."""
    method = _method(node, "fit")
    if method is None:
        return False
    args = method.args.args
    n_defaults = len(method.args.defaults)
    return len(args) >= 3 and args[2].arg == "y" and len(args) - n_defaults > 2


def has_standard_threshold(node: ast.ClassDef) -> bool:
    """``fit`` ends with PyOD's own ``_process_decision_scores()`` (not overridden) and changes neither
    ``decision_scores_`` nor ``threshold_`` after it: PyOD's ``threshold_`` is then ``np.percentile`` of the final
    training scores at ``100 * (1 - contamination)``, exactly the core's threshold, and the adapter reuses it."""
    if _method(node, "_process_decision_scores") is not None:
        return False
    fit = _method(node, "fit")
    if fit is None:
        return False
    calls = [i for i, stmt in enumerate(fit.body) if "self._process_decision_scores()" in ast.unparse(stmt)]
    if not calls:
        return False
    later = fit.body[calls[-1] + 1:]
    return not any(attr in ast.unparse(stmt) for stmt in later for attr in ("decision_scores_", "threshold_"))


def third_party_imports(module: str) -> set[str]:
    """Top-level packages imported by ``module`` (anywhere in it) and, transitively, by the PyOD modules it
    imports at module level (private ``_helpers`` count in full); PyOD's own dependencies and stdlib excluded."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = [(module, True)]
    while todo:
        name, everything = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _source_of(name)
        if path is None:
            continue
        external, internal = _imports(path, name, everything)
        found |= external
        todo += [(m, m.rpartition(".")[2].startswith("_")) for m in internal]
    return {p for p in found if p not in sys.stdlib_module_names and p not in PYOD_DEPENDENCIES and p != "pyod"}


def _source_of(module: str) -> Path | None:
    path = pyod_root().parent.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return path / "__init__.py" if (path / "__init__.py").is_file() else None


def _imports(path: Path, module: str, everything: bool) -> tuple[set[str], set[str]]:
    tree = _parse(path)
    nodes = list(ast.walk(tree)) if everything else list(_module_level(tree.body))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    external, internal = set(), set()
    for node in nodes:
        if isinstance(node, ast.Import):
            external |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            (internal if node.module.startswith("pyod") else external).add(
                node.module if node.module.startswith("pyod") else node.module.partition(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            internal.add(base)
            internal |= {f"{base}.{alias.name}" for alias in node.names}
    return external, internal


def _module_level(body: list[ast.stmt]):
    for node in body:
        yield node
        if isinstance(node, ast.Try):
            yield from _module_level(node.body)
        elif isinstance(node, ast.If):
            yield from _module_level(node.body + node.orelse)


# -- the table -------------------------------------------------------------------------------------------
def build() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The rows of the table (sorted by name) and the excluded models with their reasons."""
    kb = knowledge_base()
    found = discover()
    shipped = {key for key, entry in kb.items() if entry.get("status") in ("shipped", "experimental")}
    unknown = sorted(shipped - set(found))
    if unknown:
        raise SystemExit(f"PyOD's knowledge base lists models the source scan missed: {', '.join(unknown)}")
    stale = sorted(set(EXCLUDED) - set(found))
    if stale:
        raise SystemExit(f"excluded models no longer in PyOD: {', '.join(stale)}; update EXCLUDED")
    rows = [_row(target, node, kb.get(target)) for target, node in found.items() if target not in EXCLUDED]
    rows.sort(key=lambda row: row["name"])
    for field in ("name", "adapter"):
        seen = [row[field] for row in rows]
        duplicates = sorted({value for value in seen if seen.count(value) > 1})
        if duplicates:
            raise SystemExit(f"duplicate {field}s {duplicates}: add them to NAMES")
    return rows, dict(sorted(EXCLUDED.items()))


def _row(target: str, node: ast.ClassDef, kb: dict[str, Any] | None) -> dict[str, Any]:
    module, _, class_name = target.partition(":")
    stem = module.rpartition(".")[2]
    name, adapter = NAMES.get(target, (stem, class_name))
    kind = "timeseries" if stem.startswith("ts_") else "graph" if stem.startswith("pyg_") else "tabular"
    if kb is not None and [KINDS.get(t) for t in kb["data_types"]] != [kind]:
        raise SystemExit(f"{target}: PyOD says data types {kb['data_types']}, the module name says {kind}")
    signature = signature_inspect(target)
    if signature is None:
        signature = signature_source(target, node)
    params, required, tuples = {}, [], []
    clash = sorted(set(signature) & RESERVED)
    if clash:
        raise SystemExit(f"{target}: parameter(s) {clash} would shadow attributes of the pynomaly adapter")
    for pname, default in signature.items():
        if default is _MISSING:
            params[pname] = None
            required.append(pname)
            continue
        params[pname], was_tuple = jsonable(target, pname, default)
        if was_tuple:
            tuples.append(pname)
    requires = third_party_imports(module) | set((kb or {}).get("requires", []))
    seed = next((p for p in SEED_PARAMS if p in params), None)
    transductive = is_transductive(node) or name in BATCH_LOCAL
    supervised = is_supervised(node)
    capabilities = {"transductive"} if transductive else set()
    if name in BATCH_DEPENDENT or kind == "timeseries":  # a window spans the rows around each one
        capabilities.add("batch_dependent")
    if name in SINGLE_FEATURE:
        capabilities.add("single_feature")
    if not transductive and name not in UNSAVEABLE:
        capabilities.add("save" if name in SAFE_STATE else "pickle_save")
    if name not in UNSEEDED and (seed is not None or "torch" not in requires):
        capabilities.add("deterministic_with_seed")  # a torch model without a seed parameter is not
    if "device" in params:
        capabilities.add("gpu")
    if "torch" in requires:  # PyOD's torch models train and score in float32
        capabilities.add("float32")
    if supervised:
        capabilities.add("supervised")
    return {
        "name": name,
        "pyod_class": target,
        "adapter": adapter,
        "kind": kind,
        "summary": _summary(name, node, kb),
        "params": params,
        "required": required,
        "tuple_params": tuples,
        "detector_params": list(DETECTOR_PARAMS.get(name, ())),
        "requires": sorted(requires),
        "capabilities": sorted(capabilities),
        "seed_param": seed,
        "supervised": supervised,
        "transductive": transductive,
        "standard_threshold": has_standard_threshold(node),
        # PyOD's deep-learning base trains on full batches only (drop_last): fewer rows than batch_size train nothing
        "min_rows_param": "batch_size" if _derives(target, "BaseDeepLearningDetector") and "batch_size" in params
        else None,
    }


def _summary(name: str, node: ast.ClassDef, kb: dict[str, Any] | None) -> str:
    if name in SUMMARIES:
        return SUMMARIES[name]
    if kb is not None:
        paper = kb.get("paper", {}).get("short", "")
        return f"{kb['full_name']} ({paper})." if paper and paper != "TBD" else f"{kb['full_name']}."
    doc = (ast.get_docstring(node) or "").strip().splitlines()
    if not doc:
        raise SystemExit(f"{name}: no summary in PyOD's knowledge base or docstring; add one to SUMMARIES")
    return re.sub(r"\s+", " ", doc[0]).strip()


def render(rows: list[dict[str, Any]], excluded: dict[str, str], version: str) -> str:
    """The source of ``_table.py`` for PyOD ``version`` (the format shared with pynomaly-pygod's generator)."""
    return render_table("PyOD", version, "tools/generate_table.py", {
        "PYOD_VERSION": version, "MODELS": rows, "EXCLUDED": excluded})


def main(argv: list[str] | None = None) -> int:
    return write_or_check(TABLE, render(*build(), version=pyod_version()), argv)


if __name__ == "__main__":
    raise SystemExit(main())
