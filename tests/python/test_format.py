"""Round trips over the dtypes and layouts NumPy's own
numpy/lib/tests/test_format.py uses, each saved file compared byte for byte
with what np.save writes, and each load compared with np.load of it."""
import io

import numpy as np
import pytest

import dsm

SCALARS = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
           np.float32, np.float64, np.complex64, np.complex128]


def basic_arrays():
    out = []
    for scalar in SCALARS:
        for endian in "<>":
            dtype = np.dtype(scalar).newbyteorder(endian)
            basic = np.arange(1500).astype(dtype)
            out += [
                (f"{dtype.str}-empty", np.array([], dtype=dtype)),
                (f"{dtype.str}-0d", np.array(10, dtype=dtype)),
                (f"{dtype.str}-1d", basic),
                (f"{dtype.str}-2d", basic.reshape((30, 50))),
                (f"{dtype.str}-fortran", basic.reshape((30, 50)).T),
                (f"{dtype.str}-strided", basic.reshape((30, 50))[::-1, ::2]),
            ]
    return out


# test_format.py's record arrays (Pdescr, Ndescr) and the nested subarray.
PDESCR = [("x", "i4", (2,)), ("y", "f8", (2, 2)), ("z", "u1")]
PBUFFER = [([3, 2], [[6.0, 4.0], [6.0, 4.0]], 8), ([4, 3], [[7.0, 5.0], [7.0, 5.0]], 9)]
NDESCR = [("x", "i4", (2,)),
          ("Info", [("value", "c16"), ("y2", "f8"),
                    ("Info2", [("name", "S2"), ("value", "c16", (2,)), ("y3", "f8", (2,)), ("z3", "u4", (2,))]),
                    ("name", "S2"), ("z2", "b1")]),
          ("color", "S2"), ("info", [("Name", "U8"), ("Value", "c16")]), ("y", "f8", (2, 2)), ("z", "u1")]


def filled(dtype, n, seed):
    a = np.zeros(n, dtype=dtype)
    raw = np.random.default_rng(seed).integers(0, 256, a.nbytes, dtype=np.uint8)
    a.view(np.uint8)[:] = raw
    return a


def record_arrays():
    out = [
        ("P<", np.array(PBUFFER, dtype=np.dtype(PDESCR).newbyteorder("<"))),
        ("P>", np.array(PBUFFER, dtype=np.dtype(PDESCR).newbyteorder(">"))),
        ("N<", filled(np.dtype(NDESCR).newbyteorder("<"), 2, 1)),
        ("N>", filled(np.dtype(NDESCR).newbyteorder(">"), 2, 2)),
        ("subarray", np.zeros(1, dtype=[("c", ("<f8", (5,)), (2,))])),
        # Padding between fields (test_format's aligned/offset dtypes).
        ("aligned", filled(np.dtype([("a", "i1"), ("b", "i8")], align=True), 5, 3)),
        ("offsets", filled(np.dtype({"names": ["a", "b"], "formats": ["i1", "<f4"], "offsets": [0, 8],
                                     "itemsize": 16}), 4, 4)),
        # Field names beyond Latin-1: np.save writes a version 3.0 header.
        ("unicode-names", np.zeros(3, dtype=[("σ", "<i4"), ("дата", "<f8")])),
        # A header over 64 KiB: version 2.0 (test_large_header's cousin).
        ("large-header", np.zeros(2, dtype=[(f"field_{i:05d}", "<i2") for i in range(6000)])),
    ]
    return out


def other_arrays():
    return [
        ("bool", np.array([True, False, True])),
        ("bytes", np.array([b"ab", b"c", b""], dtype="S3")),
        ("unicode", np.array(["héllo", "x"], dtype="<U5")),
        ("unicode-be", np.array(["héllo", "x"], dtype=">U5")),
        ("void", filled(np.dtype("V7"), 3, 5)),
        ("datetime", np.array(["2023-01-20", "NaT"], dtype="datetime64[D]")),
        ("timedelta", np.array([1, -2], dtype=">m8[s]")),
        ("float16", np.arange(7, dtype=np.float16)),
        ("longdouble", np.arange(5, dtype=np.longdouble)),
        ("clongdouble", np.arange(5, dtype=np.clongdouble)),
        ("3d-fortran", np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))),
        ("empty-2d", np.zeros((0, 5))),
        ("empty-fortran", np.asfortranarray(np.zeros((3, 0)))),
        ("0d-struct", np.array((1, 2.0), dtype=[("a", "<i4"), ("b", "<f8")])),
        ("nonnative-0d", np.array(3.5, dtype=">f8")),
        ("list-input", [[1, 2], [3, 4]]),
        ("scalar-input", 7.25),
        ("matrix", np.asmatrix(np.array([[1, 2], [3, 4]]))),
    ]


CASES = [(f"c{i:03d}-{label}", a) for i, (label, a) in enumerate(basic_arrays() + record_arrays() + other_arrays())]


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    from conftest import make_repo
    d = tmp_path_factory.mktemp("format") / "work"
    make_repo(d, mp)
    yield dsm.Repo(d)
    mp.undo()


@pytest.mark.parametrize("label,array", CASES, ids=[c[0] for c in CASES])
def test_bit_identical_to_np_save_and_round_trip(shared_repo, label, array):
    buf = io.BytesIO()
    np.save(buf, array)
    expected = buf.getvalue()
    name = "fmt/" + label.split("-")[0]
    s = shared_repo.save(name, array)
    with open(s.path, "rb") as f:
        stored = f.read()
    assert stored == expected
    # np.load of a real file reads raw bytes (padding included), as dsm does;
    # dsm checked the header itself, so a 64 KiB+ one is fine.
    ref = np.load(s.path, max_header_size=1 << 20)
    back = shared_repo.load(name)
    assert back.dtype == ref.dtype and back.shape == ref.shape
    assert back.flags.f_contiguous == ref.flags.f_contiguous and back.flags.c_contiguous == ref.flags.c_contiguous
    assert back.tobytes(order="A") == ref.tobytes(order="A")
    if ref.size and ref.ndim:
        m = shared_repo.load(name, mmap_mode="r")
        assert m.dtype == ref.dtype and m.tobytes(order="A") == ref.tobytes(order="A")
