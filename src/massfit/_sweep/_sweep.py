"""`massfit.sweep`: evaluate a function of a model over a design of parameter values."""

import hashlib
import importlib.metadata
import json
import math
import os
import pathlib
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PyTree
from tqdm import tqdm

from .._errors import check_int, describe
from .._execute import evaluate_batch, filler, output_shape, population_sharding
from ._designs import as_design, Design
from ._result import SweepResult
from ._setting import make_setter, Setter, widen_delays


class _PointCall(eqx.Module):
    """`fn` of the model at one point; the model's arrays are traced, not baked in."""

    fn: Callable
    model: PyTree
    setter: Setter

    def __call__(self, values: dict[str, Any]) -> PyTree:
        return self.fn(self.setter(self.model, values))


def sweep(
    fn: Callable[[PyTree], PyTree],
    model: PyTree,
    axes: Any,
    *,
    chunk_size: int = 64,
    directory: str | os.PathLike | None = None,
    shard: bool | str = "auto",
    progress: bool = True,
) -> SweepResult:
    """Evaluate `fn(model)` at every point of a design of parameter values.

    The points are evaluated in chunks of `chunk_size` models, each chunk one compiled,
    vmapped call (compiled once: the last, short chunk is padded), sharded over this
    process's devices; results are copied out chunk by chunk (to host memory, or with
    `directory` to disk), so device memory stays bounded however large the sweep. A chunk
    whose call raises (an `eqx.error_if`, e.g. a delay beyond `Network.max_delay`) is
    evaluated point by point: the points that raise get NaN values and are marked in
    `result.failed`; the sweep goes on.

    **Arguments:**

    - `fn`: a JAX function of the model, returning a pytree of arrays (a metric, an FC, a
        loss, a whole trajectory). It runs under `jit` and `vmap`.
    - `model`: the model (e.g. a `Network`) the design's values are set into.
    - `axes`: a dict `{path: values}` (a product grid; values from `designs.linear`,
        `designs.log` or any sequence) or a design from `massfit.designs` (`grid`, `zipped`,
        `product`, `random`, `latin_hypercube`, `sobol`). Paths are those of
        `massfit.parameter_paths` (globs allowed: a glob sets every parameter it matches).
        Values are physical (a `Bounded` or `Positive` parameter is replaced by the value),
        either one number per point or one value of the parameter's shape per point
        (`(n, N)` for a per-region parameter). A swept network `speed` widens the network's
        `max_delay`/`min_delay` to cover every swept speed.
    - `chunk_size`: models per compiled call (rounded up to a multiple of the device
        count when sharded). Larger is faster until memory runs short.
    - `directory`: where to keep the results (created if missing): one `.npy` per output
        leaf, written row by row as chunks finish, and a record per finished chunk. The
        result's `values` are then those files, memory-mapped, so host memory stays bounded
        however large the outputs. A sweep restarted with the same directory skips the
        chunks already finished and gives bit-identical results; a directory written by a
        different sweep is refused, naming what differs. Without a directory the values are
        kept in host memory.
    - `shard`: "auto" (over the host's devices when there are several), True or False.
    - `progress`: show a progress bar with an ETA.

    With several processes (`jax.distributed.initialize()`), process `p` of `P` evaluates
    chunks `p, p + P, ...`; every process returns the whole result (gathered through
    `directory` when given, otherwise with a collective).

    A sweep stopped with Ctrl-C returns what it has, with a warning (`result.done` marks the
    points evaluated).

    **Returns:**

    A `SweepResult`.

    **Example:**

    ```python
    result = massfit.sweep(
        lambda net: massfit.metrics.fc(massfit.simulate(net, ...)["x"]),
        net,
        {"k": massfit.designs.linear(0.0, 0.05, 11), "speed": massfit.designs.log(1.0, 20.0, 8)},
    )
    ```
    """
    if not callable(fn):
        raise TypeError(f"`fn` must be a function of the model; got {describe(fn)}.")
    design = as_design(axes)
    check_int("chunk_size", chunk_size, 1)
    setter = make_setter(model, design)
    model = widen_delays(model, design, setter)
    call = _PointCall(fn, model, setter)
    sharding, chunk_size = population_sharding(shard, chunk_size, round_up=True)
    n = design.size
    n_chunks = math.ceil(n / chunk_size)
    shape = output_shape(call, design.values(np.arange(1)))
    failed = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    process, n_processes = jax.process_index(), jax.process_count()
    store = None
    if directory is None:
        values = filler(shape, n)
    else:
        values = None  # in the store's files, as rows are written
        manifest = _manifest(fn, model, design, chunk_size, shape)
        store = _Store(pathlib.Path(directory), manifest, shape, n, process, n_processes)

    def put(c, out, bad):
        rows = slice(c * chunk_size, min(n, (c + 1) * chunk_size))
        if store is None:
            for leaf, chunk in zip(jax.tree.leaves(values), jax.tree.leaves(out)):
                leaf[rows] = chunk
        failed[rows], done[rows] = bad, True

    mine = range(process, n_chunks, n_processes)
    bar = tqdm(total=n, disable=not progress, desc="sweep", unit="pt")
    interrupted = False
    try:
        for c in mine:
            bad = store.load(c) if store is not None else None
            if bad is None:
                idx = np.arange(c * chunk_size, min(n, (c + 1) * chunk_size))
                out, bad = evaluate_batch(
                    call, design.values(idx), size=chunk_size, sharding=sharding
                )
                if store is not None:
                    store.write(c, c * chunk_size, out, bad)
            else:
                out = None  # already in the store's files
            put(c, out, bad)
            bar.update(len(bad))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    if interrupted:
        warnings.warn(
            f"The sweep was interrupted: {int(done.sum())} of {n} points evaluated "
            "(`result.done`); the others are NaN."
            + (" Run it again with the same `directory` to go on." if store else ""),
            RuntimeWarning,
            stacklevel=2,
        )
    elif n_processes > 1:
        _gather(store, values, failed, put, n_chunks, chunk_size, n)
    if store is not None:
        values = store.values()
    if failed.any():
        warnings.warn(
            f"{int(failed.sum())} of {n} points raised when evaluated; their values are NaN "
            "(`result.failed` marks them).",
            RuntimeWarning,
            stacklevel=2,
        )
    reshape = lambda x: x.reshape(*design.shape, *x.shape[1:])
    return SweepResult(
        jax.tree.map(reshape, values), reshape(failed), reshape(done), design, model, setter
    )


def _gather(store, values, failed, put, n_chunks, chunk_size, n) -> None:
    """Give every process the chunks the others evaluated."""
    from jax.experimental import multihost_utils

    n_processes = jax.process_count()
    if store is not None:
        multihost_utils.sync_global_devices("massfit.sweep: chunks written")
        for c in range(n_chunks):
            if c % n_processes != jax.process_index():
                bad = store.load(c)
                if bad is None:
                    raise RuntimeError(f"Chunk {c} is missing from {store.root} after the sweep.")
                put(c, None, bad)
        return
    # Each process sends its chunks as (slots, chunk_size, ...) blocks of equal shape.
    slots = math.ceil(n_chunks / n_processes)
    process = jax.process_index()

    def block(x):
        out = np.zeros((slots, chunk_size, *x.shape[1:]), dtype=x.dtype)
        for j, c in enumerate(range(process, n_chunks, n_processes)):
            rows = x[c * chunk_size : min(n, (c + 1) * chunk_size)]
            out[j, : len(rows)] = rows
        return out

    mine = (jax.tree.map(block, values), block(failed))
    gathered = jax.tree.map(np.asarray, multihost_utils.process_allgather(mine))
    for c in range(n_chunks):
        p, j = c % n_processes, c // n_processes
        size = min(n, (c + 1) * chunk_size) - c * chunk_size
        out = jax.tree.map(lambda x: x[p, j, :size], gathered[0])
        put(c, out, gathered[1][p, j, :size])


def _fingerprint(tree: PyTree) -> str:
    leaves, treedef = jax.tree.flatten(tree)
    h = hashlib.sha256(str(treedef).encode())
    for leaf in leaves:
        if eqx.is_array_like(leaf):
            a = np.asarray(leaf)
            h.update(repr((a.shape, str(a.dtype))).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        else:
            h.update(repr(leaf).encode())
    return h.hexdigest()


def _manifest(fn, model, design: Design, chunk_size: int, shape) -> dict[str, Any]:
    """What defines a sweep, for refusing to resume a different one."""
    return {
        "design": design.fingerprint(),
        "paths": list(design.paths),
        "shape": list(design.shape),
        "chunk_size": chunk_size,
        "model": _fingerprint(model),
        "fn": f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}",
        "output": str(jax.tree.map(lambda s: (s.shape, str(s.dtype)), shape)),
        "massfit": importlib.metadata.version("massfit"),
        "layout": "values_<leaf>.npy rows, chunk_<c>.npy failed masks",
    }


def _write_atomically(path: pathlib.Path, write: Callable[[Any], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Store:
    """A sweep directory: `manifest.json`; one preallocated `values_<i>.npy` per output leaf
    (in `jax.tree.leaves` order, NaN until written), whose rows each chunk writes in place as
    it finishes; and one `chunk_<c>.npy` per finished chunk (its `failed` mask), written to a
    temporary file and renamed into place after the chunk's rows are on disk. The chunk
    records are the source of truth: rows of a chunk without one are written again."""

    def __init__(
        self,
        root: pathlib.Path,
        manifest: dict,
        shape: PyTree,
        n: int,
        process: int,
        n_processes: int,
    ):
        self.root = root
        self.shapes = shapes = jax.tree.leaves(shape)
        self.treedef = jax.tree.structure(shape)
        path = root / "manifest.json"
        if process == 0:
            root.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                data = json.dumps(manifest, indent=1).encode()
                _write_atomically(path, lambda f: f.write(data))
        _sync(n_processes, "massfit.sweep: manifest")
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"Cannot read the sweep manifest {path}: {e}.") from None
        differ = sorted(
            k for k in manifest.keys() | found.keys() if manifest.get(k) != found.get(k)
        )
        if differ:
            details = "; ".join(
                f"{k} (directory {found.get(k)!r}, this sweep {manifest.get(k)!r})" for k in differ
            )
            raise ValueError(
                f"The directory {str(root)!r} holds a different sweep (differs in {details}). "
                "Use another directory, or remove it to start afresh."
            )
        if process == 0:
            for i, s in enumerate(self.shapes):
                if not self._leaf(i).exists():
                    _preallocate(self._leaf(i), (n, *s.shape), s.dtype)
        _sync(n_processes, "massfit.sweep: value files")
        # Where each file's rows begin, after its header.
        self.offsets = [np.load(self._leaf(i), mmap_mode="r").offset for i in range(len(shapes))]

    def _leaf(self, i: int) -> pathlib.Path:
        return self.root / f"values_{i}.npy"

    def _path(self, c: int) -> pathlib.Path:
        return self.root / f"chunk_{c:06d}.npy"

    def load(self, c: int) -> np.ndarray | None:
        """The `failed` mask of chunk `c`, or None if it is not finished."""
        path = self._path(c)
        return np.load(path) if path.exists() else None

    def write(self, c: int, start: int, out: PyTree, failed: np.ndarray) -> None:
        # Rows by `pwrite` rather than through a memory map: processes (and hosts sharing
        # the directory) write disjoint byte ranges of the same file.
        for i, chunk in enumerate(jax.tree.leaves(out)):
            chunk = np.ascontiguousarray(chunk, dtype=self.shapes[i].dtype)
            row = chunk[0].nbytes if len(chunk) else 0
            fd = os.open(self._leaf(i), os.O_WRONLY)
            try:
                os.pwrite(fd, chunk.tobytes(), self.offsets[i] + start * row)
                os.fsync(fd)
            finally:
                os.close(fd)
        _write_atomically(self._path(c), lambda f: np.save(f, failed))

    def values(self) -> PyTree:
        """The value files as read-only memory maps."""
        leaves = [np.load(self._leaf(i), mmap_mode="r") for i in range(len(self.shapes))]
        return jax.tree.unflatten(self.treedef, leaves)


def _sync(n_processes: int, name: str) -> None:
    if n_processes > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _preallocate(path: pathlib.Path, shape: tuple[int, ...], dtype: Any) -> None:
    """A `.npy` of `shape` filled with NaN (0 for integers), written in blocks with plain
    writes (a memory map would count the whole file in this process's resident memory) and
    renamed into place (a value file is there whole or not at all)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    header = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
    offset, size = header.offset, header.nbytes
    del header  # the file: its header, then zeros
    if np.issubdtype(dtype, np.inexact):
        block = np.full(max(1, (16 << 20) // np.dtype(dtype).itemsize), np.nan, dtype=dtype)
        with open(tmp, "r+b") as f:
            f.seek(offset)
            for start in range(0, size, block.nbytes):
                f.write(block.tobytes()[: size - start])
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
