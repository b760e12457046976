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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402  (bench/datasets.py: repositories of N datasets, written directly)

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
GB = 1e9

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
TIME = "/usr/bin/time"
PYTHON = "/usr/bin/python3"
NP_WORKFLOW = os.path.join(BENCH_DIR, "np_workflow.py")
# Python's own file hashing (a 256 KiB buffer, readinto): a peer of verify.
FILE_DIGEST = "import hashlib, sys; hashlib.file_digest(open(sys.argv[1], 'rb'), 'sha256')"

# Sizes of each workload. The smoke run keeps every code path and shrinks data.
FULL = {
    "many_count": 256, "many_bytes": 4 * MiB,      # verify 1 GiB in 256 files
    "one_bytes": 1 * GiB,                          # verify / add one big file
    "huge_bytes": 4 * GiB,                         # verify RSS on a 4 GiB file
    "small_count": 1000, "small_bytes": 4 * KiB,   # add of many small files
    "tiny_count": 10000, "tiny_bytes": 1 * KiB,    # 10,000 datasets
    "compress_bytes": 256 * MiB,                   # compression
    "diff_bytes": 256 * MiB,                       # dsm diff of two versions
    "runs": 5, "heavy_runs": 3, "openssl_seconds": 3,
    "py_small_count": 1000, "py_big_bytes": 1 * GiB,
    "growth_counts": (10000, 40000, 100000),     # status / verify --fast / hook vs git status
    "staged_count": 30000,                       # the hook with this many new sidecars staged
    "add_many_count": 100000,                    # one dsm add under ulimit -n 1024
    "startup_runs": 40,
}
SMOKE = {
    "many_count": 8, "many_bytes": 64 * KiB,
    "one_bytes": 1 * MiB,
    "huge_bytes": 2 * MiB,
    "small_count": 20, "small_bytes": 4 * KiB,
    "tiny_count": 50, "tiny_bytes": 1 * KiB,
    "compress_bytes": 1 * MiB,
    "diff_bytes": 1 * MiB,
    "runs": 1, "heavy_runs": 1, "openssl_seconds": 1,
    "py_small_count": 20, "py_big_bytes": 8 * MiB,
    "growth_counts": (20, 40, 100),
    "staged_count": 30,
    "add_many_count": 50,
    "startup_runs": 3,
}


class BenchError(Exception):
    """A command the benchmark depends on failed: an ERROR row."""


@dataclass
class Measure:
    walls: list            # seconds, one per timed run
    rss: int | None        # peak RSS in bytes over the timed runs (None: no /usr/bin/time)
    cpu: float | None = None   # median user+sys seconds: meaningful on a busy machine

    @property
    def wall(self):
        return statistics.median(self.walls)


@dataclass
class Spec:
    """One command to measure."""
    name: str
    cmd: list
    cwd: str | None = None
    setup: object = None           # callable before each run, untimed
    warmup: int = 0                # untimed runs first
    runs: int | None = None        # timed runs (default: the scale's "runs")
    expect: tuple = (0,)
    dsm_label: str | None = None   # a dsm run: its RSS counts toward the 64 MiB floor
    cpu: list = field(default_factory=list)   # user+sys seconds of each run (from /usr/bin/time)


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
    if s < 0.001:
        return f"{s * 1e6:.1f} µs"   # per-dataset times in the growth table
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
    if m.cpu is not None:
        parts.append(f"{m.cpu:.2f} CPU s")
    parts.append(fmt_rss(m.rss))
    return " · ".join(parts)


def faster(peer_s, dsm_s):
    """peer/dsm as 'N× faster' (dsm quicker) or 'N× slower'."""
    r = peer_s / dsm_s
    return f"{r:.1f}× faster" if r >= 1 else f"{1 / r:.1f}× slower"


def cpu_share(m, frac, nbytes, per_core):
    """Wall-clock share of the openssl limit, and the share per CPU second.

    `openssl speed` divides by CPU time, so on a loaded machine the per-CPU
    figure is the fair one; on a quiet machine the two agree.
    """
    text = f"{frac:.0%}"
    if m.cpu:
        text += f" (per CPU second: {nbytes / m.cpu / per_core:.0%})"
    return text


def verdict(ok):
    return "pass" if ok else "**MISS**"


# --- the benchmark ---------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.smoke = args.smoke
        self.scale = dict(SMOKE if args.smoke else FULL)
        if args.runs:
            self.scale["runs"] = args.runs
        if args.heavy_runs:
            self.scale["heavy_runs"] = args.heavy_runs
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

    def run_once(self, spec):
        """One timed run of spec: (wall seconds, peak RSS bytes or None)."""
        if spec.setup:
            spec.setup()
        full = [TIME, "-v", "-o", self.timefile, *spec.cmd] if self.have_time else list(spec.cmd)
        t0 = time.perf_counter()
        p = subprocess.run(full, cwd=spec.cwd or self.work, env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if p.returncode not in spec.expect:
            err = p.stderr.decode(errors="replace").strip()[-800:]
            raise BenchError(f"`{shlex.join(spec.cmd)}` exited {p.returncode} (expected "
                             f"{' or '.join(map(str, spec.expect))}): {err}")
        rss = None
        if self.have_time:
            with open(self.timefile) as f:
                text = f.read()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            if m:
                rss = int(m.group(1)) * KiB
            cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
            spec.cpu.append(cpu)
        return wall, rss

    def measure_all(self, specs):
        """Runs specs round-robin (dsm, peer, dsm, peer, ...) so that load from
        other processes on the machine hits dsm and its peers alike.

        Returns {spec.name: Measure or BenchError}: a failing command is
        dropped from later rounds and the others carry on.
        """
        results = {}
        active = []
        for sp in specs:
            try:
                for _ in range(sp.warmup):
                    self.run_once(sp)
                sp.cpu.clear()
                active.append(sp)
            except BenchError as e:
                results[sp.name] = e
        walls = {sp.name: [] for sp in active}
        rss = {sp.name: None for sp in active}
        rounds = max((sp.runs or self.scale["runs"] for sp in active), default=0)
        for r in range(rounds):
            for sp in list(active):
                if r >= (sp.runs or self.scale["runs"]):
                    continue
                try:
                    wall, peak = self.run_once(sp)
                except BenchError as e:
                    results[sp.name] = e
                    active.remove(sp)
                    continue
                walls[sp.name].append(wall)
                if peak is not None:
                    rss[sp.name] = max(rss[sp.name] or 0, peak)
        for sp in active:
            results[sp.name] = Measure(walls[sp.name], rss[sp.name],
                                       statistics.median(sp.cpu) if sp.cpu else None)
            if sp.dsm_label:
                self.dsm_rss.append((sp.dsm_label, rss[sp.name]))
        return results

    def measure(self, cmd, **kw):
        """Measure of one command; raises BenchError when it fails."""
        res = self.measure_all([Spec("one", cmd, **kw)])["one"]
        if isinstance(res, BenchError):
            raise res
        return res

    def measure_dsm(self, label, args, **kw):
        """Measure of a dsm command alone (a warm-up run first unless told)."""
        kw.setdefault("warmup", 1)
        res = self.measure_all([Spec("dsm", [self.dsm_bin, *args], dsm_label=label, **kw)])["dsm"]
        if isinstance(res, BenchError):
            raise res
        return res

    def dsm_spec(self, label, args, **kw):
        kw.setdefault("warmup", 1)
        return Spec("dsm", [self.dsm_bin, *args], dsm_label=label, **kw)

    def dsm_result(self, res, label):
        """The dsm Measure from measure_all, or None after an ERROR row."""
        m = res.get("dsm")
        if isinstance(m, BenchError):
            self.error_row(label, str(m))
            return None
        return m

    @staticmethod
    def peer_result(res, name):
        """A peer's Measure; a failing peer fails the workload."""
        m = res.get(name)
        if isinstance(m, BenchError):
            raise m
        return m

    def openssl_rate(self, seconds=None):
        """Single-core `openssl speed -evp sha256` rate in bytes/s, measured now."""
        p = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes", str(MiB),
                            "-seconds", str(seconds or self.scale["openssl_seconds"])],
                           capture_output=True, text=True)
        m = re.search(r"^sha256\s+([\d.]+)k", p.stdout, re.M)
        if not m:
            raise BenchError(f"cannot parse `openssl speed` output: {p.stdout[-300:]} {p.stderr[-300:]}")
        return float(m.group(1)) * 1000

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

    def write_smooth_npy(self, path, nbytes, seed):
        """A float32 .npy of exactly nbytes: a sine plus 1% noise, streamed in chunks."""
        header = 128
        count = (nbytes - header) // 4
        rng = np.random.default_rng(seed)
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f4", "fortran_order": False, "shape": (count,)})
            done = 0
            while done < count:
                n = min(count - done, 16 * MiB // 4)
                t = (np.arange(done, done + n) * (200.0 / count)).astype(np.float32)
                chunk = np.sin(t) + 0.01 * rng.standard_normal(n).astype(np.float32)
                f.write(chunk.astype("<f4").tobytes())
                done += n
        return path

    def write_rounded_npy(self, path, nbytes, seed):
        """A float64 .npy of exactly nbytes: normal samples rounded to 2 decimals
        (measurements written with limited precision), streamed in chunks."""
        header = 128
        count = (nbytes - header) // 8
        rng = np.random.default_rng(seed)
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (count,)})
            left = count
            while left:
                n = min(left, 16 * MiB // 8)
                f.write(np.round(rng.standard_normal(n), 2).tobytes())
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
        self.limits.openssl_rate = self.openssl_rate()
        facts["`openssl speed -evp sha256 -bytes 1048576`, one core"] = fmt_rate(self.limits.openssl_rate)
        facts["OpenSSL"] = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
        facts["dsm"] = self.dsm_version()

    def dsm_version(self):
        """Which dsm was measured: --dsm-label, else the source tree's commit."""
        if self.args.dsm_label:
            return self.args.dsm_label
        head = subprocess.run(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        build = subprocess.run(["grep", "-m1", "CMAKE_BUILD_TYPE:", os.path.join(os.path.dirname(self.dsm_bin),
                                                                                 "CMakeCache.txt")],
                               capture_output=True, text=True).stdout.strip().split("=")[-1]
        return f"commit {head or 'unknown'}{' (modified)' if dirty else ''}, {build or 'unknown'} build"

    def cat_rate(self, files, nbytes):
        return nbytes / self.measure(["cat", *files], warmup=1).wall

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
        self.limits.facts[f"`cat` of {count} × {fmt_bytes(size)} to /dev/null"] = fmt_rate(self.cat_rate(files, total))
        specs = []
        manifest = None
        if self.dsm_has("verify") and self.dsm_has("add"):
            try:
                repo = self.dsm_repo("repo-many")
                manifest = self.dsm_add(repo, files)
                args = ["verify", "--jobs", "2"] if self.dsm_has("verify", flag="--jobs") else ["verify"]
                specs.append(self.dsm_spec(label, args, cwd=repo))
                if self.dsm_has("verify", flag="--jobs"):
                    one_job = Spec("dsm1", [self.dsm_bin, "verify", "--jobs", "1"], cwd=repo, warmup=1,
                                   dsm_label=label.replace("2 jobs", "1 job"))
                    specs.append(one_job)
            except BenchError as e:
                self.error_row(label, str(e))
                manifest = None
        if manifest is None:
            manifest = self.write_manifest(files, os.path.dirname(files[0]))
        heavy = s["heavy_runs"]
        specs.append(Spec("sha", ["sha256sum", "--strict", "-c", os.path.basename(manifest)],
                          cwd=os.path.dirname(manifest), runs=heavy))
        specs.append(Spec("np", [PYTHON, NP_WORKFLOW, "verify", manifest], runs=heavy))
        # The old "≥ 9× sha256sum" floor holds only where sha256sum is slow;
        # the ratio is reported, the openssl limit below decides.
        peers = [("sha", "`sha256sum -c`", None)]
        if self.tool("git-annex"):
            annex = self.annex_repo("annex-many", files)
            self.run(["git", "annex", "add", "--quiet", "."], cwd=annex)
            self.run(["git", "commit", "-q", "-m", "add"], cwd=annex)
            specs.append(Spec("fsck", ["git", "annex", "fsck", "--quiet"], cwd=annex, runs=heavy))
            peers.append(("fsck", "`git annex fsck`", None))
        else:
            self.note("git-annex is not installed: its rows are skipped (the full run installs it)")
        rate_before = self.openssl_rate(1)
        res = self.measure_all(specs)
        limit = 2 * (rate_before + self.openssl_rate(1)) / 2
        dsm = self.dsm_result(res, label)
        dsm_cell = cell(dsm, total) if dsm else "not available"
        for key, name, floor in peers:
            m = self.peer_result(res, key)
            self.add_row(label, dsm_cell, f"{name}: {cell(m, total)}", faster(m.wall, dsm.wall) if dsm else "—",
                         "(ratio reported; the openssl limit decides)", "info")
        one = res.get("dsm1")
        if isinstance(one, BenchError):
            self.error_row(label.replace("2 jobs", "1 job"), str(one))
        elif dsm and isinstance(one, Measure):
            self.add_row(label, dsm_cell, f"`dsm verify --jobs 1`: {cell(one, total)}",
                         f"{one.wall / dsm.wall:.2f}× one job", "≥ 1.8× one job", verdict(one.wall / dsm.wall >= 1.8))
        limit_cell = f"2 × `openssl speed` during this workload: {fmt_rate(limit)}"
        frac = total / dsm.wall / limit if dsm else None
        self.add_row(label, dsm_cell, limit_cell, cpu_share(dsm, frac, total, limit / 2) if dsm else "—",
                     "≥ 85% of 2 × openssl",
                     verdict(frac >= 0.85) if dsm else "not available")
        npw = self.peer_result(res, "np")
        self.add_row(label, dsm_cell, f"`np.load` + `hashlib` loop: {cell(npw, total)}",
                     faster(npw.wall, dsm.wall) if dsm else "—", "(today's workflow)", "info")

    def w_verify_one(self):
        s = self.scale
        size = s["one_bytes"]
        label = f"`dsm verify` of one {fmt_bytes(size)} .npy"
        self.log(label)
        self.one = self.write_npy(os.path.join(self.work, "one.npy"), size, seed=1)
        self.warm([self.one])
        self.limits.facts[f"`cat` of one {fmt_bytes(size)} file to /dev/null"] = fmt_rate(self.cat_rate([self.one], size))
        specs = []
        manifest = None
        if self.dsm_has("verify") and self.dsm_has("add"):
            try:
                repo = self.dsm_repo("repo-one")
                manifest = self.dsm_add(repo, [self.one])
                specs.append(self.dsm_spec(label, ["verify"], cwd=repo))
            except BenchError as e:
                self.error_row(label, str(e))
                manifest = None
        if manifest is None:
            d = os.path.join(self.work, "src-one")
            os.makedirs(d, exist_ok=True)
            shutil.copy(self.one, d)
            manifest = self.write_manifest([os.path.join(d, "one.npy")], d)
        # Plain hashing of the same cached file, the way Python and OpenSSL
        # read it (into a small buffer): what dsm must keep up with.
        specs.append(Spec("digest", [PYTHON, "-c", FILE_DIGEST, self.one], warmup=1))
        specs.append(Spec("dgst", ["openssl", "dgst", "-sha256", self.one], warmup=1))
        # Information only, and slow: one run each.
        specs.append(Spec("sha", ["sha256sum", "--strict", "-c", os.path.basename(manifest)],
                          cwd=os.path.dirname(manifest), runs=1))
        specs.append(Spec("np", [PYTHON, NP_WORKFLOW, "verify", manifest], runs=1))
        rate_before = self.openssl_rate(1)
        res = self.measure_all(specs)
        limit = (rate_before + self.openssl_rate(1)) / 2
        dsm = self.dsm_result(res, label)
        dsm_cell = cell(dsm, size) if dsm else "not available"
        frac = size / dsm.wall / limit if dsm else None
        self.add_row(label, dsm_cell, f"`openssl speed`, one core, during this workload: {fmt_rate(limit)}",
                     cpu_share(dsm, frac, size, limit) if dsm else "—", "≥ 85% of openssl", verdict(frac >= 0.85) if dsm else "not available")
        digest = self.peer_result(res, "digest")
        self.add_row(label, dsm_cell, f"`hashlib.file_digest` of the file: {cell(digest, size)}",
                     f"{digest.wall / dsm.wall:.0%} of its rate" if dsm else "—", "≥ 95% of its rate",
                     verdict(digest.wall / dsm.wall >= 0.95) if dsm else "not available")
        dgst = self.peer_result(res, "dgst")
        self.add_row(label, dsm_cell, f"`openssl dgst -sha256` of the file: {cell(dgst, size)}",
                     f"{dgst.wall / dsm.wall:.0%} of its rate" if dsm else "—", "—", "info")
        for key, name, floor in [("sha", "`sha256sum -c`", "—"), ("np", "`np.load` + `hashlib` loop", "(today's workflow)")]:
            m = self.peer_result(res, key)
            self.add_row(label, dsm_cell, f"{name}: {cell(m, size)}", faster(m.wall, dsm.wall) if dsm else "—",
                         floor, "info")

    def w_add_one(self):
        s = self.scale
        size = s["one_bytes"]
        label = f"`dsm add` of one {fmt_bytes(size)} .npy (copy)"
        self.log(label)
        src = self.one
        dst = os.path.join(self.work, "copy-of-one.npy")
        repo = os.path.join(self.work, "repo-add-one")

        def clean_copy():
            if os.path.exists(dst):
                os.unlink(dst)
            shutil.rmtree(repo, ignore_errors=True)
            os.sync()   # earlier writes must not be flushed inside the next timed run

        def fresh_repo():
            clean_copy()
            self.dsm_repo("repo-add-one")
            os.sync()

        heavy = s["heavy_runs"]
        specs = []
        if self.dsm_has("add"):
            specs.append(self.dsm_spec(label, ["add", src], cwd=repo, setup=fresh_repo, runs=heavy, warmup=0))
        specs.append(Spec("cp", ["sh", "-c", 'cp "$1" "$2" && openssl dgst -sha256 "$2"', "sh", src, dst],
                          setup=clean_copy, runs=heavy))
        specs.append(Spec("cp_sync", ["sh", "-c", 'cp "$1" "$2" && openssl dgst -sha256 "$2" && sync "$2"',
                                      "sh", src, dst], setup=clean_copy, runs=heavy))
        res = self.measure_all(specs)
        clean_copy()
        dsm = self.dsm_result(res, label)
        dsm_cell = cell(dsm, size) if dsm else "not available"
        for key, name, floor in [("cp", "`cp` + `openssl dgst -sha256` of the copy", "no slower"),
                                 ("cp_sync", "the same + `sync` of the copy (dsm fsyncs)", "—")]:
            m = self.peer_result(res, key)
            result = "info" if floor == "—" else (verdict(dsm.wall <= m.wall) if dsm else "not available")
            self.add_row(label, dsm_cell, f"{name}: {cell(m, size)}", faster(m.wall, dsm.wall) if dsm else "—",
                         floor, result)

    def w_add_small(self):
        s = self.scale
        count, size = s["small_count"], s["small_bytes"]
        label = f"`dsm add` of {count:,} small .npy ({fmt_bytes(size)}) in one command"
        self.log(label)
        files = self.make_set("src-small", count, size, "s")
        self.warm(files)
        heavy = s["heavy_runs"]
        specs = []
        if self.dsm_has("add"):
            def fresh():
                self.dsm_repo("repo-small")
                os.sync()
            specs.append(self.dsm_spec(label, ["add", *files], cwd=os.path.join(self.work, "repo-small"),
                                       setup=fresh, runs=heavy, warmup=0))
        if self.tool("git-annex"):
            def fresh_annex():
                self.annex_repo("annex-small", files)
                os.sync()
            specs.append(Spec("annex", ["git", "annex", "add", "--quiet", "."],
                              cwd=os.path.join(self.work, "annex-small"), setup=fresh_annex, runs=heavy))
        else:
            self.note("git-annex is not installed: its rows are skipped (the full run installs it)")
        res = self.measure_all(specs)
        dsm = self.dsm_result(res, label)
        dsm_cell = cell(dsm, files=count) if dsm else "not available"
        annex = self.peer_result(res, "annex")
        floor = "≤ 1/10 of git annex (≥ 10× faster)"
        if annex is None:
            self.add_row(label, dsm_cell, "`git annex add`: not installed", "—", floor, "info")
        else:
            self.add_row(label, dsm_cell, f"`git annex add`: {cell(annex, files=count)}",
                         faster(annex.wall, dsm.wall) if dsm else "—", floor,
                         verdict(annex.wall / dsm.wall >= 10) if dsm else "not available")

    def w_python(self):
        """The Python package (issue #16), in one process against its peers:
        bench/python_api.py measures, this turns its figures into rows."""
        s = self.scale
        count, big = s.get("py_small_count", 1000), s.get("py_big_bytes", 1 * GiB)
        pkg = os.path.join(os.path.dirname(self.dsm_bin), "python")
        labels = [f"`repo.save` of {count:,} arrays of 100×10 float64, one process",
                  f"`repo.save` of {fmt_bytes(big)} float64", f"`repo.load` of {fmt_bytes(big)} with verification"]
        if not os.path.exists(os.path.join(pkg, "dsm", "__init__.py")):
            self.note(f"the Python package is not built beside {self.dsm_bin} (DSM_PYTHON): its rows are skipped")
            for label in labels:
                self.add_row(label, "not available", "—", "—", "—", "not available")
            return
        self.log(labels[0])
        env = dict(self.env, PYTHONPATH=pkg)
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "bench", "python_api.py"), self.work,
                            self.dsm_bin, str(count), str(big), str(s["heavy_runs"])],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError(f"bench/python_api.py exited {p.returncode}: {p.stderr.strip()[-800:]}")
        t = json.loads(p.stdout)
        per = lambda sec: f"{sec / count * 1000:.2f} ms a save"  # noqa: E731
        dsm_cell = f"{fmt_time(t['small_dsm'])} ({per(t['small_dsm'])})"
        sub_x = t["small_subprocess"] / t["small_dsm"]
        self.add_row(labels[0], dsm_cell,
                     f"`np.save` + `dsm add` subprocess each: {fmt_time(t['small_subprocess'])} "
                     f"({per(t['small_subprocess'])}; {t['subprocess_measured']} measured)",
                     faster(t["small_subprocess"], t["small_dsm"]), "≥ 30× faster", verdict(sub_x >= 30))
        np_x = t["small_dsm"] / t["small_npsave"]
        self.add_row(labels[0], dsm_cell,
                     f"`np.save` alone: {fmt_time(t['small_npsave'])} ({per(t['small_npsave'])})",
                     f"{np_x:.1f}× slower", "within 5× of `np.save`", verdict(np_x <= 5))
        batch_cell = f"{fmt_time(t['small_batch'])} ({per(t['small_batch'])})"
        batch_label = f"`repo.batch()` of the same {count:,} saves, one transaction"
        self.add_row(batch_label, batch_cell,
                     f"`np.save` + `dsm add` subprocess each: {fmt_time(t['small_subprocess'])}",
                     faster(t["small_subprocess"], t["small_batch"]), "≥ 30× faster",
                     verdict(t["small_subprocess"] / t["small_batch"] >= 30))
        batch_np_x = t["small_batch"] / t["small_npsave"]
        self.add_row(batch_label, batch_cell, f"`np.save` alone: {fmt_time(t['small_npsave'])}",
                     f"{batch_np_x:.1f}× slower", "within 5× of `np.save`", verdict(batch_np_x <= 5))
        self.add_row(labels[1], f"{fmt_time(t['big_dsm_save'])} ({fmt_rate(big / t['big_dsm_save'])})",
                     f"`np.save` + `hashlib.sha256` of the file: {fmt_time(t['big_npsave_hash'])}",
                     faster(t["big_npsave_hash"], t["big_dsm_save"]), "no slower",
                     verdict(t["big_dsm_save"] <= t["big_npsave_hash"]))
        self.add_row(labels[2], f"{fmt_time(t['big_dsm_load'])} ({fmt_rate(big / t['big_dsm_load'])})",
                     f"`np.load` + `hashlib.file_digest`: {fmt_time(t['big_npload_hash'])}",
                     faster(t["big_npload_hash"], t["big_dsm_load"]), "≤ 1.2× the peer",
                     verdict(t["big_dsm_load"] <= 1.2 * t["big_npload_hash"]))

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
        specs = [Spec("sha", ["sha256sum", "--strict", "-c", os.path.basename(manifest)],
                      cwd=os.path.dirname(manifest), warmup=1),
                 Spec("np", [PYTHON, NP_WORKFLOW, "verify", manifest], runs=s["heavy_runs"])]
        if repo and self.dsm_has("verify"):
            specs.append(self.dsm_spec(verify_label, ["verify"], cwd=repo))
        res = self.measure_all(specs)
        dsm = self.dsm_result(res, verify_label)
        dsm_cell = cell(dsm, files=count) if dsm else "not available"
        sha = self.peer_result(res, "sha")
        self.add_row(verify_label, dsm_cell, f"`sha256sum -c`: {cell(sha, files=count)}",
                     faster(sha.wall, dsm.wall) if dsm else "—", "≤ 1 s and no slower",
                     verdict(dsm.wall <= 1.0 and dsm.wall <= sha.wall) if dsm else "not available")
        npw = self.peer_result(res, "np")
        self.add_row(verify_label, dsm_cell, f"`np.load` + `hashlib` loop: {cell(npw, files=count)}",
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

    def datasets_repo(self, name, count, **kw):
        """A repository of `count` small datasets written directly (bench/datasets.py)."""
        path = os.path.join(self.work, name)
        try:
            return datasets.generate(path, count, self.dsm_bin, env=self.env, **kw)
        except RuntimeError as e:
            raise BenchError(str(e)) from e

    def w_growth(self):
        """status, verify --fast and the hook at growing dataset counts, each
        against `git status` on the same repository in the same rounds."""
        counts = self.scale["growth_counts"]
        self.log(f"growth: {', '.join(f'{c:,}' for c in counts)} datasets")
        table = []   # (count, {name: Measure})
        commands = [("status", "`dsm status`", ["status"]), ("fast", "`dsm verify --fast`", ["verify", "--fast"]),
                    ("hook", "`dsm hook pre-commit`, nothing relevant staged", ["hook", "pre-commit"])]
        for count in counts:
            repo = self.datasets_repo("repo-growth", count)
            # Something staged that is not data: the common commit.
            with open(os.path.join(repo, "NOTES.txt"), "a") as f:
                f.write("a note\n")
            self.run(["git", "add", "NOTES.txt"], cwd=repo)
            specs = [Spec("git", ["git", "status"], cwd=repo, warmup=1)]
            specs += [Spec(key, [self.dsm_bin, *args], cwd=repo, warmup=1,
                           dsm_label=f"{name}, {count:,} datasets") for key, name, args in commands]
            res = self.measure_all(specs)
            git = self.peer_result(res, "git")
            got = {"git": git}
            for key, name, _ in commands:
                label = f"{name}, {count:,} datasets"
                m = res.get(key)
                if isinstance(m, BenchError):
                    self.error_row(label, str(m))
                    continue
                got[key] = m
                ratio = m.wall / git.wall
                floor = "≤ 2× `git status`"
                ok = ratio <= 2
                if key == "hook":
                    floor += ", ≤ 100 ms"
                    ok = ok and m.wall <= 0.1
                self.add_row(label, cell(m, files=count), f"`git status`: {cell(git, files=count)}",
                             f"{ratio:.2f}× git's time", floor, verdict(ok))
            table.append((count, got))
            subprocess.run(["rm", "-rf", repo])   # much faster than shutil.rmtree on 100,000 directories
        # Growth: time per dataset at the largest count against the smallest.
        (c0, first), (c1, last) = table[0], table[-1]
        for key, name, _ in commands + [("git", "`git status`", None)]:
            if key not in first or key not in last:
                continue
            growth = (last[key].wall / c1) / (first[key].wall / c0)
            self.add_row(f"{name}: time per dataset at {c1:,} against {c0:,}",
                         f"{fmt_time(last[key].wall / c1)} against {fmt_time(first[key].wall / c0)}", "—",
                         f"{growth:.2f}×", "≤ 1.25× (linear, with noise)" if key != "git" else "—",
                         verdict(growth <= 1.25) if key != "git" else "info")
        self.growth_plot(table, commands)

    def growth_plot(self, table, commands):
        """docs/status-growth.png (the smoke run: in the work dir): time against
        dataset count, dsm's commands and git status."""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            self.note("python3-matplotlib is not installed: no growth plot (the full run installs it)")
            return
        out = os.path.join(self.work if self.smoke else os.path.join(SOURCE_DIR, "docs"), "status-growth.png")
        # Wall time, and CPU seconds (user + sys, steadier on a shared machine).
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0), dpi=100)
        counts = [c for c, _ in table]
        for ax, what, ylabel in [(axes[0], "wall", "wall time, s (median)"),
                                 (axes[1], "cpu", "CPU seconds, user + sys (median)")]:
            for key, name in [("git", "git status")] + [(k, n.split(",")[0].strip("`")) for k, n, _ in commands]:
                points = [(c, getattr(got[key], what)) for c, got in table
                          if key in got and getattr(got[key], what) is not None]
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                            linestyle="--" if key == "git" else "-", label=name)
            ax.set_xlabel("datasets")
            ax.set_ylabel(ylabel)
            ax.set_xticks(counts)
            ax.set_xticklabels([f"{c:,}" for c in counts])
            ax.grid(True, alpha=0.3)
        axes[0].legend()
        fig.suptitle("Nothing changed: dsm against git status on the same repository")
        fig.tight_layout()
        fig.savefig(out)
        plt.close(fig)
        self.note(f"growth plot: {os.path.relpath(out, SOURCE_DIR) if not self.smoke else out}")

    def w_hook_staged(self):
        """The hook with many new sidecars staged, against the commit itself."""
        count = self.scale["staged_count"]
        label = f"`dsm hook pre-commit`, {count:,} new datasets staged"
        self.log(label)
        repo = self.datasets_repo("repo-staged", count, commit=False)
        base = self.run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()

        def staged():
            # Back to "all staged, not committed" (the index is kept).
            self.run(["git", "reset", "-q", "--soft", base], cwd=repo)

        commit_cmd = ["git", "commit", "-q", "--no-verify", "-m", "data"]
        # The commit a user makes writes every new tree object (one per
        # dataset directory); committing the same index again after `reset
        # --soft` finds them written. Both are reported; the first decides.
        first = self.measure(commit_cmd, cwd=repo, runs=1)
        facts = os.path.join(repo, ".dsm", "local", "sidecar-facts")
        with open(facts) as f:
            known = f.read()   # what `dsm add` leaves (bench/datasets.py writes it as add does)

        def as_after_add():
            staged()
            with open(facts, "w") as f:
                f.write(known)

        def nothing_known():
            # Sidecars written by another tool (or edited): each is parsed.
            staged()
            if os.path.exists(facts):
                os.unlink(facts)
        parsed_label = f"`dsm hook pre-commit`, {count:,} new datasets staged, sidecars not written by `dsm add`"
        res = self.measure_all([
            Spec("dsm", [self.dsm_bin, "hook", "pre-commit"], cwd=repo, setup=as_after_add, warmup=1,
                 dsm_label=label),
            Spec("parsed", [self.dsm_bin, "hook", "pre-commit"], cwd=repo, setup=nothing_known, warmup=1,
                 dsm_label=parsed_label),
            Spec("commit", commit_cmd, cwd=repo, setup=staged, warmup=1)])
        dsm = self.dsm_result(res, label)
        again = self.peer_result(res, "commit")
        self.add_row(label, cell(dsm, files=count) if dsm else "not available",
                     f"`git commit --no-verify` of the same, first time: {cell(first, files=count)}",
                     faster(first.wall, dsm.wall) if dsm else "—", "no slower",
                     verdict(dsm.wall <= first.wall) if dsm else "not available")
        self.add_row(label, cell(dsm, files=count) if dsm else "not available",
                     f"the same commit again (its trees written): {cell(again, files=count)}",
                     faster(again.wall, dsm.wall) if dsm else "—", "—", "info")
        parsed = res.get("parsed")
        if isinstance(parsed, BenchError):
            self.error_row(parsed_label, str(parsed))
        elif parsed:
            self.add_row(parsed_label, cell(parsed, files=count),
                         f"`git commit --no-verify` of the same, first time: {cell(first, files=count)}",
                         faster(first.wall, parsed.wall), "—", "info")
        subprocess.run(["rm", "-rf", repo])

    def w_startup(self):
        """Process start-up: a command that reads one name, against git's."""
        runs = self.scale["startup_runs"]
        label = "`dsm path NAME`"
        self.log(f"start-up: {label}")
        repo = self.datasets_repo("repo-startup", 1, verify=False)
        name = sorted(d for d in os.listdir(os.path.join(repo, "data")) if not d.endswith(".txt"))[0]
        res = self.measure_all([
            Spec("dsm", [self.dsm_bin, "path", name], cwd=repo, warmup=2, runs=runs, dsm_label=label),
            Spec("version", [self.dsm_bin, "--version"], cwd=repo, warmup=2, runs=runs),
            Spec("git", ["git", "rev-parse", "HEAD"], cwd=repo, warmup=2, runs=runs)])
        dsm = self.dsm_result(res, label)
        git = self.peer_result(res, "git")
        version = self.peer_result(res, "version")
        self.add_row(label, cell(dsm) if dsm else "not available", f"`git rev-parse HEAD`: {cell(git)}",
                     f"{dsm.wall / git.wall:.2f}× git's time" if dsm else "—", "≤ 2× git's time",
                     verdict(dsm.wall <= 2 * git.wall) if dsm else "not available")
        self.add_row("`dsm --version`", cell(version), f"`git rev-parse HEAD`: {cell(git)}",
                     f"{version.wall / git.wall:.2f}× git's time", "—", "info")
        # Which shared libraries a command that touches no remote loads.
        p = subprocess.run([self.dsm_bin, "path", name], cwd=repo, env=dict(self.env, LD_DEBUG="files"),
                           capture_output=True, text=True)
        loaded = sorted(set(re.findall(r"file=(\S+)\s+\[0\];", p.stderr)))
        curl = any("libcurl" in x for x in loaded)
        self.limits.facts["shared libraries `dsm path` loads"] = f"{len(loaded)}{' (libcurl among them)' if curl else ''}"
        self.add_row(f"{label} loads libcurl", "yes" if curl else "no", "—", "—", "no", verdict(not curl))
        shutil.rmtree(repo, ignore_errors=True)

    def w_add_many(self):
        """One `dsm add` of many files with 1,024 descriptors: memory and speed."""
        count = self.scale["add_many_count"]
        label = f"`dsm add` of {count:,} × 1 KiB .npy in one command, `ulimit -n 1024`"
        self.log(label)
        repo = self.git_repo("repo-add-many")
        self.run([self.dsm_bin, "init"], cwd=repo)
        src = os.path.join(repo, "in")   # short relative names for the command line
        os.makedirs(src)
        np.save(os.path.join(self.work, "template.npy"), np.linspace(0.0, 1.0, 112))
        with open(os.path.join(self.work, "template.npy"), "rb") as f:
            payload = f.read()
        for i in range(count):
            with open(os.path.join(src, f"{i:06d}.npy"), "wb") as f:
                f.write(payload)
        # The shell expands the names after raising the stack limit: a
        # command line of 100,000 names needs more than the default 2 MiB
        # (a quarter of the stack limit).
        cmd = ["sh", "-c", 'ulimit -n 1024 && ulimit -s 65536 && exec "$0" add in/*.npy >/dev/null', self.dsm_bin]
        m = self.measure(cmd, cwd=repo, runs=1, dsm_label=label)
        self.add_row(label, cell(m, files=count), "—", "—", "≤ 64 MiB RSS",
                     verdict(m.rss is not None and m.rss <= 64 * MiB))
        subprocess.run(["rm", "-rf", repo])

    def w_diff(self):
        """`dsm diff` of two versions against `dsm verify` of both (the
        floor: a diff reads what verify reads, so ≤ 1.5× its time) and
        against NumPy's way (np.load both + np.isclose + counts)."""
        s = self.scale
        size = s["diff_bytes"]
        label = f"`dsm diff` of two {fmt_bytes(size)} .npy versions"
        self.log(label)
        if not (self.dsm_has("diff") and self.dsm_has("add") and self.dsm_has("verify")):
            self.add_row(label, "not available", "—", "—", "≤ 1.5× `dsm verify` of both", "not available")
            return
        a = self.write_npy(os.path.join(self.work, "diff-a.npy"), size, seed=5)
        b = os.path.join(self.work, "diff-b.npy")
        shutil.copy(a, b)
        m = np.load(b, mmap_mode="r+")
        rng = np.random.default_rng(6)
        idx = rng.integers(0, m.size, size=max(1, m.size // 10000))
        m[idx] += 1e-7                      # 0.01% of the elements move a little
        m[idx[: len(idx) // 10]] = np.nan   # a tenth of those become NaN
        m.flush()
        del m
        repo = self.dsm_repo("repo-diff")
        try:
            self.run([self.dsm_bin, "add", a, "--name", "d"], cwd=repo)
            self.run([self.dsm_bin, "add", b, "--name", "d"], cwd=repo)
            self.warm([a, b] + [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(repo, "data"))
                                for f in fs if f.endswith(".npy")])
            specs = [
                self.dsm_spec(label, ["diff", "d"], cwd=repo, expect=(1,)),
                Spec("verify", [self.dsm_bin, "verify", "d"], cwd=repo, warmup=1),
                Spec("files", [self.dsm_bin, "diff", b, a], expect=(1,), warmup=1,
                     dsm_label=label + " (files outside a repository)"),
                Spec("np", [PYTHON, NP_WORKFLOW, "diff", b, a], expect=(1,), runs=s["heavy_runs"]),
            ]
            res = self.measure_all(specs)
            dsm = self.dsm_result(res, label)
            dsm_cell = cell(dsm, 2 * size) if dsm else "not available"
            v = self.peer_result(res, "verify")
            ratio = dsm.wall / v.wall if dsm else None
            self.add_row(label, dsm_cell, f"`dsm verify` of both: {cell(v, 2 * size)}",
                         f"{ratio:.2f}× verify's time" if dsm else "—", "≤ 1.5× `dsm verify` of both",
                         verdict(ratio <= 1.5 and dsm.rss is not None and dsm.rss <= 64 * MiB) if dsm else "not available")
            np_m = self.peer_result(res, "np")
            self.add_row(label, dsm_cell, f"`np.load` both + `np.isclose` + counts: {cell(np_m, 2 * size)}",
                         faster(np_m.wall, dsm.wall) if dsm else "—", "(today's workflow)", "info")
            f = self.peer_result(res, "files")
            self.add_row(label + ", as plain files (hashed and scanned first)", cell(f, 2 * size),
                         f"`np.load` both + `np.isclose` + counts: {cell(np_m, 2 * size)}",
                         faster(np_m.wall, f.wall), "≤ 64 MiB RSS", verdict(f.rss is not None and f.rss <= 64 * MiB))
        finally:
            for p in (a, b):
                if os.path.exists(p):
                    os.unlink(p)
            shutil.rmtree(repo, ignore_errors=True)

    def w_huge(self):
        s = self.scale
        size = s["huge_bytes"]
        add_label = f"`dsm add` of one {fmt_bytes(size)} .npy"
        label = f"`dsm verify` of one {fmt_bytes(size)} .npy"
        self.log(label)
        if not (self.dsm_has("add") and self.dsm_has("verify")):
            self.add_row(label, "not available", "—", "—", "≤ 64 MiB RSS", "not available")
            return
        src = self.write_npy(os.path.join(self.work, "huge.npy"), size, seed=4)
        repo = self.dsm_repo("repo-huge")
        try:
            add = self.measure_dsm(add_label, ["add", src], cwd=repo, runs=1, warmup=0)
            self.add_row(add_label, cell(add, size), "—", "—", "≤ 64 MiB RSS",
                         verdict(add.rss is not None and add.rss <= 64 * MiB))
            os.unlink(src)   # frees the page cache for the stored copy
            m = self.measure_dsm(label, ["verify"], cwd=repo, runs=1, warmup=1)
            self.add_row(label, cell(m, size), "—", "—", "≤ 64 MiB RSS",
                         verdict(m.rss is not None and m.rss <= 64 * MiB))
        finally:
            if os.path.exists(src):
                os.unlink(src)
            shutil.rmtree(repo, ignore_errors=True)

    def w_compress(self):
        # Random floats (noisy measurements, weights: deflate saves ~6%) and
        # a smooth signal (deflate saves ~20%, where the fast engine alone
        # would be visibly larger than zlib).
        self.compress_case("random float64", self.write_npy)
        self.compress_case("smooth float32", self.write_smooth_npy)
        self.compress_case("rounded normal float64", self.write_rounded_npy)

    def compress_case(self, kind, writer):
        s = self.scale
        size = s["compress_bytes"]
        label = f"`dsm add --compress` of one {fmt_bytes(size)} .npy ({kind})"
        self.log(label)
        if not self.smoke and not self.dsm_has("add", flag="--compress"):
            # Peers alone compare nothing and cost minutes; the smoke run still
            # measures them so the code path stays alive.
            for peer, floor in [("`np.savez_compressed`", "≥ 4× faster, ≤ +2% size"), ("`pigz -6`", "≥ 1.5× faster")]:
                self.add_row(label, "not available", f"{peer}: not measured", "—", floor, "not available")
            return
        src = writer(os.path.join(self.work, "compress.npy"), size, seed=5)
        self.warm([src])
        out = os.path.join(self.work, "savez.npz")
        repo = os.path.join(self.work, "repo-compress")
        heavy = s["heavy_runs"]
        specs = [Spec("savez", [PYTHON, NP_WORKFLOW, "savez", src, out], runs=heavy)]
        if self.tool("pigz"):
            specs.append(Spec("pigz", ["sh", "-c", 'pigz -6 -c "$1" > "$2"', "sh", src, out + ".gz"], runs=heavy))
        else:
            self.note("pigz is not installed: its row is skipped (the full run installs it)")
        if self.dsm_has("add", flag="--compress"):
            def fresh():
                self.dsm_repo("repo-compress")
                os.sync()
            specs.append(self.dsm_spec(label, ["add", "--compress", src], cwd=repo, setup=fresh, runs=heavy,
                                       warmup=0))
        res = self.measure_all(specs)
        dsm = self.dsm_result(res, label)
        dsm_size = None
        if dsm:
            stored = glob.glob(os.path.join(repo, "data", "**", "*.npz"), recursive=True)
            if len(stored) != 1:
                self.error_row(label, f"expected one stored .npz after `dsm add --compress`, found {stored}")
                dsm = None
            else:
                dsm_size = os.path.getsize(stored[0])
        savez = self.peer_result(res, "savez")
        savez_size = os.path.getsize(out)
        floor = "≥ 4× faster, ≤ +2% size"
        savez_cell = f"`np.savez_compressed`: {cell(savez, size)}, {savez_size / size:.1%} of raw"
        if dsm is None:
            self.add_row(label, "not available", savez_cell, "—", floor, "not available")
        else:
            ok = savez.wall / dsm.wall >= 4 and dsm_size <= savez_size * 1.02
            self.add_row(label, f"{cell(dsm, size)}, {dsm_size / size:.1%} of raw", savez_cell,
                         f"{faster(savez.wall, dsm.wall)}, size {dsm_size / savez_size - 1:+.1%}", floor, verdict(ok))
        pigz = self.peer_result(res, "pigz")
        if pigz:
            self.add_row(label, cell(dsm, size) if dsm else "not available",
                         f"`pigz -6` (raw bytes): {cell(pigz, size)}", faster(pigz.wall, dsm.wall) if dsm else "—",
                         "≥ 1.5× faster", verdict(pigz.wall / dsm.wall >= 1.5) if dsm else "not available")
        for p in (src, out, out + ".gz"):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(repo, ignore_errors=True)

    def start_s3(self):
        """The loopback S3 server of the remote tests (tests/s3/start-s3rver.sh).

        Returns the endpoint URL, or None (with a note) when it cannot run:
        the smoke run never installs it (that needs the npm registry).
        """
        start = os.path.join(SOURCE_DIR, "tests", "s3", "start-s3rver.sh")
        if not os.path.exists(start):
            self.note("S3 rows need the loopback server script tests/s3/start-s3rver.sh")
            return None
        cache = os.path.join(os.path.expanduser("~"), ".cache", "dsm-bench", "s3rver")
        if self.smoke and not os.path.exists(os.path.join(cache, "node_modules", ".bin", "s3rver")):
            self.note(f"smoke run: s3rver is not installed in {cache}, so push/pull use a directory remote")
            return None
        self.s3_proc = subprocess.Popen([start, cache, os.path.join(self.work, "s3-data"), "bench"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        # s3rver prints an empty line (and maybe more) before the one with the
        # port: read until that line, or until the server exits (EOF), at most
        # 50 lines.
        seen = []
        m = None
        for _ in range(50):
            line = self.s3_proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                break
        if not m:
            self.s3_proc.kill()
            self.s3_proc.wait(10)
            raise BenchError(f"the loopback S3 server did not start: {''.join(seen)!r} "
                             f"{self.s3_proc.stderr.read()[-500:]}")
        return f"http://127.0.0.1:{m.group(1)}"

    def stop_s3(self):
        proc = getattr(self, "s3_proc", None)
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(10)

    def w_remote(self):
        s = self.scale
        count, size = s["many_count"], s["many_bytes"]
        total = count * size
        what = f"{fmt_bytes(total)} in {count} files"
        if not (self.dsm_has("push") and self.dsm_has("pull") and self.dsm_has("remote", "add")):
            for label, floor in [(f"`dsm push` of {what}", "no slower than rclone"),
                                 (f"`dsm pull` of {what}", "no slower than rclone"),
                                 (f"no-op `dsm push`, {s['tiny_count']:,} datasets", "< 1 s")]:
                self.add_row(label, "not available", "—", "—", floor, "not available")
            return
        try:
            endpoint = self.start_s3()
            self.remote_workload(endpoint, count, total, what)
        finally:
            self.stop_s3()

    def remote_workload(self, endpoint, count, total, what):
        s = self.scale
        heavy = s["heavy_runs"]
        where = "loopback S3 (s3rver)" if endpoint else "a directory remote"
        push_label, pull_label = f"`dsm push` of {what} to {where}", f"`dsm pull` of {what} from {where}"
        self.log(push_label)
        src_dir = os.path.join(self.work, "src-many")
        if not os.path.isdir(src_dir):
            self.make_set("src-many", count, s["many_bytes"], "m")
        repo = self.dsm_repo("repo-remote")
        self.dsm_add(repo, sorted(glob.glob(os.path.join(src_dir, "*.npy"))))
        self.run(["git", "add", "-A"], cwd=repo)
        self.run(["git", "commit", "-q", "--no-verify", "-m", "datasets"], cwd=repo)
        if endpoint:
            self.env.update({"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
                             "AWS_REGION": "us-east-1"})
            # rclone 1.60's S3 backend fails on any AWS_CA_BUNDLE
            # (LoadCustomCABundleError); the loopback server is plain http.
            self.env.pop("AWS_CA_BUNDLE", None)
            self.env.update({"RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
                             "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": "S3RVER",
                             "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": "S3RVER", "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
                             "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true"})
        else:
            store = os.path.join(self.work, "dir-remote")
            os.makedirs(store, exist_ok=True)

        def dsm_url(i):
            if endpoint:
                return f"s3://bench/dsm-{i}"
            # A directory remote must exist: dsm refuses to invent a team's share.
            path = os.path.join(store, f"dsm-{i}")
            os.makedirs(path, exist_ok=True)
            return path

        def rclone_url(i):
            return f"bench:bench/rclone-{i}" if endpoint else os.path.join(store, f"rclone-{i}")

        # One remote per run: every push starts from an empty store.
        for i in range(heavy):
            extra = ["--endpoint", endpoint] if endpoint else []
            self.run([self.dsm_bin, "remote", "add", f"r{i}", dsm_url(i), *extra], cwd=repo)
        self.run(["git", "add", "-A"], cwd=repo)
        self.run(["git", "commit", "-q", "--no-verify", "-m", "remotes"], cwd=repo)
        have_rclone = self.tool("rclone")
        res = self.measure_remote_runs(
            lambda i: [self.dsm_bin, "push", "--remote", f"r{i}"], repo, heavy, push_label,
            (lambda i: ["rclone", "copy", src_dir, rclone_url(i)]) if have_rclone else None)
        self.remote_rows(push_label, res, total, have_rclone, where)

        self.log(pull_label)
        clone = os.path.join(self.work, "clone-remote")
        dst = os.path.join(self.work, "rclone-pulled")

        def fresh_clone():
            shutil.rmtree(clone, ignore_errors=True)
            self.run(["git", "clone", "-q", repo, clone])
            # Remotes that come with a clone are trusted by the user first
            # (an s3:// one before it gets credentials): docs/sharing.md.
            for i in range(heavy):
                self.run([self.dsm_bin, "remote", "trust", f"r{i}"], cwd=clone)
            os.sync()

        def fresh_dst():
            shutil.rmtree(dst, ignore_errors=True)
            os.sync()
        res = self.measure_remote_runs(
            lambda i: [self.dsm_bin, "pull", "--remote", f"r{i}"], clone, heavy, pull_label,
            (lambda i: ["rclone", "copy", rclone_url(i), dst]) if have_rclone else None,
            dsm_setup=fresh_clone, peer_setup=fresh_dst)
        self.remote_rows(pull_label, res, total, have_rclone, where)
        if isinstance(res.get("dsm"), Measure):
            self.run([self.dsm_bin, "verify"], cwd=clone)   # what was pulled is intact
        shutil.rmtree(clone, ignore_errors=True)
        shutil.rmtree(dst, ignore_errors=True)

        tiny = getattr(self, "tiny_repo", None)
        noop_label = f"no-op `dsm push`, {s['tiny_count']:,} datasets, to {where}"
        if not tiny:
            self.add_row(noop_label, "not available", "—", "—", "< 1 s", "not available")
            return
        self.log(noop_label)
        extra = ["--endpoint", endpoint] if endpoint else []
        self.run([self.dsm_bin, "remote", "add", "tiny", dsm_url("tiny"), *extra], cwd=tiny)
        self.run([self.dsm_bin, "push", "--remote", "tiny"], cwd=tiny)
        m = self.measure_dsm(noop_label, ["push", "--remote", "tiny"], cwd=tiny)
        self.add_row(noop_label, cell(m, files=s["tiny_count"]), "—", "—", "< 1 s", verdict(m.wall < 1.0))

    def measure_remote_runs(self, dsm_cmd, cwd, runs, label, peer_cmd, dsm_setup=None, peer_setup=None):
        """Alternates dsm and rclone runs; run i of each uses its own remote i."""
        res = {"dsm": Measure([], None), "rclone": Measure([], None) if peer_cmd else None}
        for i in range(runs):
            pairs = [("dsm", Spec("dsm", dsm_cmd(i), cwd=cwd, setup=dsm_setup))]
            if peer_cmd:
                pairs.append(("rclone", Spec("rclone", peer_cmd(i), setup=peer_setup)))
            for key, spec in pairs:
                if isinstance(res[key], BenchError):
                    continue
                try:
                    wall, peak = self.run_once(spec)
                except BenchError as e:
                    res[key] = e
                    continue
                res[key].walls.append(wall)
                if peak is not None:
                    res[key].rss = max(res[key].rss or 0, peak)
        if isinstance(res["dsm"], Measure):
            self.dsm_rss.append((label, res["dsm"].rss))
        return res

    def remote_rows(self, label, res, total, have_rclone, where):
        dsm = self.dsm_result(res, label)
        dsm_cell = cell(dsm, total) if dsm else "not available"
        if not have_rclone:
            self.add_row(label, dsm_cell, "`rclone copy`: not installed", "—", "no slower than rclone", "info")
            return
        peer = self.peer_result(res, "rclone")
        self.add_row(label, dsm_cell, f"`rclone copy`: {cell(peer, total)}", faster(peer.wall, dsm.wall) if dsm else "—",
                     "no slower than rclone", verdict(dsm.wall <= peer.wall) if dsm else "not available")

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
    def report(self, path, partial=False):
        facts = dict(self.limits.facts)
        facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        facts["benchmark wall time"] = fmt_time(time.monotonic() - self.started)
        lines = ["# Benchmarks", ""]
        if self.smoke:
            lines += ["**Smoke run: tiny data, figures are meaningless; only the code paths count.**", ""]
        if partial:
            lines += ["**Partial report: the run has not finished (or was interrupted).**", ""]
        lines += [
            "Generated by `bench/run.sh` (see [bench/bench.py](../bench/bench.py) for the method):",
            "dsm and its peers on the same files in the same run, warm page cache, a warm-up run",
            f"then the median of {self.scale['runs']} runs ({self.scale['heavy_runs']} for the slow peers);",
            "wall time around the process, peak RSS from `/usr/bin/time -v`. Floors are from issues 5, 7,",
            "8 and 17. GB/s means 10^9 bytes per second. \"not available\": the dsm command does not exist yet.",
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
    ap.add_argument("--runs", type=int, help="timed runs of each dsm command (default 5)")
    ap.add_argument("--heavy-runs", type=int, help="timed runs of the slow commands (default 3)")
    ap.add_argument("--dsm-label", help="what to call the measured dsm in the report (default: this tree's commit)")
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
    all_workloads = ["verify_many", "verify_one", "add_one", "add_small", "many_datasets", "growth", "hook_staged",
                     "startup", "add_many", "diff", "huge", "compress", "remote", "python"]
    chosen = args.only.split(",") if args.only else all_workloads
    try:
        b.machine()
        for name in chosen:
            if name == "add_one" and not hasattr(b, "one"):
                b.one = b.write_npy(os.path.join(b.work, "one.npy"), b.scale["one_bytes"], seed=1)
            b.workload(getattr(b, f"w_{name}"))
            # A partial report after each workload: an interrupted run still
            # leaves every figure it measured.
            b.report(out, partial=True)
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
