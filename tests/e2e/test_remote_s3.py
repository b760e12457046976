"""dsm push / pull with an S3 remote, against s3rver on 127.0.0.1.

The server is installed from the npm registry on first use (tests/s3/). If
that is impossible these tests FAIL; set DSM_SKIP_S3=1 to skip them. dsm
talks to s3rver through tests/s3/sigv4_proxy.py, which re-computes every
request's AWS Signature V4 with botocore and refuses a wrong one, as S3 does
(s3rver itself does not check signatures).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "s3"))
from harness import DsmTestCase, main, np  # noqa: E402
from remote_util import (RemoteScenario, manifest_entries, no_temp_files, object_key,  # noqa: E402
                         sha256_file)
import s3rver  # noqa: E402

BUCKET = "dsm-test"
SERVER = None
PROXY = None


def setUpModule():
    global SERVER, PROXY
    if s3rver.skip_requested():
        raise unittest.SkipTest("DSM_SKIP_S3=1: S3 tests skipped on request")
    import tempfile
    from sigv4_proxy import SigV4Proxy
    SERVER = s3rver.S3rver(tempfile.mkdtemp(prefix="dsm-s3rver-"), buckets=[BUCKET]).start()
    PROXY = SigV4Proxy(SERVER.port, {s3rver.ACCESS_KEY: s3rver.SECRET_KEY}).start()


def tearDownModule():
    if PROXY is not None:
        PROXY.stop()
    if SERVER is not None:
        SERVER.stop()
        import shutil
        shutil.rmtree(SERVER.data_dir, ignore_errors=True)


class RemoteS3Test(RemoteScenario, DsmTestCase):

    def setUp(self):
        super().setUp()
        self.env.update({"AWS_ACCESS_KEY_ID": s3rver.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": s3rver.SECRET_KEY,
                         "AWS_REGION": "us-east-1"})
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                    "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            self.env.pop(var, None)
        # Each test gets its own prefix in the shared bucket.
        self.prefix = "t-" + self.id().rsplit(".", 1)[-1]
        self.url = f"s3://{BUCKET}/{self.prefix}"
        PROXY.failures.clear()

    def tearDown(self):
        failures = list(PROXY.failures)
        super().tearDown()
        self.assertEqual(failures, [], "requests whose SigV4 signature botocore does not reproduce")

    def add_remote(self, repo, name="origin", url=None, default=True, check=True):
        args = ["remote", "add", name, url or self.url, "--endpoint", PROXY.endpoint]
        if not check:
            args.append("--no-check")
        if default:
            args.append("--default")
        self.dsm(*args, cwd=repo, expect=0)

    def clone(self, repo, name="clone"):
        # A clone brings the remote in .dsm/config.yaml but not the trust
        # (issue #15): the user gives it, once per clone.
        dest = super().clone(repo, name)
        self.dsm("remote", "trust", "origin", cwd=dest, expect=0)
        return dest

    def object_path(self, sha):
        return SERVER.object_file(BUCKET, f"{self.prefix}/{object_key(sha)}")

    def stored(self):
        base = os.path.join(SERVER.data_dir, BUCKET, self.prefix, "objects", "sha256")
        out = set()
        if os.path.isdir(base):
            for two in os.listdir(base):
                for f in os.listdir(os.path.join(base, two)):
                    if f.endswith("._S3rver_object"):
                        out.add(two + f[: -len("._S3rver_object")])
        return out

    def test_push_clone_pull_verify(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 3 payloads", r.out)
        entries = manifest_entries(repo)
        self.assertEqual(self.stored(), set(entries.values()))
        for sha in entries.values():
            self.assertEqual(sha256_file(self.object_path(sha)), sha)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("3 already there", r.out)

        clone = self.clone(repo)
        r = self.dsm("pull", "--jobs", "2", cwd=clone, expect=0)
        self.assertIn("pulled 3 payloads", r.out)
        self.assert_same_payloads(repo, clone)
        self.dsm("verify", cwd=clone, expect=0)
        self.assertEqual(no_temp_files(clone), [])

    def test_issue_13_pre_push_uploads_to_s3_and_needs_trust(self):
        # git push runs dsm's pre-push hook: the pushed commits' payloads go
        # to the S3 remote first; a clone that has not trusted the remote
        # is refused (credentials go only where this clone chose).
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        origin = os.path.join(self.tmp, "origin.git")
        self.git("init", "-q", "--bare", "-b", "main", origin)
        self.git("remote", "add", "gitorigin", origin, cwd=repo)
        r = self.git("push", "gitorigin", "main", cwd=repo)
        self.assertIn("uploaded 3 payloads", r.err)
        self.assertEqual(self.stored(), set(manifest_entries(repo).values()))
        clone = os.path.join(self.tmp, "clone")
        self.git("clone", "-q", origin, clone)
        self.dsm("init", cwd=clone, expect=0)
        p = self.save(os.path.join(self.tmp, "new.npy"), np.arange(77))
        self.dsm("add", p, "--name", "extra", cwd=clone, expect=0)
        self.commit_all(clone, "extra")
        before = self.git("--git-dir", origin, "rev-parse", "main").out
        r = self.git("push", "origin", "main", cwd=clone, check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("not trusted here", r.err)
        self.assertIn("git push --no-verify", r.err)
        self.assertEqual(self.git("--git-dir", origin, "rev-parse", "main").out, before)
        self.dsm("remote", "trust", "origin", cwd=clone, expect=0)
        r = self.git("push", "origin", "main", cwd=clone)
        self.assertIn("uploaded 1 payload", r.err)
        self.assertEqual(self.stored(), set(manifest_entries(clone).values()))

    def test_many_payloads_use_one_listing(self):
        # Over 32 payloads, push asks for a listing instead of one HEAD each.
        arrays = {f"s{i:02d}": [np.full(10, i)] for i in range(40)}
        repo = self.make_repo_with_data(arrays=arrays)
        self.add_remote(repo)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 40 payloads", r.out)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed 0 payloads", r.out)
        self.assertIn("40 already there", r.out)

    def test_multipart_upload_round_trip(self):
        big = np.arange(9 * 1024 * 1024, dtype=np.float64)  # 72 MiB: multipart, 5 parts
        repo = self.make_repo_with_data(arrays={"big": [big]})
        self.add_remote(repo)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0, timeout=300)
        sha = list(manifest_entries(repo).values())[0]
        self.assertEqual(sha256_file(self.object_path(sha)), sha)
        clone = self.clone(repo)
        self.dsm("pull", cwd=clone, expect=0, timeout=300)
        self.assert_same_payloads(repo, clone)
        # No record of an upload in flight is left behind.
        state = os.path.join(repo, ".dsm", "local", "remotes", "origin", "uploads")
        self.assertEqual(os.listdir(state) if os.path.isdir(state) else [], [])

    def pushed_repo(self):
        """A committed repository pushed to the bucket: (repo, its manifest
        entries, the first payload's data-relative path)."""
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        return repo, entries, sorted(entries)[0]

    def test_pull_refuses_corrupt_object(self):
        repo, entries, rel = self.pushed_repo()
        obj = self.object_path(entries[rel])
        with open(obj, "r+b") as f:
            f.seek(300)
            b = f.read(1)
            f.seek(300)
            f.write(bytes([b[0] ^ 0x10]))
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone, expect=1)
        self.assertIn(object_key(entries[rel]), r.err)
        self.assertIn("is corrupt", r.err)
        self.assert_nothing_placed(clone, rel)
        for o in entries:
            if o != rel:
                self.assertEqual(sha256_file(os.path.join(clone, "data", o)), entries[o])

    def test_pull_stops_at_the_recorded_size(self):
        # A tampered bucket serves 64 MiB for a payload the sidecar records
        # as a few KiB (#15): the download stops at the recorded size, the
        # error says why, and nothing is placed or left behind.
        repo, entries, rel = self.pushed_repo()
        recorded = os.path.getsize(os.path.join(repo, "data", rel))
        with open(self.object_path(entries[rel]), "r+b") as f:
            f.truncate(64 << 20)
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone, expect=1, timeout=60)
        self.assertIn(f"larger than the {recorded} bytes recorded", r.err)
        self.assert_nothing_placed(clone, rel)

    def assert_nothing_placed(self, clone, rel):
        self.assertFalse(os.path.exists(os.path.join(clone, "data", rel)), "nothing placed")
        self.assertEqual(no_temp_files(clone), [])

    def test_issue_14_drop_downloads_and_hashes(self):
        # S3 cannot hash in place: drop downloads each object and hashes it
        # before deleting the local copy, and refuses a corrupt one.
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        bad, good = sorted(entries)[0], sorted(entries)[1]
        obj = self.object_path(entries[bad])
        with open(obj, "r+b") as f:
            f.seek(300)
            b = f.read(1)
            f.seek(300)
            f.write(bytes([b[0] ^ 0x10]))
        r = self.dsm("drop", "--all", cwd=repo, expect=1)
        self.assertIn("is corrupt", r.err)
        self.assertIn(os.path.join(repo, "data", bad), r.err)
        for rel in entries:
            self.assertTrue(os.path.exists(os.path.join(repo, "data", rel)), "nothing deleted")
        self.dsm("drop", os.path.join(repo, "data", good), cwd=repo, expect=0)
        self.assertFalse(os.path.exists(os.path.join(repo, "data", good)))
        self.assertEqual(no_temp_files(repo), [])
        r = self.dsm("verify", cwd=repo, expect=0)
        self.assertIn("DROPPED", r.out)
        self.dsm("pull", cwd=repo, expect=0)
        self.assertEqual(sha256_file(os.path.join(repo, "data", good)), entries[good])

    def test_issue_14_gc_remote(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        gone = sorted(entries)[0]
        # Removed and committed: an older commit still lists it, so kept.
        self.dsm("rm", os.path.join(repo, "data", gone), cwd=repo, expect=0)
        self.commit_all(repo, "rm")
        j = self.dsm("gc", "--remote", "origin", "--grace", "0", "--yes", "--json", cwd=repo, expect=0).json()
        self.assertEqual(j["deletable"], [])
        self.assertEqual(self.stored(), set(entries.values()))
        # An object nothing lists, stored just now: within the grace period,
        # then deleted with --grace 0 --yes.
        p = self.save(os.path.join(self.tmp, "junk.npy"), np.arange(77))
        self.dsm("add", p, "--name", "junk", cwd=repo, expect=0)
        self.dsm("push", "junk", cwd=repo, expect=0)
        junk = sha256_file(p)
        self.dsm("rm", "junk@1", cwd=repo, expect=0)
        j = self.dsm("gc", "--remote", "origin", "--json", cwd=repo, expect=0).json()
        self.assertEqual((j["deletable"], j["within_grace"]), ([], 1))
        j = self.dsm("gc", "--remote", "origin", "--grace", "0", "--yes", "--json", cwd=repo, expect=0).json()
        self.assertEqual([o["sha256"] for o in j["deletable"]], [junk])
        self.assertEqual(self.stored(), set(entries.values()))

    def test_push_killed_then_resumed(self):
        arrays = {"big": [np.full(256 * 1024, i, dtype=np.float64) for i in range(16)]}  # 16 x 2 MiB
        repo = self.make_repo_with_data(arrays=arrays)
        self.add_remote(repo)
        stored = self.push_and_kill(repo, "origin", lambda: len(self.stored()), 16, self.env)
        self.assertGreaterEqual(stored, 1)
        # Unlike S3, s3rver writes an object in place as it arrives, so the
        # killed PUT may have left a truncated object behind; the resumed
        # push must notice the wrong size and upload that one again.
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("pushed", r.out)
        entries = manifest_entries(repo)
        self.assertEqual(self.stored(), set(entries.values()))
        for sha in entries.values():
            self.assertEqual(sha256_file(self.object_path(sha)), sha, "every object is complete")
        self.commit_all(repo)
        clone = self.clone(repo)
        self.dsm("pull", cwd=clone, expect=0)
        self.assert_same_payloads(repo, clone)

    def test_wrong_credentials(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        self.commit_all(repo)
        r = self.dsm("push", cwd=repo, env={"AWS_ACCESS_KEY_ID": "NOT-A-KEY"}, expect=2)
        self.assertIn("remote 'origin'", r.err)
        self.assertIn("refused the S3 credentials", r.err)
        self.assertIn("InvalidAccessKeyId", r.err)
        self.assertEqual(self.stored(), set())
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone, env={"AWS_ACCESS_KEY_ID": "NOT-A-KEY"}, expect=2)
        self.assertIn("refused the S3 credentials", r.err)

    def test_wrong_secret_key(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        checked = PROXY.checked
        r = self.dsm("push", cwd=repo, env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, expect=2)
        self.assertIn("refused the S3 credentials", r.err)
        self.assertIn("SignatureDoesNotMatch", r.err)
        self.assertGreater(PROXY.checked, checked)
        self.assertEqual(len(PROXY.failures), 1, "one refused request, then dsm stops")
        PROXY.failures.clear()
        self.assertEqual(self.stored(), set())

    def test_session_token_is_signed(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        r = self.dsm("push", cwd=repo, env={"AWS_SESSION_TOKEN": "token-123"}, expect=0)
        self.assertIn("pushed 3 payloads", r.out)

    def test_no_credentials(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        env = dict(self.env)
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
        self.env = env
        r = self.dsm("push", cwd=repo, expect=2)
        self.assertIn("no S3 credentials for remote 'origin'", r.err)

    def test_credentials_from_profile(self):
        repo = self.make_repo_with_data()
        self.add_remote(repo)
        aws = os.path.join(self.home, ".aws")
        os.makedirs(aws)
        with open(os.path.join(aws, "credentials"), "w") as f:
            f.write(f"[team]\naws_access_key_id = {s3rver.ACCESS_KEY}\n"
                    f"aws_secret_access_key = {s3rver.SECRET_KEY}\n")
        self.env.pop("AWS_ACCESS_KEY_ID")
        self.env.pop("AWS_SECRET_ACCESS_KEY")
        r = self.dsm("push", cwd=repo, env={"AWS_PROFILE": "team"}, expect=0)
        self.assertIn("pushed 3 payloads", r.out)

    def test_missing_bucket(self):
        repo = self.make_repo_with_data()
        # issue 18: 'remote add' asks the bucket and refuses at once.
        r = self.dsm("remote", "add", "origin", "s3://no-such-bucket/x", "--endpoint", PROXY.endpoint, cwd=repo,
                     expect=2)
        self.assertIn("bucket 'no-such-bucket' does not exist", r.err)
        self.add_remote(repo, url="s3://no-such-bucket/x", check=False)
        r = self.dsm("push", cwd=repo, expect=2)
        self.assertIn("bucket 'no-such-bucket' does not exist", r.err)

    def test_server_down(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "gone", self.url, "--endpoint", f"http://127.0.0.1:{port}", "--no-check", cwd=repo,
                 expect=0)
        r = self.dsm("push", cwd=repo, expect=2)
        self.assertIn("remote 'gone'", r.err)
        self.assertIn("after 5 attempts", r.err)


if __name__ == "__main__":
    main()
