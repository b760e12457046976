"""dsm init: layout, idempotence, .gitignore block repair, refusals."""
import os

from harness import DsmTestCase, main


def snapshot(root):
    """Every file under root (except .git) with its bytes: to prove 'unchanged'."""
    out = {}
    for d, dirs, files in os.walk(root):
        if ".git" in dirs:
            dirs.remove(".git")
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
        for sub in dirs:
            out[os.path.relpath(os.path.join(d, sub), root) + "/"] = None
    return out


class InitTest(DsmTestCase):
    def test_layout_from_subfolder(self):
        repo = self.make_git_repo()
        sub = os.path.join(repo, "src", "deep")
        os.makedirs(sub)
        r = self.dsm("init", cwd=sub, expect=0)
        self.assertIn(repo, r.out)
        self.assertTrue(os.path.isfile(os.path.join(repo, ".dsm", "config.yaml")))
        self.assertTrue(os.path.isdir(os.path.join(repo, "data")))
        with open(os.path.join(repo, "data", "manifest-sha256.txt"), "rb") as f:
            self.assertEqual(f.read(), b"")
        with open(os.path.join(repo, ".dsm", "config.yaml")) as f:
            cfg = f.read()
        self.assertIn("version: 1", cfg)
        self.assertIn('data_dir: "data"', cfg)
        with open(os.path.join(repo, ".gitignore")) as f:
            gi = f.read()
        self.assertIn("/data/**/*.npy", gi)
        # Payloads are ignored, sidecars and the manifest are not.
        os.makedirs(os.path.join(repo, "data", "x"))
        for name in ("x/x_20260101_001.npy", "x/x_20260101_001.npy.yaml"):
            open(os.path.join(repo, "data", name), "w").close()
        ignored = self.git("check-ignore", "data/x/x_20260101_001.npy", cwd=repo, check=False)
        self.assertEqual(ignored.rc, 0)
        for tracked in ("data/x/x_20260101_001.npy.yaml", "data/manifest-sha256.txt", ".dsm/config.yaml"):
            self.assertEqual(self.git("check-ignore", tracked, cwd=repo, check=False).rc, 1, tracked)

    def test_idempotent_and_repairs_block(self):
        repo = self.make_git_repo()
        with open(os.path.join(repo, ".gitignore"), "w") as f:
            f.write("*.o\n")
        self.dsm("init", cwd=repo, expect=0)
        before = snapshot(repo)
        r = self.dsm("init", cwd=repo, expect=0)
        self.assertIn("nothing changed", r.out)
        self.assertEqual(snapshot(repo), before)
        # Hand-edit the block: it is repaired in place, not duplicated.
        gi_path = os.path.join(repo, ".gitignore")
        with open(gi_path) as f:
            gi = f.read()
        with open(gi_path, "w") as f:
            f.write(gi.replace("/data/**/*.npz\n", "") + "build/\n")
        self.dsm("init", cwd=repo, expect=0)
        with open(gi_path) as f:
            fixed = f.read()
        self.assertEqual(fixed, gi + "build/\n")
        self.assertEqual(fixed.count(">>> dsm managed block"), 1)
        self.assertTrue(fixed.startswith("*.o\n"))

    def test_custom_data_dir_relative_to_cwd(self):
        repo = self.make_git_repo()
        os.makedirs(os.path.join(repo, "work"))
        self.dsm("init", "--data-dir", "../datasets/raw", cwd=os.path.join(repo, "work"), expect=0)
        self.assertTrue(os.path.isfile(os.path.join(repo, "datasets", "raw", "manifest-sha256.txt")))
        with open(os.path.join(repo, ".gitignore")) as f:
            self.assertIn("/datasets/raw/**/*.npy", f.read())
        # Changing it on an initialised repository is refused.
        r = self.dsm("init", "--data-dir", "other", cwd=repo, expect=2)
        self.assertIn("already initialised", r.err)

    def test_refusals_leave_repository_unchanged(self):
        repo = self.make_git_repo()
        os.makedirs(os.path.join(repo, "src"))
        with open(os.path.join(repo, "src", "main.py"), "w") as f:
            f.write("print('hi')\n")
        self.git("add", "src/main.py", cwd=repo)
        self.git("commit", "-q", "-m", "code", cwd=repo)
        before = snapshot(repo)
        cases = [
            (["--data-dir", "."], "root"),
            (["--data-dir", ".."], "outside"),
            (["--data-dir", "/"], "outside"),
            (["--data-dir", "src"], "tracked"),
            (["--data-dir", ".git/x"], ".git"),
        ]
        for args, why in cases:
            r = self.dsm("init", *args, cwd=repo, expect=2)
            self.assertIn(why, r.err, args)
            self.assertTrue(r.err.startswith("dsm: error: "), r.err)
            self.assertEqual(snapshot(repo), before, args)

    def test_outside_git_work_tree(self):
        d = os.path.join(self.tmp, "plain")
        os.makedirs(d)
        r = self.dsm("init", cwd=d, expect=2)
        self.assertIn("not inside a git work tree", r.err)
        self.assertEqual(os.listdir(d), [])

    def test_commands_need_init(self):
        repo = self.make_git_repo()
        for cmd in (["verify"], ["status"], ["ls"], ["add", "x.npy"]):
            r = self.dsm(*cmd, cwd=repo, expect=2)
            self.assertIn("not a dsm repository (run 'dsm init')", r.err)

    def test_bad_config_names_file_and_line(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        cfg = os.path.join(repo, ".dsm", "config.yaml")
        with open(cfg, "a") as f:
            f.write("colour: blue\n")
        r = self.dsm("ls", cwd=repo, expect=2)
        self.assertRegex(r.err, r"config\.yaml':\d+: unknown key 'colour'")
        with open(cfg) as f:
            text = f.read().replace("colour: blue\n", "").replace('data_dir: "data"', 'data_dir: ".."')
        with open(cfg, "w") as f:
            f.write(text)
        r = self.dsm("ls", cwd=repo, expect=2)
        self.assertIn("outside the work tree", r.err)

    def test_dash_C(self):
        repo = self.make_git_repo()
        self.dsm("-C", repo, "init", expect=0)
        self.assertTrue(os.path.isfile(os.path.join(repo, ".dsm", "config.yaml")))
        r = self.dsm("-C", repo, "ls", expect=0)
        self.assertIn("no datasets", r.out)


if __name__ == "__main__":
    main()
