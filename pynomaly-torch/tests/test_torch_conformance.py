"""The torch plugin passes the conformance kit (few epochs keep it fast)."""

from pynomaly_core.testing import parametrize_plugin_checks

FAST = {"epochs": 5, "batch_size": 64}


@parametrize_plugin_checks("torch", params={
    "torch.autoencoder": FAST,
    "torch.vae": FAST,
    "torch.deep_svdd": FAST,
})
def test_torch_conformance(check):
    check()
