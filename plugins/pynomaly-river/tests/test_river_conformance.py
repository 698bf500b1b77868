"""Every river detector passes pynomaly's conformance kit."""

from pynomaly_core.testing import parametrize_plugin_checks

#: The kit sets `random_state` for seeded detectors; river's parameter is `seed` (None by default draws from the
#: OS), so the seeded detectors get one here to make `deterministic_with_seed` checkable. LOF's window is cut to
#: keep its pure-Python neighbour searches fast (its `quick` preset).
PARAMS = {
    "river.half_space_trees": {"seed": 0},
    "river.loda": {"seed": 0},
    "river.local_outlier_factor": {"window_size": 100},
}


@parametrize_plugin_checks("river", params=PARAMS)
def test_river_conformance(check):
    check()
