"""`dsm doctor [--json] [--history N]`: each health check finds what it
should, names the fix, and exit codes follow 0/1/2. Issue 4."""
import os
import re
import subprocess

import unittest

from harness import DSM, DsmTestCase, main, np


def _has_command(name):
    listing = subprocess.run([DSM, "--help"], capture_output=True, text=True).stdout
    # Any indentation: the help's command list changed from two spaces to
    # three once, and every test here was silently skipped.
    return re.search(rf"^\s+{re.escape(name)}\s", listing, re.M) is not None


# Until `dsm init`/`dsm add` (issue 3) are in the binary these cannot run.
NEEDS_REPO = unittest.skipUnless(_has_command("init") and _has_command("add"), "needs dsm init and dsm add")


@NEEDS_REPO
class Doctor(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        os.chdir(self.repo)
        self.dsm("init", expect=0)
        src = self.save(os.path.join(self.tmp, "src", "feat.npy"), np.arange(12.0).reshape(3, 4))
        self.payload = self.dsm("add", src, "--name", "feat", expect=0).out.strip().splitlines()[-1]
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")

    def doctor_json(self, *args, expect):
        r = self.dsm("doctor", "--json", *args, expect=expect)
        report = r.json()
        return {c["name"]: c for c in report["checks"]}, report

    def test_healthy_repository(self):
        r = self.dsm("doctor", expect=0)
        for name in ("config", "data_dir", "gitignore", "hook", "index", "history", "consistency"):
            self.assertIn(f"ok       {name}:", r.out)
        checks, report = self.doctor_json(expect=0)
        self.assertTrue(report["ok"])
        self.assertEqual(report["problems"], 0)
        self.assertEqual(report["root"], self.repo)
        self.assertTrue(all(c["ok"] for c in checks.values()))

    def test_missing_and_outdated_hook(self):
        hook = os.path.join(self.repo, ".git", "hooks", "pre-commit")
        os.remove(hook)
        r = self.dsm("doctor", expect=1)
        self.assertIn("PROBLEM  hook:", r.out)
        self.assertIn("dsm hook install", r.out)
        with open(hook, "w") as f:
            f.write("#!/bin/sh\n# dsm-hook-version: 0\nexec dsm hook pre-commit\n")
        os.chmod(hook, 0o755)
        checks, _ = self.doctor_json(expect=1)
        self.assertIn("upgrade", checks["hook"]["findings"][0]["message"])
        self.dsm("hook", "install", expect=0)
        self.dsm("doctor", expect=0)

    def test_payload_in_index_and_history(self):
        self.save("leak/a.npy", np.arange(3))
        np.savez("leak/b.npz", x=np.arange(2))
        os.rename("leak/b.npz", "leak/b.dat")
        self.git("add", "-f", "leak")
        self.git("commit", "-q", "--no-verify", "-m", "oops")
        checks, report = self.doctor_json(expect=1)
        paths = {f["path"] for f in checks["index"]["findings"]}
        self.assertEqual(paths, {"leak/a.npy", "leak/b.dat"})
        self.assertIn("git rm --cached leak/a.npy", " ".join(f["message"] for f in checks["index"]["findings"]))
        # Reported once, by the index check, not again by history.
        self.assertEqual(checks["history"]["findings"], [])
        # Removed from the index, still in history.
        self.git("rm", "-q", "--cached", "-r", "leak")
        self.git("commit", "-q", "-m", "remove")
        checks, _ = self.doctor_json(expect=1)
        self.assertEqual(checks["index"]["findings"], [])
        hist = {f["path"] for f in checks["history"]["findings"]}
        self.assertEqual(hist, {"leak/a.npy", "leak/b.dat"})
        self.assertIn("filter-repo", checks["history"]["findings"][0]["message"])
        # Outside the window, it is not looked at.
        self.dsm("doctor", "--history", "1", expect=0)
        checks, _ = self.doctor_json("--history", "2", expect=1)
        self.assertEqual(len(checks["history"]["findings"]), 2)

    def test_gitignore_block_edited(self):
        with open(".gitignore") as f:
            text = f.read()
        with open(".gitignore", "w") as f:
            f.write(text.replace(".npz", ".npzz"))
        checks, _ = self.doctor_json(expect=1)
        self.assertIn("dsm init", checks["gitignore"]["findings"][0]["message"])

    def test_invalid_config(self):
        with open(".dsm/config.yaml", "a") as f:
            f.write("colour: blue\n")
        r = self.dsm("doctor", expect=1)
        self.assertIn("PROBLEM  config:", r.out)
        self.assertIn("colour", r.out)
        self.assertIn("config.yaml':", r.out)  # names file:line
        self.assertIn("skip     data_dir", r.out)

    def test_data_dir_missing_and_code_in_data_dir(self):
        with open("data/helper.py", "w") as f:
            f.write("x = 1\n")
        self.git("add", "data/helper.py")
        checks, _ = self.doctor_json(expect=1)
        self.assertEqual([f["path"] for f in checks["data_dir"]["findings"]], ["data/helper.py"])

    def test_manifest_and_sidecars_disagree(self):
        manifest = os.path.join(self.repo, "data", "manifest-sha256.txt")
        with open(manifest) as f:
            text = f.read()
        with open(manifest, "w") as f:
            f.write(text.replace(text.split()[0], "f" * 64))
        checks, _ = self.doctor_json(expect=1)
        msgs = " ".join(f["message"] for f in checks["consistency"]["findings"])
        self.assertIn("dsm verify", msgs)
        # A payload gone missing.
        with open(manifest, "w") as f:
            f.write(text)
        os.chmod(self.payload, 0o644)
        os.remove(self.payload)
        checks, _ = self.doctor_json(expect=1)
        self.assertIn("missing from the work tree", checks["consistency"]["findings"][0]["message"])

    def test_not_a_dsm_repository(self):
        other = self.make_git_repo("plain")
        r = self.dsm("doctor", cwd=other, expect=2)
        self.assertIn("dsm init", r.err)
        os.chdir(self.tmp)
        self.dsm("doctor", expect=2)

    def test_help(self):
        r = self.dsm("doctor", "--help", expect=0)
        self.assertIn("EXIT STATUS", r.out)
        self.assertIn("--history", r.out)


if __name__ == "__main__":
    main()
