"""dsm from Python: save, load and verify arrays in a dsm repository.

    import dsm
    repo = dsm.Repo(".")
    s = repo.save("features", arr, meta={"lr": 0.01}, message="baseline")
    a = repo.load("features")            # verified against its SHA-256 as it is read
    a = repo.load("features@3", mmap_mode="r")

A save stores exactly what ``np.save`` would write, as ``dsm add`` would
(payload, sidecar, manifest line, under the repository lock); a load reads
it back and checks it in the same pass. The package is a thin layer over
dsm's C++ API (the ``_dsm`` extension module); docs/python.md is the guide.
"""
from ._errors import Error, IntegrityError
from ._repo import Batch, ChunkedArray, Info, Repo, Saved, VerifyResult
from ._pickle import import_pickle

__all__ = [
    "Error", "IntegrityError", "Repo", "Saved", "Info", "VerifyResult", "ChunkedArray", "Batch",
    "save", "batch", "load", "path", "info", "versions", "datasets", "verify", "import_pickle",
]


def save(name, data, **kwargs):
    """``dsm.Repo(".").save(name, data, ...)``: see :meth:`Repo.save`."""
    return Repo(".").save(name, data, **kwargs)


def batch():
    """``dsm.Repo(".").batch()``: see :meth:`Repo.batch`."""
    return Repo(".").batch()


def load(target, **kwargs):
    """``dsm.Repo(".").load(target, ...)``: see :meth:`Repo.load`."""
    return Repo(".").load(target, **kwargs)


def path(target):
    """``dsm.Repo(".").path(target)``: the payload's absolute path."""
    return Repo(".").path(target)


def info(target):
    """``dsm.Repo(".").info(target)``: the version's sidecar as a dict."""
    return Repo(".").info(target)


def versions(name):
    """``dsm.Repo(".").versions(name)``: info dicts, oldest first."""
    return Repo(".").versions(name)


def datasets():
    """``dsm.Repo(".").datasets()``: every dataset name."""
    return Repo(".").datasets()


def verify(fast=False):
    """``dsm.Repo(".").verify(fast)``: see :meth:`Repo.verify`."""
    return Repo(".").verify(fast=fast)
