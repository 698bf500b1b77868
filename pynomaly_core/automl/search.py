"""The two AutoML modes: a cross-validated, time-budgeted search with labels, and consensus selection without."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core.automl.candidates import Candidate
from pynomaly_core.automl.cv import stratified_kfold
from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.metrics import rankdata, roc_auc


@dataclass
class AutoMLResult:
    """Leaderboard (best first) and the best model, fitted on all the data."""

    mode: str
    leaderboard: list[dict[str, Any]]
    best_name: str
    best_params: dict[str, Any]
    best_model: Any
    elapsed_s: float
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "best": {"detector": self.best_name, "params": self.best_params},
                "leaderboard": self.leaderboard, "elapsed_s": round(self.elapsed_s, 3), "skipped": self.skipped}


def _make(candidate: Candidate, random_state: int | None) -> Any:
    from pynomaly_core.registry import get_registry
    from pynomaly_core.sdk import create_detector

    params = dict(candidate.params)
    if "random_state" in get_registry().detector(candidate.name).params and "random_state" not in params:
        params["random_state"] = random_state
    return create_detector(candidate.name, **params)


def _fit_quietly(detector: Any, X: np.ndarray, y: np.ndarray | None = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return detector.fit(X, y)


def supervised_search(X: np.ndarray, y: np.ndarray, candidates: list[Candidate], budget_s: float,
                      n_splits: int = 3, random_state: int | None = 0) -> AutoMLResult:
    """Mean validation ROC-AUC over stratified folds for each candidate, in order, until ``budget_s`` is spent
    (a candidate whose folds are not all done is dropped); the best is refitted on all rows. Unsupervised detectors
    fit without labels; detectors with the ``supervised`` capability get the training labels."""
    from pynomaly_core.registry import get_registry

    start = time.perf_counter()
    folds = stratified_kfold(y, n_splits, seed=0 if random_state is None else random_state)
    leaderboard: list[dict[str, Any]] = []
    skipped: list[str] = []
    for candidate in candidates:
        if leaderboard and time.perf_counter() - start > budget_s:
            skipped.append(candidate.label)
            continue
        supervised = "supervised" in get_registry().detector(candidate.name).capabilities
        aucs, t0 = [], time.perf_counter()
        try:
            for train, valid in folds:
                if leaderboard and time.perf_counter() - start > budget_s:
                    raise TimeoutError
                model = _fit_quietly(_make(candidate, random_state), X[train], y[train] if supervised else None)
                aucs.append(roc_auc(y[valid], model.decision_function(X[valid])))
        except TimeoutError:
            skipped.append(candidate.label)
            continue
        except (PynomalyError, ValueError, ArithmeticError, MemoryError) as exc:
            skipped.append(f"{candidate.label} ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})")
            continue
        leaderboard.append({"detector": candidate.name, "params": dict(candidate.params), "label": candidate.label,
                            "roc_auc": float(np.mean(aucs)), "roc_auc_std": float(np.std(aucs)),
                            "fit_score_s": time.perf_counter() - t0})
    if not leaderboard:
        raise InputError("automl: no candidate could be evaluated (see the skipped list with --debug)")
    leaderboard.sort(key=lambda r: -r["roc_auc"])
    best = leaderboard[0]
    winner = Candidate(best["detector"], best["params"])
    supervised = "supervised" in get_registry().detector(winner.name).capabilities
    model = _fit_quietly(_make(winner, random_state), X, y if supervised else None)
    return AutoMLResult("supervised", _ranked(leaderboard), winner.name, model.get_params(), model,
                        time.perf_counter() - start, skipped)


def consensus_scores(train_scores: list[np.ndarray]) -> np.ndarray:
    """Agreement of each detector with the others: Spearman correlation of its training-score ranks with the mean
    rank of every *other* detector (leave-one-out, so no detector votes for itself)."""
    ranks = np.column_stack([rankdata(s) for s in train_scores])
    ranks = (ranks - ranks.mean(axis=0)) / np.where(ranks.std(axis=0) > 0, ranks.std(axis=0), 1.0)
    total = ranks.sum(axis=1)
    agreement = []
    for j in range(ranks.shape[1]):
        others = (total - ranks[:, j]) / max(ranks.shape[1] - 1, 1)
        spread = others.std() * ranks[:, j].std()
        agreement.append(float(np.mean((others - others.mean()) * ranks[:, j]) / spread) if spread > 0 else 0.0)
    return np.array(agreement)


def unsupervised_selection(X: np.ndarray, candidates: list[Candidate], budget_s: float, top_k: int = 5,
                           normalization: str = "zscore", random_state: int | None = 0,
                           base: list[Candidate] | None = None) -> AutoMLResult:
    """Fit every candidate and every ``base`` member, rank them by consensus (:func:`consensus_scores`) and return the
    z-score-averaging ensemble of the ``base`` members plus the ``top_k`` most agreeing other candidates, fitted on all
    rows (no base and ``top_k=1``: the single best detector). The base members are always fitted; the budget bounds
    the other candidates (the first is always fitted). Candidates with constant training scores get agreement 0."""
    from pynomaly_core.builtin.ensemble import Ensemble

    start = time.perf_counter()
    base = list(base or [])
    fitted: list[tuple[Candidate, np.ndarray, float]] = []
    skipped: list[str] = []
    base_labels = {c.label for c in base}
    pool = base + [c for c in candidates if c.label not in base_labels]
    for candidate in pool:
        if candidate.label not in base_labels and len(fitted) > len(base) and time.perf_counter() - start > budget_s:
            skipped.append(candidate.label)
            continue
        t0 = time.perf_counter()
        try:
            model = _fit_quietly(_make(candidate, random_state), X)
        except (PynomalyError, ValueError, ArithmeticError, MemoryError) as exc:
            skipped.append(f"{candidate.label} ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})")
            continue
        fitted.append((candidate, model.decision_scores_, time.perf_counter() - t0))
    if not fitted:
        raise InputError("automl: no candidate could be fitted")
    agreement = consensus_scores([s for _, s, _ in fitted]) if len(fitted) > 1 else np.ones(1)
    order = np.argsort(-agreement, kind="mergesort")
    in_base = [c for c, _, _ in fitted if c.label in base_labels]
    leaders = [fitted[i][0] for i in order if fitted[i][0].label not in base_labels][:max(0, top_k)]
    chosen = in_base + leaders
    if not chosen:
        chosen = [fitted[order[0]][0]]
    chosen_labels = {c.label for c in chosen}
    leaderboard = [{"detector": fitted[i][0].name, "params": dict(fitted[i][0].params), "label": fitted[i][0].label,
                    "consensus": float(agreement[i]), "fit_s": fitted[i][2],
                    "chosen": fitted[i][0].label in chosen_labels, "default_member": fitted[i][0].label in base_labels}
                   for i in order]
    if len(chosen) == 1:
        model = _fit_quietly(_make(chosen[0], random_state), X)
        name = chosen[0].name
    else:
        model = _fit_quietly(Ensemble(detectors=[c.as_member() for c in chosen], normalization=normalization,
                                      combination="average", random_state=random_state), X)
        name = "builtin.ensemble"
    return AutoMLResult("unsupervised", _ranked(leaderboard), name, model.get_params(), model,
                        time.perf_counter() - start, skipped)


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"rank": i + 1, **row} for i, row in enumerate(rows)]
