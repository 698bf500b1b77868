"""The plugin machinery: one table of contribution kinds, hooks called through pluggy (ordering, wrappers, call
monitoring, tracing), pluggy's check_pending for misspelled hooks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pynomaly_core import hookimpl
from pynomaly_core.hookspecs import HOOK_NAMES
from pynomaly_core.kinds import KINDS
from pynomaly_core.plugins import builtin_source
from pynomaly_core.registry import Registry
from pynomaly_core.specs import DetectorSpec

from .plugin_fixtures import GOOD, listing, make_distribution, run_cli


def detector(name: str) -> DetectorSpec:
    return DetectorSpec(name=name, summary=f"{name}.", target="pynomaly_core.builtin.hbos:HBOS",
                        params={"n_bins": 10, "alpha": 0.1, "tol": 0.5, "contamination": 0.1})


def test_every_kind_has_its_hook_accessors_column_and_json_field(pynomaly_registry):
    import pynomaly_core.hookspecs as hookspecs

    pm = pynomaly_registry.plugin_manager
    for kind in KINDS:
        assert getattr(hookspecs, kind.hook).__doc__.startswith(f"Register {kind.plural.replace('_', ' ')}")
        assert pm.hook.__dict__[kind.hook].spec is not None  # a real pluggy spec
        assert callable(getattr(pynomaly_registry, kind.plural)) and callable(getattr(pynomaly_registry, kind.key))
        assert kind.plural in pynomaly_registry.plugins["builtin"].to_dict()
    assert (*(kind.hook for kind in KINDS), "register_commands") == HOOK_NAMES
    assert [s.qualified_name for s in pynomaly_registry.drift_tests()][:2] == ["builtin.chi2", "builtin.cvm"]
    assert pynomaly_registry.drift_test("ks").qualified_name == "builtin.ks"


NEW_KIND = textwrap.dedent('''
    import json, sys
    from dataclasses import dataclass
    from typing import ClassVar

    import pynomaly_core.kinds as kinds
    from pynomaly_core.specs import Spec

    @dataclass(frozen=True)
    class WidgetSpec(Spec):
        kind: ClassVar[str] = "widget"

    # the one row a new kind needs (in pynomaly_core/kinds.py; added here, then the hook specs, which importing
    # pynomaly_core already built, are rebuilt; nothing else of the machinery is imported yet)
    kinds.KINDS = (*kinds.KINDS, kinds.ContributionKind("widget", "widgets", "widget", WidgetSpec))
    kinds.BY_KEY["widget"] = kinds.KINDS[-1]
    import importlib, pynomaly_core.hookspecs
    importlib.reload(pynomaly_core.hookspecs)

    from pynomaly_core import hookimpl
    from pynomaly_core.registry import Registry
    from pynomaly_core.plugins import builtin_source

    class Plugin:
        @hookimpl
        def register_widgets(self, register):
            register(WidgetSpec(name="gear", summary="A gear.", target="a:b"))

    registry = Registry.from_sources([builtin_source()])
    record = registry.add_plugin(Plugin(), "shop")
    print(json.dumps({"error": record.error, "hooks": record.hooks, "row": record.to_dict(),
                      "widgets": [s.qualified_name for s in registry.widgets()],
                      "gear": registry.widget("gear").qualified_name}))
''')


def test_a_new_kind_is_one_row_of_the_table():
    """Adding a row to KINDS gives the hook spec, the registry accessors and the listing's JSON field."""
    out = subprocess.run([sys.executable, "-c", NEW_KIND], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["error"] is None and result["hooks"] == ["register_widgets"]
    assert result["row"]["widgets"] == 1 and result["row"]["detectors"] == 0
    assert result["widgets"] == ["shop.gear"] and result["gear"] == "shop.gear"


class Ordered:
    """Two implementations of one hook in one plugin (``specname``), ordered with tryfirst, and a wrapper."""

    def __init__(self, calls: list[str]):
        self.calls = calls

    @hookimpl(specname="register_detectors")
    def second(self, register):
        self.calls.append("second")
        register(detector("late"))

    @hookimpl(specname="register_detectors", tryfirst=True)
    def first(self, register):
        self.calls.append("first")
        register(detector("early"))

    @hookimpl(specname="register_detectors", wrapper=True)
    def around(self, register):
        self.calls.append("before")
        result = yield
        self.calls.append("after")
        return result


def test_hooks_run_through_pluggy_with_ordering_wrappers_and_monitoring(pynomaly_registry):
    calls: list[str] = []
    seen: list[tuple[str, str]] = []
    pynomaly_registry.plugin_manager.add_hookcall_monitoring(
        lambda hook_name, impls, kwargs: seen.append((hook_name, ",".join(i.plugin_name for i in impls))),
        lambda outcome, hook_name, impls, kwargs: None)
    record = pynomaly_registry.add_plugin(Ordered(calls), "ordered")
    assert record.ok, record.error
    assert calls == ["before", "first", "second", "after"]
    assert {"ordered.early", "ordered.late"} <= {s.qualified_name for s in pynomaly_registry.detectors()}
    assert ("register_detectors", "ordered,ordered,ordered") in seen  # only this plugin's implementations


def test_a_raising_plugin_leaves_the_others_untouched_and_is_unregistered():
    class Raising:
        @hookimpl
        def register_detectors(self, register):
            raise RuntimeError("nope")

    registry = Registry.from_sources([builtin_source()])
    record = registry.add_plugin(Raising(), "raising")
    assert record.error == "RuntimeError: nope" and registry.plugin_manager.get_plugin("raising") is None
    assert registry.plugins["builtin"].ok and registry.detector("ecod").plugin == "builtin"


def test_pluggy_check_pending_names_a_misspelled_hook_and_other_plugins_still_load(pynomaly_registry):
    class Typo:
        @hookimpl
        def register_drift_test(self, register):
            pass

    record = pynomaly_registry.add_plugin(Typo(), "typo")
    assert record.error == ("InvalidSpecError: unknown hook 'register_drift_test' "
                            "(did you mean 'register_drift_tests'?)")
    assert pynomaly_registry.add_plugin(Ordered([]), "fine").ok  # the failed one left nothing pending behind


def test_trace_environment_prints_every_hook_call(tmp_path):
    make_distribution(tmp_path, "pynomaly-good", "good", GOOD)
    out = run_cli(["plugins", "list", "--json"], tmp_path, PYNOMALY_TRACE_PLUGINS="1")
    assert out.returncode == 0, out.stderr
    assert "register_detectors" in out.stderr and "good" in out.stderr
    assert {row["name"] for row in json.loads(out.stdout)} >= {"builtin", "good"}
    quiet = run_cli(["plugins", "list", "--json"], tmp_path)
    assert "register_detectors" not in quiet.stderr


def test_listing_columns_follow_the_kinds(tmp_path):
    out = run_cli(["plugins", "list"], tmp_path)
    header = out.stdout.splitlines()[1]
    assert [kind.column for kind in KINDS] == [c for c in ("detectors", "loaders", "explainers", "drift tests",
                                                           "connectors") if c in header]
    assert listing(tmp_path)["builtin"]["drift_tests"] == 5
