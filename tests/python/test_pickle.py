"""dsm.import_pickle and `dsm import`: arrays out of pickles, and malicious
pickles refused by name before anything runs or is stored."""
import os
import pickle
import subprocess

import numpy as np
import pytest

import dsm
from conftest import DSM, dsm_cli
from test_nested import assert_same


def legacy():
    return {"region1": {"values": np.arange(5.0), "created": "2023-01-20", "n": np.int64(4)},
            "runs": [{"w": np.ones((2, 2), dtype=np.float32)}, {"w": np.zeros(3), "note": None}]}


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_import_pickle_round_trips(repo, repo_dir, protocol):
    p = repo_dir / "legacy.pkl"
    p.write_bytes(pickle.dumps(legacy(), protocol=protocol))
    s = dsm.import_pickle(p, "legacy", repo=repo)
    assert s.name == "legacy" and s.version == 1
    expected = legacy()
    expected["region1"]["n"] = 4
    assert_same(expected, repo.load("legacy", nested=True))
    assert repo.info("legacy")["message"] == "imported from legacy.pkl"


def test_import_pickle_default_repo_and_single_array(repo_dir):
    (repo_dir / "a.pkl").write_bytes(pickle.dumps(np.arange(7)))
    s = dsm.import_pickle("a.pkl", "arr")
    assert np.array_equal(dsm.load("arr"), np.arange(7)) and s.path.endswith(".npy")


class Evil:
    """Pickles to a call of `func(*args)` when loaded."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payloads(marker):
    import builtins
    return {
        "os.system": Evil(os.system, f"touch {marker}"),
        "subprocess.Popen": Evil(subprocess.Popen, ["touch", str(marker)]),
        "builtins.eval": Evil(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        # A NumPy global other than array reconstruction.
        "numpy.save": Evil(np.save, str(marker), np.zeros(1)),
    }


@pytest.mark.parametrize("which", ["os.system", "subprocess.Popen", "builtins.eval", "numpy.save"])
def test_malicious_pickle_refused_with_no_side_effect(repo, repo_dir, tmp_path, which):
    marker = tmp_path / "pwned"
    evil = payloads(marker)[which]
    # Hidden inside a legitimate-looking structure, after a real array.
    p = repo_dir / "evil.pkl"
    before = sorted(os.walk(repo_dir / "data"))
    p.write_bytes(pickle.dumps({"values": np.arange(3.0), "extra": evil}))
    # The payload really does run under plain pickle (the test can fail).
    ran = pickle.loads(p.read_bytes())["extra"]
    if hasattr(ran, "wait"):
        ran.wait()  # subprocess.Popen
    assert marker.exists() or marker.with_suffix(".npy").exists()
    for m in (marker, marker.with_suffix(".npy")):
        if m.exists():
            m.unlink()

    with pytest.raises(dsm.Error) as e:
        dsm.import_pickle(p, "evil", repo=repo)
    module, _, name = which.rpartition(".")
    assert name in str(e.value) and "refusing" in str(e.value)
    assert not marker.exists() and not marker.with_suffix(".npy").exists()
    assert repo.datasets() == []
    assert sorted(os.walk(repo_dir / "data")) == before
    dsm_cli("verify", "--strict", cwd=repo_dir, env=dict(os.environ))
    assert sorted(os.walk(repo_dir / "data")) == before

    # The same through the CLI: exit 2, one line, nothing run or stored.
    r = dsm_cli("import", "evil.pkl", "--name", "evil", cwd=repo_dir, env=dict(os.environ), check=False)
    assert r.returncode == 2, r
    assert r.stderr.startswith("dsm: error: refusing") and name in r.stderr
    assert not marker.exists() and not marker.with_suffix(".npy").exists()
    assert repo.datasets() == []
    assert sorted(os.walk(repo_dir / "data")) == before
    dsm_cli("verify", "--strict", cwd=repo_dir, env=dict(os.environ))


def test_cli_import(repo, repo_dir):
    (repo_dir / "legacy.pkl").write_bytes(pickle.dumps(legacy()))
    r = dsm_cli("import", "legacy.pkl", "--name", "old/legacy", "--message", "from the old pipeline",
                cwd=repo_dir, env=dict(os.environ))
    assert r.stdout.strip() == repo.path("old/legacy")
    assert repo.info("old/legacy")["message"] == "from the old pipeline"
    assert np.array_equal(repo.load("old/legacy", nested=True)["region1"]["values"], np.arange(5.0))
    dsm_cli("verify", "--strict", cwd=repo_dir, env=dict(os.environ))
    bad = dsm_cli("import", "missing.pkl", "--name", "x", cwd=repo_dir, env=dict(os.environ), check=False)
    assert bad.returncode == 2 and "missing.pkl" in bad.stderr
    help_text = subprocess.run([DSM, "import", "--help"], capture_output=True, text=True).stdout
    assert "restricted unpickler" in help_text


def test_garbage_and_object_leaves_refused(repo, repo_dir):
    (repo_dir / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(dsm.Error) as e:
        dsm.import_pickle(repo_dir / "junk.pkl", "j", repo=repo)
    assert "not a valid pickle" in str(e.value)
    (repo_dir / "obj.pkl").write_bytes(pickle.dumps({"x": np.array([{"a": 1}], dtype=object)}))
    with pytest.raises(dsm.Error) as e:
        dsm.import_pickle(repo_dir / "obj.pkl", "o", repo=repo)
    assert "'x'" in str(e.value)
    assert repo.datasets() == []
