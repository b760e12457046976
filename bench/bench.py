#!/usr/bin/python3
"""The dsm benchmark: dsm and its peers on the same files, in the same run.

Run it through bench/run.sh, which installs the peers and builds dsm:

    bench/run.sh            full run (about 15 minutes on 2 cores); data under
                            bench/out/, results in docs/benchmarks.md
    bench/run.sh --smoke    tiny data, seconds, results in a temporary file;
                            ctest runs it (label `bench`) so this script
                            cannot rot

Method: every command runs under `/usr/bin/time -v` (peak RSS) and is timed
with a monotonic clock around the process (wall time, so fork+exec of about
a millisecond is included). The page cache is warm: the data is read once
before timing and each workload has a warm-up run. Figures are medians of
several runs. Floors come from issue 5 (and 7, 8); they are measured and
recorded here, never asserted by a timed test.

A workload whose dsm command does not exist yet is reported as "not
available" (the peers still run, so their figures are real). A dsm command
that exists but fails is an ERROR row, and the script exits 1 at the end.
"""
import argparse
import glob
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
GB = 1e9

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
TIME = "/usr/bin/time"
PYTHON = "/usr/bin/python3"
NP_WORKFLOW = os.path.join(BENCH_DIR, "np_workflow.py")

# Sizes of each workload. The smoke run keeps every code path and shrinks data.
FULL = {
    "many_count": 256, "many_bytes": 4 * MiB,      # verify 1 GiB in 256 files
    "one_bytes": 1 * GiB,                          # verify / add one big file
    "huge_bytes": 4 * GiB,                         # verify RSS on a 4 GiB file
    "small_count": 1000, "small_bytes": 4 * KiB,   # add of many small files
    "tiny_count": 10000, "tiny_bytes": 1 * KiB,    # 10,000 datasets
    "compress_bytes": 256 * MiB,                   # compression
    "runs": 5, "heavy_runs": 3, "openssl_seconds": 3,
}
SMOKE = {
    "many_count": 8, "many_bytes": 64 * KiB,
    "one_bytes": 1 * MiB,
    "huge_bytes": 2 * MiB,
    "small_count": 20, "small_bytes": 4 * KiB,
    "tiny_count": 50, "tiny_bytes": 1 * KiB,
    "compress_bytes": 1 * MiB,
    "runs": 1, "heavy_runs": 1, "openssl_seconds": 1,
}


class BenchError(Exception):
    """A command the benchmark depends on failed: an ERROR row."""


@dataclass
class Measure:
    walls: list            # seconds, one per timed run
    rss: int | None        # peak RSS in bytes over the timed runs (None: no /usr/bin/time)

    @property
    def wall(self):
        return statistics.median(self.walls)


@dataclass
class Row:
    workload: str
    dsm: str
    peer: str
    ratio: str
    floor: str
    result: str            # pass, MISS, info, not available, ERROR


@dataclass
class Limits:
    openssl_rate: float = 0.0     # bytes/s, one core
    cat_rate: float = 0.0         # bytes/s, cat of cached data to /dev/null
    facts: dict = field(default_factory=dict)


# --- formatting ----------------------------------------------------------

def fmt_time(s):
    if s < 1:
        return f"{s * 1000:.1f} ms" if s < 0.1 else f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_rate(bytes_per_s):
    if bytes_per_s >= GB:
        return f"{bytes_per_s / GB:.2f} GB/s"
    return f"{bytes_per_s / 1e6:.0f} MB/s"


def fmt_bytes(n):
    if n >= GiB:
        return f"{n / GiB:.2f} GiB"
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    return f"{n / KiB:.0f} KiB"


def fmt_rss(rss):
    return "RSS n/a" if rss is None else f"{rss / MiB:.1f} MiB RSS"


def cell(m, nbytes=None, files=None):
    parts = [fmt_time(m.wall)]
    if nbytes:
        parts.append(fmt_rate(nbytes / m.wall))
    if files:
        parts.append(f"{m.wall / files * 1e6:.0f} µs/file")
    parts.append(fmt_rss(m.rss))
    return " · ".join(parts)


def faster(peer_s, dsm_s):
    """peer/dsm as 'N× faster' (dsm quicker) or 'N× slower'."""
    r = peer_s / dsm_s
    return f"{r:.1f}× faster" if r >= 1 else f"{1 / r:.1f}× slower"


def verdict(ok):
    return "pass" if ok else "**MISS**"


# --- the benchmark ---------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.smoke = args.smoke
        self.scale = SMOKE if args.smoke else FULL
        self.dsm_bin = os.path.abspath(args.dsm)
        self.rows = []
        self.errors = []
        self.notes = []
        self.dsm_rss = []           # (workload, rss) of every timed dsm run
        self.limits = Limits()
        self.started = time.monotonic()
        if args.work:
            self.work = os.path.abspath(args.work)
            shutil.rmtree(self.work, ignore_errors=True)
            os.makedirs(self.work)
        else:
            self.work = tempfile.mkdtemp(prefix="dsm-bench-")
        self.home = os.path.join(self.work, "home")
        os.makedirs(self.home, exist_ok=True)
        with open(os.path.join(self.home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = dsm bench\n\temail = bench@example.com\n"
                    "[init]\n\tdefaultBranch = main\n"
                    "[annex]\n\tautocommit = false\n")
        self.env = dict(os.environ)
        self.env.update({
            "HOME": self.home, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C.UTF-8",
            "PATH": os.path.dirname(self.dsm_bin) + os.pathsep + os.environ.get("PATH", ""),
        })
        self.have_time = os.access(TIME, os.X_OK)
        if not self.have_time:
            self.note(f"{TIME} is missing: peak RSS not measured (install Debian's `time`)")
        self.timefile = os.path.join(self.work, "time-v.txt")

    # --- logging and bookkeeping ---
    def log(self, msg):
        t = time.monotonic() - self.started
        sys.stderr.write(f"[bench {t:6.1f}s] {msg}\n")
        sys.stderr.flush()

    def note(self, msg):
        if msg not in self.notes:
            self.notes.append(msg)

    def add_row(self, *cells):
        row = Row(*cells)
        self.rows.append(row)
        self.log(f"  {row.workload} | {row.dsm} | {row.peer} | {row.ratio} | {row.result}")

    def error_row(self, workload, err):
        self.errors.append(f"{workload}: {err}")
        self.add_row(workload, "ERROR", "—", "—", "—", "ERROR")

    # --- running commands ---
    def run(self, cmd, cwd=None, check=True, capture=True):
        """Untimed helper command (setup); raises BenchError when check fails."""
        p = subprocess.run(cmd, cwd=cwd or self.work, env=self.env, text=True,
                           stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if check and p.returncode != 0:
            raise BenchError(f"`{shlex.join(cmd)}` exited {p.returncode}: {p.stderr.strip()[-500:]}")
        return p

    def measure(self, cmd, cwd=None, runs=None, warmup=1, setup=None, expect=(0,), stdin=None):
        """Median wall time and peak RSS of `cmd` over `runs` timed runs."""
        runs = runs or self.scale["runs"]
        walls = []
        rss = None
        for i in range(warmup + runs):
            if setup:
                setup()
            full = [TIME, "-v", "-o", self.timefile, *cmd] if self.have_time else list(cmd)
            stdin_f = open(stdin, "rb") if stdin else subprocess.DEVNULL
            try:
                t0 = time.perf_counter()
                p = subprocess.run(full, cwd=cwd or self.work, env=self.env, stdin=stdin_f,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                wall = time.perf_counter() - t0
            finally:
                if stdin:
                    stdin_f.close()
            if p.returncode not in expect:
                err = p.stderr.decode(errors="replace").strip()[-800:]
                raise BenchError(f"`{shlex.join(cmd)}` exited {p.returncode} (expected {expect}): {err}")
            if i < warmup:
                continue
            walls.append(wall)
            if self.have_time:
                with open(self.timefile) as f:
                    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
                if m:
                    rss = max(rss or 0, int(m.group(1)) * KiB)
        return Measure(walls, rss)

    def measure_dsm(self, workload, args, **kw):
        m = self.measure([self.dsm_bin, *args], **kw)
        self.dsm_rss.append((workload, m.rss))
        return m

    def dsm_has(self, *sub, flag=None):
        """True when `dsm SUB... --help` works (and mentions flag)."""
        p = subprocess.run([self.dsm_bin, *sub, "--help"], env=self.env, text=True,
                           capture_output=True, cwd=self.work)
        # CLI11 answers `dsm UNKNOWN --help` with the top-level help and exit
        # 0, so the usage line must name the subcommand.
        usage = re.search(r"^Usage: (.*)$", p.stdout, re.M)
        if p.returncode != 0 or not usage or not re.search(r"\b" + re.escape(" ".join(sub)) + r"\b", usage.group(1)):
            return False
        return flag is None or flag in p.stdout

    def tool(self, name):
        return shutil.which(name, path=self.env["PATH"]) is not None

    def warm(self, paths):
        """Reads files once so the page cache holds them (the 'warm' in warm cache)."""
        for p in paths:
            with open(p, "rb") as f:
                while f.read(8 * MiB):
                    pass

    # --- data ---
    def write_npy(self, path, nbytes, seed):
        """A float64 .npy of exactly nbytes (header included), streamed in chunks."""
        header = 128   # NumPy's v1.0 header for a 1-D '<f8' array pads to 128 bytes
        count = (nbytes - header) // 8
        rng = np.random.default_rng(seed)
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (count,)})
            left = count
            while left:
                n = min(left, 16 * MiB // 8)
                f.write(rng.random(n).tobytes())
                left -= n
        return path

    def make_set(self, name, count, nbytes, prefix):
        d = os.path.join(self.work, name)
        os.makedirs(d, exist_ok=True)
        width = len(str(count - 1))
        return [self.write_npy(os.path.join(d, f"{prefix}{i:0{width}d}.npy"), nbytes, seed=zlib.crc32(f"{name}/{i}".encode()))
                for i in range(count)]

    def write_manifest(self, files, base):
        """A sha256sum manifest of files, for the peers when dsm has none yet."""
        import hashlib
        path = os.path.join(base, "manifest-sha256.txt")
        with open(path, "w") as out:
            for p in sorted(files):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    while chunk := f.read(MiB):
                        h.update(chunk)
                out.write(f"{h.hexdigest()}  {os.path.relpath(p, base)}\n")
        return path

    # --- repositories ---
    def git_repo(self, name):
        path = os.path.join(self.work, name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        self.run(["git", "init", "-q", path])
        return path

    def dsm_repo(self, name):
        path = self.git_repo(name)
        self.run([self.dsm_bin, "init"], cwd=path)
        return path

    def dsm_add(self, repo, files):
        self.run([self.dsm_bin, "add", *files], cwd=repo)
        manifest = os.path.join(repo, "data", "manifest-sha256.txt")
        if not os.path.exists(manifest):
            raise BenchError(f"dsm add wrote no {manifest}")
        return manifest

    def annex_repo(self, name, files):
        path = self.git_repo(name)
        self.run(["git", "annex", "init", "-q", "bench"], cwd=path)
        for f in files:
            shutil.copy(f, path)
        return path

    # --- machine limits ---
    def machine(self):
        self.log("machine limits")
        facts = self.limits.facts
        facts["nproc"] = str(os.cpu_count())
        model = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        facts["CPU model"] = model
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
        facts["SHA extensions / AVX2 / AVX-512"] = " / ".join(
            "yes" if f" {x}" in flags else "no" for x in ("sha_ni", "avx2", "avx512f"))
        facts["kernel"] = platform.release()
        fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", self.work], capture_output=True, text=True)
        facts["filesystem of the data"] = fs.stdout.strip() or "unknown"
        with open("/proc/meminfo") as f:
            facts["memory"] = fmt_bytes(int(f.readline().split()[1]) * KiB)
        facts["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        p = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes", str(MiB),
                            "-seconds", str(self.scale["openssl_seconds"])],
                           capture_output=True, text=True)
        m = re.search(r"^sha256\s+([\d.]+)k", p.stdout, re.M)
        if not m:
            raise BenchError(f"cannot parse `openssl speed` output: {p.stdout[-300:]} {p.stderr[-300:]}")
        self.limits.openssl_rate = float(m.group(1)) * 1000
        facts["`openssl speed -evp sha256 -bytes 1048576`, one core"] = fmt_rate(self.limits.openssl_rate)
        facts["OpenSSL"] = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
        facts["dsm"] = self.dsm_version()

    def dsm_version(self):
        head = subprocess.run(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return f"{head or 'unknown'}{' (modified)' if dirty else ''}, `{os.path.relpath(self.dsm_bin, SOURCE_DIR)}`"

    def cat_rate(self, files, nbytes):
        m = self.measure(["cat", *files])
        return nbytes / m.wall, m

    def peer_versions(self):
        v = {}
        for name, cmd in [("sha256sum", ["sha256sum", "--version"]), ("git-annex", ["git", "annex", "version", "--raw"]),
                          ("pigz", ["pigz", "--version"]), ("rclone", ["rclone", "version"]),
                          ("git", ["git", "--version"])]:
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, env=self.env)
                out = (p.stdout or p.stderr).strip().splitlines()
                if p.returncode == 0 and out:
                    v[name] = out[0]
            except FileNotFoundError:
                pass
        v["NumPy"] = np.__version__
        v["Python"] = platform.python_version()
        return v

    # --- workloads ---
    def workload(self, fn):
        """Runs one workload; a failure becomes an ERROR row, not a crash."""
        try:
            fn()
        except BenchError as e:
            self.error_row(fn.__name__.removeprefix("w_").replace("_", " "), str(e))

    def w_verify_many(self):
        s = self.scale
        count, size = s["many_count"], s["many_bytes"]
        total = count * size
        label = f"`dsm verify` of {fmt_bytes(total)} in {count} × {fmt_bytes(size)} .npy, 2 jobs"
        self.log(label)
        files = self.make_set("src-many", count, size, "m")
        self.warm(files)
        self.limits.facts[f"`cat` of {count} × {fmt_bytes(size)} to /dev/null"] = fmt_rate(self.cat_rate(files, total)[0])
        dsm = None
        manifest = None
        if self.dsm_has("verify") and self.dsm_has("add"):
            try:
                repo = self.dsm_repo("repo-many")
                manifest = self.dsm_add(repo, files)
                args = ["verify", "--jobs", "2"] if self.dsm_has("verify", flag="--jobs") else ["verify"]
                dsm = self.measure_dsm(label, args, cwd=repo)
            except BenchError as e:
                self.error_row(label, str(e))
                manifest = None
        if manifest is None:
            manifest = self.write_manifest(files, os.path.dirname(files[0]))
        mdir = os.path.dirname(manifest)
        sha = self.measure(["sha256sum", "--strict", "-c", os.path.basename(manifest)], cwd=mdir,
                           runs=s["heavy_runs"])
        peers = [("`sha256sum -c`", sha, 9.0)]
        if self.tool("git-annex"):
            annex = self.annex_repo("annex-many", files)
            self.run(["git", "annex", "add", "--quiet", "."], cwd=annex)
            self.run(["git", "commit", "-q", "-m", "add"], cwd=annex)
            fsck = self.measure(["git", "annex", "fsck", "--quiet"], cwd=annex, runs=s["heavy_runs"])
            peers.append(("`git annex fsck`", fsck, 9.0))
        else:
            self.note("git-annex is not installed: its rows are skipped (the full run installs it)")
        npw = self.measure([PYTHON, NP_WORKFLOW, "verify", manifest], runs=s["heavy_runs"])
        for name, m, floor in peers:
            peer_cell = f"{name}: {cell(m, total)}"
            if dsm is None:
                self.add_row(label, "not available", peer_cell, "—", f"≥ {floor:.0f}× faster", "not available")
            else:
                r = m.wall / dsm.wall
                self.add_row(label, cell(dsm, total), peer_cell, faster(m.wall, dsm.wall),
                             f"≥ {floor:.0f}× faster", verdict(r >= floor))
        limit = 2 * self.limits.openssl_rate
        limit_cell = f"2 × `openssl speed`: {fmt_rate(limit)}"
        if dsm is None:
            self.add_row(label, "not available", limit_cell, "—", "≥ 85% of 2 × openssl", "not available")
        else:
            frac = total / dsm.wall / limit
            self.add_row(label, cell(dsm, total), limit_cell, f"{frac:.0%}", "≥ 85% of 2 × openssl",
                         verdict(frac >= 0.85))
        self.add_row(label, cell(dsm, total) if dsm else "not available",
                     f"`np.load` + `hashlib` loop: {cell(npw, total)}",
                     faster(npw.wall, dsm.wall) if dsm else "—", "(today's workflow)", "info")

    def w_verify_one(self):
        s = self.scale
        size = s["one_bytes"]
        label = f"`dsm verify` of one {fmt_bytes(size)} .npy"
        self.log(label)
        self.one = self.write_npy(os.path.join(self.work, "one.npy"), size, seed=1)
        self.warm([self.one])
        rate, _ = self.cat_rate([self.one], size)
        self.limits.cat_rate = rate
        self.limits.facts[f"`cat` of one {fmt_bytes(size)} file to /dev/null"] = fmt_rate(rate)
        dsm = None
        manifest = None
        if self.dsm_has("verify") and self.dsm_has("add"):
            try:
                repo = self.dsm_repo("repo-one")
                manifest = self.dsm_add(repo, [self.one])
                dsm = self.measure_dsm(label, ["verify"], cwd=repo)
            except BenchError as e:
                self.error_row(label, str(e))
                manifest = None
        if manifest is None:
            d = os.path.join(self.work, "src-one")
            os.makedirs(d, exist_ok=True)
            shutil.copy(self.one, d)
            manifest = self.write_manifest([os.path.join(d, "one.npy")], d)
        limit = self.limits.openssl_rate
        limit_cell = f"`openssl speed`, one core: {fmt_rate(limit)}"
        if dsm is None:
            self.add_row(label, "not available", limit_cell, "—", "≥ 85% of openssl", "not available")
        else:
            frac = size / dsm.wall / limit
            self.add_row(label, cell(dsm, size), limit_cell, f"{frac:.0%}", "≥ 85% of openssl", verdict(frac >= 0.85))
        sha = self.measure(["sha256sum", "--strict", "-c", os.path.basename(manifest)],
                           cwd=os.path.dirname(manifest), runs=s["heavy_runs"])
        self.add_row(label, cell(dsm, size) if dsm else "not available", f"`sha256sum -c`: {cell(sha, size)}",
                     faster(sha.wall, dsm.wall) if dsm else "—", "—", "info")
        npw = self.measure([PYTHON, NP_WORKFLOW, "verify", manifest], runs=s["heavy_runs"])
        self.add_row(label, cell(dsm, size) if dsm else "not available",
                     f"`np.load` + `hashlib` loop: {cell(npw, size)}",
                     faster(npw.wall, dsm.wall) if dsm else "—", "(today's workflow)", "info")

    def w_add_one(self):
        s = self.scale
        size = s["one_bytes"]
        label = f"`dsm add` of one {fmt_bytes(size)} .npy (copy)"
        self.log(label)
        src = self.one
        dst = os.path.join(self.work, "copy-of-one.npy")

        def clean_copy():
            if os.path.exists(dst):
                os.unlink(dst)
            os.sync()   # earlier writes must not be flushed inside the next timed run

        peer = self.measure(["sh", "-c", 'cp "$1" "$2" && openssl dgst -sha256 "$2"', "sh", src, dst],
                            setup=clean_copy, runs=s["heavy_runs"])
        peer_sync = self.measure(["sh", "-c", 'cp "$1" "$2" && openssl dgst -sha256 "$2" && sync "$2"', "sh", src, dst],
                                 setup=clean_copy, runs=s["heavy_runs"])
        clean_copy()
        dsm = None
        if self.dsm_has("add"):
            try:
                def fresh():
                    self.dsm_repo("repo-add-one")
                    os.sync()
                dsm = self.measure_dsm(label, ["add", src], cwd=os.path.join(self.work, "repo-add-one"),
                                       setup=fresh, runs=s["heavy_runs"])
                shutil.rmtree(os.path.join(self.work, "repo-add-one"), ignore_errors=True)
            except BenchError as e:
                self.error_row(label, str(e))
        for name, m, floor, result in [("`cp` + `openssl dgst -sha256` of the copy", peer, "no slower", None),
                                       ("the same + `sync` of the copy (dsm fsyncs)", peer_sync, "—", "info")]:
            peer_cell = f"{name}: {cell(m, size)}"
            if dsm is None:
                self.add_row(label, "not available", peer_cell, "—", floor, result or "not available")
            else:
                self.add_row(label, cell(dsm, size), peer_cell, faster(m.wall, dsm.wall), floor,
                             result or verdict(dsm.wall <= m.wall))

    def w_add_small(self):
        s = self.scale
        count, size = s["small_count"], s["small_bytes"]
        label = f"`dsm add` of {count:,} small .npy ({fmt_bytes(size)}) in one command"
        self.log(label)
        files = self.make_set("src-small", count, size, "s")
        self.warm(files)
        annex = None
        if self.tool("git-annex"):
            repo = os.path.join(self.work, "annex-small")

            def fresh_annex():
                self.annex_repo("annex-small", files)
                os.sync()
            annex = self.measure(["git", "annex", "add", "--quiet", "."], cwd=repo, setup=fresh_annex,
                                 runs=s["heavy_runs"], warmup=0)
        else:
            self.note("git-annex is not installed: its rows are skipped (the full run installs it)")
        dsm = None
        if self.dsm_has("add"):
            try:
                repo = os.path.join(self.work, "repo-small")

                def fresh():
                    self.dsm_repo("repo-small")
                    os.sync()
                dsm = self.measure_dsm(label, ["add", *files], cwd=repo, setup=fresh, runs=s["heavy_runs"])
            except BenchError as e:
                self.error_row(label, str(e))
        if annex is None:
            self.add_row(label, cell(dsm, files=count) if dsm else "not available", "`git annex add`: not installed",
                         "—", "≤ 1/10 of git annex", "info")
        elif dsm is None:
            self.add_row(label, "not available", f"`git annex add`: {cell(annex, files=count)}", "—",
                         "≤ 1/10 of git annex", "not available")
        else:
            self.add_row(label, cell(dsm, files=count), f"`git annex add`: {cell(annex, files=count)}",
                         faster(annex.wall, dsm.wall), "≤ 1/10 of git annex (≥ 10× faster)",
                         verdict(annex.wall / dsm.wall >= 10))

    def w_many_datasets(self):
        s = self.scale
        count, size = s["tiny_count"], s["tiny_bytes"]
        n = f"{count:,}"
        self.log(f"{n} datasets of {fmt_bytes(size)}")
        files = self.make_set("src-tiny", count, size, "t")
        self.warm(files)
        add_label = f"`dsm add` of {n} × {fmt_bytes(size)} .npy in one command"
        verify_label = f"`dsm verify` of {n} datasets of {fmt_bytes(size)}"
        repo = None
        if self.dsm_has("add"):
            try:
                repo = self.dsm_repo("repo-tiny")
                m = self.measure_dsm(add_label, ["add", *files], cwd=repo, runs=1, warmup=0)
                self.add_row(add_label, cell(m, files=count), "—", "—", "(setup of the rows below)", "info")
                self.run(["git", "add", "-A"], cwd=repo)
                self.run(["git", "commit", "-q", "--no-verify", "-m", "datasets"], cwd=repo)
                # Files written in the same second as a cache entry are "racily
                # clean" and must be re-hashed; real repositories are older.
                time.sleep(2)
            except BenchError as e:
                self.error_row(add_label, str(e))
                repo = None
        if repo:
            manifest = os.path.join(repo, "data", "manifest-sha256.txt")
        else:
            manifest = self.write_manifest(files, os.path.dirname(files[0]))
        sha = self.measure(["sha256sum", "--strict", "-c", os.path.basename(manifest)],
                           cwd=os.path.dirname(manifest))
        npw = self.measure([PYTHON, NP_WORKFLOW, "verify", manifest], runs=s["heavy_runs"])
        dsm = None
        if repo and self.dsm_has("verify"):
            try:
                dsm = self.measure_dsm(verify_label, ["verify"], cwd=repo)
            except BenchError as e:
                self.error_row(verify_label, str(e))
        peer_cell = f"`sha256sum -c`: {cell(sha, files=count)}"
        if dsm is None:
            self.add_row(verify_label, "not available", peer_cell, "—", "≤ 1 s and no slower", "not available")
        else:
            self.add_row(verify_label, cell(dsm, files=count), peer_cell, faster(sha.wall, dsm.wall),
                         "≤ 1 s and no slower", verdict(dsm.wall <= 1.0 and dsm.wall <= sha.wall))
        self.add_row(verify_label, cell(dsm, files=count) if dsm else "not available",
                     f"`np.load` + `hashlib` loop: {cell(npw, files=count)}",
                     faster(npw.wall, dsm.wall) if dsm else "—", "(today's workflow)", "info")

        for label, sub, args, flag, floor in [
                (f"`dsm status`, {n} datasets, nothing changed", ("status",), ["status"], None, 0.3),
                (f"`dsm verify --fast`, {n} datasets, nothing changed", ("verify",), ["verify", "--fast"], "--fast", 0.3),
                (f"`dsm hook pre-commit`, {n} datasets, nothing relevant staged", ("hook", "pre-commit"),
                 ["hook", "pre-commit"], None, 0.1)]:
            if not repo or not self.dsm_has(*sub, flag=flag):
                self.add_row(label, "not available", "—", "—", f"≤ {fmt_time(floor)}", "not available")
                continue
            try:
                if sub[0] == "hook":
                    # Something staged that is not data: the common commit.
                    with open(os.path.join(repo, "NOTES.txt"), "a") as f:
                        f.write("a note\n")
                    self.run(["git", "add", "NOTES.txt"], cwd=repo)
                m = self.measure_dsm(label, args, cwd=repo)
                self.add_row(label, cell(m, files=count), "—", "—", f"≤ {fmt_time(floor)}", verdict(m.wall <= floor))
            except BenchError as e:
                self.error_row(label, str(e))
        self.tiny_repo = repo

    def w_huge(self):
        s = self.scale
        size = s["huge_bytes"]
        label = f"peak RSS of `dsm verify` of one {fmt_bytes(size)} .npy"
        self.log(label)
        if not (self.dsm_has("add") and self.dsm_has("verify")):
            self.add_row(label, "not available", "—", "—", "≤ 64 MiB", "not available")
            return
        src = self.write_npy(os.path.join(self.work, "huge.npy"), size, seed=4)
        repo = self.dsm_repo("repo-huge")
        try:
            add = self.measure_dsm(f"`dsm add` of one {fmt_bytes(size)} .npy", ["add", src], cwd=repo,
                                   runs=1, warmup=0)
            os.unlink(src)   # frees the page cache for the stored copy
            m = self.measure_dsm(label, ["verify"], cwd=repo, runs=1, warmup=1)
        finally:
            if os.path.exists(src):
                os.unlink(src)
        self.add_row(f"`dsm add` of one {fmt_bytes(size)} .npy", cell(add, size), "—", "—", "≤ 64 MiB RSS",
                     verdict(add.rss is not None and add.rss <= 64 * MiB))
        self.add_row(label, cell(m, size), "—", "—", "≤ 64 MiB RSS", verdict(m.rss is not None and m.rss <= 64 * MiB))
        shutil.rmtree(repo, ignore_errors=True)

    def w_compress(self):
        s = self.scale
        size = s["compress_bytes"]
        label = f"`dsm add --compress` of one {fmt_bytes(size)} .npy"
        self.log(label)
        scripts = sorted(p for p in glob.glob(os.path.join(BENCH_DIR, "compress*"))
                         if os.access(p, os.X_OK) and os.path.isfile(p))
        if scripts:
            self.run_compress_script(scripts[0], label)
            return
        src = self.write_npy(os.path.join(self.work, "compress.npy"), size, seed=5)
        self.warm([src])
        out = os.path.join(self.work, "savez.npz")
        savez = self.measure([PYTHON, NP_WORKFLOW, "savez", src, out], runs=s["heavy_runs"], warmup=0)
        savez_size = os.path.getsize(out)
        pigz = None
        if self.tool("pigz"):
            pigz = self.measure(["sh", "-c", 'pigz -6 -c "$1" > "$2"', "sh", src, out + ".gz"],
                                runs=s["heavy_runs"], warmup=0)
        else:
            self.note("pigz is not installed: its row is skipped (the full run installs it)")
        dsm = None
        if self.dsm_has("add", flag="--compress"):
            try:
                repo = os.path.join(self.work, "repo-compress")
                dsm = self.measure_dsm(label, ["add", "--compress", src], cwd=repo,
                                       setup=lambda: (self.dsm_repo("repo-compress"), os.sync()),
                                       runs=s["heavy_runs"])
                stored = glob.glob(os.path.join(repo, "data", "**", "*.npz"), recursive=True)
                if len(stored) != 1:
                    raise BenchError(f"expected one stored .npz after `dsm add --compress`, found {stored}")
                dsm_size = os.path.getsize(stored[0])
            except BenchError as e:
                self.error_row(label, str(e))
                dsm = None
        savez_cell = f"`np.savez_compressed`: {cell(savez, size)}, {savez_size / size:.1%} of raw"
        if dsm is None:
            self.add_row(label, "not available", savez_cell, "—", "≥ 4× faster, ≤ +2% size", "not available")
        else:
            ok = savez.wall / dsm.wall >= 4 and dsm_size <= savez_size * 1.02
            self.add_row(label, f"{cell(dsm, size)}, {dsm_size / size:.1%} of raw", savez_cell,
                         f"{faster(savez.wall, dsm.wall)}, size {dsm_size / savez_size - 1:+.1%}",
                         "≥ 4× faster, ≤ +2% size", verdict(ok))
        if pigz:
            pigz_cell = f"`pigz -6` (raw bytes): {cell(pigz, size)}"
            if dsm is None:
                self.add_row(label, "not available", pigz_cell, "—", "≥ 1.5× faster", "not available")
            else:
                self.add_row(label, cell(dsm, size), pigz_cell, faster(pigz.wall, dsm.wall), "≥ 1.5× faster",
                             verdict(pigz.wall / dsm.wall >= 1.5))
        for p in (src, out, out + ".gz"):
            if os.path.exists(p):
                os.unlink(p)

    def run_compress_script(self, script, label):
        """bench/compress* (from the compression work) measures itself.

        Interface: SCRIPT --dsm DSM --work DIR [--smoke]; each stdout line that
        is a JSON object with the Row fields (workload, dsm, peer, ratio, floor,
        result) becomes a table row; other lines are logged.
        """
        work = os.path.join(self.work, "compress")
        os.makedirs(work, exist_ok=True)
        cmd = [script, "--dsm", self.dsm_bin, "--work", work] + (["--smoke"] if self.smoke else [])
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        got = 0
        for line in p.stdout.splitlines():
            try:
                obj = json.loads(line)
                self.add_row(*(str(obj[k]) for k in ("workload", "dsm", "peer", "ratio", "floor", "result")))
                got += 1
            except (ValueError, KeyError, TypeError):
                self.log(f"  {os.path.basename(script)}: {line}")
        if p.returncode != 0 or got == 0:
            raise BenchError(f"`{shlex.join(cmd)}` exited {p.returncode} with {got} rows: {p.stderr.strip()[-800:]}")

    def w_remote(self):
        size_label = f"{fmt_bytes(self.scale['many_count'] * self.scale['many_bytes'])} in {self.scale['many_count']} files"
        labels = [(f"`dsm push` of {size_label} to loopback S3", "no slower than rclone"),
                  (f"`dsm pull` of {size_label} from loopback S3", "no slower than rclone"),
                  (f"no-op `dsm push`, {self.scale['tiny_count']:,} datasets", "< 1 s")]
        start = sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "s3", "start*")))
        why = None
        if not self.dsm_has("push") or not self.dsm_has("pull"):
            why = "not available"
        elif not start:
            why = "not available"
            self.note("push/pull rows need the loopback S3 server script (tests/s3/start*)")
        if why:
            for label, floor in labels:
                self.add_row(label, why, "—", "—", floor, "not available")
            return
        # The remote work (issue 8) has not landed its server script yet; this
        # branch is completed when it does.
        for label, floor in labels:
            self.add_row(label, "not available", "—", "—", floor, "not available")

    def w_rss(self):
        measured = [(w, r) for w, r in self.dsm_rss if r is not None]
        label = "peak RSS of every dsm run above"
        if not measured:
            self.add_row(label, "not available", "—", "—", "≤ 64 MiB", "not available")
            return
        worst = max(measured, key=lambda x: x[1])
        self.add_row(label, f"{fmt_rss(worst[1])} (worst: {worst[0]})", "—", "—", "≤ 64 MiB",
                     verdict(worst[1] <= 64 * MiB))

    # --- output ---
    def report(self, path):
        facts = self.limits.facts
        facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        facts["benchmark wall time"] = fmt_time(time.monotonic() - self.started)
        lines = ["# Benchmarks", ""]
        if self.smoke:
            lines += ["**Smoke run: tiny data, figures are meaningless; only the code paths count.**", ""]
        lines += [
            "Generated by `bench/run.sh` (see [bench/bench.py](../bench/bench.py) for the method):",
            "dsm and its peers on the same files in the same run, warm page cache, a warm-up run",
            f"then the median of {self.scale['runs']} runs ({self.scale['heavy_runs']} for the slow peers);",
            "wall time around the process, peak RSS from `/usr/bin/time -v`. Floors are from issues 5, 7",
            "and 8. GB/s means 10^9 bytes per second. \"not available\": the dsm command does not exist yet.",
            "",
            "## Machine limits",
            "",
            "| limit | value |",
            "| --- | --- |",
        ]
        lines += [f"| {k} | {v} |" for k, v in facts.items()]
        lines += ["", "## Results", "",
                  "| workload | dsm | peer | ratio | floor | result |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r.workload} | {r.dsm} | {r.peer} | {r.ratio} | {r.floor} | {r.result} |" for r in self.rows]
        versions = self.peer_versions()
        lines += ["", "## Peers", ""] + [f"- {k}: {v}" for k, v in versions.items()]
        if self.notes or self.errors:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
            lines += [f"- ERROR {e}" for e in self.errors]
        analysis = os.path.join(BENCH_DIR, "analysis.md")
        if not self.smoke and os.path.exists(analysis):
            with open(analysis) as f:
                lines += ["", f.read().rstrip()]
        text = "\n".join(lines) + "\n"
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsm", required=True, help="the dsm binary")
    ap.add_argument("--smoke", action="store_true", help="tiny data, seconds")
    ap.add_argument("--out", help="where to write the report (default: docs/benchmarks.md, or a temp file with --smoke)")
    ap.add_argument("--work", help="data directory, emptied first (default: a temp dir; run.sh passes bench/out/)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--only", help="comma-separated workloads to run (for profiling), e.g. verify_many,add_one")
    args = ap.parse_args()
    if not os.access(args.dsm, os.X_OK):
        sys.stderr.write(f"bench: error: no dsm binary at '{args.dsm}' (build it or set DSM_BIN)\n")
        return 2
    b = Bench(args)
    out = args.out
    if not out:
        if args.smoke:
            fd, out = tempfile.mkstemp(prefix="dsm-benchmarks-smoke-", suffix=".md")
            os.close(fd)
        else:
            out = os.path.join(SOURCE_DIR, "docs", "benchmarks.md")
    all_workloads = ["verify_many", "verify_one", "add_one", "add_small", "many_datasets", "huge", "compress", "remote"]
    chosen = args.only.split(",") if args.only else all_workloads
    try:
        b.machine()
        for name in chosen:
            if name == "add_one" and not hasattr(b, "one"):
                b.one = b.write_npy(os.path.join(b.work, "one.npy"), b.scale["one_bytes"], seed=1)
            b.workload(getattr(b, f"w_{name}"))
        b.w_rss()
        text = b.report(out)
    finally:
        if not args.keep and not b.errors:
            shutil.rmtree(b.work, ignore_errors=True)
        elif b.errors:
            sys.stderr.write(f"bench: data kept for inspection in {b.work}\n")
    print(text)
    if args.smoke and not args.out:
        os.unlink(out)   # the smoke report is for the log only
    else:
        print(f"bench: wrote {out}", file=sys.stderr)
    if b.errors:
        print(f"bench: {len(b.errors)} error(s):", *b.errors, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
