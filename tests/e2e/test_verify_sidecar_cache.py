"""dsm verify skips re-parsing a sidecar whose exact bytes already agreed with the payload,
and still catches every change to a sidecar (even one that keeps its size and mtime)."""
import os

from harness import DsmTestCase, main, np


class VerifySidecarCacheTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        src = self.save("gamma.npy", np.arange(64, dtype="<i8"))
        self.payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        self.sidecar = self.payload + ".yaml"
        self.cache = os.path.join(self.repo, ".dsm", "local", "statcache")

    def agreed_lines(self):
        with open(self.cache) as f:
            return [l for l in f.read().splitlines() if " /sidecar-agreed/" in l]

    def rewrite_keeping_stat(self, old, new):
        """Edits the sidecar in place (same size) and puts its mtime back."""
        self.assertEqual(len(old), len(new))
        st = os.stat(self.sidecar)
        with open(self.sidecar) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(self.sidecar, "r+") as f:
            f.write(text.replace(old, new))
        os.utime(self.sidecar, ns=(st.st_atime_ns, st.st_mtime_ns))
        self.assertEqual(os.stat(self.sidecar).st_size, st.st_size)

    def test_agreement_recorded_then_reused_and_edits_still_caught(self):
        self.dsm("verify", cwd=self.repo, expect=0)
        lines = self.agreed_lines()
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].endswith(" /sidecar-agreed/gamma/" + os.path.basename(self.payload)), lines)
        # Verify again: the same pair of bytes, still all good.
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("all good", r.out)
        # Same size, same mtime, other bytes: verify reads the text, so it notices.
        self.rewrite_keeping_stat("shape: [64]", "shape: [65]")
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"MISMATCH {self.payload}: sidecar says shape [65], file says shape [64]", r.out)
        self.assertEqual(self.agreed_lines(), [], "a disagreeing sidecar must drop the recorded agreement")
        # Put it back: agreement again.
        self.rewrite_keeping_stat("shape: [65]", "shape: [64]")
        self.dsm("verify", cwd=self.repo, expect=0)
        self.assertEqual(len(self.agreed_lines()), 1)

    def test_forged_agreement_does_not_hide_a_bad_sidecar(self):
        self.dsm("verify", cwd=self.repo, expect=0)
        # Break the sidecar, then make the recorded agreement claim anything:
        # only the digest of the exact bytes can match, so the parse happens.
        self.rewrite_keeping_stat('descr: "<i8"', 'descr: "<i4"')
        with open(self.cache) as f:
            text = f.read()
        forged = "\n".join(("0" * 64 + l[64:]) if " /sidecar-agreed/" in l else l for l in text.splitlines()) + "\n"
        with open(self.cache, "w") as f:
            f.write(forged)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"MISMATCH {self.payload}: sidecar says descr '<i4', file says descr '<i8'", r.out)

    def test_payload_change_is_not_hidden_by_the_agreement(self):
        self.dsm("verify", cwd=self.repo, expect=0)
        os.chmod(self.payload, 0o644)
        with open(self.payload, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            b = f.read(1)
            f.seek(-1, os.SEEK_END)
            f.write(bytes([b[0] ^ 1]))
        os.chmod(self.payload, 0o444)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"FAILED {self.payload}: checksum mismatch", r.out)
        self.assertEqual(self.agreed_lines(), [])


if __name__ == "__main__":
    main()
