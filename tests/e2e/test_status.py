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
        self.assertIn("nothing to report", r.out)
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


if __name__ == "__main__":
    main()
