"""The ``pynomaly`` flavour: an MLflow model directory around pynomaly's safe model format.

Layout::

    MLmodel             flavours "pynomaly" (detector, format) and "python_function" (loader: pynomaly_mlflow)
    pynomaly_model/     what detector.save writes: manifest.json + artefacts with their sha256 (no pickle)
    requirements.txt, python_env.yaml, conda.yaml
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from mlflow import pyfunc
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.tracking.artifact_utils import _download_artifact_from_uri
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec
from mlflow.utils.environment import (
    _CONDA_ENV_FILE_NAME,
    _PYTHON_ENV_FILE_NAME,
    _REQUIREMENTS_FILE_NAME,
    _process_pip_requirements,
    _PythonEnv,
)
from mlflow.utils.model_utils import _get_flavor_configuration

from pynomaly_core.errors import InputError

FLAVOR_NAME = "pynomaly"
MODEL_DATA = "pynomaly_model"
OUTPUTS = ("score", "label", "both")


def default_pip_requirements() -> list[str]:
    """numpy and pandas; never ``pynomaly``: that PyPI name belongs to an unrelated project (see the README)."""
    return [f"numpy=={np.__version__}", f"pandas=={pd.__version__}"]


def signature_of(model: Any) -> ModelSignature:
    """Inputs: one double column per named feature (a float64 tensor otherwise); outputs: score and label; the
    parameter ``output`` (``score``, ``label`` or ``both``)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        inputs = Schema([ColSpec("double", str(name)) for name in names])
    else:
        inputs = Schema([TensorSpec(np.dtype(np.float64), (-1, int(model.n_features_in_)))])
    outputs = Schema([ColSpec("double", "score"), ColSpec("long", "label")])
    return ModelSignature(inputs=inputs, outputs=outputs,
                          params=ParamSchema([ParamSpec("output", "string", "score")]))


def save_model(model: Any, path: str | os.PathLike, *, mlflow_model: Model | None = None,
               signature: ModelSignature | None = None, input_example: Any = None,
               pip_requirements: list[str] | None = None, extra_pip_requirements: list[str] | None = None,
               metadata: dict[str, Any] | None = None, **_: Any) -> None:
    """Write ``model`` (a fitted, registered pynomaly detector) as an MLflow model directory at ``path``."""
    from pynomaly_core import __version__
    from pynomaly_core.persistence import read_manifest

    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise InputError(f"{path} already exists and is not empty")
    path.mkdir(parents=True, exist_ok=True)
    model.save(path / MODEL_DATA)
    manifest = read_manifest(path / MODEL_DATA)
    mlflow_model = Model() if mlflow_model is None else mlflow_model
    mlflow_model.signature = signature_of(model) if signature is None else signature
    if input_example is not None:
        from mlflow.models.utils import _save_example

        _save_example(mlflow_model, input_example, str(path))
    if metadata is not None:
        mlflow_model.metadata = metadata
    pyfunc.add_to_model(mlflow_model, loader_module="pynomaly_mlflow", data=MODEL_DATA,
                        conda_env=_CONDA_ENV_FILE_NAME, python_env=_PYTHON_ENV_FILE_NAME)
    mlflow_model.add_flavor(FLAVOR_NAME, pynomaly_version=__version__, data=MODEL_DATA,
                            detector=manifest["detector"], format=manifest["format"],
                            format_version=manifest["format_version"])
    mlflow_model.save(str(path / MLMODEL_FILE_NAME))
    conda_env, requirements, _constraints = _process_pip_requirements(
        default_pip_requirements(), pip_requirements, extra_pip_requirements)
    with open(path / _CONDA_ENV_FILE_NAME, "w") as handle:
        yaml.safe_dump(conda_env, stream=handle, default_flow_style=False)
    (path / _REQUIREMENTS_FILE_NAME).write_text("\n".join(requirements) + "\n")
    _PythonEnv.current().to_yaml(str(path / _PYTHON_ENV_FILE_NAME))


def log_model(model: Any, name: str | None = None, *, artifact_path: str | None = None,
              registered_model_name: str | None = None, signature: ModelSignature | None = None,
              input_example: Any = None, **kwargs: Any) -> Any:
    """Log ``model`` to the active run (``ModelInfo``; with ``registered_model_name``, also a registry version)."""
    import pynomaly_mlflow

    return Model.log(artifact_path, pynomaly_mlflow, name=name if name or artifact_path else "model", model=model,
                     registered_model_name=registered_model_name, signature=signature, input_example=input_example,
                     **kwargs)


def load_model(model_uri: str, dst_path: str | None = None, *, trust: bool = False) -> Any:
    """The pynomaly detector at ``model_uri`` (``runs:/``, ``models:/NAME@ALIAS``, a path …); hashes are checked, and
    pickle artefacts need ``trust=True`` as everywhere in pynomaly."""
    from pynomaly_core.persistence import load

    local = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    conf = _get_flavor_configuration(model_path=local, flavor_name=FLAVOR_NAME)
    return load(Path(local) / conf.get("data", MODEL_DATA), trust=trust)


def _load_pyfunc(path: str, model_config: Any = None) -> PyfuncModel:
    """Called by ``mlflow.pyfunc.load_model`` with the flavour's data directory."""
    from pynomaly_core.persistence import load

    return PyfuncModel(load(path))


class PyfuncModel:
    """``predict(data, params={"output": "score" | "label" | "both"})``: scores (float64), labels (0/1) or both."""

    def __init__(self, detector: Any):
        self.detector = detector

    def get_raw_model(self) -> Any:
        return self.detector

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        output = (params or {}).get("output", "score")
        if output not in OUTPUTS:
            raise InputError(f"params['output'] must be one of {', '.join(OUTPUTS)}, got {output!r}")
        data = model_input
        if isinstance(data, pd.DataFrame):
            data = data.to_numpy(dtype=np.float64)
        elif isinstance(data, dict):  # a tensor signature may hand over {name: array}
            data = next(iter(data.values()))
        scores = self.detector.decision_function(np.asarray(data, dtype=np.float64))
        labels = (scores > self.detector.threshold_).astype(np.int64)
        if output == "score":
            return scores
        if output == "label":
            return labels
        return pd.DataFrame({"score": scores, "label": labels})
