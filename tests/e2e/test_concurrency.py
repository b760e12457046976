"""Concurrent dsm add: distinct versions, every manifest line once, verify alongside; lock timeout."""
import os
import socket
import subprocess
import time

from harness import DSM, DsmTestCase, main, np


class ConcurrencyTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)

    def test_eight_concurrent_adds(self):
        srcs = [self.save(f"in/x{i}.npy", np.full(1000, i, dtype="<i4")) for i in range(8)]
        procs = [subprocess.Popen([DSM, "add", s, "--name", "shared"], cwd=self.repo, env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in srcs]
        verifier = subprocess.run([DSM, "verify"], cwd=self.repo, env=self.env, capture_output=True, text=True)
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            outs.append(out.strip())
        # A verify running beside them never reports a false failure.
        self.assertNotIn("FAILED", verifier.stdout)
        self.assertNotIn("MISMATCH", verifier.stdout)
        self.assertEqual(len(set(outs)), 8)
        versions = sorted(int(o.rsplit("_", 1)[1].split(".")[0]) for o in outs)
        self.assertEqual(versions, list(range(1, 9)))
        with open(os.path.join(self.repo, "data", "manifest-sha256.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 8)
        self.assertEqual(len({l.split("  ")[1] for l in lines}), 8)
        # Each stored payload holds the array of the process that printed it.
        for src, out in zip(srcs, outs):
            self.assertTrue((np.load(src) == np.load(out)).all())
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=os.path.join(self.repo, "data"))

    def test_thirty_two_adds_with_verify_and_status_beside(self):
        """32 adds over 4 names at once, verify and status looping beside them."""
        srcs = [self.save(f"in/y{i}.npy", np.full(64, i, dtype="<i8")) for i in range(32)]
        procs = [subprocess.Popen([DSM, "add", s, "--name", f"n{i % 4}"], cwd=self.repo, env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i, s in enumerate(srcs)]
        watchers = []
        while any(p.poll() is None for p in procs):
            for cmd in (["verify"], ["status"]):
                w = subprocess.run([DSM, *cmd], cwd=self.repo, env=self.env, capture_output=True, text=True)
                watchers.append((cmd, w))
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            outs.append(out.strip())
        for cmd, w in watchers:
            # Never a false failure: only in-flight work (temp files, not yet
            # listed payloads) may show, and those are not errors.
            self.assertIn(w.returncode, (0,), (cmd, w.stdout, w.stderr))
            for bad in ("FAILED", "MISMATCH", "MISSING", "ORPHAN"):
                self.assertNotIn(bad, w.stdout, (cmd, w.stdout))
        self.assertEqual(len(set(outs)), 32)
        for k in range(4):
            versions = sorted(int(o.rsplit("_", 1)[1].split(".")[0]) for o in outs if f"/n{k}/" in o)
            self.assertEqual(versions, list(range(1, 9)))
        lines = open(os.path.join(self.repo, "data", "manifest-sha256.txt")).read().splitlines()
        self.assertEqual(len(lines), 32)
        self.assertEqual(len({l.split("  ")[1] for l in lines}), 32)
        for src, out in zip(srcs, outs):
            self.assertTrue((np.load(src) == np.load(out)).all())
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_live_lock_times_out_naming_holder(self):
        lock = os.path.join(self.repo, ".dsm", "local", "lock")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        holder = subprocess.Popen(["sleep", "30"])
        try:
            with open(lock, "w") as f:
                f.write(f"{holder.pid} {socket.gethostname()} {int(time.time())}\n")
            src = self.save("w.npy", np.zeros(3))
            t0 = time.time()
            r = self.dsm("add", src, cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "0.5"}, expect=2)
            self.assertLess(time.time() - t0, 10)
            self.assertIn(f"held by process {holder.pid} on {socket.gethostname()}", r.err)
            self.assertEqual(open(os.path.join(self.repo, "data", "manifest-sha256.txt")).read(), "")
            self.assertEqual(sorted(os.listdir(os.path.join(self.repo, "data"))), ["manifest-sha256.txt"])
        finally:
            holder.kill()
            holder.wait()
        # Holder gone: the stale lock is taken over.
        self.dsm("add", src, cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "2"}, expect=0)
        self.assertFalse(os.path.exists(lock))


if __name__ == "__main__":
    main()
