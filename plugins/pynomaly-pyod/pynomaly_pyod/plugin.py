"""Entry point of the ``pyod`` plugin: one detector spec per row of the static model table, with the presets and
search spaces of :mod:`pynomaly_pyod.presets`.

Registration reads only the generated table; PyOD is imported when a detector is fitted.
"""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec
from pynomaly_pyod.catalog import MODELS
from pynomaly_pyod.presets import SEARCH_SPACE, presets_of


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
            presets=presets_of(model.name),
            search_space=SEARCH_SPACE.get(model.name, {}),
        ))
