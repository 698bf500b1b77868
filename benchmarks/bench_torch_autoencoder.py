"""Benchmark of the torch AutoEncoder against PyOD's torch AutoEncoder.

1. Accuracy: mean ROC-AUC over the ADBench sets in ``../shared/datasets/adbench`` (protocol of
   :mod:`pynomaly_core.evaluation`) for ``ours-default`` (our defaults), ``ours-matched`` (our detector with
   PyOD's default settings: [64, 32], batch norm, dropout 0.2, batch 32, 10 epochs, Adam 1e-3, weight decay 1e-5,
   no hold-out) and ``pyod-default`` (PyOD's defaults, which are also the matched settings).
2. Throughput: training samples per second (rows trained on × epochs run / fit wall time) of ours and PyOD's at
   their defaults, fitted alternately on the same data in the same run; the ratio of medians is reported.

Run it niced, alone: ``nice python benchmarks/bench_torch_autoencoder.py [--quick] [--output results.json]``.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _deep_autoencoder import (
    QUICK,
    adbench_missing,
    all_datasets,
    base_parser,
    fit_rates,
    fit_totals,
    load,
    summary_line,
    trained_samples,
)

from pynomaly_core.evaluation import evaluate, stratified_split

MATCHED = {"hidden_layers": [64, 32], "dropout": 0.2, "batch_norm": True, "batch_size": 32, "epochs": 10,
           "learning_rate": 1e-3, "weight_decay": 1e-5, "validation_size": 0.0}


def make(config: str) -> Any:
    """A fresh detector for ``config`` (seeded, on the CPU, silent)."""
    if config.startswith("ours"):
        from pynomaly_torch.autoencoder import AutoEncoder

        params = MATCHED if config == "ours-matched" else {}
        return AutoEncoder(**params, random_state=0)
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

    return PyODAutoEncoder(verbose=0, device="cpu")


def accuracy(datasets: list[str], configs: list[str], cache: Path | None) -> dict[str, list[dict[str, Any]]]:
    """Evaluate every config on every set; with ``cache``, records found there are reused and new ones added."""
    cached = json.loads(cache.read_text()) if cache is not None and cache.exists() else {}
    records: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    for name in datasets:
        X, y = load(name)
        line = [f"{name:24s}"]
        for config in configs:
            record = cached.get(f"{config}/{name}")
            if record is None:
                detector = make(config)
                result = evaluate(detector, X, y, name, config)
                record = {**vars(result), "samples": trained_samples(detector, stratified_split(y)[0].size)}
                if cache is not None:
                    cached[f"{config}/{name}"] = record
                    cache.write_text(json.dumps(cached, indent=1) + "\n")
            records[config].append(record)
            line.append(f"{config} {record['roc_auc']:.4f} ({record['fit_s']:6.1f}s)")
        print("  ".join(line), flush=True)
    return records


def throughput(rounds: int) -> dict[str, Any]:
    """Ours and PyOD's at their defaults, interleaved so both see the same machine load."""
    result = fit_rates(make, ("ours-default", "pyod-default"), rounds)
    medians = result["median_samples_per_s"]
    result["ratio"] = medians["ours-default"] / medians["pyod-default"]
    return result


def summarise(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {config: {"mean_roc_auc": float(np.mean([r["roc_auc"] for r in rows])),
                     "mean_average_precision": float(np.mean([r["average_precision"] for r in rows])),
                     **fit_totals(rows)}
            for config, rows in records.items()}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--output", type=Path, help="write all records and the summary as JSON")
    parser.add_argument("--configs", default="ours-default,ours-matched,pyod-default",
                        help="comma-separated accuracy configs (default: all three)")
    parser.add_argument("--cache", type=Path,
                        help="JSON of per-(config, set) records to reuse and extend (resume a long run; delete it "
                             "after changing a detector)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads, i.e. PyOD's (ours trains with 1 on the CPU whatever this says); 1: "
                             "on a shared 2-core machine a second thread makes PyOD several times slower")
    args = parser.parse_args(argv)
    if adbench_missing():
        return 2
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    result: dict[str, Any] = {"quick": args.quick}
    if not args.skip_accuracy:
        datasets = QUICK if args.quick else all_datasets()
        records = accuracy(datasets, args.configs.split(","), args.cache)
        summary = summarise(records)
        result.update(records=records, summary=summary)
        print(f"\nmean ROC-AUC over {len(datasets)} sets")
        for config, values in summary.items():
            print(summary_line(config, values))
        for ours, goal in (("ours-matched", "|gap| <= 0.02"), ("ours-default", "gap >= -0.01")):
            if ours in summary and "pyod-default" in summary:
                gap = summary[ours]["mean_roc_auc"] - summary["pyod-default"]["mean_roc_auc"]
                print(f"  {ours} - pyod-default = {gap:+.4f} (goal {goal})")
    if not args.skip_throughput:
        result["throughput"] = tp = throughput(args.rounds or (3 if args.quick else 7))
        medians = tp["median_samples_per_s"]
        print(f"\ntraining throughput on {tp['dataset']} ({tp['rows']} rows, {tp['rounds']} interleaved rounds): "
              f"ours {medians['ours-default']:.0f}/s, PyOD {medians['pyod-default']:.0f}/s, "
              f"ratio {tp['ratio']:.1f}x (goal >= 3x)")
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
