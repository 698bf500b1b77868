"""Generate ``pynomaly_pygod/_table.py``, the static table of PyGOD detectors, from the installed PyGOD.

    python tools/generate_table.py          # rewrite the table
    python tools/generate_table.py --check  # exit 1 when the committed table differs from the installed PyGOD

Every class in ``pygod.detector.__all__`` except the abstract bases is a model. Parameters and defaults come from
:func:`inspect.signature`, in PyGOD's order, plus ``random_state`` (pynomaly's seed: PyGOD takes none) for every
model that draws random numbers. Defaults that JSON cannot hold are mapped by name:

* ``act`` (a function of ``torch.nn.functional``) becomes its name, ``"relu"``; ``None`` stays ``None``;
* ``backbone`` (a class of ``torch_geometric.nn``) becomes its name, ``"GCN"``; ``None`` stays ``None``.

PyGOD's ``**kwargs`` (extra arguments of the backbone) is not registered. Any other non-JSON default, or a model
that is not listed in :data:`SUMMARIES`, stops the generator with an error naming it, so a new PyGOD release is
reviewed before it is registered. ``tests/test_pygod_table.py`` compares the committed table with the installed
PyGOD.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from pynomaly_core.wrapping import render_table, write_or_check

TABLE = Path(__file__).resolve().parents[1] / "pynomaly_pygod" / "_table.py"

#: Detectors the pynomaly issue asked for, by PyGOD class name; those the installed PyGOD lacks go to MISSING.
WANTED = ("DOMINANT", "AnomalyDAE", "CoLA", "CONAD", "GAE", "GUIDE", "OCGNN", "Radar", "ANOMALOUS", "SCAN", "DONE",
          "AdONE", "GAAN", "DMGD", "GADNR", "CARD", "ONE")

#: One-line summaries (the registry shows them); a model without one is an error.
SUMMARIES = {
    "AdONE": "AdONE: adversarial outlier-aware embedding of structure and attributes (Bandyopadhyay et al., 2020).",
    "ANOMALOUS": "ANOMALOUS: joint attribute selection and residual analysis, CUR decomposition (Peng et al., 2018).",
    "AnomalyDAE": "AnomalyDAE: dual autoencoder over structure and attributes with attention (Fan et al., 2020).",
    "CoLA": "CoLA: contrastive learning of node-versus-neighbourhood agreement (Liu et al., 2021).",
    "CONAD": "CONAD: contrastive learning on augmented graphs with injected pseudo anomalies (Xu et al., 2022).",
    "DMGD": "DMGD: deep multiclass graph description, distance to learned hypersphere centres.",
    "DOMINANT": "DOMINANT: GCN autoencoder scoring attribute and structure reconstruction errors (Ding et al., 2019).",
    "DONE": "DONE: outlier-aware embedding of structure and attributes (Bandyopadhyay et al., 2020).",
    "GAAN": "GAAN: generative adversarial network on node attributes and edges (Chen et al., 2020).",
    "GADNR": "GAD-NR: reconstruction of each node's whole neighbourhood from its embedding (Roy et al., 2024).",
    "GAE": "Graph autoencoder: GNN reconstruction error of node attributes (or of the adjacency).",
    "GUIDE": "GUIDE: attribute and motif-degree (higher-order structure) autoencoders (Yuan et al., 2021).",
    "OCGNN": "OCGNN: one-class GNN, distance of a node's embedding to a hypersphere centre (Wang et al., 2021).",
    "ONE": "ONE: outlier-aware network embedding by matrix factorisation (Bandyopadhyay et al., 2019).",
    "Radar": "Radar: residual analysis of attributes regularised by the graph Laplacian (Li et al., 2017).",
    "SCAN": "SCAN: structural clustering; nodes that join no cluster are outliers (Xu et al., 2007).",
}

#: PyGOD detectors that are not registered, with the reason (shown by the README and the table test).
EXCLUDED = {
    "GADNR": "PyGOD 1.1.0's GADNR.init_model passes tot_nodes, which GADNRBase hands on to the GCN backbone: "
             "every fit fails with TypeError (MessagePassing.__init__() got an unexpected keyword argument)",
}

#: Models PyGOD treats as inductive that pynomaly lets score only the graph they were fitted on, with the reason.
TRANSDUCTIVE_HERE = {
    "GAAN": "its forward pass takes an optimiser step on the generator even when scoring, so the scores of a new "
            "graph would depend on every earlier call",
}

#: Models that draw no random numbers: no ``random_state`` parameter.
UNRANDOMISED = frozenset({"SCAN"})

#: Models with a ``gpu`` parameter that never moves their data to that device.
GPU_UNUSED = frozenset({"ONE"})

#: Parameters whose default is a callable or class, mapped to (namespace module, name) strings.
NAMED_DEFAULTS = {"act": "torch.nn.functional", "backbone": "torch_geometric.nn"}

ABSTRACT = frozenset({"Detector", "DeepDetector"})


def _json_default(model: str, name: str, value: Any) -> Any:
    if name in NAMED_DEFAULTS and value is not None:
        module = importlib.import_module(NAMED_DEFAULTS[name])
        attr = getattr(value, "__name__", None)
        if attr is None or getattr(module, attr, None) is not value:
            raise SystemExit(f"{model}.{name}: default {value!r} is not a named member of {NAMED_DEFAULTS[name]}")
        return attr
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise SystemExit(f"{model}.{name}: default {value!r} is not JSON; map it in tools/generate_table.py") from None
    return value


def _row(cls: type, deep_base: type) -> dict[str, Any]:
    name = cls.__name__
    if name not in SUMMARIES:
        raise SystemExit(f"{name}: a new PyGOD detector; add a summary to SUMMARIES and review it before registering")
    params: dict[str, Any] = {}
    for pname, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if parameter.kind is parameter.VAR_KEYWORD:
            continue
        if parameter.default is parameter.empty or parameter.kind is parameter.VAR_POSITIONAL:
            raise SystemExit(f"{name}.{pname}: a parameter without default; map it in tools/generate_table.py")
        params[pname] = _json_default(name, pname, parameter.default)
    if name not in UNRANDOMISED:
        params["random_state"] = None
    deep = issubclass(cls, deep_base)
    own_fit = "fit" in cls.__dict__
    inductive = "decision_function" not in cls.__dict__ and name not in TRANSDUCTIVE_HERE
    capabilities = ["deterministic_with_seed", "save"]
    if "gpu" in params and name not in GPU_UNUSED:
        capabilities.append("gpu")
    return {
        "name": name.lower(),
        "pygod_class": f"{cls.__module__}:{name}",
        "adapter": name,
        "summary": SUMMARIES[name],
        "params": params,
        "named_defaults": sorted(p for p in NAMED_DEFAULTS if p in params),
        # "loop": pynomaly runs PyGOD's DeepDetector training loop itself (with its own full-neighbourhood
        # sampler); "pygod": PyGOD's own fit (no NeighborLoader in its full-batch path).
        "loop": "pynomaly" if deep and not own_fit else "pygod",
        "deep": deep,
        "inductive": inductive,
        "capabilities": sorted(capabilities),
    }


def build_rows() -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    import pygod
    import pygod.detector as detectors

    version = importlib.metadata.version("pygod")
    rows = []
    for name in detectors.__all__:
        if name in ABSTRACT or name in EXCLUDED:
            continue
        rows.append(_row(getattr(detectors, name), detectors.DeepDetector))
    shipped = set(detectors.__all__)
    missing = {name: f"not in PyGOD {version}" for name in WANTED if name not in shipped}
    missing.update((name, reason) for name, reason in EXCLUDED.items() if name in shipped)
    del pygod
    return version, sorted(rows, key=lambda row: row["name"]), missing


def render(version: str, rows: list[dict[str, Any]], missing: dict[str, str]) -> str:
    """The source of ``_table.py`` for PyGOD ``version`` (the format shared with pynomaly-pyod's generator)."""
    return render_table("PyGOD", version, "tools/generate_table.py",
                        {"PYGOD_VERSION": version, "MISSING": missing, "MODELS": rows})


def main(argv: list[str] | None = None) -> int:
    return write_or_check(TABLE, render(*build_rows()), argv)


if __name__ == "__main__":
    sys.exit(main())
