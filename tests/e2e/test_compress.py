"""dsm add --compress and dsm compress: NumPy-loadable .npz, engine choice, export round trip."""
import os
import zipfile

import yaml
from harness import InitializedRepoTestCase, main, np
from harness import sha256_file as sha256



class CompressTest(InitializedRepoTestCase):

    def sidecar(self, payload):
        with open(payload + ".yaml") as f:
            return yaml.safe_load(f)

    def test_help_shows_the_optional_level_as_typed(self):
        out = self.dsm("add", "--help", expect=0).out
        self.assertIn("--compress [=LEVEL]", out)
        self.assertNotIn("{", out)  # CLI11's "{auto}" default syntax is not for users

    def test_add_compress_loads_with_numpy_and_exports_bit_identical(self):
        a = (np.random.default_rng(0).standard_normal((2000, 64)) * 10).round(1)
        src = self.save("features.npy", a)
        r = self.dsm("add", "--compress", src, "--name", "exp/features", "-m", "lr=0.1", cwd=self.repo, expect=0)
        payload = r.out.strip()
        self.assertEqual(payload, self.data("exp", "features", f"features_{self.today}_001.npz"))
        # np.load(path)[NAME] with NAME the last name segment.
        z = np.load(payload)
        self.assertEqual(list(z.keys()), ["features"])
        b = z["features"]
        self.assertEqual(b.dtype, a.dtype)
        np.testing.assert_array_equal(a, b)
        with zipfile.ZipFile(payload) as zf:
            self.assertIsNone(zf.testzip())
            info = zf.getinfo("features.npy")
            self.assertEqual(info.compress_type, zipfile.ZIP_DEFLATED)
            self.assertLess(info.compress_size, info.file_size * 0.8)
        # Sidecar: the stored .npz, plus the original .npy it came from.
        s = self.sidecar(payload)
        self.assertEqual(s["format"], "npz")
        self.assertEqual(s["sha256"], sha256(payload))
        self.assertEqual(s["original"]["sha256"], sha256(src))
        self.assertEqual(s["original"]["size"], os.path.getsize(src))
        self.assertEqual(s["members"][0]["name"], "features")
        self.assertEqual(s["members"][0]["shape"], [2000, 64])
        self.assertIn("compression", s)
        self.assertEqual(s["meta"], {"lr": 0.1})
        # Manifest and verify agree.
        with open(self.data("manifest-sha256.txt")) as f:
            self.assertIn(f"{sha256(payload)}  exp/features/features_{self.today}_001.npz\n", f.read())
        self.dsm("verify", cwd=self.repo, expect=0)
        # Export: bit-identical to what was added.
        out = os.path.join(self.tmp, "back.npy")
        e = self.dsm("export", "exp/features", "--out", out, cwd=self.repo, expect=0)
        self.assertEqual(e.out.strip(), out)
        self.assertEqual(sha256(out), sha256(src))
        # Refuses to overwrite without --force; --force replaces.
        r2 = self.dsm("export", "exp/features", "--out", out, cwd=self.repo, expect=2)
        self.assertIn("--force", r2.err)
        self.dsm("export", "exp/features@1", "--out", out, "--force", cwd=self.repo, expect=0)
        self.assertEqual(sha256(out), sha256(src))

    def test_rounded_floats_are_as_small_as_numpys(self):
        # Issue 17: normal samples rounded to 2 decimals came out 5% larger
        # than np.savez_compressed; auto now picks zlib tuned to the nearest
        # match there, and the floor is at most 2% larger.
        a = np.random.default_rng(7).normal(size=1 << 20).round(2)
        src = self.save("rounded.npy", a)
        payload = self.dsm("add", "--compress", src, "--name", "rounded", cwd=self.repo, expect=0).out.strip()
        np.testing.assert_array_equal(np.load(payload)["rounded"], a)
        peer = os.path.join(self.tmp, "peer.npz")
        np.savez_compressed(peer, rounded=a)
        self.assertLessEqual(os.path.getsize(payload), os.path.getsize(peer) * 1.02)
        self.assertIn("zlib (nearest match)", self.sidecar(payload)["compression"])

    def test_levels_and_incompressible_data_is_stored(self):
        noise = np.random.default_rng(1).integers(0, 256, 3 << 20, dtype=np.uint8)
        src = self.save("noise.npy", noise)
        r = self.dsm("add", "--compress", src, cwd=self.repo, expect=0)
        payload = r.out.strip()
        self.assertIn("stored uncompressed", r.err)
        with zipfile.ZipFile(payload) as zf:
            self.assertEqual(zf.getinfo("noise.npy").compress_type, zipfile.ZIP_STORED)
        np.testing.assert_array_equal(np.load(payload)["noise"], noise)
        self.assertIn("stored uncompressed", self.sidecar(payload)["compression"])
        # Explicit levels: 1 (ISA-L), 9 (libdeflate) on compressible data.
        ints = self.save("ints.npy", np.arange(300000) % 1000)
        for level in ("1", "9"):
            p = self.dsm("add", f"--compress={level}", ints, cwd=self.repo, expect=0).out.strip()
            with zipfile.ZipFile(p) as zf:
                self.assertEqual(zf.getinfo("ints.npy").compress_type, zipfile.ZIP_DEFLATED)
            np.testing.assert_array_equal(np.load(p)["ints"], np.arange(300000) % 1000)
        bad = self.dsm("add", "--compress=13", ints, cwd=self.repo, expect=2)
        self.assertIn("compression level", bad.err)

    def test_compress_command_makes_a_new_version(self):
        a = np.tile(np.arange(1000, dtype="<i4"), 300).reshape(300, 1000)
        src = self.save("grid.npy", a)
        first = self.dsm("add", src, "--message", "raw", "-m", "k=v", cwd=self.repo, expect=0).out.strip()
        r = self.dsm("compress", "grid", cwd=self.repo, expect=0)
        payload = r.out.strip()
        self.assertEqual(payload, self.data("grid", f"grid_{self.today}_002.npz"))
        self.assertTrue(os.path.exists(first))  # nothing rewritten in place
        np.testing.assert_array_equal(np.load(payload)["grid"], a)
        s = self.sidecar(payload)
        self.assertEqual(s["original"]["sha256"], sha256(first))
        self.assertEqual(s["message"], "raw")
        self.assertEqual(s["meta"], {"k": "v"})
        out = os.path.join(self.tmp, "grid-back.npy")
        self.dsm("export", "grid@2", "--out", out, cwd=self.repo, expect=0)
        self.assertEqual(sha256(out), sha256(src))
        self.dsm("verify", cwd=self.repo, expect=0)

    def test_export_refuses_corrupt_compressed_version(self):
        src = self.save("w.npy", np.arange(200000, dtype="<f8") % 7)
        payload = self.dsm("add", "--compress", src, cwd=self.repo, expect=0).out.strip()
        os.chmod(payload, 0o644)
        with open(payload, "r+b") as f:
            f.seek(os.path.getsize(payload) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0x01]))
        out = os.path.join(self.tmp, "w-back.npy")
        r = self.dsm("export", "w", "--out", out, cwd=self.repo, expect=1)
        self.assertIn(payload, r.err)
        self.assertFalse(os.path.exists(out))
        v = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(payload, v.out + v.err)


if __name__ == "__main__":
    main()
