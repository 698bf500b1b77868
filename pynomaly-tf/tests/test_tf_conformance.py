"""The TensorFlow plugin passes the conformance kit (few epochs keep it fast)."""

from pynomaly_core.testing import parametrize_plugin_checks

FAST = {"epochs": 5, "batch_size": 64}


@parametrize_plugin_checks("tf", params={
    "tf.autoencoder": FAST,
    "tf.vae": FAST,
    "tf.deep_svdd": FAST,
})
def test_tf_conformance(check):
    check()
