"""Issue #13, teams and branches: dsm with real git branches, merges,
clones sharing a bare origin, stash and worktrees."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DsmTestCase, main, np, sha256_file  # noqa: E402
from remote_util import manifest_entries  # noqa: E402


class Team:
    """Mixin: a bare origin, a directory remote and clones of both."""

    def make_origin(self):
        """origin.git (bare) holding one commit with `dsm init` done; returns
        the first clone ('alice') with a default directory remote."""
        self.origin = os.path.join(self.tmp, "origin.git")
        self.git("init", "-q", "--bare", "-b", "main", self.origin)
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)
        alice = self.make_git_repo("alice")
        self.dsm("init", cwd=alice, expect=0)
        self.dsm("remote", "add", "team", self.store, "--default", cwd=alice, expect=0)
        self.git("add", "-A", cwd=alice)
        self.git("commit", "-q", "-m", "dsm init", cwd=alice)
        self.git("remote", "add", "origin", self.origin, cwd=alice)
        self.git("push", "-q", "-u", "origin", "main", cwd=alice)
        return alice

    def clone_origin(self, name, *config, trust=True):
        dest = os.path.join(self.tmp, name)
        args = ["clone", "-q"]
        for c in config:
            args += ["-c", c]
        self.git(*args, self.origin, dest)
        self.dsm("init", cwd=dest, expect=0)  # the documented first step of a clone
        if trust:
            # The committed remote is written to only once this clone
            # trusts it (docs/sharing.md).
            self.dsm("remote", "trust", "team", cwd=dest, expect=0)
        return dest

    def main_adds_v2_unaware_of_other(self, repo, other_payload):
        """On main, adds feat's version 2 as another clone would: neither the
        branch 'other' nor its payload (file or chunk directory) is here then,
        both come afterwards (with the branch visible, add would number after
        it: issue #14, numbers any commit used are never reused). Then merges
        'other', which git does without a conflict."""
        self.git("checkout", "-q", "main", cwd=repo)
        other_tip = self.git("rev-parse", "other", cwd=repo).out.strip()
        self.git("update-ref", "-d", "refs/heads/other", cwd=repo)
        aside = os.path.join(self.tmp, "aside")
        os.rename(other_payload, aside)
        self.add(repo, "feat", np.arange(20))
        self.commit(repo, "main v2")
        os.rename(aside, other_payload)
        self.git("update-ref", "refs/heads/other", other_tip, cwd=repo)
        r = self.git("merge", "--no-edit", "other", cwd=repo, check=False)
        self.assertEqual(r.rc, 0, r.out + r.err)

    def add(self, repo, name, array, *extra):
        src = os.path.join(self.tmp, "src", os.path.basename(repo))
        os.makedirs(src, exist_ok=True)
        p = os.path.join(src, f"{name.replace('/', '_')}_{len(os.listdir(src))}.npy")
        np.save(p, array)
        self.dsm("add", p, "--name", name, *extra, cwd=repo, expect=0)
        return p

    def commit(self, repo, message="data"):
        self.git("add", "-A", cwd=repo)
        self.git("commit", "-q", "-m", message, cwd=repo)

    def manifest_text(self, repo):
        with open(os.path.join(repo, "data", "manifest-sha256.txt"), "rb") as f:
            return f.read()

    def assert_sha256sum_clean(self, repo):
        r = subprocess.run(["sha256sum", "--strict", "-c", "--quiet", "manifest-sha256.txt"],
                           cwd=os.path.join(repo, "data"), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class MergeDriverTest(Team, DsmTestCase):

    def test_init_writes_gitattributes_and_driver(self):
        repo = self.make_git_repo()
        r = self.dsm("init", cwd=repo, expect=0)
        with open(os.path.join(repo, ".gitattributes")) as f:
            attrs = f.read()
        self.assertIn("/data/manifest-sha256.txt -text merge=dsm\n", attrs)
        self.assertIn("/data/**/*.yaml -text\n", attrs)
        self.assertEqual(self.git("config", "merge.dsm.driver", cwd=repo).out.strip(),
                         "dsm merge-driver %O %A %B %P")
        r = self.git("check-attr", "merge", "text", "--", "data/manifest-sha256.txt", cwd=repo)
        self.assertIn("merge: dsm", r.out)
        self.assertIn("text: unset", r.out)
        # Idempotent.
        r = self.dsm("init", cwd=repo, expect=0)
        self.assertIn("nothing changed", r.out)

    def test_issue_13_fact_4_different_names_merge_cleanly(self):
        alice = self.make_origin()
        bob = self.clone_origin("bob")
        self.add(alice, "feat", np.arange(10))
        self.commit(alice, "feat")
        self.git("push", "-q", "origin", "main", cwd=alice)
        self.git("pull", "-q", "--no-rebase", cwd=bob)
        # Two branches of alice's repository add two names sorting after feat.
        self.git("checkout", "-q", "-b", "labels", cwd=alice)
        self.add(alice, "labels", np.arange(20))
        self.commit(alice, "labels")
        self.git("checkout", "-q", "main", cwd=alice)
        self.add(alice, "masks", np.arange(30))
        self.commit(alice, "masks")
        r = self.git("merge", "--no-edit", "labels", cwd=alice, check=False)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertNotIn("CONFLICT", r.out)
        text = self.manifest_text(alice).decode()
        self.assertEqual(len(text.splitlines()), 3)
        paths = [line.split("  ", 1)[1] for line in text.splitlines()]
        self.assertEqual(paths, sorted(paths))
        self.assertNotIn("<<<<<<<", text)
        self.assert_sha256sum_clean(alice)
        self.dsm("verify", "--strict", cwd=alice, expect=0)
        # The same across clones: bob adds on main, pulls alice's merge.
        self.dsm("push", cwd=alice, expect=0)
        self.git("push", "-q", "origin", "main", cwd=alice)
        self.add(bob, "zeta", np.arange(40))
        self.commit(bob, "zeta")
        r = self.git("pull", "--no-rebase", "--no-edit", cwd=bob, check=False)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(len(manifest_entries(bob)), 4)
        self.dsm("pull", cwd=bob, expect=0)
        self.dsm("verify", "--strict", cwd=bob, expect=0)

    def test_issue_13_fact_7_autocrlf_clone_works(self):
        alice = self.make_origin()
        self.add(alice, "feat", np.arange(10), "--message", "first")
        self.commit(alice)
        self.dsm("push", cwd=alice, expect=0)
        self.git("push", "-q", "origin", "main", cwd=alice)
        bob = self.clone_origin("bob", "core.autocrlf=true")
        self.assertNotIn(b"\r\n", self.manifest_text(bob))
        self.dsm("pull", cwd=bob, expect=0)
        self.dsm("verify", "--strict", cwd=bob, expect=0)
        self.dsm("ls", cwd=bob, expect=0)
        # A manifest dsm writes in the clone stays LF, and git sees no change.
        self.add(bob, "feat", np.arange(11))
        self.assertNotIn(b"\r\n", self.manifest_text(bob))
        self.commit(bob)
        self.assertEqual(self.git("status", "--porcelain", cwd=bob).out, "")

    def test_autocrlf_clone_of_a_repository_without_gitattributes(self):
        alice = self.make_origin()
        os.remove(os.path.join(alice, ".gitattributes"))
        self.add(alice, "feat", np.arange(10))
        self.commit(alice)
        self.dsm("push", cwd=alice, expect=0)
        self.git("push", "-q", "origin", "main", cwd=alice)
        dest = os.path.join(self.tmp, "bob")
        self.git("clone", "-q", "-c", "core.autocrlf=true", self.origin, dest)
        self.assertIn(b"\r\n", self.manifest_text(dest))
        r = self.dsm("init", cwd=dest, expect=0)
        self.assertIn("LF", r.out)
        self.assertNotIn(b"\r\n", self.manifest_text(dest))
        self.dsm("pull", cwd=dest, expect=0)
        self.dsm("verify", cwd=dest, expect=0)

    def test_merge_driver_three_way(self):
        a, b, c, d = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
        base = os.path.join(self.tmp, "base")
        ours = os.path.join(self.tmp, "ours")
        theirs = os.path.join(self.tmp, "theirs")
        with open(base, "w") as f:
            f.write(f"{a}  x/1.npy\n{b}  x/2.npy\n")
        with open(ours, "w") as f:  # removed x/2, added y/1
            f.write(f"{a}  x/1.npy\n{c}  y/1.npy\n")
        with open(theirs, "w") as f:  # added w/1 and the same y/1
            f.write(f"{d}  w/1.npy\n{a}  x/1.npy\n{b}  x/2.npy\n{c}  y/1.npy\n")
        self.dsm("merge-driver", base, ours, theirs, "data/manifest-sha256.txt", expect=0)
        with open(ours) as f:
            self.assertEqual(f.read(), f"{d}  w/1.npy\n{a}  x/1.npy\n{c}  y/1.npy\n")
        # Same path, two hashes: ours kept, exit 1 naming dsm resolve.
        with open(theirs, "w") as f:
            f.write(f"{a}  x/1.npy\n{d}  y/1.npy\n")
        r = self.dsm("merge-driver", base, ours, theirs, "data/manifest-sha256.txt", expect=1)
        self.assertIn("dsm resolve", r.err)
        self.assertIn("y/1.npy", r.err)
        with open(ours) as f:
            self.assertEqual(f.read(), f"{d}  w/1.npy\n{a}  x/1.npy\n{c}  y/1.npy\n")
        # A side with conflict markers is an error; ours is left as it was.
        with open(theirs, "w") as f:
            f.write("<<<<<<< HEAD\n")
        self.dsm("merge-driver", base, ours, theirs, expect=2)


class ReferencedKeptTest(Team, DsmTestCase):
    """Referenced means kept: checkout, stash and a hand-resolved merge."""

    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.commit(self.repo, "dsm init")

    def payloads(self):
        out = {}
        for d, _, files in os.walk(os.path.join(self.repo, "data")):
            for f in files:
                if f.endswith(".npy"):
                    out[os.path.relpath(os.path.join(d, f), os.path.join(self.repo, "data"))] = \
                        sha256_file(os.path.join(d, f))
        return out

    def test_issue_13_fact_1_checkout_loses_nothing(self):
        self.add(self.repo, "feat", np.arange(10))
        self.commit(self.repo, "v1")
        src = self.add(self.repo, "feat", np.arange(20))
        os.remove(src)  # like --move: the payload is the only copy
        self.commit(self.repo, "v2")
        before = self.payloads()
        self.git("checkout", "-q", "HEAD~1", cwd=self.repo)
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("REFERENCED", r.out)
        self.assertIn("branch 'main'", r.out)
        self.assertNotIn("unfinished", r.out)
        r = self.dsm("status", cwd=self.repo, expect=0)
        self.assertNotIn("dsm add them", r.out)
        self.assertIn("versions from other refs", r.out)
        r = self.dsm("repair", cwd=self.repo, expect=0)
        self.assertIn("kept", r.out)
        self.assertEqual(self.payloads(), before)
        self.git("checkout", "-q", "main", cwd=self.repo)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_referenced_cache_follows_the_refs(self):
        # What refs reference is cached by the manifest blob each ref holds
        # (.dsm/local/referenced): a ref that moves or goes invalidates it.
        self.add(self.repo, "feat", np.arange(10))
        self.commit(self.repo, "v1")
        self.git("checkout", "-q", "-b", "topic", cwd=self.repo)
        self.add(self.repo, "masks", np.arange(5))
        self.commit(self.repo, "masks")
        self.git("checkout", "-q", "main", cwd=self.repo)
        masks = [p for p in self.payloads() if p.startswith("masks/")]
        self.assertEqual(len(masks), 1)
        path = os.path.join(self.repo, "data", masks[0])
        status = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(status["referenced"], [{"path": path, "from": "branch 'topic'"}])
        cache = os.path.join(self.repo, ".dsm", "local", "referenced")
        self.assertTrue(os.path.exists(cache))
        # Cached: the same answer.
        status = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(status["referenced"], [{"path": path, "from": "branch 'topic'"}])
        # The branch goes: nothing references the payload any more.
        self.git("branch", "-q", "-D", "topic", cwd=self.repo)
        status = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(status["referenced"], [])
        self.assertEqual(status["untracked"], [path])
        # A torn or foreign cache file is rebuilt, never trusted.
        self.git("branch", "-q", "again", "HEAD@{1}", cwd=self.repo)
        with open(cache, "w") as f:
            f.write("dsm-referenced 1\nD data\nK 0")
        status = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(status["referenced"], [{"path": path, "from": "branch 'again'"}])
        # Cut short after a crash (it is renamed into place without fsync):
        # the key intact, the entries gone. Rebuilt, not trusted empty.
        with open(cache) as f:
            text = f.read()
        with open(cache, "w") as f:
            f.write(text[:text.index("--\n") + 3])
        status = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(status["referenced"], [{"path": path, "from": "branch 'again'"}])

    def test_issue_13_fact_2_stash_loses_nothing(self):
        self.add(self.repo, "feat", np.arange(10))
        self.commit(self.repo, "v1")
        src = self.add(self.repo, "feat", np.arange(20), "--message", "the second one")
        os.remove(src)
        before = self.payloads()
        self.git("stash", "-u", "-q", cwd=self.repo)
        r = self.dsm("repair", cwd=self.repo, expect=0)
        self.assertIn("stash@{0}", r.out)
        self.assertEqual(self.payloads(), before)
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("a version from stash@{0}", r.out)
        self.git("stash", "pop", "-q", cwd=self.repo)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        r = self.dsm("log", "feat", cwd=self.repo, expect=0)
        self.assertIn("the second one", r.out)

    def test_issue_13_fact_3_hand_resolved_conflict_keeps_data(self):
        # A clone without the merge driver configured: git's text merge.
        self.git("config", "--remove-section", "merge.dsm", cwd=self.repo)
        self.add(self.repo, "feat", np.arange(10))
        self.commit(self.repo, "feat")
        self.git("checkout", "-q", "-b", "other", cwd=self.repo)
        self.add(self.repo, "masks", np.arange(30))
        self.commit(self.repo, "masks")
        self.git("checkout", "-q", "main", cwd=self.repo)
        self.add(self.repo, "labels", np.arange(20))
        self.commit(self.repo, "labels")
        r = self.git("merge", "--no-edit", "other", cwd=self.repo, check=False)
        self.assertIn("CONFLICT", r.out)
        self.git("checkout", "--theirs", "data/manifest-sha256.txt", cwd=self.repo)
        self.git("add", "data/manifest-sha256.txt", cwd=self.repo)
        self.git("commit", "-q", "--no-verify", "--no-edit", cwd=self.repo)
        labels = [p for p in self.payloads() if p.startswith("labels/")]
        self.assertEqual(len(labels), 1)
        before = self.payloads()
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn("dsm resolve", r.out)
        self.assertNotIn("unfinished", r.out)
        self.dsm("repair", cwd=self.repo)
        self.assertEqual(self.payloads(), before)
        self.assertTrue(os.path.exists(os.path.join(self.repo, "data", labels[0] + ".yaml")))
        self.assertEqual(self.git("status", "--porcelain", cwd=self.repo).out, "")


class CollidingVersionsTest(Team, DsmTestCase):
    """Fact 5: the same NAME@N added on two branches; dsm resolve keeps both."""

    def push_all(self, repo):
        self.dsm("push", cwd=repo, expect=0)
        self.git("push", "-q", "origin", "HEAD", cwd=repo)

    def test_chunked_same_name_same_day_two_clones(self):
        # Two chunked versions of one NAME on one day share a directory: the
        # merge mixes their chunk lines; resolve separates them.
        alice = self.make_origin()
        bob = self.clone_origin("bob")
        a = np.arange(3000, dtype="<f8").reshape(1000, 3)
        b = -np.arange(4000, dtype="<f8").reshape(1000, 4)
        self.add(alice, "feat", a, "--chunk-size", "8KiB")
        self.commit(alice, "alice feat")
        self.push_all(alice)
        self.add(bob, "feat", b, "--chunk-size", "8KiB")
        self.commit(bob, "bob feat")
        r = self.git("pull", "--no-rebase", "--no-edit", cwd=bob, check=False)
        self.assertNotEqual(r.rc, 0)
        r = self.dsm("resolve", cwd=bob, expect=0)
        self.assertIn("renumbered", r.out)
        self.assertIn("chunks", r.out)
        self.git("commit", "-q", "--no-edit", cwd=bob)
        self.dsm("pull", cwd=bob, expect=0)  # alice's chunks, under their new number
        self.dsm("verify", "--strict", cwd=bob, expect=0)
        self.assert_sha256sum_clean(bob)

        def exported(repo, target):
            out = os.path.join(self.tmp, f"{os.path.basename(repo)}_{target.replace('@', '_')}.npy")
            self.dsm("export", target, "--out", out, cwd=repo, expect=0)
            return np.load(out)

        self.assertTrue(np.array_equal(exported(bob, "feat@1"), b))  # bob's own keeps its number
        self.assertTrue(np.array_equal(exported(bob, "feat@2"), a))
        self.push_all(bob)
        # Alice pulls the merge: her chunks move to their new number.
        self.git("pull", "-q", "--no-rebase", "--no-edit", cwd=alice)
        r = self.dsm("resolve", cwd=alice, expect=0)
        self.assertIn("moved the local payload", r.out)
        self.dsm("pull", cwd=alice, expect=0)
        self.dsm("verify", "--strict", cwd=alice, expect=0)
        self.assertTrue(np.array_equal(exported(alice, "feat@1"), b))
        self.assertTrue(np.array_equal(exported(alice, "feat@2"), a))

    def test_hook_advice_mid_merge_for_a_sidecar_with_conflict_markers(self):
        # 'git add -A' mid-merge stages the sidecar with git's conflict
        # markers: the hook refuses, and its advice keeps both versions
        # (not 'git restore', which drops the other side's).
        alice = self.make_origin()
        bob = self.clone_origin("bob")
        self.add(alice, "feat", np.arange(20))
        self.commit(alice, "alice feat")
        self.push_all(alice)
        self.add(bob, "feat", np.arange(30))
        self.commit(bob, "bob feat")
        r = self.git("pull", "--no-rebase", "--no-edit", cwd=bob, check=False)
        self.assertNotEqual(r.rc, 0)
        self.git("add", "-A", cwd=bob)
        r = self.git("commit", "-q", "--no-edit", cwd=bob, check=False)
        self.assertNotEqual(r.rc, 0)
        (rel,) = manifest_entries(bob)
        sidecar = f"data/{rel}.yaml"
        self.assertIn("not a valid sidecar", r.err)
        self.assertIn(f"git checkout -m data/manifest-sha256.txt {sidecar}", r.err)
        self.assertIn("dsm resolve", r.err)
        self.assertNotIn("git restore", r.err)
        # The advice works.
        self.git("checkout", "-m", "data/manifest-sha256.txt", sidecar, cwd=bob)
        r = self.dsm("resolve", cwd=bob, expect=0)
        self.assertIn("renumbered", r.out)
        self.git("commit", "-q", "--no-edit", cwd=bob)
        self.assertEqual(len(manifest_entries(bob)), 2)
        self.dsm("pull", cwd=bob, expect=0)
        self.dsm("verify", "--strict", cwd=bob, expect=0)

    def test_issue_13_fact_5_same_name_same_day_two_clones(self):
        alice = self.make_origin()
        bob = self.clone_origin("bob")
        self.add(alice, "feat", np.arange(20))
        self.commit(alice, "alice feat")
        self.push_all(alice)
        self.add(bob, "feat", np.arange(30))
        self.commit(bob, "bob feat")
        bob_sha = list(manifest_entries(bob).values())[0]
        r = self.git("pull", "--no-rebase", "--no-edit", cwd=bob, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("dsm resolve", r.out + r.err)
        # Mid-merge every dsm command still reads the manifest.
        self.dsm("ls", cwd=bob, expect=0)
        r = self.dsm("doctor", cwd=bob)
        self.assertIn("dsm resolve", r.out + r.err)
        self.assertNotIn("git restore", r.out + r.err)
        r = self.dsm("resolve", cwd=bob, expect=0)
        self.assertIn("renumbered", r.out)
        self.git("commit", "-q", "--no-edit", cwd=bob)
        entries = manifest_entries(bob)
        self.assertEqual(len(entries), 2)
        self.assertIn(bob_sha, entries.values())
        self.dsm("pull", cwd=bob, expect=0)  # alice's payload, from the remote
        self.dsm("verify", "--strict", cwd=bob, expect=0)
        self.assert_sha256sum_clean(bob)
        # path, ls and log agree: bob's own feat@1 (30,) keeps its number,
        # alice's (20,), merged in later, is feat@2.
        p1 = self.dsm("path", "feat@1", cwd=bob, expect=0).out.strip()
        p2 = self.dsm("path", "feat@2", cwd=bob, expect=0).out.strip()
        self.assertEqual(np.load(p1).shape, (30,))
        self.assertEqual(np.load(p2).shape, (20,))
        self.assertEqual(sha256_file(p1), bob_sha)
        self.assertEqual(self.dsm("path", "feat", cwd=bob, expect=0).out.strip(), p2)
        r = self.dsm("ls", cwd=bob, expect=0)
        self.assertRegex(r.out, r"feat\s+2\s+2\s")
        r = self.dsm("log", "feat", cwd=bob, expect=0)
        self.assertIn("[20]", r.out)
        self.assertIn("[30]", r.out)
        self.push_all(bob)
        self.git("pull", "-q", "--no-rebase", cwd=alice)
        # Alice's own payload sits at its old number: resolve moves it.
        r = self.dsm("resolve", cwd=alice, expect=0)
        self.assertIn("moved the local payload", r.out)
        self.dsm("pull", cwd=alice, expect=0)
        self.dsm("verify", "--strict", cwd=alice, expect=0)
        self.assertEqual(manifest_entries(alice), manifest_entries(bob))

    def test_issue_13_fact_5_same_number_different_days(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        self.add(repo, "feat", np.arange(10))
        self.commit(repo, "v1")
        self.git("checkout", "-q", "-b", "other", cwd=repo)
        self.add(repo, "feat", np.arange(30))
        # Pretend it was added yesterday: rename payload and sidecar.
        data = os.path.join(repo, "data")
        entries = manifest_entries(repo)
        old = [p for p in entries if p.endswith("_002.npy")][0]
        new = old.replace(old.split("_")[1], "20000101")
        os.rename(os.path.join(data, old), os.path.join(data, new))
        with open(os.path.join(data, old + ".yaml")) as f:
            text = f.read().replace(os.path.basename(old), os.path.basename(new))
        os.remove(os.path.join(data, old + ".yaml"))
        with open(os.path.join(data, new + ".yaml"), "w") as f:
            f.write(text)
        sha30 = entries.pop(old)
        entries[new] = sha30
        with open(os.path.join(data, "manifest-sha256.txt"), "w") as f:
            f.write("".join(f"{h}  {p}\n" for p, h in sorted(entries.items())))
        self.commit(repo, "other v2")
        self.main_adds_v2_unaware_of_other(repo, os.path.join(data, new))
        r = self.dsm("verify", cwd=repo, expect=1)
        self.assertIn("dsm resolve", r.out)
        r = self.dsm("doctor", cwd=repo, expect=1)
        self.assertIn("feat@2", r.out + r.err)
        r = self.dsm("path", "feat@2", cwd=repo, expect=2)
        self.assertIn("dsm resolve", r.err)
        r = self.dsm("resolve", cwd=repo, expect=0)
        self.assertIn("feat@3", r.out)
        self.git("commit", "-q", "-m", "resolved", cwd=repo)
        self.dsm("verify", "--strict", cwd=repo, expect=0)
        self.assertEqual(np.load(self.dsm("path", "feat@2", cwd=repo, expect=0).out.strip()).shape, (20,))
        self.assertEqual(np.load(self.dsm("path", "feat@3", cwd=repo, expect=0).out.strip()).shape, (30,))
        r = self.dsm("resolve", cwd=repo, expect=0)
        self.assertIn("nothing to resolve", r.out)


    def test_chunked_version_same_number_different_days(self):
        # A chunked version (a directory of chunks, one sidecar) that
        # collides with another version's number is renumbered whole.
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        self.add(repo, "feat", np.arange(10))
        self.commit(repo, "v1")
        self.git("checkout", "-q", "-b", "other", cwd=repo)
        big = np.arange(4000, dtype="<f8").reshape(1000, 4)
        self.add(repo, "feat", big, "--chunk-size", "8KiB")
        data = os.path.join(repo, "data")
        entries = manifest_entries(repo)
        chunks = [p for p in entries if "_002/" in p]
        self.assertGreater(len(chunks), 1)
        old_dir = chunks[0].rsplit("/", 1)[0]
        new_dir = old_dir.replace(os.path.basename(old_dir).split("_")[1], "20000101")
        # Pretend it was added yesterday: rename the directory and sidecar.
        os.rename(os.path.join(data, old_dir), os.path.join(data, new_dir))
        with open(os.path.join(data, old_dir + ".yaml")) as f:
            text = f.read().replace(os.path.basename(old_dir), os.path.basename(new_dir))
        os.remove(os.path.join(data, old_dir + ".yaml"))
        with open(os.path.join(data, new_dir + ".yaml"), "w") as f:
            f.write(text)
        entries = {p.replace(old_dir + "/", new_dir + "/"): h for p, h in entries.items()}
        with open(os.path.join(data, "manifest-sha256.txt"), "w") as f:
            f.write("".join(f"{h}  {p}\n" for p, h in sorted(entries.items())))
        self.commit(repo, "other v2, chunked")
        self.dsm("verify", "--strict", cwd=repo, expect=0)
        self.main_adds_v2_unaware_of_other(repo, os.path.join(data, new_dir))
        r = self.dsm("verify", cwd=repo, expect=1)
        self.assertIn("dsm resolve", r.out)
        r = self.dsm("resolve", cwd=repo, expect=0)
        self.assertIn("feat@3", r.out)
        self.assertIn("chunks", r.out)
        self.assertFalse(os.path.exists(os.path.join(data, new_dir)))
        self.git("commit", "-q", "-m", "resolved", cwd=repo)
        self.assertEqual(self.git("status", "--porcelain", cwd=repo).out, "")
        self.dsm("verify", "--strict", cwd=repo, expect=0)
        self.assertEqual(np.load(self.dsm("path", "feat@2", cwd=repo, expect=0).out.strip()).shape, (20,))
        out = os.path.join(self.tmp, "feat3.npy")
        self.dsm("export", "feat@3", "--out", out, cwd=repo, expect=0)
        self.assertTrue(np.array_equal(np.load(out), big))
        self.assertEqual(len([p for p in manifest_entries(repo) if "_003/" in p]), len(chunks))
        r = self.dsm("resolve", cwd=repo, expect=0)
        self.assertIn("nothing to resolve", r.out)

if __name__ == "__main__":
    main()
