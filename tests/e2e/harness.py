"""Shared helpers for dsm's end-to-end tests.

Every test runs the real `dsm` binary (DSM_BIN, passed in by ctest) in a fresh
temporary git repository, with arrays written by real NumPy. Run one file by
hand with:  DSM_BIN=build/dsm /usr/bin/python3 tests/e2e/test_show.py -v
A failing test keeps its directory (printed on stderr) so it can be inspected;
DSM_KEEP=1 keeps every directory.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np  # noqa: F401  (tests import np from here)

DSM = os.environ.get("DSM_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "dsm")
DSM = os.path.abspath(DSM)


def sanitized_build():
    """True when DSM was built with ASan+UBSan or TSan (CI's second and
    third runs): its memory figures include the sanitizer's shadow and
    quarantine, and it reserves terabytes of address space, so memory
    limits and RSS floors are checked on the plain build only."""
    cache = os.path.join(os.path.dirname(DSM), "CMakeCache.txt")
    try:
        with open(cache) as f:
            text = f.read()
    except OSError:
        return False
    return "DSM_SANITIZE:BOOL=ON" in text or "DSM_TSAN:BOOL=ON" in text


SOURCE_DIR = os.environ.get("DSM_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA_DIR = os.path.join(SOURCE_DIR, "tests", "data")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"


class DsmTestCase(unittest.TestCase):
    """A fresh temp dir per test (self.tmp), chdir'd into; kept on failure."""

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="dsm-e2e-"))
        self._old_cwd = os.getcwd()
        os.chdir(self.tmp)
        self.env = dict(os.environ)
        # Isolate from the user's git config; give git an identity.
        self.home = os.path.join(self.tmp, ".home")
        os.makedirs(self.home)
        self.env.update({
            "HOME": self.home,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Tester", "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada Tester", "GIT_COMMITTER_EMAIL": "ada@example.com",
            "LC_ALL": "C.UTF-8",
        })
        # dsm on PATH, for the hook shim.
        self.env["PATH"] = os.path.dirname(DSM) + os.pathsep + self.env.get("PATH", "")

    def tearDown(self):
        os.chdir(self._old_cwd)
        failed = self._failed()
        if failed or os.environ.get("DSM_KEEP"):
            sys.stderr.write(f"\n[kept test directory: {self.tmp}]\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        for test, _ in list(result.failures) + list(result.errors):
            if test is self:
                return True
        return False

    # --- running things -------------------------------------------------
    def dsm(self, *args, cwd=None, expect=None, input=None, env=None, timeout=120):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run([DSM, *map(str, args)], cwd=cwd or os.getcwd(), env=e,
                              capture_output=True, text=True, input=input, timeout=timeout)
        r = Result(proc)
        if expect is not None:
            self.assertEqual(r.rc, expect, f"dsm {' '.join(map(str, args))} -> {r!r}")
        return r

    def run_cmd(self, *args, cwd=None, check=True, env=None, input=None):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run(list(map(str, args)), cwd=cwd or os.getcwd(), env=e,
                              capture_output=True, text=True, input=input)
        if check and proc.returncode != 0:
            self.fail(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return Result(proc)

    def git(self, *args, cwd=None, check=True):
        return self.run_cmd("git", *args, cwd=cwd, check=check)

    def make_git_repo(self, name="repo", commit=True):
        path = os.path.join(self.tmp, name)
        os.makedirs(path)
        self.git("init", "-q", "-b", "main", path)
        if commit:
            with open(os.path.join(path, "README.md"), "w") as f:
                f.write("# test repo\n")
            self.git("add", "README.md", cwd=path)
            self.git("commit", "-q", "-m", "initial", cwd=path)
        return path

    def save(self, path, array, **kw):
        """np.save to path (absolute or relative to cwd); returns abs path."""
        path = os.path.abspath(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, array, **kw)
        return path


def sha256_file(path):
    """Hex SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class InitializedRepoTestCase(DsmTestCase):
    """A committed git repository with `dsm init` done (self.repo), today's
    date as dsm names versions (self.today), and data() for paths in it."""

    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")

    def data(self, *parts):
        return os.path.join(self.repo, "data", *parts)


def add_crash_points():
    """The crash points of `dsm add`, read from src/ops/add.cpp: a point
    added there is covered by the crash tests without editing them."""
    with open(os.path.join(SOURCE_DIR, "src", "ops", "add.cpp")) as f:
        points = re.findall(r'crash_point\("([^"]+)"\)', f.read())
    assert points, "no crash points found in src/ops/add.cpp"
    return points


def main():
    unittest.main(verbosity=2)
