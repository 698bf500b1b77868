"""Shared tests for deep-learning backends (pynomaly-torch, pynomaly-tf, pynomaly-jax and any new one).

Every deep backend implements the neutral design of :mod:`pynomaly_core.deep` (autoencoder, VAE, Deep SVDD) and
may add an MMD drift test matching :mod:`pynomaly_core.builtin.mmd_drift`. Each ``check_*`` here is the body of
one test, taking what differs between backends as arguments (classes, fast parameters, data, name prefix,
tolerances, small callables into the framework). A backend keeps one pytest test per check, so a failure still
names what broke::

    from pynomaly_core.testing import deep_checks as kit

    def test_silent_by_default(data, capsys):
        kit.check_silent_by_default(AutoEncoder, data[0], FAST, capsys)

Checks raise ``AssertionError`` (pynomaly's pytest plugin has pytest rewrite their asserts) and some return
what they fitted, for a backend's own extra assertions. They need pytest, and the MMD property check Hypothesis
(both in the ``dev`` extra), imported only when a check runs; no deep-learning framework is imported. Modules:
:mod:`.mmd`, :mod:`.training`, :mod:`.persistence`, :mod:`.cli`; everything is re-exported here (the neutral
helpers of :mod:`pynomaly_core.deep` are tested once, in the core's own tests).
"""

from pynomaly_core.testing.cli import CliResult, CliRunner, in_process_cli, subprocess_cli
from pynomaly_core.testing.deep_checks.cli import (
    check_detect_with_the_autoencoder_prints_json,
    check_detectors_list_shows_the_detectors,
    check_unavailable_device_is_a_one_line_error,
)
from pynomaly_core.testing.deep_checks.mmd import (
    PermutationTest,
    check_a_shift_is_detected_and_reported,
    check_false_positive_rate_under_the_null_is_near_alpha,
    check_p_values_equal_the_reference_on_continuous_data,
    check_registered_through_the_drift_test_hook,
    check_statistic_and_p_value_match_the_numpy_reference,
)
from pynomaly_core.testing.deep_checks.persistence import (
    ExecutingPayload,
    check_cross_validate_in_parallel,
    check_missing_gpu_loads_on_the_cpu,
    check_pickle_round_trip_gives_identical_scores,
    check_replaced_artefact_is_refused,
    check_round_trip_gives_identical_scores,
    check_scaler_is_stored_with_the_model,
    mean_score,
    rehash_artefact,
)
from pynomaly_core.testing.deep_checks.training import (
    check_batched_scoring_equals_one_batch,
    check_early_stopping_stops_and_restores_the_best_epoch,
    check_invalid_parameters_are_one_line_input_errors,
    check_missing_gpu_is_an_input_error,
    check_same_seed_gives_bit_identical_scores,
    check_scaling_is_fitted_inside_the_detector,
    check_scoring_is_bounded_by_one_batch,
    check_silent_by_default,
    check_training_reduces_the_loss,
    check_unseeded_fits_differ,
    check_verbose_shows_a_progress_bar,
    check_without_validation_all_epochs_run,
    invalid_parameter_cases,
)

__all__ = [
    "CliResult",
    "CliRunner",
    "ExecutingPayload",
    "PermutationTest",
    "check_a_shift_is_detected_and_reported",
    "check_batched_scoring_equals_one_batch",
    "check_cross_validate_in_parallel",
    "check_detect_with_the_autoencoder_prints_json",
    "check_detectors_list_shows_the_detectors",
    "check_early_stopping_stops_and_restores_the_best_epoch",
    "check_false_positive_rate_under_the_null_is_near_alpha",
    "check_invalid_parameters_are_one_line_input_errors",
    "check_missing_gpu_is_an_input_error",
    "check_missing_gpu_loads_on_the_cpu",
    "check_p_values_equal_the_reference_on_continuous_data",
    "check_pickle_round_trip_gives_identical_scores",
    "check_registered_through_the_drift_test_hook",
    "check_replaced_artefact_is_refused",
    "check_round_trip_gives_identical_scores",
    "check_same_seed_gives_bit_identical_scores",
    "check_scaler_is_stored_with_the_model",
    "check_scaling_is_fitted_inside_the_detector",
    "check_scoring_is_bounded_by_one_batch",
    "check_silent_by_default",
    "check_statistic_and_p_value_match_the_numpy_reference",
    "check_training_reduces_the_loss",
    "check_unavailable_device_is_a_one_line_error",
    "check_unseeded_fits_differ",
    "check_verbose_shows_a_progress_bar",
    "check_without_validation_all_epochs_run",
    "in_process_cli",
    "invalid_parameter_cases",
    "mean_score",
    "rehash_artefact",
    "subprocess_cli",
]
