#!/usr/bin/python3
"""The workflows dsm replaces, written the way users write them today.

    np_workflow.py verify MANIFEST     np.load every array listed in a
                                       sha256sum manifest and check its
                                       SHA-256 with hashlib (exit 1 on a
                                       mismatch, like sha256sum -c)
    np_workflow.py savez SRC.npy OUT   np.savez_compressed of one array
    np_workflow.py diff A.npy B.npy    np.load both, np.isclose, count what
                                       differs and where NaNs moved (exit 1
                                       when something differs, like dsm diff)

The benchmark runs these under /usr/bin/time as peers of dsm, so their cost
includes starting Python and importing NumPy, as it does for users.
"""
import hashlib
import os
import sys

import numpy as np

CHUNK = 1 << 20


def verify(manifest):
    base = os.path.dirname(os.path.abspath(manifest))
    bad = 0
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            expected, rel = line.rstrip("\n").split("  ", 1)
            path = os.path.join(base, rel)
            # Loading proves the file parses; users do it to "check" data.
            np.load(path, allow_pickle=False)
            h = hashlib.sha256()
            with open(path, "rb") as payload:
                while chunk := payload.read(CHUNK):
                    h.update(chunk)
            if h.hexdigest() != expected:
                print(f"{rel}: FAILED")
                bad += 1
    return 1 if bad else 0


def savez(src, out):
    np.savez_compressed(out, data=np.load(src))
    return 0


def diff(a_path, b_path):
    a = np.load(a_path)
    b = np.load(b_path)
    if a.shape != b.shape or a.dtype != b.dtype:
        print("header differs")
        return 1
    close = np.isclose(a, b, rtol=0, atol=0)
    differ = int(np.count_nonzero(~close))
    an, bn = np.isnan(a), np.isnan(b)
    appeared = int(np.count_nonzero(an & ~bn))
    vanished = int(np.count_nonzero(~an & bn))
    first = np.argwhere(~close)[:5].tolist()
    finite = np.isfinite(a) & np.isfinite(b)
    max_abs = float(np.max(np.abs(a[finite] - b[finite]), initial=0))
    print(f"{a.size} compared, {differ} differ, max abs {max_abs}, nan +{appeared} -{vanished}, first {first}")
    return 1 if differ else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        return verify(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "savez":
        return savez(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        return diff(sys.argv[2], sys.argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
