"""A/B in production: ``NAME@champion`` traffic split with the challenger by a set share (deterministic per request
id), both arms scored and recorded, and ``pynomaly compare`` run on the recorded traffic."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from server_testkit import server_env, start_server, stop_server

SHARE = 0.3


@pytest.fixture(scope="module")
def ab_server(tmp_path_factory):
    from pynomaly_server.keys import KeyStore

    from pynomaly_core.builtin.hbos import HBOS
    from pynomaly_core.data import NamedArray
    from pynomaly_core.modelstore import ModelStore

    home = tmp_path_factory.mktemp("ab-home")
    rng = np.random.default_rng(4)
    store = ModelStore(url=f"sqlite:///{home / 'store.db'}", home=home)
    for version, bins in ((1, 10), (2, 4)):
        data = NamedArray(rng.normal(size=(400, 3)), ["a", "b", "c"])
        store.view(actor="author").register("fraud", HBOS(n_bins=bins).fit(data))
        store.view(actor="author").submit("fraud", version)
        store.view(actor="reviewer").approve("fraud", version)
    store.deploy("fraud", 1, alias="champion")
    store.deploy("fraud", 2, alias="challenger")
    keys = KeyStore(f"sqlite:///{home / 'server.db'}")
    secret = keys.create("scorer", actor="test")[1]
    keys.close()
    server = start_server(home, "--ab-share", str(SHARE))
    server.keys = {"scorer": secret}
    yield server, store
    stop_server(server)
    store.close()


def test_traffic_is_split_by_share_both_arms_recorded_and_compare_runs_on_it(ab_server, tmp_path):
    from pynomaly_server.ab import arm_of

    server, store = ab_server
    rng = np.random.default_rng(8)
    rows = rng.normal(size=(200, 3))
    rows[:20] += 6.0  # anomalies
    models = {1: store.load("fraud", 1), 2: store.load("fraud", 2)}
    served = []
    with httpx.Client(base_url=server.url, timeout=60,
                      headers={"Authorization": f"Bearer {server.keys['scorer']}"}) as client:
        for i, row in enumerate(rows):
            request_id = f"req-{i}"
            body = client.post("/v1/models/fraud@champion/score", json={"data": [row.tolist()]},
                               headers={"X-Request-ID": request_id}).json()
            expected_arm = arm_of(request_id, SHARE)
            assert body["alias"] == expected_arm and body["version"] == (1 if expected_arm == "champion" else 2)
            np.testing.assert_allclose(body["scores"], models[body["version"]].decision_function(row[None]),
                                       rtol=1e-12)
            served.append(expected_arm)
        pinned = client.post("/v1/models/fraud@challenger/score", json={"data": [rows[0].tolist()]}).json()
        assert pinned["version"] == 2 and pinned["alias"] == "challenger"  # an explicit alias is never split
    share = served.count("challenger") / len(served)
    assert 0.2 < share < 0.4, share
    traffic = server.home / "traffic" / "default" / "fraud.csv"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not traffic.exists() or len(traffic.read_text().splitlines()) < 201):
        time.sleep(0.2)
    with open(traffic) as handle:
        recorded = list(csv.DictReader(handle))
    assert len(recorded) == 200 and [r["arm"] for r in recorded] == served
    X = np.array([[float(r[c]) for c in "abc"] for r in recorded])
    np.testing.assert_allclose([float(r["score_champion"]) for r in recorded], models[1].decision_function(X))
    np.testing.assert_allclose([float(r["score_challenger"]) for r in recorded], models[2].decision_function(X))
    labelled = tmp_path / "labelled.csv"  # labels learned later, joined by request id
    truth = {f"req-{i}": int(i < 20) for i in range(200)}
    with open(labelled, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "c", "label"])
        for r in recorded:
            writer.writerow([r["a"], r["b"], r["c"], truth[r["request_id"]]])
    env = {**server_env(server.home), "PYNOMALY_LOAD_PLUGINS": ""}
    done = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", "compare", "fraud@champion",
                           "fraud@challenger", str(labelled), "--labels", "label", "--json", "--method", "delong"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["roc_auc_a"] > 0.9 and result["roc_auc_b"] > 0.9
