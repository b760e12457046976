"""The loopback S3 server for dsm's tests: s3rver, installed once into a
cache directory by install-s3rver.sh (pinned by package-lock.json) and
started on 127.0.0.1 with a free port. Nothing here reaches beyond loopback.

If node/npm or the npm registry are unavailable, start() raises: the S3 tests
then FAIL, loudly. Set DSM_SKIP_S3=1 to skip them on purpose.
"""
import os
import re
import shutil
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"


def default_cache_dir():
    # Beside the binary under test (the build tree), else under tests/s3.
    dsm_bin = os.environ.get("DSM_BIN")
    if dsm_bin:
        return os.path.join(os.path.dirname(os.path.abspath(dsm_bin)), "s3rver-cache")
    return os.path.join(HERE, ".cache")


def skip_requested():
    return os.environ.get("DSM_SKIP_S3") == "1"


class S3rver:
    """A running s3rver with one or more buckets; use as a context manager."""

    def __init__(self, data_dir, buckets=("dsm-test",), cache_dir=None):
        self.data_dir = data_dir
        self.buckets = list(buckets)
        self.cache_dir = cache_dir or default_cache_dir()
        self.proc = None
        self.port = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        inst = subprocess.run([os.path.join(HERE, "install-s3rver.sh"), self.cache_dir],
                              capture_output=True, text=True)
        if inst.returncode != 0:
            raise RuntimeError("cannot install the loopback S3 server (s3rver) with npm "
                               "(set DSM_SKIP_S3=1 to skip the S3 tests on purpose):\n" + inst.stderr)
        binary = inst.stdout.strip().splitlines()[-1]
        os.makedirs(self.data_dir, exist_ok=True)
        args = [binary, "--directory", self.data_dir, "--address", "127.0.0.1", "--port", "0",
                "--no-vhost-buckets", "--silent"]
        for b in self.buckets:
            args += ["--configure-bucket", b]
        env = dict(os.environ)
        # s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3
        # (Node >= 17) only offers through its legacy provider.
        env["NODE_OPTIONS"] = (env.get("NODE_OPTIONS", "") + " --openssl-legacy-provider").strip()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     start_new_session=True)
        deadline = time.time() + 30
        out = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            out += line
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
        self.stop()
        raise RuntimeError("the loopback S3 server did not start:\n" + out)

    def stop(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None

    def object_file(self, bucket, key):
        """The file s3rver keeps an object's bytes in (to corrupt it)."""
        return os.path.join(self.data_dir, bucket, key + "._S3rver_object")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
