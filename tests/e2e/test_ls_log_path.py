"""dsm ls, log NAME, path NAME[@VERSION], show NAME."""
import os

from harness import DsmTestCase, main, np


class ListingTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        a = self.save("features.npy", np.zeros((100, 16), dtype="<f4"))
        self.v1 = self.dsm("add", a, "--message", "first", cwd=self.repo, expect=0).out.strip()
        b = self.save("features.npy", np.ones((200, 16), dtype="<f4"))
        self.v2 = self.dsm("add", b, "--message", "second", cwd=self.repo, expect=0).out.strip()
        c = self.save("labels.npy", np.arange(5, dtype=">i8"))
        self.labels = self.dsm("add", c, "--name", "exp/labels", cwd=self.repo, expect=0).out.strip()

    def test_ls(self):
        r = self.dsm("ls", cwd=self.repo, expect=0)
        lines = r.out.splitlines()
        self.assertTrue(lines[0].startswith("NAME"))
        self.assertRegex(lines[1], r"^exp/labels\s+1\s+1\s+\d{4}-\d\d-\d\d\s+\[5\]\s+>i8\s+")
        self.assertRegex(lines[2], r"^features\s+2\s+2\s+\d{4}-\d\d-\d\d\s+\[200, 16\]\s+<f4\s+")
        j = self.dsm("ls", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual([d["name"] for d in j], ["exp/labels", "features"])
        self.assertEqual(j[1]["versions"], 2)
        self.assertEqual(j[1]["shape"], [200, 16])
        self.assertEqual(j[1]["path"], self.v2)

    def test_log(self):
        r = self.dsm("log", "features", cwd=self.repo, expect=0)
        self.assertLess(r.out.index("features@2"), r.out.index("features@1"))
        self.assertIn("message second", r.out)
        self.assertIn("Ada Tester <ada@example.com>", r.out)
        self.assertIn("[100, 16]", r.out)
        j = self.dsm("log", "features", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual([v["version"] for v in j], [2, 1])
        self.assertEqual(j[1]["message"], "first")
        self.dsm("log", "nosuch", cwd=self.repo, expect=2)

    def test_path(self):
        sub = os.path.join(self.repo, "nb")
        os.makedirs(sub)
        self.assertEqual(self.dsm("path", "features", cwd=sub, expect=0).out, self.v2 + "\n")
        self.assertEqual(self.dsm("path", "features@1", cwd=sub, expect=0).out, self.v1 + "\n")
        self.assertEqual(self.dsm("path", "features@001", cwd=sub, expect=0).out, self.v1 + "\n")
        self.assertEqual(self.dsm("path", "exp/labels", cwd=sub, expect=0).out, self.labels + "\n")
        # The scripting idiom from the README.
        code = "import numpy as np, subprocess, sys; print(np.load(sys.argv[1]).shape)"
        out = self.run_cmd("/usr/bin/python3", "-c", code, self.dsm("path", "features", cwd=sub).out.strip()).out
        self.assertEqual(out.strip(), "(200, 16)")
        self.assertIn("has no version 7", self.dsm("path", "features@7", cwd=sub, expect=2).err)
        self.assertIn("no dataset named", self.dsm("path", "nope", cwd=sub, expect=2).err)


if __name__ == "__main__":
    main()
