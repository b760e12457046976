"""Nested structures without pickle (docs/python.md, "Nested structures")."""
import zipfile

import numpy as np
import pytest

import dsm


def assert_same(a, b, path="top"):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}/{i}")
    else:
        assert type(a) is type(b) and a == b, path


def test_the_issue_example_round_trips(repo):
    data = {
        "region1": {"values": np.arange(10.0), "created": "2023-01-20"},
        "region2": {"values": np.arange(6, dtype=np.int16).reshape(2, 3), "created": "2023-02-01",
                    "n": 3, "ok": True, "missing": None, "ratio": 0.25},
    }
    s = repo.save("dataset", data, meta={"owner": "ada"}, message="regions")
    assert s.path.endswith(".npz")
    with zipfile.ZipFile(s.path) as z:
        assert sorted(z.namelist()) == ["region1/values.npy", "region2/values.npy"]
    info = repo.info("dataset")
    assert info["meta"]["region1/created"] == "2023-01-20" and info["meta"]["region2/n"] == 3
    assert info["meta"]["owner"] == "ada" and info["message"] == "regions"
    back = repo.load("dataset", nested=True)
    assert_same(data, back)
    flat = repo.load("dataset")
    assert set(flat) == {"region1/values", "region2/values"}


def test_lists_of_dicts_empty_containers_and_numpy_scalars(repo):
    data = {"runs": [{"x": np.ones(2), "score": np.float64(0.5)}, {"x": np.zeros(3, dtype=">f4"), "score": 1}],
            "empty": {}, "none": [], "deep": {"a": {"b": {"c": np.array(7)}}}, "flags": [True, False, "yes"],
            "big": 2**62, "text": "true", "number_text": "17", "date_text": "2023-01-20"}
    repo.save("runs", data)
    back = repo.load("runs", nested=True)
    assert isinstance(back["runs"], list) and back["runs"][0]["score"] == 0.5
    expected = dict(data)
    expected["runs"] = [{"x": np.ones(2), "score": 0.5}, {"x": np.zeros(3, dtype=">f4"), "score": 1}]
    assert_same(expected, back)


def test_top_level_list_of_dicts(repo):
    data = [{"a": np.arange(3)}, {"a": np.arange(4), "label": "second"}]
    repo.save("seq", data)
    assert_same(data, repo.load("seq", nested=True))


@pytest.mark.parametrize("bad,where", [
    ({"a": {"model": object()}}, "'a/model'"),
    ({"a": [np.ones(1), {"f": lambda: 0}]}, "'a/1/f'"),
    ({"x": np.array([None, 1], dtype=object)}, "'x'"),
    ({"x": b"bytes"}, "'x'"),
    ({"x": np.ones(1), 3: np.ones(1)}, "key 3"),
    ({"a/b": np.ones(1)}, "'a/b'"),
])
def test_unstorable_leaf_refused_with_its_key_path(repo, bad, where):
    with pytest.raises(dsm.Error) as e:
        repo.save("bad", bad)
    assert where in str(e.value)
    assert repo.datasets() == []


def test_structure_without_arrays_refused(repo):
    with pytest.raises(dsm.Error):
        repo.save("s", {"a": 1})
