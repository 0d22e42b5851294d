"""What the population searches share: the ask/tell strategy interface, one vmapped (and
sharded) evaluation of a whole population per generation, and the generation loop."""

import abc
import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec
from jaxtyping import Array, PyTree

from .._errors import describe
from ._loop import Callback, check_callbacks, Tracker
from ._problem import Loss, Problem
from ._result import FitResult


class AbstractStrategy(eqx.Module):
    """A population search over a flat vector `x`, in ask/tell form."""

    population_size: eqx.AbstractVar[int]

    @abc.abstractmethod
    def init(self, x0: Array, key: Array) -> PyTree:
        """The initial search state around the starting point `x0`."""

    @abc.abstractmethod
    def ask(self, state: PyTree) -> tuple[Array, Any]:
        """Candidates `(population_size, n)` to evaluate, and context for `tell`."""

    @abc.abstractmethod
    def tell(self, state: PyTree, candidates: Array, losses: Array, context: Any) -> PyTree:
        """The next state given the candidates' losses (non-finite ones are `inf`)."""

    @abc.abstractmethod
    def decode(self, x: Array) -> Array:
        """The flat vector of trained (unconstrained) leaves that `x` stands for."""

    @abc.abstractmethod
    def spread(self, state: PyTree) -> Array:
        """How far apart the search still is, compared with `tol` to stop."""


def population_sharding(shard: Any, size: int, *, round_up: bool) -> tuple[Any, int]:
    """A sharding of a leading population axis over the host's devices (1-D mesh, `Auto`).

    `shard` is "auto" (shard when there are several devices), True or False. With
    `round_up`, `size` is rounded up to a multiple of the device count; otherwise a size that
    does not divide evenly is not sharded ("auto") or refused (True).
    """
    if shard not in ("auto", True, False):
        raise ValueError(f"`shard` must be 'auto', True or False; got {shard!r}.")
    devices = jax.devices()
    n = len(devices)
    if shard == "auto":
        shard = n > 1
    if not shard:
        return None, size
    if size % n:
        if round_up:
            size = -(-size // n) * n
        elif shard is True and n > 1:
            raise ValueError(f"Cannot shard {size} starts over {n} devices: use a multiple of {n}.")
        else:
            return None, size
    mesh = jax.make_mesh(
        (n,), ("population",), axis_types=(jax.sharding.AxisType.Auto,), devices=devices
    )
    return NamedSharding(mesh, PartitionSpec("population")), size


def check_int(name: str, value: Any, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {describe(value)}.")
    return value


class Unravel(eqx.Module):
    """Rebuilds the trained leaves from a flat vector (a hashable `ravel_pytree` inverse, so
    that compiled generations are reused across calls)."""

    treedef: Any = eqx.field(static=True)
    shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    dtypes: tuple[Any, ...] = eqx.field(static=True)

    def __call__(self, x: Array) -> PyTree:
        sizes = [math.prod(s) for s in self.shapes]
        pieces = jnp.split(x, list(itertools.accumulate(sizes))[:-1])
        leaves = [p.reshape(s).astype(d) for p, s, d in zip(pieces, self.shapes, self.dtypes)]
        return jax.tree.unflatten(self.treedef, leaves)


def ravel(params: PyTree) -> tuple[Array, Unravel]:
    """The trained leaves as one flat vector (in their common dtype), and the way back."""
    leaves, treedef = jax.tree.flatten(params)
    with jax.numpy_dtype_promotion("standard"):
        dtype = jnp.result_type(*leaves)
    x = jnp.concatenate([jnp.ravel(leaf).astype(dtype) for leaf in leaves])
    unravel = Unravel(
        treedef=treedef,
        shapes=tuple(leaf.shape for leaf in leaves),
        dtypes=tuple(leaf.dtype for leaf in leaves),
    )
    return x, unravel


@eqx.filter_jit
def _generation(
    strategy: AbstractStrategy,
    loss: Loss,
    unravel: Unravel,
    sharding: Any,
    state: PyTree,
    static: PyTree,
    target: PyTree,
):
    """One generation: ask, evaluate the whole population in one vmapped call, tell."""

    def evaluate(x):
        return loss(unravel(strategy.decode(x)), static, target, None)

    candidates, context = strategy.ask(state)
    if sharding is not None:
        candidates = jax.lax.with_sharding_constraint(candidates, sharding)
    losses, aux = eqx.filter_vmap(evaluate)(candidates)
    finite = jnp.isfinite(losses)
    losses = jnp.where(finite, losses, jnp.inf)
    state = strategy.tell(state, candidates, losses, context)
    best = jnp.argmin(losses)
    x_best = candidates[best]
    aux_best = jax.tree.map(lambda a: a[best] if eqx.is_array(a) else a, aux)
    physical = loss.physical(unravel(strategy.decode(x_best)), static)
    n_bad = jnp.sum(~finite)
    return state, losses[best], x_best, aux_best, physical, strategy.spread(state), n_bad


def run_population(
    problem: Problem,
    unravel: Unravel,
    strategy: AbstractStrategy,
    x0: Array,
    *,
    key: Array,
    n_generations: int,
    tol: float,
    sharding: Any,
    callbacks: Callback | Sequence[Callback] | None,
    progress: bool,
    method: str,
) -> FitResult:
    """Run a strategy for up to `n_generations`, one compiled call per generation."""
    check_int("n_generations", n_generations, 0)
    callbacks = check_callbacks(callbacks)

    state = strategy.init(x0, key)
    tracker = Tracker(
        problem.paths,
        callbacks=callbacks,
        n_steps=n_generations,
        start=0,
        progress=progress,
        desc=method,
    )
    reason = None
    warned = False
    try:
        for g in range(n_generations):
            new_state, loss, x_best, aux, physical, spread, n_bad = _generation(
                strategy, problem.loss, unravel, sharding, state, problem.static, problem.target
            )
            loss, physical, spread, n_bad = jax.device_get((loss, physical, spread, n_bad))
            loss, n_bad = float(loss), int(n_bad)
            if g == 0 and math.isinf(loss):
                raise ValueError(
                    "Every candidate of the first generation gave a non-finite loss; check "
                    "the model, its bounds and the data."
                )
            if n_bad and not warned:
                warnings.warn(
                    f"{n_bad} candidate(s) of generation {g} gave a non-finite loss; they are "
                    "ranked last.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                warned = True
            stop = tracker.record(g, loss, physical, x_best, aux)
            state = new_state
            if stop:
                reason = f"stopped by a callback at generation {g}"
                break
            if float(spread) < tol:
                if g + 1 < n_generations:
                    reason = f"converged: search spread {float(spread):.3g} < tol at generation {g}"
                break
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        tracker.close()
    if tracker.best_step is None:
        best = problem.model(problem.params)
    else:
        best = problem.model(unravel(strategy.decode(tracker.best_state)))
    return tracker.result(best, stopped_early=reason is not None, reason=reason, method=method)
