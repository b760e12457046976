"""Helpers shared by test_remote_dir.py and test_remote_s3.py."""
import os
import signal
import subprocess
import time

from harness import DSM, np, sha256_file  # noqa: F401  (re-exported to the remote tests)


def manifest_entries(repo):
    """{relative path: sha} from <repo>/data/manifest-sha256.txt."""
    out = {}
    with open(os.path.join(repo, "data", "manifest-sha256.txt")) as f:
        for line in f:
            sha, path = line.rstrip("\n").split("  ", 1)
            out[path] = sha
    return out


def object_key(sha):
    return f"objects/sha256/{sha[:2]}/{sha[2:]}"


def no_temp_files(root):
    """Every hidden dsm temp file under root (should be none)."""
    found = []
    for d, _, files in os.walk(root):
        found += [os.path.join(d, f) for f in files if f.startswith(".dsm-tmp-")]
    return found


class RemoteScenario:
    """Mixin: a committed repository with a few datasets."""

    def make_repo_with_data(self, name="repo", arrays=None):
        repo = self.make_git_repo(name)
        self.dsm("init", cwd=repo, expect=0)
        arrays = arrays or {
            "features": [np.arange(5000, dtype=np.float64).reshape(100, 50),
                         np.linspace(0, 1, 3000, dtype=np.float32)],
            "labels": [np.arange(1000, dtype=np.int64) % 7],
        }
        src = os.path.join(self.tmp, "src-" + name)
        os.makedirs(src, exist_ok=True)
        for ds, versions in arrays.items():
            for i, arr in enumerate(versions):
                p = self.save(os.path.join(src, f"{ds}_{i}.npy"), arr)
                self.dsm("add", p, "--name", ds, cwd=repo, expect=0)
        self.git("add", "-A", cwd=repo)
        self.git("commit", "-q", "-m", "datasets", cwd=repo)
        return repo

    def commit_all(self, repo, message="config"):
        self.git("add", "-A", cwd=repo)
        self.git("commit", "-q", "-m", message, cwd=repo)

    def clone(self, repo, name="clone"):
        dest = os.path.join(self.tmp, name)
        self.git("clone", "-q", repo, dest)
        return dest

    def assert_same_payloads(self, a, b):
        entries = manifest_entries(a)
        self.assertEqual(entries, manifest_entries(b))
        for rel, sha in entries.items():
            pa = os.path.join(a, "data", rel)
            pb = os.path.join(b, "data", rel)
            with open(pa, "rb") as fa, open(pb, "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), rel)
            self.assertEqual(sha256_file(pb), sha)
            self.assertEqual(os.stat(pb).st_mode & 0o777, 0o444, f"{rel} must be read-only")

    def push_and_kill(self, repo, remote, count_objects, total, extra_env=None):
        """Starts `dsm push --jobs 1`, SIGKILLs it once at least one object
        is stored and before all are, and returns how many were stored."""
        env = dict(self.env)
        env.update(extra_env or {})
        proc = subprocess.Popen([DSM, "push", "--remote", remote, "--jobs", "1"], cwd=repo, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        stored = 0
        try:
            while time.time() < deadline and proc.poll() is None:
                stored = count_objects()
                if stored >= 1:
                    break
                time.sleep(0.002)
            self.assertIsNone(proc.poll(), "push finished before it could be killed; make the payloads larger")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        stored = count_objects()
        self.assertLess(stored, total, "push completed before the kill")
        return stored
