"""Nested structures without pickle: dicts and lists of arrays and scalars.

Rules (docs/python.md, "Nested structures"):
- A dict's keys are strings without "/" and "=" (and not empty); a list or
  tuple is a container whose items are named by their index ("runs/0/x").
- An array leaf (ndarray) becomes an .npz member named by its key path.
- A scalar leaf (int, float, str, bool, None, or a NumPy scalar, stored as
  its Python value) goes in the sidecar's meta under its key path.
- Empty dicts and lists are kept. Tuples come back as lists.
- Anything else (an object, a custom class, bytes, an object array) is
  refused with its key path.
The layout is recorded in meta under "__nested__": the leaves in order,
each with its kind, and the paths that were lists.
"""
import numbers

import numpy as np

from ._errors import Error

NESTED_KEY = "__nested__"


def is_nested(data):
    """True for what save() stores as a nested structure: a dict, or a list or
    tuple holding a dict (a list of numbers is an array, as for np.save)."""
    if isinstance(data, dict):
        return True
    if isinstance(data, (list, tuple)):
        return any(isinstance(x, (dict, list, tuple)) and is_nested(x) for x in data)
    return False


def _scalar(value):
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, np.generic) and not isinstance(value, (np.void, np.object_, np.bytes_)):
        return True, value.item()
    if isinstance(value, numbers.Integral):
        return True, int(value)
    if isinstance(value, numbers.Real):
        return True, float(value)
    return False, None


def flatten(name, data):
    """(arrays {path: ndarray}, scalars {path: value}, layout dict)."""
    arrays, scalars, leaves, lists = {}, {}, [], []

    def where(path):
        return repr(path) if path else "the top level"

    def walk(node, path):
        if isinstance(node, dict):
            if not node:
                leaves.append([path, "dict"])
            for key, value in node.items():
                if not isinstance(key, str):
                    raise Error(f"cannot save {name!r}: key {key!r} at {where(path)} is not a string")
                if not key or "/" in key or "=" in key:
                    raise Error(f"cannot save {name!r}: key {key!r} at {where(path)} is empty or holds '/' or '='")
                if not path and key == NESTED_KEY:
                    raise Error(f"cannot save {name!r}: the key {NESTED_KEY!r} is reserved")
                walk(value, f"{path}/{key}" if path else key)
            return
        if isinstance(node, (list, tuple)):
            lists.append(path)
            if not node:
                leaves.append([path, "list"])
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}" if path else str(i))
            return
        if isinstance(node, np.ndarray):
            if node.dtype.hasobject:
                raise Error(f"cannot save {name!r}: {where(path)} is an object array (pickled Python objects)")
            arrays[path] = node
            leaves.append([path, "array"])
            return
        ok, value = _scalar(node)
        if not ok:
            raise Error(f"cannot save {name!r}: {where(path)} is a {type(node).__name__}, neither an array nor "
                        f"a scalar, string, bool or None")
        scalars[path] = value
        leaves.append([path, "meta"])

    walk(data, "")
    if not arrays:
        raise Error(f"cannot save {name!r}: the structure holds no arrays (store scalars with meta=)")
    layout = {"version": 1, "leaves": leaves, "lists": lists}
    return arrays, scalars, layout


def unflatten(arrays, meta):
    """The structure flatten() took apart, from the .npz members and meta."""
    layout = meta.get(NESTED_KEY)
    if not isinstance(layout, dict) or layout.get("version") != 1:
        return dict(arrays)  # an .npz saved some other way: its members
    lists = set(layout.get("lists", []))
    root = {}

    def put(path, value):
        if path == "":
            return value
        node = root
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        return root

    for path, kind in layout["leaves"]:
        if kind == "array":
            value = arrays[path]
        elif kind == "meta":
            value = meta.get(path)
        else:
            value = {} if kind == "dict" else []
        result = put(path, value)
        if path == "":
            root = result

    def build(node, path):
        if path in lists:
            if isinstance(node, list):
                return node
            return [build(node[str(i)], f"{path}/{i}" if path else str(i)) for i in range(len(node))]
        if isinstance(node, dict):
            return {k: build(v, f"{path}/{k}" if path else k) for k, v in node.items()}
        return node

    return build(root, "")
