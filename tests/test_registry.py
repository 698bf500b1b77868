"""Discovery, isolation of broken plugins, name resolution, allow/block lists and --strict."""

from __future__ import annotations

import pytest

from pynomaly_core import hookimpl
from pynomaly_core.errors import PluginLoadError, UnknownNameError
from pynomaly_core.specs import DetectorSpec, LoaderSpec

from .plugin_fixtures import GOOD, IMPORT_ERROR, RAISES, listing, make_distribution, run_cli


def detector(name, target="pynomaly_core.builtin.hbos:HBOS"):
    return DetectorSpec(name=name, summary=f"{name}.", target=target,
                        params={"n_bins": 10, "alpha": 0.1, "tol": 0.5, "contamination": 0.1})


class Good:
    @hookimpl
    def register_detectors(self, register):
        register(detector("ecod"))
        register(detector("only_here"))

    @hookimpl
    def register_loaders(self, register):
        register(LoaderSpec(name="weird", summary="W.", target="a:b", suffixes=(".weird",)))


class Other:
    @hookimpl
    def register_detectors(self, register):
        register(detector("only_here"))


class Raising:
    @hookimpl
    def register_detectors(self, register):
        register(detector("first"))
        raise RuntimeError("exploded halfway")


class InvalidSpec:
    @hookimpl
    def register_detectors(self, register):
        register(DetectorSpec(name="fine", summary="F.", target="a:b"))
        register(DetectorSpec(name="bad", summary="B.", target="a:b", capabilities={"flying"}))


class Duplicate:
    @hookimpl
    def register_detectors(self, register):
        register(detector("twice"))
        register(detector("twice"))


class WrongType:
    @hookimpl
    def register_detectors(self, register):
        register({"name": "dict"})


class Misspelled:
    @hookimpl
    def register_detector(self, register):
        pass


def test_broken_plugins_are_isolated_and_reported(pynomaly_registry):
    reg = pynomaly_registry
    reg.add_plugin(Good(), "good")
    for plugin, name in [(Raising(), "raising"), (InvalidSpec(), "invalid"), (Duplicate(), "dup"),
                         (WrongType(), "wrongtype"), (Misspelled(), "misspelled")]:
        reg.add_plugin(plugin, name)
    errors = {r.name: r.error for r in reg.broken()}
    assert "exploded halfway" in errors["raising"]
    assert "unknown capabilities ['flying']" in errors["invalid"]
    assert "'twice' is registered twice" in errors["dup"]
    assert "expected a DetectorSpec, got dict" in errors["wrongtype"]
    assert "unknown hook 'register_detector' (did you mean 'register_detectors'?)" in errors["misspelled"]
    # broken plugins contribute nothing, not even what they registered before failing
    names = {s.qualified_name for s in reg.detectors()}
    assert "raising.first" not in names and "invalid.fine" not in names
    assert {"good.ecod", "good.only_here", "builtin.ecod"} <= names
    assert reg.plugins["good"].ok and reg.plugins["good"].counts == {"detector": 2, "loader": 1}
    with pytest.raises(PluginLoadError, match="5 broken plugin"):
        reg.raise_if_broken()


def test_plugin_names_must_be_unique_and_valid(pynomaly_registry):
    pynomaly_registry.add_plugin(Good(), "good")
    record = pynomaly_registry.add_plugin(Other(), "good", distribution="other-dist")
    assert "already used" in record.error
    assert pynomaly_registry.add_plugin(Other(), "Bad-Name").error.startswith("InvalidSpecError")


def test_short_names_resolve_unique_or_builtin(pynomaly_registry):
    reg = pynomaly_registry
    reg.add_plugin(Good(), "good")
    assert reg.detector("ecod").qualified_name == "builtin.ecod"  # built-in wins
    assert reg.detector("good.ecod").plugin == "good"
    assert reg.detector("only_here").qualified_name == "good.only_here"  # unique
    assert reg.detector("BUILTIN.HBOS").qualified_name == "builtin.hbos"
    reg.add_plugin(Other(), "other")
    with pytest.raises(UnknownNameError, match=r"ambiguous: use one of good\.only_here, other\.only_here") as info:
        reg.detector("only_here")
    assert info.value.candidates == ["good.only_here", "other.only_here"]
    with pytest.raises(UnknownNameError, match=r"did you mean .*ecod"):
        reg.detector("ecdo")


def test_unknown_name_mentions_broken_plugin(pynomaly_registry):
    pynomaly_registry.add_plugin(Raising(), "raising")
    with pytest.raises(UnknownNameError, match="plugin 'raising' failed to load: RuntimeError: exploded halfway"):
        pynomaly_registry.detector("raising.first")


def test_entry_point_discovery_isolation_and_env_lists(tmp_path):
    make_distribution(tmp_path, "pynomaly-good", "good", GOOD, version="2.3")
    make_distribution(tmp_path, "pynomaly-missing", "missing", IMPORT_ERROR)
    make_distribution(tmp_path, "pynomaly-raises", "raises", RAISES)
    rows = listing(tmp_path)
    assert rows["builtin"]["status"] == "ok" and rows["builtin"]["distribution"] == "pynomaly"
    assert rows["good"] == {**rows["good"], "status": "ok", "version": "2.3", "distribution": "pynomaly-good",
                            "detectors": 2, "hooks": ["register_detectors"]}
    assert "ModuleNotFoundError" in rows["missing"]["error"]
    assert "boom in hook" in rows["raises"]["error"]
    # allow list by plugin or distribution name; empty means built-ins only
    assert set(listing(tmp_path, PYNOMALY_LOAD_PLUGINS="good")) == {"builtin", "good"}
    assert set(listing(tmp_path, PYNOMALY_LOAD_PLUGINS="pynomaly-raises")) == {"builtin", "raises"}
    assert set(listing(tmp_path, PYNOMALY_LOAD_PLUGINS="")) == {"builtin"}
    remaining = set(listing(tmp_path, PYNOMALY_DISABLE_PLUGINS="missing,raises"))
    assert {"builtin", "good"} <= remaining and not {"missing", "raises"} & remaining


def test_strict_turns_broken_plugins_into_failure(tmp_path):
    make_distribution(tmp_path, "pynomaly-raises", "raises", RAISES)
    relaxed = run_cli(["plugins", "list"], tmp_path)
    assert relaxed.returncode == 0 and "boom in hook" in relaxed.stdout
    strict = run_cli(["plugins", "list", "--strict"], tmp_path)
    assert strict.returncode == 1 and "1 broken plugin(s): raises: RuntimeError: boom in hook" in strict.stderr
    assert "Traceback" not in strict.stderr
    root_strict = run_cli(["--strict", "detectors", "list"], tmp_path)
    assert root_strict.returncode == 1
    fine = run_cli(["--strict", "detectors", "list", "--json"], tmp_path, PYNOMALY_DISABLE_PLUGINS="raises")
    assert fine.returncode == 0


def test_detector_names_from_plugins_work_in_cli(tmp_path):
    make_distribution(tmp_path, "pynomaly-good", "good", GOOD)
    out = run_cli(["detectors", "list", "--json", "--plugin", "good"], tmp_path)
    import json

    assert [d["name"] for d in json.loads(out.stdout)] == ["good.ecod", "good.zed"]
    detect = run_cli(["detect", "examples/data/sensors.csv", "--columns", "temperature,pressure",
                      "-d", "zed", "--json", "--top", "1"], tmp_path)
    assert detect.returncode == 0, detect.stderr
    assert json.loads(detect.stdout)["detector"] == "builtin.robust_zscore"


def test_plugin_can_add_cli_command(tmp_path):
    source = '''
import typer
from pynomaly_core import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command("hello")
    def hello(name: str):
        """Say hello."""
        typer.echo(f"hello {name}")
'''
    make_distribution(tmp_path, "pynomaly-hello", "hello", source)
    out = run_cli(["hello", "world"], tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "hello world"
    assert listing(tmp_path)["hello"]["hooks"] == ["register_commands"]
