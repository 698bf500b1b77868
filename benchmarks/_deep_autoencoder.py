"""Harness shared by the deep AutoEncoder benchmarks (``bench_{jax,tf,torch}_autoencoder.py``).

The torch script uses the pieces (data sets, fit rates, arguments). The JAX and TensorFlow scripts hand a
:class:`Backend` to :func:`run`, which compares ``<backend>-default`` with ``torch-default`` and ``pyod-default``:

1. Throughput (run first, so the backend's figures include a cold start): training samples per second (rows trained
   on × epochs run / fit wall time) of the three configurations at their defaults, fitted in turn on the same data
   in each of several rounds; medians and ratios are reported, and the first round (cold, start-up included)
   separately from the median (warm).
2. Accuracy: mean ROC-AUC over the ADBench sets in ``../shared/datasets/adbench`` (protocol of
   :mod:`pynomaly_core.evaluation`: stratified 70/30 split, fit on the training rows without labels, score the test
   rows) of the same three configurations at their defaults; ``--seeds K`` averages each set over K seeds (the
   single-seed spread of these networks on the small sets is several hundredths of ROC-AUC).

Threads: torch runs with ``--torch-threads`` intra-op threads (default 1) for PyOD. On a shared 2-core machine
torch's default of one thread per core makes each of PyOD's small steps wait for a busy core (2-6× slower here);
the torch backend uses one thread during its fits anyway. Every configuration also pays a one-time start-up in a
fresh process (PyOD: torch's optimizer importing its compiler stack), which lands in the first throughput round:
the medians are robust to it, and the first round is shown.

``torch-default`` runs when ``pynomaly_torch`` is importable, ``pyod-default`` when PyOD and torch are (PyOD's
AutoEncoder is built on torch); a missing column is reported with the reason. Each (dataset, configuration)
record is appended to ``--records`` as soon as it is measured, and a rerun with the same file skips those already
there, so a long run can be split or resumed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import ADBENCH, adbench_sets, load_npz

from pynomaly_core.evaluation import evaluate, stratified_split

QUICK = ["4_breastw", "6_cardio", "14_glass", "18_Ionosphere", "20_letter", "21_Lymphography", "29_Pima",
         "31_satimage-2", "38_thyroid", "39_vertebral", "40_vowels", "42_WBC", "43_WDBC", "45_wine", "47_yeast"]
THROUGHPUT_SET = "23_mammography"


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    return load_npz(ADBENCH / f"{name}.npz")


def all_datasets() -> list[str]:
    """Every ADBench set, in the order of their numbers."""
    return [path.stem for path in adbench_sets()]


def adbench_missing() -> bool:
    """Whether the ADBench folder is absent (then said on stderr)."""
    if ADBENCH.is_dir():
        return False
    print(f"{ADBENCH} not found", file=sys.stderr)
    return True


def trained_samples(detector: Any, n_rows: int) -> int:
    """Rows × epochs that the fit trained on (ours may hold out rows and stop early)."""
    history = getattr(detector, "history_", None)
    if history is not None:
        return history["n_train"] * history["n_epochs"]
    return (n_rows // detector.batch_size) * detector.batch_size * detector.epoch_num  # PyOD drops the last batch


def fit_rates(make: Callable[[str], Any], configs: Sequence[str], rounds: int, report: bool = False) -> dict[str, Any]:
    """Training samples per second of each config, fitted in turn on :data:`THROUGHPUT_SET`'s training rows in each
    round (so all see the same machine load), and their medians; ``report`` prints each round."""
    X, y = load(THROUGHPUT_SET)
    X = X[stratified_split(y)[0]]
    rates: dict[str, list[float]] = {c: [] for c in configs}
    for round_ in range(rounds):
        for config in configs:
            detector = make(config)
            start = time.perf_counter()
            detector.fit(X)
            rates[config].append(trained_samples(detector, X.shape[0]) / (time.perf_counter() - start))
        if report:
            print(f"  round {round_ + 1}: " + "  ".join(f"{c} {r[-1]:9.0f}/s" for c, r in rates.items()), flush=True)
    return {"dataset": THROUGHPUT_SET, "rows": int(X.shape[0]), "rounds": rounds, "samples_per_s": rates,
            "median_samples_per_s": {c: statistics.median(r) for c, r in rates.items()}}


def base_parser(doc: str) -> argparse.ArgumentParser:
    """The options every AutoEncoder benchmark takes; ``doc``'s first line describes the script."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 small sets and 3 throughput rounds")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rounds", type=int, default=None, help="throughput rounds (default 7, quick 3)")
    return parser


def fit_totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Total fit time of ``rows`` and the training samples per second over it."""
    fit_s = sum(r["fit_s"] for r in rows)
    return {"fit_s": fit_s, "samples_per_s": sum(r["samples"] for r in rows) / fit_s}


def summary_line(config: str, values: Mapping[str, Any]) -> str:
    return (f"  {config:14s} {values['mean_roc_auc']:.4f}  AP {values['mean_average_precision']:.4f}  "
            f"fit {values['fit_s']:7.1f}s  {values['samples_per_s']:9.0f} samples/s")


@dataclass(frozen=True)
class Backend:
    """What a backend's script gives :func:`run`: its configuration is ``<name>-default``."""

    name: str  # short name in the ratios and gaps: "jax" gives "jax/pyod", "jax - torch"
    build: Callable[[int], Any]  # a fresh detector of the backend at its defaults, ``random_state=seed``
    banner: Callable[[], str]  # imports the framework and says its version and device
    doc: str  # the script's docstring; its first line describes it in --help
    gap_goals: Mapping[str, str] = field(default_factory=dict)  # accuracy goal per other config

    @property
    def config(self) -> str:
        return f"{self.name}-default"

    def available_configs(self) -> tuple[list[str], dict[str, str]]:
        """The configurations that can run here, and why the others cannot."""
        configs, missing = [self.config], {}
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

    def make(self, config: str, seed: int = 0) -> Any:
        """A fresh detector for ``config`` at its defaults, on the CPU, silent; seed 0 is the protocol's
        (``random_state`` 0 for ours, PyOD's own default 42), seed ``s`` adds ``s``."""
        if config == self.config:
            return self.build(seed)
        if config == "torch-default":
            from pynomaly_torch.autoencoder import AutoEncoder as TorchAutoEncoder

            return TorchAutoEncoder(random_state=seed)
        from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

        return PyODAutoEncoder(verbose=0, device="cpu", random_state=42 + seed)


def throughput(backend: Backend, configs: list[str], rounds: int) -> dict[str, Any]:
    result = fit_rates(backend.make, configs, rounds, report=True)
    medians = result["median_samples_per_s"]
    result["first_round_samples_per_s"] = {c: r[0] for c, r in result["samples_per_s"].items()}
    result["ratios"] = {f"{backend.name}/{c.removesuffix('-default')}": medians[backend.config] / medians[c]
                        for c in configs if c != backend.config}
    return result


def accuracy(make: Callable[[str, int], Any], datasets: list[str], configs: list[str], seeds: int,
             records_path: Path | None) -> list[dict[str, Any]]:
    """Records of every (dataset, config, seed), reusing and appending to the JSONL file ``records_path``."""
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
        summary[config] = {
            "datasets": len(names), "fits": len(rows),
            "mean_roc_auc": float(np.mean([np.mean([r["roc_auc"] for r in per_set[n]]) for n in names])),
            "mean_average_precision": float(np.mean([np.mean([r["average_precision"] for r in per_set[n]])
                                                     for n in names])),
            **fit_totals(rows)}
        if len(names) != len(datasets):
            summary[config]["incomplete"] = sorted(set(datasets) - set(names))
    return summary


def backend_parser(backend: Backend) -> argparse.ArgumentParser:
    parser = base_parser(backend.doc)
    parser.add_argument("--datasets", help="comma-separated dataset names (default: all, or the quick list)")
    parser.add_argument("--seeds", type=int, default=1, help="average each set over this many seeds (default 1)")
    parser.add_argument("--configs", help=f"comma-separated subset of {backend.config},torch-default,pyod-default")
    parser.add_argument("--records", type=Path, help="JSONL file of accuracy records: appended to, and reused")
    parser.add_argument("--output", type=Path, help="write all records and the summary as JSON")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads for PyOD (default 1)")
    return parser


def report_throughput(backend: Backend, configs: list[str], rounds: int) -> dict[str, Any]:
    print(f"\ntraining throughput on {THROUGHPUT_SET} (defaults, fitted in turn each round):", flush=True)
    tp = throughput(backend, configs, rounds)
    print(f"  medians over {tp['rounds']} rounds ({tp['rows']} rows): "
          + ", ".join(f"{c} {v:.0f}/s" for c, v in tp["median_samples_per_s"].items()))
    print("  first round (start-up included): "
          + ", ".join(f"{c} {v:.0f}/s" for c, v in tp["first_round_samples_per_s"].items()))
    for name, ratio in tp["ratios"].items():
        goal = "goal >= 3x" if name == f"{backend.name}/pyod" else "goal >= 1x"
        print(f"  {name} = {ratio:.2f}x ({goal})", flush=True)
    return tp


def report_accuracy(backend: Backend, datasets: list[str], configs: list[str], seeds: int,
                    records_path: Path | None) -> dict[str, Any]:
    print(f"\nROC-AUC on {len(datasets)} sets ({seeds} seed(s) each):", flush=True)
    records = accuracy(backend.make, datasets, configs, seeds, records_path)
    summary = summarise(records, configs, datasets)
    print(f"\nmean ROC-AUC over {len(datasets)} sets ({seeds} seed(s) each)")
    for config, values in summary.items():
        note = f"  (missing {len(values['incomplete'])} sets)" if "incomplete" in values else ""
        print(summary_line(config, values) + note)
    for other in configs[1:]:
        gap = summary[backend.config]["mean_roc_auc"] - summary[other]["mean_roc_auc"]
        goal = backend.gap_goals.get(other, "|gap| <= 0.02")
        print(f"  {backend.name} - {other.removesuffix('-default')} = {gap:+.4f} (goal {goal})")
    return {"records": records, "summary": summary}


def run(backend: Backend, argv: list[str] | None = None) -> int:
    """The benchmark's command line: throughput, then accuracy, of ``backend`` against torch and PyOD."""
    args = backend_parser(backend).parse_args(argv)
    if adbench_missing():
        return 2
    warnings.filterwarnings("ignore")
    banner = backend.banner()
    configs, missing = backend.available_configs()
    if args.configs:
        configs = [c for c in configs if c in args.configs.split(",")]
    print(f"{banner}; configurations: {', '.join(configs)}", flush=True)
    for config, reason in missing.items():
        print(f"  {config} skipped: {reason}", flush=True)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(args.torch_threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)", flush=True)
    params = {c: {k: v for k, v in backend.make(c).get_params().items() if k not in ("verbose", "device")}
              for c in configs}
    for config, values in params.items():
        print(f"  {config}: {values}", flush=True)
    result: dict[str, Any] = {"quick": args.quick, "configs": configs, "skipped": missing, "seeds": args.seeds,
                              "torch_threads": args.torch_threads, "params": params}
    if not args.skip_throughput:
        result["throughput"] = report_throughput(backend, configs, args.rounds or (3 if args.quick else 7))
    if not args.skip_accuracy:
        if args.datasets:
            datasets = args.datasets.split(",")
        elif args.quick:
            datasets = QUICK
        else:
            datasets = all_datasets()
        result.update(report_accuracy(backend, datasets, configs, args.seeds, args.records))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0
