"""Anomaly likelihood: a windowed Gaussian score turned into a tail probability of its recent average, plus
new-range ("spatial") alarms — Numenta's post-processing (Ahmad et al., 2017) on a simple online base score.

Per feature and per record ``x``:

1. **base score** ``r = 1 − exp(−z² / squash)`` with ``z = |x − mean| / std`` over the last ``window_size`` values;
2. **likelihood**: ``a`` = mean of the last ``averaging`` base scores; its mean and standard deviation over the
   last ``history`` values of ``a`` (std at least ``min_std``) give the Gaussian tail probability ``p`` of ``a``;
   the score is ``L / (L + 10)`` with ``L = −log10 p`` (``p = 1e-10`` → 0.5), in [0, 1);
3. **spatial alarm**: after ``warmup`` records, a value beyond the range seen so far by more than
   ``spatial_tolerance`` times its width scores 1.0.

The record's score is the maximum over features; after a score of at least ``rest_level`` (1.0: only spatial
alarms; 0.5: also a likelihood whose tail probability is 1e-10 or less), the next ``rest`` scores are multiplied by
0.1 (one alarm per event, as CAD OSE's and ARTime's rest periods); a score inside a rest starts none. Everything
is causal: a record's score depends only on the records before it and itself, so the online scores equal the batch
scores exactly.
The defaults (window 500, averaging 12, spatial tolerance 0.01, rest 30 at rest level 0.5) are the best of an
81-setting grid on the whole NAB corpus (65.6, in-sample); chosen the same way on half or four fifths of the series,
they score 60.1 / 61.5 on the others (``benchmarks/bench_nab_heldout.py``, ``docs/timeseries.md``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pynomaly_core.timeseries.base import TimeSeriesDetector, check_float, check_int

_SQRT2 = math.sqrt(2.0)
_SCALARS = ("n", "lo", "hi", "shift", "zpos", "zfill", "zs1", "zs2", "rpos", "rfill", "rsum", "apos", "afill",
            "as1", "as2")


class AnomalyLikelihood(TimeSeriesDetector):
    """Windowed-Gaussian base score → anomaly likelihood, with spatial alarms (see the module docstring)."""

    qualified_name = "builtin.anomaly_likelihood"
    unit_scores = True
    #: Models saved before ``rest_level`` existed rested only after spatial alarms: they load with 1.0.
    params_of_older_saves = {"rest_level": 1.0}

    def __init__(self, window_size: int = 500, averaging: int = 12, history: int = 8640, learning: int = 150,
                 min_std: float = 0.05, squash: float = 8.0, spatial_tolerance: float = 0.01, warmup: int = 150,
                 rest: int = 30, rest_level: float = 0.5, contamination: float = 0.1):
        self.window_size = window_size
        self.averaging = averaging
        self.history = history
        self.learning = learning
        self.min_std = min_std
        self.squash = squash
        self.spatial_tolerance = spatial_tolerance
        self.warmup = warmup
        self.rest = rest
        self.rest_level = rest_level
        self.contamination = contamination

    def _check_params(self) -> None:
        check_int(self, "window_size", self.window_size, 2)
        check_int(self, "averaging", self.averaging, 1)
        check_int(self, "history", self.history, 2)
        check_int(self, "learning", self.learning, 1)
        check_int(self, "warmup", self.warmup, 1)
        check_int(self, "rest", self.rest, 0)
        check_float(self, "min_std", self.min_std, 1e-12)
        check_float(self, "squash", self.squash, 1e-12)
        check_float(self, "spatial_tolerance", self.spatial_tolerance, 0.0)
        check_float(self, "rest_level", self.rest_level, 1e-12, 1.0)

    # -- state ---------------------------------------------------------------------------------------------------
    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        self.tracks_ = [self._new_track() for _ in range(n_features)]
        self.hold_ = 0

    def _new_track(self) -> dict[str, Any]:
        track: dict[str, Any] = dict.fromkeys(_SCALARS, 0)
        track.update(lo=0.0, hi=0.0, shift=0.0, zs1=0.0, zs2=0.0, rsum=0.0, as1=0.0, as2=0.0,
                     zbuf=[0.0] * self.window_size, rbuf=[0.0] * self.averaging, abuf=[0.0] * self.history)
        return track

    def _online_get_state(self) -> dict[str, Any]:
        tracks = self.tracks_
        return {"scalars": np.array([[float(t[k]) for k in _SCALARS] for t in tracks]).reshape(len(tracks), -1),
                "zbuf": np.array([t["zbuf"] for t in tracks]).reshape(len(tracks), -1),
                "rbuf": np.array([t["rbuf"] for t in tracks]).reshape(len(tracks), -1),
                "abuf": np.array([t["abuf"] for t in tracks]).reshape(len(tracks), -1),
                "hold": np.int64(self.hold_)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        tracks = []
        for i, row in enumerate(np.asarray(state["scalars"], dtype=np.float64)):
            track = {key: float(value) for key, value in zip(_SCALARS, row.tolist(), strict=True)}
            for key in ("n", "zpos", "zfill", "rpos", "rfill", "apos", "afill"):
                track[key] = int(track[key])
            for key in ("zbuf", "rbuf", "abuf"):
                track[key] = np.asarray(state[key][i], dtype=np.float64).tolist()
            tracks.append(track)
        self.tracks_ = tracks
        self.hold_ = int(state["hold"])

    # -- the algorithm -------------------------------------------------------------------------------------------
    def _score_many(self, X: np.ndarray) -> np.ndarray:
        """Walk ``X`` as the continuation of the series, then undo: only the ring cells the walk writes are saved."""
        n = X.shape[0]
        saved = []
        for track in self.tracks_:
            rings = {}
            for ring, position in (("zbuf", "zpos"), ("rbuf", "rpos"), ("abuf", "apos")):
                values = track[ring]
                if n >= len(values):
                    rings[ring] = (None, values[:])
                else:
                    cells = [(track[position] + k) % len(values) for k in range(n)]
                    rings[ring] = (cells, [values[c] for c in cells])
            saved.append(({key: track[key] for key in _SCALARS}, rings))
        hold = self.hold_
        try:
            return self._score_learn_many(X)
        finally:
            for track, (scalars, rings) in zip(self.tracks_, saved, strict=True):
                track.update(scalars)
                for ring, (cells, old) in rings.items():
                    if cells is None:
                        track[ring][:] = old
                    else:
                        for cell, value in zip(cells, old, strict=True):
                            track[ring][cell] = value
            self.hold_ = hold

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        per_feature = [self._walk(track, X[:, j].tolist()) for j, track in enumerate(self.tracks_)]
        combined = per_feature[0] if len(per_feature) == 1 else [max(v) for v in zip(*per_feature, strict=True)]
        out = np.empty(X.shape[0])
        hold, rest, level = self.hold_, self.rest, self.rest_level
        for i, score in enumerate(combined):
            if hold > 0:
                hold -= 1
                score *= 0.1
            elif rest and score >= level:
                hold = rest
            out[i] = score
        self.hold_ = hold
        return out

    def _walk(self, t: dict[str, Any], values: list[float]) -> list[float]:
        """Score-then-learn the values of one feature in order; updates the track ``t`` in place."""
        zwin, avg, hist, learning = self.window_size, self.averaging, self.history, self.learning
        warmup, tol, squash, min_std = self.warmup, self.spatial_tolerance, self.squash, self.min_std
        n, lo, hi, shift = t["n"], t["lo"], t["hi"], t["shift"]
        zbuf, zpos, zfill, zs1, zs2 = t["zbuf"], t["zpos"], t["zfill"], t["zs1"], t["zs2"]
        rbuf, rpos, rfill, rsum = t["rbuf"], t["rpos"], t["rfill"], t["rsum"]
        abuf, apos, afill, as1, as2 = t["abuf"], t["apos"], t["afill"], t["as1"], t["as2"]
        out = []
        for x in values:
            spatial = 0.0
            if n == 0:
                lo = hi = shift = x
            else:
                width = hi - lo
                if n >= warmup and (x > hi + tol * width or x < lo - tol * width):
                    spatial = 1.0
                lo, hi = min(lo, x), max(hi, x)
            n += 1
            y = x - shift
            # 1. base score against the window of recent values
            raw = 0.0
            if zfill > 10:
                mu = zs1 / zfill
                sd = math.sqrt(max(zs2 / zfill - mu * mu, 0.0)) + 1e-9 * (abs(mu + shift) + 1.0)
                z = abs(y - mu) / sd
                raw = 1.0 - math.exp(-z * z / squash)
            if zfill == zwin:
                old = zbuf[zpos]
                zs1 -= old
                zs2 -= old * old
            else:
                zfill += 1
            zbuf[zpos] = y
            zs1 += y
            zs2 += y * y
            zpos += 1
            if zpos == zwin:  # recompute the sums once per turn of the ring: no drift over long streams
                zpos = 0
                zs1, zs2 = math.fsum(zbuf[:zfill]), math.fsum(v * v for v in zbuf[:zfill])
            # 2. likelihood of the recent average of base scores
            if rfill == avg:
                rsum -= rbuf[rpos]
            else:
                rfill += 1
            rbuf[rpos] = raw
            rsum += raw
            rpos = (rpos + 1) % avg
            if rpos == 0:
                rsum = math.fsum(rbuf[:rfill])
            a = rsum / rfill
            score = 0.0
            if afill >= learning:
                mu = as1 / afill
                sd = max(math.sqrt(max(as2 / afill - mu * mu, 0.0)), min_std)
                tail = 0.5 * math.erfc((a - mu) / sd / _SQRT2)
                surprise = -math.log10(max(tail, 1e-300))
                score = surprise / (surprise + 10.0)
            if afill == hist:
                old = abuf[apos]
                as1 -= old
                as2 -= old * old
            else:
                afill += 1
            abuf[apos] = a
            as1 += a
            as2 += a * a
            apos += 1
            if apos == hist:
                apos = 0
                as1, as2 = math.fsum(abuf[:afill]), math.fsum(v * v for v in abuf[:afill])
            out.append(max(score, spatial))
        t.update(n=n, lo=lo, hi=hi, shift=shift, zpos=zpos, zfill=zfill, zs1=zs1, zs2=zs2, rpos=rpos, rfill=rfill,
                 rsum=rsum, apos=apos, afill=afill, as1=as1, as2=as2)
        return out
