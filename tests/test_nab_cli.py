"""``pynomaly nab score``: the table, JSON, output files, detector selection and one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores, score_detector

FIXTURE = Path(__file__).parent / "fixtures" / "nab"
RESULTS = FIXTURE / "results"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"


def test_nab_score_prints_each_detector_per_profile(cli):
    code, out, err = cli("nab", "score", str(RESULTS), "--corpus", str(FIXTURE))
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("detector"))
    assert header.split() == ["detector", "standard", "reward_low_FP_rate", "reward_low_FN_rate"]
    corpus = load_corpus(FIXTURE)
    expected = score_detector(corpus, read_detector_scores(RESULTS, "randomCutForest", corpus))
    row = next(line for line in out.splitlines() if line.startswith("randomCutForest"))
    assert row.split()[1:] == [f"{expected[p].score:.2f}" for p in
                               ("standard", "reward_low_FP_rate", "reward_low_FN_rate")]


def test_nab_score_json_selected_detectors_and_output_file(cli, tmp_path):
    out_file = tmp_path / "nab.csv"
    code, out, err = cli("nab", "score", str(RESULTS), "--corpus", str(FIXTURE), "--json",
                         "--detectors", "twitterADVec,windowedGaussian", "-o", str(out_file))
    assert code == 0, err
    report = json.loads(out)
    assert set(report["detectors"]) == {"twitterADVec", "windowedGaussian"}
    standard = report["detectors"]["windowedGaussian"]["standard"]
    assert {"threshold", "raw", "null", "perfect", "score", "tp", "fp", "fn", "tn"} <= set(standard)
    assert standard["null"] == -8.0 and standard["perfect"] == 8.0
    rows = list(csv.DictReader(out_file.open()))
    assert len(rows) == 6 and {r["detector"] for r in rows} == {"twitterADVec", "windowedGaussian"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_missing_series_a_bad_row_and_a_bad_corpus_exit_2_with_one_line(cli, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS / "twitterADVec", results / "twitterADVec")
    victim = results / "twitterADVec" / "realTraffic" / "twitterADVec_speed_7578.csv"
    lines = victim.read_text().splitlines()
    lines[3] = "nan"
    victim.write_text("\n".join(lines) + "\n")
    cases = [
        (["nab", "score", str(results), "--corpus", str(FIXTURE)],
         "twitterADVec_speed_7578.csv: row 4, column 'anomaly_score': not a finite number: 'nan'"),
        (["nab", "score", str(RESULTS), "--corpus", str(tmp_path)], "no labels/combined_windows.json"),
        (["nab", "score", str(RESULTS), "--corpus", str(FIXTURE), "-d", "htm"], "no results for detector 'htm'"),
        (["nab", "score", str(tmp_path / "empty"), "--corpus", str(FIXTURE)], "not a folder"),
        (["nab", "score", str(RESULTS), "--corpus", str(FIXTURE), "-o", str(tmp_path / "x.txt")],
         "output must end in .csv or .json"),
    ]
    victim.unlink()
    cases.append((["nab", "score", str(results), "--corpus", str(FIXTURE)], "missing: detector 'twitterADVec'"))
    for args, message in cases[1:]:
        code, out, err = cli(*args)
        assert code == 2, (args, out, err)
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    victim.write_text("\n".join(lines) + "\n")
    code, _, err = cli(*cases[0][0])
    assert code == 2 and cases[0][1] in err


@pytest.mark.skipif(not (CORPUS / "reference").is_dir(), reason=f"the NAB corpus is not at {CORPUS}")
@pytest.mark.slow
def test_nab_score_on_the_shipped_reference_scores(cli):
    code, out, err = cli("nab", "score", str(CORPUS / "reference"), "--corpus", str(CORPUS), "--json")
    assert code == 0, err
    published = json.loads((CORPUS / "reference" / "final_results.json").read_text())
    for detector, by_profile in json.loads(out)["detectors"].items():
        for profile, result in by_profile.items():
            assert abs(result["score"] - published[detector][profile]) < 0.5
