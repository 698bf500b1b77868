"""The Python SDK: the functions ``pynomaly_core`` exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pynomaly_core.data import Dataset, select_loader
from pynomaly_core.errors import InputError
from pynomaly_core.registry import get_registry
from pynomaly_core.results import DetectionResult
from pynomaly_core.specs import DetectorSpec


def list_detectors(plugin: str | None = None, kind: str | None = None) -> list[DetectorSpec]:
    """Specs of the registered detectors, optionally filtered by plugin and data kind.

    >>> any(spec.qualified_name == "builtin.ecod" for spec in list_detectors())
    True
    """
    return get_registry().detectors(plugin=plugin, data_kind=kind)


def create_detector(name: str, **params: Any) -> Any:
    """Create an unfitted detector by (short or qualified) name; unknown parameters are an error.

    >>> create_detector("hbos", n_bins=20)
    HBOS(n_bins=20)
    """
    spec = get_registry().detector(name)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(
            f"{spec.qualified_name}: unknown parameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(spec.params)) or '(none)'}"
        )
    return spec.load()(**params)


def load_data(source: str | Path, *, loader: str | None = None, **options: Any) -> Dataset:
    """Load a dataset with the loader chosen by ``loader``, the URL scheme or the file suffix.

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npy"); np.save(path, np.eye(3))
    >>> load_data(path).X.shape
    (3, 3)
    """
    source = str(source)
    spec = select_loader(source, get_registry(), loader)
    return spec.load()(source, **options)


def detect(
    data: Any,
    detector: str = "ecod",
    *,
    y: Any = None,
    contamination: float | None = None,
    **params: Any,
) -> DetectionResult:
    """Fit ``detector`` on ``data`` and score it in one call.

    ``data`` is an array-like, a DataFrame / Arrow table, a :class:`Dataset` or a path / URL for
    :func:`load_data`. With labels (``y``, or a dataset that carries them) the result has ROC-AUC and
    average precision.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); X[0] = 10
    >>> result = detect(X, "ecod", contamination=0.01)
    >>> int(result.top(1)[0])
    0
    """
    from pynomaly_core.pipeline import fit_detector

    if isinstance(data, str | Path):
        data = load_data(data)
    if contamination is not None:
        params["contamination"] = contamination
    return fit_detector(create_detector(detector, **params), data, y)


def load(ref: str | Path, *, trust: bool = False, store: Any = None) -> Any:
    """The fitted detector ``ref`` names: a directory written by ``save`` / ``pynomaly train -o``, or ``NAME[@VERSION]``
    in the model store (the latest version without ``@``). Hashes are checked; ``trust=True`` allows pickle
    artefacts (see :mod:`pynomaly_core.persistence`)."""
    from pynomaly_core.model_ref import load_model

    return load_model(ref, trust=trust, store=store)


# -- the model store (SQLAlchemy, the ``store`` extra, is imported on first use) -------------------------
def _store(store: Any) -> Any:
    from pynomaly_core.modelstore.store import ModelStore

    return ModelStore.from_env() if store is None else store


def register_model(name: str, detector: Any, *, data: Any = None, source: str | None = None,
                   metrics: dict[str, float] | None = None, parent: Any = None, training_s: float | None = None,
                   store: Any = None) -> Any:
    """Register a fitted detector as the next version of ``name``; ``data`` (the training data) is
    fingerprinted so that scoring can check its columns. Returns the :class:`ModelVersion`."""
    from pynomaly_core.modelstore.fingerprints import fingerprint

    fp = None
    if data is not None:
        if isinstance(data, str | Path):
            source = str(data) if source is None else source
            data = load_data(data)
        fp = fingerprint(data, source=source)
    return _store(store).register(name, detector, data_fingerprint=fp, metrics=metrics, parent=parent,
                                  training_s=training_s)


def train_model(data: Any, detector: str = "ecod", *, name: str, y: Any = None, parent: Any = None,
                contamination: float | None = None, store: Any = None, **params: Any) -> Any:
    """Fit ``detector`` on ``data`` and register it under ``name`` (``pynomaly train --name``): training time,
    data fingerprint and, with labels, ROC-AUC and average precision on the training data are recorded."""
    from pynomaly_core.modelstore.paths import check_name

    check_name(name)
    target = _store(store)
    source = str(data) if isinstance(data, str | Path) else None
    if isinstance(data, str | Path):
        data = load_data(data)
    result = detect(data, detector, y=y, contamination=contamination, **params)
    return register_model(name, result.model, data=data, source=source, metrics=result.metrics, parent=parent,
                          training_s=result.timings["fit_s"], store=target)


def list_models(name: str | None = None, *, store: Any = None) -> list[Any]:
    """Registered versions (of ``name``, or all), by name, newest first."""
    return _store(store).list(name)


def get_model(ref: str, *, store: Any = None) -> Any:
    """The :class:`ModelVersion` a ``NAME[@VERSION]`` reference names (metadata only)."""
    return _store(store).resolve(ref)


def delete_model(ref: str, *, store: Any = None) -> None:
    """Delete one registered version, named explicitly as ``NAME@VERSION``."""
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    if version is None:
        raise InputError(f"{ref}: name the version to delete, as {name}@VERSION")
    _store(store).delete(name, version)


# -- governance: the lifecycle of a registered version (the same methods the CLI and the server call) ---------
def transition_model(ref: str, action: str, *, reason: str | None = None, alias: str | None = "champion",
                     store: Any = None) -> Any:
    """Apply lifecycle ``action`` (submit, approve, reject, deploy, retire) to ``NAME@VERSION``; returns the
    :class:`ModelVersion` in its new stage or raises ``TransitionError`` saying why not (see docs/governance.md).
    ``alias`` is the alias ``deploy`` points at the version."""
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    options = {"alias": alias} if action == "deploy" else {}
    return _store(store).transition(name, version, action, reason=reason, **options)


def model_history(ref: str, *, store: Any = None) -> list[dict[str, Any]]:
    """Every lifecycle event of ``NAME`` (or of ``NAME@VERSION``): who did what, when and why."""
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    return _store(store).history(name, version)

