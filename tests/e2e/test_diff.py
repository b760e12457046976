"""dsm diff A [B]: what changed between two arrays, with NumPy as the oracle (issue 19)."""
import json
import os
import subprocess
import sys

from harness import DSM, DsmTestCase, InitializedRepoTestCase, main, np, sanitized_build

NUMERIC = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "b1"]


def oracle_close(a, b, rtol=0.0, atol=0.0, equal_nan=False):
    """Element-wise 'close' as dsm documents it: np.isclose, except that
    integers compare exactly when both tolerances are 0."""
    if a.dtype.names:
        close = np.ones(a.shape, dtype=bool)
        for name in a.dtype.names:
            field = oracle_close(a[name], b[name], rtol, atol, equal_nan)
            close &= field.reshape(a.shape + (-1,)).all(axis=-1)
        return close
    if a.dtype.kind in "SUVMm":
        return a == b
    if a.dtype.kind in "iu" and rtol == 0 and atol == 0:
        return a == b
    with np.errstate(invalid="ignore"):
        close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if a.dtype.kind == "c":
        # NumPy 1.24 multiplies non-finite complex values by ones (inf+0j
        # becomes inf+nanj) and then finds inf+0j unequal to itself; dsm
        # compares equal infinities as equal, as it does for reals.
        same_inf = ~np.isnan(a) & ~np.isnan(b) & ~(np.isfinite(a) & np.isfinite(b)) & (a == b)
        close |= same_inf
    return close


def storage_order_indices(mask, fortran):
    """Indices of True in mask, in the order the elements are stored."""
    if mask.ndim == 0:
        return [[]] if bool(mask) else []
    if fortran:
        return [list(reversed(i)) for i in np.argwhere(mask.T).tolist()]
    return np.argwhere(mask).tolist()


def json_value(v):
    """A scalar as dsm --json writes it."""
    if isinstance(v, (np.floating, float)):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return float(v)
    if isinstance(v, (np.complexfloating, complex)):
        return [json_value(np.real(v)), json_value(np.imag(v))]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, bytes):
        return v.rstrip(b"\0").decode("latin-1")
    return v


class DiffFiles(DsmTestCase):
    """Plain files outside any repository (Needs::nothing)."""

    def diff(self, a, b, *args, expect=None):
        pa = self.save(os.path.join(self.tmp, "a.npy"), a)
        pb = self.save(os.path.join(self.tmp, "b.npy"), b)
        r = self.dsm("diff", pa, pb, "--json", "--show", "1000", *args)
        self.assertIn(r.rc, (0, 1), r)
        if expect is not None:
            self.assertEqual(r.rc, expect, r)
        return r.json(), r

    def check_against_numpy(self, a, b, rtol=0.0, atol=0.0, equal_nan=False, label=""):
        args = []
        if rtol:
            args += ["--rtol", repr(rtol)]
        if atol:
            args += ["--atol", repr(atol)]
        if equal_nan:
            args.append("--equal-nan")
        j, r = self.diff(a, b, *args)
        close = oracle_close(a, b, rtol, atol, equal_nan)
        differ = int(np.count_nonzero(~close))
        e = j["elements"]
        self.assertIsNotNone(e, (label, j))
        self.assertEqual(e["compared"], a.size, label)
        self.assertEqual(e["differ"], differ, label)
        self.assertEqual(j["equal"], differ == 0, label)
        self.assertEqual(r.rc, 0 if differ == 0 else 1, label)
        if a.dtype.kind in "fc":
            an = np.isnan(a)
            bn = np.isnan(b)
            self.assertEqual(e["nan_appeared"], int(np.count_nonzero(an & ~bn)), label)
            self.assertEqual(e["nan_vanished"], int(np.count_nonzero(~an & bn)), label)
        fortran = a.flags.f_contiguous and not a.flags.c_contiguous
        want = storage_order_indices(~close, fortran)
        self.assertEqual([f["index"] for f in e["first"]], want, label)
        if not a.dtype.names:
            for f in e["first"]:
                idx = tuple(f["index"])
                self.assert_value(f["a"], a[idx], label)
                self.assert_value(f["b"], b[idx], label)
        return j

    def assert_value(self, got, want, label):
        """dsm writes the shortest text that reads back as the same value
        in the array's own precision (float32 0.1 as 0.1)."""
        if isinstance(want, np.complexfloating):
            self.assertEqual(len(got), 2, label)
            self.assert_value(got[0], np.real(want), label)
            self.assert_value(got[1], np.imag(want), label)
        elif isinstance(want, np.floating) and np.isfinite(want):
            self.assertEqual(type(want)(got), want, label)
        else:
            self.assertEqual(got, json_value(want), label)

    def test_every_numeric_dtype_in_both_byte_orders(self):
        rng = np.random.default_rng(19)
        for code in NUMERIC:
            for order in "<>":
                dt = np.dtype(order + code) if code != "b1" else np.dtype("?")
                with self.subTest(dtype=dt.str):
                    if dt.kind == "b":
                        a = rng.integers(0, 2, size=(7, 9)).astype(dt)
                    elif dt.kind in "iu":
                        info = np.iinfo(dt)
                        a = rng.integers(info.min, info.max, size=(7, 9), endpoint=True, dtype=dt.newbyteorder("="))
                        a = a.astype(dt)
                    else:
                        a = (rng.standard_normal((7, 9)) * 100).astype(dt)
                    b = a.copy()
                    if dt.kind == "b":
                        b[2, 3] = not b[2, 3]
                        b[6, 8] = not b[6, 8]
                    elif dt.kind in "iu":
                        b[2, 3] = a[2, 3] ^ dt.type(1)
                        b[6, 8] = a[6, 8] ^ dt.type(2)
                    else:
                        b[2, 3] = a[2, 3] + 1
                        b[0, 0] = np.nan          # NaN vanished from a's view: a has a number
                        a[1, 1] = np.nan          # NaN appeared
                        a[3, 3] = b[3, 3] = np.nan  # NaN in both: differ unless --equal-nan
                        a[4, 4] = np.inf
                        b[4, 4] = np.inf          # equal infinities
                        a[5, 5] = -np.inf         # inf against a number
                    self.check_against_numpy(a, b, label=dt.str)
                    if dt.kind in "fc":
                        self.check_against_numpy(a, b, equal_nan=True, label=dt.str + " equal_nan")

    def test_byte_order_alone_is_reported_not_a_difference(self):
        a = np.linspace(0, 1, 50).astype("<f8")
        j, r = self.diff(a, a.astype(">f8"), expect=0)
        self.assertEqual(j["header"], [{"field": "dtype", "a": "<f8", "b": ">f8"}])
        self.assertEqual(j["elements"]["differ"], 0)

    def test_fortran_order_indices(self):
        a = np.asfortranarray(np.arange(24, dtype="<f4").reshape(4, 6))
        b = a.copy(order="F")
        b[3, 0] = -1
        b[0, 5] = -2
        b[1, 2] = -3
        j = self.check_against_numpy(a, b, label="F")
        self.assertEqual([f["index"] for f in j["elements"]["first"]], [[3, 0], [1, 2], [0, 5]])

    def test_c_against_fortran_is_reported_not_compared(self):
        a = np.arange(6.0).reshape(2, 3)
        j, r = self.diff(a, np.asfortranarray(a), expect=1)
        self.assertIn({"field": "order", "a": "C", "b": "F"}, j["header"])
        self.assertIsNone(j["elements"])
        self.assertIn("order", j["reason"])

    def test_zero_d_and_empty(self):
        self.check_against_numpy(np.array(1.5), np.array(2.5), label="0-d")
        j, r = self.diff(np.array(3), np.array(3), expect=0)
        self.assertTrue(j["identical"])
        j, r = self.diff(np.array(3, "<i2"), np.array(3, ">i2"), expect=0)
        self.assertEqual(j["elements"], {"compared": 1, "differ": 0, "max_abs_diff": 0.0, "max_rel_diff": 0.0,
                                         "nan_appeared": 0, "nan_vanished": 0, "first": []})
        j, r = self.diff(np.zeros((0, 3)), np.zeros((0, 3)), expect=0)
        self.assertTrue(j["identical"])
        # Empty arrays with different headers: compared, nothing differs.
        j, r = self.diff(np.zeros((0, 3), "<f8"), np.zeros((0, 3), ">f8"), expect=0)
        self.assertEqual(j["elements"]["compared"], 0)

    def test_structured_field_by_field(self):
        dt = np.dtype([("id", "<i4"), ("pos", ">f8", (2,)), ("name", "S4"), ("inner", [("u", "<u2"), ("z", "<c8")])])
        a = np.zeros(5, dtype=dt)
        a["id"] = np.arange(5)
        a["pos"] = np.arange(10.0).reshape(5, 2)
        a["name"] = [b"a", b"bb", b"ccc", b"dddd", b""]
        b = a.copy()
        b["pos"][1, 1] = 99
        b["name"][3] = b"dxdd"
        b["inner"]["z"][4] = 1j
        j = self.check_against_numpy(a, b, label="structured")
        self.assertEqual(j["elements"]["fields"], {"id": 0, "pos": 1, "name": 1, "inner.u": 0, "inner.z": 1})
        self.assertEqual(j["elements"]["first"][0]["a"],
                         {"id": 1, "pos": [2.0, 3.0], "name": "bb", "inner.u": 0, "inner.z": [0.0, 0.0]})
        self.assertEqual(j["elements"]["first"][0]["b"]["pos"], [2.0, 99.0])

    def test_strings(self):
        a = np.array(["alpha", "beta", "gamma", "δέλτα"], dtype="<U6")
        b = a.copy()
        b[1] = "bêta"
        j = self.check_against_numpy(a, b, label="U")
        self.assertEqual(j["elements"]["first"][0]["b"], "bêta")
        a = np.array([b"x", b"yy"], dtype="S3")
        self.check_against_numpy(a, np.array([b"x", b"yz"], dtype="S3"), label="S")
        self.check_against_numpy(a.astype(">U3"), np.array(["x", "yz"], "<U3"), label="U byte orders")

    def test_shape_and_dtype_changes_are_reported_elements_null(self):
        j, r = self.diff(np.zeros((2, 3)), np.zeros((3, 2)), expect=1)
        self.assertEqual(j["header"], [{"field": "shape", "a": "(2, 3)", "b": "(3, 2)"}])
        self.assertIsNone(j["elements"])
        self.assertEqual(j["reason"], "shapes differ")
        j, r = self.diff(np.zeros(4, "<f4"), np.zeros(4, "<f8"), expect=1)
        self.assertEqual(j["header"], [{"field": "dtype", "a": "<f4", "b": "<f8"}])
        self.assertIsNone(j["elements"])
        self.assertEqual(j["reason"], "dtypes differ")
        self.assertEqual(j["a"]["dtype"], "<f4")
        self.assertEqual(j["b"]["shape"], [4])

    def test_stats_side_by_side(self):
        a = np.array([1.0, 2.0, np.nan, 4.0])
        b = np.array([1.0, 2.0, 3.0, 4.0])
        j, r = self.diff(a, b, expect=1)
        self.assertEqual(j["stats"]["nan"], [1, 0])
        self.assertAlmostEqual(j["stats"]["mean"][0], np.nanmean(a))
        self.assertAlmostEqual(j["stats"]["mean"][1], np.nanmean(b))
        self.assertNotIn("count", j["stats"])  # only what differs
        human = self.dsm("diff", "a.npy", "b.npy", expect=1).out
        self.assertIn("nan", human)
        self.assertIn("+1", human)

    def test_tolerance_edges_exactly_at_atol_plus_rtol_b(self):
        rtol, atol = 1e-3, 1e-6
        for code in ("<f8", ">f8", "<f4"):
            with self.subTest(dtype=code):
                b = np.array([1.0, -2.5, 1000.0, 0.0, 3.0, 7.0], dtype=code)
                t = np.dtype(code).type
                edge = t(atol) + t(rtol) * np.abs(b)  # in the array's precision, as NumPy computes it
                a = (b + edge).astype(code)
                # Rounding may land a just inside or outside: the oracle decides, both sides agree.
                a[4] = np.nextafter(a[4], t(np.inf))  # one step past the edge
                a[5] = b[5]
                j = self.check_against_numpy(a, b, rtol=rtol, atol=atol, label=code)
                close = np.isclose(a, b, rtol=rtol, atol=atol)
                self.assertTrue(close[:4].any(), "the test needs elements exactly at the edge")
                self.assertFalse(close[4])

    def test_integer_tolerance_and_exact_big_integers(self):
        b = np.array([2**53, 10, 100], dtype="<i8")
        a = np.array([2**53 + 1, 11, 100], dtype="<i8")
        j = self.check_against_numpy(a, b, label="exact")
        self.assertEqual(j["elements"]["differ"], 2)  # NumPy's float64 would miss 2**53 + 1
        self.check_against_numpy(a, b, rtol=0.1, label="rtol")
        self.check_against_numpy(a, b, atol=1, label="atol")

    def test_npz_members_added_removed_changed(self):
        np.savez(os.path.join(self.tmp, "new.npz"), w=np.arange(5.0), same=np.ones(3), added=np.zeros(1))
        np.savez_compressed(os.path.join(self.tmp, "old.npz"), w=np.array([0.0, 1, 2, 30, 4]), same=np.ones(3),
                            gone=np.zeros(2))
        r = self.dsm("diff", "new.npz", "old.npz", "--json", expect=1)
        j = r.json()
        self.assertEqual(j["added"], ["added"])
        self.assertEqual(j["removed"], ["gone"])
        self.assertEqual(sorted(j["members"]), ["w"])  # 'same' is equal: not listed
        w = j["members"]["w"]
        self.assertEqual(w["elements"]["differ"], 1)
        self.assertEqual(w["elements"]["first"], [{"index": [3], "a": 3.0, "b": 30.0}])
        np.savez(os.path.join(self.tmp, "copy.npz"), w=np.arange(5.0), same=np.ones(3), added=np.zeros(1))
        # Same members, different bytes on disk (deflated vs stored): equal.
        np.savez_compressed(os.path.join(self.tmp, "copyz.npz"), w=np.arange(5.0), same=np.ones(3), added=np.zeros(1))
        j = self.dsm("diff", "new.npz", "copyz.npz", "--json", expect=0).json()
        self.assertFalse(j["identical"])
        self.assertEqual(j["members"], {})

    def test_npy_against_npz_and_errors(self):
        self.save("x.npy", np.zeros(3))
        np.savez(os.path.join(self.tmp, "x.npz"), x=np.zeros(3))
        j = self.dsm("diff", "x.npy", "x.npz", "--json", expect=1).json()
        self.assertEqual(j["header"][0]["field"], "format")
        self.assertIsNone(j["elements"])
        r = self.dsm("diff", "x.npy", expect=2)
        self.assertIn("not a dataset version", r.err)
        r = self.dsm("diff", "x.npy", "missing.npy", expect=2)
        self.assertIn("no such file 'missing.npy'", r.err)
        with open("bad.npy", "wb") as f:
            f.write(b"not an array")
        r = self.dsm("diff", "x.npy", "bad.npy", expect=2)
        self.assertIn("dsm: error:", r.err)
        r = self.dsm("diff", "x.npy", "x.npy", "--rtol", "-1", expect=2)

    def test_show_limits_the_listing_and_human_output(self):
        a = np.arange(100.0)
        b = a + 1
        self.save("a.npy", a)
        self.save("b.npy", b)
        j = self.dsm("diff", "a.npy", "b.npy", "--json", "--show", "3", expect=1).json()
        self.assertEqual([f["index"] for f in j["elements"]["first"]], [[0], [1], [2]])
        out = self.dsm("diff", "a.npy", "b.npy", expect=1).out
        self.assertIn("100 compared, 100 differ", out)
        self.assertTrue(out.rstrip().endswith("differ"), out)
        out = self.dsm("diff", "a.npy", "b.npy", "--atol", "1", expect=0).out
        self.assertIn("equal (rtol 0, atol 1)", out)


class DiffVersions(InitializedRepoTestCase):
    def add(self, array, *args, name="feat"):
        src = self.save(os.path.join(self.tmp, "src.npy"), array)
        return self.dsm("add", src, "--name", name, *args, cwd=self.repo, expect=0)

    def test_default_b_is_the_version_before_and_meta(self):
        a1 = np.arange(20.0).reshape(4, 5)
        a2 = a1.copy()
        a2[2, 2] = np.nan
        a2[0, 1] = 1.5
        self.add(a1, "-m", "lr=0.5", "-m", "seed=1", "--message", "first")
        self.add(a2, "-m", "lr=0.1", "-m", "epochs=3", "--message", "second")
        j = self.dsm("diff", "feat", "--json", cwd=self.repo, expect=1).json()
        self.assertEqual(j["a"]["target"], "feat")
        self.assertEqual(j["b"]["target"], "feat@1")
        self.assertEqual(j["meta"], {"lr": [0.1, 0.5], "epochs": [3, None], "seed": [None, 1]})
        self.assertEqual(j["message"], ["second", "first"])
        self.assertEqual(j["elements"]["nan_appeared"], 1)
        self.assertEqual(j["elements"]["differ"], 2)
        self.assertEqual(j["stats"]["nan"], [1, 0])
        same = self.dsm("diff", "feat@latest", "feat@~1", "--json", cwd=self.repo, expect=1).json()
        self.assertEqual(same["elements"], j["elements"])
        r = self.dsm("diff", "feat@1", cwd=self.repo, expect=2)
        self.assertIn("is the first version", r.err)
        r = self.dsm("diff", "feat@~2", cwd=self.repo, expect=2)
        self.assertIn("goes back too far", r.err)
        # A file outside the data directory against a version.
        self.save(os.path.join(self.repo, "mine.npy"), a2)
        j = self.dsm("diff", "mine.npy", "feat@2", "--json", cwd=self.repo, expect=0).json()
        self.assertTrue(j["identical"])
        human = self.dsm("diff", "feat", cwd=self.repo, expect=1).out
        self.assertIn("lr", human)
        self.assertIn("(message)", human)

    def test_identical_versions_answer_from_the_hash(self):
        a = np.arange(10.0)
        self.add(a)
        self.add(a)
        j = self.dsm("diff", "feat", "--json", cwd=self.repo, expect=0).json()
        self.assertTrue(j["identical"])
        self.assertEqual(j["a"]["sha256"], j["b"]["sha256"])
        # Without reading data: removing read permission on the payloads changes nothing.
        for root, _, files in os.walk(self.data("feat")):
            for f in files:
                if f.endswith(".npy"):
                    os.chmod(os.path.join(root, f), 0)
        if os.getuid() != 0:
            self.dsm("diff", "feat", cwd=self.repo, expect=0)

    def test_chunked_against_plain(self):
        rng = np.random.default_rng(3)
        a = rng.standard_normal((300, 40))
        b = a.copy()
        b[5, 7] = 0
        b[299, 39] = np.inf
        self.add(a, "--chunk-size", "16KiB")
        self.add(b)
        j = self.dsm("diff", "feat@1", "feat@2", "--json", "--show", "10", cwd=self.repo, expect=1).json()
        self.assertEqual(j["a"]["format"], "chunks")
        self.assertEqual(j["elements"]["differ"], 2)
        self.assertEqual([f["index"] for f in j["elements"]["first"]], [[5, 7], [299, 39]])
        self.assertEqual(j["elements"]["first"][1]["b"], "inf")
        self.add(a)  # plain copy of the chunked one: same original sha
        j = self.dsm("diff", "feat@3", "feat@1", "--json", cwd=self.repo, expect=0).json()
        self.assertTrue(j["identical"])
        # Chunked against a modified chunked version, streamed part by part.
        self.add(b, "--chunk-size", "10KiB")
        j = self.dsm("diff", "feat@4", "feat@1", "--json", cwd=self.repo, expect=1).json()
        self.assertEqual(j["elements"]["differ"], 2)

    def test_compressed_against_original_and_modified(self):
        rng = np.random.default_rng(4)
        a = np.round(rng.standard_normal((200, 30)), 2)
        self.add(a)
        self.add(a, "--compress")
        j = self.dsm("diff", "feat@2", "feat@1", "--json", cwd=self.repo, expect=0).json()
        self.assertTrue(j["equal"])
        self.assertEqual(j["a"]["format"], "npz-compressed")
        self.assertEqual(j["a"]["shape"], [200, 30])
        b = a.copy()
        b[199, 0] += 1
        self.add(b)
        # Compressed (inflated as read) against a changed plain version.
        j = self.dsm("diff", "feat@2", "feat@3", "--json", cwd=self.repo, expect=1).json()
        self.assertEqual(j["elements"]["differ"], 1)
        self.assertEqual(j["elements"]["first"][0]["index"], [199, 0])
        self.assertEqual(j["header"], [{"field": "format", "a": "npz-compressed", "b": "npy"}])

    def test_npz_versions(self):
        src = os.path.join(self.tmp, "m.npz")
        np.savez(src, x=np.arange(4), y=np.ones(2))
        self.dsm("add", src, "--name", "arch", cwd=self.repo, expect=0)
        np.savez(src, x=np.arange(4) * 2, z=np.ones(2))
        self.dsm("add", src, "--name", "arch", cwd=self.repo, expect=0)
        j = self.dsm("diff", "arch", "--json", cwd=self.repo, expect=1).json()
        self.assertEqual(j["added"], ["z"])
        self.assertEqual(j["removed"], ["y"])
        self.assertEqual(j["members"]["x"]["elements"]["differ"], 3)
        self.assertEqual(j["members"]["x"]["stats"]["max"], [6, 3])


class DiffLarge(DsmTestCase):
    """Two 256 MiB arrays: peak RSS of the dsm process stays under 64 MiB."""

    def test_large_pair_bounded_memory(self):
        n = (256 << 20) // 8
        pa = os.path.join(self.tmp, "a.npy")
        pb = os.path.join(self.tmp, "b.npy")
        for path, bump in ((pa, False), (pb, True)):
            m = np.lib.format.open_memmap(path, mode="w+", dtype="<f8", shape=(n,))
            step = 1 << 22
            for i in range(0, n, step):
                m[i:i + step] = np.arange(i, min(i + step, n), dtype="<f8")
            if bump:
                m[12345] += 0.5
                m[n - 1] = np.nan
            m.flush()
            del m
        # Measured from a small helper process: a child forked from this
        # test (which touched both arrays) would start with its RSS.
        helper = ("import resource, subprocess, sys\n"
                  "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
                  "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n')\n"
                  "sys.stdout.write(str(p.returncode) + '\\n' + p.stdout.decode())\n")
        proc = subprocess.run([sys.executable, "-c", helper, DSM, "diff", pa, pb, "--json"],
                              capture_output=True, text=True, env=self.env, timeout=600)
        peak_kib, rc, out = proc.stdout.split("\n", 2)
        peak_kib = int(peak_kib)
        self.assertEqual(int(rc), 1, proc)
        j = json.loads(out)
        self.assertEqual(j["elements"]["compared"], n)
        self.assertEqual(j["elements"]["differ"], 2)
        self.assertEqual(j["elements"]["nan_vanished"], 1)
        # Compared in ranges on several threads: the listing is still in storage order.
        self.assertEqual(j["elements"]["first"], [{"index": [12345], "a": 12345.0, "b": 12345.5},
                                                  {"index": [n - 1], "a": float(n - 1), "b": "nan"}])
        if not sanitized_build():  # ASan's shadow and quarantine are not dsm's memory
            self.assertLess(peak_kib, 64 << 10, f"peak RSS {peak_kib} KiB")
        sys.stderr.write(f"\npeak RSS of dsm diff on two 256 MiB arrays: {peak_kib / 1024:.1f} MiB\n")


if __name__ == "__main__":
    main()
