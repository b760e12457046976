#!/usr/bin/python3
"""The Python package's speed floors (issue #16), measured in one process
with each peer in the same run, rounds interleaved (dsm, peer, dsm, ...)
so that load from other processes hits both alike.

    python_api.py WORK_DIR DSM_BIN SMALL_COUNT BIG_BYTES ROUNDS

Prints one JSON object of median seconds:
  small_dsm         repo.save of SMALL_COUNT arrays of 100x10 float64
  small_batch       the same saves in one `with repo.batch()` transaction
  small_npsave      np.save of the same arrays to files
  small_subprocess  np.save + a `dsm add` subprocess per array (the
                    workflow the package replaces; measured on a tenth of
                    the arrays at most and scaled, since it is slow)
  big_dsm_save      repo.save of a BIG_BYTES float64 array
  big_npsave_hash   np.save of it + hashlib.sha256 of the file
  big_dsm_load      repo.load with verification (the default)
  big_npload_hash   np.load + hashlib.file_digest of the file
Needs the package on PYTHONPATH (bench.py passes <dir of DSM_BIN>/python).
"""
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

import dsm


def fresh_repo(path, dsm_bin, env):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    subprocess.run(["git", "init", "-q", path], check=True, env=env)
    subprocess.run([dsm_bin, "init"], cwd=path, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return dsm.Repo(path)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    work, dsm_bin, count, big_bytes, rounds = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5])
    env = dict(os.environ)
    rng = np.random.default_rng(7)
    small = [rng.standard_normal((100, 10)) for _ in range(count)]
    sub_count = max(5, min(count, count // 10))
    big = rng.standard_normal(big_bytes // 8)
    t = {k: [] for k in ("small_dsm", "small_batch", "small_npsave", "small_subprocess", "big_dsm_save", "big_npsave_hash",
                         "big_dsm_load", "big_npload_hash")}
    for r in range(rounds):
        repo = fresh_repo(os.path.join(work, "py-small"), dsm_bin, env)
        t["small_dsm"].append(timed(lambda: [repo.save("features", a) for a in small]))

        def batched():
            with repo.batch() as b:
                for a in small:
                    b.save("batched", a)
        t["small_batch"].append(timed(batched))

        npdir = os.path.join(work, "py-npsave")
        shutil.rmtree(npdir, ignore_errors=True)
        os.makedirs(npdir)
        t["small_npsave"].append(timed(lambda: [np.save(os.path.join(npdir, f"f{i}.npy"), a)
                                                for i, a in enumerate(small)]))

        sub = os.path.join(work, "py-sub")
        fresh_repo(sub, dsm_bin, env)

        def subprocess_workflow():
            for i, a in enumerate(small[:sub_count]):
                p = os.path.join(sub, "features.npy")
                np.save(p, a)
                subprocess.run([dsm_bin, "add", "--move", p, "--name", "features"], cwd=sub, check=True, env=env,
                               stdout=subprocess.DEVNULL)
        t["small_subprocess"].append(timed(subprocess_workflow) * count / sub_count)

        repo = fresh_repo(os.path.join(work, "py-big"), dsm_bin, env)
        t["big_dsm_save"].append(timed(lambda: repo.save("big", big)))
        bigpath = os.path.join(work, "py-big.npy")

        def npsave_hash():
            np.save(bigpath, big)
            h = hashlib.sha256()
            with open(bigpath, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            return h.hexdigest()
        t["big_npsave_hash"].append(timed(npsave_hash))

        # On a VM the first touch of memory the guest never used costs a
        # hypervisor fault per page (perf: 57% clear_page on the first 1 GiB
        # load, whoever comes first): touch that much once, untimed, so both
        # loads get memory the guest has used before.
        np.ones(big.size).sum()
        # Both loads read from the page cache: each file is read once, untimed.
        for path in (repo.path("big"), bigpath):
            with open(path, "rb") as f:
                while f.read(16 << 20):
                    pass

        def load_dsm():
            a = repo.load("big")
            assert a.shape == big.shape
        t["big_dsm_load"].append(timed(load_dsm))

        def npload_hash():
            a = np.load(bigpath)
            with open(bigpath, "rb") as f:
                hashlib.file_digest(f, "sha256")
            assert a.shape == big.shape
        t["big_npload_hash"].append(timed(npload_hash))
        os.unlink(bigpath)
    out = {k: statistics.median(v) for k, v in t.items()}
    out.update({"small_count": count, "subprocess_measured": sub_count, "big_bytes": big.nbytes, "rounds": rounds})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
