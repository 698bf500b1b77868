"""The io plugin through the conformance kit: registration stays light (no pyarrow / h5py / SQLAlchemy)."""

from __future__ import annotations

import subprocess
import sys

from pynomaly_core.testing import parametrize_plugin_checks


@parametrize_plugin_checks("io")
def test_io_conformance(check):
    check()


def test_io_loaders_are_registered_with_batches():
    from pynomaly_core.registry import get_registry

    loaders = {spec.qualified_name: spec for spec in get_registry().loaders() if spec.plugin == "io"}
    assert sorted(loaders) == ["io.arrow", "io.hdf5", "io.parquet", "io.sql"]
    assert all(spec.iter_target for spec in loaders.values())
    assert {"sqlite", "postgresql", "mysql", "mariadb"} <= set(loaders["io.sql"].schemes)


def test_registration_imports_no_driver():
    code = ("import sys, pynomaly_io.plugin as p; from pynomaly_core.registry import Registry; "
            "r = Registry(); r.add_plugin(p, 'io'); "
            "print(sorted(m for m in ('pyarrow', 'h5py', 'sqlalchemy', 'psycopg', 'pymysql', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
