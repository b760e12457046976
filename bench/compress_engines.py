"""Engine and level comparison behind docs/compression.md.

    /usr/bin/python3 bench/compress_engines.py [--build build] [--mib 64]

Builds bench/compress_engines.cpp against the dsm libraries in --build,
writes four kinds of arrays as raw bytes, and prints a Markdown table:
each engine/level on 1 and 2 threads (ratio = compressed/raw, MB/s of
input), next to np.savez_compressed (zlib 6, one thread) and pigz -6.
Not part of the test suite: it takes minutes and the machine must be quiet.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def build_tool(build, out):
    libs = [os.path.join(build, "src", "format", "libdsm_format.a"), os.path.join(build, "src", "util", "libdsm_util.a")]
    subprocess.run(["g++", "-std=c++20", "-O2", "-I" + os.path.join(ROOT, "src"), "-I" + os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "bench", "compress_engines.cpp"), *libs,
                    "-lz", "-ldeflate", "-lisal", "-lcrypto", "-lpthread", "-o", out], check=True)


def arrays(n_bytes):
    r = np.random.default_rng(0)
    n = n_bytes // 8
    t = np.linspace(0, 200, 2 * n).astype(np.float32)
    return {
        "random float64 (rng.random)": r.random(n),
        "smooth float32 (sine + 1% noise)": (np.sin(t) + 0.01 * r.standard_normal(2 * n).astype(np.float32)).astype(np.float32),
        "small int64 (0..999)": r.integers(0, 1000, n),
        "float64 rounded to 3 decimals": np.round(r.standard_normal(n), 3),
    }


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dsm-engines-")
    try:
        tool = os.path.join(work, "compress_engines")
        build_tool(args.build, tool)
        for label, a in arrays(args.mib << 20).items():
            raw = os.path.join(work, "a.bin")
            a.tofile(raw)
            npy = os.path.join(work, "a.npy")
            np.save(npy, a)
            size = os.path.getsize(raw)
            print(f"\n### {label}, {size >> 20} MiB\n")
            print("| engine | level | ratio | MB/s 1 thread | MB/s 2 threads |")
            print("| --- | --- | --- | --- | --- |")
            rows = {}
            for jobs in (1, 2):
                out = subprocess.run([tool, str(jobs), raw], check=True, capture_output=True, text=True).stdout
                for line in out.splitlines():
                    o = json.loads(line)
                    rows.setdefault((o["engine"], o["level"]), {})[jobs] = o
            for (engine, level), by in rows.items():
                print(f"| {engine} | {level} | {by[1]['ratio']:.4f} | {by[1]['mb_s']:.0f} | {by[2]['mb_s']:.0f} |")
            npz = os.path.join(work, "a.npz")
            t = timed([sys.executable, "-c", f"import numpy as np; a = np.load({npy!r}); np.savez_compressed({npz!r}, a=a)"])
            print(f"| np.savez_compressed | zlib 6 | {os.path.getsize(npz) / size:.4f} | {size / t / 1e6:.0f} (incl. load) | — |")
            if shutil.which("pigz"):
                gz = os.path.join(work, "a.gz")
                t = timed(["sh", "-c", f"pigz -6 -p 2 -c {raw} > {gz}"])
                print(f"| pigz -6 | zlib 6 | {os.path.getsize(gz) / size:.4f} | — | {size / t / 1e6:.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
