"""dsm status: new, missing, changed, uncommitted, clean."""
import os

from harness import DsmTestCase, main, np


class StatusTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)

    def test_journey(self):
        src = self.save("s.npy", np.arange(10))
        payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        r = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(sorted(r["uncommitted"]), sorted([payload + ".yaml", os.path.join(self.repo, "data", "manifest-sha256.txt")]))
        self.assertFalse(r["clean"])
        self.dsm("status", "--check", cwd=self.repo, expect=1)
        self.git("add", "-A", cwd=self.repo)
        self.assertNotIn(".npy\n", self.git("diff", "--cached", "--name-only", cwd=self.repo).out)
        self.git("commit", "-q", "-m", "data", cwd=self.repo)
        r = self.dsm("status", cwd=self.repo, expect=0)
        self.assertIn("payloads match the manifest, sidecars are committed", r.out)
        # No remote: the one copy is here, and status says so (issue #13).
        self.assertIn("1 committed version is on no remote: none is configured", r.out)
        self.dsm("status", "--check", cwd=self.repo, expect=0)
        # A stray payload, a deleted one, a changed one.
        stray = os.path.join(self.repo, "data", "s", "extra.npy")
        np.save(stray, np.zeros(1))
        other = self.dsm("add", self.save("t.npy", np.ones(3)), cwd=self.repo, expect=0).out.strip()
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", "more", cwd=self.repo)
        self.dsm("verify", cwd=self.repo)
        os.chmod(payload, 0o644)
        with open(payload, "ab") as f:
            f.write(b"x")
        os.chmod(os.path.dirname(other), 0o755)
        os.remove(other)
        r = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(r["untracked"], [stray])
        self.assertEqual(r["missing"], [other])
        self.assertEqual(r["changed"], [payload])
        self.assertEqual(r["uncommitted"], [])
        text = self.dsm("status", cwd=self.repo, expect=0).out
        self.assertIn("new payloads", text)
        self.assertIn("  " + stray, text)

    def test_uncommitted_is_judged_against_head_whatever_the_index_holds(self):
        # status reads HEAD's files under data/ from the index when git's
        # cache-tree says they are the same tree; each step below leaves the
        # index in another state relative to HEAD.
        first = self.dsm("add", self.save("a.npy", np.arange(4)), cwd=self.repo, expect=0).out.strip()
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", "a", cwd=self.repo)
        self.assertTrue(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["clean"])
        manifest = os.path.join(self.repo, "data", "manifest-sha256.txt")

        second = self.dsm("add", self.save("b.npy", np.arange(5)), cwd=self.repo, expect=0).out.strip()
        expected = sorted([second + ".yaml", manifest])
        # Not staged: the index (and its cache-tree) still equal HEAD.
        self.assertEqual(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["uncommitted"], expected)
        # Staged, not committed.
        self.git("add", "-A", cwd=self.repo)
        self.assertEqual(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["uncommitted"], expected)
        # Committed, then HEAD moved back with the index left as it was: the
        # index's trees are valid but are not HEAD's.
        self.git("commit", "-q", "-m", "b", cwd=self.repo)
        self.assertTrue(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["clean"])
        self.git("reset", "-q", "--soft", "HEAD~1", cwd=self.repo)
        self.assertEqual(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["uncommitted"], expected)
        # Removed from the index only: still committed in HEAD.
        self.git("commit", "-q", "-m", "b again", cwd=self.repo)
        self.git("rm", "-q", "--cached", first + ".yaml", cwd=self.repo)
        self.assertEqual(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["uncommitted"], [])

    def test_a_committed_sidecar_edited_since_is_reported(self):
        payload = self.dsm("add", self.save("a.npy", np.arange(4)), cwd=self.repo, expect=0).out.strip()
        sidecar = payload + ".yaml"
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", "a", cwd=self.repo)
        self.assertTrue(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["clean"])
        with open(sidecar) as f:
            original = f.read()
        st = os.stat(sidecar)
        # Same size, same mtime: only the bytes (and the ctime) moved.
        edited = original.replace("message: null", "message: nil ")
        self.assertEqual(len(edited), len(original))
        os.chmod(sidecar, 0o644)
        with open(sidecar, "w") as f:
            f.write(edited)
        os.utime(sidecar, ns=(st.st_atime_ns, st.st_mtime_ns))
        r = self.dsm("status", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(r["uncommitted"], [sidecar])
        self.assertIn("not committed to git", self.dsm("status", cwd=self.repo, expect=0).out)
        self.git("add", sidecar, cwd=self.repo)  # staged is still not committed
        self.assertEqual(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["uncommitted"], [sidecar])
        # Put back as committed (new stat data, same bytes): clean again.
        self.git("reset", "-q", cwd=self.repo)
        with open(sidecar, "w") as f:
            f.write(original)
        self.assertTrue(self.dsm("status", "--json", cwd=self.repo, expect=0).json()["clean"])


if __name__ == "__main__":
    main()
