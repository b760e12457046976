"""The README's "Using dsm" block and the `$` lines of docs/guide.md's main
flow (sections 1 to 4, 6 and 7) run as written, in order, in a fresh
repository holding the arrays they name: real git, real dsm on PATH (the
hook included), real NumPy. The docs cannot drift from what works
(issue 18: the guide's own commit step was refused)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DSM, SOURCE_DIR, DsmTestCase, main, np  # noqa: E402


def read(rel):
    with open(os.path.join(SOURCE_DIR, rel)) as f:
        return f.read()


def readme_commands():
    """The indented block right under '## Using dsm'."""
    section = read("README.md").split("\n## Using dsm\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"\n((?:    .*\n)+)", section).group(1)
    return [line[4:] for line in block.splitlines()]


def guide_commands():
    """The `$` lines of sections 1-4, 6 and 7, in order."""
    out = []
    for section in re.split(r"\n(?=## )", read("docs/guide.md")):
        m = re.match(r"## (\d+)\.", section)
        if m and int(m.group(1)) in (1, 2, 3, 4, 6, 7):
            out += [line[6:] for line in section.splitlines() if line.startswith("    $ ")]
    return out


class DocsRunTest(DsmTestCase):

    def env_with_dsm(self):
        env = dict(self.env)
        # dsm and the python3 that has NumPy first on PATH, as installed.
        env["PATH"] = os.pathsep.join([os.path.dirname(DSM), os.path.dirname(sys.executable), env.get("PATH", "")])
        return env

    def run_script(self, commands, cwd):
        script = "set -e\n" + "".join(f"echo '>>> {c.replace(chr(39), '')}'\n{c}\n" for c in commands)
        p = subprocess.run(["bash", "-c", script], cwd=cwd, env=self.env_with_dsm(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(p.returncode, 0, f"stopped at the last '>>>' line:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        return p

    def arrays(self, where, names):
        rng = np.random.default_rng(7)
        for name in names:
            np.save(os.path.join(where, name), rng.standard_normal((1000, 50)).astype(np.float32))

    def test_readme_usage_runs_as_written(self):
        commands = readme_commands()
        self.assertEqual(commands[0].split()[:2], ["cd", "my-project"])
        self.assertTrue(any(c.startswith("dsm push") for c in commands))
        repo = self.make_git_repo("my-project")
        self.arrays(repo, ["out.npy", "big.npy", "huge.npy"])
        self.run_script(commands, cwd=self.tmp)
        # What it promised: committed metadata, payloads on the remote.
        self.assertIn("data/manifest-sha256.txt", self.git("ls-files", cwd=repo).out)
        self.assertNotIn(".npy\n", self.git("ls-files", cwd=repo).out)
        self.assertIn("features v1", self.git("log", "--oneline", cwd=repo).out)
        store = os.path.join(self.tmp, "team-store")
        self.assertTrue(any(files for _, _, files in os.walk(store)))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "f.npy")))

    def test_guide_main_flow_runs_as_written(self):
        commands = guide_commands()
        self.assertEqual(commands[0], "dsm init")
        self.assertIn('git add -A && git commit -m "Add features v1"', commands)
        repo = self.make_git_repo("project")
        self.arrays(repo, ["out.npy", "huge.npy"])
        p = self.run_script(commands, cwd=repo)
        self.assertIn("(1000, 50)", p.stdout)
        self.assertIn("Add features v1", self.git("log", "--oneline", cwd=repo).out)
        clone = os.path.join(self.tmp, "project-clone")
        r = self.dsm("verify", cwd=clone, expect=0)
        self.assertIn("all good", r.out)


if __name__ == "__main__":
    main()
