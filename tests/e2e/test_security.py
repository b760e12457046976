"""Issue #15: a cloned repository or a tampered remote must not make dsm
reach outside its bounds, leak credentials or exhaust resources.

One regression test per numbered defect of the issue (test_issue15_N_...),
each of which failed before the fix. docs/guarantees.md ("Threat model")
names them.
"""
import fcntl
import http.server
import os
import resource
import stat
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DSM, DsmTestCase, main, np, sanitized_build, sha256_file  # noqa: E402
from remote_util import RemoteScenario, manifest_entries, no_temp_files, object_key  # noqa: E402


def tree_state(root):
    """Every path below root with its type, mode, size and content hash:
    what must not change when dsm is not allowed to touch root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            h = sha256_file(p) if stat.S_ISREG(st.st_mode) else None
            out[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), st.st_mode & 0o7777, st.st_size, h)
    return out


class RecordingServer:
    """An HTTP server on 127.0.0.1 that records each request's headers and
    answers 404: enough to see whether dsm contacted it, and with what."""

    def __init__(self):
        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                requests.append((self.command, self.path, dict(self.headers)))
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                body = b"<Error><Code>NoSuchKey</Code></Error>"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SecurityTest(RemoteScenario, DsmTestCase):

    def setUp(self):
        super().setUp()
        self.outside = os.path.join(self.tmp, "outside")
        os.makedirs(self.outside)
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)

    def repo_with_remote(self):
        repo = self.make_repo_with_data()
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)
        return repo

    def stored(self):
        out = []
        for d, _, files in os.walk(os.path.join(self.store, "objects")):
            out += [f for f in files if not f.startswith(".")]
        return out

    # 1 ------------------------------------------------------------------
    def test_issue15_1_push_never_reads_through_a_symlink(self):
        repo = self.repo_with_remote()
        entries = manifest_entries(repo)
        # A payload replaced by a symlink to a file outside (with the very
        # bytes the manifest names, so following it would "succeed"), and a
        # dataset directory replaced by a symlink to a directory outside.
        rel_file = sorted(e for e in entries if e.startswith("features/"))[0]
        payload = os.path.join(repo, "data", rel_file)
        copy = os.path.join(self.outside, "secret.npy")
        with open(payload, "rb") as f, open(copy, "wb") as g:
            g.write(f.read())
        os.chmod(payload, 0o644)
        os.remove(payload)
        os.symlink(copy, payload)
        labels = os.path.join(repo, "data", "labels")
        os.rename(labels, os.path.join(self.outside, "labels"))
        os.symlink(os.path.join(self.outside, "labels"), labels)
        before = tree_state(self.outside)
        r = self.dsm("push", cwd=repo, expect=1)
        self.assertIn("symlink", r.err)
        stored = {s for s in self.stored()}
        for rel, sha in entries.items():
            if rel == rel_file or rel.startswith("labels/"):
                self.assertNotIn(sha[2:], stored, f"{rel}: read through a symlink and uploaded")
        self.assertEqual(tree_state(self.outside), before)

    # 2 ------------------------------------------------------------------
    def test_issue15_2_local_state_never_written_through_a_symlink(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save(os.path.join(self.tmp, "a.npy"), np.arange(10))
        # .dsm/local/active as a symlink to a path outside (committed with
        # git add -f in the issue): nothing may be created there.
        os.makedirs(os.path.join(repo, ".dsm", "local"), exist_ok=True)
        target = os.path.join(self.outside, "created-by-dsm")
        os.symlink(target, os.path.join(repo, ".dsm", "local", "active"))
        r = self.dsm("add", src, cwd=repo, expect=2)
        self.assertIn("symlink", r.err)
        self.assertFalse(os.path.lexists(target))
        # .dsm/local itself a symlink to a directory outside.
        os.remove(os.path.join(repo, ".dsm", "local", "active"))
        os.rmdir(os.path.join(repo, ".dsm", "local"))
        os.symlink(self.outside, os.path.join(repo, ".dsm", "local"))
        for args in (("add", src), ("verify",), ("status",)):
            r = self.dsm(*args, cwd=repo, expect=2)
            self.assertIn("symlink", r.err)
        self.assertEqual(os.listdir(self.outside), [])

    # 3 ------------------------------------------------------------------
    def test_issue15_3_tampered_directory_remote(self):
        repo = self.repo_with_remote()
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        rels = sorted(entries)
        objs = [os.path.join(self.store, object_key(entries[r])) for r in rels]
        # An object replaced by a symlink to /dev/zero, one by a FIFO, one
        # by a file larger than its sidecar records.
        for p in objs:
            os.chmod(os.path.dirname(p), 0o755)
        os.remove(objs[0])
        os.symlink("/dev/zero", objs[0])
        os.remove(objs[1])
        os.mkfifo(objs[1])
        os.chmod(objs[2], 0o644)
        with open(objs[2], "ab") as f:
            f.write(b"\0" * (8 << 20))
        clone = self.clone(repo)
        r = self.dsm("pull", cwd=clone, expect=1, timeout=60)
        self.assertEqual(no_temp_files(clone), [])
        for rel in rels[:3]:
            self.assertFalse(os.path.lexists(os.path.join(clone, "data", rel)), rel)
        self.assertIn("not a regular file", r.err)
        self.assertIn("bytes, expected", r.err)
        # A fan-out directory symlinked outside: push must not write there.
        new = self.save(os.path.join(self.tmp, "new.npy"), np.arange(77))
        self.dsm("add", new, "--name", "fresh", cwd=repo, expect=0)
        sha = manifest_entries(repo)[[r for r in manifest_entries(repo) if r.startswith("fresh/")][0]]
        fan = os.path.join(self.store, "objects", "sha256", sha[:2])
        if os.path.isdir(fan):
            for n in os.listdir(fan):
                os.chmod(os.path.join(fan, n), 0o644) if not os.path.islink(os.path.join(fan, n)) else None
            subprocess.run(["rm", "-rf", fan], check=True)
        os.symlink(self.outside, fan)
        r = self.dsm("push", "fresh", cwd=repo, expect=2)
        self.assertIn("symlink", r.err)
        self.assertEqual(os.listdir(self.outside), [])

    # 4 ------------------------------------------------------------------
    def test_issue15_4_add_move_refuses_a_symlink(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        real = self.save(os.path.join(self.outside, "real.npy"), np.arange(100))
        os.chmod(real, 0o644)
        link = os.path.join(self.tmp, "link.npy")
        os.symlink(real, link)
        r = self.dsm("add", "--move", link, cwd=repo, expect=2)
        self.assertIn("symlink", r.err)
        self.assertEqual(os.stat(real).st_mode & 0o777, 0o644, "the target outside was chmodded")
        self.assertTrue(os.path.islink(link))
        self.assertFalse(os.path.exists(os.path.join(repo, "data", "link")))
        # Without --move, the target's bytes are copied in (a regular file).
        self.dsm("add", link, cwd=repo, expect=0)
        self.dsm("verify", cwd=repo, expect=0)

    # 5 ------------------------------------------------------------------
    def test_issue15_5_export_refuses_the_data_dir(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        for i in range(2):
            p = self.save(os.path.join(self.tmp, f"feat{i}.npy"), np.arange(10 + i))
            self.dsm("add", p, "--name", "feat", cwd=repo, expect=0)
        v1 = sorted(f for f in os.listdir(os.path.join(repo, "data", "feat")) if f.endswith(".npy"))[0]
        v1_path = os.path.join(repo, "data", "feat", v1)
        before = sha256_file(v1_path)
        for out in (v1_path, os.path.join(repo, "data", "feat", "new.npy"), os.path.join(repo, ".dsm", "x.npy")):
            r = self.dsm("export", "feat@2", "--out", out, "--force", cwd=repo, expect=2)
            self.assertIn("refusing to export", r.err)
        # Through a symlink from outside into the data dir, too.
        os.symlink(os.path.join(repo, "data", "feat"), os.path.join(self.tmp, "sneaky"))
        self.dsm("export", "feat@2", "--out", os.path.join(self.tmp, "sneaky", v1), "--force", cwd=repo, expect=2)
        self.assertEqual(sha256_file(v1_path), before)
        self.assertEqual(os.stat(v1_path).st_mode & 0o777, 0o444)
        self.dsm("verify", cwd=repo, expect=0)
        self.dsm("export", "feat@2", "--out", os.path.join(self.tmp, "ok.npy"), cwd=repo, expect=0)

    # 6 ------------------------------------------------------------------
    def test_issue15_6_large_sidecars_are_capped_for_every_reader(self):
        repo = self.repo_with_remote()
        self.dsm("push", cwd=repo, expect=0)
        rel = sorted(manifest_entries(repo))[0]
        sidecar = os.path.join(repo, "data", rel + ".yaml")
        with open(sidecar) as f:
            text = f.read()
        # 8.8 MB of a flat list: under the hook's 10 MiB and verify's 16 MiB,
        # 4.4 million YAML nodes (2 GB in yaml-cpp before the cap).
        self.assertIn("meta: {}", text)
        with open(sidecar, "w") as f:
            f.write(text.replace("meta: {}", "meta:\n  x: [" + ",".join(["1"] * 4400000) + "]"))
        clone = self.clone(repo)
        with open(os.path.join(clone, "data", rel + ".yaml"), "w") as f, open(sidecar) as g:
            f.write(g.read())

        def limited():
            # 1 GiB of address space: what the uncapped parser blew through.
            # A sanitized build reserves terabytes of it for its shadow memory.
            if not sanitized_build():
                resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

        name = rel.split("/")[0]
        for cwd, args in ((repo, ["ls"]), (repo, ["log", name]), (repo, ["show", name + "@1"]),
                          (repo, ["status"]), (repo, ["verify"]), (repo, ["verify", "--remote", "team"]),
                          (repo, ["push", name + "@1"]), (clone, ["pull"]),
                          (repo, ["hook", "pre-commit"])):
            proc = subprocess.run([DSM, *args], cwd=cwd, env=self.env, capture_output=True, text=True,
                                  preexec_fn=limited, timeout=60)
            self.assertNotIn("bad_alloc", proc.stderr, args)
            self.assertIn(proc.returncode, (0, 1, 2), args)
        r = self.dsm("verify", cwd=repo, expect=1)
        self.assertIn("too many YAML values", r.out + r.err)
        # A new version staged with such a sidecar is reached through the
        # sidecar's change and through its manifest line: the hook reports
        # it once.
        fresh = self.make_git_repo("fresh")
        self.dsm("init", cwd=fresh, expect=0)
        self.dsm("add", self.save(os.path.join(self.tmp, "fresh.npy"), np.arange(7)), "--name", "fresh", cwd=fresh,
                 expect=0)
        fresh_rel = sorted(manifest_entries(fresh))[0]
        with open(os.path.join(fresh, "data", fresh_rel + ".yaml"), "r+") as f:
            fresh_text = f.read().replace("meta: {}", "meta:\n  x: [" + ",".join(["1"] * 4400000) + "]")
            f.seek(0)
            f.write(fresh_text)
        self.git("add", "data", cwd=fresh)
        r = self.dsm("hook", "pre-commit", cwd=fresh, expect=1)
        self.assertEqual((r.out + r.err).count("not a valid sidecar"), 1, r.err)

    # 7 ------------------------------------------------------------------
    def test_issue15_7_no_credentials_to_an_untrusted_remote(self):
        server = RecordingServer()
        self.addCleanup(server.close)
        repo = self.make_repo_with_data()
        # The repository's author names an endpoint in the committed config.
        with open(os.path.join(repo, ".dsm", "config.yaml"), "a") as f:
            f.write(f"remotes:\n  origin: {{url: \"s3://bucket\", endpoint: \"{server.endpoint}\", default: true}}\n")
        self.commit_all(repo)
        clone = self.clone(repo)
        env = {"AWS_ACCESS_KEY_ID": "AKIDSECRETKEYID", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
               "AWS_SESSION_TOKEN": "TOKEN-XYZ", "AWS_REGION": "us-east-1"}
        r = self.dsm("status", cwd=clone, env=env)
        self.assertIn("not trusted here (dsm remote trust origin)", r.out + r.err)
        self.dsm("ls", cwd=clone, env=env, expect=0)
        for cmd in ("pull", "push"):
            r = self.dsm(cmd, cwd=clone, env=env, expect=2)
            self.assertIn("not trusted here", r.err)
        self.assertEqual(server.requests, [], "dsm contacted an untrusted remote")
        # Once trusted in this clone, it is contacted (and signs requests).
        self.dsm("remote", "trust", "origin", cwd=clone, expect=0)
        self.assertNotIn("trust", self.git("diff", "HEAD", cwd=clone).out)
        self.dsm("pull", cwd=clone, env=env)
        self.assertTrue(server.requests)
        self.assertIn("AKIDSECRETKEYID", server.requests[0][2].get("Authorization", ""))
        # A changed endpoint (a later pull of the config) needs trust again.
        cfg = os.path.join(clone, ".dsm", "config.yaml")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace(server.endpoint, server.endpoint + "/"))
        r = self.dsm("pull", cwd=clone, env=env, expect=2)
        self.assertIn("not trusted here", r.err)
        # Plain http to a host that is not this machine: refused even when
        # trusted, unless --allow-http; nothing is sent.
        self.dsm("remote", "add", "far", "s3://far-bucket", "--endpoint", "http://192.0.2.1:9000", "--no-check",
                 cwd=clone, expect=0)
        r = self.dsm("pull", "--remote", "far", cwd=clone, env=env, expect=2)
        self.assertIn("plain http", r.err)

    # 8 ------------------------------------------------------------------
    def test_issue15_8_push_force_replaces_a_corrupt_object(self):
        repo = self.repo_with_remote()
        self.dsm("push", cwd=repo, expect=0)
        entries = manifest_entries(repo)
        obj = os.path.join(self.store, object_key(sorted(entries.values())[0]))
        os.chmod(obj, 0o644)
        with open(obj, "r+b") as f:
            f.seek(-1, 2)
            last = f.read(1)
            f.seek(-1, 2)
            f.write(bytes([last[0] ^ 0xFF]))
        self.dsm("verify", "--remote", "team", cwd=repo, expect=1)
        r = self.dsm("push", cwd=repo, expect=0)
        self.assertIn("already there", r.out + r.err)
        self.dsm("push", "--force", cwd=repo, expect=0)
        self.dsm("verify", "--remote", "team", cwd=repo, expect=0)
        self.assertEqual(os.stat(obj).st_mode & 0o777, 0o444)

    # 9 ------------------------------------------------------------------
    def test_issue15_9_concurrent_pulls_both_succeed(self):
        arrays = {f"d{i}": [np.arange(20000 + i)] for i in range(24)}
        repo = self.make_repo_with_data(arrays=arrays)
        self.dsm("remote", "add", "team", self.store, "--default", cwd=repo, expect=0)
        self.commit_all(repo)
        self.dsm("push", cwd=repo, expect=0)
        for attempt in range(3):
            clone = self.clone(repo, name=f"clone{attempt}")
            procs = [subprocess.Popen([DSM, "pull", "--jobs", "4"], cwd=clone, env=self.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
            results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
            for out, err, rc in results:
                self.assertEqual(rc, 0, err)
            self.dsm("verify", cwd=clone, expect=0)

    def test_issue15_9_pull_holds_the_activity_lock(self):
        repo = self.repo_with_remote()
        self.dsm("push", cwd=repo, expect=0)
        clone = self.clone(repo)
        os.makedirs(os.path.join(clone, ".dsm", "local"), exist_ok=True)
        # What `dsm repair` holds while it removes leftovers: a pull must
        # wait for it (so repair never takes a live pull's temp file for a
        # leftover), and give up after DSM_LOCK_TIMEOUT.
        with open(os.path.join(clone, ".dsm", "local", "active"), "w") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            r = self.dsm("pull", cwd=clone, env={"DSM_LOCK_TIMEOUT": "0.5"}, expect=2)
            self.assertIn("waiting for 'dsm repair'", r.err)
        self.dsm("pull", cwd=clone, expect=0)
        self.dsm("verify", cwd=clone, expect=0)

    # 10 -----------------------------------------------------------------
    def test_issue15_10_names_ending_in_a_payload_extension(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = self.save(os.path.join(self.tmp, "x.npy"), np.arange(5))
        for name in ("scores.npy", "runs.npz/a", "a/b.npz"):
            r = self.dsm("add", src, "--name", name, cwd=repo, expect=2)
            self.assertIn("payload extension", r.err)
        # A name derived from the file: "scores.npy.npy" -> "scores.npy".
        derived = self.save(os.path.join(self.tmp, "scores.npy.npy"), np.arange(5))
        r = self.dsm("add", derived, cwd=repo, expect=2)
        self.assertIn("payload extension", r.err)
        self.assertFalse(os.path.exists(os.path.join(repo, "data", "scores.npy")))
        self.dsm("add", src, "--name", "scores", cwd=repo, expect=0)

    # 13 -----------------------------------------------------------------
    def test_issue15_13_headers_numpy_refuses_are_refused(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)

        def npy(name, header, tail):
            raw = header.encode("latin1")
            pad = (64 - (10 + len(raw) + len(tail)) % 64) % 64
            body = raw + b" " * pad + tail
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as f:
                f.write(b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + b"\0" * 96)
            return path

        bad = [npy("boolshape.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (True, 12), }", b"\n"),
               npy("cr.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (12,), }", b"\r  ")]
        for path in bad:
            with self.assertRaises(Exception, msg=path):
                np.load(path)  # NumPy refuses it ...
            r = self.dsm("add", path, cwd=repo, expect=2)  # ... and so does dsm
            self.assertIn("header", r.err)
        good = npy("crlf.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (12,), }", b"\r\n  ")
        self.assertEqual(np.load(good).shape, (12,))
        self.dsm("add", good, cwd=repo, expect=0)

    # 11 -----------------------------------------------------------------
    def test_issue15_11_add_refuses_a_fifo_at_once(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        fifo = os.path.join(self.tmp, "pipe.npy")
        os.mkfifo(fifo)
        r = self.dsm("add", fifo, cwd=repo, expect=2, timeout=20)
        self.assertIn("not a regular file", r.err)

    # 12 -----------------------------------------------------------------
    def test_issue15_12_add_many_files_with_few_descriptors(self):
        repo = self.make_git_repo()
        self.dsm("init", cwd=repo, expect=0)
        src = os.path.join(self.tmp, "many")
        os.makedirs(src)
        n = 1500
        for i in range(n):
            np.save(os.path.join(src, f"f{i:05d}.npy"), np.arange(i % 7 + 1))
        files = [os.path.join(src, f) for f in sorted(os.listdir(src))]

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

        proc = subprocess.run([DSM, "add", "--name", "many", *files], cwd=repo, env=self.env, capture_output=True,
                              text=True, preexec_fn=low_limit, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(len(manifest_entries(repo)), n)
        self.assertEqual(no_temp_files(repo), [])
        self.dsm("verify", cwd=repo, expect=0)


if __name__ == "__main__":
    main()
