"""Issue #15: randomized hostile layouts. Each round builds a repository, a
clone and a directory remote, then plants a random mix of symlinks (to
files and directories outside, to /dev/zero), FIFOs and oversized files
under data/, .dsm/ and the remote, and runs every dsm command that reads or
writes there. Whatever each command answers, none may hang (timeouts), and
none may read, write, chmod or delete anything outside the repository and
the remote: the outside tree is compared byte for byte, mode for mode, and
no outside file's content may reach the remote.

DSM_LAYOUT_SEED=N replays one round; DSM_LAYOUT_ROUNDS sets how many.
"""
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DSM, DsmTestCase, main, np, sha256_file  # noqa: E402
from remote_util import RemoteScenario, manifest_entries, object_key  # noqa: E402
from test_security import tree_state  # noqa: E402

ROUNDS = int(os.environ.get("DSM_LAYOUT_ROUNDS", "5"))


class HostileLayoutTest(RemoteScenario, DsmTestCase):

    def build(self, rng):
        self.outside = os.path.join(self.tmp, "outside")
        os.makedirs(os.path.join(self.outside, "dir"))
        with open(os.path.join(self.outside, "secret.txt"), "w") as f:
            f.write("do not read me\n")
        os.chmod(os.path.join(self.outside, "secret.txt"), 0o600)
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        clone = self.clone(repo)
        entries = manifest_entries(repo)
        # Copies of payloads outside: following a symlink to one would
        # "verify", so only the rule keeps them out of the remote.
        for i, rel in enumerate(sorted(entries)):
            shutil.copyfile(os.path.join(repo, "data", rel), os.path.join(self.outside, f"copy{i}.npy"))
        return repo, clone, entries

    def plant(self, rng, repo, clone, entries):
        outside_targets = [os.path.join(self.outside, n) for n in sorted(os.listdir(self.outside))] + \
            ["/dev/zero", os.path.join(self.outside, "absent")]
        rels = sorted(entries)

        def replace(path, how):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                if not os.path.islink(path):
                    os.chmod(path, 0o644)
                os.remove(path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if how == "symlink":
                os.symlink(rng.choice(outside_targets), path)
            elif how == "fifo":
                os.mkfifo(path)
            elif how == "big":
                with open(path, "wb") as f:
                    f.truncate(64 << 20)  # sparse: big to read, cheap to make
            elif how == "dirlink":
                os.symlink(self.outside, path)

        planted = []
        for _ in range(rng.randint(1, 5)):
            where = rng.choice(["payload", "sidecar", "dataset_dir", "local", "local_file", "object", "fanout",
                                "manifest", "clone_dataset_dir"])
            how = rng.choice(["symlink", "fifo", "big"])
            rel = rng.choice(rels)
            base = rng.choice([repo, clone])
            if where == "payload":
                path = os.path.join(base, "data", rel)
            elif where == "sidecar":
                path = os.path.join(base, "data", rel + ".yaml")
            elif where == "dataset_dir":
                path, how = os.path.join(base, "data", rel.split("/")[0]), "dirlink"
            elif where == "clone_dataset_dir":
                path, how = os.path.join(clone, "data", rel.split("/")[0]), "dirlink"
            elif where == "manifest":
                path = os.path.join(base, "data", "manifest-sha256.txt")
            elif where == "local":
                if os.path.isdir(os.path.join(base, ".dsm", "local")) and rng.random() < 0.5:
                    continue
                path, how = os.path.join(base, ".dsm", "local"), "dirlink"
            elif where == "local_file":
                if os.path.islink(os.path.join(base, ".dsm", "local")):
                    continue
                path = os.path.join(base, ".dsm", "local", rng.choice(["active", "statcache", "lock"]))
            elif where == "object":
                obj = os.path.join(self.store, object_key(entries[rel]))
                os.chmod(os.path.dirname(obj), 0o755)
                path = obj
            else:  # fanout
                path, how = os.path.join(self.store, "objects", "sha256", entries[rel][:2]), "dirlink"
                if os.path.isdir(path) and not os.path.islink(path):
                    for n in os.listdir(path):
                        p = os.path.join(path, n)
                        if not os.path.islink(p):
                            os.chmod(p, 0o644)
            replace(path, how)
            planted.append((os.path.relpath(path, self.tmp), how))
        return planted

    def object_sizes(self):
        out = {}
        for d, _, files in os.walk(os.path.join(self.store, "objects")):
            for f in files:
                p = os.path.join(d, f)
                if not os.path.islink(p) and os.path.isfile(p):
                    out[p] = os.path.getsize(p)
        return out

    def test_no_command_reaches_outside_or_hangs(self):
        seeds = [int(os.environ["DSM_LAYOUT_SEED"])] if "DSM_LAYOUT_SEED" in os.environ else \
            [random.SystemRandom().randrange(1 << 30) for _ in range(ROUNDS)]
        for seed in seeds:
            with self.subTest(seed=seed):
                self.round(seed)

    def round(self, seed):
        root = self.tmp
        self.tmp = os.path.join(root, f"round-{seed}")
        os.makedirs(self.tmp)
        try:
            rng = random.Random(seed)
            repo, clone, entries = self.build(rng)
            planted = self.plant(rng, repo, clone, entries)
            outside_before = tree_state(self.outside)
            outside_shas = {sha256_file(os.path.join(self.outside, n)) for n in os.listdir(self.outside)
                            if os.path.isfile(os.path.join(self.outside, n))}
            store_before = set(os.listdir(self.store))
            sizes_before = self.object_sizes()
            new = self.save(os.path.join(self.tmp, "new.npy"), np.arange(rng.randint(1, 1000)))
            moved = self.save(os.path.join(self.tmp, "moved.npy"), np.arange(rng.randint(1, 1000)))
            commands = [
                (repo, ["status"]), (repo, ["ls"]), (repo, ["verify"]), (repo, ["verify", "--remote", "team"]),
                (repo, ["push"]), (repo, ["push", "--force"]), (clone, ["pull"]), (clone, ["status"]),
                (clone, ["verify"]), (repo, ["add", new, "--name", "fresh"]), (repo, ["add", "--move", moved]),
                (repo, ["repair"]), (repo, ["hook", "pre-commit"]), (repo, ["show", "features"]),
                (repo, ["log", "features"]), (repo, ["export", "features@1", "--out",
                                                     os.path.join(self.tmp, "exported.npy"), "--force"]),
            ]
            for cwd, args in commands:
                try:
                    # errors="replace": a message may quote raw bytes of a planted file.
                    r = subprocess.run([DSM, *args], cwd=cwd, env=self.env, capture_output=True, text=True,
                                       errors="replace", timeout=60, stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired:
                    self.fail(f"seed {seed}: dsm {' '.join(args)} hung; planted {planted}")
                self.assertIn(r.returncode, (0, 1, 2), f"seed {seed}: dsm {args}: {r.stderr}")
                self.assertNotIn("internal error", r.stderr)
            self.assertEqual(tree_state(self.outside), outside_before,
                             f"seed {seed}: something outside changed; planted {planted}")
            # Nothing of the outside reached the remote (the copies of
            # payloads outside are byte-identical to objects it may hold, so
            # only objects that appeared since count).
            # No object (or temp) grew beyond 1 MiB unless planted that big.
            for p, size in self.object_sizes().items():
                if size > 1 << 20:
                    self.assertEqual(sizes_before.get(p), size, f"seed {seed}: {p} grew; planted {planted}")
            self.assertTrue(set(os.listdir(self.store)) >= store_before - {"objects"})
            del outside_shas
        finally:
            self.tmp = root


if __name__ == "__main__":
    main()
