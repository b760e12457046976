"""dsm add --chunk-size: whole-row .npy chunks, one sidecar, one manifest line per chunk."""
import os

import yaml
from harness import InitializedRepoTestCase, main, np
from harness import sha256_file as sha256



class ChunkTest(InitializedRepoTestCase):

    def test_c_order_chunks_round_trip(self):
        a = np.random.default_rng(3).standard_normal((1000, 16))  # 128 bytes per row
        src = self.save("features.npy", a)
        r = self.dsm("add", "--chunk-size", "32KiB", src, cwd=self.repo, expect=0)
        chunk_dir = self.data("features", f"features_{self.today}_001")
        self.assertEqual(r.out.strip(), chunk_dir)
        parts = sorted(os.listdir(chunk_dir))
        self.assertEqual(parts, [f"part-{i:04d}.npy" for i in range(1, 5)])  # 256 rows each
        loaded = [np.load(os.path.join(chunk_dir, p)) for p in parts]
        self.assertEqual([x.shape for x in loaded], [(256, 16), (256, 16), (256, 16), (232, 16)])
        np.testing.assert_array_equal(np.concatenate(loaded, axis=0), a)
        # One sidecar listing every chunk; one manifest line per chunk.
        with open(chunk_dir + ".yaml") as f:
            s = yaml.safe_load(f)
        self.assertEqual(s["format"], "chunks")
        self.assertEqual(s["original"]["sha256"], sha256(src))
        self.assertEqual(s["original"]["size"], os.path.getsize(src))
        self.assertEqual(s["shape"], [1000, 16])
        self.assertEqual([c["rows"] for c in s["chunks"]], [[0, 256], [256, 512], [512, 768], [768, 1000]])
        for c in s["chunks"]:
            p = os.path.join(chunk_dir, c["file"])
            self.assertEqual(c["sha256"], sha256(p))
            self.assertEqual(c["size"], os.path.getsize(p))
        with open(self.data("manifest-sha256.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, [f"{sha256(os.path.join(chunk_dir, p))}  features/features_{self.today}_001/{p}"
                                 for p in parts])
        c = self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=self.data())
        self.assertEqual(c.rc, 0)
        # path prints the chunk directory; verify, status, log, show understand it.
        self.assertEqual(self.dsm("path", "features", cwd=self.repo, expect=0).out.strip(), chunk_dir)
        self.dsm("verify", cwd=self.repo, expect=0)
        self.dsm("status", cwd=self.repo, expect=0)
        self.assertIn("features", self.dsm("log", "features", cwd=self.repo, expect=0).out)
        self.dsm("show", "features", cwd=self.repo, expect=0)
        # Export reassembles bit for bit.
        out = os.path.join(self.tmp, "back.npy")
        self.dsm("export", "features", "--out", out, cwd=self.repo, expect=0)
        self.assertEqual(sha256(out), sha256(src))

    def test_commit_hook_status_doctor_understand_chunks(self):
        src = self.save("t.npy", np.arange(6000, dtype="<i8").reshape(1000, 6))
        chunk_dir = self.dsm("add", "--chunk-size", "16KiB", src, "--name", "exp/t", cwd=self.repo,
                             expect=0).out.strip()
        sidecar = chunk_dir + ".yaml"
        st = self.dsm("status", cwd=self.repo, expect=0).out
        self.assertIn(sidecar, st)  # one sidecar for the version, not one per chunk
        self.assertNotIn("part-0001.npy.yaml", st)
        # The hook accepts the version's sidecar and the manifest lines of its chunks.
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", "chunked", cwd=self.repo)
        self.assertNotIn(sidecar, self.dsm("status", cwd=self.repo, expect=0).out)
        self.dsm("doctor", cwd=self.repo, expect=0)
        log = self.dsm("log", "exp/t", cwd=self.repo, expect=0).out
        self.assertIn("chunks  3 parts", log)
        with open(sidecar) as f:
            self.assertIn(yaml.safe_load(f)["sha256"][:12], log)
        show = self.dsm("show", chunk_dir, cwd=self.repo, expect=0).out
        self.assertIn("part-0003.npy: <i8  (318, 6)", show)
        # A chunk changed before its version is committed: the hook refuses, naming the chunk.
        second = self.dsm("add", "--chunk-size", "16KiB", src, "--name", "exp/t", cwd=self.repo,
                          expect=0).out.strip()
        victim = os.path.join(second, "part-0002.npy")
        os.chmod(victim, 0o644)
        with open(victim, "r+b") as f:
            f.seek(200)
            f.write(b"\x01")
        self.git("add", "-A", cwd=self.repo)
        c = self.git("commit", "-q", "-m", "second", cwd=self.repo, check=False)
        self.assertNotEqual(c.rc, 0)
        self.assertIn(os.path.relpath(victim, self.repo), c.err)
        self.assertNotIn("part-0001.npy'", c.err)

    def test_fortran_order_splits_last_axis(self):
        a = np.asfortranarray(np.arange(4 * 5 * 60, dtype="<i4").reshape(4, 5, 60))
        src = self.save("f.npy", a)
        chunk_dir = self.dsm("add", "--chunk-size", "1000", src, cwd=self.repo, expect=0).out.strip()
        parts = sorted(os.listdir(chunk_dir))
        loaded = [np.load(os.path.join(chunk_dir, p)) for p in parts]
        self.assertTrue(all(np.isfortran(x) for x in loaded))
        self.assertEqual(loaded[0].shape, (4, 5, 12))  # 80 bytes per slice along the last axis
        np.testing.assert_array_equal(np.concatenate(loaded, axis=2), a)
        out = os.path.join(self.tmp, "f-back.npy")
        self.dsm("export", "f", "--out", out, cwd=self.repo, expect=0)
        self.assertEqual(sha256(out), sha256(src))

    def test_corrupt_chunk_is_named_by_verify_and_export_refuses(self):
        src = self.save("big.npy", np.arange(40000, dtype="<f8"))
        chunk_dir = self.dsm("add", "--chunk-size", "64KiB", src, cwd=self.repo, expect=0).out.strip()
        victim = os.path.join(chunk_dir, "part-0002.npy")
        os.chmod(victim, 0o644)
        with open(victim, "r+b") as f:
            f.seek(1000)
            f.write(b"\xff")
        v = self.dsm("verify", cwd=self.repo, expect=1)
        text = v.out + v.err
        self.assertIn(victim, text)
        self.assertNotIn(os.path.join(chunk_dir, "part-0001.npy"), text)
        out = os.path.join(self.tmp, "big-back.npy")
        self.dsm("export", "big", "--out", out, cwd=self.repo, expect=1)
        self.assertFalse(os.path.exists(out))

    def test_refusals_leave_nothing(self):
        obj = os.path.join(self.tmp, "obj.npy")
        np.save(obj, np.array([1, "a"], dtype=object), allow_pickle=True)
        self.dsm("add", "--chunk-size", "1KiB", "--allow-pickle", obj, cwd=self.repo, expect=2)
        self.dsm("add", "--chunk-size", "lots", self.save("x.npy", np.arange(3)), cwd=self.repo, expect=2)
        with open(self.data("manifest-sha256.txt")) as f:
            self.assertEqual(f.read(), "")
        leftovers = [n for _, dirs, files in os.walk(self.data()) for n in dirs + files if n.startswith(".dsm-tmp")]
        self.assertEqual(leftovers, [])


if __name__ == "__main__":
    main()
