"""`cmake --install` puts the package where /usr/bin/python3 finds it for
the prefix, and the installed `dsm import` finds the installed package."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

BUILD = os.environ.get("DSM_BUILD_DIR")


@pytest.mark.skipif(not BUILD, reason="DSM_BUILD_DIR (set by ctest) names the build tree to install")
def test_cmake_install_layout_and_installed_cli(tmp_path, repo_dir):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", BUILD, "--prefix", str(prefix)], check=True, capture_output=True)
    v = sys.version_info
    site = "dist-packages" if any(p.endswith("dist-packages") for p in sys.path) else "site-packages"
    pkg = prefix / "lib" / f"python{v.major}.{v.minor}" / site
    assert (pkg / "dsm" / "__init__.py").exists() and (pkg / "dsm" / "__init__.pyi").exists()
    assert [f for f in os.listdir(pkg / "dsm") if f.startswith("_dsm.") and f.endswith(".so")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    (repo_dir / "a.pkl").write_bytes(pickle.dumps({"x": np.arange(4)}))
    out = subprocess.run([str(prefix / "bin" / "dsm"), "import", "a.pkl", "--name", "inst"], cwd=repo_dir, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # The prefix's directory on the path (it is there by default for /usr/local).
    r = subprocess.run([sys.executable, "-c", "import dsm; print(dsm.__file__); "
                        "print(int(dsm.load('inst', nested=True)['x'].sum()))"],
                       cwd=repo_dir, env=dict(env, PYTHONPATH=str(pkg)), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [str(pkg / "dsm" / "__init__.py"), "6"]
