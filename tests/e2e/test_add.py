"""dsm add: naming, sidecars, manifest, copy/move, metadata, refusals, crash points."""
import os
import stat
import subprocess

import yaml
from harness import InitializedRepoTestCase, main, np
from harness import sha256_file as sha256
from test_init import snapshot



class AddTest(InitializedRepoTestCase):

    def manifest(self):
        with open(self.data("manifest-sha256.txt")) as f:
            return f.read()

    def test_add_from_subfolder_relative_paths(self):
        work = os.path.join(self.repo, "notebooks")
        src = self.save(os.path.join(work, "features.npy"), np.arange(12.0).reshape(3, 4))
        r = self.dsm("add", "features.npy", "-m", "lr=0.01", "--message", "first cut", cwd=work, expect=0)
        stored = self.data("features", f"features_{self.today}_001.npy")
        self.assertEqual(r.out, stored + "\n")
        self.assertTrue(os.path.isabs(r.out.strip()))
        # Copy, source untouched, payload read-only, manifest relative.
        self.assertTrue(os.path.isfile(src))
        self.assertEqual(sha256(src), sha256(stored))
        self.assertEqual(stat.S_IMODE(os.stat(stored).st_mode), 0o444)
        self.assertEqual(self.manifest(), f"{sha256(stored)}  features/features_{self.today}_001.npy\n")
        # sha256sum --strict -c passes from inside the data dir.
        c = self.run_cmd("sha256sum", "--strict", "-c", "manifest-sha256.txt", cwd=self.data())
        self.assertIn("OK", c.out)
        # Second add: _002, same day.
        r2 = self.dsm("add", src, cwd=self.repo, expect=0)
        self.assertTrue(r2.out.strip().endswith(f"features_{self.today}_002.npy"))
        self.assertEqual(len(self.manifest().splitlines()), 2)

    def test_sidecar_contents(self):
        src = self.save("arr.npy", np.array([[1.0, np.nan], [np.inf, -2.0]], dtype="<f8"))
        # Quoted strings stay strings (yaml-cpp's emitter would drop the quotes).
        meta = os.path.join(self.tmp, "meta.yaml")
        with open(meta, "w") as f:
            f.write('code: "007"\nflag: \'no\'\n"on": yes\nnested: {"yes": "true", n: [1, "2"]}\n')
        r = self.dsm("add", src, "--name", "exp/run-1", "-m", "lr=0.01", "-m", "tags=[a, b]",
                     "-m", "note=it's fine", "-m", "see=later: maybe", "-m", "empty=", "-m", "off=null",
                     "--meta", meta, "--message", 'say "hi"\nthere', cwd=self.repo, expect=0)
        payload = r.out.strip()
        self.assertEqual(payload, self.data("exp", "run-1", f"run-1_{self.today}_001.npy"))
        with open(payload + ".yaml") as f:
            text = f.read()
        self.assertTrue(text.startswith("dsm_sidecar: 1\n"), text)
        keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
        self.assertEqual(keys, ["dsm_sidecar", "name", "version", "file", "created", "author", "git_commit",
                                "branch", "source", "host", "size", "sha256", "format", "npy_version", "descr",
                                "shape", "fortran_order", "stats", "message", "meta"])
        sc = yaml.safe_load(text)
        self.assertEqual(sc["name"], "exp/run-1")
        self.assertEqual(sc["version"], 1)
        self.assertEqual(sc["file"], os.path.basename(payload))
        self.assertEqual(sc["author"], "Ada Tester <ada@example.com>")
        head = self.git("rev-parse", "HEAD", cwd=self.repo).out.strip()
        self.assertEqual(sc["git_commit"], head)
        self.assertEqual(sc["branch"], "main")
        self.assertEqual(sc["source"], src)
        self.assertEqual(sc["size"], os.path.getsize(src))
        self.assertEqual(sc["sha256"], sha256(src))
        self.assertEqual(sc["format"], "npy")
        self.assertEqual(sc["descr"], "<f8")
        self.assertEqual(sc["shape"], [2, 2])
        self.assertIn("shape: [2, 2]\n", text)
        self.assertEqual(sc["fortran_order"], False)
        self.assertEqual(sc["stats"]["min"], -2.0)
        self.assertEqual(sc["stats"]["max"], float("inf"))  # nanmax keeps inf
        self.assertEqual(sc["stats"]["mean"], float("inf"))
        self.assertEqual(sc["stats"]["nan"], 1)
        self.assertEqual(sc["stats"]["inf"], 1)
        self.assertEqual(sc["message"], 'say "hi"\nthere')
        self.assertEqual(sc["meta"], {"lr": 0.01, "tags": ["a", "b"], "note": "it's fine",
                                      "see": "later: maybe", "empty": "", "off": None,
                                      # A plain `yes` is the string "yes" for dsm (YAML 1.2),
                                      # and is written so PyYAML agrees (issue 18).
                                      "code": "007", "flag": "no", "on": "yes",
                                      "nested": {"yes": "true", "n": [1, "2"]}})
        self.assertTrue(sc["created"].endswith("Z"))

    def test_npz_members(self):
        src = os.path.join(self.tmp, "bundle.npz")
        np.savez_compressed(src, weights=np.ones((2, 3), dtype="<f4"), mask=np.eye(2, dtype=bool))
        payload = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        self.assertTrue(payload.endswith(".npz"))
        sc = yaml.safe_load(open(payload + ".yaml").read())
        self.assertEqual(sc["format"], "npz")
        members = {m["name"]: m for m in sc["members"]}
        self.assertEqual(members["weights"]["shape"], [2, 3])
        self.assertEqual(members["weights"]["descr"], "<f4")
        self.assertEqual(members["mask"]["descr"], "|b1")

    def test_several_files_one_name_in_order(self):
        a = self.save("a.npy", np.zeros(3))
        b = self.save("b.npy", np.ones(3))
        out = self.dsm("add", a, b, "--name", "series", cwd=self.repo, expect=0).out.split()
        self.assertEqual([os.path.basename(p) for p in out],
                         [f"series_{self.today}_001.npy", f"series_{self.today}_002.npy"])
        self.assertEqual(sha256(out[0]), sha256(a))
        self.assertEqual(sha256(out[1]), sha256(b))

    def test_numbers_never_reused_and_continue_across_days(self):
        d = self.data("feat")
        os.makedirs(d)
        # An older day's version and a leftover sidecar of a crashed add.
        open(os.path.join(d, "feat_20200101_007.npy.yaml"), "w").close()
        src = self.save("feat.npy", np.zeros(2))
        out = self.dsm("add", src, cwd=self.repo, expect=0).out.strip()
        self.assertTrue(out.endswith(f"feat_{self.today}_008.npy"), out)

    def test_move(self):
        src = self.save("m.npy", np.arange(5))
        digest = sha256(src)
        out = self.dsm("add", "--move", src, cwd=self.repo, expect=0).out.strip()
        self.assertFalse(os.path.exists(src))
        self.assertEqual(sha256(out), digest)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o444)
        self.dsm("verify", cwd=self.repo, expect=0)

    def test_json_output(self):
        src = self.save("j.npy", np.arange(5))
        r = self.dsm("add", "--json", src, cwd=self.repo, expect=0)
        j = r.json()
        self.assertEqual(j[0]["name"], "j")
        self.assertEqual(j[0]["version"], 1)
        self.assertEqual(j[0]["sha256"], sha256(src))

    def test_refused_inputs_leave_repository_unchanged(self):
        self.git("add", "-A", cwd=self.repo)
        self.git("commit", "-q", "-m", "dsm init", cwd=self.repo)
        good = self.save("good.npy", np.zeros(4))
        self.dsm("add", good, cwd=self.repo, expect=0)
        before = snapshot(self.repo)
        text = os.path.join(self.tmp, "notes.npy")
        with open(text, "w") as f:
            f.write("not an array\n")
        truncated = os.path.join(self.tmp, "trunc.npy")
        with open(good, "rb") as f:
            blob = f.read()
        with open(truncated, "wb") as f:
            f.write(blob[:-3])
        pickled = self.save("obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
        cases = [
            ([text], "notes.npy"),
            ([truncated], "trunc.npy"),
            ([pickled], "--allow-pickle"),
            ([good, text], "notes.npy"),          # one bad file: nothing from the batch
            ([good, "--name", "../x"], "invalid dataset name"),
            ([good, "--name", "a//b"], "empty segment"),
            ([good, "--name", "/abs"], "absolute"),
            ([os.path.join(self.tmp, "missing.npy")], "missing.npy"),
            ([self.tmp], "not a regular file"),
            ([good, "-m", "novalue"], "KEY=VALUE"),
        ]
        for args, why in cases:
            r = self.dsm("add", *args, cwd=self.repo, expect=2)
            self.assertIn(why, r.err, args)
            self.assertEqual(snapshot(self.repo), before, args)
        # --allow-pickle stores it and flags it.
        out = self.dsm("add", "--allow-pickle", pickled, cwd=self.repo, expect=0).out.strip()
        self.assertIn("pickled: true\n", open(out + ".yaml").read())

    def test_no_git_identity_warns(self):
        src = self.save("n.npy", np.zeros(2))
        env = {k: "" for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")}
        e = dict(self.env)
        for k in env:
            e.pop(k, None)
        proc = subprocess.run([os.environ.get("DSM_BIN", "dsm"), "add", src], cwd=self.repo, env=e,
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("git config user.name", proc.stderr)
        self.assertIn("author: null\n", open(proc.stdout.strip() + ".yaml").read())

    def test_crash_points_leave_explainable_state(self):
        src = self.save("c.npy", np.arange(100.0))
        digest = sha256(src)
        points = ["add-payload-temp", "add-payload", "add-sidecar", "add-manifest-temp", "add-manifest"]
        for n, point in enumerate(points):
            r = self.dsm("add", src, "--name", f"c{n}", cwd=self.repo, env={"DSM_TEST_CRASH_AT": point})
            self.assertEqual(r.rc, -9, (point, r))
            self.assertEqual(sha256(src), digest)
            listed = f"c{n}/c{n}_{self.today}_001.npy" in self.manifest()
            self.assertEqual(listed, point == "add-manifest", point)
            v = self.dsm("verify", "--json", cwd=self.repo)
            kinds = {f["kind"] for f in v.json()["findings"]}
            # Nothing listed is ever broken: only leftovers, never failures.
            self.assertFalse(kinds & {"failed", "missing", "mismatch"}, (point, v.out))
            self.assertEqual(v.rc, 0, (point, v.out))
            if point == "add-payload-temp" or point == "add-manifest-temp":
                self.assertIn("temp", kinds, point)
            if point in ("add-payload", "add-sidecar"):
                self.assertIn("untracked", kinds, point)
            # The lock of the dead process is stale and taken over.
            after = self.dsm("add", src, "--name", f"c{n}", cwd=self.repo, env={"DSM_LOCK_TIMEOUT": "5"}, expect=0)
            want = 2 if point in ("add-payload", "add-sidecar", "add-manifest-temp", "add-manifest") else 1
            self.assertTrue(after.out.strip().endswith(f"_{want:03d}.npy"), (point, after.out))


if __name__ == "__main__":
    main()
