"""Issue 17: commands that never touch a remote do not load libcurl; the S3
remote loads it (by its SONAME) when opened, and says so clearly when it
cannot."""
import re

from harness import DsmTestCase, main, np


def loaded_libraries(stderr):
    """The shared objects the dynamic loader opened, from LD_DEBUG=files."""
    return set(re.findall(r"file=(\S+)\s+\[0\];", stderr))


class StartupTest(DsmTestCase):
    def setUp(self):
        super().setUp()
        self.repo = self.make_git_repo()
        self.dsm("init", cwd=self.repo, expect=0)
        a = self.save("features.npy", np.zeros((10, 4)))
        self.path = self.dsm("add", a, cwd=self.repo, expect=0).out.strip()

    def test_commands_without_a_remote_do_not_load_libcurl(self):
        for args in (["path", "features"], ["status"], ["verify"], ["--version"], ["ls"],
                     ["hook", "pre-commit"]):
            r = self.dsm(*args, cwd=self.repo, env={"LD_DEBUG": "files"}, expect=0)
            libs = loaded_libraries(r.err)
            self.assertTrue(libs, f"LD_DEBUG said nothing for dsm {' '.join(args)}: {r.err[:500]}")
            self.assertFalse([lib for lib in libs if "libcurl" in lib], (args, sorted(libs)))
        self.assertEqual(self.dsm("path", "features", cwd=self.repo, expect=0).out.strip(), self.path)

    def test_an_s3_remote_loads_libcurl_by_its_soname(self):
        self.dsm("remote", "add", "cloud", "s3://bucket/p", "--endpoint", "http://127.0.0.1:9", "--default", "--no-check",
                 cwd=self.repo, expect=0)
        creds = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}
        # Nothing listens on port 9: the push fails to connect, after the
        # library was loaded by its SONAME (not the -dev symlink).
        r = self.dsm("push", cwd=self.repo, env={**creds, "LD_DEBUG": "files"}, timeout=300)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("libcurl.so.4", loaded_libraries(r.err))
        self.assertNotIn("cannot load libcurl", r.err)

    def test_missing_libcurl_is_a_clear_error_when_the_remote_is_opened(self):
        self.dsm("remote", "add", "cloud", "s3://bucket/p", "--endpoint", "http://127.0.0.1:9", "--default", "--no-check",
                 cwd=self.repo, expect=0)
        env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1",
               "DSM_TEST_LIBCURL": "/nonexistent/libcurl.so.4"}
        r = self.dsm("push", cwd=self.repo, env=env, expect=2)
        self.assertIn("cannot load libcurl ('/nonexistent/libcurl.so.4'), which S3 remotes need", r.err)
        self.assertIn("libcurl4", r.err)
        # Everything local still works without it.
        self.dsm("status", cwd=self.repo, env=env, expect=0)
        self.dsm("verify", cwd=self.repo, env=env, expect=0)


if __name__ == "__main__":
    main()
