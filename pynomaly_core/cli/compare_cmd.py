"""``pynomaly compare``: A/B test of two saved models on labelled data."""

from __future__ import annotations

import typer

from pynomaly_core.cli.options import COLUMNS, DATA, LOADER, LOADER_OPTION


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        model_a: str = typer.Argument(..., metavar="MODEL_A", help="First saved model."),
        model_b: str = typer.Argument(..., metavar="MODEL_B", help="Second saved model."),
        data: str = DATA,
        labels: str = typer.Option(..., "--labels", help="Column (or npz array) holding the 0/1 labels."),
        method: str = typer.Option("both", "--method", help="delong, bootstrap or both."),
        n_bootstrap: int = typer.Option(2000, "--n-bootstrap", help="Bootstrap resamples."),
        seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
        confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the intervals."),
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        trust: bool = typer.Option(False, "--trust", help="Allow pickle artefacts (only for models you trust)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Test the ROC-AUC difference of MODEL_A and MODEL_B on DATA and measure how alike their flags are."""
        from pynomaly_core.cli.inputs import load_dataset
        from pynomaly_core.cli.output import echo, print_json, print_table
        from pynomaly_core.compare import compare as run_compare
        from pynomaly_core.errors import InputError
        from pynomaly_core.model_ref import load_model
        from pynomaly_core.pipeline import model_input

        first = load_model(model_a, trust=trust)
        second = load_model(model_b, trust=trust)
        dataset = load_dataset(data, loader, columns, labels, loader_option)
        if dataset.y is None:
            raise InputError(f"{data}: no labels found for --labels {labels}")
        result = run_compare(first, second, model_input(dataset), dataset.y, method=method,
                             n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
        if as_json:
            print_json({"model_a": model_a, "model_b": model_b, **result.to_dict()})
            return
        level = f"{100 * confidence:g}%"
        echo(f"{dataset.n_rows} rows, {result.n_anomalies} anomalies")
        echo(f"ROC-AUC  A ({model_a}): {result.roc_auc_a:.4f}   B ({model_b}): {result.roc_auc_b:.4f}")
        print_table("ROC-AUC difference A - B", ["test", "difference", f"{level} CI", "std error", "p-value"],
                    [(t.method, f"{t.difference:+.4f}", f"[{t.ci_low:+.4f}, {t.ci_high:+.4f}]",
                      f"{t.std_error:.4f}", f"{t.p_value:.4g}") for t in result.tests])
        a = result.agreement
        echo(f"flagged rows: A {a.flagged_a}, B {a.flagged_b}, both {a.flagged_both}; "
             f"Cohen's kappa {a.cohen_kappa:.4f}, Jaccard {a.jaccard:.4f}, row agreement {a.row_agreement:.4f}")
