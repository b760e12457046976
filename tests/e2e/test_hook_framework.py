"""The pre-commit framework (Debian package `pre-commit`) runs dsm's checks
through the `.pre-commit-hooks.yaml` shipped at the root of dsm's source tree.
Offline: the hook repository is a local git repository holding that file.
Issue 4."""
import os
import shutil
import subprocess
import unittest

from harness import DsmTestCase, SOURCE_DIR, main, np

PRE_COMMIT = shutil.which("pre-commit")


@unittest.skipUnless(PRE_COMMIT, "pre-commit is not installed (scripts/install-deps.sh --test)")
class PreCommitFramework(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.env["PRE_COMMIT_HOME"] = os.path.join(self.tmp, ".pre-commit-cache")
        # A hook repository with exactly the file dsm ships.
        self.hook_repo = self.make_git_repo("dsm-hooks", commit=False)
        shutil.copy(os.path.join(SOURCE_DIR, ".pre-commit-hooks.yaml"), self.hook_repo)
        self.git("add", ".pre-commit-hooks.yaml", cwd=self.hook_repo)
        self.git("commit", "-q", "-m", "hooks", cwd=self.hook_repo)
        rev = self.git("rev-parse", "HEAD", cwd=self.hook_repo).out.strip()
        self.repo = self.make_git_repo()
        os.chdir(self.repo)
        with open(".pre-commit-config.yaml", "w") as f:
            f.write(f"repos:\n- repo: {self.hook_repo}\n  rev: {rev}\n  hooks:\n  - id: dsm-check\n")
        self.git("add", ".pre-commit-config.yaml")
        self.git("commit", "-q", "--no-verify", "-m", "pre-commit config")
        self.run_cmd(PRE_COMMIT, "install")

    def commit(self):
        return subprocess.run(["git", "commit", "-q", "-m", "c"], env=self.env, capture_output=True, text=True)

    def test_framework_runs_dsm_and_blocks_an_array(self):
        self.save("sub/x.npy", np.arange(10))
        self.git("add", "-f", "sub/x.npy")
        p = self.commit()
        self.assertNotEqual(p.returncode, 0, p)
        out = p.stdout + p.stderr
        self.assertIn("- hook id: dsm-check", out)
        self.assertIn("Failed", out)
        self.assertIn("'sub/x.npy'", out)
        self.assertIn("git rm --cached sub/x.npy", out)
        log = self.git("log", "--oneline").out
        self.assertEqual(len(log.splitlines()), 2)

    def test_framework_lets_clean_commits_through(self):
        with open("code.py", "w") as f:
            f.write("print('hi')\n")
        self.git("add", "code.py")
        p = self.commit()
        self.assertEqual(p.returncode, 0, p)
        self.assertIn("Passed", p.stdout + p.stderr)


if __name__ == "__main__":
    main()
