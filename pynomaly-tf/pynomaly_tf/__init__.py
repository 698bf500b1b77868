"""TensorFlow/Keras backend of pynomaly: AutoEncoder, DeepSVDD and VAE detectors and the ``tf.mmd`` drift test.

Importing this package imports no TensorFlow; the detectors load on first use (``tf.autoencoder`` through the
registry, or ``from pynomaly_tf.autoencoder import AutoEncoder``).
"""

__version__ = "0.1.0"
