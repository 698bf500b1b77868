"""Evaluation metrics for anomaly scores on time series: point-wise (:mod:`.point`), range-based precision and
recall (:mod:`.ranges`, Tatbul et al. 2018) and the volume under the surface (:mod:`.vus`, Paparrizos et al. 2022).
"""

from pynomaly_core.timeseries.metrics.point import best_f1, point_metrics
from pynomaly_core.timeseries.metrics.ranges import range_f1, range_precision, range_recall, ranges_of
from pynomaly_core.timeseries.metrics.vus import VUS, vus, vus_pr, vus_roc

__all__ = ["VUS", "best_f1", "point_metrics", "range_f1", "range_precision", "range_recall", "ranges_of", "vus",
           "vus_pr", "vus_roc"]
