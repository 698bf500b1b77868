"""The CLI end to end (in-process): outputs, exit codes, one-line errors, atomic files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from .conftest import EXAMPLES
from .plugin_fixtures import run_cli

SENSORS = str(EXAMPLES / "sensors.csv")
CARDIO = str(EXAMPLES / "cardio.npz")
FEATURES = "temperature,pressure,vibration,current,humidity"


def test_detect_prints_metrics_and_writes_csv(cli, tmp_path):
    out_file = tmp_path / "scores.csv"
    code, out, err = cli("detect", CARDIO, "--top", "3", "--output", str(out_file))
    assert code == 0, err
    assert "builtin.ecod: 1831 rows, 183 anomalies" in out
    assert "roc auc: 0.93" in out and "average precision" in out
    rows = list(csv.DictReader(out_file.open()))
    assert len(rows) == 1831 and set(rows[0]) == {"score", "label"}
    assert sum(int(r["label"]) for r in rows) == 183


def test_detect_json_summary_with_params_and_labels(cli, tmp_path):
    out_file = tmp_path / "scores.json"
    code, out, _ = cli("detect", SENSORS, "--labels", "label", "-d", "hbos", "--param", "n_bins=20",
                       "--contamination", "0.02", "--json", "--top", "5", "-o", str(out_file))
    assert code == 0
    summary = json.loads(out)
    assert summary["params"]["n_bins"] == 20 and summary["params"]["contamination"] == 0.02
    assert summary["rows"] == 1000 and summary["anomalies"] == 20 and len(summary["top"]) == 5
    assert summary["metrics"]["roc_auc"] > 0.8
    records = json.loads(out_file.read_text())
    assert len(records) == 1000 and set(records[0]) == {"score", "label"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["detect", "missing.csv"], "missing.csv: no such file"),
        (["detect", SENSORS, "-d", "ecdo"], "unknown detector 'ecdo'; did you mean"),
        (["detect", SENSORS, "--param", "nbins"], "--param 'nbins': expected key=value"),
        (["detect", SENSORS, "-d", "hbos", "-p", "bins=3"], "unknown parameter(s) bins"),
        (["detect", SENSORS, "-o", "out.parquet"], "output must end in .csv or .json"),
        (["detect", SENSORS, "--labels", "nope"], "no label column 'nope'"),
        (["detect", CARDIO, "--columns", "a"], "loader builtin.npz does not take --columns"),
        (["detectors", "list", "--kind", "images"], "--kind must be one of graph, tabular, timeseries"),
        (["detectors", "show", "zzz"], "unknown detector 'zzz'"),
        (["score", "no-such-model", SENSORS], "no such directory, and no model named 'no-such-model'"),
        (["score", str(EXAMPLES), SENSORS], "is not a saved pynomaly model"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, message):
    code, _out, err = cli(*args)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_debug_shows_the_traceback():
    out = run_cli(["--debug", "detect", "missing.csv"])
    assert out.returncode == 1 and "Traceback" in out.stderr and "InputError" in out.stderr


def test_failed_run_keeps_existing_output(cli, tmp_path):
    good = tmp_path / "scores.csv"
    good.write_text("score,label\n1.0,0\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,oops\n")
    code, _, err = cli("detect", str(bad), "-o", str(good))
    assert code == 2 and "non-numeric value 'oops' at line 3, column 'b'" in err
    assert good.read_text() == "score,label\n1.0,0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "scores.csv"]


def test_train_then_score_round_trip(cli, tmp_path):
    model = tmp_path / "model"
    code, out, err = cli("train", SENSORS, "--columns", FEATURES, "-d", "mahalanobis", "-o", str(model))
    assert code == 0, err and "saved to" in out
    code, _, err = cli("train", SENSORS, "--columns", FEATURES, "-o", str(model))
    assert code == 2 and "already exists (use --overwrite" in err
    scores_file = tmp_path / "s.json"
    code, out, err = cli("score", str(model), SENSORS, "--columns", FEATURES, "--labels", "label", "--json",
                         "-o", str(scores_file))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["detector"] == "builtin.mahalanobis" and summary["metrics"]["roc_auc"] > 0.8
    code, out, _ = cli("detect", SENSORS, "--columns", FEATURES, "-d", "mahalanobis", "--json", "--top", "0")
    fitted_here = json.loads(out)
    assert fitted_here["anomalies"] == summary["anomalies"]
    code, _, err = cli("score", str(model), SENSORS, "--columns", "temperature,pressure")
    assert code == 2 and "columns ['temperature', 'pressure'] differ from the fitted columns" in err


def test_detectors_list_and_show_json(cli):
    code, out, _ = cli("detectors", "list", "--json", "--plugin", "builtin")
    names = [d["name"] for d in json.loads(out)]
    assert names == ["builtin.anomaly_likelihood", "builtin.decayed_hbos", "builtin.ecod", "builtin.ensemble",
                     "builtin.forecast_residual", "builtin.half_space_trees", "builtin.hbos", "builtin.mahalanobis",
                     "builtin.matrix_profile", "builtin.robust_zscore", "builtin.seasonal_residual",
                     "builtin.spectral_residual", "builtin.streaming_zscore", "builtin.windowed",
                     "builtin.windowed_gaussian"]
    code, out, _ = cli("detectors", "show", "mahalanobis", "--json")
    shown = json.loads(out)
    assert shown["params"] == {"shrinkage": 0.01, "contamination": 0.1} and "partial_fit" in shown["capabilities"]
    code, out, _ = cli("detectors", "show", "builtin.hbos")
    assert code == 0 and "n_bins" in out and "Histogram-based" in out


def test_plugins_list_json_fields_are_stable(cli):
    _code, out, _ = cli("plugins", "list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows["builtin"]) == {"name", "version", "distribution", "hooks", "detectors", "loaders",
                                    "explainers", "drift_tests", "connectors", "load_time_ms", "status", "error"}
    # ecod, hbos, mahalanobis, robust_zscore, ensemble + 3 online + 7 time series
    assert rows["builtin"]["detectors"] == 15
    assert rows["builtin"]["connectors"] == 2  # stdio, jsonl
    assert rows["builtin"]["drift_tests"] == 5  # ks, mmd, chi2, psi, cvm
    assert rows["builtin"]["explainers"] == 3  # permutation, surrogate, counterfactual


def test_output_scores_match_sdk(cli, tmp_path):
    from pynomaly_core import detect

    out_file = tmp_path / "s.csv"
    cli("detect", CARDIO, "-d", "hbos", "-o", str(out_file), "--top", "0")
    written = np.array([float(r["score"]) for r in csv.DictReader(out_file.open())])
    np.testing.assert_array_equal(written, detect(CARDIO, "hbos").scores)


def test_loader_options_reach_the_loader(cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "g.npz", x=rng.normal(size=(50, 3)), edge_index=np.zeros((2, 4), dtype=np.int64))
    code, out, err = cli("detect", str(tmp_path / "g.npz"), "--loader", "npz", "-O", "features=x", "-O", "labels=null",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["rows"] == 50
    code, _, err = cli("detect", str(tmp_path / "g.npz"), "-O", "bogus")
    assert code == 2 and "--loader-option 'bogus': expected key=value" in err
