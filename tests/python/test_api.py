"""Every call of the dsm package, against the real repository layout and
the `dsm` CLI's own view of what was stored."""
import io
import json
import os

import numpy as np
import pytest

import dsm
from conftest import dsm_cli


def npsave_bytes(a, **kw):
    buf = io.BytesIO()
    np.save(buf, a, **kw)
    return buf.getvalue()


def test_repo_outside_a_repository_is_an_error(tmp_path):
    with pytest.raises(dsm.Error) as e:
        dsm.Repo(tmp_path)
    assert e.value.exit_code == 2
    assert "repository" in str(e.value)


def test_save_returns_what_dsm_add_would_print(repo, repo_dir, env):
    a = np.arange(1000.0).reshape(100, 10)
    s = repo.save("features", a, meta={"lr": 0.01, "tags": ["a", "b"], "note": "2023-01-20", "flag": "true"},
                  message="baseline")
    assert (s.name, s.version) == ("features", 1)
    assert os.path.isabs(s.path) and s.path.startswith(str(repo_dir / "data" / "features" / "features_"))
    with open(s.path, "rb") as f:
        assert f.read() == npsave_bytes(a)
    import hashlib
    assert s.sha256 == hashlib.sha256(npsave_bytes(a)).hexdigest()
    assert repo.save("features", a * 2).version == 2
    # The CLI sees the same versions and metadata.
    show = json.loads(dsm_cli("path", "features@1", "--json", cwd=repo_dir, env=env).stdout)
    assert show  # `dsm path --json` resolves it
    assert dsm_cli("path", "features@1", cwd=repo_dir, env=env).stdout.strip() == s.path
    dsm_cli("verify", "--strict", cwd=repo_dir, env=env)
    info = repo.info("features@1")
    assert info["meta"] == {"lr": 0.01, "tags": ["a", "b"], "note": "2023-01-20", "flag": "true"}
    assert info["message"] == "baseline"
    assert info["dtype"] == "<f8" and list(info["shape"]) == [100, 10]
    assert info["stats"]["max"] == 999.0
    assert info["path"] == s.path and info["version"] == 1
    assert "dsm::api::Repo::save" in info["source"]
    assert "features@1" in repr(info) and "baseline" in repr(info) and "<f8 (100, 10)" in repr(info)
    assert "features@1" in repr(s) and s.path in repr(s)


def test_load_latest_version_and_path(repo):
    a = np.arange(10, dtype=np.int32)
    s1 = repo.save("x", a)
    s2 = repo.save("x", a + 1)
    assert np.array_equal(repo.load("x"), a + 1)
    assert np.array_equal(repo.load("x@1"), a)
    assert np.array_equal(repo.load(s1.path), a)
    assert repo.load("x").dtype == np.int32
    assert repo.path("x") == s2.path and repo.path("x@1") == s1.path


def test_versions_datasets_and_module_functions(repo, repo_dir):
    repo.save("b/one", np.zeros(3))
    repo.save("a", np.ones(2), message="first")
    repo.save("a", np.ones(2) * 2, message="second")
    assert repo.datasets() == ["a", "b/one"]
    vs = repo.versions("a")
    assert [v["version"] for v in vs] == [1, 2]
    assert [v["message"] for v in vs] == ["first", "second"]
    with pytest.raises(dsm.Error):
        repo.versions("nope")
    # dsm.save/load/path/info/versions/datasets/verify act on dsm.Repo(".").
    os.chdir(repo_dir / "data")
    s = dsm.save("c", np.arange(4))
    assert np.array_equal(dsm.load("c"), np.arange(4))
    assert dsm.path("c") == s.path
    assert dsm.info("c")["version"] == 1
    assert len(dsm.versions("a")) == 2
    assert "c" in dsm.datasets()
    assert dsm.verify().ok


def test_verify_reports_problems(repo):
    s = repo.save("v", np.arange(100.0))
    r = repo.verify()
    assert r.ok and bool(r) and r.problems == [] and r.checked == 1
    os.chmod(s.path, 0o644)
    with open(s.path, "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x01")
    r = repo.verify(fast=False)
    assert not r.ok
    assert r.problems[0][0] == s.path and r.problems[0][1].startswith("FAILED")
    assert "FAILED" in repr(r)


def test_compress_and_chunk_size(repo):
    a = np.arange(200000.0).reshape(2000, 100)
    z = repo.save("z", a, compress=True)
    assert z.path.endswith(".npz") and repo.info("z")["format"] == "npz"
    assert z.sha256 == __import__("hashlib").sha256(npsave_bytes(a)).hexdigest()
    assert np.array_equal(repo.load("z"), a)
    c = repo.save("c", a, chunk_size="256KiB")
    assert os.path.isdir(c.path) and repo.info("c")["format"] == "chunks"
    assert np.array_equal(repo.load("c"), a)
    c2 = repo.save("c", a, chunk_size=100_000)
    assert len(repo.info(f"c@{c2.version}")["chunks"]) > 1
    with pytest.raises(dsm.Error):
        repo.save("c", a, chunk_size="lots")


def test_mmap_npy_and_chunked(repo):
    a = np.arange(60000, dtype="<i8").reshape(600, 100)
    repo.save("m", a)
    m = repo.load("m", mmap_mode="r")
    assert isinstance(m, np.memmap) and np.array_equal(m, a)
    with pytest.raises(ValueError):
        m[0, 0] = 1  # read-only
    repo.save("ch", a, chunk_size="64KiB")
    c = repo.load("ch", mmap_mode="r")
    assert isinstance(c, dsm.ChunkedArray)
    assert c.shape == (600, 100) and c.dtype == np.int64 and len(c) == 600 and c.ndim == 2
    assert np.array_equal(c[10:500:7, 3:9], a[10:500:7, 3:9])
    assert np.array_equal(c[-1], a[-1]) and c[5, 6] == a[5, 6]
    assert np.array_equal(c[::-3], a[::-3]) and np.array_equal(c[..., 2], a[..., 2])
    assert np.array_equal(c[[1, 5, 599]], a[[1, 5, 599]])
    assert np.array_equal(np.asarray(c), a)
    # Only the chunks a slice touches are opened.
    c2 = repo.load("ch", mmap_mode="r")
    c2[0:3]
    assert list(c2._open) == [0]
    f = np.asfortranarray(a)
    repo.save("fch", f, chunk_size="64KiB")
    cf = repo.load("fch", mmap_mode="r")
    assert np.array_equal(cf[:, 40:60], f[:, 40:60]) and np.array_equal(cf[7], f[7])
    assert "ChunkedArray(ch@1" in repr(c)


def test_npz_loads_as_dict(repo, repo_dir, env):
    p = repo_dir / "bundle.npz"
    np.savez(p, w=np.arange(3.0), b=np.ones((2, 2), dtype=np.int16))
    dsm_cli("add", p, cwd=repo_dir, env=env)
    d = repo.load("bundle")
    assert set(d) == {"w", "b"} and d["b"].dtype == np.int16 and np.array_equal(d["w"], np.arange(3.0))
    assert repo.info("bundle")["format"] == "npz"
    assert "npz of" in repr(repo.info("bundle"))


def test_object_arrays_refused_unless_allow_pickle(repo):
    o = np.array([{"a": 1}, None], dtype=object)
    with pytest.raises(dsm.Error) as e:
        repo.save("o", o)
    assert "allow_pickle" in str(e.value)
    assert repo.datasets() == []
    s = repo.save("o", o, allow_pickle=True)
    with open(s.path, "rb") as f:
        assert f.read() == npsave_bytes(o, allow_pickle=True)
    with pytest.raises(dsm.Error):
        repo.load("o")
    back = repo.load("o", allow_pickle=True)
    assert back[0] == {"a": 1} and back[1] is None


def test_errors_in_dsm_style(repo):
    with pytest.raises(dsm.Error) as e:
        repo.save("bad name!", np.zeros(1))
    assert e.value.exit_code == 2 and "'bad name!'" in str(e.value)
    with pytest.raises(dsm.Error) as e:
        repo.load("missing@3")
    assert "missing" in str(e.value)
    with pytest.raises(dsm.Error):
        repo.save("m", np.zeros(1), meta={"k": object()})
    assert issubclass(dsm.IntegrityError, dsm.Error) and issubclass(dsm.Error, Exception)


def test_threads_save_concurrently(repo):
    import threading
    errors = []

    def work(k):
        try:
            for i in range(5):
                repo.save("t", np.full(10, k * 100 + i))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors
    assert [v["version"] for v in repo.versions("t")] == list(range(1, 21))
    assert repo.verify().ok


def test_repr_of_repo_and_stubs_exist(repo):
    assert "dsm.Repo(" in repr(repo)
    pkg = os.path.dirname(dsm.__file__)
    assert os.path.exists(os.path.join(pkg, "__init__.pyi")) and os.path.exists(os.path.join(pkg, "py.typed"))
    for f in (dsm.Repo.save, dsm.Repo.load, dsm.Repo.info, dsm.Repo.versions, dsm.Repo.datasets, dsm.Repo.path,
              dsm.Repo.verify, dsm.save, dsm.load, dsm.path, dsm.import_pickle):
        assert f.__doc__


def test_diff_returns_what_dsm_diff_json_prints(repo, repo_dir):
    # Issue 19: repo.diff(a, b, rtol, atol, equal_nan) is `dsm diff --json`.
    a = np.linspace(0.0, 1.0, 1000)
    b = a.copy()
    b[[3, 500]] += 1e-3
    b[7] = np.nan
    repo.save("d", a)
    repo.save("d", b)
    d = repo.diff("d@2")  # B defaults to the version before
    assert d["equal"] is False
    assert d["a"]["target"] == "d@2" and d["b"]["target"] == "d@1"
    e = d["elements"]
    assert e["compared"] == 1000
    assert e["differ"] == int(np.count_nonzero(~np.isclose(b, a, rtol=0, atol=0)))
    assert e["nan_appeared"] == 1
    assert [x["index"] for x in e["first"]] == [[3], [7], [500]]
    cli = json.loads(dsm_cli("diff", "d@2", "d@1", "--json", cwd=repo_dir, env=dict(os.environ), check=False).stdout)
    assert cli == d
    # Within tolerance, NaN against NaN counted equal: only the NaN remains.
    d2 = repo.diff("d@2", "d@1", atol=1e-2, equal_nan=True)
    assert d2["elements"]["differ"] == 1
    assert repo.diff("d@1", "d@1")["equal"] is True
    with pytest.raises(dsm.Error):
        repo.diff("d@1")  # the first version has none before it
