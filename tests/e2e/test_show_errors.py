"""dsm show on malformed files: every case of issue 2 / docs/formats.md is
refused with exit status 2 and one line `dsm: error: '<path>': <what>`,
nothing on stdout, never a crash. The fixtures live in tests/data/bad
(written by tests/data/make_fixtures.py); a few more are made here."""
import os
import re
import struct
import warnings
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import DATA_DIR, DsmTestCase, main, np  # noqa: E402

BAD = os.path.join(DATA_DIR, "bad")
GOOD = os.path.join(DATA_DIR, "good")

# What each fixture's message must say (a fragment).
EXPECT = {
    "bad_magic.npy": "bad magic",
    "descr_malformed.npy": "descr",
    "descr_unknown.npy": "unknown descr '<q7'",
    "duplicate_key.npy": "duplicate key 'shape'",
    "empty_file.npy": "empty file",
    "extra_key.npy": "unexpected key 'x'",
    "fortran_order_int.npy": "fortran_order is not a bool",
    "header_call.npy": "not a literal",
    "header_expression.npy": "header",
    "header_int.npy": "not a dict literal",
    "header_list.npy": "not a dict literal",
    "header_past_eof.npy": "runs past the end of the file",
    "header_unterminated.npy": "unexpected end",
    "missing_key.npy": "missing key 'fortran_order'",
    "payload_truncated.npy": "truncated payload: expected 16 bytes, found 15",
    "shape_float.npy": "floating-point",
    "shape_list.npy": "shape is not a tuple",
    "shape_negative.npy": "shape is not a tuple of non-negative integers",
    "shape_overflow.npy": "overflows",
    "short_file.npy": "too short",
    "v3_invalid_utf8.npy": "invalid UTF-8",
    "version_1_1.npy": "unsupported .npy version 1.1",
    "version_4.npy": "unsupported .npy version 4.0",
    "zip_bad_crc.npz": "CRC-32 mismatch",
    "zip_corrupt_deflate.npz": "corrupt deflate stream",
    "zip_declared_size_lie.npz": "impossible",
    "zip_encrypted.npz": "encrypted",
    "zip_member_bad_header.npz": "member 'a.npy': header",
    "zip_member_npy_truncated.npz": "member 'a.npy': truncated payload",
    "zip_no_end_record.npz": "end of central directory record not found",
    "zip_overlapping_members.npz": "overlap",
    "zip_truncated.npz": "end of central directory",
    "zip_unsupported_method.npz": "unsupported compression method 12",
}


class ShowErrors(DsmTestCase):
    def assert_refused(self, path, fragment, shown=None):
        for args in (("show", path), ("show", "--json", path)):
            r = self.dsm(*args)
            self.assertEqual(r.rc, 2, r)
            self.assertEqual(r.out, "", r)
            shown_path = shown if shown is not None else path
            m = re.fullmatch(r"dsm: error: '(.*?)': (.+)\n", r.err)
            self.assertIsNotNone(m, r.err)
            self.assertEqual(m.group(1), shown_path)
            self.assertIn(fragment, m.group(2))
            self.assertNotIn("\n", m.group(2))

    def test_every_bad_fixture_is_refused(self):
        names = sorted(os.listdir(BAD))
        self.assertEqual(set(names), set(EXPECT), "every fixture has an expectation and vice versa")
        for name in names:
            with self.subTest(name=name):
                self.assert_refused(os.path.join(BAD, name), EXPECT[name])

    def test_numpy_refuses_them_too(self):
        # The fixtures are malformed for NumPy as well. One exception: Python's
        # zipfile does not compare the inflated size with the declared one,
        # so NumPy loads zip_declared_size_lie.npz; dsm checks sizes (a lying
        # size is how zip bombs hide) and refuses it.
        for name in sorted(set(os.listdir(BAD)) - {"zip_declared_size_lie.npz"}):
            with self.subTest(name=name):
                path = os.path.join(BAD, name)
                with self.assertRaises(Exception), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with open(path, "rb") as f, np.load(f) as z:
                        for k in z.files:
                            z[k]

    def test_good_fixtures_are_accepted(self):
        for name in sorted(os.listdir(GOOD)):
            with self.subTest(name=name):
                self.dsm("show", "--json", os.path.join(GOOD, name), expect=0)

    def test_relative_path_is_quoted_as_given(self):
        os.makedirs("sub")
        with open("sub/x.npy", "wb") as f:
            f.write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}")
        self.assert_refused("sub/x.npy", "header", shown="sub/x.npy")

    def test_not_an_array_file_and_missing_file_and_directory(self):
        with open("text.npy", "w") as f:
            f.write("hello world\n")
        self.assert_refused("text.npy", "not a .npy or .npz file")
        r = self.dsm("show", "missing.npy")
        self.assertEqual(r.rc, 2)
        self.assertRegex(r.err, r"^dsm: error: cannot open '.*missing.npy': No such file or directory\n$")
        os.makedirs("d.npy")
        r = self.dsm("show", "d.npy")
        self.assertEqual(r.rc, 2)
        self.assertIn("directory", r.err)

    def test_truncation_at_every_length(self):
        """Every prefix of a valid .npy and .npz is refused cleanly (or, for
        .npy, accepted only when complete)."""
        a = self.save("whole.npy", np.arange(6, dtype="<i2"))
        np.savez_compressed("whole.npz", a=np.arange(20.0), b=np.ones(3, dtype="u1"))
        for src in ("whole.npy", "whole.npz"):
            with open(src, "rb") as f:
                data = f.read()
            for n in range(0, len(data), max(1, len(data) // 25)):
                with self.subTest(src=src, n=n):
                    with open("cut.bin", "wb") as f:
                        f.write(data[:n])
                    r = self.dsm("show", "cut.bin")
                    self.assertEqual(r.rc, 2, r)
                    self.assertRegex(r.err, r"^dsm: error: 'cut.bin': [^\n]+\n$")
        del a

    def test_huge_declared_sizes_do_not_allocate(self):
        # 4 GiB header length (v2) on a tiny file, and a shape asking for
        # exabytes: refused at once, no allocation, no crash.
        with open("hl.npy", "wb") as f:
            f.write(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}")
        self.assert_refused("hl.npy", "exceeds the limit")
        with open("big.npy", "wb") as f:
            h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846975,)}"
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)
        self.assert_refused("big.npy", "")


if __name__ == "__main__":
    main()
