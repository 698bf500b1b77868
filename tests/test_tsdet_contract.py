"""Every built-in time-series detector: finds an injected anomaly, online = batch, scoring changes nothing,
save → load gives identical scores, and parameter errors are one-line input errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pynomaly_core as pn
from pynomaly_core.errors import InputError
from pynomaly_core.online import is_online, prequential
from pynomaly_core.registry import get_registry
from pynomaly_core.testing.checks import check_spec_matches_signature

#: Small settings that keep these tests fast (None: the defaults).
QUICK: dict[str, dict] = {
    "builtin.anomaly_likelihood": {"history": 400, "learning": 100, "warmup": 100},
    "builtin.windowed": {"detector": "mahalanobis", "window": 8, "refit": 64},
    "builtin.seasonal_residual": {"init": 200, "max_period": 100},
    "builtin.matrix_profile": {"m": 16, "history": 500},
}
#: Detectors whose ``fit`` scores are batch scores, not the prequential ones (the windowing adapter fits its inner
#: detector on every window first).
BATCH_FIT = {"builtin.windowed"}
#: How many records after the spike a detector may flag it (a subsequence detector scores the subsequence ending at
#: a record, which holds the spike for ``m`` records).
LAG = {"builtin.matrix_profile": 16}
NAMES = sorted(spec.qualified_name for spec in get_registry().detectors(plugin="builtin", data_kind="timeseries"))
SPIKE = 900


def make(name: str, **params):
    return pn.create_detector(name, **{**QUICK.get(name, {}), **params})


def series(n: int = 1200, d: int = 1, seed: int = 0, spike: int | None = SPIKE) -> np.ndarray:
    """A noisy sine per feature (period 50), with a spike of +4 on the last feature at row ``spike``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    X = np.sin(2 * np.pi * t / 50 + np.arange(d)) + 0.1 * rng.normal(size=(n, d))
    if spike is not None and spike < n:
        X[spike, -1] += 4.0
    return X


def test_the_builtin_timeseries_detectors_are_registered():
    assert {"builtin.anomaly_likelihood"} <= set(NAMES)
    for name in NAMES:
        spec = get_registry().detector(name)
        assert spec.data_kinds == {"timeseries"} and {"online", "save"} <= spec.capabilities, name


@pytest.mark.parametrize("name", NAMES)
def test_spec_matches_the_constructor(name):
    check_spec_matches_signature(name)


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_finds_an_injected_spike(name, d):
    scores = make(name).fit(series(d=d)).decision_scores_
    assert scores.shape == (1200,) and np.isfinite(scores).all()
    found = scores[SPIKE:SPIKE + LAG.get(name, 5)].max()
    rest = scores[300:]  # after a warm-up
    assert found >= rest.max(), f"{name}: top score at row {300 + int(np.argmax(rest))}, the spike is at {SPIKE}"
    assert (rest >= found).mean() < 0.01, f"{name}: {int((rest >= found).sum())} rows score as high as the spike"


@pytest.mark.parametrize("name", NAMES)
def test_online_scores_equal_batch_scores(name):
    X = series(n=700, d=2, spike=600)
    batch = prequential(make(name), X) if name in BATCH_FIT else make(name).fit(X).decision_scores_
    online = make(name)
    assert is_online(online)
    one_by_one = []
    for i, row in enumerate(X):
        if i:  # a fresh detector has learned nothing to score with: its first record is only learned
            one_by_one.append(online.score_one(row))
        online.learn_one(row)
    np.testing.assert_allclose(one_by_one, batch[1:], rtol=1e-9, atol=1e-9)
    for batch_size in (1, 7, 700):
        np.testing.assert_allclose(prequential(make(name), X, batch_size=batch_size), batch, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_scoring_changes_nothing(name):
    X = series(n=800)
    detector = make(name).fit(X[:600])
    before = {k: np.array(v, copy=True) for k, v in detector._online_get_state().items()}
    first = detector.score_many(X[600:])
    detector.score_one(X[650])
    detector.decision_function(X[600:700])
    after = detector._online_get_state()
    assert set(before) == set(after)
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=f"{name}: scoring changed {key}")
    np.testing.assert_array_equal(detector.score_many(X[600:]), first)
    # scoring a continuation equals learning it after scoring it record by record
    if name not in BATCH_FIT:
        np.testing.assert_allclose(first, prequential(detector, X[600:]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_scores(name, tmp_path):
    X = series(n=900, d=2)
    detector = make(name).fit(X[:700])
    detector.save(tmp_path / "model")
    loaded = pn.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.decision_function(X[700:]), detector.decision_function(X[700:]))
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    loaded.learn_many(X[700:800])
    detector.learn_many(X[700:800])
    np.testing.assert_array_equal(loaded.score_many(X[800:]), detector.score_many(X[800:]))


@settings(max_examples=15, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=60),
       cut=st.integers(1, 59))
def test_likelihood_scores_lie_in_the_unit_interval_and_batches_agree(values, cut):
    X = np.asarray(values)[:, None]
    detector = make("builtin.anomaly_likelihood", warmup=5, learning=5, window_size=8, history=16)
    scores = detector.fit(X).decision_scores_
    assert ((scores >= 0) & (scores <= 1)).all()
    cut = min(cut, len(values) - 1)
    split = make("builtin.anomaly_likelihood", warmup=5, learning=5, window_size=8, history=16)
    parts = np.concatenate([prequential(split, X[:cut]), prequential(split, X[cut:], batch_size=3)])
    np.testing.assert_allclose(parts, scores, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_bad_parameters_are_input_errors(name):
    spec = get_registry().detector(name)
    bad = next(p for p in spec.params if p != "contamination" and isinstance(spec.params[p], int | float))
    with pytest.raises(InputError, match=bad):
        make(name, **{bad: -1}).fit(series(n=100))


def test_the_stream_engine_runs_a_time_series_model_record_by_record(cli, tmp_path):
    import json

    X = series(n=700)
    make("builtin.anomaly_likelihood").fit(X[:600]).save(tmp_path / "model")
    source = tmp_path / "in.jsonl"
    lines = (json.dumps({"id": f"r{i}", "values": [float(v)]}) for i, v in enumerate(X[600:, 0]))
    source.write_text("\n".join(lines) + "\n")
    code, _out, err = cli("stream", str(source), "--model", str(tmp_path / "model"), "--sink",
                          str(tmp_path / "out.jsonl"), "--learn")
    assert code == 0, err
    streamed = [json.loads(line)["score"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    expected = prequential(pn.load(tmp_path / "model"), X[600:])
    np.testing.assert_allclose(streamed, expected, rtol=1e-12)
