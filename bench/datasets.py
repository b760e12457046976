#!/usr/bin/python3
"""A dsm repository of N small datasets, written directly (seconds for 100,000).

`dsm add` of 100,000 files takes minutes; the growth table of bench.py
needs repositories of 10,000, 40,000 and 100,000 datasets, so this writes
what `dsm add` would have written: one real dataset is added by dsm (its
payload and sidecar are the template), then each copy gets its own
directory, payload (same bytes, own inode), sidecar (its own name, file and
source) and manifest line. The result is committed (sidecars and manifest,
as a user would) and checked once with a full `dsm verify`, which fills the
stat cache as in a repository in daily use.

    bench/datasets.py REPO COUNT DSM_BIN
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np


def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


def generate(repo, count, dsm_bin, env=None, verify=True, commit=True):
    """Creates (replaces) the git repository `repo` holding `count` datasets
    named d000000, d000001, ... of one 1 KiB float64 .npy each. The first
    commit holds what `dsm init` wrote; the datasets are committed on top,
    or only staged (commit=False)."""
    subprocess.run(["rm", "-rf", repo])   # faster than shutil.rmtree on 100,000 directories
    os.makedirs(repo)
    run(["git", "init", "-q", repo], cwd=repo, env=env)
    run([dsm_bin, "init"], cwd=repo, env=env)
    run(["git", "add", "-A"], cwd=repo, env=env)
    run(["git", "commit", "-q", "--no-verify", "-m", "dsm init"], cwd=repo, env=env)
    # The template: added by dsm itself, so its sidecar is what dsm writes.
    src = os.path.join(repo, "template.npy")
    np.save(src, np.linspace(0.0, 1.0, 112))   # 1,024 bytes with the header
    run([dsm_bin, "add", src, "--name", "template"], cwd=repo, env=env)
    os.unlink(src)
    data = os.path.join(repo, "data")
    tdir = os.path.join(data, "template")
    (payload_name,) = [f for f in os.listdir(tdir) if f.endswith(".npy")]
    with open(os.path.join(tdir, payload_name), "rb") as f:
        payload = f.read()
    with open(os.path.join(tdir, payload_name + ".yaml")) as f:
        sidecar = f.read()
    with open(os.path.join(data, "manifest-sha256.txt")) as f:
        sha = f.read().split()[0]
    suffix = payload_name[len("template"):]          # _YYYYMMDD_001.npy
    shutil.rmtree(tdir)
    width = max(6, len(str(count - 1)))
    lines = []
    facts = []   # what `dsm add` records for the hook (.dsm/local/sidecar-facts)
    for i in range(count):
        name = f"d{i:0{width}d}"
        fname = name + suffix
        d = os.path.join(data, name)
        os.mkdir(d)
        p = os.path.join(d, fname)
        with open(p, "wb") as f:
            f.write(payload)
        os.chmod(p, 0o444)
        text = sidecar.replace('name: "template"', f'name: "{name}"', 1)
        text = re.sub(r'^file: ".*"$', f'file: "{fname}"', text, count=1, flags=re.M)
        text = re.sub(r'^source: ".*"$', f'source: "{name}.npy"', text, count=1, flags=re.M)
        with open(p + ".yaml", "w") as f:
            f.write(text)
        lines.append(f"{sha}  {name}/{fname}\n")
        raw = text.encode()
        blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()   # git hash-object
        facts.append(f"{blob} {sha} {len(payload)} {fname}\n")
    with open(os.path.join(data, "manifest-sha256.txt"), "w") as f:
        f.writelines(sorted(lines))
    with open(os.path.join(repo, ".dsm", "local", "sidecar-facts"), "w") as f:
        f.write("dsm-sidecar-facts 1\n")
        f.writelines(sorted(facts))
    run(["git", "add", "-A"], cwd=repo, env=env)
    if commit:
        run(["git", "commit", "-q", "--no-verify", "-m", f"{count} datasets"], cwd=repo, env=env)
    # Files written in the same second as a stat-cache (or index) entry are
    # "racily clean" and re-hashed; a repository in daily use is older.
    time.sleep(2)
    if verify:
        run([dsm_bin, "verify"], cwd=repo, env=env)
    run(["git", "status", "--porcelain"], cwd=repo, env=env)   # refreshes git's index
    return repo


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    t = time.monotonic()
    generate(os.path.abspath(sys.argv[1]), int(sys.argv[2]), os.path.abspath(sys.argv[3]))
    print(f"{sys.argv[2]} datasets in {time.monotonic() - t:.1f} s", file=sys.stderr)
