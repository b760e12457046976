"""dsm.Repo: the Python face of dsm::api::Repo (src/python/module.cpp)."""
import ast
import hashlib
import io
import json
import math
import os
import threading
import zipfile

import numpy as np
from numpy.lib import format as npformat

from . import _dsm, _nested
from ._errors import Error, IntegrityError


# dsm parsed and checked a stored header before NumPy maps the file: NumPy's
# own cap (10,000 bytes since 1.24) would refuse wide structured dtypes.
_HEADER_CAP = {"max_header_size": 1 << 20} if "max_header_size" in np.load.__code__.co_varnames else {}


def _main_thread():
    # Only the main thread gets signals: there a save or load in C++ stops at
    # Ctrl-C (KeyboardInterrupt) instead of running to its end.
    return threading.current_thread() is threading.main_thread()


def _descr_of(dtype):
    """NumPy's header descr: '<f8' for a simple dtype, the repr of the list
    for a structured one (what np.save writes)."""
    descr = npformat.dtype_to_descr(dtype)
    return descr if isinstance(descr, str) else repr(descr)


def _dtype_of(descr):
    if descr[:1] in ("[", "{", "("):
        return npformat.descr_to_dtype(ast.literal_eval(descr))
    return np.dtype(descr)


def _yaml_value(key, value):
    """A meta value as the YAML text build_meta reads (JSON is YAML)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise Error(f"invalid meta value for {key!r}: {e}") from None


def _meta_pairs(meta):
    if meta is None:
        return []
    if not isinstance(meta, dict):
        raise Error(f"meta must be a dict of str -> value, not {type(meta).__name__}")
    pairs = []
    for key, value in meta.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise Error(f"invalid meta key {key!r}: a non-empty string without '='")
        pairs.append((key, _yaml_value(key, value)))
    return pairs


def _compress_level(compress):
    if compress is None or compress is False:
        return None
    if compress is True:
        return -1
    if isinstance(compress, int) and -1 <= compress <= 12:
        return int(compress)
    raise Error(f"invalid compress {compress!r}: False, True or a level")


def _chunk_bytes(chunk_size):
    if chunk_size is None:
        return None
    if isinstance(chunk_size, str):
        return _dsm.parse_size(chunk_size)
    if isinstance(chunk_size, int) and not isinstance(chunk_size, bool) and chunk_size > 0:
        return chunk_size
    raise Error(f"invalid chunk_size {chunk_size!r}: bytes, or a size like '512MiB'")


def _short(sha):
    return sha[:12] + "…" if len(sha) > 12 else sha


class Saved:
    """What a save stored: ``name``, ``version`` (its sequence number),
    ``path`` (the payload, absolute, as ``dsm add`` prints it) and
    ``sha256`` (of the .npy or .npz that was saved)."""

    __slots__ = ("name", "version", "path", "sha256")

    def __init__(self, name, version, path, sha256):
        self.name, self.version, self.path, self.sha256 = name, version, path, sha256

    def __iter__(self):
        return iter((self.name, self.version, self.path, self.sha256))

    def __eq__(self, other):
        return isinstance(other, Saved) and tuple(self) == tuple(other)

    def __repr__(self):
        return f"Saved({self.name}@{self.version}, path={self.path!r}, sha256={_short(self.sha256)})"


class Info(dict):
    """A version's sidecar as a dict (name, version, descr, shape, stats,
    meta, message, created, author, ...), plus ``path`` (absolute) and
    ``dtype`` (the descr, for a single array)."""

    def __repr__(self):
        what = self.get("format", "?")
        if "dtype" in self:
            what = f"{self['dtype']} {tuple(self.get('shape') or ())}"
        elif self.get("members"):
            what = "npz of " + ", ".join(m.get("name", "?") for m in self["members"][:6])
            if len(self["members"]) > 6:
                what += ", …"
        parts = [f"{self.get('name')}@{self.get('version')}", what, f"{self.get('size', 0):,} bytes"]
        if self.get("created"):
            parts.append(f"created {self['created']}")
        if self.get("message"):
            parts.append(f"message {self['message']!r}")
        meta = {k: v for k, v in (self.get("meta") or {}).items() if k != _nested.NESTED_KEY}
        if meta:
            text = repr(meta)
            parts.append("meta " + (text if len(text) <= 120 else text[:119] + "…}"))
        return "Info(" + ", ".join(parts) + ")"

    def _repr_pretty_(self, p, cycle):  # IPython / Jupyter
        p.text(repr(self))


class VerifyResult:
    """``ok`` (bool), ``problems`` (list of (path, problem) with the problem
    as ``dsm verify`` tags it: "FAILED: ...", "MISSING", ...), ``checked``."""

    __slots__ = ("ok", "problems", "checked")

    def __init__(self, ok, problems, checked):
        self.ok, self.problems, self.checked = ok, problems, checked

    def __bool__(self):
        return self.ok

    def __repr__(self):
        head = f"VerifyResult(ok={self.ok}, checked={self.checked}, problems={len(self.problems)})"
        return head + "".join(f"\n  {problem.split(':')[0]} {path}" for path, problem in self.problems[:20])


class ChunkedArray:
    """A chunked version opened with ``mmap_mode``: ``shape``, ``dtype``,
    ``ndim``, ``len()`` and slicing that maps only the chunk files a slice
    touches (each checked against its SHA-256 the first time, with
    verification). ``np.asarray(c)`` reads it all."""

    def __init__(self, repo, described, sidecar, mmap_mode, verify):
        self._repo = repo
        self._target = f"{described['name']}@{described['version']}"
        self._dir = described["path"]
        self.dtype = _dtype_of(described["descr"])
        self.shape = tuple(described["shape"])
        self._fortran = described["fortran_order"]
        self._axis = sidecar.get("chunk_axis", 0)
        self._chunks = sidecar["chunks"]
        self._mmap_mode = mmap_mode
        self._verify = verify
        self._open = {}

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
    nbytes = property(lambda self: self.size * self.dtype.itemsize)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return (f"ChunkedArray({self._target}, shape={self.shape}, dtype={self.dtype}, "
                f"{len(self._chunks)} chunks along axis {self._axis})")

    def __array__(self, dtype=None):
        out = self._repo.load(self._target, verify=self._verify)
        return out if dtype is None else out.astype(dtype)

    def _chunk(self, i):
        if i not in self._open:
            c = self._chunks[i]
            path = os.path.join(self._dir, c["file"])
            if self._verify:
                with open(path, "rb") as f:
                    got = hashlib.file_digest(f, "sha256").hexdigest()
                if got != c["sha256"]:
                    raise IntegrityError(f"'{path}' does not match its recorded SHA-256 (recorded {c['sha256']}, "
                                         f"read {got}); run 'dsm verify'", path=path,
                                         expected_sha256=c["sha256"], actual_sha256=got)
            a = np.load(path, mmap_mode=self._mmap_mode, allow_pickle=False, **_HEADER_CAP)
            rows = c["rows"][1] - c["rows"][0]
            if a.dtype != self.dtype or a.shape[self._axis] != rows:
                raise IntegrityError(f"'{path}': its header disagrees with its sidecar; run 'dsm verify'", path=path)
            self._open[i] = a
        return self._open[i]

    def _rows(self, lo, hi):
        """Rows [lo, hi) along the chunk axis, from the chunks they touch."""
        parts = []
        for i, c in enumerate(self._chunks):
            b, e = c["rows"]
            if e <= lo or b >= hi:
                continue
            sl = [slice(None)] * self.ndim
            sl[self._axis] = slice(max(lo, b) - b, min(hi, e) - b)
            parts.append(self._chunk(i)[tuple(sl)])
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts, axis=self._axis)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        if any(k is None for k in key) or sum(k is Ellipsis for k in key) > 1:
            return np.asarray(self)[key]
        if Ellipsis in key:
            i = key.index(Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1:]
        key = key + (slice(None),) * (self.ndim - len(key))
        if len(key) > self.ndim:
            raise IndexError(f"too many indices for an array of {self.ndim} dimensions")
        k = key[self._axis]
        n = self.shape[self._axis]
        rest = list(key)
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            r = int(k) + n if k < 0 else int(k)
            if not 0 <= r < n:
                raise IndexError(f"index {k} is out of bounds for axis {self._axis} with size {n}")
            rest[self._axis] = 0
            return self._rows(r, r + 1)[tuple(rest)]
        if isinstance(k, slice):
            rows = range(*k.indices(n))
            if len(rows) == 0:
                return np.empty(self.shape, self.dtype)[key]
            lo, hi = min(rows), max(rows) + 1
            block = self._rows(lo, hi)
            rest[self._axis] = slice(rows.start - lo, (rows.stop - lo) if rows.stop - lo >= 0 else None, rows.step)
            return block[tuple(rest)]
        return np.asarray(self)[key]


class Repo:
    """The dsm repository around a path (any directory in its git work
    tree). Raises dsm.Error when there is none."""

    def __init__(self, path="."):
        self._r = _dsm.Repo(os.fspath(path))

    @property
    def root(self):
        """The repository's root directory (absolute str)."""
        return self._r.root

    def __repr__(self):
        return f"dsm.Repo({self.root!r})"

    # Saving -----------------------------------------------------------------

    def save(self, name, data, meta=None, message=None, compress=False, chunk_size=None, allow_pickle=False):
        """Store ``data`` as the next version of ``name``; returns a Saved.

        ``data`` is an array (anything ``np.save`` takes: stored byte for byte
        as ``np.save`` writes it), or a nested structure (dicts and lists of
        arrays and scalars: an .npz plus meta, see docs/python.md).
        ``meta``: dict of str -> JSON-like value (the sidecar's meta).
        ``message``: like ``dsm add --message``. ``compress``: True (auto) or
        a level, like ``--compress``. ``chunk_size``: bytes or "512MiB",
        like ``--chunk-size``. ``allow_pickle``: store object arrays anyway
        (they run code when loaded). Concurrent saves get distinct versions;
        Ctrl-C during a save leaves nothing behind.
        """
        return Saved(*_store(self._r, name, data, meta, message, compress, chunk_size, allow_pickle))

    def batch(self):
        """A Batch: many saves stored as one transaction (one lock, one
        manifest write, one round of disk syncs), for loops of small saves::

            with repo.batch() as b:
                for i, a in enumerate(arrays):
                    b.save("runs/loss", a, meta={"step": i})
            b.saved  # the Saved of each, in order

        All or nothing: an exception inside the ``with`` stores none of them.
        """
        return Batch(self)

    # Loading ----------------------------------------------------------------

    def load(self, target, mmap_mode=None, verify=True, nested=False, allow_pickle=False):
        """The array stored as ``target``: NAME (latest), NAME@VERSION or a
        payload path.

        With ``verify`` (the default) the SHA-256 of the stored bytes is
        checked against the manifest, and dtype, shape and order against
        the sidecar, in the same pass that reads them: a mismatch raises
        dsm.IntegrityError. An .npz of several arrays loads as a dict of
        name -> ndarray (with ``nested=True``, as the structure that was
        saved). ``mmap_mode`` ("r", "c", ...) maps a plain .npy (after
        checking its hash) and opens a chunked version as a ChunkedArray;
        a compressed version is read. ``allow_pickle``: load object arrays.
        """
        d = self._r.describe(os.fspath(target))
        mt = _main_thread()
        if not d["single_array"]:
            raw = self._r.read_stored(d["path"], mt) if verify else _read_file(d["path"])
            with np.load(io.BytesIO(raw), allow_pickle=allow_pickle) as z:
                members = {k: z[k] for k in z.files}
            if nested:
                return _nested.unflatten(members, json.loads(d["sidecar_json"]).get("meta") or {})
            return members
        dtype = _dtype_of(d["descr"])
        if dtype.hasobject:
            if not allow_pickle:
                raise Error(f"refusing to load '{d['path']}': it holds object (pickled) arrays, which run code "
                            "when loaded; pass allow_pickle=True to load it anyway")
            raw = self._r.read_stored(d["path"], mt) if verify else _read_file(d["path"])
            return np.load(io.BytesIO(raw), allow_pickle=True)
        if mmap_mode is not None and d["format"] == "chunks":
            return ChunkedArray(self, d, json.loads(d["sidecar_json"]), mmap_mode, verify)
        if mmap_mode is not None and d["format"] == "npy":
            if verify:
                self._r.check(d["path"], mt)
            a = np.load(d["path"], mmap_mode=mmap_mode, allow_pickle=False, **_HEADER_CAP)
            if verify and (a.dtype != dtype or a.shape != tuple(d["shape"])
                           or (a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous)
                           != d["fortran_order"]):
                raise IntegrityError(f"'{d['path']}': its header disagrees with its sidecar; run 'dsm verify'",
                                     path=d["path"])
            return a
        if not verify and d["format"] == "npy":
            return np.load(d["path"], allow_pickle=False, **_HEADER_CAP)
        out = np.empty(tuple(d["shape"]), dtype=dtype, order="F" if d["fortran_order"] else "C")
        self._r.read_into(d["path"], out, mt)
        return out

    # Describing -------------------------------------------------------------

    def info(self, target):
        """The version's sidecar as a dict (Info), with ``path`` added."""
        return _info(self._r.describe(os.fspath(target)))

    def versions(self, name):
        """Info of every version of ``name``, oldest first."""
        return [_info(d) for d in self._r.versions(name)]

    def datasets(self):
        """The names of every dataset, sorted."""
        return list(self._r.datasets())

    def path(self, target):
        """The payload of ``target`` (absolute str; a chunked version: its directory)."""
        return self._r.describe(os.fspath(target))["path"]

    def verify(self, fast=False):
        """``dsm verify [--fast]`` of the whole repository, as a VerifyResult."""
        ok, problems, checked = self._r.verify(fast, _main_thread())
        return VerifyResult(ok, problems, checked)

    def diff(self, a, b=None, rtol=0, atol=0, equal_nan=False):
        """``dsm diff A [B] --json``: what changed between two versions (or
        .npy/.npz files), as the same dict. ``b`` None: the version before
        ``a``. Tolerance as ``numpy.isclose``; ``d["equal"]`` is the answer."""
        b = "" if b is None else os.fspath(b)
        return json.loads(self._r.diff(os.fspath(a), b, float(rtol), float(atol), bool(equal_nan),
                                       _main_thread()))


def _store(sink, name, data, meta, message, compress, chunk_size, allow_pickle):
    """Hands ``data`` to ``sink`` (the native Repo, or a native Batch: the
    same save_array/save_file) as an array or as a whole .npy/.npz file."""
    pairs = _meta_pairs(meta)
    level = _compress_level(compress)
    chunk = _chunk_bytes(chunk_size)
    if _nested.is_nested(data):
        if chunk is not None:
            raise Error(f"cannot save {name!r}: chunk_size applies to a single array, not a nested structure")
        return _store_nested(sink, name, data, pairs, message, level)
    array = np.asanyarray(data)
    if array.dtype.hasobject:
        if not allow_pickle:
            raise Error(f"refusing to save {name!r}: it holds object (pickled) arrays, which run code when "
                        "loaded; pass allow_pickle=True to store it anyway")
        return _store_npsave(sink, name, array, pairs, message, level, chunk, allow_pickle=True)
    descr = _descr_of(array.dtype)
    try:
        descr.encode("latin1")
    except UnicodeEncodeError:
        # Field names beyond Latin-1: np.save writes a version 3.0 header.
        return _store_npsave(sink, name, array, pairs, message, level, chunk)
    if array.flags.c_contiguous:
        fortran = False
    elif array.flags.f_contiguous:
        fortran = True
    else:
        array, fortran = np.ascontiguousarray(array), False  # np.save writes C order too
    return sink.save_array(name, array, descr, fortran, pairs, message, level, chunk, _main_thread())


def _store_npsave(sink, name, array, pairs, message, level, chunk, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return sink.save_file(name, buf.getbuffer(), pairs, message, level, chunk, allow_pickle, _main_thread())


def _store_nested(sink, name, data, pairs, message, level):
    arrays, scalars, layout = _nested.flatten(name, data)
    keys = {k for k, _ in pairs}
    for path, value in scalars.items():
        if path in keys:
            raise Error(f"cannot save {name!r}: meta key {path!r} is also a path in the structure")
        pairs.append((path, _yaml_value(path, value)))
    pairs.append((_nested.NESTED_KEY, json.dumps(layout, ensure_ascii=False)))
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if level is None else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", compression=method, allowZip64=True) as zf:
        for path, array in arrays.items():
            with zf.open(path + ".npy", "w", force_zip64=True) as f:
                npformat.write_array(f, array, allow_pickle=False)
    return sink.save_file(name, buf.getbuffer(), pairs, message, None, None, False, _main_thread())


class Batch:
    """Many saves, one transaction (``Repo.batch()``). Each ``save`` writes
    its bytes at once, so memory stays flat however many arrays a loop
    saves; leaving the ``with`` block (or ``commit()``) stores them all as
    one ``dsm add`` of many files: versions numbered in save order, one
    lock, one manifest write, one round of disk syncs. An exception inside
    the block, or ``discard()``, stores none of them and removes what was
    written. Every save of a batch takes the ``compress`` and
    ``chunk_size`` of its first save."""

    def __init__(self, repo):
        self._repo = repo
        self._b = repo._r.batch()
        self.saved = None  # the Saved of each save, in order, once committed

    def save(self, name, data, meta=None, message=None, compress=False, chunk_size=None, allow_pickle=False):
        """As ``Repo.save``; the version is known once the batch commits."""
        if self.saved is not None:
            raise Error("this batch is committed; start another with repo.batch()")
        _store(self._b, name, data, meta, message, compress, chunk_size, allow_pickle)

    def __len__(self):
        return len(self._b)

    def commit(self):
        """Stores every save of the batch; returns their Saved, in order."""
        if self.saved is None:
            self.saved = [Saved(*t) for t in self._b.commit(_main_thread())]
        return self.saved

    def discard(self):
        """Stores nothing and removes what the saves wrote."""
        self._b.discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.discard()
        return False

    def __repr__(self):
        state = f"{len(self.saved)} saved" if self.saved is not None else f"{len(self)} pending"
        return f"<dsm.Batch {state} in {self._repo.root!r}>"


def _read_file(path):
    with open(path, "rb") as f:
        return f.read()


def _info(d):
    info = Info(json.loads(d["sidecar_json"]))
    info["path"] = d["path"]
    if d["single_array"]:
        info.setdefault("dtype", d["descr"])
        info["dtype"] = d["descr"]
        info.setdefault("shape", list(d["shape"]))
    return info
