"""pytest fixtures for the Python package's tests (tests/python/).

ctest runs `/usr/bin/python3 -m pytest tests/python -q` with
PYTHONPATH=<build>/python and DSM_BIN=<build>/dsm. By hand:
  PYTHONPATH=build/python DSM_BIN=build/dsm /usr/bin/python3 -m pytest tests/python -q
"""
import os
import subprocess
import sys

import pytest

# Subprocesses run in other directories: make PYTHONPATH absolute.
if os.environ.get("PYTHONPATH"):
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in os.environ["PYTHONPATH"].split(os.pathsep))

DSM = os.path.abspath(os.environ.get("DSM_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "dsm"))


def isolated_env(home):
    env = dict(os.environ)
    env.update({
        "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Tester", "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester", "GIT_COMMITTER_EMAIL": "ada@example.com",
        "LC_ALL": "C.UTF-8",
    })
    env["PATH"] = os.path.dirname(DSM) + os.pathsep + env.get("PATH", "")
    return env


def dsm_cli(*args, cwd, env, check=True):
    """Runs the real `dsm` binary; returns the CompletedProcess."""
    p = subprocess.run([DSM, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"dsm {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def make_repo(path, monkeypatch):
    path.mkdir(parents=True, exist_ok=True)
    home = path / ".home"
    home.mkdir()
    env = isolated_env(home)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    dsm_cli("init", cwd=path, env=env)
    monkeypatch.chdir(path)
    return env


@pytest.fixture
def repo_dir(tmp_path, monkeypatch):
    """A fresh git repository with `dsm init` done; the test runs inside it."""
    d = tmp_path / "work"
    make_repo(d, monkeypatch)
    return d


@pytest.fixture
def repo(repo_dir):
    import dsm
    return dsm.Repo(repo_dir)


@pytest.fixture
def env(repo_dir):
    return dict(os.environ)


@pytest.fixture
def python():
    return sys.executable
