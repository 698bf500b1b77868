"""The JAX plugin passes the conformance kit (few epochs keep it fast)."""

from pynomaly_core.testing import parametrize_plugin_checks

FAST = {"epochs": 5, "batch_size": 64}


@parametrize_plugin_checks("jax", params={
    "jax.autoencoder": FAST,
    "jax.vae": FAST,
    "jax.deep_svdd": FAST,
})
def test_jax_conformance(check):
    check()
