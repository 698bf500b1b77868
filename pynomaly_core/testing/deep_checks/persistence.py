"""Saving and loading deep detectors: round trip, stored scaler, replaced (hostile or foreign) artefacts, pickling."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pynomaly_core.errors import IntegrityError
from pynomaly_core.persistence import MANIFEST, load, sha256_of

if TYPE_CHECKING:
    import pytest


class ExecutingPayload:
    """Unpickling this prints ``executed``: write it into an artefact to prove that loading never unpickles."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (print, ("executed",))


def rehash_artefact(path: Path, name: str) -> None:
    """Rewrite the manifest's hash of artefact ``name``, as an attacker who can also edit the manifest would."""
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["artefacts"][name]["sha256"] = sha256_of(path / name)
    (path / MANIFEST).write_text(json.dumps(manifest))


def check_round_trip_gives_identical_scores(cls: type, train: np.ndarray, test: np.ndarray, params: dict[str, Any],
                                            formats: dict[str, str], directory: Path) -> None:
    """save → load keeps the class, params, scores, labels and threshold; the artefacts are ``formats``
    (``{file name: format}``)."""
    detector = cls(**params, random_state=0).fit(train)
    path = detector.save(directory / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    assert {k: v["format"] for k, v in manifest["artefacts"].items()} == formats
    restored = load(path)
    assert type(restored) is cls and restored.get_params() == detector.get_params()
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))
    assert restored.threshold_ == detector.threshold_


def check_scaler_is_stored_with_the_model(cls: type, train: np.ndarray, params: dict[str, Any],
                                          directory: Path) -> tuple[Any, Path]:
    """``state.npz`` holds the fitted scaler's mean and scale; returns the detector and its saved path."""
    detector = cls(**params, random_state=0).fit(train * 50 + 3)
    path = detector.save(directory / "model")
    with np.load(path / "state.npz") as arrays:
        np.testing.assert_array_equal(arrays["scaler_mean"], detector.scaler_.mean)
        np.testing.assert_array_equal(arrays["scaler_scale"], detector.scaler_.scale)
    return detector, path


def check_replaced_artefact_is_refused(path: Path, artefact: str, write: Callable[[Path], object], match: str,
                                       capsys: pytest.CaptureFixture[str] | None = None) -> IntegrityError:
    """``write`` replaces ``artefact`` of the saved model at ``path`` and the manifest is rehashed to match: loading
    is an IntegrityError matching ``match``. With ``capsys``, loading must not print ``executed`` (no code ran).
    Returns the error."""
    import pytest

    write(path / artefact)
    if capsys is not None:
        capsys.readouterr()  # what writing printed (building a hostile model may run its code once)
    rehash_artefact(path, artefact)
    with pytest.raises(IntegrityError, match=match) as info:
        load(path)
    if capsys is not None:
        assert "executed" not in capsys.readouterr().out
    return info.value


def check_pickle_round_trip_gives_identical_scores(cls: type, train: np.ndarray, test: np.ndarray,
                                                   params: dict[str, Any]) -> tuple[Any, Any]:
    """A fitted detector pickles (``joblib.dump``, multiprocessing and ``cross_validate(n_jobs=2)`` need it) and the
    copy keeps the class, params, threshold and exactly the scores and labels; returns (original, copy)."""
    detector = cls(**params, random_state=0).fit(train)
    restored = pickle.loads(pickle.dumps(detector))
    assert type(restored) is cls and restored.get_params() == detector.get_params()
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))
    assert restored.threshold_ == detector.threshold_
    np.testing.assert_array_equal(restored.decision_scores_, detector.decision_scores_)
    return detector, restored


def check_missing_gpu_loads_on_the_cpu(cls: type, train: np.ndarray, test: np.ndarray, params: dict[str, Any],
                                       directory: Path, warning: str) -> Any:
    """A model saved with ``device="cuda"`` loads on a machine without a GPU: on the CPU, with a RuntimeWarning
    matching ``warning``, and scores as before. Returns the restored detector (its ``device_`` is backend-specific)."""
    import pytest

    detector = cls(**params, random_state=0).fit(train)
    path = detector.save(directory / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["params"]["device"] = "cuda"  # as if saved on a machine with a GPU
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(RuntimeWarning, match=warning):
        restored = load(path)
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    return restored


def mean_score(estimator: Any, X: np.ndarray, y: Any = None) -> float:
    """A scikit-learn scorer for unlabelled detectors: the mean anomaly score (module level, so it pickles)."""
    return float(np.mean(estimator.decision_function(X)))


def check_cross_validate_in_parallel(estimator: Any, X: np.ndarray, *, n_jobs: int = 2, cv: int = 2) -> list[Any]:
    """``sklearn.model_selection.cross_validate(n_jobs=2, return_estimator=True)`` fits ``estimator`` (with a
    ``random_state``) in worker processes and sends the fitted copies back pickled: each scores like the same fit
    made here. Returns the fitted estimators."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_validate

    folds = KFold(cv)
    result = cross_validate(estimator, X, cv=folds, n_jobs=n_jobs, return_estimator=True, scoring=mean_score,
                            error_score="raise")
    fitted = list(result["estimator"])
    assert len(fitted) == cv
    for model, (train_rows, test_rows), test_score in zip(fitted, folds.split(X), result["test_score"], strict=True):
        here = clone(estimator).fit(X[train_rows])
        np.testing.assert_allclose(model.decision_function(X), here.decision_function(X), rtol=1e-5, atol=1e-6)
        assert test_score == mean_score(model, X[test_rows])
    return fitted
