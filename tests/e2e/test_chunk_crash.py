"""Crash consistency of chunked and compressed adds: SIGKILL at every crash point of
src/ops/add.cpp, then verify/status explain the leftovers and repair cleans them up
(rolls back while the source holds the same data, completes when it is gone)."""
import os

from harness import DsmTestCase, main, np
from harness import add_crash_points as crash_points
from harness import sha256_file as sha256


class ChunkCrashTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.data = os.path.join(self.repo, "data")

    def manifest(self):
        with open(os.path.join(self.data, "manifest-sha256.txt")) as f:
            return f.read().splitlines()

    def leftovers(self, point):
        v = self.dsm("verify", "--json", cwd=self.repo)
        self.assertEqual(v.rc, 0, f"{point}: {v!r}")
        findings = v.json()["findings"]
        self.assertFalse({f["kind"] for f in findings} & {"failed", "missing", "mismatch"}, f"{point}: {v.out}")
        for f in findings:
            if f["kind"] == "temp":
                self.assertIn("dsm repair", f["detail"], f)
            elif f["kind"] == "untracked":
                self.assertIn("unfinished 'dsm add'", f["detail"], f)
        status = self.dsm("status", "--json", cwd=self.repo).json()
        left = {f["path"] for f in findings if f["kind"] in ("temp", "untracked")}
        self.assertEqual(left, set(status.get("temp", [])) | set(status.get("untracked", [])), point)
        return findings

    def clean(self, point):
        for dirpath, dirs, files in os.walk(self.data):
            for n in dirs + files:
                self.assertFalse(n.startswith(".dsm-tmp-"), f"{point}: temp left: {dirpath}/{n}")
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def run_points(self, option, remove_source):
        for n, point in enumerate(crash_points()):
            with self.subTest(point=point):
                a = np.arange(600 * 4, dtype="<f8").reshape(600, 4) + n
                src = self.save(f"in{n}/x{n}.npy", a)
                lines_before = self.manifest()
                r = self.dsm("add", *option, src, "--name", "x", cwd=self.repo, env={"DSM_TEST_CRASH_AT": point})
                self.assertEqual(r.rc, -9, f"{point}: {r!r}")
                new = [l for l in self.manifest() if l not in lines_before]
                findings = self.leftovers(point)
                self.assertEqual(bool(findings), not new, f"{point}: {new} {findings}")
                if remove_source:
                    os.unlink(src)
                rep = self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
                for f in findings:
                    # Per file, or once for a chunk directory.
                    self.assertTrue(f["path"] in rep.out or os.path.dirname(f["path"]) in rep.out,
                                    f"{point}: repair did not mention {f['path']}: {rep.out}")
                self.clean(point)
                after = [l for l in self.manifest() if l not in lines_before]
                if "rolled back" in rep.out:
                    self.assertEqual(after, [], point)
                if "completed" in rep.out or new:
                    # The version is listed whole: it exports to the source's bytes.
                    self.assertTrue(after, f"{point}: {rep.out}")
                    out = os.path.join(self.tmp, f"back{n}.npy")
                    self.dsm("export", "x", "--out", out, cwd=self.repo, expect=0)
                    ref = os.path.join(self.tmp, f"ref{n}.npy")
                    np.save(ref, a)
                    self.assertEqual(sha256(out), sha256(ref), point)
                if remove_source:
                    self.assertNotIn("rolled back", rep.out, point)
                else:
                    self.assertNotIn("completed", rep.out, point)
                # A new add works afterwards (the dead process's lock is taken over).
                again = self.save(f"again{n}.npy", a)
                self.dsm("add", *option, again, "--name", "x", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
                self.clean(point)

    def test_chunked_source_kept(self):
        self.run_points(["--chunk-size", "4KiB"], remove_source=False)

    def test_chunked_source_gone(self):
        self.run_points(["--chunk-size", "4KiB"], remove_source=True)

    def test_compressed_source_kept(self):
        self.run_points(["--compress"], remove_source=False)


if __name__ == "__main__":
    main()
