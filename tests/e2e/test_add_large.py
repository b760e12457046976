"""dsm add of files large enough for the parallel copy (>= 32 MiB): the
kernel copies on a second thread while dsm hashes and summarises the copy.
What is recorded must describe exactly what was stored, np.load must read
it back, and a source that changes during the copy must be refused."""
import glob
import os
import signal
import subprocess
import threading
import time

import yaml
from harness import DSM, InitializedRepoTestCase, main, np
from harness import sha256_file as sha256


class AddLargeTest(InitializedRepoTestCase):

    def files(self):
        out = {}
        for d, _, names in os.walk(self.data()):
            for n in names:
                p = os.path.join(d, n)
                out[os.path.relpath(p, self.data())] = sha256(p)
        return out

    def test_large_npy_is_copied_hashed_and_summarised_exactly(self):
        a = np.random.default_rng(7).standard_normal((5 * 1024 * 1024, 2)).astype("<f4")  # 40 MiB
        a[123, 1] = np.nan
        src = self.save("big.npy", a)
        stored = self.dsm("add", src, "--name", "big", cwd=self.repo, expect=0).out.strip()
        self.assertEqual(sha256(stored), sha256(src))
        with open(stored + ".yaml") as f:
            side = yaml.safe_load(f)
        self.assertEqual(side["sha256"], sha256(src))
        self.assertEqual(side["size"], os.path.getsize(src))
        self.assertEqual(side["shape"], [5 * 1024 * 1024, 2])
        self.assertEqual(side["stats"]["nan"], 1)
        finite = a[~np.isnan(a)]
        self.assertAlmostEqual(side["stats"]["min"], float(finite.min()), places=6)
        self.assertAlmostEqual(side["stats"]["max"], float(finite.max()), places=6)
        np.testing.assert_array_equal(np.load(stored), a)
        self.dsm("verify", cwd=self.repo, expect=0)
        with open(self.data("manifest-sha256.txt")) as f:
            self.assertIn(sha256(src), f.read())

    def test_large_npz_is_stored_whole(self):
        # An .npz's directory sits at its end: the scan waits for the copy to
        # get there before reading it.
        src = os.path.abspath("big.npz")
        np.savez(src, x=np.arange(5 * 1024 * 1024, dtype="<i8"), y=np.ones(3))
        stored = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        self.assertEqual(sha256(stored), sha256(src))
        with np.load(stored) as z:
            self.assertEqual(int(z["x"][-1]), 5 * 1024 * 1024 - 1)
        self.dsm("verify", cwd=self.repo, expect=0)

    def test_bad_large_file_is_refused_naming_the_source_and_nothing_is_left(self):
        src = os.path.abspath("fake.npy")
        with open(src, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + b"\x00" * (40 << 20))
        before = self.files()
        r = self.dsm("add", src, cwd=self.repo, expect=2)
        self.assertTrue(r.err.startswith("dsm: error: '" + src + "'"), r.err)
        self.assertEqual(self.files(), before)

    def test_source_changing_during_the_copy_is_refused(self):
        # 64 MiB takes the parallel copy, 24 MiB the one-thread copy: the
        # check is the same for both.
        for mib in (64, 24):
            with self.subTest(mib=mib):
                self.check_source_changing_is_refused(mib)

    def check_source_changing_is_refused(self, mib):
        src = self.save(f"moving{mib}.npy", np.zeros(mib * 1024 * 1024 // 8))
        before = sha256(src)
        files = self.files()
        stop = threading.Event()

        def touch():
            # Moves the source's mtime without changing its bytes, for as
            # long as dsm runs: every check window sees a change.
            t = 1_000_000_000
            while not stop.is_set():
                t += 1
                os.utime(src, (t, t))
                time.sleep(0.0005)

        toucher = threading.Thread(target=touch)
        toucher.start()
        try:
            r = subprocess.run([DSM, "add", src], cwd=self.repo, env=self.env, capture_output=True, text=True,
                               timeout=120)
        finally:
            stop.set()
            toucher.join()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("changed while being copied", r.stderr)
        self.assertEqual(self.files(), files)  # no payload, sidecar or temp file
        self.assertEqual(sha256(src), before)

    def test_ctrl_c_during_the_copy_leaves_nothing(self):
        src = self.save("big.npy", np.ones(256 * 1024 * 1024 // 8))  # 256 MiB
        src_sha = sha256(src)
        before = self.files()
        proc = subprocess.Popen([DSM, "add", src], cwd=self.repo, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not glob.glob(self.data("**", ".dsm-tmp-*"), recursive=True) and proc.poll() is None:
            self.assertLess(time.monotonic(), deadline, "no temp file appeared")
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertEqual(self.files(), before)  # no temp file, payload, sidecar or manifest change
        self.assertEqual(sha256(src), src_sha)


if __name__ == "__main__":
    main()
