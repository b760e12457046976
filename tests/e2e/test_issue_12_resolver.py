"""Issue 12: push, pull and verify --remote select what they act on through the
one target resolver (repo/datasets.cpp), as verify, path, show and export do.

Before the fix, push and pull had a resolver of their own: with one chunked
and one plain version of `sensors`, `dsm push sensors` pushed 1 payload and
skipped the chunk parts, `dsm push sensors@1` failed while `dsm verify
sensors@1` worked, and a sidecar saying `version: 7` made `push feat@7`
match while `dsm path feat@7` said there was no version 7.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DsmTestCase, main, np  # noqa: E402
from remote_util import RemoteScenario, manifest_entries, object_key  # noqa: E402


class ResolverTest(RemoteScenario, DsmTestCase):

    def setUp(self):
        super().setUp()
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.dsm("remote", "add", "team", self.store, "--default", cwd=self.repo, expect=0)
        # sensors@1 chunked into 3 parts, sensors@2 plain.
        a = np.arange(3000, dtype=np.float64).reshape(300, 10)
        self.dsm("add", self.save(os.path.join(self.tmp, "s1.npy"), a), "--name", "sensors",
                 "--chunk-size", "8KiB", cwd=self.repo, expect=0)
        self.dsm("add", self.save(os.path.join(self.tmp, "s2.npy"), a + 1), "--name", "sensors",
                 cwd=self.repo, expect=0)
        self.commit_all(self.repo)
        self.entries = manifest_entries(self.repo)
        self.parts = sorted(rel for rel in self.entries if "/part-" in rel)
        self.assertGreaterEqual(len(self.parts), 3, self.entries)

    def stored(self):
        return {sha for sha in set(self.entries.values())
                if os.path.exists(os.path.join(self.store, object_key(sha)))}

    def test_push_name_moves_every_chunk_part(self):
        r = self.dsm("verify", "sensors", cwd=self.repo, expect=0)
        checked = len(self.parts) + 1
        r = self.dsm("push", "sensors", cwd=self.repo, expect=0)
        self.assertIn(f"pushed {checked} payloads", r.out)
        self.assertEqual(self.stored(), set(self.entries.values()))

    def test_push_and_pull_of_a_chunked_version_by_number(self):
        self.dsm("verify", "sensors@1", cwd=self.repo, expect=0)
        r = self.dsm("push", "sensors@1", cwd=self.repo, expect=0)
        self.assertIn(f"pushed {len(self.parts)} payloads", r.out)
        self.assertEqual(self.stored(), {self.entries[p] for p in self.parts})
        clone = self.clone(self.repo)
        r = self.dsm("pull", "sensors@1", cwd=clone, expect=0)
        self.assertIn(f"pulled {len(self.parts)} payloads", r.out)
        for p in self.parts:
            self.assertTrue(os.path.isfile(os.path.join(clone, "data", p)), p)
        self.dsm("verify", "sensors@1", cwd=clone, expect=0)
        r = self.dsm("verify", "--remote", "team", "sensors@1", cwd=clone, expect=0)
        self.assertIn(f"{len(self.parts)} payloads checked", r.out)

    def test_push_name_at_n_wherever_verify_works(self):
        for target in ["sensors@2", "sensors@002", "data/sensors",
                       os.path.join(self.repo, "data", self.parts[0])]:
            self.dsm("verify", target, cwd=self.repo, expect=0)
            self.dsm("push", target, cwd=self.repo, expect=0)
        for target in ["sensors@3", "nosuch", "nosuch@1"]:
            v = self.dsm("verify", target, cwd=self.repo, expect=2)
            p = self.dsm("push", target, cwd=self.repo, expect=2)
            self.assertEqual(v.err, p.err, target)

    def test_a_sidecar_version_field_is_not_a_second_source_of_truth(self):
        side = [os.path.join(self.repo, "data", rel + ".yaml") for rel in self.entries
                if "/part-" not in rel][0]
        os.chmod(side, 0o644)
        with open(side) as f:
            text = f.read()
        self.assertIn("version: 2", text)
        with open(side, "w") as f:
            f.write(text.replace("version: 2", "version: 7"))
        self.dsm("path", "sensors@7", cwd=self.repo, expect=2)
        r = self.dsm("push", "sensors@7", cwd=self.repo, expect=2)
        self.assertIn("has no version 7", r.err)
        self.dsm("push", "sensors@2", cwd=self.repo, expect=0)
        # verify names the disagreement.
        r = self.dsm("verify", "sensors@2", cwd=self.repo, expect=1)
        self.assertIn("MISMATCH", r.out)
        self.assertIn("version", r.out)


if __name__ == "__main__":
    main()
