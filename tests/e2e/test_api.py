"""The C++ API: install dsm into a temporary prefix, build examples/ against it
with find_package(dsm), run it in a fresh repository, check what it stored."""
import hashlib
import os
import shutil

import yaml
from harness import DSM, SOURCE_DIR, DsmTestCase, main, np


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ApiTest(DsmTestCase):
    def test_installed_example_saves_like_dsm_add(self):
        build = os.path.dirname(DSM)
        prefix = os.path.join(self.tmp, "prefix")
        self.run_cmd("cmake", "--install", build, "--prefix", prefix)
        self.assertTrue(os.path.isfile(os.path.join(prefix, "include", "dsm", "api.hpp")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "lib", "cmake", "dsm", "dsmConfig.cmake")))
        # Issue 12: only the API's headers are installed, and the installed
        # targets carry none of the CLI's dependency (CLI11).
        self.assertEqual(sorted(os.listdir(os.path.join(prefix, "include", "dsm"))),
                         ["api.hpp", "error.hpp", "version.hpp"])
        cmake_dir = os.path.join(prefix, "lib", "cmake", "dsm")
        for name in os.listdir(cmake_dir):
            with open(os.path.join(cmake_dir, name)) as f:
                self.assertNotIn("CLI11", f.read(), name)
        ex_build = os.path.join(self.tmp, "build-example")
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        # A sanitized dsm (-DDSM_SANITIZE=ON, as CI runs the suite) installs
        # instrumented libraries: the program linking them needs the runtime.
        san = []
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            if "DSM_SANITIZE:BOOL=ON" in f.read():
                san = ["-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"]
        self.run_cmd("cmake", "-S", os.path.join(SOURCE_DIR, "examples"), "-B", ex_build, *gen,
                     f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release", *san)
        self.run_cmd("cmake", "--build", ex_build)
        example = os.path.join(ex_build, "save_array")

        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        # Outside a repository: a clear error, exit 2.
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        r = self.run_cmd(example, outside, check=False)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("save_array: ", r.err)

        sub = os.path.join(repo, "src")
        os.makedirs(sub)
        r = self.run_cmd(example, cwd=sub)
        payload = r.out.strip()
        self.assertTrue(payload.startswith(os.path.join(repo, "data", "example", "signal", "signal_")), payload)
        self.assertTrue(payload.endswith("_001.npy"), payload)
        a = np.load(payload)
        i = np.arange(1000)[:, None]
        j = np.arange(3)[None, :]
        np.testing.assert_allclose(a, np.sin(0.01 * i) * (j + 1), rtol=1e-15, atol=1e-15)
        # Exactly what `dsm add` stores for the same array saved by NumPy.
        again = os.path.join(self.tmp, "again.npy")
        np.save(again, a)
        self.assertEqual(sha256(again), sha256(payload))
        with open(payload + ".yaml") as f:
            s = yaml.safe_load(f)
        self.assertEqual(s["name"], "example/signal")
        self.assertEqual(s["version"], 1)
        self.assertEqual(s["sha256"], sha256(payload))
        self.assertEqual(s["meta"], {"units": "volts", "run": 17})
        self.assertEqual(s["message"], "saved by examples/save_array.cpp")
        self.assertIn("dsm::api", s["source"])
        self.assertEqual(s["shape"], [1000, 3])
        self.dsm("verify", cwd=repo, expect=0)
        # A second run is the next version; no temporary files are left.
        r2 = self.run_cmd(example, repo)
        self.assertTrue(r2.out.strip().endswith("_002.npy"))
        local = os.path.join(repo, ".dsm", "local")
        self.assertEqual([n for n in os.listdir(local) if n.endswith(".npy")], [])
        self.dsm("verify", cwd=repo, expect=0)

        # The API pushes like `dsm push`: a fresh clone pulls what it sent.
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.dsm("remote", "add", "team", store, "--default", cwd=repo, expect=0)
        r3 = self.run_cmd(example, repo, env={"SAVE_ARRAY_PUSH": "1"})
        self.assertIn("pushed 1 payload(s) to remote 'team'", r3.err)
        self.git("add", "-A", cwd=repo)
        self.git("commit", "-q", "-m", "three versions", cwd=repo)
        clone = os.path.join(self.tmp, "clone")
        self.git("clone", "-q", repo, clone)
        r = self.dsm("pull", "example/signal@3", cwd=clone, expect=0)
        self.assertIn("pulled 1 payload", r.out)
        self.assertEqual(sha256(r3.out.strip().replace(repo, clone)), sha256(r3.out.strip()))


if __name__ == "__main__":
    main()
