#!/usr/bin/python3
"""Writes the small .npy/.npz fixtures in tests/data/ (good/ and bad/).

Deterministic: run it again and the files are byte-identical (zip
timestamps are pinned). Each bad/ file breaks exactly one rule of
docs/formats.md; its name says which. Run: /usr/bin/python3 tests/data/make_fixtures.py
"""
import io
import os
import struct
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(HERE, "good")
BAD = os.path.join(HERE, "bad")
DATE = (2020, 1, 1, 0, 0, 0)


def npy_bytes(a, version=None):
    f = io.BytesIO()
    np.lib.format.write_array(f, a, version=version, allow_pickle=True)
    return f.getvalue()


def raw_npy(header, payload=b"", major=1, pad=True):
    """A .npy with a hand-written header dict text."""
    h = header.encode("latin1" if major < 3 else "utf8") if isinstance(header, str) else header
    if pad:
        prefix = 10 if major == 1 else 12
        total = prefix + len(h) + 1
        h = h + b" " * ((64 - total % 64) % 64) + b"\n"
    if major == 1:
        pre = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h))
    else:
        pre = b"\x93NUMPY" + bytes([major, 0]) + struct.pack("<I", len(h))
    return pre + h + payload


def zip_bytes(members, compress=False, descriptor=False):
    """members: list of (name, bytes). Pinned timestamps; force_zip64 as numpy does."""
    out = io.BytesIO()

    class Unseekable(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return out.write(b)

    target = Unseekable() if descriptor else out
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as f:
                f.write(data)
    return out.getvalue()


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def good():
    write(GOOD, "f8_le.npy", npy_bytes(np.array([1.5, np.nan, -2.0, np.inf])))
    write(GOOD, "i4_be_fortran.npy", npy_bytes(np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3))))
    write(GOOD, "zero_d.npy", npy_bytes(np.array(7, dtype="<u2")))
    write(GOOD, "empty.npy", npy_bytes(np.zeros((0, 3))))
    write(GOOD, "structured.npy", npy_bytes(np.zeros(2, dtype=[("a", "<i4"), (("t", "b"), ">f8", (2,))])))
    write(GOOD, "v3_utf8.npy", npy_bytes(np.zeros(1, dtype=[("\u00e9", "<f4")]), version=(3, 0)))
    write(GOOD, "v2.npy", npy_bytes(np.arange(3, dtype="<i2"), version=(2, 0)))
    write(GOOD, "unpadded.npy", raw_npy("{'descr':'<i2','fortran_order':False,'shape':(2,)}", b"\x01\x00\x02\x00",
                                        pad=False))
    write(GOOD, "trailing_bytes.npy", npy_bytes(np.arange(2, dtype="|u1")) + b"xyz")
    write(GOOD, "object.npy", npy_bytes(np.array([1, "a", None], dtype=object)))
    a, b = npy_bytes(np.arange(5.0)), npy_bytes(np.eye(2, dtype=bool))
    write(GOOD, "stored.npz", zip_bytes([("a.npy", a), ("b.npy", b)]))
    write(GOOD, "deflated.npz", zip_bytes([("a.npy", a), ("b.npy", b)], compress=True))
    write(GOOD, "descriptor.npz", zip_bytes([("a.npy", a), ("b.npy", b)], compress=True, descriptor=True))
    write(GOOD, "non_npy_member.npz", zip_bytes([("notes.txt", b"hello"), ("a.npy", a)]))
    write(GOOD, "utf8_name.npz", zip_bytes([("\u00e9t\u00e9.npy", a)]))
    write(GOOD, "empty.npz", zip_bytes([]))
    # Python writes ZIP64 central directory fields and end records only past
    # 4 GiB or 65535 members; lowering its limits forces them on small files.
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        write(GOOD, "zip64_records.npz", zip_bytes([("a.npy", a), ("b.npy", b)], compress=True))
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits


def bad():
    f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    ok = raw_npy(f8, b"\0" * 16)
    write(BAD, "empty_file.npy", b"")
    write(BAD, "short_file.npy", b"\x93NUM")
    write(BAD, "bad_magic.npy", b"\x93NUMPZ" + ok[6:])
    write(BAD, "version_4.npy", ok[:6] + b"\x04\x00" + ok[8:])
    write(BAD, "version_1_1.npy", ok[:6] + b"\x01\x01" + ok[8:])
    write(BAD, "header_past_eof.npy", ok[:8] + struct.pack("<H", 60000) + ok[10:])
    write(BAD, "header_list.npy", raw_npy("['descr', '<f8']", b"\0" * 16))
    write(BAD, "header_int.npy", raw_npy("12", b"\0" * 16))
    write(BAD, "header_call.npy", raw_npy("dict(descr='<f8', fortran_order=False, shape=(2,))", b"\0" * 16))
    write(BAD, "header_expression.npy", raw_npy("{'descr': '<f' + '8', 'fortran_order': False, 'shape': (2,)}",
                                                b"\0" * 16))
    write(BAD, "missing_key.npy", raw_npy("{'descr': '<f8', 'shape': (2,)}", b"\0" * 16))
    write(BAD, "extra_key.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                                        b"\0" * 16))
    write(BAD, "duplicate_key.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "
                                            "'shape': (2,)}", b"\0" * 16))
    write(BAD, "fortran_order_int.npy", raw_npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", b"\0" * 16))
    write(BAD, "shape_list.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", b"\0" * 16))
    write(BAD, "shape_negative.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}"))
    write(BAD, "shape_float.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}"))
    write(BAD, "shape_overflow.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, "
                                             "'shape': (4294967296, 4294967296)}"))
    write(BAD, "descr_unknown.npy", raw_npy("{'descr': '<q7', 'fortran_order': False, 'shape': (2,)}", b"\0" * 16))
    write(BAD, "descr_malformed.npy", raw_npy("{'descr': [('a',)], 'fortran_order': False, 'shape': (2,)}"))
    write(BAD, "v3_invalid_utf8.npy", raw_npy(b"{'descr': [('\xe9', '<f8')], 'fortran_order': False, 'shape': (2,)}",
                                              b"\0" * 16, major=3))
    write(BAD, "payload_truncated.npy", ok[:-1])
    write(BAD, "header_unterminated.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
                                                  b"\0" * 16))

    a = npy_bytes(np.arange(100.0))
    stored = zip_bytes([("a.npy", a)])
    write(BAD, "zip_truncated.npz", stored[: len(stored) // 2])
    write(BAD, "zip_no_end_record.npz", stored[:-22])
    i = stored.index(a) + len(a) - 3  # a payload byte of the stored member
    write(BAD, "zip_bad_crc.npz", stored[:i] + bytes([stored[i] ^ 0xFF]) + stored[i + 1:])
    deflated = zip_bytes([("a.npy", a)], compress=True)
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    comp = body.compress(a) + body.flush()
    j = deflated.index(comp) + 2
    write(BAD, "zip_corrupt_deflate.npz", deflated[:j] + b"\xff\xff\xff" + deflated[j + 3:])
    write(BAD, "zip_member_npy_truncated.npz", zip_bytes([("a.npy", a[:-8])]))
    write(BAD, "zip_member_bad_header.npz", zip_bytes([("a.npy", raw_npy("{'descr': 'x'}"))]))
    # A deflated member whose declared size is far beyond what its bytes can inflate to.
    cd = deflated.rindex(b"PK\x01\x02")
    usize_at = cd + 24
    bomb = bytearray(deflated)
    bomb[usize_at:usize_at + 4] = struct.pack("<I", 0xFFFFFFF0)
    write(BAD, "zip_declared_size_lie.npz", bytes(bomb))
    # Two central directory entries pointing at the same local header.
    zb = zip_bytes([("a.npy", a), ("b.npy", a)])
    cds = [k for k in range(len(zb)) if zb.startswith(b"PK\x01\x02", k)]
    overlap = bytearray(zb)
    off_a = struct.unpack_from("<I", zb, cds[0] + 42)[0]
    overlap[cds[1] + 42:cds[1] + 46] = struct.pack("<I", off_a)
    write(BAD, "zip_overlapping_members.npz", bytes(overlap))
    enc = bytearray(stored)
    cd = stored.rindex(b"PK\x01\x02")
    enc[cd + 8] |= 1
    write(BAD, "zip_encrypted.npz", bytes(enc))
    bz = bytearray(stored)
    bz[cd + 10:cd + 12] = struct.pack("<H", 12)
    write(BAD, "zip_unsupported_method.npz", bytes(bz))


if __name__ == "__main__":
    good()
    bad()
