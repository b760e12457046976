"""Everyday CLI conventions (issue 18): git's answers to a mistyped command,
`dsm help`, global options after the command, a grouped top-level help."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DsmTestCase, main  # noqa: E402


class CliTest(DsmTestCase):

    def test_unknown_command_is_named_with_the_most_similar(self):
        for typo, similar in [("ad", "add"), ("sttus", "status"), ("verfy", "verify"), ("pul", "pull")]:
            r = self.dsm(typo, expect=2)
            self.assertIn(f"dsm: '{typo}' is not a dsm command. See 'dsm --help'.", r.err)
            self.assertIn("The most similar command", r.err)
            self.assertIn(f"\t{similar}\n", r.err)
            self.assertEqual(r.out, "")
        r = self.dsm("xyzzyplugh", expect=2)
        self.assertIn("is not a dsm command", r.err)
        self.assertNotIn("most similar", r.err)

    def test_unknown_global_option(self):
        r = self.dsm("--bogus", expect=2)
        self.assertIn("dsm: error: unknown option '--bogus'", r.err)

    def test_help_and_help_command(self):
        top = self.dsm("help", expect=0).out
        self.assertEqual(top, self.dsm("--help", expect=0).out)
        # Grouped, one line per command.
        self.assertIn("\nsave, find and read versions\n", top)
        self.assertIn("\nshare through a remote\n", top)
        lines = [l for l in top.splitlines() if l.startswith("   ")]
        names = [l.split()[0] for l in lines]
        for name in ["add", "verify", "status", "push", "pull", "init", "hook", "repair"]:
            self.assertEqual(names.count(name), 1, top)
        self.assertEqual(self.dsm("help", "add", expect=0).out, self.dsm("add", "--help", expect=0).out)
        self.assertIn("Usage: dsm add", self.dsm("help", "add").out)

    def test_global_options_after_the_command(self):
        repo = self.make_git_repo()
        sub = os.path.join(repo, "sub")
        os.makedirs(sub)
        r = self.dsm("init", "-q", cwd=repo, expect=0)
        self.assertEqual(r.err, "")
        # -C after the command, like before it.
        self.assertEqual(self.dsm("ls", "-C", repo, expect=0).out, self.dsm("-C", repo, "ls", expect=0).out)
        r = self.dsm("verify", "-C", repo, "-q", cwd=self.tmp, expect=0)
        self.assertEqual(r.out, "")

    def test_add_refuses_a_stored_version(self):
        # `dsm add "$(dsm path dup)"` made a copy of version 1 named
        # dup_..._002 under a new dataset (issue 18).
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save(os.path.join(self.tmp, "a.npy"), __import__("numpy").arange(5))
        self.dsm("add", src, "--name", "dup", cwd=repo, expect=0)
        stored = self.dsm("path", "dup", cwd=repo, expect=0).out.strip()
        with open(os.path.join(repo, "data", "manifest-sha256.txt")) as f:
            before = f.read()
        r = self.dsm("add", stored, cwd=repo, expect=2)
        self.assertIn("it is inside the data directory, so it is stored already", r.err)
        self.assertIn("'dsm path NAME'", r.err)
        with open(os.path.join(repo, "data", "manifest-sha256.txt")) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(sorted(os.listdir(os.path.join(repo, "data"))), ["dup", "manifest-sha256.txt"])
        # compress re-stores a version on purpose and still works.
        self.dsm("compress", "dup", cwd=repo, expect=0)

    def test_bare_remote_lists_and_push_pull_speak_json(self):
        import json
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.assertEqual(self.dsm("remote", cwd=repo, expect=0).out, "")
        self.dsm("remote", "add", "team", store, "--default", cwd=repo, expect=0)
        self.assertEqual(self.dsm("remote", cwd=repo, expect=0).out, self.dsm("remote", "list", cwd=repo).out)
        self.assertEqual(json.loads(self.dsm("remote", "--json", cwd=repo, expect=0).out)[0]["name"], "team")
        src = self.save(os.path.join(self.tmp, "a.npy"), __import__("numpy").arange(5))
        self.dsm("add", src, "--name", "a", cwd=repo, expect=0)
        r = json.loads(self.dsm("push", "--json", cwd=repo, expect=0).out)
        self.assertEqual((r["transferred"], r["skipped"], r["problems"]), (1, 0, []))
        self.assertEqual(r["bytes"], os.path.getsize(src))
        os.chmod(self.dsm("path", "a", cwd=repo).out.strip(), 0o644)
        os.remove(self.dsm("path", "a", cwd=repo).out.strip())
        r = json.loads(self.dsm("pull", "--json", cwd=repo, expect=0).out)
        self.assertEqual((r["transferred"], r["skipped"]), (1, 0))
        self.assertIn("remote 'team'", r["store"])


if __name__ == "__main__":
    main()
