"""dsm remote / push / pull with a directory remote (a shared filesystem)."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DSM, DsmTestCase, main, np  # noqa: E402
from remote_util import (RemoteScenario, manifest_entries, no_temp_files, object_key,  # noqa: E402
                         sha256_file)


class RemoteDirTest(RemoteScenario, DsmTestCase):

    def setUp(self):
        super().setUp()
        self.store = os.path.join(self.tmp, "team-store")
        os.makedirs(self.store)

    def stored_objects(self):
        out = {}
        base = os.path.join(self.store, "objects", "sha256")
        if not os.path.isdir(base):
            return out
        for two in os.listdir(base):
            for rest in os.listdir(os.path.join(base, two)):
                if not rest.startswith("."):
                    out[two + rest] = os.path.join(base, two, rest)
        return out

    def test_push_clone_pull_verify(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 3 payloads", r.out)
        objs = self.stored_objects()
        entries = manifest_entries(repo)
        self.assertEqual(set(objs), set(entries.values()))
        for sha, path in objs.items():
            self.assertEqual(sha256_file(path), sha, "each object is named by its content")
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o444)
        # Nothing to do the second time.
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 0 payloads", r.out)
        self.assertIn("3 already there", r.out)

        clone = self.clone(repo)
        for rel in entries:
            self.assertFalse(os.path.exists(os.path.join(clone, "data", rel)), "payloads are not in git")
        r = self.dsm("pull", cwd=clone, expect=0)
        self.assertIn("pulled 3 payloads", r.out)
        self.assert_same_payloads(repo, clone)
        self.dsm("verify", cwd=clone, expect=0)
        self.assertEqual(no_temp_files(clone), [])
        r = self.dsm("pull", cwd=clone, expect=0)
        self.assertIn("pulled 0 payloads", r.out)
        self.assertIn("3 already present", r.out)

    def test_status_and_ls_say_what_pull_restores(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)
        # Only features is pushed; labels stays on this machine.
        self.dsm("push", "features", cwd=repo, expect=0)
        clone = self.clone(repo)
        data = os.path.join(clone, "data")
        entries = manifest_entries(clone)
        r = self.dsm("status", cwd=clone, expect=0)
        for rel in entries:
            where = "on remote 'team': dsm pull" if rel.startswith("features/") else "not on remote 'team' either"
            self.assertIn(f"  {os.path.join(data, rel)}  ({where})", r.out)
        j = self.dsm("status", "--json", cwd=clone, expect=0).json()
        self.assertEqual(j["remote"]["name"], "team")
        self.assertEqual(sorted(j["remote"]["missing_available"]),
                         sorted(os.path.join(data, rel) for rel in entries if rel.startswith("features/")))
        r = self.dsm("status", "--offline", cwd=clone, expect=0)
        self.assertNotIn("remote", r.out)
        ls = {d["name"]: d for d in self.dsm("ls", "--json", cwd=clone, expect=0).json()}
        self.assertEqual((ls["features"]["local"], ls["features"]["on_remote"]), (False, "team"))
        self.assertEqual((ls["labels"]["local"], ls["labels"]["on_remote"]), (False, None))
        r = self.dsm("ls", cwd=clone, expect=0)
        self.assertIn("(not here; on remote 'team': dsm pull)", r.out)
        self.assertIn("(payload missing)", r.out)
        # An unreachable remote is noted, not an error.
        os.rename(self.store, self.store + ".gone")
        r = self.dsm("status", cwd=clone, expect=0)
        self.assertIn("could not ask remote 'team'", r.out)
        r = self.dsm("ls", cwd=clone, expect=0)
        self.assertIn("could not ask remote 'team'", r.err)
        os.rename(self.store + ".gone", self.store)
        self.dsm("pull", cwd=clone, expect=2)  # labels is on no remote
        ls = {d["name"]: d for d in self.dsm("ls", "--json", cwd=clone, expect=0).json()}
        self.assertTrue(ls["features"]["local"])
        self.assertNotIn("on_remote", ls["features"])

    def test_ctrl_c_leaves_nothing_partial_and_resumes(self):
        big = {"big": [np.zeros(4 << 20) + i for i in range(8)]}  # 8 x 32 MiB
        repo = self.make_repo_with_data(arrays=big)
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)

        def interrupt(cmd, cwd, watch):
            p = subprocess.Popen([DSM, *cmd, "--jobs", "1"], cwd=cwd, env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            # Signal once a transfer is under way (its temp file exists).
            deadline = time.time() + 30
            while p.poll() is None and not no_temp_files(watch) and time.time() < deadline:
                time.sleep(0.002)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            if p.returncode == 0:
                self.skipTest(f"{cmd[0]} finished before the signal arrived")
            self.assertEqual(p.returncode, 130, err)
            self.assertIn("dsm: error: interrupted", err)
            self.assertEqual(err.count("interrupted"), 1, err)  # said once, not once per worker

        interrupt(["push"], repo, self.store)
        self.assertEqual(no_temp_files(self.store), [])
        for sha, path in self.stored_objects().items():
            self.assertEqual(sha256_file(path), sha)  # whatever is there is whole
        self.dsm("push", cwd=repo, expect=0)
        clone = self.clone(repo)
        interrupt(["pull"], clone, os.path.join(clone, "data"))
        self.assertEqual(no_temp_files(clone), [])
        self.dsm("pull", cwd=clone, expect=0)
        self.dsm("verify", "--strict", cwd=clone, expect=0)
        self.assert_same_payloads(repo, clone)

    def test_remote_add_list_remove(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        sub = os.path.join(repo, "sub")
        os.makedirs(sub)
        # A relative directory is recorded absolute (relative to where dsm runs).
        self.dsm("remote", "add", "team", "../../team-store", cwd=sub, expect=0)
        # Nothing answers there: recorded only with --no-check.
        r = self.dsm("remote", "add", "cloud", "s3://my-bucket/proj", "--endpoint", "http://127.0.0.1:9",
                     "--region", "eu-west-1", "--default", cwd=repo, expect=2)
        self.assertIn("remote 'cloud' was not added (fix it, or add it anyway with --no-check)", r.err)
        self.dsm("remote", "add", "cloud", "s3://my-bucket/proj", "--endpoint", "http://127.0.0.1:9",
                 "--region", "eu-west-1", "--default", "--no-check", cwd=repo, expect=0)
        r = self.dsm("remote", "list", cwd=repo, expect=0)
        self.assertEqual(r.out.splitlines(), [
            "cloud  s3://my-bucket/proj  endpoint=http://127.0.0.1:9  region=eu-west-1  (default)",
            f"team  {self.store}",
        ])
        listed = self.dsm("remote", "list", "--json", cwd=repo, expect=0).json()
        self.assertEqual([x["name"] for x in listed], ["cloud", "team"])
        self.assertTrue(listed[0]["default"])
        with open(os.path.join(repo, ".dsm", "config.yaml")) as f:
            config = f.read()
        self.assertIn("s3://my-bucket/proj", config)
        self.assertNotIn("S3RVER", config)
        r = self.dsm("remote", "add", "team", "/elsewhere", cwd=repo, expect=2)
        self.assertIn("already exists", r.err)
        r = self.dsm("remote", "add", "bad name", "/x", cwd=repo, expect=2)
        self.assertIn("invalid remote name", r.err)
        r = self.dsm("remote", "add", "web", "http://example.com/x", cwd=repo, expect=2)
        self.assertIn("invalid remote URL", r.err)
        r = self.dsm("remote", "add", "d2", "/x", "--endpoint", "http://127.0.0.1:9", cwd=repo, expect=2)
        self.assertIn("s3:// remotes only", r.err)
        self.dsm("remote", "remove", "cloud", cwd=repo, expect=0)
        r = self.dsm("remote", "remove", "cloud", cwd=repo, expect=2)
        self.assertIn("no remote named 'cloud'", r.err)
        r = self.dsm("remote", "list", cwd=repo, expect=0)
        self.assertEqual(r.out, f"team  {self.store}  (default)\n")

    def test_no_remote_or_ambiguous(self):
        repo = self.make_repo_with_data()
        r = self.dsm("push", cwd=repo, expect=2)
        self.assertIn("no remote configured", r.err)
        self.dsm("remote", "add", "a", self.store, cwd=repo, expect=0)
        self.dsm("remote", "add", "b", self.store, cwd=repo, expect=0)
        r = self.dsm("pull", cwd=repo, expect=2)
        self.assertIn("use --remote NAME", r.err)
        r = self.dsm("push", "--remote", "c", cwd=repo, expect=2)
        self.assertIn("no remote named 'c'", r.err)
        r = self.dsm("push", "--remote", "a", cwd=repo, expect=0)
        self.assertIn("pushed 3 payloads", r.out)

    def test_missing_store_directory(self):
        repo = self.make_repo_with_data()
        # issue 18: 'remote add' says so at once, and records nothing.
        r = self.dsm("remote", "add", "team", os.path.join(self.tmp, "nowhere"), cwd=repo, expect=2)
        self.assertIn("cannot use directory '" + os.path.join(self.tmp, "nowhere") + "'", r.err)
        self.assertIn("was not added", r.err)
        self.assertEqual(self.dsm("remote", cwd=repo, expect=0).out, "")
        self.assertNotIn("dsm.remote.team", self.git("config", "--local", "--list", cwd=repo).out)
        # --no-check records it; push then says the same.
        self.dsm("remote", "add", "team", os.path.join(self.tmp, "nowhere"), "--no-check", cwd=repo, expect=0)
        r = self.dsm("push", cwd=repo, expect=2)
        self.assertIn("remote 'team'", r.err)
        self.assertIn("nowhere", r.err)

    def test_corrupt_payload_is_never_pushed(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        entries = manifest_entries(repo)
        rel = sorted(entries)[0]
        path = os.path.join(repo, "data", rel)
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            b = f.read(1)
            f.seek(-1, os.SEEK_END)
            f.write(bytes([b[0] ^ 1]))
        r = self.dsm("push", cwd=repo, expect=1)
        self.assertIn(path, r.err)
        self.assertIn("refusing to upload", r.err)
        objs = self.stored_objects()
        self.assertNotIn(entries[rel], objs)
        self.assertEqual(len(objs), 2, "the other payloads still went up")
        self.assertEqual(no_temp_files(self.store), [])

    def test_pull_refuses_corrupt_object(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        rel = sorted(entries)[1]
        obj = self.stored_objects()[entries[rel]]
        os.chmod(obj, 0o644)
        with open(obj, "r+b") as f:
            f.seek(200)
            b = f.read(1)
            f.seek(200)
            f.write(bytes([b[0] ^ 0x40]))
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone, expect=1)
        self.assertIn(object_key(entries[rel]), r.err)
        self.assertIn("is corrupt", r.err)
        self.assertIn(os.path.join(clone, "data", rel), r.err)
        self.assertFalse(os.path.exists(os.path.join(clone, "data", rel)), "nothing placed")
        self.assertEqual(no_temp_files(clone), [])
        others = [x for x in entries if x != rel]
        for o in others:
            self.assertEqual(sha256_file(os.path.join(clone, "data", o)), entries[o])

    def test_verify_remote(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.commit_all(repo)
        self.dsm("verify", "--remote", "team", cwd=repo, expect=1)  # nothing pushed yet
        self.dsm("push", cwd=repo, expect=0)
        r = self.dsm("verify", "--remote", "team", cwd=repo, expect=0)
        self.assertIn("all present and intact", r.out)
        entries = manifest_entries(repo)
        rel = sorted(entries)[0]
        obj = self.stored_objects()[entries[rel]]
        os.chmod(obj, 0o644)
        with open(obj, "ab") as f:
            f.write(b"x")
        r = self.dsm("verify", "--remote", "team", cwd=repo, expect=1)
        self.assertIn("FAILED " + os.path.join(repo, "data", rel), r.out)
        os.remove(obj)
        r = self.dsm("verify", "--remote", "team", cwd=repo, expect=1)
        self.assertIn("MISSING " + os.path.join(repo, "data", rel), r.out)
        self.dsm("verify", "--remote", "nope", cwd=repo, expect=2)

    def test_pull_missing_object_is_named(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.commit_all(repo)
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("missing on remote 'team'", r.err)
        self.assertEqual(no_temp_files(clone), [])

    def test_targets_and_deduplication(self):
        same = np.arange(4096, dtype=np.int32)
        repo = self.make_repo_with_data(arrays={
            "a": [same, np.zeros(10)],
            "b": [same.copy()],  # same bytes under another name: one object
            "c/deep": [np.ones((3, 3))],
        })
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.commit_all(repo)
        r = self.dsm("push", "b", cwd=repo, expect=0)
        self.assertIn("pushed 1 payload", r.out)
        r = self.dsm("push", "a@1", cwd=repo, expect=0)
        self.assertIn("pushed 0 payloads", r.out, "a@1 has the same content as b")
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 2 payloads", r.out)
        self.assertEqual(len(self.stored_objects()), 3)
        r = self.dsm("push", "nope", cwd=repo, expect=2)
        self.assertIn("'nope'", r.err)

        clone = self.clone(repo)
        self.dsm("pull", "c/deep", cwd=clone, expect=0)
        entries = manifest_entries(repo)
        present = sorted(rel for rel in entries if os.path.exists(os.path.join(clone, "data", rel)))
        self.assertEqual([p.split("/")[0] for p in present], ["c"])
        # A path inside the data directory works from a subdirectory too.
        a_dir = os.path.join(clone, "data", "a")
        r = self.dsm("pull", ".", cwd=a_dir, expect=0)
        self.assertIn("pulled 2 payloads", r.out)
        self.dsm("pull", cwd=clone, expect=0)
        self.assert_same_payloads(repo, clone)

    def test_local_payload_differing_from_manifest_is_not_replaced(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        clone = self.clone(repo)
        rel = sorted(manifest_entries(repo))[0]
        bogus = os.path.join(clone, "data", rel)
        with open(bogus, "wb") as f:
            f.write(b"not the payload")
        r = self.dsm("pull", cwd=clone, expect=1)
        self.assertIn(bogus, r.err)
        self.assertIn("not replaced", r.err)
        with open(bogus, "rb") as f:
            self.assertEqual(f.read(), b"not the payload")

    def test_push_killed_then_resumed(self):
        arrays = {"big": [np.full(256 * 1024, i, dtype=np.float64) for i in range(24)]}  # 24 x 2 MiB
        repo = self.make_repo_with_data(arrays=arrays)
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        stored = self.push_and_kill(repo, "team", lambda: len(self.stored_objects()), 24)
        # Whatever is visible is complete and correct.
        for sha, path in self.stored_objects().items():
            self.assertEqual(sha256_file(path), sha)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn(f"{stored} already there", r.out)
        self.assertIn(f"pushed {24 - stored} payloads", r.out)
        objs = self.stored_objects()
        self.assertEqual(set(objs), set(manifest_entries(repo).values()))
        for sha, path in objs.items():
            self.assertEqual(sha256_file(path), sha)

    def test_push_replaces_truncated_object(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, cwd=repo, expect=0)
        self.dsm("push", cwd=repo, expect=0)
        sha = sorted(manifest_entries(repo).values())[0]
        obj = self.stored_objects()[sha]
        os.chmod(obj, 0o644)
        os.truncate(obj, 100)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("replacing damaged object", r.err)
        self.assertIn("pushed 1 payload", r.out)
        self.assertEqual(sha256_file(obj), sha)
        self.assertEqual(os.stat(obj).st_mode & 0o777, 0o444)

    def test_help_documents_exit_status(self):
        for cmd in (["push"], ["pull"], ["remote"], ["remote", "add"]):
            r = self.dsm(*cmd, "--help", expect=0)
            self.assertIn("EXIT STATUS", r.out, cmd)


if __name__ == "__main__":
    main()
