"""The ``pynomaly`` MLflow flavour: ``save_model(model, path)``, ``log_model(model, name=...)``, ``load_model(uri)``,
and the pyfunc loader (``mlflow.pyfunc.load_model`` works on what :func:`save_model` writes).

Not a pynomaly plugin (it contributes nothing to the registry): a library that pairs pynomaly with MLflow.
"""

from pynomaly_mlflow.flavour import FLAVOR_NAME, _load_pyfunc, load_model, log_model, save_model, signature_of

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "load_model", "log_model", "save_model", "signature_of"]
