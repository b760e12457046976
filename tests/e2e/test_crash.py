"""Crash consistency of dsm add: SIGKILL at every crash point, then verify, status, repair.

The crash points are read from src/ops/add.cpp, so a point added there is
covered here without editing this file. For each point and each way of
adding (one file, three files as successive versions, --move) the test
kills `dsm add` there (DSM_TEST_CRASH_AT) and checks:
  - the process died of SIGKILL, the source is intact (same bytes);
  - the repository holds all of the new versions or none (manifest lines);
  - dsm verify / dsm status explain every leftover (no failures, a precise
    reason per file), and nothing listed before the crash changed;
  - dsm repair --dry-run changes nothing; dsm repair cleans up, printing
    absolute paths; afterwards verify --strict is clean and a new add works
    (taking over the dead process's lock).
"""
import json
import os
import re
import stat

from harness import DsmTestCase, main, np
from harness import add_crash_points as crash_points
from harness import sha256_file as sha256


def snapshot(root):
    """Every file under root (symlinks not followed): type, mode, content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            p = os.path.join(dirpath, name)
            if os.path.relpath(p, root) in (os.path.join(".dsm", "local", "lock"), os.path.join(".dsm", "local", "active")):
                continue  # lock state: taking over a dead holder's lock is not a data change
            st = os.lstat(p)
            digest = sha256(p) if stat.S_ISREG(st.st_mode) else os.readlink(p) if stat.S_ISLNK(st.st_mode) else ""
            out[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), digest)
    return out


class CrashTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        self.data = os.path.join(self.repo, "data")
        self.manifest_path = os.path.join(self.data, "manifest-sha256.txt")
        # A version that exists before the crash: it must never change.
        old = self.save("old.npy", np.arange(50, dtype="<i8"))
        self.dsm("add", old, "--name", "ds", cwd=self.repo, expect=0)
        self.before = snapshot(self.data)
        self.manifest_before = self.read_manifest()

    def read_manifest(self):
        with open(self.manifest_path) as f:
            return dict(reversed(line.split("  ", 1)) for line in f.read().splitlines())

    def crash_add(self, point, sources, move=False):
        args = ["add", *sources, "--name", "ds"] + (["--move"] if move else [])
        r = self.dsm(*args, cwd=self.repo, env={"DSM_TEST_CRASH_AT": point})
        self.assertEqual(r.rc, -9, f"{point}: dsm add was not killed by SIGKILL: {r!r}")
        return r

    def check_listed_untouched(self, point):
        now = snapshot(self.data)
        for rel, facts in self.before.items():
            if rel == "manifest-sha256.txt":
                continue
            self.assertEqual(now.get(rel), facts, f"{point}: {rel} changed")

    def check_explained(self, point):
        """verify and status name every leftover with a precise reason."""
        v = self.dsm("verify", "--json", cwd=self.repo)
        self.assertEqual(v.rc, 0, f"{point}: {v!r}")
        findings = v.json()["findings"]
        kinds = {f["kind"] for f in findings}
        self.assertFalse(kinds & {"failed", "missing", "mismatch"}, f"{point}: {v.out}")
        for f in findings:
            self.assertTrue(os.path.isabs(f["path"]), f)
            if f["kind"] == "temp":
                self.assertIn("dsm repair", f["detail"], f)
            elif f["kind"] == "untracked":
                self.assertIn("unfinished 'dsm add'", f["detail"], f)
        s = self.dsm("status", "--json", cwd=self.repo)
        self.assertIn(s.rc, (0, 1), f"{point}: {s!r}")
        status = s.json()
        left = {f["path"] for f in findings if f["kind"] in ("temp", "untracked")}
        shown = set(status.get("temp", [])) | set(status.get("untracked", []))
        self.assertEqual(left, shown, f"{point}: verify and status disagree: {v.out} {s.out}")
        return findings

    def repair_and_check(self, point, findings, expect_actions):
        before = snapshot(self.repo)
        dry = self.dsm("repair", "--dry-run", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"})
        self.assertEqual(dry.rc, 0, f"{point}: {dry!r}")
        self.assertEqual(snapshot(self.repo), before, f"{point}: --dry-run changed files")
        r = self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"})
        self.assertEqual(r.rc, 0, f"{point}: {r!r}")
        lines = [l for l in r.out.splitlines() if l != "nothing to repair"]
        verbs = sorted(re.match(r"(removed|rolled back|completed|moved|left alone) (/\S.*?)(?: to (/\S+))?: ",
                                l).group(1) for l in lines)
        self.assertEqual(verbs, sorted(expect_actions), f"{point}: {r.out}")
        self.assertEqual(len(dry.out.splitlines()), len(r.out.splitlines()), f"{point}: {dry.out} vs {r.out}")
        # Every leftover verify named is dealt with, by absolute path.
        for f in findings:
            self.assertIn(f["path"], r.out, f"{point}: repair did not mention {f['path']}")
        for dirpath, _, files in os.walk(self.data):
            for name in files:
                self.assertFalse(name.startswith(".dsm-tmp-"), f"{point}: temp left: {dirpath}/{name}")
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.check_listed_untouched(point)
        return r

    def add_after(self, point, src):
        r = self.dsm("add", src, "--name", "ds", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"})
        self.assertEqual(r.rc, 0, f"{point}: add after crash+repair failed: {r!r}")
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=self.data)

    def run_matrix(self, nfiles, move):
        for n, point in enumerate(crash_points()):
            with self.subTest(point=point):
                srcs = [self.save(f"in{n}/s{i}.npy", np.full((20, 3), 10 * n + i, dtype="<f8"))
                        for i in range(nfiles)]
                digests = [sha256(s) for s in srcs]
                self.crash_add(point, srcs, move=move)
                # The source is intact (--move removes it only after the
                # manifest lists the copy, which is after every crash point).
                for s, d in zip(srcs, digests):
                    self.assertEqual(sha256(s), d, f"{point}: source {s} changed")
                manifest = self.read_manifest()
                new = {p: h for p, h in manifest.items() if p not in self.manifest_before}
                for p, h in self.manifest_before.items():
                    self.assertEqual(manifest.get(p), h, f"{point}: listed entry {p} changed")
                # All or nothing.
                self.assertIn(len(new), (0, nfiles), f"{point}: partial add: {new}")
                committed = len(new) == nfiles
                if committed:
                    self.assertEqual(sorted(new.values()), sorted(digests), point)
                    for p in new:
                        payload = os.path.join(self.data, p)
                        self.assertTrue(os.path.isfile(payload + ".yaml"), f"{point}: no sidecar for {p}")
                        self.assertEqual(sha256(payload), new[p], point)
                findings = self.check_explained(point)
                kinds = [f["kind"] for f in findings]
                expect = []
                for f in findings:
                    if f["kind"] == "temp":
                        expect.append("removed")
                    elif "no sidecar" in f["detail"]:
                        expect.append("moved")
                    else:
                        expect.append("rolled back")
                # Before the commit point something was written and is
                # reported; after it, nothing is left over.
                self.assertEqual(bool(kinds), not committed, f"{point}: {findings}")
                self.repair_and_check(point, findings, expect)
                self.assertEqual(self.read_manifest(), manifest, f"{point}: repair changed the manifest")
                self.before = snapshot(self.data)
                self.manifest_before = self.read_manifest()
                self.add_after(point, srcs[0])
                self.before = snapshot(self.data)
                self.manifest_before = self.read_manifest()

    def test_matrix_one_file(self):
        self.run_matrix(1, move=False)

    def test_matrix_three_files(self):
        self.run_matrix(3, move=False)

    def test_matrix_move(self):
        self.run_matrix(1, move=True)

    def test_leftovers_per_point(self):
        """What each crash point leaves, precisely (the documented order of writes)."""
        expected = {
            "add-payload-temp": {"temp"},           # payload copies under .dsm-tmp-*
            "add-payload": {"untracked"},           # payload named, no sidecar
            "add-sidecar": {"untracked"},           # payload + sidecar, no manifest line
            "add-manifest-temp": {"untracked", "temp"},  # + the manifest's temp file
            "add-manifest": set(),                  # committed
        }
        for n, point in enumerate(crash_points()):
            with self.subTest(point=point):
                src = self.save(f"p{n}.npy", np.arange(n + 5.0))
                self.crash_add(point, [src])
                v = self.dsm("verify", "--json", cwd=self.repo, expect=0)
                kinds = {f["kind"] for f in v.json()["findings"]}
                if point in expected:
                    self.assertEqual(kinds, expected[point], f"{point}: {v.out}")
                self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
                self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_move_source_gone_completes_instead_of_deleting(self):
        """After a crash past the sidecar, if the source is gone the payload is the only copy: repair keeps it."""
        src = self.save("only.npy", np.arange(7.0))
        digest = sha256(src)
        self.crash_add("add-sidecar", [src], move=True)
        os.unlink(src)  # the user cleaned up, thinking the move was done
        r = self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
        self.assertRegex(r.out, r"^completed /\S+ds_\d{8}_002\.npy: ")
        listed = [p for p, h in self.read_manifest().items() if h == digest]
        self.assertEqual(len(listed), 1, r.out)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)

    def test_payload_without_sidecar_is_set_aside_not_deleted(self):
        src = self.save("aside.npy", np.arange(9.0))
        digest = sha256(src)
        self.crash_add("add-payload", [src])
        r = self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
        m = re.match(r"moved (/\S+) to (/\S+): ", r.out)
        self.assertTrue(m, r.out)
        self.assertFalse(os.path.exists(m.group(1)))
        self.assertTrue(m.group(2).startswith(os.path.join(self.repo, ".dsm", "local", "orphans") + os.sep))
        self.assertEqual(sha256(m.group(2)), digest)
        self.dsm("verify", "--strict", cwd=self.repo, expect=0)
        # Sequence numbers are never reused, even for a set-aside version.
        out = self.dsm("add", src, "--name", "ds", cwd=self.repo, expect=0).out.strip()
        self.assertTrue(out.endswith("_002.npy") or out.endswith("_003.npy"), out)

    def test_repair_leaves_foreign_files_alone(self):
        """Files dsm did not write (hand-placed arrays, symlinks) are reported, never removed."""
        stray = self.save(os.path.join(self.data, "ds", "my_own.npy"), np.zeros(3))
        os.symlink("/etc/passwd", os.path.join(self.data, "ds", "ds_20200101_009.npy"))
        before = snapshot(self.data)
        r = self.dsm("repair", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=1)
        self.assertIn(f"left alone {stray}: ", r.out)
        self.assertIn("ds_20200101_009.npy: not a regular file", r.out)
        self.assertIn("need a decision", r.err)
        self.assertEqual(snapshot(self.data), before)

    def test_repair_refuses_corrupt_manifest(self):
        with open(self.manifest_path, "a") as f:
            f.write("garbage\n")
        r = self.dsm("repair", cwd=self.repo, expect=2)
        self.assertIn("manifest-sha256.txt':2:", r.err)


if __name__ == "__main__":
    main()
