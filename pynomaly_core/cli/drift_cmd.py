"""``pynomaly drift REFERENCE CURRENT``: per-feature and overall drift verdicts; exit code 3 when drift is found."""

from __future__ import annotations

from typing import Any

import typer

from pynomaly_core.cli.output import echo, print_json, print_table
from pynomaly_core.cli.params import parse_params

#: Exit code of ``pynomaly drift`` when at least one test finds drift (0: none, 2: bad input).
DRIFT_EXIT_CODE = 3


def _format(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def build_tests(names: list[str], params: dict[str, Any]) -> list[Any]:
    """One drift-test object per name; every ``params`` key must be taken by at least one of the tests."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry

    specs = [get_registry().resolve("drift_test", name) for name in names]
    for key in params:
        if not any(key in spec.params for spec in specs):
            valid = sorted({p for spec in specs for p in spec.params})
            raise InputError(f"drift test(s) {', '.join(s.qualified_name for s in specs)} take no parameter "
                             f"{key!r}; valid: {', '.join(valid) or '(none)'}")
    return [spec.load()(**{k: v for k, v in params.items() if k in spec.params}) for spec in specs]


def print_report(report: Any) -> None:
    drifted = report.drifted_features
    verdict = f"DRIFT in {', '.join(drifted)}" if drifted else "no drift"
    correction = "" if report.correction == "none" else f", {report.correction} correction"
    echo(f"{report.test}: {verdict} (overall p {_format(report.p_value)}, alpha {report.alpha}{correction})")
    rows = [(f.feature, _format(f.statistic), _format(f.p_value), _format(f.adjusted_p_value),
             _format(f.effect_size) + (f" ({f.effect})" if f.effect else ""), "yes" if f.drift else "no")
            for f in report.features]
    print_table(None, ["feature", "statistic", "p-value", "adjusted p", "effect size", "drift"], rows)
    importances = report.details.get("feature_importances")
    if importances:
        ranked = sorted(importances.items(), key=lambda item: -item[1])
        print_table("feature importances (which features tell the samples apart)", ["feature", "importance"],
                    [(name, _format(value)) for name, value in ranked])


def register(app: typer.Typer) -> None:
    from pynomaly_core.cli.inputs import load_dataset
    from pynomaly_core.cli.options import COLUMNS, LOADER, LOADER_OPTION

    @app.command("drift")
    def drift(
        reference: str = typer.Argument(..., help="Reference data (file or URL), e.g. the training data."),
        current: str = typer.Argument(..., help="Current data to compare with the reference."),
        test: list[str] = typer.Option(None, "--test", "-t",
                                       help="Drift test (repeatable; default ks). See `plugins list`."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Test parameter key=value (repeatable)."),
        alpha: float | None = typer.Option(None, "--alpha", help="Significance level (default 0.05)."),
        correction: str | None = typer.Option(None, "--correction",
                                              help="Multiple-testing correction: holm, bonferroni, fdr_bh, none."),
        categorical: str | None = typer.Option(None, "--categorical",
                                               help="Comma-separated categorical columns (chi2, psi)."),
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
    ) -> None:
        """Compare CURRENT with REFERENCE: exit 0 when no test finds drift, 3 when one does, 2 on bad input."""
        from pynomaly_core.errors import InputError

        params = parse_params(param)
        for key, value in (("alpha", alpha), ("correction", correction), ("categorical", categorical)):
            if value is not None:
                params[key] = value
        tests = build_tests(list(test or ["ks"]), params)
        ref = load_dataset(reference, loader, columns, None, loader_option)
        cur = load_dataset(current, loader, columns, None, loader_option)
        if ref.feature_names and cur.feature_names and ref.feature_names != cur.feature_names:
            raise InputError(f"{current}: columns {', '.join(cur.feature_names)} differ from the reference's "
                             f"{', '.join(ref.feature_names)}")
        if ref.n_features != cur.n_features:
            raise InputError(f"{current}: {cur.n_features} features but the reference {reference} has "
                             f"{ref.n_features}")
        reports = [t.run(ref.X, cur.X, feature_names=ref.feature_names) for t in tests]
        found = any(r.drift for r in reports)
        if as_json:
            print_json({"reference": reference, "current": current, "rows": [ref.n_rows, cur.n_rows],
                        "drift": found, "tests": [r.to_dict() for r in reports]})
        else:
            echo(f"reference {reference} ({ref.n_rows} rows) vs current {current} ({cur.n_rows} rows)")
            for report in reports:
                print_report(report)
        if found:
            raise typer.Exit(DRIFT_EXIT_CODE)
