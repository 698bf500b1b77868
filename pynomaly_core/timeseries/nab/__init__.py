"""The Numenta Anomaly Benchmark (NAB): reading its corpus, writing and reading detector results, and its scorer.

* :mod:`.corpus`: the corpus layout (``data/``, ``labels/combined_windows.json``, ``config/profiles.json``) and
  the results layout (``<detector>/<category>/<detector>_<name>.csv`` with an ``anomaly_score`` column);
* :mod:`.scorer`: anomaly windows, the scaled sigmoid, the per-profile threshold sweep and the normalisation
  between the null detector (0) and the perfect detector (100); scores of a subset of series at a fixed threshold
  and per-series threshold curves (for choosing a threshold on some series and applying it to others).
"""

from pynomaly_core.timeseries.nab.corpus import (
    NabCorpus,
    load_corpus,
    read_detector_scores,
    results_path,
    write_scores,
)
from pynomaly_core.timeseries.nab.scorer import (
    PROFILE_NAMES,
    CostProfile,
    ProfileScore,
    ThresholdCurves,
    normalised,
    scaled_sigmoid,
    score_corpus,
    score_detector,
    threshold_curves,
)

__all__ = [
    "PROFILE_NAMES",
    "CostProfile",
    "NabCorpus",
    "ProfileScore",
    "ThresholdCurves",
    "load_corpus",
    "normalised",
    "read_detector_scores",
    "results_path",
    "scaled_sigmoid",
    "score_corpus",
    "score_detector",
    "threshold_curves",
    "write_scores",
]
