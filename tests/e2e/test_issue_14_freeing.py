"""Issue #14: freeing disk safely (dsm rm, dsm drop, dsm gc, dsm du).

Every scenario runs the real binary in a real git repository and checks what
a user would: exit codes, what is on disk, what verify and status say.
"""
import os
import signal

from harness import SOURCE_DIR, InitializedRepoTestCase, main, np, sha256_file
from remote_util import manifest_entries, object_key


class FreeingBase(InitializedRepoTestCase):

    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.tmp, "src")
        os.makedirs(self.src)
        self.n = 0

    def add(self, name, array, expect=0):
        self.n += 1
        p = self.save(os.path.join(self.src, f"{name}_{self.n}.npy"), array)
        return self.dsm("add", p, "--name", name, cwd=self.repo, expect=expect)

    def commit(self, message="data"):
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", message, cwd=self.repo)

    def version_path(self, name, seq):
        return self.dsm("path", f"{name}@{seq}", cwd=self.repo, expect=0).out.strip()

    def payloads_on_disk(self, name):
        d = self.data(name)
        return sorted(f for f in os.listdir(d) if f.endswith(".npy")) if os.path.isdir(d) else []

    def add_store(self, name="team"):
        store = os.path.join(self.tmp, "store-" + name)
        os.makedirs(store)
        self.dsm("remote", "add", name, store, "--default", cwd=self.repo, expect=0)
        return store


class RmTest(FreeingBase):

    def test_rm_one_version_stages_it_and_keeps_the_payload(self):
        self.add("scores", np.arange(10))
        self.add("scores", np.arange(20))
        self.commit()
        p2 = self.version_path("scores", 2)
        r = self.dsm("rm", "scores@2", cwd=self.repo, expect=0)
        self.assertIn("removed scores@2", r.out)
        self.assertNotIn("scores/" + os.path.basename(p2), manifest_entries(self.repo))
        self.assertFalse(os.path.exists(p2 + ".yaml"), "the sidecar is deleted, as git rm does")
        self.assertTrue(os.path.exists(p2), "the payload stays until dsm gc")
        # Staged, like git rm: the commit needs no git add.
        staged = self.git("diff", "--cached", "--name-status", cwd=self.repo).out
        self.assertIn("D\tdata/scores/" + os.path.basename(p2) + ".yaml", staged)
        self.assertIn("M\tdata/manifest-sha256.txt", staged)
        self.assertEqual(self.git("diff", "--name-only", cwd=self.repo).out, "", "nothing left unstaged")
        self.git("commit", "-q", "-m", "rm scores@2", cwd=self.repo)
        # Only an older commit lists it now: kept, and neither verify nor
        # status --check call it a problem.
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("REFERENCED " + p2, r.out)
        self.assertIn("dsm gc --history", r.out)
        self.dsm("status", "--check", cwd=self.repo, expect=0)
        r = self.dsm("repair", cwd=self.repo, expect=0)
        self.assertTrue(os.path.exists(p2), "repair keeps a payload an older commit lists")
        self.assertEqual(self.dsm("ls", "--json", cwd=self.repo).rc, 0)

    def test_sequence_numbers_are_never_reused(self):
        self.add("scores", np.arange(10))
        self.add("scores", np.arange(20))
        self.add("scores", np.arange(30))
        self.commit()
        self.dsm("rm", "scores@3", cwd=self.repo, expect=0)
        self.commit("rm")
        os.chmod(self.data("scores"), 0o755)
        for f in self.payloads_on_disk("scores"):
            if f.endswith("_003.npy"):
                os.unlink(self.data("scores", f))  # as if gc had run: no file of number 3 anywhere
        self.add("scores", np.arange(40))
        out = self.dsm("path", "scores@latest", cwd=self.repo, expect=0).out.strip()
        self.assertTrue(out.endswith("_004.npy"), f"after removing @3 the next add is @4, not @3: {out}")

    def test_numbers_survive_a_damaged_number_cache(self):
        # .dsm/local/seqcache remembers what each committed manifest held;
        # a damaged one is rebuilt, never trusted.
        for i in range(3):
            self.add("scores", np.arange(10 + i))
        self.commit()
        self.dsm("rm", "scores@3", cwd=self.repo, expect=0)
        self.commit("rm")
        cache = os.path.join(self.repo, ".dsm", "local", "seqcache")
        self.add("other", np.arange(5))  # writes the cache
        self.assertTrue(os.path.exists(cache))
        with open(cache, "w") as f:
            f.write("dsm seqcache 1\nnaming {name}_{date}_{seq}\nseq 1 scores\ngarbage\n")
        for f in self.payloads_on_disk("scores"):
            if f.endswith("_003.npy"):
                os.unlink(self.data("scores", f))
        self.add("scores", np.arange(99))
        self.assertTrue(self.version_path("scores", "latest").endswith("_004.npy"))

    def test_bare_name_needs_all(self):
        self.add("scores", np.arange(10))
        self.add("scores", np.arange(20))
        r = self.dsm("rm", "scores", cwd=self.repo, expect=2)
        self.assertIn("--all", r.err)
        self.assertEqual(len(manifest_entries(self.repo)), 2, "nothing removed")
        r = self.dsm("rm", "scores", "--all", "--dry-run", "--json", cwd=self.repo, expect=0)
        j = r.json()
        self.assertTrue(j["dry_run"])
        self.assertEqual([v["version"] for v in j["removed"]], ["scores@1", "scores@2"])
        self.assertEqual(len(manifest_entries(self.repo)), 2, "a dry run changes nothing")
        self.dsm("rm", "scores", "--all", cwd=self.repo, expect=0)
        self.assertEqual(manifest_entries(self.repo), {})
        self.assertEqual(len(self.payloads_on_disk("scores")), 2, "payloads stay until gc")

    def test_rm_leaves_an_unstaged_add_unstaged(self):
        self.add("scores", np.arange(10))
        self.commit()
        self.add("other", np.arange(5))  # not staged
        self.dsm("rm", "scores@1", cwd=self.repo, expect=0)
        staged = self.git("show", ":data/manifest-sha256.txt", cwd=self.repo).out
        self.assertEqual(staged, "", "the index's manifest lost scores@1 and gained nothing")
        with open(self.data("manifest-sha256.txt")) as f:
            self.assertIn("other/", f.read())

    def test_kill_during_rm_loses_nothing(self):
        self.add("scores", np.arange(10))
        self.add("scores", np.arange(20))
        self.commit()
        p2 = self.version_path("scores", 2)
        r = self.dsm("rm", "scores@2", cwd=self.repo, env={"DSM_TEST_CRASH_AT": "rm-manifest"})
        self.assertEqual(r.rc, -signal.SIGKILL, r)
        # Between the manifest and the sidecar: verify names the state and
        # its remedy; resolve restores the old state; nothing was lost.
        self.assertTrue(os.path.exists(p2) and os.path.exists(p2 + ".yaml"))
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn("dsm resolve", r.out)
        self.dsm("resolve", cwd=self.repo, expect=0)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.dsm("rm", "scores@2", cwd=self.repo, expect=0)
        self.assertFalse(os.path.exists(p2 + ".yaml"))
        self.assertTrue(os.path.exists(p2))

    def test_rm_unknown_version_fails_cleanly(self):
        self.add("scores", np.arange(10))
        r = self.dsm("rm", "scores@7", cwd=self.repo, expect=2)
        self.assertIn("no version 7", r.err)


class DropTest(FreeingBase):

    def test_drop_refused_without_a_remote_copy(self):
        self.add("scores", np.arange(1000))
        p = self.version_path("scores", 1)
        self.commit()
        r = self.dsm("drop", "scores@1", cwd=self.repo, expect=2)
        self.assertIn("no remote configured", r.err)
        self.assertTrue(os.path.exists(p))
        self.add_store()
        r = self.dsm("drop", "scores@1", cwd=self.repo, expect=1)
        self.assertIn(p, r.err, "names what would be lost")
        self.assertIn("nothing was deleted", r.err)
        self.assertTrue(os.path.exists(p))

    def test_drop_verify_status_pull(self):
        self.add("scores", np.arange(1000))
        self.add("labels", np.arange(7))
        store = self.add_store()
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        p = self.version_path("scores", 1)
        sha = sha256_file(p)
        r = self.dsm("drop", "scores", "--dry-run", cwd=self.repo, expect=0)
        self.assertIn("would drop " + p, r.out)
        self.assertTrue(os.path.exists(p))
        r = self.dsm("drop", "scores", "--json", cwd=self.repo, expect=0)
        j = r.json()
        self.assertEqual([d["path"] for d in j["dropped"]], [p])
        self.assertTrue(j["dropped"][0]["verified"])
        self.assertEqual(j["remote"], "team")
        self.assertFalse(os.path.exists(p))
        self.assertTrue(os.path.exists(p + ".yaml"), "the version still exists: its sidecar stays")
        self.assertTrue(os.path.exists(os.path.join(store, object_key(sha))), "the remote copy is untouched")
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("DROPPED " + p, r.out)
        self.assertIn("remote 'team'", r.out)
        r = self.dsm("verify", "--strict", cwd=self.repo, expect=1)
        self.dsm("status", "--check", cwd=self.repo, expect=0)
        j = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(j["dropped"], [{"path": p, "remote": "team"}])
        self.assertEqual(j["missing"], [])
        self.dsm("doctor", cwd=self.repo, expect=0)
        # Dropping again: nothing here to drop.
        r = self.dsm("drop", "scores", cwd=self.repo, expect=0)
        self.assertIn("1 already absent", r.out)
        # pull brings it back.
        self.dsm("pull", cwd=self.repo, expect=0)
        self.assertEqual(sha256_file(p), sha)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_hand_deleted_payload_stays_missing(self):
        self.add("scores", np.arange(1000))
        self.add_store()
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        p = self.version_path("scores", 1)
        os.chmod(os.path.dirname(p), 0o755)
        os.unlink(p)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn("MISSING " + p, r.out, "only dsm drop, which checked the remote, makes absence fine")

    def test_drop_refuses_a_damaged_remote_copy(self):
        self.add("scores", np.arange(1000))
        store = self.add_store()
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        p = self.version_path("scores", 1)
        obj = os.path.join(store, object_key(sha256_file(p)))
        os.chmod(obj, 0o644)
        with open(obj, "r+b") as f:
            f.seek(200)
            f.write(b"\xff\xff\xff\xff")
        r = self.dsm("drop", "--all", cwd=self.repo, expect=1)
        self.assertIn("corrupt", r.err)
        self.assertTrue(os.path.exists(p))
        # --force deletes anyway, and does not pretend the remote has it.
        self.dsm("drop", "--all", "--force", cwd=self.repo, expect=0)
        self.assertFalse(os.path.exists(p))
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn("MISSING " + p, r.out)

    def test_kill_during_drop_loses_nothing(self):
        self.add("scores", np.arange(1000))
        self.add("scores", np.arange(2000))
        self.add_store()
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        paths = [self.version_path("scores", 1), self.version_path("scores", 2)]
        with open(os.path.join(SOURCE_DIR, "src", "ops", "drop.cpp")) as f:
            src = f.read()
        for point in ("drop-recorded", "drop-payload"):
            self.assertIn(f'crash_point("{point}")', src)
            r = self.dsm("drop", "scores", cwd=self.repo, env={"DSM_TEST_CRASH_AT": point})
            self.assertEqual(r.rc, -signal.SIGKILL, r)
            # Every payload is here or dropped (on the remote): verify is clean.
            r = self.dsm("verify", cwd=self.repo, expect=0)
            self.assertNotIn("MISSING", r.out)
            self.dsm("status", "--check", cwd=self.repo, expect=0)
            self.dsm("pull", cwd=self.repo, expect=0)
            for p in paths:
                self.assertTrue(os.path.exists(p))
            self.dsm("verify", "--strict", cwd=self.repo, expect=0)


class GcTest(FreeingBase):

    def gc(self, *args, expect=0):
        return self.dsm("gc", *args, "--json", cwd=self.repo, expect=expect).json()

    def test_rm_before_commit_then_gc_respects_the_grace_period(self):
        self.add("scores", np.arange(10))
        self.commit()
        self.add("scores", np.arange(20))  # never committed
        p2 = self.version_path("scores", 2)
        self.dsm("rm", "scores@2", cwd=self.repo, expect=0)
        j = self.gc()  # default grace: 14 days
        self.assertEqual(j["deleted"], [])
        self.assertTrue(any(k["path"] == p2 and "grace" in k["why"] for k in j["kept"]), j)
        j = self.gc("--grace", "1")
        self.assertEqual(j["deleted"], [])
        j = self.gc("--grace", "0", "--dry-run")
        self.assertEqual([d["path"] for d in j["deleted"]], [p2])
        self.assertTrue(os.path.exists(p2), "a dry run deletes nothing")
        j = self.gc("--grace", "0")
        self.assertEqual([d["path"] for d in j["deleted"]], [p2])
        self.assertGreater(j["bytes_freed"], 0)
        self.assertFalse(os.path.exists(p2))
        self.assertTrue(os.path.exists(self.version_path("scores", 1)))
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_rm_commit_then_gc_history_needs_a_remote_copy(self):
        self.add("scores", np.arange(10))
        self.add("scores", np.arange(20))
        self.commit()
        p2 = self.version_path("scores", 2)
        self.dsm("rm", "scores@2", cwd=self.repo, expect=0)
        self.git("commit", "-q", "-m", "rm scores@2", cwd=self.repo)
        j = self.gc("--grace", "0")
        self.assertEqual(j["deleted"], [], "an older commit lists it")
        self.assertTrue(any(k["path"] == p2 and "--history" in k["why"] for k in j["kept"]), j)
        j = self.gc("--grace", "0", "--history")
        self.assertEqual(j["deleted"], [], "no remote holds it")
        self.assertTrue(os.path.exists(p2))
        self.add_store()
        j = self.gc("--grace", "0", "--history")
        self.assertEqual(j["deleted"], [], "the remote does not hold it")
        self.assertTrue(any(k["path"] == p2 and "has no object" in k["why"] for k in j["kept"]), j)
        # Push it from the manifest that still listed it.
        self.git("checkout", "HEAD~1", "--", "data/manifest-sha256.txt", cwd=self.repo)
        self.dsm("push", "scores@2", cwd=self.repo, expect=0)
        self.git("checkout", "HEAD", "--", "data/manifest-sha256.txt", cwd=self.repo)
        j = self.gc("--grace", "0", "--history")
        self.assertEqual([d["path"] for d in j["deleted"]], [p2])
        self.assertFalse(os.path.exists(p2))
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_gc_never_deletes_what_a_branch_the_stash_or_the_index_lists(self):
        self.add("base", np.arange(10))
        self.commit()
        # Another branch.
        self.git("checkout", "-q", "-b", "other", cwd=self.repo)
        self.add("onbranch", np.arange(11))
        self.commit("branch data")
        on_branch = self.version_path("onbranch", 1)
        self.git("checkout", "-q", "main", cwd=self.repo)
        # The stash.
        self.add("stashed", np.arange(12))
        stashed = self.version_path("stashed", 1)
        self.git("add", "-A", cwd=self.repo)
        self.git("stash", "-q", cwd=self.repo)
        # The index only: staged, then the working manifest put back.
        self.add("indexed", np.arange(13))
        indexed = self.version_path("indexed", 1)
        self.git("add", "-A", cwd=self.repo)
        head_manifest = self.git("show", "HEAD:data/manifest-sha256.txt", cwd=self.repo).out
        with open(self.data("manifest-sha256.txt"), "w") as f:
            f.write(head_manifest)
        # And one that nothing lists.
        self.add("junk", np.arange(14))
        junk = self.version_path("junk", 1)
        self.dsm("rm", "junk@1", cwd=self.repo, expect=0)
        j = self.gc("--grace", "0", "--history")
        self.assertEqual([d["path"] for d in j["deleted"]], [junk])
        for p in (on_branch, stashed, indexed):
            self.assertTrue(os.path.exists(p), p)
        why = {k["path"]: k["why"] for k in j["kept"]}
        self.assertIn("branch 'other'", why[on_branch])
        self.assertIn("stash@{0}", why[stashed])
        self.assertIn("the index", why[indexed])

    def test_gc_deletes_leftovers_and_set_aside_files(self):
        self.add("scores", np.arange(10))
        self.commit()
        # An add killed after its payload was named (no sidecar, no line).
        p = self.save(os.path.join(self.src, "x.npy"), np.arange(99))
        r = self.dsm("add", p, "--name", "crashed", cwd=self.repo, env={"DSM_TEST_CRASH_AT": "add-payload"})
        self.assertEqual(r.rc, -signal.SIGKILL)
        r = self.dsm("add", p, "--name", "temp", cwd=self.repo, env={"DSM_TEST_CRASH_AT": "add-payload-temp"})
        self.assertEqual(r.rc, -signal.SIGKILL)
        self.dsm("repair", cwd=self.repo, expect=0)  # sets the first aside, removes the temp
        orphans = os.path.join(self.repo, ".dsm", "local", "orphans")
        self.assertTrue(os.listdir(orphans))
        r = self.dsm("add", p, "--name", "again", cwd=self.repo, env={"DSM_TEST_CRASH_AT": "add-sidecar"})
        self.assertEqual(r.rc, -signal.SIGKILL)
        j = self.gc("--grace", "0")
        deleted = [d["path"] for d in j["deleted"]]
        self.assertEqual(len(deleted), 2, j)  # the set-aside file and the unfinished add
        self.assertTrue(any("orphans" in d for d in deleted))
        self.assertEqual(os.listdir(self.data("again")), [], "the unfinished add's payload and sidecar")
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_gc_keeps_an_unfinished_add_that_is_the_only_copy(self):
        # As repair: an add killed before its manifest line, whose source
        # is gone since, holds the only copy of the array.
        p = self.save(os.path.join(self.src, "only.npy"), np.arange(123))
        r = self.dsm("add", p, "--name", "only", cwd=self.repo, env={"DSM_TEST_CRASH_AT": "add-sidecar"})
        self.assertEqual(r.rc, -signal.SIGKILL)
        os.unlink(p)
        j = self.gc("--grace", "0")
        self.assertEqual(j["deleted"], [])
        self.assertTrue(any("only copy" in k["why"] for k in j["kept"]), j)
        self.assertEqual(len(self.payloads_on_disk("only")), 1)

    def test_kill_during_gc_loses_nothing(self):
        self.add("scores", np.arange(10))
        self.commit()
        with open(os.path.join(SOURCE_DIR, "src", "ops", "gc.cpp")) as f:
            src = f.read()
        for point in ("gc-sidecar", "gc-payload"):
            self.assertIn(f'crash_point("{point}")', src)
            p = self.save(os.path.join(self.src, f"{point}.npy"), np.arange(50))
            for name in ("a", "b"):
                r = self.dsm("add", p, "--name", name, cwd=self.repo, env={"DSM_TEST_CRASH_AT": "add-sidecar"})
                self.assertEqual(r.rc, -signal.SIGKILL)
            r = self.dsm("gc", "--grace", "0", cwd=self.repo, env={"DSM_TEST_CRASH_AT": point})
            self.assertEqual(r.rc, -signal.SIGKILL, r)
            # Never a sidecar without its payload; listed data intact.
            self.dsm("verify", cwd=self.repo, expect=0)
            self.dsm("gc", "--grace", "0", cwd=self.repo, expect=0)
            self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.assertEqual(self.payloads_on_disk("a") + self.payloads_on_disk("b"), [])
        self.assertEqual(len(self.payloads_on_disk("scores")), 1)

    def test_gc_remote_keeps_every_referenced_object(self):
        store = self.add_store()
        self.add("kept", np.arange(10))
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        # Referenced only by another branch.
        self.git("checkout", "-q", "-b", "other", cwd=self.repo)
        self.add("onbranch", np.arange(11))
        self.commit("branch")
        self.dsm("push", cwd=self.repo, expect=0)
        self.git("checkout", "-q", "main", cwd=self.repo)
        # Referenced only by an older commit.
        self.add("old", np.arange(12))
        self.commit("old")
        self.dsm("push", cwd=self.repo, expect=0)
        self.dsm("rm", "old@1", cwd=self.repo, expect=0)
        self.git("commit", "-q", "-m", "rm old", cwd=self.repo)
        # Pushed, then removed before any commit: garbage.
        self.add("junk", np.arange(13))
        junk_sha = sha256_file(self.version_path("junk", 1))
        self.dsm("push", cwd=self.repo, expect=0)
        self.dsm("rm", "junk@1", cwd=self.repo, expect=0)
        objects = lambda: {two + rest for two in os.listdir(os.path.join(store, "objects", "sha256"))  # noqa: E731
                           for rest in os.listdir(os.path.join(store, "objects", "sha256", two))}
        self.assertEqual(len(objects()), 4)
        r = self.dsm("gc", "--remote", "team", cwd=self.repo, expect=0)
        self.assertIn("within the grace period", r.out)
        j = self.dsm("gc", "--remote", "team", "--grace", "0", "--json", cwd=self.repo, expect=0).json()
        self.assertTrue(j["dry_run"])
        self.assertEqual([o["sha256"] for o in j["deletable"]], [junk_sha])
        self.assertEqual(len(objects()), 4, "a dry run unless --yes")
        r = self.dsm("gc", "--remote", "team", "--grace", "0", cwd=self.repo, expect=0)
        self.assertIn("--yes", r.out)
        self.dsm("gc", "--remote", "team", "--grace", "0", "--yes", cwd=self.repo, expect=0)
        self.assertEqual(len(objects()), 3)
        self.assertNotIn(junk_sha, objects())
        self.dsm("verify", "--remote", "team", cwd=self.repo, expect=0)
        r = self.dsm("help", "gc", cwd=self.repo, expect=0)
        self.assertIn("another clone may reference objects", r.out.replace("\n", " "))


class DuTest(FreeingBase):

    def test_du_per_dataset(self):
        self.add("scores", np.arange(1000))
        self.add("scores", np.arange(2000))
        self.add("labels", np.arange(10))
        self.commit()
        j = self.dsm("du", "--json", cwd=self.repo, expect=0).json()
        by = {d["name"]: d for d in j["datasets"]}
        s1, s2 = (os.path.getsize(self.version_path("scores", n)) for n in (1, 2))
        self.assertEqual(by["scores"]["versions"], 2)
        self.assertEqual(by["scores"]["bytes_here"], s1 + s2)
        self.assertEqual(by["scores"]["bytes_only_here"], s1 + s2, "no remote: everything is only here")
        self.assertEqual(by["scores"]["drop_frees"], 0)
        self.add_store()
        self.commit("remote")
        self.dsm("push", "scores@1", cwd=self.repo, expect=0)
        j = self.dsm("du", "scores", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual([d["name"] for d in j["datasets"]], ["scores"])
        d = j["datasets"][0]
        self.assertEqual(d["bytes_only_here"], s2)
        self.assertEqual(d["drop_frees"], s1)
        self.dsm("drop", "scores@1", cwd=self.repo, expect=0)
        d = self.dsm("du", "scores", "--json", cwd=self.repo, expect=0).json()["datasets"][0]
        self.assertEqual((d["versions"], d["present"], d["bytes_here"]), (2, 1, s2))
        r = self.dsm("du", cwd=self.repo, expect=0)
        self.assertIn("DATASET", r.out)
        self.assertIn("scores", r.out)


class StoredOnceTest(FreeingBase):

    def test_identical_payloads_share_an_inode(self):
        a = np.arange(5000)
        self.add("scores", a)
        r = self.add("features", a)  # same bytes, another name
        p1 = self.version_path("scores", 1)
        p2 = self.version_path("features", 1)
        self.assertIn("hard link", r.err)
        self.assertEqual(os.stat(p1).st_ino, os.stat(p2).st_ino)
        self.assertEqual(os.stat(p2).st_mode & 0o777, 0o444)
        r = self.add("features", a)  # the latest version's bytes again: still a new version
        p3 = self.version_path("features", 2)
        self.assertIn("same bytes as features@1", r.err)
        self.assertEqual(os.stat(p3).st_ino, os.stat(p1).st_ino)
        self.assertEqual(len(manifest_entries(self.repo)), 3)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_removing_one_name_leaves_the_other_whole(self):
        a = np.arange(5000)
        self.add("scores", a)
        self.commit()
        self.add("features", a)  # a hard link, never committed
        p1 = self.version_path("scores", 1)
        p2 = self.version_path("features", 1)
        self.assertEqual(os.stat(p1).st_ino, os.stat(p2).st_ino)
        self.dsm("rm", "features@1", cwd=self.repo, expect=0)
        j = self.dsm("gc", "--grace", "0", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual([(d["path"], d["bytes"]) for d in j["deleted"]], [(p2, 0)],
                         "another name keeps the inode: nothing is freed")
        self.assertFalse(os.path.exists(p2))
        self.assertEqual(sha256_file(p1), manifest_entries(self.repo)[os.path.relpath(p1, self.data())])
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_pull_links_identical_payloads(self):
        a = np.arange(3000)
        self.add("scores", a)
        self.add("copy", a)
        self.add("other", np.arange(7))
        self.add_store()
        self.commit()
        self.dsm("push", cwd=self.repo, expect=0)
        clone = os.path.join(self.tmp, "clone")
        self.git("clone", "-q", self.repo, clone)
        r = self.dsm("pull", "--json", cwd=clone, expect=0)
        j = r.json()
        self.assertEqual((j["transferred"], j["linked"]), (2, 1), j)
        c1 = self.dsm("path", "scores@1", cwd=clone, expect=0).out.strip()
        c2 = self.dsm("path", "copy@1", cwd=clone, expect=0).out.strip()
        self.assertEqual(os.stat(c1).st_ino, os.stat(c2).st_ino)
        self.dsm("verify", "--strict", cwd=clone, expect=0)
        # One name dropped and pulled back: linked to the other, nothing downloaded.
        self.dsm("drop", "copy", cwd=clone, expect=0)
        j = self.dsm("pull", "--json", cwd=clone, expect=0).json()
        self.assertEqual((j["transferred"], j["linked"]), (0, 1), j)
        self.assertEqual(os.stat(c1).st_ino, os.stat(c2).st_ino)
        self.dsm("verify", "--strict", cwd=clone, expect=0)

    def test_a_damaged_payload_is_never_linked(self):
        a = np.arange(3000)
        self.add("scores", a)
        p1 = self.version_path("scores", 1)
        os.chmod(p1, 0o644)
        with open(p1, "r+b") as f:
            f.seek(500)
            f.write(b"\x01\x02")
        os.chmod(p1, 0o444)
        self.add("copy", a)
        p2 = self.version_path("copy", 1)
        self.assertNotEqual(os.stat(p1).st_ino, os.stat(p2).st_ino)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn("FAILED " + p1, r.out)
        self.assertNotIn(p2, r.out)


if __name__ == "__main__":
    main()
