"""Files written atomically, and the layout that models and fit checkpoints share: one line of
JSON (the header) followed by `eqx.tree_serialise_leaves` data. Nothing is pickled."""

import contextlib
import json
import os
import pathlib
from typing import Any, BinaryIO

import equinox as eqx
from jaxtyping import PyTree


@contextlib.contextmanager
def open_atomically(path: str | os.PathLike):
    """A binary file to write that replaces `path` only once it is complete."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_leaf_file(path: str | os.PathLike, header: dict[str, Any], tree: PyTree) -> None:
    """Write `header` as one line of JSON, then the leaves of `tree`; replaces `path` atomically."""
    with open_atomically(path) as f:
        f.write(json.dumps(header).encode() + b"\n")
        eqx.tree_serialise_leaves(f, tree)


def read_header(f: BinaryIO, kind: str) -> dict[str, Any] | None:
    """The header of a file opened for reading, or None unless it is JSON with `"format": kind`.

    Leaves `f` at the leaves, ready for `eqx.tree_deserialise_leaves(f, like)`.
    """
    try:
        header = json.loads(f.readline())
    except ValueError:  # not JSON, or not text at all
        return None
    if not isinstance(header, dict) or header.get("format") != kind:
        return None
    return header
