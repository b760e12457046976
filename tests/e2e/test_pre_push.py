"""Issue #13, fact 6 (no unpushed loss): the pre-push hook uploads what the
pushed commits reference before git pushes, or refuses; `dsm status` and
`dsm doctor` name committed versions no remote holds; dsm in a linked
`git worktree`. Real git, a bare origin, a directory remote."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DsmTestCase, main, np  # noqa: E402
from remote_util import manifest_entries, object_key  # noqa: E402
from test_branches import Team  # noqa: E402


class PrePushTest(Team, DsmTestCase):

    def on_store(self, sha):
        return os.path.exists(os.path.join(self.store, object_key(sha)))

    def origin_head(self, ref="main"):
        r = self.git("--git-dir", self.origin, "rev-parse", "--verify", "-q", f"refs/heads/{ref}", check=False)
        return r.out.strip() if r.rc == 0 else None

    def head(self, repo):
        return self.git("rev-parse", "HEAD", cwd=repo).out.strip()

    def test_issue_13_fact_6_git_push_uploads_first(self):
        alice = self.make_origin()
        self.assertTrue(os.access(os.path.join(alice, ".git", "hooks", "pre-push"), os.X_OK))
        self.add(alice, "feat", np.arange(10.0))
        self.commit(alice, "feat")
        (sha,) = manifest_entries(alice).values()
        self.assertFalse(self.on_store(sha))
        # No 'dsm push': git push alone must not leave origin with a commit
        # whose data is only here.
        r = self.git("push", "origin", "main", cwd=alice)
        self.assertIn("uploaded 1 payload", r.err)
        self.assertTrue(self.on_store(sha))
        self.assertEqual(self.origin_head(), self.head(alice))
        # Nothing new: silent, and the remote is not asked about old data.
        r = self.git("push", "origin", "main", cwd=alice)
        self.assertNotIn("uploaded", r.err)
        # The teammate gets the data.
        # A directory remote is read without trust: the pull checks every
        # byte against the manifest.
        bob = self.clone_origin("bob", trust=False)
        self.dsm("pull", cwd=bob, expect=0)
        self.dsm("verify", "--strict", cwd=bob, expect=0)
        self.assertEqual(self.dsm("status", "--json", cwd=bob, expect=0).json()["unpushed"], [])
        # And back: bob adds on a branch of his own, pushes it new.
        self.git("checkout", "-q", "-b", "bob-work", cwd=bob)
        self.add(bob, "labels", np.arange(3))
        self.commit(bob, "labels")
        (new_sha,) = set(manifest_entries(bob).values()) - {sha}
        # Written to only once trusted here: the remote came with the clone,
        # and a hostile one could name any directory.
        r = self.git("push", "-u", "origin", "bob-work", cwd=bob, check=False)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("remote 'team' is not trusted here (dsm remote trust team)", r.err)
        self.assertFalse(self.on_store(new_sha))
        self.assertIsNone(self.origin_head("bob-work"))
        self.assertEqual(self.dsm("push", cwd=bob).rc, 2)
        self.assertFalse(self.on_store(new_sha))
        self.dsm("remote", "trust", "team", cwd=bob, expect=0)
        r = self.git("push", "-u", "origin", "bob-work", cwd=bob)
        self.assertIn("uploaded 1 payload", r.err)
        self.git("fetch", "-q", "origin", cwd=alice)
        self.git("merge", "-q", "--no-edit", "origin/bob-work", cwd=alice)
        self.dsm("pull", cwd=alice, expect=0)
        self.dsm("verify", "--strict", cwd=alice, expect=0)

    def test_intermediate_commits_count(self):
        # A version only an intermediate commit lists is uploaded too: a
        # checkout of that commit from origin must find its data.
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(5))
        self.commit(alice, "v1")
        (rel, sha), = manifest_entries(alice).items()
        # The next commit drops it from the manifest (by hand).
        with open(os.path.join(alice, "data", "manifest-sha256.txt"), "w"):
            pass
        self.git("rm", "-q", "--cached", f"data/{rel}.yaml", cwd=alice)
        os.remove(os.path.join(alice, "data", rel + ".yaml"))
        self.commit(alice, "drop it")
        self.git("push", "origin", "main", cwd=alice)
        self.assertTrue(self.on_store(sha))

    def test_refused_without_a_dsm_remote(self):
        origin = os.path.join(self.tmp, "origin.git")
        self.origin = origin
        self.git("init", "-q", "--bare", "-b", "main", origin)
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        self.commit(repo, "dsm init")
        self.git("remote", "add", "origin", origin, cwd=repo)
        # No data yet: nothing to upload, no remote needed.
        self.git("push", "-q", "origin", "main", cwd=repo)
        before = self.origin_head()
        self.add(repo, "feat", np.arange(4))
        self.commit(repo, "feat")
        r = self.git("push", "origin", "main", cwd=repo, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("pre-push hook refused", r.err)
        self.assertIn("no remote configured", r.err)
        self.assertIn("git push --no-verify", r.err)
        self.assertEqual(self.origin_head(), before)  # origin did not receive the commit
        # The bypass works, and status says where the data is not.
        self.git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
        self.assertEqual(self.origin_head(), self.head(repo))
        r = self.dsm("status", cwd=repo, expect=0)
        self.assertIn("1 committed version is on no remote: none is configured", r.out)

    def test_refused_when_the_remote_is_unreachable(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(6))
        self.commit(alice)
        before = self.origin_head()
        os.rename(self.store, self.store + ".away")
        r = self.git("push", "origin", "main", cwd=alice, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("pre-push hook refused", r.err)
        self.assertIn("git push --no-verify", r.err)
        self.assertEqual(self.origin_head(), before)
        os.rename(self.store + ".away", self.store)
        self.git("push", "-q", "origin", "main", cwd=alice)
        self.assertEqual(self.origin_head(), self.head(alice))

    def test_refused_when_a_payload_is_missing_here_and_there(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(7))
        self.commit(alice)
        (rel,) = manifest_entries(alice)
        payload = os.path.join(alice, "data", rel)
        os.chmod(os.path.dirname(payload), 0o755)
        os.remove(payload)
        before = self.origin_head()
        r = self.git("push", "origin", "main", cwd=alice, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("missing here", r.err)
        self.assertIn(rel, r.err)
        self.assertIn("git push --no-verify", r.err)
        self.assertEqual(self.origin_head(), before)

    def test_deleting_a_ref_uploads_nothing(self):
        alice = self.make_origin()
        self.git("checkout", "-q", "-b", "topic", cwd=alice)
        self.add(alice, "feat", np.arange(8))
        self.commit(alice)
        self.git("push", "-q", "origin", "topic", cwd=alice)
        self.assertIsNotNone(self.origin_head("topic"))
        shutil.rmtree(self.store)  # the remote is gone: a deletion needs none
        self.git("push", "-q", "origin", "--delete", "topic", cwd=alice)
        self.assertIsNone(self.origin_head("topic"))

    def test_annotated_tag_push_uploads_its_commits_data(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(11))
        self.commit(alice)
        (sha,) = manifest_entries(alice).values()
        self.git("tag", "-a", "v1", "-m", "release 1", cwd=alice)
        r = self.git("push", "origin", "v1", cwd=alice)
        self.assertIn("uploaded 1 payload", r.err)
        self.assertTrue(self.on_store(sha))

    def test_a_bare_mirror_pushes(self):
        # A bare repository (a mirror) using the same hooks has no work tree
        # and no payloads: the hook lets its pushes through.
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(12))
        self.commit(alice)
        self.git("push", "-q", "origin", "main", cwd=alice)
        mirror = os.path.join(self.tmp, "mirror.git")
        self.git("clone", "-q", "--mirror", self.origin, mirror)
        self.git("config", "core.hooksPath", os.path.join(alice, ".git", "hooks"), cwd=mirror)
        other = os.path.join(self.tmp, "other.git")
        self.git("init", "-q", "--bare", other)
        self.git("push", "-q", other, "main", cwd=mirror)

    def test_chained_hook_gets_the_same_input(self):
        alice = self.make_origin()
        hooks = os.path.join(alice, ".git", "hooks")
        log = os.path.join(self.tmp, "chained.log")
        os.remove(os.path.join(hooks, "pre-push"))
        with open(os.path.join(hooks, "pre-push"), "w") as f:
            f.write(f"#!/bin/sh\ncat > '{log}'\necho \"$1\" >> '{log}'\n")
        os.chmod(os.path.join(hooks, "pre-push"), 0o755)
        r = self.dsm("hook", "install", cwd=alice, expect=0)
        self.assertIn("pre-push.dsm-chained", r.err)
        self.add(alice, "feat", np.arange(9))
        self.commit(alice)
        (sha,) = manifest_entries(alice).values()
        r = self.git("push", "origin", "main", cwd=alice)
        self.assertIn("uploaded 1 payload", r.err)
        self.assertTrue(self.on_store(sha))
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0].split()[:2], ["refs/heads/main", self.head(alice)])
        self.assertEqual(lines[-1], "origin")

    def test_hook_input_is_checked(self):
        repo = self.make_origin()
        r = self.dsm("hook", "pre-push", "origin", "url", cwd=repo, input="garbage\n", expect=2)
        self.assertIn("pre-push input line 1", r.err)
        # Empty input (nothing to push): nothing to do.
        self.dsm("hook", "pre-push", "origin", "url", cwd=repo, input="", expect=0)

    def test_init_rerun_adds_the_pre_push_hook(self):
        # A repository initialised before the pre-push hook existed.
        alice = self.make_origin()
        hook = os.path.join(alice, ".git", "hooks", "pre-push")
        os.remove(hook)
        r = self.dsm("doctor", "--json", cwd=alice, expect=1)
        checks = {c["name"]: c for c in r.json()["checks"]}
        self.assertIn("no pre-push hook", checks["push_hook"]["findings"][0]["message"])
        r = self.dsm("init", cwd=alice, expect=0)
        self.assertIn("installed pre-push hook", r.err)
        self.assertIn("repaired dsm repository", r.out)
        self.assertTrue(os.access(hook, os.X_OK))
        r = self.dsm("init", cwd=alice, expect=0)
        self.assertIn("pre-push hook", r.err)
        self.assertIn("already installed and current", r.err)
        self.assertIn("nothing changed", r.out)
        self.dsm("doctor", cwd=alice, expect=0)


class UnpushedTest(Team, DsmTestCase):
    """`dsm status` and `dsm doctor` name committed versions no remote holds."""

    def test_issue_13_fact_6_worktree_status_names_unpushed(self):
        alice = self.make_origin()
        wt = os.path.join(self.tmp, "wt")
        self.git("worktree", "add", "-q", "-b", "exp", wt, cwd=alice)
        # The linked worktree is a dsm repository of its own data dir; the
        # hooks and the merge driver come from the shared .git.
        self.add(wt, "feat", np.arange(12))
        self.commit(wt, "feat in the worktree")  # the pre-commit hook ran here
        (rel, sha), = manifest_entries(wt).items()
        payload = os.path.join(wt, "data", rel)
        self.assertTrue(os.path.exists(payload))
        self.assertFalse(os.path.exists(os.path.join(alice, "data", rel)))
        r = self.dsm("status", cwd=wt, expect=0)
        self.assertIn("committed versions no remote holds", r.out)
        self.assertIn(payload, r.out)
        self.assertEqual(self.dsm("status", "--json", cwd=wt, expect=0).json()["unpushed"], [payload])
        # doctor asks the remote, and reports it.
        r = self.dsm("doctor", "--json", cwd=wt, expect=1)
        checks = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(len(checks["pushed"]["findings"]), 1)
        self.assertIn("dsm push", checks["pushed"]["findings"][0]["message"])
        self.assertEqual(checks["push_hook"]["findings"], [])
        self.dsm("push", cwd=wt, expect=0)
        r = self.dsm("status", cwd=wt, expect=0)
        self.assertNotIn("no remote holds", r.out)
        self.assertIn("nothing to report", r.out)
        self.dsm("doctor", cwd=wt, expect=0)
        # Now the worktree can go: its only copy is no longer the only one.
        self.git("worktree", "remove", wt, cwd=alice)
        self.assertTrue(os.path.exists(os.path.join(self.store, object_key(sha))))

    def test_worktree_merge_driver_and_pre_push(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(3))
        self.commit(alice, "feat")
        wt = os.path.join(self.tmp, "wt")
        self.git("worktree", "add", "-q", "-b", "exp", wt, cwd=alice)
        self.add(wt, "masks", np.arange(4))
        self.commit(wt, "masks")
        self.add(alice, "labels", np.arange(5))
        self.commit(alice, "labels")
        # Two names on two branches merge with dsm's driver, in the worktree.
        r = self.git("merge", "--no-edit", "main", cwd=wt, check=False)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(len(manifest_entries(wt)), 3)
        # Pushing from the worktree uploads what its commits reference that
        # is here; the payloads of main's commits live in alice's data dir.
        r = self.git("push", "origin", "exp", cwd=wt, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("missing here", r.err)
        self.git("push", "-q", "origin", "main", cwd=alice)  # uploads feat and labels
        # Now origin/main hides main's commits: only the worktree's own
        # version is asked about (the refused run already sent it).
        self.git("push", "-q", "origin", "exp", cwd=wt)
        for sha in manifest_entries(wt).values():
            self.assertTrue(os.path.exists(os.path.join(self.store, object_key(sha))))
        self.dsm("pull", cwd=wt, expect=0)
        self.assert_sha256sum_clean(wt)
        self.dsm("verify", "--strict", cwd=wt, expect=0)

    def test_status_offline_record(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(13))
        self.commit(alice)
        self.assertEqual(len(self.dsm("status", "--json", cwd=alice, expect=0).json()["unpushed"]), 1)
        # An uncommitted version is not "committed": only what HEAD lists.
        self.add(alice, "feat", np.arange(14))
        self.assertEqual(len(self.dsm("status", "--json", cwd=alice, expect=0).json()["unpushed"]), 1)
        self.dsm("push", cwd=alice, expect=0)
        self.assertEqual(self.dsm("status", "--json", cwd=alice, expect=0).json()["unpushed"], [])
        # Status never asks the network for this: an unreachable remote changes nothing.
        os.rename(self.store, self.store + ".away")
        self.assertEqual(self.dsm("status", "--json", cwd=alice, expect=0).json()["unpushed"], [])
        # doctor asks: the remote lost the object -> reported.
        os.rename(self.store + ".away", self.store)
        shutil.rmtree(os.path.join(self.store, "objects"))
        r = self.dsm("doctor", "--json", cwd=alice, expect=1)
        checks = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(len(checks["pushed"]["findings"]), 1)


if __name__ == "__main__":
    main()
