"""The backend-neutral half of the deep detectors, shared by pynomaly-torch, pynomaly-tf and pynomaly-jax.

:mod:`~pynomaly_core.deep.design` fixes parameters, defaults and architecture (pure Python: the backends' specs take
their defaults from it at registration without importing a framework); :mod:`~pynomaly_core.deep.params` holds the
detectors' constructors, which every backend's classes inherit; :mod:`~pynomaly_core.deep.training` the NumPy parts
of training (scaling, seeds, hold-out split, batch order, early stopping, the fit history) and
:mod:`~pynomaly_core.deep.progress` the epoch progress bar. :mod:`~pynomaly_core.deep.detector` is the detectors'
shared base class, ``DeepDetector``: the fit / score / save / load skeleton (parameter checks, seed, scaling,
hold-out, history, ``state.npz``, artefact checks, CPU fallback on loading), with hooks for the framework parts
(device, building and training, batched scoring, saving and loading weights) that each backend's
``TorchDetector`` / ``TFDetector`` / ``JaxDetector`` implements, as alibi-detect's ``cd/base.py`` splits its
detectors. So each backend implements only the framework's arithmetic, and one parameter set and one seed mean one
model whatever the framework.
"""
