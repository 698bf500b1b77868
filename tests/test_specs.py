import pytest

from pynomaly_core.errors import InvalidSpecError
from pynomaly_core.specs import DetectorSpec, LoaderSpec


def spec(**overrides):
    fields = {"name": "demo", "summary": "A demo.", "target": "pkg.mod:Cls"}
    fields.update(overrides)
    return DetectorSpec(**fields)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad-Name"}, "name must match"),
        ({"summary": ""}, "summary must be one non-empty line"),
        ({"summary": "two\nlines"}, "summary must be one non-empty line"),
        ({"target": "no_colon"}, "target must be a 'module:attr' string"),
        ({"data_kinds": {"images"}}, "data_kinds must be a non-empty subset"),
        ({"data_kinds": set()}, "data_kinds must be a non-empty subset"),
        ({"capabilities": {"teleport"}}, "unknown capabilities ['teleport']"),
        ({"params": {"x": object()}}, "not JSON-serialisable"),
        ({"params": {"class": 1}}, "is not an identifier"),
    ],
)
def test_invalid_specs_name_the_field(overrides, message):
    with pytest.raises(InvalidSpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        spec(**overrides)


def test_spec_is_frozen_and_serialisable():
    s = spec(params={"k": 3}, capabilities=["save"], data_kinds="graph")
    assert s.data_kinds == frozenset({"graph"})
    with pytest.raises(TypeError):
        s.params["k"] = 4  # read-only mapping
    data = s.to_dict()
    assert data["params"] == {"k": 3} and data["capabilities"] == ["save"] and data["kind"] == "detector"


def test_loader_suffix_must_start_with_dot():
    with pytest.raises(InvalidSpecError, match=r"must start with '\.'"):
        LoaderSpec(name="x", summary="X.", target="a:b", suffixes=("csv",))


def test_load_imports_target_lazily():
    s = spec(target="pynomaly_core.builtin.hbos:HBOS")
    assert s.load().__name__ == "HBOS"
