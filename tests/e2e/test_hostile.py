"""Hostile input: zip bombs, evil member names, symlinks planted in the data
directory, awkward file names, mangled manifests, sidecars and configs.
Each is refused or reported with a clear message, nothing is written outside
the repository, and the repository is left as it was."""
import io
import os
import struct
import subprocess
import time
import zipfile
import zlib

import yaml

from harness import DSM, DsmTestCase, main, np


def npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


class HostileTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.data = os.path.join(self.repo, "data")
        self.manifest_path = os.path.join(self.data, "manifest-sha256.txt")
        self.local = os.path.join(self.repo, ".dsm", "local")

    def snapshot(self):
        """Every path under the repository (minus .git) with its size."""
        out = {}
        for root, dirs, files in os.walk(self.repo):
            # .git and dsm's local state (.dsm/local: lock, stat cache) aside.
            dirs[:] = [d for d in dirs if d != ".git" and os.path.join(root, d) != self.local]
            for name in files + [d for d in dirs]:
                p = os.path.join(root, name)
                out[os.path.relpath(p, self.repo)] = os.lstat(p).st_size if name in files else -1
        return out

    def assert_refused_unchanged(self, args, fragment, cwd=None):
        before = self.snapshot()
        r = self.dsm(*args, cwd=cwd or self.repo, expect=2)
        self.assertIn(fragment, r.err)
        self.assertTrue(r.err.startswith("dsm: error: "), r.err)
        self.assertEqual(self.snapshot(), before)
        return r

    # --- zip bombs ---------------------------------------------------------
    def test_member_declaring_huge_size_is_refused_fast(self):
        # A stored member whose local and central headers claim 1 TiB.
        payload = npy_bytes(np.arange(4))
        path = os.path.join(self.tmp, "liar.npz")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.npy", payload)
        raw = bytearray(open(path, "rb").read())
        cd = raw.rfind(b"PK\x01\x02")
        struct.pack_into("<I", raw, cd + 24, 0xFFFFFFF0)  # uncompressed size
        struct.pack_into("<I", raw, 22, 0xFFFFFFF0)
        open(path, "wb").write(raw)
        t0 = time.time()
        self.assert_refused_unchanged(["add", path], "liar.npz")
        self.assertLess(time.time() - t0, 20)

    def test_deflate_stream_expanding_beyond_declared_size(self):
        # 64 MiB of zeros deflates to ~64 KiB; the headers claim 1 KiB.
        big = npy_bytes(np.zeros(8 << 20, dtype="<f8"))
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = comp.compress(big) + comp.flush()
        crc = zlib.crc32(big)
        name = b"a.npy"
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), 1024, len(name), 0)
        central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), 1024,
                              len(name), 0, 0, 0, 0, 0, 0)
        cd_off = len(local) + len(name) + len(body)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), cd_off, 0)
        path = os.path.join(self.tmp, "bomb.npz")
        with open(path, "wb") as f:
            f.write(local + name + body + central + name + end)
        r = self.assert_refused_unchanged(["add", path], "bomb.npz")
        self.assertNotIn("Traceback", r.err)
        # show refuses it the same way, within bounded time and memory.
        r = self.dsm("show", path, expect=2)
        self.assertIn("bomb.npz", r.err)

    # --- member names ----------------------------------------------------
    def test_member_names_are_never_used_as_paths(self):
        path = os.path.join(self.tmp, "evil.npz")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("../escape.npy", npy_bytes(np.arange(3)))
            z.writestr("/etc/abs.npy", npy_bytes(np.arange(2)))
        out = self.dsm("add", path, "--name", "evil", cwd=self.repo, expect=0).out.strip()
        self.assertTrue(out.startswith(os.path.join(self.data, "evil") + os.sep), out)
        # Nothing appeared beside the repository or at the absolute name.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape.npy")))
        self.assertFalse(os.path.exists(os.path.join(self.repo, "escape.npy")))
        self.assertFalse(os.path.exists("/etc/abs.npy"))
        shown = self.dsm("show", "evil", "--json", cwd=self.repo, expect=0).json()
        self.assertIn("../escape", str(shown))
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    # --- symlinks in the data directory ----------------------------------
    def test_symlinked_dataset_directory_is_never_written_through(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        os.symlink(outside, os.path.join(self.data, "feat"))
        src = self.save("feat.npy", np.arange(5))
        r = self.dsm("add", src, "--name", "feat", cwd=self.repo, expect=2)
        self.assertIn("symlink", r.err)
        self.assertIn(os.path.join(self.data, "feat"), r.err)
        r = self.dsm("add", src, "--name", "feat/deeper", cwd=self.repo, expect=2)
        self.assertIn("symlink", r.err)
        self.assertEqual(os.listdir(outside), [])
        self.assertEqual(open(self.manifest_path).read(), "")
        # verify reports it and does not follow it.
        v = self.dsm("verify", "--json", cwd=self.repo, expect=0).json()
        self.assertEqual([f["kind"] for f in v["findings"]], ["untracked"])
        self.assertIn("symlink", v["findings"][0]["detail"])

    def test_payload_symlink_pointing_outside_is_reported(self):
        src = self.save("a.npy", np.arange(5))
        payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        secret = os.path.join(self.tmp, "secret.npy")
        np.save(secret, np.arange(5))  # same bytes: a symlink must still not pass
        os.chmod(payload, 0o644)
        os.unlink(payload)
        os.symlink(secret, payload)
        r = self.dsm("verify", cwd=self.repo, expect=1)
        self.assertIn(f"FAILED {payload}", r.out)
        self.assertIn("symlink", r.out)
        r = self.dsm("status", "--check", cwd=self.repo, expect=1)
        self.assertIn(payload, r.out)

    # --- awkward names -----------------------------------------------------
    def test_spaces_newlines_and_non_utf8_in_file_names(self):
        odd = [b"with space.npy", b"new\nline.npy", b"latin\xe9.npy"]
        paths = []
        for i, raw in enumerate(odd):
            p = os.path.join(self.tmp.encode(), raw)
            with open(p, "wb") as f:
                f.write(npy_bytes(np.full(3, i)))
            paths.append(p)
        # No name can be derived from these: a clear refusal asking for --name.
        # Run with bytes: the messages quote the non-UTF-8 name as it is.
        def run(*args):
            return subprocess.run([DSM.encode(), *args], cwd=self.repo, env=self.env, capture_output=True)
        for p in paths:
            before = self.snapshot()
            r = run(b"add", p)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(b"--name", r.stderr)
            self.assertEqual(self.snapshot(), before)
        # With --name they are stored, and the source path is recorded exactly.
        for i, p in enumerate(paths):
            r = run(b"add", p, b"--name", f"odd{i}".encode())
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode().strip()
            self.assertTrue(np.array_equal(np.load(out), np.full(3, i)))
            with open(out + ".yaml", "rb") as f:
                sc = yaml.safe_load(f)
            if i < 2:  # UTF-8 names are recorded exactly; others with \xNN escapes
                self.assertEqual(sc["source"].encode(), p)
            else:
                self.assertIn("latin", sc["source"])
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=self.data)

    def test_bad_dataset_names_refused(self):
        src = self.save("a.npy", np.arange(3))
        for name in ["../up", "/abs", "a//b", "a/../b", "sp ace", "new\nline", "-dash", "a/.hidden", ""]:
            with self.subTest(name=name):
                self.assert_refused_unchanged(["add", src, "--name", name], "name")

    # --- mangled repository files ------------------------------------------
    def test_mangled_manifest_lines_named(self):
        src = self.save("a.npy", np.arange(3))
        self.dsm("add", src, cwd=self.repo, expect=0)
        good = open(self.manifest_path).read()
        sha, rel = good.strip().split("  ", 1)
        cases = {
            "garbage": good + "this is not a manifest line\n",
            "short hash": good + sha[:40] + "  a/other.npy\n",
            "duplicate": good + good,
            "dotdot": good + sha + "  ../outside.npy\n",
            "absolute": good + sha + "  /etc/passwd\n",
        }
        for what, text in cases.items():
            with self.subTest(what=what):
                with open(self.manifest_path, "w") as f:
                    f.write(text)
                for cmd in (["verify"], ["status"], ["ls"]):
                    r = self.dsm(*cmd, cwd=self.repo, expect=2)
                    self.assertRegex(r.err, r"manifest-sha256\.txt'?:2: ")

    def test_mangled_sidecar_named_with_line(self):
        src = self.save("a.npy", np.arange(3))
        payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        sidecar = payload + ".yaml"
        original = open(sidecar).read()
        cases = {
            "unknown key": original + "surprise: 1\n",
            "wrong hash length": original.replace("sha256: \"", "sha256: \"abc", 1),
            "garbage": original + "::: [\n",
        }
        for what, text in cases.items():
            with self.subTest(what=what):
                os.chmod(sidecar, 0o644)
                with open(sidecar, "w") as f:
                    f.write(text)
                r = self.dsm("verify", cwd=self.repo, expect=1)
                self.assertRegex(r.out, r"FAILED|MISMATCH")
                self.assertIn(os.path.basename(sidecar), r.out)
                # show still shows the damaged text, and warns where it is wrong.
                r = self.dsm("show", "a", cwd=self.repo, expect=0)
                self.assertRegex(r.err, r"^dsm: warning: sidecar '" + sidecar + r"':\d+: ")
                j = self.dsm("show", "a", "--json", cwd=self.repo, expect=0).json()
                self.assertIn(sidecar, j["dataset"]["sidecar_error"])

    def test_yaml_alias_bomb_in_sidecar_is_bounded(self):
        src = self.save("a.npy", np.arange(3))
        payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        sidecar = payload + ".yaml"
        original = open(sidecar).read()
        bomb = ["meta:", '  l0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
        for i in range(1, 12):
            bomb.append(f"  l{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
        text = original.replace("meta: {}\n", "\n".join(bomb) + "\n")
        self.assertNotEqual(text, original)
        os.chmod(sidecar, 0o644)
        with open(sidecar, "w") as f:
            f.write(text)
        t0 = time.time()
        r = self.dsm("verify", cwd=self.repo, timeout=60)
        self.assertLess(time.time() - t0, 30)
        self.assertIn(r.rc, (0, 1))
        t0 = time.time()
        r = self.dsm("show", "a", "--json", cwd=self.repo, timeout=60)
        self.assertLess(time.time() - t0, 30)
        self.assertIn(r.rc, (0, 1, 2))
        self.assertLess(len(r.out), 10 << 20)

    def test_config_data_dir_escaping_refused(self):
        cfg = os.path.join(self.repo, ".dsm", "config.yaml")
        original = open(cfg).read()
        for bad in ["..", "/", "/tmp", "../elsewhere", "."]:
            with self.subTest(data_dir=bad):
                with open(cfg, "w") as f:
                    f.write(original.replace('data_dir: "data"', f'data_dir: "{bad}"'))
                self.assertNotEqual(open(cfg).read(), original)
                src = self.save("a.npy", np.arange(3))
                r = self.dsm("add", src, cwd=self.repo, expect=2)
                self.assertIn("data_dir", r.err)
                self.dsm("verify", cwd=self.repo, expect=2)
        with open(cfg, "w") as f:
            f.write(original)


if __name__ == "__main__":
    main()
