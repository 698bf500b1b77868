"""Helpers for plugins that wrap a library's table of models as detector classes (pynomaly-pyod, pynomaly-pygod).

:func:`keyword_init` gives a generated class an ``__init__`` with the library's parameter names and defaults, so
``get_params``/``clone`` and ``inspect.signature`` see them as if written by hand; :func:`lazy_classes` lets a module
create those classes on first access, so importing it (at registration) builds none of them.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any


def keyword_init(class_name: str, defaults: Mapping[str, Any]) -> Callable[..., None]:
    """``__init__(self, *, name=default, ...)`` storing every parameter as an attribute (defaults deep-copied)."""
    defaults = dict(defaults)

    def __init__(self: Any, **params: Any) -> None:
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(f"{class_name}() got unexpected keyword argument(s): {', '.join(unknown)}")
        for key, default in defaults.items():
            setattr(self, key, params[key] if key in params else copy.deepcopy(default))

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_parameter] + [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value)
                            for key, value in defaults.items()]
    )
    __init__.__qualname__ = f"{class_name}.__init__"
    return __init__


def lazy_classes(module_globals: dict[str, Any],
                 factories: Mapping[str, Callable[[], type]]) -> tuple[Callable[[str], type], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` that build ``factories[name]()`` once, on first access (thread-safe).

    In the module: ``__getattr__, __dir__ = lazy_classes(globals(), {"IForest": make_iforest, ...})``.
    """
    lock = threading.Lock()
    module_name = module_globals.get("__name__", "?")

    def __getattr__(name: str) -> type:
        factory = factories.get(name)
        if factory is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        with lock:
            cls = module_globals.get(name)
            if cls is None:
                cls = module_globals[name] = factory()
        return cls

    def __dir__() -> list[str]:
        return sorted(set(module_globals) | set(factories))

    return __getattr__, __dir__
