"""The constructors of the deep detectors, written once: every backend's class inherits its algorithm's.

Each is an explicit scikit-learn style ``__init__`` (one keyword per parameter, stored unchanged) with the
defaults of :data:`pynomaly_core.deep.design.PARAMS`, so ``get_params``, ``clone`` and ``inspect.signature`` see
the same parameters in ``torch.vae``, ``tf.vae`` and ``jax.vae``. Put the mixin first, then the backend's
subclass of :class:`~pynomaly_core.deep.detector.DeepDetector`: ``class VAE(VAEParams, TorchDetector)``.
"""

from __future__ import annotations

from pynomaly_core.deep.design import PARAMS

_AE, _VAE, _SVDD = PARAMS["autoencoder"], PARAMS["vae"], PARAMS["deep_svdd"]


class AutoEncoderParams:
    """Parameters of the dense autoencoder."""

    def __init__(self, hidden_layers: list[int] | None = _AE["hidden_layers"], dropout: float = _AE["dropout"],
                 batch_norm: bool = _AE["batch_norm"], batch_size: int = _AE["batch_size"],
                 epochs: int = _AE["epochs"], learning_rate: float = _AE["learning_rate"],
                 weight_decay: float = _AE["weight_decay"], validation_size: float = _AE["validation_size"],
                 patience: int = _AE["patience"], contamination: float = _AE["contamination"],
                 device: str = _AE["device"], verbose: bool = _AE["verbose"],
                 random_state: int | None = _AE["random_state"]):
        self.hidden_layers = hidden_layers
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_size = validation_size
        self.patience = patience
        self.contamination = contamination
        self.device = device
        self.verbose = verbose
        self.random_state = random_state


class VAEParams:
    """Parameters of the variational autoencoder: the autoencoder's plus ``beta``, the weight of the KL term."""

    def __init__(self, hidden_layers: list[int] | None = _VAE["hidden_layers"], beta: float = _VAE["beta"],
                 dropout: float = _VAE["dropout"], batch_norm: bool = _VAE["batch_norm"],
                 batch_size: int = _VAE["batch_size"], epochs: int = _VAE["epochs"],
                 learning_rate: float = _VAE["learning_rate"], weight_decay: float = _VAE["weight_decay"],
                 validation_size: float = _VAE["validation_size"], patience: int = _VAE["patience"],
                 contamination: float = _VAE["contamination"], device: str = _VAE["device"],
                 verbose: bool = _VAE["verbose"], random_state: int | None = _VAE["random_state"]):
        self.hidden_layers = hidden_layers
        self.beta = beta
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_size = validation_size
        self.patience = patience
        self.contamination = contamination
        self.device = device
        self.verbose = verbose
        self.random_state = random_state


class DeepSVDDParams:
    """Parameters of Deep SVDD (no batch norm: it would allow the collapsed solution)."""

    def __init__(self, hidden_layers: list[int] | None = _SVDD["hidden_layers"], dropout: float = _SVDD["dropout"],
                 batch_size: int = _SVDD["batch_size"], epochs: int = _SVDD["epochs"],
                 learning_rate: float = _SVDD["learning_rate"], weight_decay: float = _SVDD["weight_decay"],
                 validation_size: float = _SVDD["validation_size"], patience: int = _SVDD["patience"],
                 contamination: float = _SVDD["contamination"], device: str = _SVDD["device"],
                 verbose: bool = _SVDD["verbose"], random_state: int | None = _SVDD["random_state"]):
        self.hidden_layers = hidden_layers
        self.dropout = dropout
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_size = validation_size
        self.patience = patience
        self.contamination = contamination
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
