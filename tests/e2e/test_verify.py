"""dsm verify: flipped bits, missing, stray, sidecar disagreements, --fast, --json, targets."""
import os
import stat

from harness import DsmTestCase, main, np


class VerifyTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.paths = {}
        for name, arr in (("alpha", np.arange(1000.0)), ("beta", np.ones((20, 30), dtype="<f4")),
                          ("gamma", np.arange(64, dtype="<i8"))):
            src = self.save(f"{name}.npy", arr)
            self.paths[name] = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()

    def flip_bit(self, path, offset=-1):
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.seek(offset, os.SEEK_END)
            b = f.read(1)
            f.seek(offset, os.SEEK_END)
            f.write(bytes([b[0] ^ 0x01]))
        os.chmod(path, 0o444)

    def test_all_good(self):
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("verified 3 payloads", r.out)
        self.assertIn("all good", r.out)

    def test_flipped_bit_blamed_on_right_file_only(self):
        self.flip_bit(self.paths["beta"])
        r = self.dsm("verify", cwd=self.repo, expect=1)
        lines = [l for l in r.out.splitlines() if not l.startswith("verified")]
        self.assertEqual(lines, [f"FAILED {self.paths['beta']}: checksum mismatch"])
        self.assertIn("1 failed", r.out)
        # Also from a subfolder, and naming it as a target.
        sub = os.path.join(self.repo, "sub")
        os.makedirs(sub)
        r2 = self.dsm("verify", "beta", cwd=sub, expect=1)
        self.assertIn(f"FAILED {self.paths['beta']}: checksum mismatch", r2.out)
        self.dsm("verify", "alpha", "gamma@1", cwd=sub, expect=0)
        # sha256sum agrees about which file is bad.
        c = self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=os.path.join(self.repo, "data"),
                         check=False)
        self.assertIn("beta", [l for l in c.out.splitlines() if "FAILED" in l][0])

    def test_missing_and_stray(self):
        os.chmod(os.path.dirname(self.paths["alpha"]), 0o755)
        os.remove(self.paths["alpha"])
        stray = os.path.join(self.repo, "data", "alpha", "stray.npy")
        np.save(stray, np.zeros(2))
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"MISSING {self.paths['alpha']}\n", r.out)
        self.assertIn(f"UNTRACKED {stray}: not stored by 'dsm add'", r.out)
        self.assertNotIn("beta", r.out)

    def test_stray_only_fails_with_strict(self):
        stray = os.path.join(self.repo, "data", "loose.npy")
        np.save(stray, np.zeros(2))
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn(f"UNTRACKED {stray}", r.out)
        self.dsm("verify", "--strict", cwd=self.repo, expect=1)

    def test_sidecar_disagreements(self):
        sc = self.paths["gamma"] + ".yaml"
        with open(sc) as f:
            text = f.read()
        with open(sc, "w") as f:
            f.write(text.replace("shape: [64]", "shape: [8, 8]").replace('descr: "<i8"', 'descr: "<i4"'))
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"MISMATCH {self.paths['gamma']}: sidecar says shape [8, 8], file says shape [64]", r.out)
        self.assertIn(f"MISMATCH {self.paths['gamma']}: sidecar says descr '<i4', file says descr '<i8'", r.out)
        # A sidecar that is gone, and one that is garbage.
        os.remove(sc)
        with open(self.paths["alpha"] + ".yaml", "a") as f:
            f.write("bogus_key: 1\n")
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"MISSING {sc}: sidecar of", r.out)
        self.assertRegex(r.out, r"FAILED .*alpha.*\.yaml: '.*\.yaml':\d+: unknown key 'bogus_key'")

    def test_orphan_sidecar_temp_symlink_and_directory(self):
        orphan = os.path.join(self.repo, "data", "alpha", "alpha_20000101_001.npy.yaml")
        with open(orphan, "w") as f:
            f.write("dsm_sidecar: 1\n")
        temp = os.path.join(self.repo, "data", ".dsm-tmp-x.abc")
        open(temp, "w").close()
        # Payload replaced by a symlink to outside the repository.
        target = self.paths["gamma"]
        os.chmod(os.path.dirname(target), 0o755)
        os.remove(target)
        os.symlink("/etc/passwd", target)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"ORPHAN {orphan}: sidecar without a payload", r.out)
        self.assertIn(f"TEMP {temp}", r.out)
        self.assertIn(f"FAILED {target}: is a symlink, not a regular file", r.out)

    def test_writable_payload_reported(self):
        os.chmod(self.paths["alpha"], 0o644)
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn(f"WRITABLE {self.paths['alpha']}", r.out)
        self.dsm("verify", "--strict", cwd=self.repo, expect=1)

    def test_fast_uses_stat_cache_and_notices_changes(self):
        self.dsm("verify", cwd=self.repo, expect=0)
        # Make every entry older than the cache so none is racily clean.
        for p in self.paths.values():
            os.utime(p, (1_600_000_000, 1_600_000_000))
            os.utime(p + ".yaml", (1_600_000_000, 1_600_000_000))
        self.dsm("verify", cwd=self.repo, expect=0)
        r = self.dsm("verify", "--fast", cwd=self.repo, expect=0)
        self.assertIn("3 unchanged skipped by --fast", r.out)
        # Flip a bit but restore size and mtime: --fast trusts it, full verify does not.
        self.flip_bit(self.paths["alpha"])
        os.utime(self.paths["alpha"], (1_600_000_000, 1_600_000_000))
        r = self.dsm("verify", "--fast", cwd=self.repo)
        # ctime moved with the write, so even --fast re-hashes it.
        self.assertEqual(r.rc, 1, r)
        self.assertIn(f"FAILED {self.paths['alpha']}: checksum mismatch", r.out)

    def test_json_and_jobs(self):
        self.flip_bit(self.paths["alpha"])
        r = self.dsm("verify", "--json", "--jobs", "3", cwd=self.repo, expect=1)
        j = r.json()
        self.assertFalse(j["ok"])
        self.assertEqual(j["checked"], 3)
        self.assertEqual(j["findings"], [{"kind": "failed", "path": self.paths["alpha"],
                                          "detail": "checksum mismatch"}])

    def test_unknown_target_is_an_error(self):
        r = self.dsm("verify", "nosuch", cwd=self.repo, expect=2)
        self.assertIn("no dataset named 'nosuch'", r.err)
        r = self.dsm("verify", "alpha@9", cwd=self.repo, expect=2)
        self.assertIn("has no version 9", r.err)

    def test_bad_manifest_names_line(self):
        mf = os.path.join(self.repo, "data", "manifest-sha256.txt")
        with open(mf) as f:
            lines = f.readlines()
        lines[1] = lines[1][1:]
        with open(mf, "w") as f:
            f.writelines(lines)
        r = self.dsm("verify", cwd=self.repo, expect=2)
        self.assertIn("manifest-sha256.txt':2: hash has 63 characters, expected 64", r.err)


if __name__ == "__main__":
    main()
