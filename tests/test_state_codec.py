"""Merge states as bytes without pickle: every state the built-in mergeable detectors produce round-trips exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.builtin.decayed_hbos import DecayedHBOS
from pynomaly_core.builtin.ecod import ECOD
from pynomaly_core.builtin.half_space_trees import HalfSpaceTrees
from pynomaly_core.builtin.hbos import HBOS
from pynomaly_core.builtin.mahalanobis import Mahalanobis
from pynomaly_core.state_codec import decode_state, encode_state


def _same(a, b) -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b or (a != a and b != b)  # NaN stays NaN


@pytest.mark.parametrize("detector", [ECOD(), HBOS(), Mahalanobis(), HalfSpaceTrees(), DecayedHBOS()],
                         ids=lambda d: type(d).__name__)
def test_partial_states_of_the_builtins_round_trip(detector):
    X = np.random.default_rng(0).normal(size=(300, 4))
    previous = None
    for pass_index in range(2):
        state = detector.partial_state(X, pass_index, previous)
        _same(state, decode_state(encode_state(state)))
        previous = state


def test_scalars_none_nested_lists_and_refusals():
    state = {"n": 3, "x": 1.5, "inf": float("inf"), "nan": float("nan"), "none": None, "name": "a",
             "np": np.int64(7), "nested": [{"a": np.arange(3)}, (1, 2)], "flag": True}
    back = decode_state(encode_state(state))
    assert back["np"] == 7 and type(back["np"]) is int and back["nested"][1] == [1, 2] and back["none"] is None
    _same({k: v for k, v in state.items() if k not in ("np", "nested")},
          {k: v for k, v in back.items() if k not in ("np", "nested")})
    with pytest.raises(TypeError, match="object arrays"):
        encode_state({"a": np.array([object()])})
    with pytest.raises(TypeError, match="string keys"):
        encode_state({1: 2})
