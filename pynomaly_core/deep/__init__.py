"""The backend-neutral half of the deep detectors, shared by pynomaly-torch, pynomaly-tf and pynomaly-jax.

:mod:`~pynomaly_core.deep.design` fixes parameters, defaults and architecture (pure Python: the backends' specs take
their defaults from it at registration without importing a framework); :mod:`~pynomaly_core.deep.params` holds the
detectors' constructors, which every backend's classes inherit; :mod:`~pynomaly_core.deep.training` the NumPy parts
of training (scaling, seeds, hold-out split, batch order, early stopping, the fit history) and
:mod:`~pynomaly_core.deep.progress` the epoch progress bar. Each backend implements only the framework's arithmetic,
so one parameter set and one seed mean one model whatever the framework (the split of one algorithm per backend, as
in alibi-detect).
"""
