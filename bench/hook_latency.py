#!/usr/bin/python3
"""Latency of `dsm hook pre-commit` on a repository holding N datasets
(default 10,000), as docs/hooks.md reports it.

Fabricates the repository directly (as `dsm init` + N x `dsm add` would leave
it, minus the statistics in the sidecars): data/<name>/<name>_20261126_001.npy,
its sidecar, and a manifest line each, all committed. Then times the hook:
  - nothing staged
  - one code file staged
  - one new dataset staged (sidecar + manifest line; its payload is hashed)
Usage: bench/hook_latency.py [--datasets N] [--runs R] [--dsm PATH] [--keep]
"""
import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def sh(*args, cwd, env):
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def dataset(root, data, name, arr):
    d = os.path.join(data, name)
    os.makedirs(d, exist_ok=True)
    fname = f"{name}_20261126_001.npy"
    p = os.path.join(d, fname)
    np.save(p, arr)
    with open(p, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    with open(p + ".yaml", "w") as f:
        f.write(f"dsm_sidecar: 1\nname: {name}\nversion: 1\nfile: {fname}\nsize: {len(raw)}\n"
                f"sha256: \"{sha}\"\nformat: npy\n")
    return f"{sha}  {name}/{fname}\n"


def time_hook(dsm, cwd, env, runs, git_commit_state=True):
    """Wall and CPU (user+sys) ms per run. With git_commit_state, first let git
    write every tree into the index's cache-tree, as `git commit` does just
    before it runs the hook."""
    if git_commit_state:
        sh("git", "write-tree", cwd=cwd, env=env)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run([dsm, "hook", "pre-commit"], cwd=cwd, env=env, capture_output=True, text=True)
        wall.append((time.perf_counter() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if p.returncode != 0:
            sys.exit(f"hook failed ({p.returncode}): {p.stderr}")
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--dsm", default=os.path.join(os.path.dirname(__file__), "..", "build", "dsm"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    dsm = os.path.abspath(a.dsm)
    tmp = tempfile.mkdtemp(prefix="dsm-hook-bench-")
    env = dict(os.environ, HOME=tmp, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    root = os.path.join(tmp, "repo")
    os.makedirs(root)
    sh("git", "init", "-q", "-b", "main", root, cwd=tmp, env=env)
    if subprocess.run([dsm, "init"], cwd=root, env=env, capture_output=True).returncode != 0:
        # A dsm without `init`: write what it would (config and .gitignore block).
        os.makedirs(os.path.join(root, ".dsm"))
        with open(os.path.join(root, ".dsm", "config.yaml"), "w") as f:
            f.write("version: 1\ndata_dir: data\n")
        with open(os.path.join(root, ".gitignore"), "w") as f:
            f.write("# >>> dsm managed block: do not edit (run 'dsm init' to repair)\n/data/**/*.npy\n"
                    "/data/**/*.npz\n.dsm-tmp-*\n/.dsm/local/\n# <<< dsm managed block\n")
    data = os.path.join(root, "data")
    t = time.perf_counter()
    lines = [dataset(root, data, f"ds{i:05d}", np.arange(16, dtype="<f8") + i) for i in range(a.datasets)]
    with open(os.path.join(data, "manifest-sha256.txt"), "w") as f:
        f.writelines(sorted(lines, key=lambda l: l.split("  ", 1)[1]))
    sh("git", "add", "-A", cwd=root, env=env)
    sh("git", "commit", "-q", "--no-verify", "-m", "datasets", cwd=root, env=env)
    tracked = subprocess.run(["git", "ls-files"], cwd=root, env=env, capture_output=True, text=True).stdout
    print(f"repository: {a.datasets} datasets, {len(tracked.splitlines())} tracked files "
          f"(built in {time.perf_counter() - t:.1f} s) at {root}")

    rows = []
    rows.append(("nothing staged",) + time_hook(dsm, root, env, a.runs))
    with open(os.path.join(root, "code.py"), "w") as f:
        f.write("print('hello')\n")
    sh("git", "add", "code.py", cwd=root, env=env)
    # Run by hand (or by `pre-commit run`): git has not rewritten the trees.
    rows.append(("one code file staged, cache-tree invalidated by git add",) +
                time_hook(dsm, root, env, a.runs, git_commit_state=False))
    rows.append(("one code file staged (as under git commit)",) + time_hook(dsm, root, env, a.runs))
    line = dataset(root, data, "zz_new", np.arange(1 << 17, dtype="<f8"))  # 1 MiB payload
    with open(os.path.join(data, "manifest-sha256.txt"), "a") as f:
        f.write(line)
    sh("git", "add", "-A", cwd=root, env=env)
    rows.append(("one new dataset staged (1 MiB payload hashed)",) + time_hook(dsm, root, env, a.runs))
    print(f"{'scenario':62} {'wall median':>12} {'wall min':>9} {'cpu median':>11}  (ms)")
    for name, med, lo, cpu in rows:
        print(f"{name:62} {med:12.1f} {lo:9.1f} {cpu:11.1f}")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
