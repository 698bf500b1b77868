"""PyTorch backend of pynomaly: AutoEncoder, DeepSVDD and VAE detectors and the ``torch.mmd`` drift test.

Importing this package imports no torch; the detectors load on first use (``torch.autoencoder`` through the
registry, or ``from pynomaly_torch.autoencoder import AutoEncoder``).
"""

__version__ = "0.1.0"
