"""The built-in plugin passes the same conformance kit that third-party plugins use."""

from pynomaly_core.testing import check_loader, parametrize_plugin_checks

from .conftest import EXAMPLES


@parametrize_plugin_checks("builtin")
def test_builtin_conformance(check):
    check()


def test_builtin_loaders_conform(tmp_path):
    import numpy as np

    np.save(tmp_path / "a.npy", np.eye(4))
    check_loader("csv", EXAMPLES / "sensors.csv", n_rows=1000)
    check_loader("npz", EXAMPLES / "cardio.npz", n_rows=1831)
    check_loader("npy", tmp_path / "a.npy", n_rows=4)
