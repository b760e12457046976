"""Full disks and write errors: `dsm add` fails with a clear message, leaves no
partial file and no changed manifest, and the source is intact.

Two real failure sources: a small tmpfs holding the repository (ENOSPC; needs
mount permission, so that test skips where it is not granted) and
RLIMIT_FSIZE (EFBIG, works for any user, with SIGXFSZ ignored so the write
fails instead of the process being killed)."""
import hashlib
import os
import resource
import signal
import subprocess
import tempfile

from harness import DSM, DsmTestCase, main, np


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_text(path):
    with open(path) as f:
        return f.read()


def files_under(root):
    out = set()
    for r, dirs, files in os.walk(root):
        for name in files:
            out.add(os.path.relpath(os.path.join(r, name), root))
    return out


class FullDiskTest(DsmTestCase):
    def check_nothing_changed(self, repo, src, src_sha, before_files, before_manifest):
        data = os.path.join(repo, "data")
        self.assertEqual(files_under(data), before_files)  # no partial payload, sidecar or temp file
        with open(os.path.join(data, "manifest-sha256.txt")) as f:
            self.assertEqual(f.read(), before_manifest)
        self.assertEqual(sha256(src), src_sha)  # the source is intact
        self.dsm("verify", "--strict", cwd=repo, expect=0)

    def tmpfs_repo(self, size):
        """A dsm repository on a fresh tmpfs of `size` (skips where mounting is not permitted)."""
        mnt = tempfile.mkdtemp(prefix="dsm-tmpfs-", dir=self.tmp)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.decode(errors="replace").strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        repo = os.path.join(mnt, "repo")
        os.makedirs(repo)
        self.git("init", "-q", "-b", "main", repo)
        self.dsm("init", cwd=repo, expect=0)
        return mnt, repo

    @staticmethod
    def state(repo):
        data = os.path.join(repo, "data")
        return files_under(data), read_text(os.path.join(data, "manifest-sha256.txt"))

    def test_enospc_on_small_tmpfs(self):
        mnt, repo = self.tmpfs_repo("4m")
        small = self.save("small.npy", np.arange(1000, dtype="<f8"))
        self.dsm("add", small, "--name", "keep", cwd=repo, expect=0)
        before_files, before_manifest = self.state(repo)
        # 6 MiB cannot fit in what is left of 4 MiB.
        src = self.save("big.npy", np.random.default_rng(1).random(6 << 17))
        src_sha = sha256(src)
        for extra in ([], ["--move"]):
            with self.subTest(args=extra):
                r = self.dsm("add", src, "--name", "big", *extra, cwd=repo, expect=2)
                self.assertIn("No space left on device", r.err)
                self.assertTrue(r.err.startswith("dsm: error: "), r.err)
                self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
                self.assertTrue(os.path.exists(src))
                self.check_nothing_changed(repo, src, src_sha, before_files, before_manifest)
        # Fill the disk to the last byte: even the small sidecar and manifest
        # writes fail cleanly, and the next add works once space is freed.
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        tiny = self.save("tiny.npy", np.arange(3))
        r = self.dsm("add", tiny, "--name", "tiny", cwd=repo, expect=2)
        self.assertIn("No space left on device", r.err)
        self.check_nothing_changed(repo, tiny, sha256(tiny), before_files, before_manifest)
        os.unlink(filler)
        self.dsm("add", tiny, "--name", "tiny", cwd=repo, expect=0)
        self.dsm("verify", "--strict", cwd=repo, expect=0)

    # From 32 MiB on, add copies on a second thread (copy_file_range, or
    # read/write when the kernel cannot copy between the two filesystems, as
    # from here to a tmpfs): the same promises hold there.
    def test_large_copy_enospc_on_small_tmpfs(self):
        _, repo = self.tmpfs_repo("16m")
        before_files, before_manifest = self.state(repo)
        src = self.save("big.npy", np.random.default_rng(3).random(40 << 17))  # 40 MiB
        src_sha = sha256(src)
        r = self.dsm("add", src, "--name", "big", cwd=repo, expect=2)
        self.assertIn("No space left on device", r.err)
        self.assertTrue(r.err.startswith("dsm: error: "), r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.check_nothing_changed(repo, src, src_sha, before_files, before_manifest)

    def check_file_size_limit(self, elements, limit_bytes):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save("big.npy", np.random.default_rng(2).random(elements))
        src_sha = sha256(src)
        before_files, before_manifest = self.state(repo)

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

        proc = subprocess.run([DSM, "add", src, "--name", "big"], cwd=repo, env=self.env, capture_output=True,
                              text=True, preexec_fn=limit)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("File too large", proc.stderr)
        self.assertTrue(proc.stderr.startswith("dsm: error: "), proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.check_nothing_changed(repo, src, src_sha, before_files, before_manifest)
        self.dsm("add", src, "--name", "big", cwd=repo, expect=0)

    def test_file_size_limit_efbig(self):
        self.check_file_size_limit(1 << 18, 1 << 20)  # 2 MiB against 1 MiB

    def test_large_copy_file_size_limit_efbig(self):
        self.check_file_size_limit(40 << 17, 8 << 20)  # 40 MiB against 8 MiB: the parallel copy


if __name__ == "__main__":
    main()
