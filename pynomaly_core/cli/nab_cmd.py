"""``pynomaly nab``: the Numenta Anomaly Benchmark. ``nab score`` scores detector results against a NAB corpus.

The group is ``nab_app``; other modules add sub-commands to it with ``@nab_app.command(...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pynomaly_core.cli.nab_run_cmd import add_run_command

nab_app = typer.Typer(help="The Numenta Anomaly Benchmark (NAB): run detectors on a corpus, score their results.",
                      no_args_is_help=True)
add_run_command(nab_app)  # `nab run` (pynomaly_core/cli/nab_run_cmd.py)

PROFILE_COLUMNS = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def _detector_names(scores_dir: Path, detectors: str | None) -> list[str]:
    from pynomaly_core.errors import InputError
    from pynomaly_core.timeseries.nab.corpus import list_detectors

    found = list_detectors(scores_dir)
    if detectors is None:
        if not found:
            raise InputError(f"{scores_dir}: no detector results (expected <detector>/<category>/"
                             "<detector>_<name>.csv)")
        return found
    names = [name.strip() for name in detectors.split(",") if name.strip()]
    if not names:
        raise InputError("--detectors: give a comma-separated list")
    for name in names:
        if name not in found:
            raise InputError(f"--detectors: {scores_dir / name} holds no results for detector {name!r}"
                             + (f" (found: {', '.join(found)})" if found else ""))
    return names


def score_results(scores_dir: Path, corpus_dir: Path, detectors: str | None = None,
                  probation: float = 0.15) -> dict[str, Any]:
    """Score every (or each named) detector of ``scores_dir``: ``{detector: {profile: ProfileScore}}``."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores, score_detector

    if not 0.0 <= probation < 1.0:
        raise InputError(f"--probation {probation}: must be in [0, 1)")
    corpus = load_corpus(corpus_dir)
    names = _detector_names(scores_dir, detectors)
    return {name: score_detector(corpus, read_detector_scores(scores_dir, name, corpus), probation_percent=probation)
            for name in names}


@nab_app.command("score")
def score(
    scores_dir: Path = typer.Argument(..., help="Results folder: <detector>/<category>/<detector>_<name>.csv with an "
                                      "anomaly_score column (NAB's results/ layout)."),
    corpus: Path = typer.Option(..., "--corpus", help="NAB corpus folder (data/, labels/combined_windows.json, "
                                "config/profiles.json)."),
    detectors: str | None = typer.Option(None, "--detectors", "-d",
                                         help="Comma-separated detector folders to score (default: all)."),
    probation: float = typer.Option(0.15, "--probation", help="Share of each series not scored (NAB: 0.15)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the results as .json or .csv."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Normalised NAB score of each detector per profile (0 = null detector, 100 = perfect detector)."""
    from pynomaly_core.cli.output import check_output_path, echo, print_json, print_table

    if output is not None:
        check_output_path(output)
    results = score_results(scores_dir, corpus, detectors, probation)
    rows = [{"detector": name, **result.to_dict()} for name, by_profile in results.items()
            for result in by_profile.values()]
    if output is not None:
        _write(output, rows)
    if as_json:
        print_json({"corpus": str(corpus), "scores_dir": str(scores_dir),
                    "detectors": {name: {p: r.to_dict() for p, r in by_profile.items()}
                                  for name, by_profile in results.items()},
                    "output": None if output is None else str(output)})
        return
    profiles = list(dict.fromkeys(p for by_profile in results.values() for p in by_profile))
    ordered = [p for p in PROFILE_COLUMNS if p in profiles] + [p for p in profiles if p not in PROFILE_COLUMNS]
    print_table(f"NAB scores, {corpus} (0: null detector, 100: perfect)", ["detector", *ordered],
                [(name, *(f"{by_profile[p].score:.2f}" for p in ordered))
                 for name, by_profile in sorted(results.items(), key=lambda item: -_standard(item[1]))])
    if output is not None:
        echo(f"wrote {output}")


def _standard(by_profile: dict[str, Any]) -> float:
    first = by_profile.get("standard") or next(iter(by_profile.values()))
    return first.score


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    import csv
    import json

    from pynomaly_core.cli.output import write_atomic

    if path.suffix.lower() == ".json":
        write_atomic(path, lambda handle: json.dump(rows, handle, indent=2))
        return

    def write_csv(handle: Any) -> None:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    write_atomic(path, write_csv)


def register(app: typer.Typer) -> None:
    app.add_typer(nab_app, name="nab")
