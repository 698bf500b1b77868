"""The conformance checks. Each check takes a contribution's name and raises ``AssertionError`` on failure."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError, NotFittedError, PynomalyError, UntrustedArtefactError

#: Frameworks that registering a plugin must never import.
HEAVY_MODULES = (
    "torch", "tensorflow", "keras", "jax", "jaxlib", "flax", "pyod", "pygod", "torch_geometric", "sklearn",
    "scipy", "pandas", "polars", "pyarrow", "numba",
)


def _registry() -> Any:
    from pynomaly_core.registry import get_registry

    return get_registry()


def _tabular_data(seed: int = 0, n: int = 300, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Training rows from a standard normal, and test rows whose row 0 is an obvious outlier."""
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(n, d))
    test = rng.normal(size=(60, d))
    test[0] = 8.0
    return train, test


def _capabilities(name: str) -> frozenset[str]:
    return _registry().detector(name).capabilities


def _refuses_new_rows(detector: Any, test: np.ndarray, name: str) -> None:
    """A ``transductive`` detector refuses to score new rows with a one-line pynomaly error saying why."""
    try:
        detector.decision_function(test)
    except PynomalyError as exc:
        assert "transductive" in str(exc), f"{name}: the refusal to score new rows must say why: {exc}"
    else:
        raise AssertionError(f"{name}: declares 'transductive' but scored new rows")


def _make(name: str, **params: Any) -> Any:
    from pynomaly_core.sdk import create_detector

    spec = _registry().detector(name)
    if "random_state" in spec.params and "random_state" not in params:
        params["random_state"] = 0
    return create_detector(spec.qualified_name, **params)


# -- detector checks ---------------------------------------------------------------------------------------
def check_spec_matches_signature(name: str, **overrides: Any) -> None:
    """The spec's parameters and defaults are exactly the constructor's."""
    spec = _registry().detector(name)
    cls = spec.load()
    signature = inspect.signature(cls.__init__)
    defaults = {
        k: p.default for k, p in signature.parameters.items()
        if k != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    assert set(defaults) == set(spec.params), (
        f"{spec.qualified_name}: spec params {sorted(spec.params)} != constructor params {sorted(defaults)}"
    )
    for key, default in spec.params.items():
        assert json.dumps(defaults[key]) == json.dumps(default), (
            f"{spec.qualified_name}: default of {key!r} is {defaults[key]!r} in the class, {default!r} in the spec"
        )


def check_fit_and_score_shapes(name: str, **overrides: Any) -> None:
    """fit returns self; scores are finite float64 with one per row; predict gives 0/1 from threshold_."""
    train, test = _tabular_data()
    detector = _make(name, **overrides)
    assert detector.fit(train) is detector, f"{name}: fit must return self"
    if "transductive" in _capabilities(name):  # it scores its training rows only
        scores = detector.decision_scores_
        assert isinstance(scores, np.ndarray) and scores.dtype == np.float64, f"{name}: scores must be float64"
        assert scores.shape == (train.shape[0],) and np.isfinite(scores).all(), f"{name}: bad training scores"
        np.testing.assert_array_equal(detector.labels_, (scores > detector.threshold_).astype(int),
                                      err_msg=f"{name}: labels_ disagree with decision_scores_ > threshold_")
        _refuses_new_rows(detector, test, name)
        return
    scores = detector.decision_function(test)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64, f"{name}: scores must be float64"
    assert scores.shape == (test.shape[0],), f"{name}: scores shape {scores.shape} != ({test.shape[0]},)"
    assert np.isfinite(scores).all(), f"{name}: non-finite scores"
    assert detector.decision_scores_.shape == (train.shape[0],), f"{name}: decision_scores_ has the wrong shape"
    labels = detector.predict(test)
    assert set(np.unique(labels)) <= {0, 1}, f"{name}: predict must return 0/1"
    np.testing.assert_array_equal(labels, (scores > detector.threshold_).astype(int),
                                  err_msg=f"{name}: predict disagrees with decision_function > threshold_")


def check_outlier_scores_highest(name: str, **overrides: Any) -> None:
    """An obvious outlier gets the highest score (higher = more anomalous; among the training rows for a
    ``transductive`` detector)."""
    train, test = _tabular_data()
    if "transductive" in _capabilities(name):
        scores = _make(name, **overrides).fit(np.vstack([test[:1], train])).decision_scores_
    else:
        scores = _make(name, **overrides).fit(train).decision_function(test)
    assert int(np.argmax(scores)) == 0, (
        f"{name}: the obvious outlier (row 0) should score highest; its rank is "
        f"{int((scores > scores[0]).sum()) + 1} of {scores.size} (is the sign flipped?)"
    )


def check_row_permutation(name: str, **overrides: Any) -> None:
    """Permuting the scored rows permutes their scores (the training rows, for a ``transductive`` detector)."""
    train, test = _tabular_data()
    if "transductive" in _capabilities(name):
        permutation = np.random.default_rng(1).permutation(train.shape[0])
        np.testing.assert_allclose(_make(name, **overrides).fit(train[permutation]).decision_scores_,
                                   _make(name, **overrides).fit(train).decision_scores_[permutation], rtol=1e-9,
                                   atol=1e-12, err_msg=f"{name}: training scores depend on row order")
        return
    detector = _make(name, **overrides).fit(train)
    permutation = np.random.default_rng(1).permutation(test.shape[0])
    np.testing.assert_allclose(detector.decision_function(test[permutation]),
                               detector.decision_function(test)[permutation], rtol=1e-9, atol=1e-12,
                               err_msg=f"{name}: scores depend on row order")


def check_deterministic_with_seed(name: str, **overrides: Any) -> None:
    """With the ``deterministic_with_seed`` capability, two fits give identical scores."""
    spec = _registry().detector(name)
    if "deterministic_with_seed" not in spec.capabilities:
        return
    train, test = _tabular_data()
    if "transductive" in spec.capabilities:  # compare the training scores, the only scores it gives
        first = _make(name, **overrides).fit(train).decision_scores_
        second = _make(name, **overrides).fit(train).decision_scores_
    else:
        first = _make(name, **overrides).fit(train).decision_function(test)
        second = _make(name, **overrides).fit(train).decision_function(test)
    np.testing.assert_array_equal(first, second, err_msg=f"{name}: two seeded fits differ")


def check_clone(name: str, **overrides: Any) -> None:
    """``get_params``/``set_params`` round-trip and ``sklearn.base.clone`` (when installed) gives an unfitted copy."""
    detector = _make(name, **overrides)
    params = detector.get_params()
    copy = type(detector)(**params)
    assert copy.get_params() == params, f"{name}: rebuilding from get_params() changes the params"
    detector.set_params(**params)
    try:
        from sklearn.base import clone
    except ImportError:
        return
    train, _ = _tabular_data()
    fitted = _make(name, **overrides).fit(train)
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params(), f"{name}: clone changed the params"
    assert not hasattr(cloned, "threshold_"), f"{name}: a clone must be unfitted"


def check_contamination_labels(name: str, **overrides: Any) -> None:
    """The fraction of training rows labelled 1 matches ``contamination``."""
    train, _ = _tabular_data(n=400)
    for contamination in (0.05, 0.2):
        detector = _make(name, **{**overrides, "contamination": contamination}).fit(train)
        fraction = float(detector.labels_.mean())
        assert abs(fraction - contamination) <= 0.02, (
            f"{name}: contamination={contamination} labelled {fraction:.3f} of the training rows"
        )


def check_nan_rejected(name: str, **overrides: Any) -> None:
    """NaN in fit or scoring input is an InputError naming its row and column."""
    spec = _registry().detector(name)
    train, _ = _tabular_data()
    if getattr(spec.load(), "allow_nan", False):
        return
    bad = train.copy()
    bad[3, 1] = np.nan
    calls = [lambda: _make(name, **overrides).fit(bad)]
    if "transductive" not in spec.capabilities:
        fitted = _make(name, **overrides).fit(train)
        calls.append(lambda: fitted.decision_function(bad))
    for call in calls:
        try:
            call()
        except InputError as exc:
            message = str(exc)
            assert "row 3" in message and "column 1" in message, (
                f"{name}: NaN error must name row and column: {message}"
            )
        else:
            raise AssertionError(f"{name}: NaN input was accepted")


def check_feature_count(name: str, **overrides: Any) -> None:
    """Scoring with another number of features than fitted is an InputError; unfitted scoring is NotFittedError."""
    train, test = _tabular_data()
    try:
        _make(name, **overrides).decision_function(test)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"{name}: scoring before fit must raise NotFittedError")
    if "transductive" in _capabilities(name):
        return
    detector = _make(name, **overrides).fit(train)
    try:
        detector.decision_function(test[:, :-1])
    except InputError as exc:
        assert "feature" in str(exc), f"{name}: unhelpful message for a feature-count mismatch: {exc}"
    else:
        raise AssertionError(f"{name}: a feature-count mismatch was accepted")


def check_save_load(name: str, **overrides: Any) -> None:
    """With ``save``: save → load gives bit-identical scores; tampering is refused; pickle needs trust."""
    from pynomaly_core.errors import IntegrityError
    from pynomaly_core.persistence import MANIFEST, load

    spec = _registry().detector(name)
    if not spec.capabilities & {"save", "pickle_save"}:
        return
    train, test = _tabular_data()
    detector = _make(name, **overrides).fit(train)
    expected = detector.decision_function(test)
    with tempfile.TemporaryDirectory() as tmp:
        path = detector.save(Path(tmp) / "model")
        trust = "pickle_save" in spec.capabilities
        if trust:
            try:
                load(path)
            except UntrustedArtefactError:
                pass
            else:
                raise AssertionError(f"{name}: a pickle artefact loaded without trust=True")
        restored = load(path, trust=trust)
        np.testing.assert_array_equal(restored.decision_function(test), expected,
                                      err_msg=f"{name}: scores changed after save/load")
        assert restored.threshold_ == detector.threshold_, f"{name}: threshold changed after save/load"
        manifest = json.loads((path / MANIFEST).read_text())
        artefact = path / sorted(manifest["artefacts"])[0]
        artefact.write_bytes(artefact.read_bytes() + b"\0")
        try:
            load(path, trust=trust)
        except IntegrityError:
            pass
        else:
            raise AssertionError(f"{name}: a tampered artefact was loaded")


def check_partial_fit(name: str, **overrides: Any) -> None:
    """With ``partial_fit``: batches can be added and the model scores like a fitted one."""
    spec = _registry().detector(name)
    if "partial_fit" not in spec.capabilities:
        return
    train, test = _tabular_data()
    detector = _make(name, **overrides)
    for batch in np.array_split(train, 3):
        assert detector.partial_fit(batch) is detector, f"{name}: partial_fit must return self"
    scores = detector.decision_function(test)
    assert np.isfinite(scores).all() and int(np.argmax(scores)) == 0, f"{name}: partial_fit model misranks the outlier"


def check_mergeable(name: str, **overrides: Any) -> None:
    """With ``mergeable``: the detector implements :class:`pynomaly_core.merging.Mergeable`, and a model merged from
    three partitions scores like one fitted at once (to 1e-9 when it states no error bound): like the detector
    itself, or like ``merged.local_equivalent(n_rows)`` where the merged model defines that (the unfitted detector
    whose fit on all rows it equals, e.g. Half-Space Trees with one window of every row)."""
    if "mergeable" not in _capabilities(name):
        return
    from pynomaly_core.merging import fit_merged, is_mergeable, local_map

    detector = _make(name, **overrides)
    assert is_mergeable(detector), f"{name}: declares 'mergeable' but lacks partial_state/merge_states/from_merged"
    train, test = _tabular_data()
    merged = fit_merged(detector, local_map(np.array_split(train, 3)))
    scores = merged.decision_function(test)
    if getattr(merged, "merge_bound_", 0.0):
        assert int(np.argmax(scores)) == 0, f"{name}: the merged model misranks the outlier"
        return
    equivalent = getattr(merged, "local_equivalent", None)
    local = _make(name, **overrides) if equivalent is None else equivalent(train.shape[0])
    whole = local.fit(train).decision_function(test)
    np.testing.assert_allclose(scores, whole, rtol=1e-9, atol=1e-9 * float(np.max(np.abs(whole)) or 1.0),
                               err_msg=f"{name}: the merged model scores differently from a fit on all rows")


def check_batch_invariance(name: str, **overrides: Any) -> None:
    """Unless the detector declares ``batch_dependent`` (or ``transductive``), a row's score does not depend on the
    rows scored with it: scoring in two batches gives the scores of one call (to float32 precision)."""
    if _capabilities(name) & {"batch_dependent", "transductive"}:
        return
    train, test = _tabular_data()
    detector = _make(name, **overrides).fit(train)
    whole = detector.decision_function(test)
    halves = np.concatenate([detector.decision_function(test[:25]), detector.decision_function(test[25:])])
    np.testing.assert_allclose(halves, whole, rtol=1e-5, atol=1e-6 * float(np.max(np.abs(whole)) or 1.0),
                               err_msg=f"{name}: scores depend on the other rows of the batch; declare the "
                                       "'batch_dependent' capability")


def check_registration_is_light(plugin: str) -> None:
    """Loading the plugin (in a fresh interpreter) imports none of :data:`HEAVY_MODULES`."""
    code = (
        "import json, sys\n"
        "from pynomaly_core.registry import get_registry\n"
        f"record = get_registry().plugins.get({plugin!r})\n"
        f"heavy = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)\n"
        "print(json.dumps({'found': record is not None, 'error': record and record.error, 'heavy': heavy}))\n"
    )
    env = dict(os.environ, PYNOMALY_LOAD_PLUGINS=plugin)
    env.pop("PYNOMALY_DISABLE_PLUGINS", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["found"], f"plugin {plugin!r} is not installed (no entry point in group 'pynomaly')"
    assert result["error"] is None, f"plugin {plugin!r} fails to load: {result['error']}"
    assert not result["heavy"], f"registering plugin {plugin!r} imported {', '.join(result['heavy'])}"


DETECTOR_CHECKS: list[Callable[[str], None]] = [
    check_spec_matches_signature,
    check_fit_and_score_shapes,
    check_outlier_scores_highest,
    check_row_permutation,
    check_deterministic_with_seed,
    check_clone,
    check_contamination_labels,
    check_nan_rejected,
    check_feature_count,
    check_save_load,
    check_partial_fit,
    check_mergeable,
    check_batch_invariance,
]


def check_detector(name: str, **overrides: Any) -> None:
    """Run every detector check on a tabular detector (``overrides``: constructor params, e.g. fewer epochs)."""
    for check in DETECTOR_CHECKS:
        check(name, **overrides)


# -- loaders, explainers, drift tests ------------------------------------------------------------------------
def check_loader(name: str, sample: str | Path, *, n_rows: int | None = None, **options: Any) -> None:
    """The loader reads ``sample`` (with ``options``) into a 2-D float Dataset, names the file when it does not
    exist, and its ``iter_batches`` (when the spec has ``iter_target``) yields batches of at most ``rows`` rows
    whose concatenation equals the whole load, for several batch sizes."""
    from pynomaly_core.data import Dataset

    spec = _registry().resolve("loader", name)
    load = spec.load()
    dataset = load(str(sample), **options)
    assert isinstance(dataset, Dataset), f"{name}: must return a Dataset, got {type(dataset).__name__}"
    assert dataset.X.ndim == 2 and dataset.X.shape[0] > 0, f"{name}: X must be 2-D and non-empty"
    assert dataset.X.dtype.kind in "fiu", f"{name}: X must be numeric"
    if n_rows is not None:
        assert dataset.X.shape[0] == n_rows, f"{name}: read {dataset.X.shape[0]} rows, expected {n_rows}"
    if spec.iter_target is not None:
        check_loader_batches(name, sample, dataset, **options)
    if "://" in str(sample):
        return
    missing = Path(tempfile.gettempdir()) / f"pynomaly-missing{''.join(Path(sample).suffixes)}"
    try:
        load(str(missing), **options)
    except InputError as exc:
        assert str(missing) in str(exc), f"{name}: the error for a missing file must name it: {exc}"
    else:
        raise AssertionError(f"{name}: loading a missing file did not raise InputError")


def check_loader_batches(name: str, sample: str | Path, whole: Any, **options: Any) -> None:
    """``iter_batches`` with 1, 7 and all rows per batch concatenates to ``whole`` (X, y and feature names)."""
    from pynomaly_core.data import batch_reader

    spec = _registry().resolve("loader", name)
    iter_batches = batch_reader(spec)
    for rows in sorted({1, 7, whole.n_rows}) if whole.n_rows <= 2000 else (997, whole.n_rows):
        batches = list(iter_batches(str(sample), rows, **options))
        sizes = [b.n_rows for b in batches]
        assert batches and all(0 < s <= rows for s in sizes), f"{name}: rows={rows} gave batch sizes {sizes[:5]}…"
        X = np.concatenate([b.X for b in batches])
        assert X.shape == whole.X.shape and np.array_equal(X, whole.X), (
            f"{name}: batches of {rows} rows concatenate to {X.shape}, not the whole load {whole.X.shape}")
        if whole.y is not None:
            y = np.concatenate([b.y for b in batches])
            assert np.array_equal(y, whole.y), f"{name}: batch labels differ from the whole load (rows={rows})"
        assert all(b.feature_names == whole.feature_names for b in batches), (
            f"{name}: batch feature names differ from the whole load (rows={rows})")


def check_explainer(name: str, detector: str = "builtin.mahalanobis") -> None:
    """On data where only feature 2 carries the anomaly, the explainer blames feature 2 for ≥ 90 % of anomalies."""
    from pynomaly_core.sdk import create_detector

    spec = _registry().resolve("explainer", name)
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 5))
    anomalies = rng.normal(size=(20, 5))
    anomalies[:, 2] += rng.choice([-6.0, 6.0], size=20)
    model = create_detector(detector).fit(train)
    explanation = spec.load()(model).explain(anomalies, background=train)
    assert explanation.attributions.shape == (20, 5), f"{name}: attributions shape {explanation.attributions.shape}"
    assert np.isfinite(explanation.attributions).all(), f"{name}: non-finite attributions"
    hits = float(np.mean(np.argmax(explanation.attributions, axis=1) == 2))
    assert hits >= 0.9, f"{name}: blamed the anomalous feature for only {hits:.0%} of anomalous rows"


def check_drift_test(name: str) -> None:
    """No drift on two samples of one distribution, drift on a shifted one, errors on mismatched features."""
    spec = _registry().resolve("drift_test", name)
    test = spec.load()()
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(400, 3))
    # A correct test at alpha = 0.05 flags 2 of 3 null pairs with probability < 1 %.
    false_alarms = sum(test.run(reference, rng.normal(size=(400, 3))).drift for _ in range(3))
    shifted_sample = rng.normal(size=(400, 3))
    shifted_sample[:, 1] += 1.0
    shifted = test.run(reference, shifted_sample)
    assert false_alarms <= 1, f"{name}: reported drift in {false_alarms} of 3 pairs from one distribution"
    assert shifted.drift, f"{name}: missed a one-standard-deviation shift"
    assert len(shifted.features) in (1, 3) and all(0 <= f.p_value <= 1 for f in shifted.features), (
        f"{name}: need one verdict per feature (or one overall) with p-values in [0, 1]"
    )
    try:
        test.run(reference, shifted_sample[:, :2])
    except InputError:
        pass
    else:
        raise AssertionError(f"{name}: a feature-count mismatch was accepted")


def plugin_checks(
    plugin: str, params: dict[str, dict[str, Any]] | None = None, skip: dict[str, str] | None = None
) -> list[tuple[str, Callable[[], None]]]:
    """(test id, check) pairs for every contribution of ``plugin``; used by ``parametrize_plugin_checks``.

    ``params`` maps a detector's qualified name to constructor overrides for the checks (default: its ``quick``
    preset, e.g. fewer epochs);
    ``skip`` maps a test id (``plugin.name::check``) to the reason it is skipped, shown by pytest.
    """
    registry = _registry()
    params = params or {}
    checks: list[tuple[str, Callable[[], None]]] = [
        (f"{plugin}::registration_is_light", partial(check_registration_is_light, plugin))
    ]
    for spec in registry.detectors(plugin=plugin):
        if "tabular" not in spec.data_kinds:
            continue
        overrides = params.get(spec.qualified_name, dict(spec.presets.get("quick", {})))
        checks += [(f"{spec.qualified_name}::{c.__name__.removeprefix('check_')}",
                    partial(c, spec.qualified_name, **overrides)) for c in DETECTOR_CHECKS]
    for spec in registry.specs("explainer", plugin=plugin):
        checks.append((f"{spec.qualified_name}::explainer", partial(check_explainer, spec.qualified_name)))
    for spec in registry.specs("drift_test", plugin=plugin):
        checks.append((f"{spec.qualified_name}::drift_test", partial(check_drift_test, spec.qualified_name)))
    if skip:
        checks = [(test_id, _skipped(check, skip[test_id]) if test_id in skip else check) for test_id, check in checks]
    return checks


def _skipped(check: Callable[[], None], reason: str) -> Callable[[], None]:
    def skipped() -> None:
        import pytest

        pytest.skip(reason)

    skipped.original = check  # type: ignore[attr-defined]
    return skipped
