"""``pynomaly nab run``: NAB's protocol (one pass in time order, score before learn, scores in [0, 1]), the
results layout that ``nab score`` reads, one-line errors; and the NAB score of the built-in detectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores, score_detector
from pynomaly_core.timeseries.nab_run import causal_rank, run_corpus

FIXTURE = Path(__file__).parent / "fixtures" / "nab"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"


def test_nab_run_writes_what_nab_score_reads(cli, tmp_path):
    code, out, err = cli("nab", "run", "anomaly_likelihood", "--corpus", str(FIXTURE), "-o", str(tmp_path))
    assert code == 0, err
    assert "4 series" in out
    corpus = load_corpus(FIXTURE)
    scores = read_detector_scores(tmp_path, "anomaly_likelihood", corpus)  # one score per data row, or it raises
    for relative, values in scores.items():
        assert ((values >= 0) & (values <= 1)).all(), relative
    code, out, err = cli("nab", "score", str(tmp_path), "--corpus", str(FIXTURE))
    assert code == 0 and "anomaly_likelihood" in out, err


def test_nab_run_scores_each_record_before_the_next(tmp_path):
    """The score of a row does not depend on the rows after it (the series cut short gives the same prefix)."""
    corpus = load_corpus(FIXTURE)
    relative = "realAdExchange/exchange-2_cpm_results.csv"
    whole, _ = run_corpus(corpus, "anomaly_likelihood", files=[relative])
    values = corpus.series(relative)[1]
    from pynomaly_core.timeseries.nab_run import make_online_detector, run_series

    prefix = run_series(make_online_detector("anomaly_likelihood", {}), values[:700])
    np.testing.assert_array_equal(prefix, whole[relative][:700])


def test_nab_run_maps_any_online_detector_into_the_unit_interval(cli, tmp_path):
    code, _out, err = cli("nab", "run", "streaming_zscore", "--corpus", str(FIXTURE), "-o", str(tmp_path),
                         "-p", "window_size=100", "--name", "zs")
    assert code == 0, err
    scores = read_detector_scores(tmp_path, "zs", load_corpus(FIXTURE))
    assert all(((v >= 0) & (v <= 1)).all() for v in scores.values())


def test_causal_rank_uses_only_the_past():
    scores = np.array([3.0, 1.0, 2.0, 5.0, 0.0, 2.0])
    np.testing.assert_allclose(causal_rank(scores), [0.0, 0.0, 0.5, 1.0, 0.0, (2 + 0.5) / 5])
    for n in range(1, 6):
        np.testing.assert_array_equal(causal_rank(scores[:n]), causal_rank(scores)[:n])


@pytest.mark.parametrize("args, message", [
    (["ecod"], "online detector"),
    (["anomaly_likelihood", "-p", "rest=-1"], "rest"),
    (["no_such_detector"], "no_such_detector"),
])
def test_nab_run_errors_are_one_line(cli, tmp_path, args, message):
    code, _out, err = cli("nab", "run", *args, "--corpus", str(FIXTURE), "-o", str(tmp_path / "out"))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not (CORPUS / "labels" / "combined_windows.json").is_file(),
                    reason=f"the NAB corpus is not at {CORPUS}")
def test_anomaly_likelihood_scores_at_least_60_on_nab():
    corpus = load_corpus(CORPUS)
    scores, _ = run_corpus(corpus, "anomaly_likelihood")
    assert score_detector(corpus, scores)["standard"].score >= 60
