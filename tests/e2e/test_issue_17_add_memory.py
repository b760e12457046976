"""Issue #17: `dsm add` of many files in one command, under `ulimit -n 1024`,
keeps its memory bounded. It held about 5 KiB per file (113 MiB peak RSS for
20,000 files of 1 KiB, 513 MiB for 100,000): every sidecar collected for the
output, fs::path copies of each source, temp and final path, the manifest
and stat cache rebuilt in memory. The goal is 64 MiB at 100,000 files; this
test adds 20,000 and bounds both the peak and its growth per file."""
import os
import subprocess
import sys

from harness import DSM, InitializedRepoTestCase, main, np, sanitized_build

# Measured from a small helper process: a child forked from this test would
# start with the test's own RSS. The helper lowers the descriptor limit to
# the common default of 1,024 (an add once held one descriptor per file).
HELPER = ("import resource, subprocess, sys\n"
          "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))\n"
          "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
          "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n')\n"
          "sys.stdout.write(str(p.returncode) + '\\n' + p.stderr.decode() + '\\0' + p.stdout.decode())\n")


class AddMemoryTest(InitializedRepoTestCase):

    def make_files(self, count, sub="in"):
        src = os.path.join(self.repo, sub)
        os.makedirs(src)
        template = os.path.join(self.tmp, "template.npy")
        np.save(template, np.linspace(0.0, 1.0, 112))  # 1 KiB, as bench/bench.py's add_many
        with open(template, "rb") as f:
            payload = f.read()
        names = []
        for i in range(count):
            name = f"{sub}/{'' if sub == 'in' else sub}{i:06d}.npy"
            with open(os.path.join(self.repo, name), "wb") as f:
                f.write(payload)
            names.append(name)
        return names

    def add_measured(self, names):
        proc = subprocess.run([sys.executable, "-c", HELPER, DSM, "add", *names], cwd=self.repo,
                              capture_output=True, text=True, env=self.env, timeout=600)
        peak_kib, rc, rest = proc.stdout.split("\n", 2)
        err, out = rest.split("\0", 1)
        return int(peak_kib), int(rc), err, out

    def test_add_of_20000_files_under_1024_descriptors_keeps_memory_bounded(self):
        small = self.make_files(10, sub="few")
        small_kib, rc, err, _ = self.add_measured(small)
        self.assertEqual(rc, 0, err)
        names = self.make_files(20000)
        peak_kib, rc, err, out = self.add_measured(names)
        self.assertEqual(rc, 0, err)
        # Every file stored, listed and described, printed in the order given.
        lines = out.splitlines()
        self.assertEqual(len(lines), 20000)
        for i in (0, 12345, 19999):
            self.assertEqual(lines[i], self.data(f"{i:06d}", f"{i:06d}_{self.today}_001.npy"))
        with open(self.data("manifest-sha256.txt")) as f:
            listed = f.read().splitlines()
        self.assertEqual(len(listed), 20010)
        self.assertEqual(listed, sorted(listed, key=lambda line: line[66:]))
        self.assertTrue(os.path.exists(lines[12345] + ".yaml"))
        leftovers = [n for n in os.listdir(self.data()) if n.startswith(".dsm-tmp-")]
        self.assertEqual(leftovers, [])
        sys.stderr.write(f"\npeak RSS of dsm add: {small_kib / 1024:.1f} MiB for 10 files, "
                         f"{peak_kib / 1024:.1f} MiB for 20,000\n")
        if not sanitized_build():  # ASan's shadow and quarantine are not dsm's memory
            # Before the fix: 113 MiB, 5 KiB more per file.
            self.assertLess(peak_kib, 48 << 10, f"peak RSS {peak_kib} KiB")
            self.assertLess((peak_kib - small_kib) * 1024 / 20000, 1024,
                            f"{peak_kib - small_kib} KiB more for 20,000 files than for 10")
        r = self.dsm("verify", cwd=self.repo, expect=0)
        self.assertIn("20010 payloads", r.out)

    def test_a_bad_file_among_thousands_adds_nothing_and_leaves_no_temp(self):
        names = self.make_files(3000)
        with open(os.path.join(self.repo, "in", "001500.npy"), "wb") as f:
            f.write(b"not an array")
        with open(self.data("manifest-sha256.txt"), "rb") as f:
            before = f.read()
        peak_kib, rc, err, out = self.add_measured(names)
        self.assertEqual(rc, 2, err)
        self.assertIn("001500.npy", err)
        self.assertEqual(out, "")
        with open(self.data("manifest-sha256.txt"), "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.listdir(self.data()), ["manifest-sha256.txt"])


if __name__ == "__main__":
    main()
