"""dsm show FILE: interop with real NumPy. Every array here is written by
NumPy and `dsm show --json` must report what NumPy itself reports."""
import hashlib
import io
import math
import os
import sys
import warnings
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import DsmTestCase, main, np  # noqa: E402

NPY_KEYS = {"path", "format", "size", "sha256", "version", "data_offset", "descr", "shape", "fortran_order",
            "itemsize", "count", "payload_bytes", "trailing_bytes", "object", "stats"}
MEMBER_KEYS = {"name", "compressed", "member_size", "version", "data_offset", "descr", "shape", "fortran_order",
               "itemsize", "count", "payload_bytes", "trailing_bytes", "object", "stats"}
NPZ_KEYS = {"path", "format", "size", "sha256", "members"}


def descr_json(dtype):
    """NumPy's descr, as dsm's JSON renders it: tuples and lists are arrays."""
    def conv(x):
        if isinstance(x, (list, tuple)):
            return [conv(i) for i in x]
        return x
    return conv(np.lib.format.dtype_to_descr(dtype))


def jnum(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]
    return v


def numeric_kind(dtype):
    return dtype.fields is None and dtype.subdtype is None and dtype.kind in "biufc"


def expected_stats(a):
    """NumPy's own nanmin/nanmax/nanmean (complex: real and imaginary parts pooled)."""
    if not numeric_kind(a.dtype) or a.size == 0:
        return None
    x = a
    if a.dtype.kind == "c":
        x = np.concatenate([a.real.ravel(), a.imag.ravel()])
    if a.dtype.kind == "b":
        x = a.astype(np.uint8)
    with np.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mn, mx = np.nanmin(x), np.nanmax(x)
            if x.dtype.kind in "iu":
                mean = np.mean(x, dtype=np.float64)
            else:
                mean = np.nanmean(x.astype(np.longdouble) if x.dtype.itemsize > 8 else x, dtype=np.longdouble)
    nan = int(np.isnan(x).sum()) if x.dtype.kind == "f" else 0
    inf = int(np.isinf(x).sum()) if x.dtype.kind == "f" else 0
    return {"min": mn, "max": mx, "mean": float(mean), "nan": nan, "inf": inf}


class ShowInterop(DsmTestCase):
    def show(self, path):
        r = self.dsm("show", "--json", path, expect=0)
        return r.json()

    def assert_stats(self, got, a):
        exp = expected_stats(a)
        if exp is None:
            self.assertIsNone(got)
            return
        self.assertIsNotNone(got)
        self.assertEqual(set(got), {"min", "max", "mean", "nan", "inf"})
        self.assertEqual(got["nan"], exp["nan"])
        self.assertEqual(got["inf"], exp["inf"])
        for key in ("min", "max"):
            e = exp[key]
            if a.dtype.kind in "iub":
                self.assertIsInstance(got[key], int)
                self.assertEqual(got[key], int(e), key)
            else:
                g = jnum(got[key])
                if math.isnan(float(e)):
                    self.assertTrue(math.isnan(g), key)
                else:
                    self.assertEqual(g, float(e), key)
        g, e = jnum(got["mean"]), exp["mean"]
        if math.isnan(e):
            self.assertTrue(math.isnan(g))
        elif math.isinf(e):
            self.assertEqual(g, e)
        else:
            self.assertTrue(math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-12), f"mean {g} != {e}")

    def assert_npy_fields(self, got, a, path_bytes=None, fortran=None):
        self.assertEqual(got["descr"], descr_json(a.dtype))
        self.assertEqual(got["shape"], list(a.shape))
        self.assertEqual(got["fortran_order"], bool(fortran if fortran is not None else False))
        self.assertEqual(got["itemsize"], a.dtype.itemsize)
        self.assertEqual(got["count"], a.size)
        self.assertEqual(got["object"], a.dtype.hasobject)
        if not a.dtype.hasobject:
            self.assertEqual(got["payload_bytes"], a.nbytes)
            self.assertEqual(got["trailing_bytes"], 0)
        if path_bytes is not None:
            f = io.BytesIO(path_bytes)
            version = np.lib.format.read_magic(f)
            np.lib.format._read_array_header(f, version, max_header_size=1 << 30)
            self.assertEqual(got["version"], "%d.%d" % version)
            self.assertEqual(got["data_offset"], f.tell())
        self.assert_stats(got["stats"], a)

    def check_npy(self, a, name="a.npy", fortran=False, **kw):
        path = os.path.join(self.tmp, name)
        if fortran:
            a = np.asfortranarray(a)
        np.save(path, a, **kw)
        with open(path, "rb") as f:
            data = f.read()
        got = self.show(path)
        self.assertEqual(set(got), NPY_KEYS)
        self.assertEqual(got["path"], path)
        self.assertEqual(got["format"], "npy")
        self.assertEqual(got["size"], len(data))
        self.assertEqual(got["sha256"], hashlib.sha256(data).hexdigest())
        is_f = fortran and a.ndim > 1 and not a.flags.c_contiguous
        self.assert_npy_fields(got, a, data, fortran=is_f)
        return got

    def test_every_numeric_dtype_both_byte_orders(self):
        rng = np.random.default_rng(1)
        for code in ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "g", "c8", "c16", "G"]:
            for order in "<>":
                with self.subTest(code=code, order=order):
                    dt = np.dtype(code).newbyteorder(order) if np.dtype(code).itemsize > 1 else np.dtype(code)
                    if dt.kind == "b":
                        a = rng.integers(0, 2, size=(7, 5)).astype(dt)
                    elif dt.kind in "iu":
                        info = np.iinfo(dt)
                        a = rng.integers(info.min, info.max, size=(7, 5), dtype=dt.newbyteorder("="),
                                         endpoint=True).astype(dt)
                        a.flat[3] = info.min
                        a.flat[4] = info.max
                    elif dt.kind == "f":
                        a = (rng.normal(size=(7, 5)) * 1000).astype(dt)
                    else:
                        a = (rng.normal(size=(7, 5)) + 1j * rng.normal(size=(7, 5))).astype(dt)
                    self.check_npy(a, f"a_{code}_{order == '<'}.npy")

    def test_int64_extremes_are_exact(self):
        a = np.array([-2**63, 2**63 - 1, 2**53 + 1], dtype="<i8")
        got = self.check_npy(a)
        self.assertEqual(got["stats"]["min"], -2**63)
        self.assertEqual(got["stats"]["max"], 2**63 - 1)
        u = np.array([0, 2**64 - 1], dtype=">u8")
        got = self.check_npy(u, "u.npy")
        self.assertEqual(got["stats"]["max"], 2**64 - 1)

    def test_nan_and_inf(self):
        self.check_npy(np.array([1.5, np.nan, np.inf, -2.0], dtype="<f8"))
        got = self.check_npy(np.array([np.nan, np.nan], dtype=">f4"), "n.npy")
        self.assertEqual(got["stats"]["min"], "nan")
        self.assertEqual(got["stats"]["nan"], 2)
        got = self.check_npy(np.array([np.inf, -np.inf, 3.0], dtype="<f2"), "i.npy")
        self.assertEqual(got["stats"]["min"], "-inf")
        self.assertEqual(got["stats"]["mean"], "nan")
        self.check_npy(np.array([np.inf, 1.0], dtype="<f8"), "pi.npy")

    def test_fortran_order_zero_d_and_empty(self):
        self.check_npy(np.arange(24, dtype="<f8").reshape(2, 3, 4), fortran=True)
        self.check_npy(np.array(3.25), "zero_d.npy")
        got = self.check_npy(np.zeros((0, 5), dtype="<i4"), "empty.npy")
        self.assertIsNone(got["stats"])
        self.check_npy(np.zeros((3, 0, 2)), "empty2.npy", fortran=True)

    def test_non_numeric_dtypes(self):
        self.check_npy(np.array([b"ab", b"cde"]), "s.npy")
        self.check_npy(np.array(["ab", "\u00e9t\u00e9"]), "u.npy")
        self.check_npy(np.array(["2020-01-01", "NaT"], dtype="M8[ns]"), "m.npy")
        self.check_npy(np.array([1, 2], dtype=">m8[D]"), "td.npy")
        self.check_npy(np.zeros(3, dtype="V7"), "v.npy")
        got = self.check_npy(np.array([1, "x", None], dtype=object), "o.npy", allow_pickle=True)
        self.assertTrue(got["object"])

    def test_structured_dtypes(self):
        dt = np.dtype([("a", "<i4"), (("Title", "b"), ">f8", (2, 3)),
                       ("nested", [("x", "|u1"), ("y", "<f2", 2)]), ("s", "S3")])
        self.check_npy(np.zeros(4, dtype=dt), "st.npy")
        padded = np.dtype({"names": ["a", "b"], "formats": ["<i2", "<f8"], "offsets": [0, 8], "itemsize": 24})
        self.check_npy(np.zeros((2, 2), dtype=padded), "pad.npy")
        mixed = np.dtype([("o", "O"), ("v", "<f4")])
        got = self.check_npy(np.zeros(2, dtype=mixed), "mixed.npy", allow_pickle=True)
        self.assertTrue(got["object"])

    def test_header_versions_2_and_3(self):
        warnings.simplefilter("ignore", UserWarning)  # "can only be read by NumPy >= 1.9"
        for version in [(1, 0), (2, 0), (3, 0)]:
            with self.subTest(version=version):
                path = os.path.join(self.tmp, "v%d.npy" % version[0])
                a = np.zeros(3, dtype=[("\u00e9" if version == (3, 0) else "e", "<f8")])
                with open(path, "wb") as f:
                    np.lib.format.write_array(f, a, version=version)
                got = self.show(path)
                self.assertEqual(got["version"], "%d.0" % version[0])
                with open(path, "rb") as f:
                    self.assert_npy_fields(got, a, f.read())
        big = np.zeros(2, dtype=[("field_%05d" % i, "<i1") for i in range(7000)])  # header > 64 KiB: v2
        got = self.check_npy(big, "big.npy")
        self.assertEqual(got["version"], "2.0")

    def test_savez_and_savez_compressed(self):
        arrays = {"weights": np.linspace(0, 1, 50).reshape(5, 10), "mask": np.eye(3, dtype=bool),
                  "big": np.arange(300000, dtype=">i4"), "names": np.array(["a", "b"]),
                  "f": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
        for fn, compressed in [(np.savez, False), (np.savez_compressed, True)]:
            with self.subTest(compressed=compressed):
                path = os.path.join(self.tmp, "c.npz" if compressed else "s.npz")
                fn(path, **arrays)
                got = self.show(path)
                self.assertEqual(set(got), NPZ_KEYS)
                with open(path, "rb") as f:
                    data = f.read()
                self.assertEqual(got["sha256"], hashlib.sha256(data).hexdigest())
                self.assertEqual(got["size"], len(data))
                self.assertEqual(got["format"], "npz")
                with np.load(path) as z, zipfile.ZipFile(path) as zf:
                    self.assertEqual([m["name"] for m in got["members"]], list(z.files))
                    for m in got["members"]:
                        self.assertEqual(set(m), MEMBER_KEYS)
                        self.assertEqual(m["compressed"], compressed)
                        raw = zf.read(m["name"] + ".npy")
                        self.assertEqual(m["member_size"], len(raw))
                        a = z[m["name"]]
                        self.assert_npy_fields(m, a, raw, fortran=m["name"] == "f")

    def test_empty_npz_and_non_npy_member(self):
        path = os.path.join(self.tmp, "empty.npz")
        np.savez(path)
        got = self.show(path)
        self.assertEqual(got["members"], [])
        path = os.path.join(self.tmp, "mixed.npz")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "hello")
            with zf.open("x.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.arange(3))
        got = self.show(path)
        self.assertEqual([m["name"] for m in got["members"]], ["readme.txt", "x"])
        self.assertIsNone(got["members"][0]["version"])
        self.assertEqual(got["members"][1]["count"], 3)

    def test_human_output(self):
        path = self.save("arr.npy", np.arange(10, dtype="<i2").reshape(2, 5))
        r = self.dsm("show", "arr.npy", expect=0)
        self.assertIn("npy 1.0", r.out)
        self.assertIn("<i2  (2, 5)  C order", r.out)
        self.assertIn("min 0  max 9  mean 4.5", r.out)
        with open(path, "rb") as f:
            self.assertIn(hashlib.sha256(f.read()).hexdigest(), r.out)
        np.savez_compressed("b.npz", x=np.ones(3))
        r = self.dsm("show", "b.npz", expect=0)
        self.assertIn("npz", r.out)
        self.assertIn("member   x: <f8  (3,)  C order", r.out)

    def test_help_has_exit_status(self):
        r = self.dsm("show", "--help", expect=0)
        self.assertIn("EXIT STATUS", r.out)
        self.assertIn("--json", r.out)


if __name__ == "__main__":
    main()
