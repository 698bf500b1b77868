"""``pynomaly explain MODEL DATA``: rows, explainers, table and JSON output, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pynomaly_core.explain import explain
from pynomaly_core.persistence import load
from pynomaly_core.testing.explain_data import one_feature_anomalies


@pytest.fixture
def setup(tmp_path, cli):
    train, anomalies, culprit = one_feature_anomalies(n_anomalies=20)
    names = ["t", "p", "v", "c", "h"]
    data = np.vstack([anomalies, train[:80]])
    header = ",".join(names)
    np.savetxt(tmp_path / "train.csv", train, delimiter=",", header=header, comments="", fmt="%.10g")
    np.savetxt(tmp_path / "data.csv", data, delimiter=",", header=header, comments="", fmt="%.10g")
    code, _, err = cli("train", str(tmp_path / "train.csv"), "-d", "mahalanobis", "-o", str(tmp_path / "model"))
    assert code == 0, err
    return {"model": str(tmp_path / "model"), "data": str(tmp_path / "data.csv"), "train": str(tmp_path / "train.csv"),
            "names": names, "culprit": culprit, "X": data, "train_X": train}


@pytest.mark.parametrize("explainer", ["permutation", "surrogate", "counterfactual"])
def test_json_names_the_anomalous_feature(cli, setup, explainer):
    code, out, err = cli("explain", setup["model"], setup["data"], "--rows", "top:20", "-e", explainer,
                         "--background", setup["train"], "--json", "-k", "2")
    assert code == 0, err
    result = json.loads(out)
    assert result["explainer"] == f"builtin.{explainer}" and len(result["rows"]) == 20
    anomalous = [r for r in result["rows"] if r["row"] < 20]  # rows 0..19 hold the anomalies
    assert len(anomalous) >= 18
    scores = [r["score"] for r in result["rows"]]
    assert scores == sorted(scores, reverse=True)
    hits = [r["top_features"][0]["feature"] == setup["names"][setup["culprit"][r["row"]]] for r in anomalous]
    assert np.mean(hits) >= 0.9 and all(len(r["top_features"]) == 2 for r in result["rows"])
    if explainer == "counterfactual":
        assert all(r["counterfactual"]["reached_normal"] for r in anomalous)


def test_json_attributions_equal_the_sdk(cli, setup):
    code, out, _ = cli("explain", setup["model"], setup["data"], "--rows", "3,0,50", "-e", "surrogate",
                       "-p", "n_samples=200", "--json", "-k", "5")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert [r["row"] for r in rows] == [3, 0, 50]
    model = load(setup["model"])
    expected = explain(model, setup["X"][[3, 0, 50]], "surrogate", background=setup["X"], n_samples=200)
    for i, row in enumerate(rows):
        got = {f["feature"]: f["attribution"] for f in row["top_features"]}
        want = dict(zip(setup["names"], expected.attributions[i], strict=True))
        assert got == pytest.approx(want, rel=1e-6)  # the CSV keeps 10 significant digits


def test_table_output(cli, setup):
    code, out, _ = cli("explain", setup["model"], setup["data"], "--rows", "0,1", "-e", "counterfactual",
                       "--background", setup["train"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("builtin.counterfactual on builtin.mahalanobis (threshold ")
    assert lines[1].split() == ["row", "score", "feature", "1", "feature", "2", "feature", "3", "counterfactual"]
    first = lines[3]
    culprit = setup["names"][setup["culprit"][0]]
    assert first.startswith("0 ") and f"{culprit} (+" in first and f"{culprit}: " in first and " -> " in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "0,100"], "row 100 out of range (the data has 100 rows, 0..99)"),
        (["--rows", "top:0"], "expected top:N with N >= 1"),
        (["--rows", "a,b"], "'a' is not a row number"),
        (["-e", "limes"], "unknown explainer 'limes'"),
        (["-p", "n_samples=3", "-e", "surrogate"], "n_samples must be an integer >= 10"),
        (["-p", "bogus=1"], "builtin.permutation: unknown parameter(s) bogus"),
        (["-k", "0"], "--top-k must be >= 1"),
    ],
)
def test_bad_input_exits_2(cli, setup, args, message):
    code, _, err = cli("explain", setup["model"], setup["data"], *args)
    assert code == 2, err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_missing_model_exits_2(cli, setup):
    code, _, err = cli("explain", "no-such-model", setup["data"])
    assert code == 2 and err.startswith("error: ") and "no-such-model" in err and err.count("\n") == 1
