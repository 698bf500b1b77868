"""Training and scoring of the deep detectors: seeds, batched scoring, early stopping, parameters, progress."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pynomaly_core.deep import design
from pynomaly_core.deep.training import split_validation
from pynomaly_core.errors import InputError

if TYPE_CHECKING:
    import pytest


def check_same_seed_gives_bit_identical_scores(cls: type, train: np.ndarray, test: np.ndarray,
                                               params: dict[str, Any]) -> tuple[Any, Any]:
    """Two fits with one seed score bit-identically, another seed differs; returns the two seeded fits."""
    first = cls(**params, random_state=7).fit(train)
    second = cls(**params, random_state=7).fit(train)
    np.testing.assert_array_equal(first.decision_function(test), second.decision_function(test))
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    other = cls(**params, random_state=8).fit(train).decision_function(test)
    assert not np.array_equal(other, first.decision_function(test))
    return first, second


def check_unseeded_fits_differ(cls: type, train: np.ndarray, test: np.ndarray, params: dict[str, Any]) -> None:
    """Without ``random_state`` two fits give different scores."""
    first = cls(**params).fit(train).decision_function(test)
    second = cls(**params).fit(train).decision_function(test)
    assert not np.array_equal(first, second)


def check_batched_scoring_equals_one_batch(
    cls: type, train: np.ndarray, params: dict[str, Any], score_in_batches: Callable[[Any, np.ndarray, int], Any],
    *, rtol: float, atol: float,
) -> None:
    """Scoring 3017 rows in batches of 1000, in one batch and through ``decision_function`` agree to rtol/atol.

    ``score_in_batches(detector, X, batch_size)`` scores raw rows with the backend's batched scorer.
    """
    detector = cls(**params, random_state=0).fit(train)
    big = np.random.default_rng(1).normal(size=(3 * 1000 + 17, train.shape[1])) * 3
    one_batch = score_in_batches(detector, big, big.shape[0])
    batched = score_in_batches(detector, big, 1000)
    np.testing.assert_allclose(batched, one_batch, rtol=rtol, atol=atol)
    np.testing.assert_allclose(detector.decision_function(big), one_batch, rtol=rtol, atol=atol)


def check_scoring_is_bounded_by_one_batch(detector: Any, n_features: int, seen: list[int], last_batch: int) -> None:
    """Scoring 2 · SCORE_BATCH_SIZE + 5 rows runs batches of SCORE_BATCH_SIZE, SCORE_BATCH_SIZE, ``last_batch`` rows.

    ``seen``: the list to which the backend's batch scorer (patched by the caller) appends each batch's row count.
    """
    rows = 2 * design.SCORE_BATCH_SIZE + 5
    scores = detector.decision_function(np.zeros((rows, n_features)))
    assert scores.shape == (rows,)
    assert seen == [design.SCORE_BATCH_SIZE, design.SCORE_BATCH_SIZE, last_batch]


def check_early_stopping_stops_and_restores_the_best_epoch(
    cls: type, *, n_rows: int, n_features: int, batch_size: int, loss_of: Callable[[Any, np.ndarray], float],
    rel: float,
) -> None:
    """Early stopping ends ``patience`` epochs after the best and restores its weights.

    ``n_rows`` (a multiple of 5) normal rows, 20 % held out; ``loss_of(detector, X_scaled)`` is the backend's mean
    validation loss of the fitted network, which must equal the best epoch's to ``rel``.
    """
    import pytest

    rng = np.random.default_rng(0)
    train = rng.normal(size=(n_rows, n_features))
    detector = cls(epochs=500, patience=2, batch_size=batch_size, learning_rate=1e-2, validation_size=0.2,
                   random_state=0).fit(train)
    history = detector.history_
    assert history["stopped_early"] and detector.n_epochs_ < 500
    assert detector.n_epochs_ == history["best_epoch"] + 1 + 2
    assert history["n_train"] == n_rows * 4 // 5 and len(history["validation_loss"]) == detector.n_epochs_
    best = history["validation_loss"][history["best_epoch"]]
    assert best == min(history["validation_loss"])
    X_val = detector.scaler_.transform(train[split_validation(n_rows, 0.2, np.random.default_rng(0))[1]])
    assert loss_of(detector, X_val) == pytest.approx(best, rel=rel)


def check_without_validation_all_epochs_run(cls: type, train: np.ndarray, params: dict[str, Any]) -> Any:
    """With ``validation_size=0`` all ``params["epochs"]`` epochs run on every row; returns the detector."""
    detector = cls(**params, validation_size=0.0, random_state=0).fit(train)
    assert detector.n_epochs_ == params["epochs"] and not detector.history_["stopped_early"]
    assert detector.history_["validation_loss"] == [] and detector.history_["n_train"] == train.shape[0]
    return detector


def check_training_reduces_the_loss(cls: type, train: np.ndarray, params: dict[str, Any], factor: float) -> None:
    """Without validation, the last epoch's training loss is below ``factor`` times the first's."""
    history = cls(**params, validation_size=0.0, random_state=0).fit(train).history_
    assert history["train_loss"][-1] < factor * history["train_loss"][0]


def check_scaling_is_fitted_inside_the_detector(cls: type, train: np.ndarray, test: np.ndarray,
                                                params: dict[str, Any]) -> None:
    """The scaler holds the training means, and an affine change of units leaves the scores (nearly) unchanged."""
    detector = cls(**params, random_state=0).fit(train)
    np.testing.assert_allclose(detector.scaler_.mean, train.mean(axis=0))
    shifted = cls(**params, random_state=0).fit(train * 1000 + 5)
    np.testing.assert_allclose(shifted.decision_function(test * 1000 + 5), detector.decision_function(test),
                               rtol=1e-3, atol=1e-4)


def invalid_parameter_cases(bad_device: str) -> list[tuple[dict[str, Any], str]]:
    """(constructor params, message fragment) pairs for ``pytest.mark.parametrize(("params", "fragment"), ...)``."""
    return [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"hidden_layers": [8, 0]}, "hidden_layers must be"),
        ({"validation_size": 1.0}, "validation_size must be in [0, 1)"),
        ({"dropout": -0.1}, "dropout must be in [0, 1)"),
        ({"learning_rate": 0}, "learning_rate must be a positive number"),
        ({"device": bad_device}, "device must be"),
        ({"random_state": -1}, "random_state must be"),
        ({"verbose": 1}, "verbose must be true or false"),
    ]


def check_invalid_parameters_are_one_line_input_errors(cls: type, train: np.ndarray, params: dict[str, Any],
                                                       fragment: str, name: str) -> None:
    """Fitting with ``params`` is a one-line InputError containing ``fragment`` and starting with ``name: ``."""
    import pytest

    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        cls(**params).fit(train)
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{name}: ")


def check_missing_gpu_is_an_input_error(cls: type, train: np.ndarray, params: dict[str, Any],
                                        devices: Sequence[str], message: str) -> None:
    """Fitting on each of ``devices`` (none visible: the caller skips otherwise) is an InputError matching
    ``message``."""
    import pytest

    for device in devices:
        with pytest.raises(InputError, match=message):
            cls(**params, device=device).fit(train)


def check_verbose_shows_a_progress_bar(cls: type, train: np.ndarray, params: dict[str, Any], name: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``verbose=True`` writes a progress bar naming ``name`` and the loss to stderr."""
    cls(**params, verbose=True, random_state=0).fit(train)
    err = capsys.readouterr().err
    assert name in err and "loss" in err


def check_silent_by_default(cls: type, train: np.ndarray, params: dict[str, Any],
                            capsys: pytest.CaptureFixture[str]) -> None:
    """A fit prints nothing by default."""
    cls(**params, random_state=0).fit(train)
    assert capsys.readouterr() == ("", "")
