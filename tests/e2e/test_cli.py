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


if __name__ == "__main__":
    main()
