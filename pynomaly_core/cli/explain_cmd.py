"""``pynomaly explain MODEL DATA``: the features that contribute most to chosen rows' anomaly scores."""

from __future__ import annotations

from typing import Any

import typer

from pynomaly_core.cli.output import echo, print_json, print_table
from pynomaly_core.cli.params import parse_params


def parse_rows(spec: str, scores: Any) -> list[int]:
    """``"0,5,10"`` → those rows; ``"top:N"`` → the N highest-scoring rows, most anomalous first."""
    import numpy as np

    from pynomaly_core.errors import InputError

    n = int(scores.size)
    text = spec.strip().lower()
    if text.startswith("top:"):
        count = text[4:].strip()
        if not count.isdigit() or int(count) < 1:
            raise InputError(f"--rows {spec!r}: expected top:N with N >= 1")
        return [int(i) for i in np.argsort(-scores, kind="mergesort")[:int(count)]]
    rows = []
    for item in text.split(","):
        item = item.strip()
        if not item.isdigit():
            raise InputError(f"--rows {spec!r}: {item!r} is not a row number (use e.g. 0,5,10 or top:5)")
        if int(item) >= n:
            raise InputError(f"--rows {spec!r}: row {item} out of range (the data has {n} rows, 0..{n - 1})")
        rows.append(int(item))
    return rows


def _cells(explanation: Any, i: int, k: int) -> list[str]:
    cells = [f"{name} ({value:+.4g})" for name, value in explanation.top_features(i, k)]
    if explanation.row_details and "counterfactual" in explanation.row_details[i]:
        found = explanation.row_details[i]["counterfactual"]
        moves = "; ".join(f"{c['feature']}: {c['from']:.4g} -> {c['to']:.4g}" for c in found["changes"])
        cells.append((moves or "(already normal)") + ("" if found["reached_normal"] else " (not reached)"))
    return cells


def register(app: typer.Typer) -> None:
    from pynomaly_core.cli.inputs import load_dataset
    from pynomaly_core.cli.options import COLUMNS, DATA, LOADER, LOADER_OPTION

    @app.command("explain")
    def explain(
        model_ref: str = typer.Argument(..., metavar="MODEL", help="A model saved by `pynomaly train`."),
        data: str = DATA,
        rows: str = typer.Option("top:5", "--rows", "-r", help="Rows to explain: 0,5,10 or top:N (default top:5)."),
        explainer: str = typer.Option("permutation", "--explainer", "-e", help="Explainer name."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Explainer parameter key=value (repeatable)."),
        top_k: int = typer.Option(3, "--top-k", "-k", help="How many features to show per row."),
        background: str | None = typer.Option(None, "--background",
                                              help="Reference rows (e.g. the training data); default DATA."),
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        trust: bool = typer.Option(False, "--trust", help="Allow pickle artefacts (only for models you trust)."),
        as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON."),
    ) -> None:
        """Explain the anomaly scores of chosen rows of DATA: the top contributing features per row."""
        import numpy as np

        from pynomaly_core.errors import InputError
        from pynomaly_core.explain import explain as run_explainer
        from pynomaly_core.model_ref import load_model
        from pynomaly_core.pipeline import model_input, qualified_name_of

        if top_k < 1:
            raise InputError(f"--top-k must be >= 1, got {top_k}")
        params = parse_params(param)
        model = load_model(model_ref, trust=trust)
        dataset = load_dataset(data, loader, columns, None, loader_option)
        if dataset.kind != "tabular":
            raise InputError(f"{data}: explain works on tabular data, got {dataset.kind} data")
        features = model_input(dataset)
        scores = model.decision_function(features)
        chosen = parse_rows(rows, scores)
        reference = None
        if background is not None:
            reference = np.asarray(load_dataset(background, loader, columns, None, loader_option).X)
        explanation = run_explainer(model, dataset.X[chosen], explainer, background=reference
                                    if reference is not None else dataset.X, **params)
        if as_json:
            print_json({"model": model_ref, "data": data, "threshold": float(model.threshold_),
                        **explanation.to_dict(k=top_k, row_ids=chosen)})
            return
        echo(f"{explanation.explainer} on {qualified_name_of(model)} "
             f"(threshold {model.threshold_:.6g}): top {top_k} features per row")
        header = ["row", "score"] + [f"feature {j + 1}" for j in range(min(top_k, dataset.n_features))]
        if explanation.row_details and "counterfactual" in explanation.row_details[0]:
            header.append("counterfactual")
        print_table(None, header, [[str(row), f"{explanation.scores[i]:.6g}", *_cells(explanation, i, top_k)]
                                   for i, row in enumerate(chosen)])
