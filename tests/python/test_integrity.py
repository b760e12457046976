"""Verification on load: corruption is caught in the pass that reads the
data, naming the path and both hashes; Ctrl-C and concurrent saves."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dsm
from conftest import dsm_cli


def flip_last_byte(path):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(-1, 2)
        b = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([b[0] ^ 0xFF]))


@pytest.mark.parametrize("kind", ["npy", "mmap", "compressed", "nested"])
def test_corruption_detected_on_load(repo, kind):
    a = np.arange(50000.0)
    if kind == "nested":
        s = repo.save("x", {"a": a, "b": {"c": a * 2}})
    else:
        s = repo.save("x", a, compress=(kind == "compressed"))
    repo.load("x", mmap_mode="r" if kind == "mmap" else None)  # fine before
    flip_last_byte(s.path)
    with pytest.raises(dsm.IntegrityError) as e:
        repo.load("x", mmap_mode="r" if kind == "mmap" else None)
    msg = str(e.value)
    assert s.path in msg and e.value.path == s.path
    assert e.value.expected_sha256 in msg and e.value.actual_sha256 in msg
    assert e.value.expected_sha256 != e.value.actual_sha256 and len(e.value.actual_sha256) == 64
    assert e.value.exit_code == 1 and isinstance(e.value, dsm.Error)
    # verify=False reads what is there (a plain .npy only: the others are rebuilt).
    if kind in ("npy", "mmap"):
        assert repo.load("x", verify=False)[-1] != a[-1]


def test_corrupt_chunk_detected_on_load_and_on_mmap_slice(repo):
    a = np.arange(100000, dtype=np.int64).reshape(1000, 100)
    s = repo.save("ch", a, chunk_size="128KiB")
    chunks = sorted(p for p in os.listdir(s.path) if p.endswith(".npy"))
    flip_last_byte(os.path.join(s.path, chunks[-1]))
    with pytest.raises(dsm.IntegrityError):
        repo.load("ch")
    m = repo.load("ch", mmap_mode="r")
    assert np.array_equal(m[:10], a[:10])  # the first chunk is intact
    with pytest.raises(dsm.IntegrityError) as e:
        m[-1]
    assert chunks[-1] in str(e.value)


def test_header_disagreeing_with_sidecar_is_refused(repo):
    """Same bytes hash (sidecar edited, not the payload): the header check
    against the sidecar catches a descr/shape change."""
    s = repo.save("h", np.arange(12, dtype="<i4").reshape(3, 4))
    sidecar = s.path + ".yaml"
    text = open(sidecar).read()
    assert "shape: [3, 4]" in text
    os.chmod(sidecar, 0o644)
    open(sidecar, "w").write(text.replace("shape: [3, 4]", "shape: [4, 3]"))
    with pytest.raises(dsm.IntegrityError) as e:
        repo.load("h")
    assert "disagrees with its sidecar" in str(e.value)


SAVER = textwrap.dedent("""
    import sys, numpy as np, dsm
    repo = dsm.Repo(sys.argv[1])
    for i in range(int(sys.argv[2])):
        repo.save("shared", np.full((100, 10), float(sys.argv[3]) * 1000 + i))
""")


def test_two_processes_saving_the_same_name_get_distinct_versions(repo, repo_dir):
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(repo_dir), "15", str(k)]) for k in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    vs = repo.versions("shared")
    assert [v["version"] for v in vs] == list(range(1, 31))
    assert len({v["path"] for v in vs}) == 30
    values = sorted(float(repo.load(f"shared@{v['version']}")[0, 0]) for v in vs)
    assert values == sorted([k * 1000.0 + i for k in range(2) for i in range(15)])
    assert repo.verify().ok


LARGE_SAVER = textwrap.dedent("""
    import sys, numpy as np, dsm
    repo = dsm.Repo(sys.argv[1])
    repo.save("small", np.zeros(3))
    a = np.ones(384 << 20, dtype=np.uint8)   # 384 MiB, pages touched
    print("ready", flush=True)
    repo.save("big", a)
    print("saved", flush=True)
""")


def test_ctrl_c_during_a_large_save_leaves_nothing(repo, repo_dir):
    p = subprocess.Popen([sys.executable, "-c", LARGE_SAVER, str(repo_dir)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    # Signal once the save is under way: its temporary .npy has appeared.
    local = repo_dir / ".dsm" / "local"
    deadline = time.time() + 60
    while not [f for f in os.listdir(local) if f.startswith("api-") and "big" in f]:
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.005)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    # KeyboardInterrupt from inside repo.save, which stopped at once (a save
    # that ran to its end would have stored a version and printed "saved").
    assert p.returncode != 0 and "KeyboardInterrupt" in err, err
    assert "saved" not in out
    assert repo.datasets() == ["small"]
    # Nothing is left anywhere: no temp file, no payload, no sidecar.
    dsm_cli("verify", "--strict", cwd=repo_dir, env=dict(os.environ))
    assert not [f for f in os.listdir(local) if f.startswith("api-")]
    assert not (repo_dir / "data" / "big").exists() or os.listdir(repo_dir / "data" / "big") == []


def test_ctrl_c_handler_restored_after_save(repo):
    """The save borrows SIGINT only while it runs."""
    before = signal.getsignal(signal.SIGINT)
    repo.save("s", np.zeros(10))
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
