"""Adapter behaviour beyond the conformance kit: PyOD's rough edges, member detectors, errors, persistence."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest
from pynomaly_pyod import catalog, state
from pynomaly_pyod.dependencies import missing_packages

from pynomaly_core import create_detector
from pynomaly_core.errors import InputError, PynomalyError, UntrustedArtefactError
from pynomaly_core.persistence import SAFE_FORMATS, load


def data(n: int = 300, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    test = rng.normal(size=(40, d))
    test[0] = 8.0
    return rng.normal(size=(n, d)), test


def needs(*names: str) -> None:
    missing = sorted({p for name in names for p in missing_packages(catalog.get(name))})
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not installed")


def save_and_load(model: object, trust: bool = False) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        path = model.save(Path(tmp) / "model")
        manifest = json.loads((path / "manifest.json").read_text())
        return load(path, trust=trust), {entry["format"] for entry in manifest["artefacts"].values()}


# -- models the kit cannot run -----------------------------------------------------------------------------
def test_mad_contract_on_one_feature() -> None:
    train, test = data(d=1)
    model = create_detector("pyod.mad").fit(train)
    scores = model.decision_function(test)
    assert int(np.argmax(scores)) == 0
    np.testing.assert_array_equal(model.predict(test), (scores > model.threshold_).astype(int))
    restored, formats = save_and_load(model)
    assert formats <= SAFE_FORMATS
    np.testing.assert_array_equal(restored.decision_function(test), scores)


def test_mad_on_several_features_is_a_one_line_input_error() -> None:
    with pytest.raises(InputError, match=r"^pyod\.mad: MAD algorithm is just for univariate data") as info:
        create_detector("pyod.mad").fit(data()[0])
    assert "\n" not in str(info.value)


def test_loci_contract_on_small_data() -> None:
    """LOCI is transductive (it scores the rows it is given from those rows alone): its training scores rank the
    outlier first, and scoring new rows or saving is refused with the reason."""
    _, test = data(n=60)
    model = create_detector("pyod.loci").fit(test[:20])
    assert model.decision_scores_.shape == (20,) and int(np.argmax(model.decision_scores_)) == 0
    with pytest.raises(PynomalyError, match=r"pyod\.loci is transductive"):
        model.decision_function(test[:20])
    with pytest.raises(PynomalyError, match="transductive: it cannot score new data, so it is not saved"):
        save_and_load(model)


def test_cblof_without_cluster_structure_is_a_one_line_input_error() -> None:
    rng = np.random.default_rng(0)
    rng.normal(size=(300, 4)), rng.normal(size=(60, 4))  # the kit's draws before its 400-row sample
    train = np.random.default_rng(0).normal(size=(400, 4))
    with pytest.raises(InputError, match=r"^pyod\.cblof: Could not form valid cluster separation") as info:
        create_detector("pyod.cblof", random_state=0).fit(train)
    assert "\n" not in str(info.value) and isinstance(info.value.__cause__, ValueError)


# -- supervised ------------------------------------------------------------------------------------------
def labelled(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    y = np.zeros(n, dtype=int)
    X[:15] += 5.0
    y[:15] = 1
    return X, y


DEVNET = {"epochs": 2, "nb_batch": 5, "batch_size": 64}


def test_devnet_needs_labels_and_is_seeded() -> None:
    needs("devnet")
    X, y = labelled()
    with pytest.raises(InputError, match=r"pyod\.devnet is supervised"):
        create_detector("pyod.devnet").fit(X)
    with pytest.raises(InputError, match="only 0"):
        create_detector("pyod.devnet").fit(X, np.full(300, 2))
    first = create_detector("pyod.devnet", **DEVNET).fit(X, y)
    second = create_detector("pyod.devnet", **DEVNET).fit(X, y)
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    other = create_detector("pyod.devnet", random_seed=7, **DEVNET).fit(X, y)
    assert not np.array_equal(other.decision_scores_, first.decision_scores_)


@pytest.mark.xfail(strict=True, reason=(
    "PyOD 3.6.7 bug: DevNet.fit calls deviation_loss(outputs, labels) but the function is "
    "deviation_loss(y_true, y_pred), so labelled anomalies are trained towards low scores"
))
def test_devnet_ranks_labelled_anomalies_first() -> None:
    needs("devnet")
    X, y = labelled()
    scores = create_detector("pyod.devnet", epochs=10, nb_batch=20, batch_size=64).fit(X, y).decision_scores_
    assert scores[y == 1].mean() > scores[y == 0].mean()


# -- missing optional packages ---------------------------------------------------------------------------
def test_missing_package_is_a_one_line_error_naming_it() -> None:
    absent = [model for model in catalog.MODELS if missing_packages(model) and model.kind == "tabular"]
    if not absent:
        pytest.skip("every optional package is installed")
    for model in absent:
        with pytest.raises(PynomalyError, match="needs the package") as info:
            create_detector(model.qualified_name).fit(data()[0], np.zeros(300, dtype=int))
        message = str(info.value)
        assert "\n" not in message and all(p in message for p in missing_packages(model)), message


# -- member detectors by name ----------------------------------------------------------------------------
def test_lscp_members_by_name_equal_pyod_objects() -> None:
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.lscp import LSCP

    train, test = data()
    members = ["lof", {"name": "pyod.knn", "params": {"n_neighbors": 3}}]
    model = create_detector("pyod.lscp", detector_list=members, random_state=0).fit(train)
    direct = LSCP([LOF(), KNN(n_neighbors=3)], random_state=0).fit(train)
    np.testing.assert_array_equal(model.decision_scores_, direct.decision_scores_)
    np.testing.assert_array_equal(model.decision_function(test), direct.decision_function(test))
    restored, formats = save_and_load(model, trust=True)
    assert formats == {"npz", "joblib"} and restored.get_params()["detector_list"] == members


@pytest.mark.parametrize(("members", "message"), [
    (None, "parameter 'detector_list' is required"),
    (["nope"], "unknown pyod detector 'nope'"),
    (["ts_od"], "cannot be a member detector"),
    ([{"name": "knn", "params": {"k": 1}}], "has no parameter 'k'"),
    ([{"detector": "knn"}], "needs 'name'"),
])
def test_lscp_member_errors(members: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        create_detector("pyod.lscp", detector_list=members).fit(data()[0])


# -- parameters JSON could not hold ----------------------------------------------------------------------
def test_required_n_features_comes_from_the_data() -> None:
    needs("deep_svdd")
    model = create_detector("pyod.deep_svdd", epochs=1, verbose=0, random_state=0).fit(data()[0])
    assert model.n_features is None and model.estimator_.n_features == 4


def test_tuple_default_reaches_pyod_as_a_tuple() -> None:
    needs("vae")
    model = create_detector("pyod.vae", epoch_num=1, verbose=0, encoder_neuron_list=[8], decoder_neuron_list=[8])
    assert model.logvar_clip == [-30.0, 20.0]
    model.fit(data()[0])
    assert model.estimator_.logvar_clip == (-30.0, 20.0)


# -- PyOD side effects -----------------------------------------------------------------------------------
def test_pyod_console_output_goes_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    train, test = data(n=60)
    model = create_detector("pyod.rgraph", maxiter=5, transition_steps=3, support_size=20)
    model.fit(train).decision_function(test[:10])
    out, err = capfd.readouterr()
    assert out == "" and "Test block" in err


def test_torch_models_leave_global_generators_alone() -> None:
    needs("auto_encoder")
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    hash_seed = os.environ.get("PYTHONHASHSEED")
    create_detector("pyod.auto_encoder", epoch_num=1, verbose=0, hidden_neuron_list=[4]).fit(data()[0])
    assert (random.random(), np.random.random()) == expected
    assert os.environ.get("PYTHONHASHSEED") == hash_seed


@pytest.mark.parametrize(("name", "params"), [
    ("pyod.vae", {"epoch_num": 1, "verbose": 0, "encoder_neuron_list": [8], "decoder_neuron_list": [8]}),
    ("pyod.alad", {"epochs": 2}),
])
def test_scoring_repeats(name: str, params: dict) -> None:
    """VAE samples while scoring and ALAD's dropout stayed on in PyOD: pynomaly's scores repeat."""
    needs(name)
    train, test = data()
    model = create_detector(name, **params).fit(train)
    np.testing.assert_array_equal(model.decision_function(test), model.decision_function(test))
    if name == "pyod.alad":
        assert not any(getattr(model.estimator_, net).training for net in ("enc", "dec", "disc_xx"))


# -- threshold ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "reused"), [("pyod.hbos", True), ("pyod.knn", True), ("pyod.ts_od", False)])
def test_threshold_reuses_pyods_only_when_identical(name: str, reused: bool) -> None:
    model = create_detector(name, contamination=0.07, **({"window_size": 8} if reused is False else {}))
    model.fit(data()[0])
    assert (model._pyod_threshold(model.decision_scores_) is not None) is reused
    assert model.threshold_ == float(np.percentile(model.decision_scores_, 93.0))
    assert model.labels_.tolist() == (model.decision_scores_ > model.threshold_).astype(int).tolist()


# -- persistence -----------------------------------------------------------------------------------------
def test_safe_models_save_without_pickle() -> None:
    train, test = data()
    model = create_detector("pyod.ecod").fit(train)
    restored, formats = save_and_load(model)
    assert formats == {"npz", "json"}
    np.testing.assert_array_equal(restored.decision_function(test), model.decision_function(test))


def test_pickle_models_need_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    calls = []
    monkeypatch.setattr(joblib, "load", lambda *a, **k: calls.append(a))
    with tempfile.TemporaryDirectory() as tmp:
        path = create_detector("pyod.iforest", n_estimators=5, random_state=0).fit(data()[0]).save(Path(tmp) / "m")
        with pytest.raises(UntrustedArtefactError):
            load(path)
        with pytest.raises(UntrustedArtefactError):
            state.load_pickle(path, False, "pyod.iforest")
    assert calls == []


def test_unsaveable_models_say_why() -> None:
    needs("mo_gaal")
    model = create_detector("pyod.mo_gaal", k=2, stop_epochs=1).fit(data()[0])
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(PynomalyError, match="cannot be saved"):
        model.save(Path(tmp) / "m")


def test_safe_state_refuses_objects() -> None:
    class Estimator:
        def __init__(self) -> None:
            self.tree_ = object()

    with tempfile.TemporaryDirectory() as tmp, pytest.raises(PynomalyError, match="'tree_' is a object"):
        state.save_safe(Estimator(), Path(tmp), "pyod.x")


# -- what a model's scores depend on ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["pyod.cof", "pyod.lmdd", "pyod.loci", "pyod.sod", "pyod.sos"])
def test_models_that_score_rows_from_those_rows_alone_are_transductive(name: str) -> None:
    """Fitted on N(0, 1) or on N(5, 3), PyOD's own decision_function gives bit-identical scores: it refits on the
    rows it is given. pynomaly registers them as transductive and refuses to score new rows or to save them."""
    rng = np.random.default_rng(0)
    first, second, new = rng.normal(size=(60, 3)), rng.normal(5, 3, size=(60, 3)), rng.normal(size=(30, 3))
    params = {"random_state": 0} if "random_state" in catalog.get(name).params else {}
    a, b = create_detector(name, **params).fit(first), create_detector(name, **params).fit(second)
    np.testing.assert_array_equal(a.estimator_.decision_function(new), b.estimator_.decision_function(new))
    capabilities = set(catalog.get(name).capabilities)
    assert "transductive" in capabilities and not {"save", "pickle_save"} & capabilities
    with pytest.raises(PynomalyError, match=f"{name} is transductive: it scores only the data it was fitted on"):
        a.decision_function(new[:1])


@pytest.mark.parametrize("name", ["pyod.ecod", "pyod.copod", "pyod.rod"])
def test_batch_dependent_models_declare_it(name: str) -> None:
    train, test = data()
    model = create_detector(name).fit(train)
    halves = np.concatenate([model.decision_function(test[:20]), model.decision_function(test[20:])])
    assert not np.allclose(halves, model.decision_function(test))
    assert "batch_dependent" in catalog.get(name).capabilities


def test_out_of_core_scoring_refuses_a_batch_dependent_model(pynomaly_cli, tmp_path) -> None:
    sensors = Path(__file__).resolve().parents[3] / "examples" / "data" / "sensors.csv"
    columns = "temperature,pressure,vibration,current,humidity"
    code, _, err = pynomaly_cli("train", str(sensors), "--columns", columns, "-d", "pyod.ecod", "-o",
                                str(tmp_path / "m"))
    assert code == 0, err
    out = tmp_path / "scores.csv"
    code, _, err = pynomaly_cli("score", str(tmp_path / "m"), str(sensors), "--columns", columns,
                                "--batch-rows", "100", "-o", str(out))
    assert code == 2 and err.count("\n") == 1 and not out.exists()
    assert "pyod.ecod is batch-dependent" in err and "--batch-rows above the number of rows" in err
    code, _, err = pynomaly_cli("score", str(tmp_path / "m"), str(sensors), "--columns", columns, "-o", str(out))
    assert code == 0, err
    whole = create_detector("pyod.ecod")
    whole.fit(np.loadtxt(sensors, delimiter=",", skiprows=1, usecols=range(5)))
    streamed = np.loadtxt(out, delimiter=",", skiprows=1, usecols=0)
    np.testing.assert_allclose(streamed, whole.decision_function(np.loadtxt(sensors, delimiter=",", skiprows=1,
                                                                              usecols=range(5))), rtol=1e-12)


# -- every failure is a one-line pynomaly error ----------------------------------------------------------------
def test_deep_models_need_a_full_batch_of_rows() -> None:
    needs("pyod.auto_encoder")
    with pytest.raises(InputError, match=r"^pyod\.auto_encoder: needs at least batch_size=32 training rows "
                                         r"\(PyOD trains on full batches only\), got 10 samples"):
        create_detector("pyod.auto_encoder", epoch_num=1).fit(data(n=10)[0])
    with pytest.raises(InputError, match="got 1 sample;"):
        create_detector("pyod.vae", epoch_num=1).fit(data(n=1)[0])


def test_a_single_row_failure_says_so() -> None:
    with pytest.raises(InputError, match=r"^pyod\.abod: cannot fit 1 sample: "):
        create_detector("pyod.abod").fit(data(n=1)[0])


def test_any_other_pyod_exception_becomes_a_one_line_backend_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyod.models.knn import KNN

    from pynomaly_core.errors import BackendError

    def broken(self, X, y=None):
        raise IndexError("index 7 is out of bounds\nsecond line")

    monkeypatch.setattr(KNN, "fit", broken)
    with pytest.raises(BackendError, match=r"^pyod\.knn failed inside PyOD: IndexError: index 7 is out of bounds$"):
        create_detector("pyod.knn").fit(data()[0])
