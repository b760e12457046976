"""repo.batch(): many saves stored as one transaction (docs/python.md,
"Saving many arrays")."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dsm
from conftest import dsm_cli


def local_leftovers(repo_dir):
    local = repo_dir / ".dsm" / "local"
    return sorted(p.name for p in local.iterdir() if p.name.startswith("api-")) if local.is_dir() else []


def test_batch_stores_every_save_in_order_with_its_own_meta(repo, repo_dir, env):
    arrays = [np.full((10, 3), i, dtype=np.float32) for i in range(50)]
    with repo.batch() as b:
        for i, a in enumerate(arrays):
            b.save("runs/loss" if i % 2 == 0 else "runs/acc", a, meta={"step": i}, message=f"step {i}")
        assert len(b) == 50 and b.saved is None  # nothing stored until the block ends
        assert repo.datasets() == []
    assert [s.name for s in b.saved] == ["runs/loss" if i % 2 == 0 else "runs/acc" for i in range(50)]
    assert [s.version for s in b.saved if s.name == "runs/loss"] == list(range(1, 26))
    for i, s in enumerate(b.saved):
        assert np.array_equal(repo.load(f"{s.name}@{s.version}"), arrays[i])
        info = repo.info(s.path)
        assert info["meta"] == {"step": i} and info["message"] == f"step {i}"
    # The CLI sees the same versions, and everything verifies.
    ls = json.loads(dsm_cli("ls", "--json", cwd=repo_dir, env=env).stdout)
    assert ls
    dsm_cli("verify", "--strict", cwd=repo_dir, env=env)
    assert local_leftovers(repo_dir) == []
    # A batch continues after the numbers already used.
    assert repo.batch is not None
    with dsm.batch() as b2:
        b2.save("runs/loss", arrays[0])
    assert b2.saved[0].version == 26


def test_exception_inside_the_block_stores_nothing(repo, repo_dir, env):
    repo.save("x", np.arange(3))
    with pytest.raises(RuntimeError):
        with repo.batch() as b:
            b.save("x", np.arange(4))
            b.save("y", np.arange(5))
            raise RuntimeError("the loop failed")
    assert b.saved is None
    assert repo.datasets() == ["x"] and [v["version"] for v in repo.versions("x")] == [1]
    assert local_leftovers(repo_dir) == []
    manifest = (repo_dir / "data" / "manifest-sha256.txt").read_text()
    assert len(manifest.splitlines()) == 1
    dsm_cli("verify", "--strict", cwd=repo_dir, env=env)


def test_a_bad_save_fails_at_once_and_the_rest_still_commits(repo):
    with repo.batch() as b:
        b.save("ok", np.arange(3))
        with pytest.raises(dsm.Error, match="object"):
            b.save("bad", np.array([object()], dtype=object))
        with pytest.raises(dsm.Error, match="compress"):
            b.save("other", np.arange(3), compress=True)  # the first save fixed compress=False
    assert [s.name for s in b.saved] == ["ok"]
    with pytest.raises(dsm.Error, match="committed"):
        b.save("late", np.arange(3))


def test_nested_and_compressed_saves_in_a_batch(repo):
    a = np.linspace(0, 1, 1000)
    with repo.batch() as b:
        b.save("tree", {"r1": {"values": a, "created": "2023-01-20"}})
        b.save("flat", a)
    with repo.batch() as c:
        c.save("flat", a, compress=True)
        c.save("flat", a * 2, compress=True)
    assert [s.version for s in c.saved] == [2, 3] and c.saved[1].path.endswith(".npz")
    assert np.array_equal(repo.load("flat"), a * 2)
    back = repo.load("tree", nested=True)
    assert np.array_equal(back["r1"]["values"], a) and back["r1"]["created"] == "2023-01-20"
    assert np.array_equal(repo.load("flat@1"), a)


def test_discarded_batch_and_empty_batch(repo, repo_dir):
    b = repo.batch()
    b.save("x", np.arange(3))
    assert len(local_leftovers(repo_dir)) == 1
    b.discard()
    assert local_leftovers(repo_dir) == []
    assert b.commit() == [] and repo.datasets() == []
    assert "0 saved" in repr(b)


def test_two_processes_batching_the_same_name_get_distinct_versions(repo_dir, env):
    script = textwrap.dedent("""
        import sys, numpy as np, dsm
        with dsm.batch() as b:
            for i in range(40):
                b.save("shared", np.full(5, int(sys.argv[1]) * 100 + i))
        print(",".join(str(s.version) for s in b.saved))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(k)], cwd=repo_dir, env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    versions = [int(v) for out, _ in outs for v in out.strip().split(",")]
    assert sorted(versions) == list(range(1, 81))
    # Each process's 40 versions are contiguous: one transaction each.
    for out, _ in outs:
        v = [int(x) for x in out.strip().split(",")]
        assert v == list(range(v[0], v[0] + 40))
    dsm_cli("verify", "--strict", cwd=repo_dir, env=env)
