"""Time series: evaluation metrics (:mod:`.metrics`), the Numenta Anomaly Benchmark (:mod:`.nab`), and the
time-series detectors and loaders that sibling modules add."""
