"""Saving and loading deep detectors: round trip, stored scaler, replaced (hostile or foreign) artefacts."""

from __future__ import annotations

import json
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
