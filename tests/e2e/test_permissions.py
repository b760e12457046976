"""Stored payloads are read-only, so a stray np.save to the same path fails
instead of overwriting; verify reports widened permissions and repair
narrows them again (only when the bytes are still the recorded ones)."""
import os
import stat
import subprocess

from harness import DsmTestCase, main, np

NOBODY = 65534


class PermissionsTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        src = self.save("a.npy", np.arange(10, dtype="<i8"))
        self.payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()

    def mode(self, path):
        return stat.S_IMODE(os.lstat(path).st_mode)

    def test_payload_is_read_only_and_sidecar_editable(self):
        self.assertEqual(self.mode(self.payload), 0o444)
        self.assertEqual(self.mode(self.payload + ".yaml"), 0o644)

    def test_stray_np_save_fails_instead_of_overwriting(self):
        # Root ignores file modes, so the stray save runs as an unprivileged
        # user when the suite runs as root.
        code = ("import numpy as np, sys\n"
                "try:\n"
                "    np.save(sys.argv[1], np.zeros(3))\n"
                "except PermissionError:\n"
                "    sys.exit(3)\n")
        cmd = ["/usr/bin/python3", "-c", code, self.payload]
        if os.geteuid() == 0:
            for d in (self.tmp, self.repo, os.path.dirname(os.path.dirname(self.payload)),
                      os.path.dirname(self.payload)):
                os.chmod(d, 0o755)
            cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] + cmd
        before = open(self.payload, "rb").read()
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(open(self.payload, "rb").read(), before)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_widened_permissions_reported_and_repaired(self):
        os.chmod(self.payload, 0o664)
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn(f"WRITABLE {self.payload}", r.out)
        self.dsm("verify", "--strict", cwd=self.repo, expect=1)
        r = self.dsm("repair", "--dry-run", cwd=self.repo, expect=0)
        self.assertIn(f"would make read-only {self.payload}", r.out)
        self.assertEqual(self.mode(self.payload), 0o664)
        r = self.dsm("repair", cwd=self.repo, expect=0)
        self.assertIn(f"made read-only {self.payload}", r.out)
        self.assertEqual(self.mode(self.payload), 0o444)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_repair_leaves_a_changed_writable_payload_alone(self):
        os.chmod(self.payload, 0o644)
        with open(self.payload, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            f.write(b"\x7f")
        r = self.dsm("repair", cwd=self.repo)
        self.assertIn(f"left alone {self.payload}", r.out)
        self.assertEqual(self.mode(self.payload), 0o644)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"FAILED {self.payload}: checksum mismatch", r.out)


if __name__ == "__main__":
    main()
