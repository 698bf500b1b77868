"""Keeping PyOD's deep models away from the caller's random generators.

PyOD's torch models reseed the global ``random``, NumPy and torch generators (and set ``PYTHONHASHSEED``) when
they are imported, built or fitted; DevNet ignores its ``random_seed``, and VAE draws from torch's generator
while scoring, so two ``decision_function`` calls differ. The adapter runs torch models inside
:func:`isolated_rng`: every global generator (and the variable) is restored afterwards, and fitting and
scoring start from the model's seed, so both repeat.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def isolated_rng(seed: object = None) -> Iterator[None]:
    """Restore the global generators on exit; with an integer ``seed``, seed torch inside."""
    import torch

    python_state, numpy_state = random.getstate(), np.random.get_state()
    hash_seed = os.environ.get("PYTHONHASHSEED")
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
                torch.manual_seed(int(seed))
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if hash_seed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = hash_seed
