"""Benchmark of the TensorFlow AutoEncoder against PyOD's AutoEncoder and the torch backend's.

1. Throughput (run first, so the TensorFlow figures include a cold start): training samples per second (rows
   trained on × epochs run / fit wall time) of ``tf-default``, ``torch-default`` and ``pyod-default`` at their
   defaults, fitted in turn on the same data in each of several rounds; medians and ratios are reported.
   TensorFlow traces its compiled train/score functions on the first fit of an architecture (seconds) and reuses
   them afterwards: the first TensorFlow round (cold) is reported separately from the median (warm).
2. Accuracy: mean ROC-AUC over the ADBench sets in ``../shared/datasets/adbench`` (protocol of
   :mod:`pynomaly_core.evaluation`: stratified 70/30 split, fit on the training rows without labels, score the test
   rows) of the same three configurations at their defaults; ``--seeds K`` averages each set over K seeds (the
   single-seed spread of these networks on the small sets is several hundredths of ROC-AUC).

Threads: torch runs with ``--torch-threads`` intra-op threads (default 1) for PyOD. On a shared 2-core machine
torch's default of one thread per core makes each of PyOD's small steps wait for a busy core (2-6× slower here);
the torch backend uses one thread during its fits anyway. TensorFlow runs with its default thread pools (they are
process-wide and fixed at start-up; ``TF_NUM_INTRAOP_THREADS`` changes them). Every configuration also pays a
one-time start-up in a fresh process (TensorFlow: tracing; PyOD: torch's optimizer importing its compiler stack),
which lands in the first throughput round: the medians are robust to it, and the first round is shown.

``torch-default`` runs when ``pynomaly_torch`` is importable, ``pyod-default`` when PyOD and torch are (PyOD's
AutoEncoder is built on torch); a missing column is reported with the reason. Each (dataset, configuration)
record is appended to ``--records`` as soon as it is measured, and a rerun with the same file skips those already
there, so a long run can be split or resumed.

Run it niced, alone:
``nice python benchmarks/bench_tf_autoencoder.py [--quick] [--records r.jsonl] [--output o.json]``
(``--datasets a,b`` restricts the accuracy part).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.evaluation import evaluate, stratified_split

REPO = Path(__file__).resolve().parents[1]
ADBENCH = REPO.parent / "shared" / "datasets" / "adbench"
QUICK = ["4_breastw", "6_cardio", "14_glass", "18_Ionosphere", "20_letter", "21_Lymphography", "29_Pima",
         "31_satimage-2", "38_thyroid", "39_vertebral", "40_vowels", "42_WBC", "43_WDBC", "45_wine", "47_yeast"]
THROUGHPUT_SET = "23_mammography"


def available_configs() -> tuple[list[str], dict[str, str]]:
    """The configurations that can run here, and why the others cannot."""
    configs, missing = ["tf-default"], {}
    if importlib.util.find_spec("pynomaly_torch") is None:
        missing["torch-default"] = "pynomaly_torch is not installed"
    else:
        configs.append("torch-default")
    if importlib.util.find_spec("torch") is None:
        missing["pyod-default"] = "torch is not installed (PyOD's AutoEncoder needs it)"
    elif importlib.util.find_spec("pyod") is None:
        missing["pyod-default"] = "pyod is not installed"
    else:
        configs.append("pyod-default")
    return configs, missing


def make(config: str, seed: int = 0) -> Any:
    """A fresh detector for ``config`` at its defaults, on the CPU, silent; seed 0 is the protocol's (``random_state``
    0 for ours, PyOD's own default 42), seed ``s`` adds ``s``."""
    if config == "tf-default":
        from pynomaly_tf.autoencoder import AutoEncoder

        return AutoEncoder(random_state=seed)
    if config == "torch-default":
        from pynomaly_torch.autoencoder import AutoEncoder as TorchAutoEncoder

        return TorchAutoEncoder(random_state=seed)
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

    return PyODAutoEncoder(verbose=0, device="cpu", random_state=42 + seed)


def trained_samples(detector: Any, n_rows: int) -> int:
    """Rows × epochs that the fit trained on (ours hold out rows and may stop early)."""
    history = getattr(detector, "history_", None)
    if history is not None:
        return history["n_train"] * history["n_epochs"]
    return (n_rows // detector.batch_size) * detector.batch_size * detector.epoch_num  # PyOD drops the last batch


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ADBENCH / f"{name}.npz", allow_pickle=False) as data:
        return data["X"].astype(np.float64), data["y"].astype(np.int64)


def throughput(configs: list[str], rounds: int) -> dict[str, Any]:
    X, y = load(THROUGHPUT_SET)
    X = X[stratified_split(y)[0]]
    rates: dict[str, list[float]] = {c: [] for c in configs}
    for round_ in range(rounds):
        for config in configs:  # in turn, so all see the same machine load
            detector = make(config)
            start = time.perf_counter()
            detector.fit(X)
            rates[config].append(trained_samples(detector, X.shape[0]) / (time.perf_counter() - start))
        print(f"  round {round_ + 1}: " + "  ".join(f"{c} {r[-1]:9.0f}/s" for c, r in rates.items()), flush=True)
    medians = {c: statistics.median(r) for c, r in rates.items()}
    first = {c: r[0] for c, r in rates.items()}
    ratios = {f"tf/{c.removesuffix('-default')}": medians["tf-default"] / medians[c] for c in configs
              if c != "tf-default"}
    return {"dataset": THROUGHPUT_SET, "rows": int(X.shape[0]), "rounds": rounds, "samples_per_s": rates,
            "median_samples_per_s": medians, "first_round_samples_per_s": first, "ratios": ratios}


def accuracy(datasets: list[str], configs: list[str], seeds: int, records_path: Path | None) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    if records_path is not None and records_path.exists():
        records = [json.loads(line) for line in records_path.read_text().splitlines() if line.strip()]
    done = {(r["dataset"], r["detector"], r.get("seed", 0)): r for r in records}
    for name in datasets:
        X, y = load(name)
        n_train = stratified_split(y)[0].size
        line = [f"{name:24s}"]
        for config in configs:
            aucs = []
            for seed in range(seeds):
                if (name, config, seed) in done:
                    aucs.append(done[name, config, seed]["roc_auc"])
                    continue
                detector = make(config, seed)
                result = evaluate(detector, X, y, name, config)
                record = {**vars(result), "seed": seed, "samples": trained_samples(detector, n_train)}
                records.append(record)
                done[name, config, seed] = record
                aucs.append(result.roc_auc)
                if records_path is not None:
                    with open(records_path, "a") as handle:
                        handle.write(json.dumps(record) + "\n")
            line.append(f"{config} {np.mean(aucs):.4f}")
        print("  ".join(line), flush=True)
    return [r for r in records if r["dataset"] in datasets and r["detector"] in configs and r.get("seed", 0) < seeds]


def summarise(records: list[dict[str, Any]], configs: list[str], datasets: list[str]) -> dict[str, Any]:
    """Per configuration: the mean over datasets of each dataset's mean over seeds."""
    summary = {}
    for config in configs:
        rows = [r for r in records if r["detector"] == config]
        names = sorted({r["dataset"] for r in rows})
        per_set = {n: [r for r in rows if r["dataset"] == n] for n in names}
        fit_s = sum(r["fit_s"] for r in rows)
        summary[config] = {
            "datasets": len(names), "fits": len(rows),
            "mean_roc_auc": float(np.mean([np.mean([r["roc_auc"] for r in per_set[n]]) for n in names])),
            "mean_average_precision": float(np.mean([np.mean([r["average_precision"] for r in per_set[n]])
                                                     for n in names])),
            "fit_s": fit_s, "samples_per_s": sum(r["samples"] for r in rows) / fit_s}
        if len(names) != len(datasets):
            summary[config]["incomplete"] = sorted(set(datasets) - set(names))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 small sets and 3 throughput rounds")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rounds", type=int, default=None, help="throughput rounds (default 7, quick 3)")
    parser.add_argument("--datasets", help="comma-separated dataset names (default: all, or the quick list)")
    parser.add_argument("--seeds", type=int, default=1, help="average each set over this many seeds (default 1)")
    parser.add_argument("--configs", help="comma-separated subset of tf-default,torch-default,pyod-default")
    parser.add_argument("--records", type=Path, help="JSONL file of accuracy records: appended to, and reused")
    parser.add_argument("--output", type=Path, help="write all records and the summary as JSON")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads for PyOD (default 1)")
    args = parser.parse_args(argv)
    if not ADBENCH.is_dir():
        print(f"{ADBENCH} not found", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore")
    from pynomaly_tf.runtime import tf

    configs, missing = available_configs()
    if args.configs:
        configs = [c for c in configs if c in args.configs.split(",")]
    platform = "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
    threads = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    print(f"tensorflow {tf.__version__} on {platform} (intra/inter-op threads {threads}, 0 = default); "
          f"configurations: {', '.join(configs)}", flush=True)
    for config, reason in missing.items():
        print(f"  {config} skipped: {reason}", flush=True)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(args.torch_threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)", flush=True)
    params = {c: {k: v for k, v in make(c).get_params().items() if k not in ("verbose", "device")} for c in configs}
    for config, values in params.items():
        print(f"  {config}: {values}", flush=True)
    result: dict[str, Any] = {"quick": args.quick, "configs": configs, "skipped": missing, "seeds": args.seeds,
                              "torch_threads": args.torch_threads, "params": params}
    if not args.skip_throughput:
        print(f"\ntraining throughput on {THROUGHPUT_SET} (defaults, fitted in turn each round):", flush=True)
        result["throughput"] = tp = throughput(configs, args.rounds or (3 if args.quick else 7))
        medians = tp["median_samples_per_s"]
        print(f"  medians over {tp['rounds']} rounds ({tp['rows']} rows): "
              + ", ".join(f"{c} {v:.0f}/s" for c, v in medians.items()))
        print("  first round (start-up included): "
              + ", ".join(f"{c} {v:.0f}/s" for c, v in tp["first_round_samples_per_s"].items()))
        for name, ratio in tp["ratios"].items():
            goal = "goal >= 3x" if name == "tf/pyod" else "goal >= 1x"
            print(f"  {name} = {ratio:.2f}x ({goal})", flush=True)
    if not args.skip_accuracy:
        if args.datasets:
            datasets = args.datasets.split(",")
        elif args.quick:
            datasets = QUICK
        else:
            datasets = sorted((p.stem for p in ADBENCH.glob("*.npz")), key=lambda s: int(s.split("_")[0]))
        print(f"\nROC-AUC on {len(datasets)} sets ({args.seeds} seed(s) each):", flush=True)
        records = accuracy(datasets, configs, args.seeds, args.records)
        summary = summarise(records, configs, datasets)
        result.update(records=records, summary=summary)
        print(f"\nmean ROC-AUC over {len(datasets)} sets ({args.seeds} seed(s) each)")
        for config, values in summary.items():
            note = f"  (missing {len(values['incomplete'])} sets)" if "incomplete" in values else ""
            print(f"  {config:14s} {values['mean_roc_auc']:.4f}  AP {values['mean_average_precision']:.4f}  "
                  f"fit {values['fit_s']:7.1f}s  {values['samples_per_s']:9.0f} samples/s{note}")
        for other in configs[1:]:
            gap = summary["tf-default"]["mean_roc_auc"] - summary[other]["mean_roc_auc"]
            goal = "|gap| <= 0.02, gap >= -0.01" if other == "pyod-default" else "|gap| <= 0.02"
            print(f"  tf - {other.removesuffix('-default')} = {gap:+.4f} (goal {goal})")
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
