"""PyGOD 1.1's ``DeepDetector.fit`` and ``decision_function`` loops, run with pynomaly's loader.

The two functions below are PyGOD's loops statement for statement (``pygod/detector/base.py``, 1.1.0): the same
calls of the detector's own ``process_graph``, ``init_model`` and ``forward_model``, the same optimisers, the same
order of random draws. The one difference is where the batches come from: :func:`~pynomaly_pygod.sampling.make_loader`
gives PyG's ``NeighborLoader`` with a sampler that needs no compiled extension for full neighbourhoods. PyGOD's
own ``fit`` builds its ``NeighborLoader`` internally, so it cannot be handed another sampler without patching
PyGOD; running its loop here keeps PyGOD unpatched. ``tests/test_pygod_equality.py`` checks that both loops give
identical scores.

Seeding: :func:`seeded` seeds Python's ``random``, NumPy's and torch's global generators (what
``torch_geometric.seed_everything`` does) and restores their previous states afterwards.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from pygod.utils import logger
from torch_geometric import compile as pyg_compile

from pynomaly_pygod.sampling import hop_counts, make_loader


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed ``random``, NumPy and torch with ``seed`` inside the block and restore their states after it.

    ``None`` leaves the generators alone (the results then vary from run to run, as PyGOD's do).
    """
    if seed is None:
        yield
        return
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def deep_fit(detector: Any, data: Any, name: str, label: Any = None) -> Any:
    """``DeepDetector.fit(data, label)`` of PyGOD 1.1 with :func:`make_loader`'s batches."""
    detector.process_graph(data)
    detector.num_nodes, detector.in_dim = data.x.shape
    if detector.batch_size == 0:
        detector.batch_size = data.x.shape[0]
    loader = make_loader(data, hop_counts(detector.num_neigh, detector.num_layers), detector.batch_size, name)

    detector.model = detector.init_model(**detector.kwargs)
    if detector.compile_model:
        detector.model = pyg_compile(detector.model)
    if not detector.gan:
        optimizer = torch.optim.Adam(detector.model.parameters(), lr=detector.lr,
                                     weight_decay=detector.weight_decay)
    else:
        detector.opt_in = torch.optim.Adam(detector.model.inner.parameters(), lr=detector.lr,
                                           weight_decay=detector.weight_decay)
        optimizer = torch.optim.Adam(detector.model.outer.parameters(), lr=detector.lr,
                                     weight_decay=detector.weight_decay)

    detector.model.train()
    detector.decision_score_ = torch.zeros(data.x.shape[0])
    for epoch in range(detector.epoch):
        start_time = time.time()
        epoch_loss = 0
        if detector.gan:
            detector.epoch_loss_in = 0
        for sampled_data in loader:
            batch_size = sampled_data.batch_size
            node_idx = sampled_data.n_id

            loss, score = detector.forward_model(sampled_data)
            epoch_loss += loss.item() * batch_size
            if detector.save_emb:
                _store_embedding(detector, node_idx, batch_size)
            detector.decision_score_[node_idx[:batch_size]] = score

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        loss_value = epoch_loss / data.x.shape[0]
        if detector.gan:
            loss_value = (detector.epoch_loss_in / data.x.shape[0], loss_value)
        logger(epoch=epoch, loss=loss_value, score=detector.decision_score_, target=label,
               time=time.time() - start_time, verbose=detector.verbose, train=True)

    detector._process_decision_score()
    return detector


def deep_decision_function(detector: Any, data: Any, name: str, label: Any = None) -> torch.Tensor:
    """``DeepDetector.decision_function(data, label)`` of PyGOD 1.1 with :func:`make_loader`'s batches."""
    detector.process_graph(data)
    loader = make_loader(data, hop_counts(detector.num_neigh, detector.num_layers), detector.batch_size, name)

    detector.model.eval()
    outlier_score = torch.zeros(data.x.shape[0])
    if detector.save_emb:
        if type(detector.hid_dim) is tuple:
            detector.emb = (torch.zeros(data.x.shape[0], detector.hid_dim[0]),
                            torch.zeros(data.x.shape[0], detector.hid_dim[1]))
        else:
            detector.emb = torch.zeros(data.x.shape[0], detector.hid_dim)
    start_time = time.time()
    test_loss = 0
    for sampled_data in loader:
        loss, score = detector.forward_model(sampled_data)
        batch_size = sampled_data.batch_size
        node_idx = sampled_data.n_id
        if detector.save_emb:
            _store_embedding(detector, node_idx, batch_size)
        test_loss = loss.item() * batch_size
        outlier_score[node_idx[:batch_size]] = score

    loss_value = test_loss / data.x.shape[0]
    if detector.gan:
        loss_value = (detector.epoch_loss_in / data.x.shape[0], loss_value)
    logger(loss=loss_value, score=outlier_score, target=label, time=time.time() - start_time,
           verbose=detector.verbose, train=False)
    return outlier_score


def _store_embedding(detector: Any, node_idx: torch.Tensor, batch_size: int) -> None:
    if type(detector.emb) is tuple:
        detector.emb[0][node_idx[:batch_size]] = detector.model.emb[0][:batch_size].cpu()
        detector.emb[1][node_idx[:batch_size]] = detector.model.emb[1][:batch_size].cpu()
    else:
        detector.emb[node_idx[:batch_size]] = detector.model.emb[:batch_size].cpu()
