"""Installing dsm (issue 18): man pages and shell completion generated from the
binary's help and installed by `cmake --install`, the `uninstall` target, and
the Debian package `cpack -G DEB` builds, unpacked and run."""
import glob
import os
import re
import shlex
import shutil
import subprocess

from harness import DSM, SOURCE_DIR, DsmTestCase, main, np

BUILD = os.path.dirname(DSM)


def command_table():
    """The command names of src/commands/commands.cpp's table."""
    with open(os.path.join(SOURCE_DIR, "src", "commands", "commands.cpp")) as f:
        return re.findall(r'\{\s*"([a-z][a-z0-9-]*)"\s*,\s*register_\w+', f.read())


def unroff(text):
    return text.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "").replace("\\e", "\\")


def help_options(help_text):
    """Every option name the Options: block of a --help lists."""
    names, block = [], None
    for line in help_text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            block = line
            continue
        if block == "Options:" and re.match(r"^  -", line):
            names += line.split()[0].split(",")
    return names


class PackagingTest(DsmTestCase):
    def install(self, prefix):
        """cmake --install into prefix; returns a copy of the manifest it wrote.

        Other tests (test_api) may install from the same build directory at the
        same time and overwrite install_manifest.txt: a copy whose every line
        is under prefix is ours."""
        for _ in range(5):
            self.run_cmd("cmake", "--install", BUILD, "--prefix", prefix)
            with open(os.path.join(BUILD, "install_manifest.txt")) as f:
                lines = f.read().split()
            if lines and all(line.startswith(prefix + "/") for line in lines):
                copy = os.path.join(self.tmp, "install_manifest.txt")
                with open(copy, "w") as f:
                    f.write("\n".join(lines) + "\n")
                return copy, lines
        self.fail("install_manifest.txt kept being rewritten by another install")

    def complete(self, completion, words, cwd, path):
        """The words bash completion offers for the command line `words` (last word being completed)."""
        script = (f"source {shlex.quote(completion)}\n"
                  f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
                  f"COMP_CWORD={len(words) - 1}\n"
                  "_dsm\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
        env = dict(self.env, PATH=path)
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        return sorted(w for w in proc.stdout.split("\n") if w)

    def make_repo_with_data(self, dsm):
        repo = self.make_git_repo()
        self.run_cmd(dsm, "init", cwd=repo)
        self.save(os.path.join(repo, "f.npy"), np.arange(12, dtype=np.float32).reshape(3, 4))
        self.run_cmd(dsm, "add", "f.npy", "--name", "sweep/features", cwd=repo)
        return repo

    def test_install_man_pages_completion_then_uninstall(self):
        commands = command_table()
        self.assertIn("add", commands)
        top_help = self.dsm("--help", expect=0).out
        for c in commands:  # the table and the help agree, so pages follow both
            self.assertRegex(top_help, rf"(?m)^\s+{re.escape(c)}\s")
        prefix = os.path.join(self.tmp, "prefix")
        manifest, installed = self.install(prefix)

        # Man pages: one per command, built from that command's --help.
        man1 = os.path.join(prefix, "share", "man", "man1")
        self.assertEqual(sorted(os.listdir(man1)), sorted(["dsm.1"] + [f"dsm-{c}.1" for c in commands]))
        with open(os.path.join(man1, "dsm.1")) as f:
            top_page = unroff(f.read())
        for c in commands:
            self.assertRegex(top_page, rf"(?m)^{re.escape(c)}$", f"dsm.1 does not list {c}")
            self.assertIn(f"dsm-{c}(1)", top_page)
            with open(os.path.join(man1, f"dsm-{c}.1")) as f:
                page = unroff(f.read())
            self.assertIn(f"dsm-{c} - ", page)
            help_text = self.dsm(c, "--help", expect=0).out
            for option in help_options(help_text):
                self.assertIn(option, page, f"dsm-{c}.1 misses {option}")
            usage = re.search(r"^Usage: (.*)$", help_text, re.M).group(1)
            self.assertIn(usage.split(" ", 1)[1], page)
        # Each page renders without a groff warning (-ww) or error.
        if shutil.which("groff"):
            for page in sorted(os.listdir(man1)):
                proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(man1, page)],
                                      capture_output=True, text=True)
                self.assertEqual((proc.returncode, proc.stderr), (0, ""), page)
        if shutil.which("man"):
            proc = subprocess.run(["man", "-l", os.path.join(man1, "dsm-add.1")], capture_output=True, text=True,
                                  env=dict(self.env, MANPAGER="cat", PAGER="cat", MANWIDTH="100"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("dsm-add - Store .npy/.npz files as new versions of datasets", proc.stdout)
            self.assertIn("--chunk-size SIZE", proc.stdout)
            self.assertIn("EXIT STATUS", proc.stdout)
            # `man dsm` finds the installed page through MANPATH
            proc = subprocess.run(["man", "dsm-verify"], capture_output=True, text=True,
                                  env=dict(self.env, MANPAGER="cat", PAGER="cat",
                                           MANPATH=os.path.join(prefix, "share", "man")))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("--strict", proc.stdout)

        # Completion: files in place; bash completes commands, options,
        # dataset names and remote names with the installed dsm.
        bash_completion = os.path.join(prefix, "share", "bash-completion", "completions", "dsm")
        zsh_completion = os.path.join(prefix, "share", "zsh", "vendor-completions", "_dsm")
        self.assertTrue(os.path.isfile(bash_completion))
        self.assertTrue(os.path.isfile(zsh_completion))
        with open(zsh_completion) as f:
            zsh_text = f.read()
        self.assertTrue(zsh_text.startswith("#compdef dsm"))
        for c in commands:
            self.assertIn(f"'{c}:", zsh_text)
        if shutil.which("zsh"):
            self.run_cmd("zsh", "-n", zsh_completion)
        dsm = os.path.join(prefix, "bin", "dsm")
        path = os.path.join(prefix, "bin") + os.pathsep + "/usr/bin:/bin"
        repo = self.make_repo_with_data(dsm)
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        self.run_cmd(dsm, "remote", "add", "origin", store, "--default", cwd=repo)
        self.run_cmd(dsm, "remote", "add", "backup", store, cwd=repo)
        self.assertEqual(self.complete(bash_completion, ["dsm", "ad"], repo, path), ["add"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "-q", "ad"], repo, path), ["add"])
        self.assertEqual(self.complete(bash_completion, ["dsm", ""], repo, path), sorted(commands))
        self.assertEqual(self.complete(bash_completion, ["dsm", "path", "sw"], repo, path), ["sweep/features"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "add", "--name", ""], repo, path),
                         ["sweep/features"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "add", "--na"], repo, path), ["--name"])
        # where a file or a dataset fits (show, diff, verify): both
        self.assertEqual(self.complete(bash_completion, ["dsm", "show", "sw"], repo, path), ["sweep/features"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "show", "f"], repo, path), ["f.npy"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "remote", "add", "o"], repo, path), [])
        self.assertIn("--chunk-size", self.complete(bash_completion, ["dsm", "add", "--"], repo, path))
        self.assertEqual(self.complete(bash_completion, ["dsm", "push", "--remote", ""], repo, path),
                         ["backup", "origin"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "remote", ""], repo, path),
                         ["add", "list", "remove", "trust", "untrust"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "remote", "remove", "b"], repo, path), ["backup"])
        self.assertEqual(self.complete(bash_completion, ["dsm", "remote", "add", "--d"], repo, path), ["--default"])
        # -C DIR: datasets of the repository it names, from elsewhere
        self.assertEqual(self.complete(bash_completion, ["dsm", "-C", repo, "log", "sw"], self.tmp, path),
                         ["sweep/features"])
        # outside a repository: no dataset names, no error text on the terminal
        self.assertEqual(self.complete(bash_completion, ["dsm", "path", ""], self.tmp, path), [])

        # uninstall removes every installed file and dsm's own directories.
        self.assertTrue(all(os.path.lexists(p) for p in installed))
        self.run_cmd("cmake", "--build", BUILD, "--target", "uninstall", env={"DSM_INSTALL_MANIFEST": manifest})
        self.assertEqual([p for p in installed if os.path.lexists(p)], [])
        self.assertFalse(os.path.exists(os.path.join(prefix, "include", "dsm")))
        self.assertFalse(os.path.exists(os.path.join(prefix, "lib", "cmake", "dsm")))
        left = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files]
        self.assertEqual(left, [])

    def test_uninstall_without_manifest_is_an_error(self):
        r = self.run_cmd("cmake", "--build", BUILD, "--target", "uninstall", check=False,
                         env={"DSM_INSTALL_MANIFEST": os.path.join(self.tmp, "missing.txt")})
        self.assertNotEqual(r.rc, 0)
        self.assertIn("nothing was installed", r.out + r.err)

    def test_deb_contents_dependencies_and_unpacked_dsm_runs(self):
        for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} is not installed (scripts/install-deps.sh installs it)")
        out = os.path.join(self.tmp, "deb")
        self.run_cmd("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out)
        debs = glob.glob(os.path.join(out, "*.deb"))
        self.assertEqual(len(debs), 1, debs)
        deb = debs[0]
        version = self.dsm("--version", expect=0).out.split()[-1]
        fields = {}
        for field in ("Package", "Version", "Depends", "Architecture"):
            fields[field] = self.run_cmd("dpkg-deb", "-f", deb, field).out.strip()
        self.assertEqual(fields["Package"], "dsm")
        self.assertEqual(fields["Version"], version)
        arch = self.run_cmd("dpkg", "--print-architecture").out.strip()
        self.assertEqual(fields["Architecture"], arch)
        self.assertEqual(os.path.basename(deb), f"dsm_{version}_{arch}.deb")
        depends = [d.strip().split()[0] for d in fields["Depends"].split(",")]
        # dpkg-shlibdeps found the libraries the binary links
        for lib in ("libc6", "libstdc++6", "libgit2", "libcurl", "libyaml-cpp", "libdeflate0", "libisal2", "git"):
            self.assertTrue(any(d == lib or d.startswith(lib) for d in depends), (lib, fields["Depends"]))

        listing = self.run_cmd("dpkg-deb", "-c", deb).out
        files = {line.split()[-1].lstrip(".") for line in listing.splitlines() if not line.startswith("d")}
        expected = ["/usr/bin/dsm", "/usr/share/man/man1/dsm.1",
                    "/usr/share/bash-completion/completions/dsm", "/usr/share/zsh/vendor-completions/_dsm",
                    "/usr/include/dsm/api.hpp", "/usr/include/dsm/error.hpp", "/usr/include/dsm/version.hpp"]
        expected += [f"/usr/share/man/man1/dsm-{c}.1" for c in command_table()]
        for path in expected:
            self.assertIn(path, files)
        for pattern in (r"^/usr/lib/(.*/)?libdsm_ops\.a$", r"^/usr/lib/(.*/)?libdsm_util\.a$",
                        r"^/usr/lib/(.*/)?cmake/dsm/dsmConfig\.cmake$"):
            self.assertTrue(any(re.match(pattern, f) for f in files), pattern)
        # nothing from the build tree or the test suite
        self.assertFalse([f for f in files if "gtest" in f or "dsm_unit" in f or "CMakeFiles" in f])

        # Unpacked into a temporary root, the binary runs without the build tree.
        root = os.path.join(self.tmp, "root")
        self.run_cmd("dpkg", "-x", deb, root)
        dsm = os.path.join(root, "usr", "bin", "dsm")
        self.assertEqual(self.run_cmd(dsm, "--version").out.strip(), f"dsm {version}")
        repo = self.make_repo_with_data(dsm)
        stored = self.run_cmd(dsm, "path", "sweep/features", cwd=repo).out.strip()
        self.assertTrue(np.array_equal(np.load(stored), np.arange(12, dtype=np.float32).reshape(3, 4)))
        self.run_cmd(dsm, "verify", cwd=repo)
        if shutil.which("man"):
            proc = subprocess.run(["man", "-l", os.path.join(root, "usr", "share", "man", "man1", "dsm.1")],
                                  capture_output=True, text=True, env=dict(self.env, MANPAGER="cat", PAGER="cat"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            for c in command_table():
                self.assertIn(c, proc.stdout)


if __name__ == "__main__":
    main()
