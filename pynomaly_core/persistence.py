"""Saving and loading fitted detectors: a JSON manifest owned by the core plus artefacts written by the plugin.

Layout of a saved model (a directory)::

    manifest.json   format, detector and plugin, params, feature names/count, versions, sha256 of artefacts
    state.npz       (or whatever the detector's _save_artefacts wrote)

Loading checks every hash before anything is read, refuses formats that can execute code (pickle, joblib)
unless ``trust=True``, and warns when the pynomaly or plugin version differs from the one that saved it.
The directory is written next to its destination and renamed into place, so a failed save never leaves a
half-written model or clobbers a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import IntegrityError, PynomalyError, UntrustedArtefactError

MANIFEST = "manifest.json"
FORMAT = "pynomaly-model"
FORMAT_VERSION = 1
#: Artefact formats that cannot run code when read. Anything else needs ``trust=True``.
SAFE_FORMATS = frozenset({"npz", "npy", "json", "safetensors", "keras", "torch_state_dict"})


class VersionMismatchWarning(UserWarning):
    """The model was saved by another version of pynomaly or of its plugin."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(detector: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save a fitted detector to the directory ``path`` (atomically)."""
    from pynomaly_core import __version__

    detector._check_fitted()
    path = Path(path)
    if path.exists() and not overwrite:
        raise PynomalyError(f"{path} already exists (pass overwrite=True to replace it)")
    spec = spec_of(detector)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        artefacts = detector._save_artefacts(staging)
        names = detector.feature_names_in_
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "detector": spec.qualified_name,
            "plugin": spec.plugin,
            "plugin_version": _plugin_version(spec.plugin),
            "pynomaly_version": __version__,
            "params": _jsonable_params(detector.get_params(), spec.qualified_name),
            "n_features": int(detector.n_features_in_),
            "feature_names": None if names is None else [_json_label(n) for n in names],
            "threshold": float(detector.threshold_),
            "artefacts": {
                name: {"format": fmt, "sha256": sha256_of(staging / name)} for name, fmt in sorted(artefacts.items())
            },
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _replace_directory(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and sanity-check ``manifest.json`` of a saved model."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise IntegrityError(f"{path} is not a saved pynomaly model (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{manifest_path}: invalid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError(f"{manifest_path}: not a pynomaly model manifest")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise IntegrityError(
            f"{manifest_path}: format version {manifest.get('format_version')} is newer than this pynomaly reads"
        )
    return manifest


def load(path: str | Path, *, trust: bool = False) -> Any:
    """Load a detector saved with :func:`save` / ``detector.save``.

    ``trust=True`` allows artefacts in formats that can execute code (pickle/joblib); pass it only for
    files you made or fully trust. Hashes are checked either way.
    """
    from pynomaly_core import __version__
    from pynomaly_core.registry import get_registry

    path = Path(path)
    manifest = read_manifest(path)
    artefacts: dict[str, str] = {}
    for name, entry in manifest["artefacts"].items():
        artefact = path / name
        if Path(name).name != name or not artefact.is_file():
            raise IntegrityError(f"{path}: artefact {name!r} is missing")
        if sha256_of(artefact) != entry["sha256"]:
            raise IntegrityError(f"{artefact}: sha256 mismatch, the file was modified after saving; refusing to load")
        if entry["format"] not in SAFE_FORMATS and not trust:
            raise UntrustedArtefactError(
                f"{artefact} is stored as {entry['format']!r}, which can run code when loaded; "
                "pass trust=True (CLI: --trust) only if you trust its origin"
            )
        artefacts[name] = entry["format"]
    spec = get_registry().detector(manifest["detector"])
    if manifest["pynomaly_version"] != __version__:
        warnings.warn(f"{path} was saved by pynomaly {manifest['pynomaly_version']}, this is {__version__}",
                      VersionMismatchWarning, stacklevel=2)
    current_plugin = _plugin_version(spec.plugin)
    if manifest.get("plugin_version") != current_plugin:
        warnings.warn(f"{path} was saved by plugin {spec.plugin} {manifest.get('plugin_version')}, "
                      f"installed is {current_plugin}", VersionMismatchWarning, stacklevel=2)
    cls = spec.load()
    # a parameter added after a model was saved takes the value that reproduces the saved model's behaviour
    detector = cls(**{**getattr(cls, "params_of_older_saves", {}), **manifest["params"]})
    detector._load_artefacts(path, artefacts, trust)
    detector.n_features_in_ = manifest["n_features"]
    names = manifest["feature_names"]
    detector.feature_names_in_ = None if names is None else np.asarray(names, dtype=object)
    return detector


def spec_of(detector: Any) -> Any:
    """The registry spec a detector instance was created from (by declared name, else by class path)."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of(detector)
    if spec is None:
        raise PynomalyError(f"{type(detector).__qualname__} is not a registered detector; it cannot be saved")
    return spec


def _json_label(label: Any) -> Any:
    """A column label as JSON keeps it: strings, integers, floats and booleans as they are, anything else as text."""
    if isinstance(label, np.generic):
        label = label.item()
    return label if isinstance(label, str | int | float | bool) else str(label)


def _plugin_version(plugin: str) -> str:
    from pynomaly_core.registry import get_registry

    record = get_registry().plugins.get(plugin)
    return record.version if record is not None else "unknown"


def _jsonable_params(params: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        json.dumps(params)
    except (TypeError, ValueError):
        raise PynomalyError(f"{name}: parameters {params!r} are not JSON-serialisable; cannot save") from None
    return params


def _replace_directory(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing ``target`` is swapped out only after staging is complete."""
    if not target.exists():
        os.replace(staging, target)
        return
    backup = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)
