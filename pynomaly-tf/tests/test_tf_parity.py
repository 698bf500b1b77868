"""The TensorFlow backend mirrors the torch backend: given the same initial weights, the same forward pass, scores
and training trajectory. Runs only where pynomaly-torch is installed (pynomaly-tf does not depend on it)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

pytest.importorskip("pynomaly_torch")
torch = pytest.importorskip("torch")

from pynomaly_tf import fitting, networks  # noqa: E402
from pynomaly_tf.autoencoder import AutoEncoder  # noqa: E402
from pynomaly_tf.deep_svdd import DeepSVDD  # noqa: E402
from pynomaly_tf.runtime import keras, tf  # noqa: E402
from pynomaly_tf.vae import VAE  # noqa: E402
from pynomaly_torch import autoencoder as torch_autoencoder  # noqa: E402
from pynomaly_torch import deep_svdd as torch_deep_svdd  # noqa: E402
from pynomaly_torch import fitting as torch_fitting  # noqa: E402
from pynomaly_torch import networks as torch_networks  # noqa: E402

from pynomaly_core.deep import design  # noqa: E402


def _copy_torch_weights(torch_net, keras_net) -> None:
    """Set the Keras network's weights to the torch network's, layer by layer (matched by position and role)."""
    by_name = {layer.name: layer for layer in keras_net.layers}
    counters: dict[tuple[str, str], int] = defaultdict(int)
    copied = 0
    for name, module in torch_net.named_modules():
        if not isinstance(module, torch.nn.Linear | torch.nn.BatchNorm1d):
            continue
        group = name.split(".")[0]
        if group in ("encoder", "decoder", "body"):
            kind = "dense" if isinstance(module, torch.nn.Linear) else "norm"
            keras_name = f"{group}{counters[group, kind]}_{kind}"
            counters[group, kind] += 1
        else:
            keras_name = {"log_var": "log_var_raw"}.get(group, group)
        layer = by_name[keras_name]
        if isinstance(module, torch.nn.Linear):
            weights = [module.weight.detach().numpy().T] + ([module.bias.detach().numpy()] if layer.use_bias else [])
        else:
            tensors = (module.weight, module.bias, module.running_mean, module.running_var)
            weights = [t.detach().numpy() for t in tensors]
        layer.set_weights(weights)
        copied += 1
    assert copied == sum(isinstance(layer, keras.layers.Dense | networks.BatchNorm) for layer in keras_net.layers)


def _torch_net(kind: str, n_features: int, widths: list[int], batch_norm: bool, seed: int, dropout: float = 0.2):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind == "svdd":
            return torch_networks.SVDDNet(n_features, widths, 0.0)
        net_class = torch_networks.VAENet if kind == "vae" else torch_networks.AutoEncoderNet
        net = net_class(n_features, widths, dropout, batch_norm)
        for module in net.modules():  # non-trivial running statistics, so inference-mode batch norm is exercised
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.data.uniform_(0.5, 1.5)
                module.bias.data.uniform_(-0.3, 0.3)
        return net.eval()


@pytest.mark.parametrize(("kind", "widths", "batch_norm"), [
    ("autoencoder", [8, 4], False), ("autoencoder", [16, 8, 3], True), ("autoencoder", [5], False),
    ("vae", [8, 4], True), ("vae", [3], False), ("svdd", [8, 4], False), ("svdd", [6], False),
])
def test_same_weights_give_the_same_scores_as_torch(kind, widths, batch_norm):
    n_features = 6
    X = np.random.default_rng(1).normal(size=(300, n_features)).astype(np.float32) * 2
    torch_net = _torch_net(kind, n_features, widths, batch_norm, seed=3)
    seeds = networks.layer_seeds(0)
    center = np.linspace(-1, 1, widths[-1]).astype(np.float32)
    if kind == "svdd":
        keras_net, cls = networks.svdd(n_features, widths, seeds, 0.0), DeepSVDD
    elif kind == "vae":
        keras_net, cls = networks.vae(n_features, widths, seeds, 0.2, batch_norm), VAE
    else:
        keras_net, cls = networks.autoencoder(n_features, widths, seeds, 0.2, batch_norm), AutoEncoder
    _copy_torch_weights(torch_net, keras_net)
    with torch.inference_mode():
        batch = torch.from_numpy(X)
        if kind == "svdd":
            expected = (torch_net(batch) - torch.from_numpy(center)).square().sum(dim=1)
        elif kind == "vae":
            mean, _ = torch_net.encode(batch)
            expected = (torch_net.decode(mean) - batch).square().sum(dim=1)
        else:
            expected = (torch_net(batch) - batch).square().sum(dim=1)
    extra = {"center": tf.constant(center)} if kind == "svdd" else {"beta": tf.constant(1.0)}
    ours = cls._score_rows(keras_net(tf.constant(X), training=False), tf.constant(X), extra).numpy()
    np.testing.assert_allclose(ours, expected.numpy(), rtol=2e-5, atol=1e-5)


# The autoencoder without batch norm adds nothing to these two: training losses of the autoencoder are checked
# at 1e-4 with batch norm, and inference-mode losses and scores without it at 1e-4 through Deep SVDD.
@pytest.mark.parametrize(("kind", "batch_norm"), [("autoencoder", True), ("svdd", False)])
def test_training_from_the_same_start_follows_the_torch_trajectory(kind, batch_norm):
    """Same initial weights, hold-out, batch order and Adam: per-epoch losses and final scores agree (no dropout,
    whose masks come from different generators).

    With batch norm, the bias of the layer before it has a zero gradient up to rounding, which Adam turns into
    steps of about the learning rate that differ between the frameworks; training-mode losses do not see that bias
    (batch norm removes it) and agree as tightly as without, inference-mode ones (running mean) only to ~1e-3.
    """
    n_features, widths = 4, design.hidden_layer_sizes(4)
    X = np.random.default_rng(2).normal(size=(240, n_features)).astype(np.float32)
    train_kwargs = {"batch_size": 32, "epochs": 6, "patience": 2, "learning_rate": 5e-3, "weight_decay": 1e-3}
    torch_net = _torch_net(kind, n_features, widths, batch_norm, seed=4, dropout=0.0)
    if kind == "svdd":
        theirs, ours = torch_deep_svdd.DeepSVDD(), DeepSVDD()
        keras_net = networks.svdd(n_features, widths, networks.layer_seeds(0), 0.0)
    else:
        theirs = torch_autoencoder.AutoEncoder(dropout=0.0, batch_norm=batch_norm)
        ours = AutoEncoder(dropout=0.0, batch_norm=batch_norm)
        keras_net = networks.autoencoder(n_features, widths, networks.layer_seeds(0), 0.0, batch_norm)
    _copy_torch_weights(torch_net, keras_net)
    X_train, X_val = X[:200], X[200:]
    theirs._prepare(torch_net, torch.from_numpy(X_train))
    ours._prepare(keras_net, tf.constant(X_train))
    if kind == "svdd":
        np.testing.assert_allclose(ours.center_.numpy(), theirs.center_.numpy(), rtol=1e-5)
    torch_history = torch_fitting.train(torch_net, theirs._loss, torch.from_numpy(X_train), torch.from_numpy(X_val),
                                        rng=np.random.default_rng(9), **train_kwargs)
    compiled = ours._program(n_features, widths, "/CPU:0")
    weights, history = fitting.train(compiled, fitting.Weights.of(keras_net), tf.constant(X_train),
                                     tf.constant(X_val), ours._extra(), rng=np.random.default_rng(9), **train_kwargs)
    inference_rtol = 3e-3 if batch_norm else 1e-4
    np.testing.assert_allclose(history.train_loss, torch_history.train_loss, rtol=1e-4)
    np.testing.assert_allclose(history.validation_loss, torch_history.validation_loss, rtol=inference_rtol)
    assert (history.n_epochs, history.best_epoch) == (torch_history.n_epochs, torch_history.best_epoch)
    weights.assign_to(keras_net)
    with torch.inference_mode():
        expected = theirs._score_batch(torch_net, torch.from_numpy(X)).numpy()
    scores = ours._score_rows(keras_net(tf.constant(X), training=False), tf.constant(X), ours._extra()).numpy()
    np.testing.assert_allclose(scores, expected, rtol=10 * inference_rtol, atol=1e-4)
