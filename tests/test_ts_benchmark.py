"""``pynomaly benchmark --timeseries``: series folders and NAB corpora, metrics, records, plots and errors."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from pynomaly_core.errors import InputError
from pynomaly_core.metrics import roc_auc
from pynomaly_core.sdk import create_detector
from pynomaly_core.timeseries import benchmark
from pynomaly_core.timeseries.metrics import range_recall, vus

pytest.importorskip("matplotlib")

NAB_FIXTURE = Path(__file__).parent / "fixtures" / "nab"
PNG = b"\x89PNG\r\n\x1a\n"


class WindowedECOD:
    """A tabular built-in on sliding windows (each row with the 4 values before it): a test-only time-series
    detector until the registry's own ones are used."""

    width = 5

    def fit(self, X: np.ndarray) -> WindowedECOD:
        padded = np.vstack([np.repeat(X[:1], self.width - 1, axis=0), X])
        windows = np.hstack([padded[k:k + X.shape[0]] for k in range(self.width)])
        model = create_detector("builtin.ecod").fit(windows)
        self.decision_scores_, self.threshold_ = model.decision_scores_, model.threshold_
        return self


def windowed_ecod() -> WindowedECOD:
    return WindowedECOD()


def write_series(folder: Path, n: int = 300, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for k in range(2):
        values = np.sin(np.arange(n) / 8.0) + 0.1 * rng.normal(size=n)
        labels = np.zeros(n, dtype=int)
        labels[150 + 20 * k:160 + 20 * k] = 1
        values[labels == 1] += 3.0
        with (folder / f"series_{k}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value", "label"])
            for i in range(n):
                writer.writerow([f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00", values[i], labels[i]])
    X = rng.normal(size=(n, 2))
    y = np.zeros(n, dtype=int)
    y[200:205] = 1
    X[y == 1] += 4
    np.savez(folder / "series_10.npz", X=X, y=y)


def test_a_nab_corpus_with_a_windowed_tabular_detector_and_a_registered_one():
    series = benchmark.load_series(NAB_FIXTURE)
    assert series[0].name == "artificialNoAnomaly/art_daily_no_noise"
    result = benchmark.run(series, [windowed_ecod, "builtin.robust_zscore"], max_buffer=20)
    assert len(result.records) == 8
    empty = [r for r in result.records if r.dataset.startswith("artificialNoAnomaly")]
    assert all(math.isnan(r.vus_pr) and math.isnan(r.roc_auc) for r in empty)
    for record in result.records:
        if record.anomalies:
            item = next(s for s in series if s.name == record.dataset)
            scores, flags = result.scores[record.dataset, record.detector]
            assert record.vus_pr == vus(item.labels, scores, 20).pr
            assert record.roc_auc == roc_auc(item.labels, scores)
            assert record.range_recall == range_recall(item.labels, flags)
            assert 0 <= record.range_f1 <= 1 and record.flagged == int(flags.sum())
    assert set(result.nab) == {"windowed_ecod", "builtin.robust_zscore"}
    assert set(result.nab["windowed_ecod"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert all(0 <= p["score"] <= 100 for p in result.nab["windowed_ecod"].values())
    rows = benchmark.summary(result)
    assert {r["detector"] for r in rows} == {"windowed_ecod", "builtin.robust_zscore"}
    assert sorted(r["mean_rank_vus_pr"] for r in rows) == pytest.approx([1.0, 2.0], abs=0.5)


def test_the_cli_on_a_folder_writes_records_and_plots(cli, tmp_path):
    write_series(tmp_path)
    out_file, plot, per_series = tmp_path / "ts.json", tmp_path / "ts.png", tmp_path / "plots"
    code, out, err = cli("benchmark", "--timeseries", "--datasets", str(tmp_path), "-d",
                         "builtin.robust_zscore,builtin.hbos", "--max-buffer", "10", "-o", str(out_file),
                         "--plot", str(plot), "--plot-series", str(per_series), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [r["dataset"] for r in report["records"]][::2] == ["series_0", "series_1", "series_10"]
    assert all(r["vus_pr"] is not None and 0 <= r["vus_pr"] <= 1 for r in report["records"])
    assert report["summary"][0]["mean_vus_roc"] > 0.7
    assert len(json.loads(out_file.read_text())) == 6
    assert plot.read_bytes()[:8] == PNG
    assert sorted(p.name for p in per_series.iterdir()) == ["series_0.png", "series_1.png", "series_10.png"]
    code, out, err = cli("benchmark", "--timeseries", "--datasets", str(tmp_path), "-d", "builtin.hbos")
    assert code == 0, err
    assert "VUS-PR (buffers 0..100), 3 series" in out and "NAB std" in out


@pytest.mark.parametrize(("content", "message"), [
    ("value,y\n1,0\n", "no label column 'label'"),
    ("value,label\n1,0\n2,3\n", "row 3, column 'label': labels must be 0/1, got 3"),
    ("value,label\n1,0\nabc,1\n", "row 3, column 'value': not a finite number: 'abc'"),
    ("timestamp,value,label\nnoon,1,0\n", "row 2, column 'timestamp': cannot parse 'noon'"),
])
def test_bad_series_exit_2_naming_the_file_row_and_column(cli, tmp_path, content, message):
    (tmp_path / "bad.csv").write_text(content)
    code, _, err = cli("benchmark", "--timeseries", "--datasets", str(tmp_path), "-d", "builtin.hbos")
    assert code == 2 and "bad.csv" in err and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_bad_options_exit_2(cli, tmp_path):
    write_series(tmp_path)
    cases = [
        (["--timeseries", "--seeds", "0,1"], "--timeseries takes one seed"),
        (["--plot-series", str(tmp_path / "p")], "--plot-series needs --timeseries"),
        (["--timeseries", "--max-buffer", "-1"], "--max-buffer -1: must be >= 0"),
    ]
    for extra, message in cases:
        code, _, err = cli("benchmark", "--datasets", str(tmp_path), "-d", "builtin.hbos", *extra)
        assert code == 2 and message in err, err
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.csv or \.npz series"):
        benchmark.load_series(tmp_path / "empty")


def test_per_series_plots_use_timestamps_when_the_series_has_them(tmp_path, monkeypatch):
    import matplotlib.dates as mdates

    from pynomaly_core.timeseries import plots

    nab = benchmark.load_series(NAB_FIXTURE)[:2]
    write_series(tmp_path)
    folder = benchmark.load_series(tmp_path)  # series_0, series_1 (timestamp column), series_10 (.npz: none)
    folder[1].timestamps = folder[1].timestamps[::-1].copy()  # not in time order: rows instead
    seen = {}

    def keep(figure, path):
        axis = figure.axes[-1]
        low, high = axis.get_xlim()
        seen[path.stem] = (isinstance(axis.xaxis.get_major_formatter(), mdates.ConciseDateFormatter), low, high,
                           axis.get_xlabel(), [a.get_xlim() == (low, high) for a in figure.axes])
        path.write_bytes(PNG)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    for items in (nab, folder):
        plots.plot_series(benchmark.run(items, ["builtin.robust_zscore"], max_buffer=5), tmp_path / "plots")
    for item in [*nab, folder[0]]:
        dates, low, high, label, shared = seen[plots.series_file_name(item.name).removesuffix(".png")]
        first, last = mdates.date2num(item.timestamps[0]), mdates.date2num(item.timestamps[-1])
        assert dates and low <= first and last <= high and high - low < 1.2 * (last - first), item.name
        assert label.startswith("time;") and all(shared)
    for name, n in (("series_1", 300), ("series_10", 300)):
        dates, low, high, label, _ = seen[name]
        assert not dates and low < 0 < n - 1 < high < 1.2 * n and label.startswith("row (time order)")
    assert plots.series_axis(folder[2]) == (pytest.approx(np.arange(300)), False)
