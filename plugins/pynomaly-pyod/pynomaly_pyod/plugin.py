"""Entry point of the ``pyod`` plugin: one detector spec per row of the static model table.

Registration reads only the generated table; PyOD is imported when a detector is fitted.
"""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec
from pynomaly_pyod.catalog import MODELS


@hookimpl
def register_detectors(register):
    for model in MODELS:
        register(DetectorSpec(
            name=model.name,
            summary=model.summary,
            target=f"pynomaly_pyod.detectors:{model.adapter}",
            data_kinds={model.kind},
            capabilities=set(model.capabilities),
            params=dict(model.params),
        ))
