"""`dsm hook install`: fresh install, upgrade in place, chaining a foreign hook
(both must pass), --force, core.hooksPath, worktrees, and the shim's message
when dsm is not on PATH. Issue 4."""
import os
import stat

from harness import DsmTestCase, DSM, main, np

FOREIGN = "#!/bin/sh\necho foreign-hook-ran >> \"$(git rev-parse --show-toplevel)/foreign.log\"\nexit ${FOREIGN_RC:-0}\n"


class HookInstall(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        os.chdir(self.repo)
        self.hooks = os.path.join(self.repo, ".git", "hooks")

    def hook_text(self, hooks=None):
        with open(os.path.join(hooks or self.hooks, "pre-commit")) as f:
            return f.read()

    def write_hook(self, text, name="pre-commit", hooks=None):
        d = hooks or self.hooks
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)
        return p

    def commit(self, *extra, cwd=None, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        import subprocess
        p = subprocess.run(["git", "commit", "-q", "-m", "c", *extra], cwd=cwd or self.repo, env=e,
                           capture_output=True, text=True)
        return p

    def stage_npy(self, rel="x.npy", cwd=None):
        self.save(os.path.join(cwd or self.repo, rel), np.arange(4))
        self.git("add", "-f", rel, cwd=cwd or self.repo)

    def test_fresh_install_blocks_and_names_the_file(self):
        r = self.dsm("hook", "install", expect=0)
        self.assertIn("installed pre-commit hook", r.err)
        mode = os.stat(os.path.join(self.hooks, "pre-commit")).st_mode
        self.assertTrue(mode & stat.S_IXUSR)
        self.assertIn("# dsm-hook-version: 1", self.hook_text())
        self.stage_npy("deep/er/x.npy")
        p = self.commit()
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'deep/er/x.npy'", p.stderr)
        self.assertIn("git rm --cached deep/er/x.npy", p.stderr)
        # --no-verify bypasses.
        self.assertEqual(self.commit("--no-verify").returncode, 0)

    def test_reinstall_is_idempotent_and_upgrades_old_versions(self):
        self.dsm("hook", "install", expect=0)
        current = self.hook_text()
        r = self.dsm("hook", "install", expect=0)
        self.assertIn("already installed and current", r.err)
        self.assertEqual(self.hook_text(), current)
        # dsm's first, unversioned shim, and an older versioned one.
        for old in ["#!/bin/sh\n# dsm pre-commit hook shim (filled in by the git-integration work, issue #4).\n"
                    "exec dsm hook pre-commit \"$@\"\n",
                    "#!/bin/sh\n# dsm-hook-version: 0\nexec dsm hook pre-commit \"$@\"\n"]:
            self.write_hook(old)
            r = self.dsm("hook", "install", expect=0)
            self.assertIn("upgraded", r.err)
            self.assertEqual(self.hook_text(), current)
            self.assertFalse(os.path.exists(os.path.join(self.hooks, "pre-commit.dsm-chained")))

    def test_foreign_hook_is_chained_and_both_must_pass(self):
        self.write_hook(FOREIGN)
        r = self.dsm("hook", "install", expect=0)
        self.assertIn("pre-commit.dsm-chained", r.err)
        self.assertIn("both must pass", r.err)
        with open(os.path.join(self.hooks, "pre-commit.dsm-chained")) as f:
            self.assertEqual(f.read(), FOREIGN)
        # Clean commit: both run, both pass.
        with open("code.py", "w") as f:
            f.write("print(1)\n")
        self.git("add", "code.py")
        p = self.commit()
        self.assertEqual(p.returncode, 0, p)
        with open("foreign.log") as f:
            self.assertEqual(f.read().count("foreign-hook-ran"), 1)
        # The foreign hook failing blocks the commit on its own.
        with open("code.py", "a") as f:
            f.write("print(2)\n")
        self.git("add", "code.py")
        p = self.commit(env={"FOREIGN_RC": "3"})
        self.assertNotEqual(p.returncode, 0, p)
        # dsm's check failing blocks it too, with the foreign hook still run.
        self.stage_npy()
        p = self.commit()
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'x.npy'", p.stderr)
        with open("foreign.log") as f:
            self.assertEqual(f.read().count("foreign-hook-ran"), 3)
        # Reinstalling keeps the chain as it is.
        r = self.dsm("hook", "install", expect=0)
        self.assertIn("already installed", r.err)
        self.assertTrue(os.path.exists(os.path.join(self.hooks, "pre-commit.dsm-chained")))

    def test_force_replaces_a_foreign_hook(self):
        self.write_hook(FOREIGN)
        r = self.dsm("hook", "install", "--force", expect=0)
        self.assertIn("replaced", r.err)
        self.assertIn("# dsm-hook-version:", self.hook_text())
        self.assertFalse(os.path.exists(os.path.join(self.hooks, "pre-commit.dsm-chained")))
        with open("code.py", "w") as f:
            f.write("1\n")
        self.git("add", "code.py")
        self.assertEqual(self.commit().returncode, 0)
        self.assertFalse(os.path.exists("foreign.log"))

    def test_two_foreign_hooks_cannot_both_be_chained(self):
        self.write_hook(FOREIGN)
        self.dsm("hook", "install", expect=0)
        self.write_hook("#!/bin/sh\nexit 0\n")  # another tool overwrote dsm's hook
        r = self.dsm("hook", "install", expect=2)
        self.assertIn("already holds a chained hook", r.err)
        self.assertIn("--force", r.err)
        self.assertEqual(self.hook_text(), "#!/bin/sh\nexit 0\n")  # untouched

    def test_core_hooks_path_is_honoured(self):
        self.git("config", "core.hooksPath", "githooks")
        self.dsm("hook", "install", expect=0)
        hooks = os.path.join(self.repo, "githooks")
        self.assertIn("# dsm-hook-version:", self.hook_text(hooks))
        self.assertFalse(os.path.exists(os.path.join(self.hooks, "pre-commit")))
        self.stage_npy("a.npy")
        p = self.commit()
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'a.npy'", p.stderr)

    def test_absolute_hooks_path_with_foreign_hook(self):
        hooks = os.path.join(self.tmp, "shared-hooks")
        self.write_hook(FOREIGN, hooks=hooks)
        self.git("config", "core.hooksPath", hooks)
        r = self.dsm("hook", "install", expect=0)
        self.assertIn(os.path.join(hooks, "pre-commit.dsm-chained"), r.err)
        self.stage_npy("b.npy")
        self.assertEqual(self.commit().returncode, 1)
        self.assertTrue(os.path.exists("foreign.log"))

    def test_worktrees_share_the_hook(self):
        wt = os.path.join(self.tmp, "wt")
        self.git("worktree", "add", "-q", "-b", "side", wt)
        # Installed from the linked worktree: lands in the common hooks dir.
        self.dsm("-C", wt, "hook", "install", expect=0)
        self.assertIn("# dsm-hook-version:", self.hook_text())
        self.stage_npy("w.npy", cwd=wt)
        p = self.commit(cwd=wt)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'w.npy'", p.stderr)
        # Once unstaged, the worktree commits normally.
        self.git("rm", "-q", "--cached", "w.npy", cwd=wt)
        with open(os.path.join(wt, "code.py"), "w") as f:
            f.write("1\n")
        self.git("add", "code.py", cwd=wt)
        self.assertEqual(self.commit(cwd=wt).returncode, 0)

    def test_commit_all_and_commit_paths_use_gits_temporary_index(self):
        self.dsm("hook", "install", expect=0)
        self.save("t.npy", np.arange(3))
        self.git("add", "-f", "t.npy")
        self.assertEqual(self.commit("--no-verify").returncode, 0)
        # Modify the tracked array, commit with -a: only the temporary index
        # holds the change.
        self.save("t.npy", np.arange(5))
        p = self.commit("-a")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'t.npy'", p.stderr)
        p = self.commit("t.npy")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'t.npy'", p.stderr)

    def test_shim_without_dsm_on_path(self):
        self.dsm("hook", "install", expect=0)
        with open("code.py", "w") as f:
            f.write("1\n")
        self.git("add", "code.py")
        env = {"PATH": "/usr/bin:/bin"}
        self.assertFalse(os.path.exists("/usr/bin/dsm"))
        p = self.commit(env=env)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("'dsm' command is not on PATH", p.stderr)
        self.assertIn("git commit --no-verify", p.stderr)
        self.assertEqual(self.commit("--no-verify", env=env).returncode, 0)

    def test_help_has_exit_status(self):
        for args in (["hook", "install", "--help"], ["hook", "pre-commit", "--help"]):
            r = self.dsm(*args, expect=0)
            self.assertIn("EXIT STATUS", r.out)

    def test_outside_git(self):
        os.chdir(self.tmp)
        r = self.dsm("hook", "install", expect=2)
        self.assertIn("not inside a git work tree", r.err)


if __name__ == "__main__":
    main()
