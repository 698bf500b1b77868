"""Helpers for plugins that wrap a library's model table: generated ``__init__`` and lazily built classes."""

from __future__ import annotations

import inspect
import threading

import pytest

from pynomaly_core.base import BaseDetector
from pynomaly_core.wrapping import keyword_init, lazy_classes


def _wrapped_class():
    return type("Wrapped", (BaseDetector,), {"__init__": keyword_init("Wrapped", {"n": 3, "layers": [8, 4]}),
                                              "qualified_name": "test.wrapped"})


def test_keyword_init_has_the_library_signature_and_defaults():
    cls = _wrapped_class()
    signature = inspect.signature(cls)
    assert list(signature.parameters) == ["n", "layers"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values())
    assert cls().get_params() == {"n": 3, "layers": [8, 4]}
    assert cls(n=5).n == 5


def test_keyword_init_copies_mutable_defaults_and_names_unknown_arguments():
    cls = _wrapped_class()
    first = cls()
    first.layers.append(2)
    assert cls().layers == [8, 4]
    with pytest.raises(TypeError, match=r"^Wrapped\(\) got unexpected keyword argument\(s\): bogus, x$"):
        cls(x=1, bogus=2)


def test_lazy_classes_build_each_class_once_even_under_threads():
    calls = []
    namespace = {"__name__": "fake.detectors"}

    def make():
        calls.append(1)
        return type("Made", (), {})

    getattr_, dir_ = lazy_classes(namespace, {"Made": make})
    assert "Made" not in namespace and "Made" in dir_()
    results = []
    threads = [threading.Thread(target=lambda: results.append(getattr_("Made"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(set(results)) == 1 and namespace["Made"] is results[0]
    with pytest.raises(AttributeError, match=r"module 'fake\.detectors' has no attribute 'Other'"):
        getattr_("Other")
