"""dsm show NAME[@VERSION]: a stored version, with its sidecar (issue 3)."""
import json
import os

from harness import DsmTestCase, main, np


class ShowDataset(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.save(os.path.join(self.repo, "a.npy"), np.arange(6, dtype="<i4").reshape(2, 3))
        self.dsm("add", "a.npy", "--name", "feat", "-m", "lr=0.5", cwd=self.repo, expect=0)
        self.save(os.path.join(self.repo, "a.npy"), np.zeros(4, dtype="<f8"))
        self.dsm("add", "a.npy", "--name", "feat", cwd=self.repo, expect=0)

    def test_latest_and_given_version_json(self):
        latest = self.dsm("show", "feat", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(latest["dataset"]["name"], "feat")
        self.assertEqual(latest["dataset"]["version"], 2)
        self.assertEqual(latest["shape"], [4])
        first = self.dsm("show", "feat@1", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual(first["shape"], [2, 3])
        self.assertEqual(first["sha256"], first["dataset"]["manifest_sha256"])
        self.assertIn("lr: 0.5", first["dataset"]["sidecar_yaml"])
        self.assertTrue(os.path.isabs(first["path"]))

    def test_human_output_names_version_and_sidecar(self):
        r = self.dsm("show", "feat@1", cwd=os.path.join(self.repo, "data"), expect=0)
        self.assertTrue(r.out.startswith("feat@1\n"), r.out)
        self.assertIn("sidecar  " + os.path.join(self.repo, "data", "feat"), r.out)

    def test_unknown_dataset_is_an_error(self):
        r = self.dsm("show", "nope", cwd=self.repo, expect=2)
        self.assertIn("dsm: error:", r.err)
        r = self.dsm("show", "feat@9", cwd=self.repo, expect=2)
        self.assertIn("dsm: error:", r.err)

    def test_a_file_still_wins(self):
        path = self.save(os.path.join(self.repo, "feat.npy"), np.ones(2))
        os.rename(path, os.path.join(self.repo, "feat"))
        r = self.dsm("show", "feat", "--json", cwd=self.repo, expect=0).json()
        self.assertNotIn("dataset", r)
        self.assertEqual(r["shape"], [2])


if __name__ == "__main__":
    main()
