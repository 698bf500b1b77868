"""The presets every installed plugin declares keep the defaults safe and exact."""

from __future__ import annotations

from pynomaly_core.builtin.ensemble import default_members
from pynomaly_core.registry import get_registry


def test_default_members_save_without_pickle_and_score_each_row_on_its_own():
    """So the default ensemble saves without ``trust`` and streams in batches with the scores of a whole run."""
    registry = get_registry()
    for member in default_members():
        capabilities = registry.detector(member["name"]).capabilities
        assert "save" in capabilities, member
        assert not capabilities & {"batch_dependent", "transductive", "supervised", "single_feature"}, member


def test_presets_are_only_on_tabular_detectors():
    for spec in get_registry().detectors():
        if spec.presets:
            assert "tabular" in spec.data_kinds, spec.qualified_name
