"""dsm.import_pickle: a safe way off pickles.

A pickle runs whatever globals it names. This reads one with a restricted
Unpickler (Python docs, "Restricting Globals") that finds only NumPy's
array reconstruction and builtin containers and scalars; any other global
(os.system, subprocess.Popen, builtins.eval, numpy.save, ...) is refused by
name when the unpickler meets it, before it can be called and before
anything is stored. What it read is then saved like a nested structure.
"""
import os
import pickle

from ._errors import Error

# (module, name) pairs a pickle of arrays, dicts, lists and scalars needs.
ALLOWED_GLOBALS = frozenset({
    # ndarray.__reduce__ (protocols 0-4) and its dtype.
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    # Protocol 5: arrays from out-of-band or in-band buffers.
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    # NumPy scalars (np.float64(1.5) as a dict value).
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    # Builtin containers and scalars pickled through a global.
    ("builtins", "complex"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
    # Protocol 2 pickles bytes (an array's data) as _codecs.encode(text, "latin1").
    ("_codecs", "encode"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Finds only ALLOWED_GLOBALS; anything else raises dsm.Error naming it."""

    def __init__(self, file, source="<pickle>"):
        super().__init__(file)
        self._source = source

    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise Error(f"refusing {self._source!r}: it calls {module}.{name}, which is not an array, container or "
                    "scalar (dsm's unpickler allows only NumPy arrays, dicts, lists and scalars)")

    def persistent_load(self, pid):
        raise Error(f"refusing {self._source!r}: it holds a persistent id, which dsm's unpickler does not resolve")


def load_restricted(path):
    """The object a pickle file holds, read with RestrictedUnpickler."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return RestrictedUnpickler(f, source=path).load()
    except Error:
        raise
    except OSError as e:
        raise Error(f"cannot read {path!r}: {e.strerror or e}") from None
    except Exception as e:  # a malformed or truncated pickle
        raise Error(f"cannot read {path!r}: not a valid pickle ({type(e).__name__}: {e})") from None


def import_pickle(path, name, repo=None, meta=None, message=None):
    """Reads the pickle at ``path`` (dicts/lists of arrays and scalars, or
    one array) with a restricted unpickler and stores it as ``name``, like
    ``repo.save(name, data)`` (a nested structure: load it back with
    ``repo.load(name, nested=True)``). Returns a Saved. ``repo``: a
    dsm.Repo, by default dsm.Repo(".")."""
    from ._repo import Repo, Saved, _meta_pairs, _store_nested
    import numpy as np

    data = load_restricted(path)
    if repo is None:
        repo = Repo(".")
    if not isinstance(data, (dict, list, tuple, np.ndarray)):
        raise Error(f"cannot import {os.fspath(path)!r}: it holds a {type(data).__name__}, not arrays "
                    "(a dict or list of them, or one array)")
    if message is None:
        message = f"imported from {os.path.basename(os.fspath(path))}"
    if isinstance(data, np.ndarray):
        return repo.save(name, data, meta=meta, message=message)
    # A dict or list, even a list of arrays alone, is stored as a structure.
    return Saved(*_store_nested(repo._r, name, data, _meta_pairs(meta), message, None))
