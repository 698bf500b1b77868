"""``pynomaly automl``: choose a detector (or ensemble) for DATA, print the leaderboard, save the best model."""

from __future__ import annotations

from pathlib import Path

import typer

from pynomaly_core.cli.options import COLUMNS, DATA, LOADER, LOADER_OPTION


def register(app: typer.Typer) -> None:
    @app.command("automl")
    def automl(
        data: str = DATA,
        labels: str | None = typer.Option(None, "--labels", help="0/1 label column: cross-validated search. "
                                          "Without it: unsupervised consensus selection."),
        budget: float = typer.Option(60.0, "--budget", help="Time budget in seconds."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Directory to save the best model in."),
        name: str | None = typer.Option(None, "--name", help="Register the best model as a new version of NAME in "
                                        "the model store."),
        candidates: str | None = typer.Option(None, "--candidates", help="Comma-separated detector names "
                                              "(default: the installed part of the built-in grid)."),
        folds: int = typer.Option(3, "--folds", help="Cross-validation folds (with --labels)."),
        top_k: int | None = typer.Option(None, "--top-k", help="Unsupervised: how many consensus leaders join the "
                                         "default ensemble's members (default 3), or are combined when --candidates "
                                         "are named (default 5)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the folds and of seeded detectors."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """AutoML over the registered detectors; the leaderboard is printed best first."""
        from pynomaly_core.automl import automl as run_automl
        from pynomaly_core.cli.inputs import load_dataset, progress
        from pynomaly_core.cli.output import echo, print_json, print_table
        from pynomaly_core.errors import InputError

        if output is not None and output.exists() and not overwrite:
            raise InputError(f"{output} already exists (use --overwrite to replace it)")
        if output is not None and not output.parent.exists():
            raise InputError(f"{output}: folder {output.parent} does not exist")
        store = None
        if name is not None:
            from pynomaly_core.cli.models_cmd import open_for_training

            store = open_for_training(name, None)
        dataset = load_dataset(data, loader, columns, labels, loader_option)
        if labels is not None and dataset.y is None:
            raise InputError(f"{data}: no labels found for --labels {labels}")
        names = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else None
        with progress(f"automl on {dataset.n_rows} rows (budget {budget:g}s)"):
            result = run_automl(dataset.X, dataset.y if labels is not None else None, budget_s=budget,
                                candidates=names, n_splits=folds, top_k=top_k, random_state=seed)
        if output is not None:
            result.best_model.save(output, overwrite=overwrite)
        registered = None
        if store is not None:
            from pynomaly_core.modelstore.fingerprints import fingerprint

            metrics = {"cv_roc_auc": result.leaderboard[0]["roc_auc"]} if result.mode == "supervised" else {}
            registered = store.register(name, result.best_model, data_fingerprint=fingerprint(dataset, source=data),
                                        metrics=metrics, training_s=result.elapsed_s)
        if as_json:
            print_json({**result.to_dict(), "output": None if output is None else str(output),
                        "registered": None if registered is None else registered.ref})
            return
        metric = "roc_auc" if result.mode == "supervised" else "consensus"
        role = {(True, True): "default member", (True, False): "added", (False, False): "", (False, True): ""}
        columns = ["rank", "detector", metric, "seconds"] + (["in model"] if result.mode == "unsupervised" else [])
        print_table(f"automl leaderboard ({result.mode}, {metric})", columns,
                    [(r["rank"], r["label"], f"{r[metric]:.4f}", f"{r.get('fit_score_s', r.get('fit_s', 0.0)):.2f}",
                      *([role[r["chosen"], r["default_member"]]] if result.mode == "unsupervised" else []))
                     for r in result.leaderboard])
        if result.skipped:
            echo(f"not evaluated ({len(result.skipped)}, budget or errors): {', '.join(result.skipped)}")
        chosen = result.best_name
        if chosen == "builtin.ensemble" and result.mode == "unsupervised":
            chosen += " of " + ", ".join(result.best_model.member_names_)
        echo(f"best: {chosen} ({result.elapsed_s:.1f}s)")
        if output is not None:
            echo(f"saved to {output}")
        if registered is not None:
            echo(f"registered as {registered.ref}")
