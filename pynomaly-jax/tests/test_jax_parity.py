"""The JAX backend mirrors the torch backend: the same weights give the same scores.

Runs only where pynomaly-torch is installed (pynomaly-jax does not depend on it).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch_networks = pytest.importorskip("pynomaly_torch.networks")

from pynomaly_jax.autoencoder import AutoEncoder  # noqa: E402
from pynomaly_jax.deep_svdd import DeepSVDD  # noqa: E402
from pynomaly_jax.fitting import ADAM_BETAS, ADAM_EPS, Model, _adam, map_rows  # noqa: E402
from pynomaly_jax.networks import Architecture, init_params  # noqa: E402
from pynomaly_jax.vae import VAE  # noqa: E402

TORCH_DETECTORS = {
    "autoencoder": pytest.importorskip("pynomaly_torch.autoencoder").AutoEncoder,
    "vae": pytest.importorskip("pynomaly_torch.vae").VAE,
    "deep_svdd": pytest.importorskip("pynomaly_torch.deep_svdd").DeepSVDD,
}


def _torch_net(kind: str, arch: Architecture, params: dict[str, np.ndarray], buffers: dict[str, np.ndarray]):
    """The torch backend's module for ``arch`` with our weights (transposed to torch's ``(out, in)``)."""
    widths = list(arch.widths)
    if kind == "autoencoder":
        net = torch_networks.AutoEncoderNet(arch.n_features, widths, 0.0, arch.batch_norm)
    elif kind == "vae":
        net = torch_networks.VAENet(arch.n_features, widths, 0.0, arch.batch_norm)
    else:
        net = torch_networks.SVDDNet(arch.n_features, widths, 0.0)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    layers = arch.layers()  # the order in which the torch modules register their Linear layers
    assert [m.out_features for m in linears] == [layer.n_out for layer in layers]
    with torch.no_grad():
        for module, layer in zip(linears, layers, strict=True):
            module.weight.copy_(torch.from_numpy(np.array(params[f"{layer.name}.weight"]).T.copy()))
            if layer.bias:
                module.bias.copy_(torch.from_numpy(np.array(params[f"{layer.name}.bias"])))
        for module, layer in zip(norms, [la for la in layers if la.batch_norm], strict=True):
            module.weight.copy_(torch.from_numpy(np.array(params[f"{layer.name}.bn_weight"])))
            module.bias.copy_(torch.from_numpy(np.array(params[f"{layer.name}.bn_bias"])))
            module.running_mean.copy_(torch.from_numpy(np.array(buffers[f"{layer.name}.running_mean"])))
            module.running_var.copy_(torch.from_numpy(np.array(buffers[f"{layer.name}.running_var"])))
    return net.eval()


@pytest.mark.parametrize(("cls", "batch_norm"), [(AutoEncoder, False), (AutoEncoder, True), (VAE, True),
                                                 (DeepSVDD, False)], ids=["ae", "ae-bn", "vae-bn", "svdd"])
def test_same_weights_give_the_same_scores_as_torch(cls, batch_norm):
    arch = Architecture(cls.design_key, 5, (8, 4), batch_norm=batch_norm)
    rng = np.random.default_rng(0)
    params, buffers = init_params(arch, rng)
    buffers = {k: (v + rng.uniform(0.1, 0.5, v.shape)).astype(np.float32) for k, v in buffers.items()}
    params = {k: (v + rng.normal(0, 0.1, v.shape)).astype(np.float32) for k, v in params.items()}
    x = rng.normal(size=(30, 5)).astype(np.float32)
    center = rng.normal(size=4).astype(np.float32)
    hyper = {"beta": np.float32(1.0), "center": center}
    cpu = jax.devices("cpu")[0]
    ours = map_rows(cls._row_score, params, buffers, x, hyper, cpu)
    ours_loss = map_rows(cls._row_loss, params, buffers, x, hyper, cpu)
    net = _torch_net(cls.design_key, arch, params, buffers)
    reference = TORCH_DETECTORS[cls.design_key]()
    reference.beta = 1.0
    reference.center_ = torch.from_numpy(center)
    with torch.no_grad():
        theirs = reference._score_batch(net, torch.from_numpy(x)).double().numpy()
        their_loss = float(reference._loss(net, torch.from_numpy(x), False))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert float(ours_loss.mean()) == pytest.approx(their_loss, rel=1e-5)


def test_adam_step_matches_torch():
    rng = np.random.default_rng(0)
    param = rng.normal(size=7).astype(np.float32)
    grads = [rng.normal(size=7).astype(np.float32) for _ in range(3)]
    hyper = {"learning_rate": np.float32(1e-2), "weight_decay": np.float32(1e-3)}
    reference = torch.nn.Parameter(torch.from_numpy(param.copy()))
    optimizer = torch.optim.Adam([reference], lr=1e-2, weight_decay=1e-3, betas=ADAM_BETAS, eps=ADAM_EPS)
    flat, m, v = param, np.zeros(7, np.float32), np.zeros(7, np.float32)
    adam = jax.jit(_adam)
    for step, grad in enumerate(grads, start=1):
        reference.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        flat, m, v = adam(flat, grad, m, v, np.int32(step), hyper)
    np.testing.assert_allclose(np.asarray(flat), reference.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_model_is_hashable_so_programs_are_cached():
    arch = Architecture("autoencoder", 4, (8, 4), dropout=True)
    first = Model(arch, AutoEncoder._row_loss, AutoEncoder._row_score)
    second = Model(Architecture("autoencoder", 4, (8, 4), dropout=True), AutoEncoder._row_loss,
                   AutoEncoder._row_score)
    assert first == second and hash(first) == hash(second)


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch-norm"])
def test_training_from_the_same_weights_follows_torch(batch_norm):
    """Same initial weights, same seed (batch order), dropout layers at rate 0: both training loops end in the same
    place (regular batches, the merged last batch of 65 rows, batch-norm statistics, Adam).

    With batch norm, the bias of a Linear layer in front of a BatchNorm has a true gradient of zero (the norm
    subtracts the mean), so it only receives rounding noise, which Adam scales into steps of the learning rate's
    size in any framework: those biases (and the running means that contain them) wander differently, without
    changing the function; the losses then agree to rounding amplified over the epochs. (The shapes are those of
    the conformance tests, so the batch-norm case reuses their compiled program.)
    """
    torch_fitting = pytest.importorskip("pynomaly_torch.fitting")
    from pynomaly_jax.fitting import train

    from pynomaly_core.deep.training import Standardizer

    rng = np.random.default_rng(0)
    raw = rng.normal(size=(321, 4)) @ rng.normal(size=(4, 4))
    X = Standardizer.fit(raw).transform(raw)
    arch = Architecture("autoencoder", 4, (64, 32), dropout=True, batch_norm=batch_norm)
    params, buffers = init_params(arch, np.random.default_rng(0))
    model = Model(arch, AutoEncoder._row_loss, AutoEncoder._row_score)
    hyper = {"learning_rate": np.float32(1e-3), "weight_decay": np.float32(1e-5), "dropout": np.float32(0.0)}
    options = {"batch_size": 64, "epochs": 3, "patience": 2}  # 321 rows: 4 batches of 64 and one of 65
    ours_params, ours_buffers, ours = train(model, params, buffers, X, None, hyper=hyper,
                                            rng=np.random.default_rng(3), key=jax.random.key(0, impl="rbg"),
                                            device=jax.devices("cpu")[0], **options)
    net = _torch_net("autoencoder", arch, params, buffers)
    theirs = torch_fitting.train(net, TORCH_DETECTORS["autoencoder"]()._loss, torch.from_numpy(X), None,
                                 learning_rate=1e-3, weight_decay=1e-5, rng=np.random.default_rng(3), **options)
    np.testing.assert_allclose(ours.train_loss, theirs.train_loss, rtol=2e-3 if batch_norm else 1e-4)
    assert (ours.n_epochs, ours.n_train) == (theirs.n_epochs, theirs.n_train) == (3, 321)
    trained = _torch_net("autoencoder", arch, {k: np.asarray(v) for k, v in ours_params.items()},
                         {k: np.asarray(v) for k, v in ours_buffers.items()}).state_dict()
    before_norm = {f"{stack}.{i}.bias" for stack in ("encoder", "decoder") for i in range(0, 12, 3)}  # Linear, BN, ReLU
    for name, value in net.state_dict().items():
        if name.endswith("num_batches_tracked") or (batch_norm and (name in before_norm or "running_mean" in name)):
            continue
        np.testing.assert_allclose(trained[name].numpy(), value.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
