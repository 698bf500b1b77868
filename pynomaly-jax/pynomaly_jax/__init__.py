"""JAX backend of pynomaly: AutoEncoder, DeepSVDD and VAE detectors and the ``jax.mmd`` drift test.

The same detectors, parameters and defaults as the PyTorch backend (``torch.autoencoder`` ↔ ``jax.autoencoder``,
…), so switching backend means changing the name. Importing this package imports no jax; the detectors load on
first use (``jax.autoencoder`` through the registry, or ``from pynomaly_jax.autoencoder import AutoEncoder``).
"""

__version__ = "0.1.0"
