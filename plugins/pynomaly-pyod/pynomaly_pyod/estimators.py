"""Building the PyOD estimator behind an adapter from its pynomaly parameters.

Parameters reach PyOD unchanged except where JSON forced another form: a list given for a tuple parameter is
passed as a tuple, a required ``n_features`` left at ``None`` is taken from the data, and detector parameters
(``LSCP.detector_list``, ``FeatureBagging.base_estimator``, ...) accept pynomaly names: ``"lof"``,
``"pyod.knn"`` or ``{"name": "iforest", "params": {"n_estimators": 50}}`` build those PyOD detectors (with the
parent's seed when they take one). PyOD objects passed there are used as they are.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from typing import Any

from pynomaly_core.errors import InputError, PynomalyError, first_line
from pynomaly_pyod import catalog
from pynomaly_pyod.calls import pyod_call
from pynomaly_pyod.catalog import Model
from pynomaly_pyod.dependencies import ensure_available


def pyod_class(model: Model) -> type:
    """Import the PyOD class of ``model`` (after checking its optional packages); cached once it imports."""
    cls = _CLASSES.get(model.pyod_class)
    if cls is None:
        ensure_available(model)
        module_name, _, class_name = model.pyod_class.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise PynomalyError(f"{model.qualified_name}: cannot import {module_name} ({first_line(exc)})") from exc
        cls = _CLASSES[model.pyod_class] = getattr(module, class_name)
    return cls


_CLASSES: dict[str, type] = {}


def build_estimator(model: Model, params: Mapping[str, Any], n_features: int | None = None) -> Any:
    """An unfitted PyOD estimator for ``model`` with ``params`` (pynomaly's form, see the module docstring)."""
    name = model.qualified_name
    kwargs = {key: params[key] for key in model.params}
    for key in model.tuple_params:
        if isinstance(kwargs[key], list):
            kwargs[key] = tuple(kwargs[key])
    if "n_features" in model.required and kwargs["n_features"] is None:
        kwargs["n_features"] = n_features
    missing = [key for key in model.required if kwargs[key] is None]
    if missing:
        hint = ' (a list of pyod detector names, e.g. ["lof", "knn"])' if missing[0] in model.detector_params else ""
        raise InputError(f"{name}: parameter {missing[0]!r} is required{hint}")
    cls = pyod_class(model)
    seed = kwargs.get(model.seed_param) if model.seed_param else None
    for key in model.detector_params:
        kwargs[key] = _detectors(kwargs[key], seed, f"{name}: {key}")
    with pyod_call(name):
        return cls(**kwargs)


def _detectors(value: Any, seed: Any, where: str) -> Any:
    if isinstance(value, list | tuple):
        return [_detector(item, seed, where) for item in value]
    return None if value is None else _detector(value, seed, where)


def _detector(value: Any, seed: Any, where: str) -> Any:
    if isinstance(value, str):
        name, params = value, {}
    elif isinstance(value, Mapping):
        unknown = sorted(set(value) - {"name", "params"})
        if "name" not in value or unknown:
            raise InputError(f"{where}: a detector given as a dict needs 'name' and optional 'params', got {value!r}")
        name, params = value["name"], dict(value.get("params") or {})
    else:
        return value  # a PyOD estimator object
    try:
        model = catalog.get(str(name))
    except KeyError:
        raise InputError(f"{where}: unknown pyod detector {name!r}") from None
    if model.kind != "tabular" or model.supervised or model.transductive:
        raise InputError(f"{where}: {model.qualified_name} cannot be a member detector (needs an unsupervised "
                         "tabular detector that scores new data)")
    unknown = sorted(set(params) - set(model.params))
    if unknown:
        raise InputError(f"{where}: {model.qualified_name} has no parameter {unknown[0]!r}")
    merged = {**copy.deepcopy(dict(model.params)), **params}
    if model.seed_param and model.seed_param not in params and seed is not None:
        merged[model.seed_param] = seed
    return build_estimator(model, merged)
