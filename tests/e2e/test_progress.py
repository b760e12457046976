"""Progress on a terminal only (issue 18): add, compress, export, push, pull
and verify draw one line on stderr with bytes, rate and ETA when stderr is a
terminal (a pty here), moving within one large file; never when stderr is a
pipe, with -q or with --no-progress."""
import os
import pty
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DSM, DsmTestCase, main, np  # noqa: E402

# Frames every 5 ms instead of 300/200 ms (CONTRIBUTING.md, test knobs), so
# one file of 192 MiB is seen part-way on a fast machine too.
KNOB = {"DSM_TEST_PROGRESS_MS": "5"}
FRAME = re.compile(r"\r(\w+) +(\d+)% \[[=> ]+\] ([\d.]+ \w+) / ([\d.]+ \w+)(?:, (\d+) of (\d+))?, ([\d.]+ \w+)/s")


def run_on_pty(args, cwd, env=None):
    """Runs dsm with stderr on a pty (stdout a pipe); returns (rc, out, err)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([DSM, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, **KNOB, **(env or {})})
    os.close(slave)
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the pty
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    with proc.stdout:
        out = proc.stdout.read()
    proc.wait(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


class ProgressTest(DsmTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        # One large file: 192 MiB of float64.
        self.big = os.path.join(self.tmp, "big.npy")
        np.save(self.big, np.arange(24 << 20, dtype=np.float64))

    def frames(self, err):
        return FRAME.findall(err)

    def assert_moves_within_one_file(self, err, verb):
        frames = [f for f in self.frames(err) if f[0] == verb]
        self.assertTrue(frames, f"no {verb} progress line in {err[:500]!r}")
        # Part-way frames of the one file: the line moves within it.
        partial = sorted({int(f[1]) for f in frames if int(f[1]) < 100})
        self.assertGreaterEqual(len(partial), 2, f"{verb}: {partial}")
        self.assertTrue(all(f[3] == "192.0 MiB" for f in frames), frames[:3])
        self.assertIn("ETA ", err)
        # Erased at the end: the last thing on stderr clears the line.
        self.assertTrue(err.rstrip("\n").endswith("\r\x1b[K") or "\r\x1b[K" in err)

    def test_add_verify_export_compress_on_a_terminal(self):
        rc, out, err = run_on_pty(["add", self.big, "--name", "big"], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "add")
        self.assertNotIn("\r", out)  # stdout keeps its summary, no bar

        rc, out, err = run_on_pty(["verify", "-j", "1"], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "verify")
        self.assertIn("1 payload", out)

        rc, out, err = run_on_pty(["export", "big", "-o", os.path.join(self.tmp, "out.npy")], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "export")

        rc, out, err = run_on_pty(["compress", "big", "--level", "1"], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "compress")

    def test_push_and_pull_on_a_terminal(self):
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.dsm("add", self.big, "--name", "big", cwd=self.repo, expect=0)
        self.dsm("remote", "add", "team", store, cwd=self.repo, expect=0)
        rc, out, err = run_on_pty(["push", "-j", "1"], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "push")
        stored = self.dsm("path", "big", cwd=self.repo).out.strip()
        os.chmod(stored, 0o644)
        os.remove(stored)
        rc, out, err = run_on_pty(["pull", "-j", "1"], self.repo)
        self.assertEqual(rc, 0, err)
        self.assert_moves_within_one_file(err, "pull")

    def test_never_on_a_pipe_nor_with_quiet_or_no_progress(self):
        r = self.dsm("add", self.big, "--name", "big", cwd=self.repo, expect=0, env={**os.environ, **KNOB})
        self.assertNotIn("\r", r.err)
        self.assertNotIn("%", r.err)
        r = self.dsm("verify", "-j", "1", cwd=self.repo, expect=0, env={**os.environ, **KNOB})
        self.assertEqual(r.err, "")
        for args in [["verify", "-j", "1", "-q"], ["verify", "-j", "1", "--no-progress"],
                     ["--no-progress", "verify", "-j", "1"]]:
            rc, out, err = run_on_pty(args, self.repo)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.frames(err), [], args)
            self.assertNotIn("\r", err, args)


if __name__ == "__main__":
    main()
