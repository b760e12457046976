"""Everyday CLI conventions (issue 18): git's answers to a mistyped command,
`dsm help`, global options after the command, a grouped top-level help."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_DIR, DsmTestCase, main  # noqa: E402


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

    def all_commands(self):
        """Every command and subcommand, from the top-level help (one line
        each) and the help of the commands that have subcommands."""
        top = self.dsm("--help", expect=0).out
        names = [l.split()[0] for l in top.splitlines() if l.startswith("   ")]
        self.assertIn("verify", names)
        out = []
        for name in names:
            out.append([name])
            text = self.dsm(name, "--help", expect=0).out
            if "Subcommands:" in text:
                for line in text.split("Subcommands:")[1].splitlines():
                    if line.startswith("  ") and line.split():
                        out.append([name, line.split()[0]])
        return out

    def test_every_help_lists_its_own_exit_statuses_and_no_cli11_types(self):
        # Every --help repeated one EXIT STATUS block, "hook refused" on
        # `dsm path` included, and showed `UINT:INT in [1 - 256]=8` (issue 18).
        commands = self.all_commands()
        self.assertIn(["remote", "add"], commands)
        self.assertIn(["hook", "pre-commit"], commands)
        returns_1 = {"compress", "diff", "doctor", "drop", "export", "hook", "merge-driver", "pull", "push", "repair",
                     "resolve", "status", "verify"}
        interruptible = {"add", "compress", "drop", "export", "gc", "pull", "push", "repair", "status", "verify"}
        for words in commands:
            text = self.dsm(*words, "--help", expect=0).out
            with self.subTest(command=" ".join(words)):
                option_lines = [l for l in text.splitlines() if l.startswith("  ") and not l.startswith("   ")]
                for artefact in ["TEXT", "UINT", "INT ", "FLOAT", "REQUIRED", ":INT", "NONNEGATIVE", "in [", "=8",
                                 "Needs:", "Excludes:"]:
                    for line in option_lines:
                        self.assertNotIn(artefact, line.split("  ")[1] if "  " in line[2:] else line)
                status = text.split("EXIT STATUS\n", 1)[1]
                codes = [l.split()[0] for l in status.splitlines() if l.startswith("  ") and l.split()[0].isdigit()]
                expected = ["0"] + (["1"] if words[0] in returns_1 and words != ["hook", "install"] else []) + ["2"]
                if words[0] in interruptible:
                    expected.append("130")
                self.assertEqual(codes, expected, text)
                self.assertNotIn("hook refused", status)
        path = self.dsm("path", "--help", expect=0).out
        self.assertNotIn("hook", path.split("EXIT STATUS")[1])
        push = self.dsm("push", "--help", expect=0).out
        self.assertIn("-j,--jobs N ", push)
        self.assertIn("(default: 8)", push)

    def test_misspelled_dataset_names_get_a_suggestion(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save(os.path.join(self.tmp, "a.npy"), __import__("numpy").arange(5))
        self.dsm("add", src, "--name", "sweepA/features", cwd=repo, expect=0)
        self.dsm("add", src, "--name", "labels", cwd=repo, expect=0)
        for args in [("path", "sweepA/featurs"), ("log", "sweepA/featurs"), ("verify", "sweepA/featurs"),
                     ("show", "sweepA/featurs@1"), ("path", "sweepA/featurs@latest")]:
            r = self.dsm(*args, cwd=repo, expect=2)
            self.assertIn("no dataset named 'sweepA/featurs'; did you mean 'sweepA/features'? (see 'dsm ls')", r.err,
                          args)
        r = self.dsm("path", "zzzzzzzzzz", cwd=repo, expect=2)
        self.assertIn("no dataset named 'zzzzzzzzzz' (see 'dsm ls')", r.err)
        self.assertNotIn("did you mean", r.err)

    def test_log_without_name_lists_every_version_newest_first(self):
        import json
        import time
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save(os.path.join(self.tmp, "a.npy"), __import__("numpy").arange(5))
        self.dsm("add", src, "--name", "b", cwd=repo, expect=0)
        time.sleep(1.1)  # sidecars record the creation time to the second
        self.dsm("add", src, "--name", "a", cwd=repo, expect=0)
        time.sleep(1.1)
        self.dsm("add", src, "--name", "b", cwd=repo, expect=0)
        out = self.dsm("log", cwd=repo, expect=0).out
        heads = [l.split()[0] for l in out.splitlines() if l and not l.startswith(" ")]
        self.assertEqual(heads, ["b@2", "a@1", "b@1"])
        j = json.loads(self.dsm("log", "--json", cwd=repo, expect=0).out)
        self.assertEqual([(e["name"], e["version"]) for e in j], [("b", 2), ("a", 1), ("b", 1)])
        # With NAME: that dataset only, as before.
        self.assertEqual([e["version"] for e in json.loads(self.dsm("log", "b", "--json", cwd=repo).out)], [2, 1])

    def test_init_repair_remote_speak_json(self):
        import json
        repo = self.make_git_repo()
        j = json.loads(self.dsm("init", "--json", cwd=repo, expect=0).out)
        self.assertEqual(set(j), {"root", "data_dir", "state", "changed_gitignore", "changed_gitattributes",
                                  "configured_merge_driver", "fixed_line_endings", "hooks"})
        self.assertEqual((j["state"], j["root"]), ("initialised", repo))
        self.assertEqual(j["data_dir"], os.path.join(repo, "data"))
        self.assertEqual([(h["hook"], h["action"], h["path"]) for h in j["hooks"]],
                         [("pre-commit", "installed", os.path.join(repo, ".git", "hooks", "pre-commit")),
                          ("pre-push", "installed", os.path.join(repo, ".git", "hooks", "pre-push"))])
        j = json.loads(self.dsm("init", "--json", cwd=repo, expect=0).out)
        self.assertEqual((j["state"], [h["action"] for h in j["hooks"]]), ("unchanged", ["unchanged", "unchanged"]))

        j = json.loads(self.dsm("repair", "--json", cwd=repo, expect=0).out)
        self.assertEqual(j, {"dry_run": False, "actions": [], "left_alone": 0})
        temp = os.path.join(repo, "data", ".dsm-tmp-leftover")
        with open(temp, "w") as f:
            f.write("x")
        j = json.loads(self.dsm("repair", "--dry-run", "--json", cwd=repo, expect=0).out)
        self.assertEqual(j["dry_run"], True)
        self.assertEqual([(a["action"], a["path"], a["to"]) for a in j["actions"]], [("removed_temp", temp, None)])
        self.assertEqual(set(j["actions"][0]), {"action", "path", "to", "detail"})
        self.assertTrue(os.path.exists(temp))
        j = json.loads(self.dsm("repair", "--json", cwd=repo, expect=0).out)
        self.assertEqual([a["action"] for a in j["actions"]], ["removed_temp"])
        self.assertFalse(os.path.exists(temp))

        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.dsm("remote", "add", "team", store, cwd=repo, expect=0)
        for args in [("remote", "--json"), ("remote", "list", "--json")]:
            j = json.loads(self.dsm(*args, cwd=repo, expect=0).out)
            self.assertEqual(j, [{"name": "team", "url": store, "default": True, "endpoint": None, "region": None}])

    def test_quiet_silences_summaries(self):
        import json
        np = __import__("numpy")
        repo = self.make_git_repo()
        r = self.dsm("init", "-q", cwd=repo, expect=0)
        self.assertEqual((r.out, r.err), ("", ""))
        r = self.dsm("-q", "init", cwd=repo, expect=0)
        self.assertEqual((r.out, r.err), ("", ""))
        src = self.save(os.path.join(self.tmp, "a.npy"), __import__("numpy").arange(5))
        self.dsm("add", src, "--name", "a", cwd=repo, expect=0)
        r = self.dsm("verify", "-q", cwd=repo, expect=0)
        self.assertEqual((r.out, r.err), ("", ""))
        # A failure: the finding (what a script asked for) and the error,
        # no summary line.
        stored = self.dsm("path", "a", cwd=repo).out.strip()
        os.chmod(stored, 0o644)
        with open(stored, "r+b") as f:
            f.seek(-1, 2)
            f.write(b"\xff")
        os.chmod(stored, 0o444)
        r = self.dsm("verify", "-q", cwd=repo, expect=1)
        self.assertEqual(r.out, f"FAILED {stored}: checksum mismatch\n")
        self.assertIn("dsm: error: ", r.err)
        self.assertNotIn("checked", r.out)
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.dsm("remote", "add", "team", store, cwd=repo, expect=0)
        r = self.dsm("verify", "--remote", "team", "-q", cwd=repo, expect=1)
        self.assertNotIn("checked on", r.out)
        os.chmod(stored, 0o644)
        self.save(stored, np.arange(5))  # the original bytes again
        os.chmod(stored, 0o444)
        r = self.dsm("push", "-q", cwd=repo, expect=0)
        self.assertEqual((r.out, r.err), ("", ""))
        self.assertEqual(json.loads(self.dsm("push", "-q", "--json", cwd=repo, expect=0).out)["skipped"], 1)

    def test_hook_names_the_stored_version_a_staged_array_copies(self):
        # The guide's commit step was refused because out.npy, already
        # stored with 'dsm add', was staged, and the advice was to store it
        # with 'dsm add' (issue 18).
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        np = __import__("numpy")
        self.save(os.path.join(repo, "out.npy"), np.arange(1000, dtype=np.float32))
        self.dsm("add", "out.npy", "--name", "features", cwd=repo, expect=0)
        self.save(os.path.join(repo, "other.npy"), np.arange(1000, dtype=np.int32))  # same size, other bytes
        self.git("add", "-A", cwd=repo)
        r = self.run_cmd("git", "commit", "-q", "-m", "v1", cwd=repo, check=False)
        self.assertNotEqual(r.rc, 0)
        err = r.err
        self.assertIn("'out.npy': the same bytes as features@1, which dsm stores already, so it needs no commit: "
                      "delete it ('git rm --cached out.npy && rm out.npy')", err)
        self.assertIn("then add it to .gitignore", err)
        self.assertIn("'other.npy': an array payload is staged for commit", err)
        self.assertIn("store it with 'dsm add'", err)
        # The advice works as written.
        self.run_cmd("sh", "-c", "git rm -q --cached out.npy && rm out.npy && git rm -q --cached other.npy", cwd=repo)
        self.git("commit", "-q", "-m", "v1", cwd=repo)

    def test_allow_list_and_doctor_tells_committed_from_staged(self):
        np = __import__("numpy")
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        fixtures = os.path.join(repo, "tests", "fixtures")
        os.makedirs(fixtures)
        self.save(os.path.join(fixtures, "tiny.npy"), np.arange(3))
        self.save(os.path.join(repo, "stray.npy"), np.arange(4))
        self.git("add", "-A", cwd=repo)
        r = self.git("commit", "-q", "-m", "fixtures", cwd=repo, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("'tests/fixtures/tiny.npy': an array payload is staged for commit", r.err)
        self.assertIn("list it under 'allow:' in .dsm/config.yaml", r.err)
        # The allow list takes git pathspecs.
        with open(os.path.join(repo, ".dsm", "config.yaml"), "a") as f:
            f.write("allow:\n  - 'tests/fixtures/*.npy'\n")
        self.git("rm", "-q", "--cached", "stray.npy", cwd=repo)
        self.git("add", ".dsm", "tests", cwd=repo)
        self.git("commit", "-q", "-m", "fixtures", cwd=repo)  # accepted now
        # A remote added later keeps the allow list (the config is rewritten).
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.dsm("remote", "add", "team", store, cwd=repo, expect=0)
        with open(os.path.join(repo, ".dsm", "config.yaml")) as f:
            config = f.read()
        self.assertIn("allow:\n  - \"tests/fixtures/*.npy\"\n", config)
        self.assertIn("docs/guide.md", config)
        self.assertNotIn("commands.md", config)
        for doc in ["guide.md", "sharing.md", "hooks.md"]:
            self.assertTrue(os.path.exists(os.path.join(SOURCE_DIR, "docs", doc)))
        # doctor: an array committed past the hook is "committed", not "staged".
        self.git("add", "-f", "stray.npy", cwd=repo)
        self.git("commit", "-q", "--no-verify", "-m", "oops", cwd=repo)
        r = self.dsm("doctor", cwd=repo, expect=1)
        self.assertIn("'stray.npy': an array is committed in git", r.out + r.err)
        self.assertNotIn("'stray.npy': an array payload is staged for commit", r.out + r.err)
        self.assertNotIn("tiny.npy", r.out + r.err)
        self.save(os.path.join(repo, "staged.npy"), np.arange(5))
        self.git("add", "staged.npy", cwd=repo)
        r = self.dsm("doctor", cwd=repo, expect=1)
        self.assertIn("'staged.npy': an array payload is staged for commit", r.out + r.err)

    def test_init_leaves_a_framework_hook_that_runs_dsm(self):
        # After `pre-commit install` with dsm-check configured, `dsm init`
        # chained the framework's hook, and dsm's check ran twice (issue 18).
        # The hook text is the shape `pre-commit install` writes.
        import json
        framework_hook = ("#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n"
                          "# ID: 138fd403232d2ddd5efb44317e38bf03\nexec pre-commit hook-impl --hook-type=pre-commit\n")
        for config, leaves in [("repos:\n- repo: local\n  hooks:\n  - id: dsm-check\n", True),
                               ("repos:\n- repo: local\n  hooks:\n  - id: black\n", False)]:
            repo = self.make_git_repo(name="repo-" + str(leaves))
            hook = os.path.join(repo, ".git", "hooks", "pre-commit")
            with open(hook, "w") as f:
                f.write(framework_hook)
            os.chmod(hook, 0o755)
            with open(os.path.join(repo, ".pre-commit-config.yaml"), "w") as f:
                f.write(config)
            j = json.loads(self.dsm("init", "--json", cwd=repo, expect=0).out)
            chained = os.path.join(repo, ".git", "hooks", "pre-commit.dsm-chained")
            with open(hook) as f:
                text = f.read()
            actions = {h["hook"]: h["action"] for h in j["hooks"]}
            self.assertEqual(actions["pre-push"], "installed")  # not the framework's business
            if leaves:
                self.assertEqual(actions["pre-commit"], "framework")
                self.assertEqual(text, framework_hook)
                self.assertFalse(os.path.exists(chained))
                r = self.dsm("init", cwd=repo, expect=0)
                self.assertIn("is the pre-commit framework's and runs dsm's check", r.err)
            else:
                # A framework that does not run dsm: chained as any other hook.
                self.assertEqual(actions["pre-commit"], "chained")
                self.assertTrue(os.path.exists(chained))
                self.assertIn("dsm hook pre-commit", text)


if __name__ == "__main__":
    main()
