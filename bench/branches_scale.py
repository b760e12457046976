#!/usr/bin/python3
"""Latency of `dsm status`, `dsm verify --fast` and the hooks on a repository
with N datasets (default 10,000) added over C commits (default 50), with a
branch or tag at every fifth commit and a remote-tracking ref, as issue #13
asks ("status, verify --fast and the hook keep their floors at 10,000
datasets with 50 commits of history").

Scenarios:
  - at the tip: the working manifest lists every payload on disk;
  - after `git checkout` of the middle commit: half the payloads on disk are
    versions from other refs (dsm reads the manifests every ref holds);
  - `dsm hook pre-push` for the tip, against a directory remote that holds
    everything: (a) a new branch no remote-tracking ref has (all 50 commits
    walked), (b) one new commit on top of the remote-tracking ref.

The repository is fabricated as in bench/hook_latency.py (as `dsm add` would
leave it, minus the statistics in the sidecars).
Usage: bench/branches_scale.py [--datasets N] [--commits C] [--runs R] [--dsm PATH] [--keep]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hook_latency import dataset, sh  # noqa: E402


def timed(cmd, cwd, env, runs, input=None, ok=(0,)):
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, input=input)
        wall.append((time.perf_counter() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if p.returncode not in ok:
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=10000)
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--dsm", default=os.path.join(os.path.dirname(__file__), "..", "build", "dsm"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    dsm = os.path.abspath(a.dsm)
    tmp = tempfile.mkdtemp(prefix="dsm-branches-bench-")
    env = dict(os.environ, HOME=tmp, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x",
               PATH=os.path.dirname(dsm) + os.pathsep + os.environ.get("PATH", ""))
    root = os.path.join(tmp, "repo")
    os.makedirs(root)
    sh("git", "init", "-q", "-b", "main", root, cwd=tmp, env=env)
    sh(dsm, "init", cwd=root, env=env)
    store = os.path.join(tmp, "store")
    os.makedirs(store)
    sh(dsm, "remote", "add", "team", store, "--default", cwd=root, env=env)
    data = os.path.join(root, "data")
    t = time.perf_counter()
    lines = []
    per = a.datasets // a.commits
    tips = []
    for c in range(a.commits):
        lines += [dataset(root, data, f"ds{i:05d}", np.arange(16, dtype="<f8") + i)
                  for i in range(c * per, (c + 1) * per)]
        with open(os.path.join(data, "manifest-sha256.txt"), "w") as f:
            f.writelines(sorted(lines, key=lambda line: line.split("  ", 1)[1]))
        sh("git", "add", "-A", cwd=root, env=env)
        sh("git", "commit", "-q", "--no-verify", "-m", f"datasets {c}", cwd=root, env=env)
        tip = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, env=env, capture_output=True,
                             text=True).stdout.strip()
        tips.append(tip)
        if c % 5 == 4:
            sh("git", "branch", f"b{c}", cwd=root, env=env)
            sh("git", "tag", f"t{c}", cwd=root, env=env)
    # Everything on the remote (one dsm push), nothing remote-tracking yet.
    sh(dsm, "push", cwd=root, env=env)
    print(f"repository: {a.datasets} datasets over {a.commits} commits, {len(tips) // 5} branches and tags "
          f"(built in {time.perf_counter() - t:.1f} s) at {root}")

    rows = []
    # Warm the stat cache. The fabricated sidecars lack the header facts
    # `dsm add` writes, so verify reports them (exit 1): its time is still
    # that of the check.
    subprocess.run([dsm, "verify", "--fast"], cwd=root, env=env, capture_output=True)
    rows.append(("status, at the tip",) + timed([dsm, "status"], root, env, a.runs))
    rows.append(("verify --fast, at the tip",) + timed([dsm, "verify", "--fast"], root, env, a.runs, ok=(0, 1)))
    rows.append(("hook pre-commit, nothing staged",) + timed([dsm, "hook", "pre-commit"], root, env, a.runs))
    zero = "0" * 40
    new_branch = f"refs/heads/main {tips[-1]} refs/heads/main {zero}\n"
    rows.append(("hook pre-push, new branch: every commit walked",) +
                timed([dsm, "hook", "pre-push", "origin", "url"], root, env, a.runs, input=new_branch))
    sh("git", "update-ref", "refs/remotes/origin/main", tips[-2], cwd=root, env=env)
    one_new = f"refs/heads/main {tips[-1]} refs/heads/main {tips[-2]}\n"
    rows.append(("hook pre-push, one new commit",) +
                timed([dsm, "hook", "pre-push", "origin", "url"], root, env, a.runs, input=one_new))
    sh("git", "checkout", "-q", tips[a.commits // 2], cwd=root, env=env)
    rows.append(("status, middle commit checked out (half from other refs)",) +
                timed([dsm, "status"], root, env, a.runs))
    rows.append(("verify --fast, middle commit checked out",) +
                timed([dsm, "verify", "--fast"], root, env, a.runs, ok=(0, 1)))
    print(f"{'scenario':62} {'wall median':>12} {'wall min':>9} {'cpu median':>11}  (ms)")
    for name, med, lo, cpu in rows:
        print(f"{name:62} {med:12.1f} {lo:9.1f} {cpu:11.1f}")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
