"""Differential evolution (DE/rand/1/bin) over the box of `Bounded` parameters."""

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, PyTree

from .._errors import check_int, check_key
from .._execute import population_sharding
from .._params import Bounded, is_constraint
from ._loop import Callback
from ._population import (
    AbstractStrategy,
    ravel,
    run_population,
)
from ._problem import make_problem
from ._result import FitResult


class DEState(eqx.Module):
    population: Array
    fitness: Array
    generation: Array
    key: Array


class _DifferentialEvolution(AbstractStrategy):
    """DE/rand/1/bin (Storn & Price 1997) in the unit box `u = (value - lower) / (upper -
    lower)`; a trial coordinate leaving the box is put halfway between its parent and the
    bound it crossed."""

    population_size: int = eqx.field(static=True)
    differential_weight: float = eqx.field(static=True)
    crossover: float = eqx.field(static=True)

    def init(self, x0, key):
        key, sample_key = jr.split(key)
        n = x0.shape[0]
        others = jr.uniform(sample_key, (self.population_size - 1, n), dtype=x0.dtype)
        return DEState(
            population=jnp.concatenate([x0[None], others]),
            fitness=jnp.full((self.population_size,), jnp.inf, dtype=x0.dtype),
            generation=jnp.int32(0),
            key=key,
        )

    def ask(self, state):
        size, n = state.population.shape
        key, pick_key, cross_key, forced_key = jr.split(state.key, 4)

        def pick(k, i):
            others = jr.choice(k, size - 1, (3,), replace=False)
            return others + (others >= i).astype(others.dtype)

        r = jax.vmap(pick)(jr.split(pick_key, size), jnp.arange(size))
        pop = state.population
        mutant = pop[r[:, 0]] + self.differential_weight * (pop[r[:, 1]] - pop[r[:, 2]])
        cross = jr.uniform(cross_key, (size, n)) < self.crossover
        forced = jr.randint(forced_key, (size,), 0, n)
        cross = cross | (jnp.arange(n)[None, :] == forced[:, None])
        trial = jnp.where(cross, mutant, pop)
        trial = jnp.where(trial < 0, pop / 2, trial)
        trial = jnp.where(trial > 1, (pop + 1) / 2, trial)
        # The first generation evaluates the initial population itself.
        trial = jnp.where(state.generation == 0, pop, trial)
        return trial, key

    def tell(self, state, candidates, losses, context):
        better = losses <= state.fitness
        return DEState(
            population=jnp.where(better[:, None], candidates, state.population),
            fitness=jnp.where(better, losses, state.fitness),
            generation=state.generation + 1,
            key=context,
        )

    def decode(self, x):
        eps = jnp.finfo(x.dtype).eps
        u = jnp.clip(x, eps, 1 - eps)
        return jnp.log(u) - jnp.log1p(-u)

    def spread(self, state):
        pop = state.population
        return jnp.max(jnp.max(pop, axis=0) - jnp.min(pop, axis=0))


def differential_evolution(
    model: PyTree,
    *,
    trainable: Any,
    key: Any,
    n_generations: int,
    loss_fn: Callable | None = None,
    objective: Callable | None = None,
    predict: Callable | None = None,
    target: PyTree | None = None,
    penalty: Callable[[PyTree], Any] | None = None,
    population_size: int | None = None,
    differential_weight: float = 0.8,
    crossover: float = 0.9,
    tol: float = 1e-12,
    shard: bool | str = "auto",
    chunk_size: int | None = None,
    callbacks: Callback | Sequence[Callback] | None = None,
    progress: bool = True,
) -> FitResult:
    """Fit `Bounded` parameters without gradients, by differential evolution.

    DE/rand/1/bin (Storn & Price 1997): every member of the population proposes a trial
    mixing it with `a + F (b - c)` for three other random members, and the trial replaces it
    when its loss is no worse. All trials of a generation are evaluated in **one vmapped
    call** (sharded over the host's devices when there are several); the first generation
    evaluates the initial population, whose first member is the model as given and the
    others uniform within the bounds.

    **Search space.** The box of the bounds: every trained parameter must be `Bounded`, and
    the search runs on `u = (value - lower) / (upper - lower)` in `[0, 1]`. A simple, robust
    alternative to `cma_es` when the bounds are meaningful and the loss is rugged.

    **Arguments:**

    - `model`, `trainable`, `loss_fn`, `objective`, `predict`, `target`, `penalty`: as in
        `fit` (the loss is called without a key).
    - `key`: PRNG key.
    - `n_generations`: the most generations to run.
    - `population_size`: members; default `10 n` (at least 10) for `n` trained scalars,
        rounded up to a multiple of the device count when sharding.
    - `differential_weight`: F in `(0, 2]`.
    - `crossover`: the probability CR in `[0, 1]` of taking a mutant coordinate.
    - `tol`: stop when the population's widest spread over a coordinate (in box units)
        falls below it.
    - `shard`, `chunk_size`, `callbacks`, `progress`: as in `cma_es`.

    **Returns:**

    A `FitResult` (`method="differential_evolution"`).
    """
    check_key("key", key)
    problem = make_problem(model, trainable, loss_fn, objective, predict, target, penalty)
    x0, unravel = ravel(problem.params)
    nodes = jax.tree.leaves(problem.params, is_leaf=is_constraint)
    if not all(isinstance(node, Bounded) for node in nodes):
        raise ValueError(
            "differential_evolution searches the box of the bounds, so every trained "
            f"parameter must be Bounded; {list(problem.paths)} include some that are not. Wrap "
            "them, e.g. `eqx.tree_at(lambda m: m.k, model, massfit.Bounded(0.5, 0.0, 2.0))`, "
            "or use `cma_es`."
        )
    n = x0.shape[0]
    if population_size is None:
        population_size = max(10, 10 * n)
    check_int("population_size", population_size, 4)
    if not 0 < differential_weight <= 2:
        raise ValueError(f"`differential_weight` must be in (0, 2]; got {differential_weight!r}.")
    if not 0 <= crossover <= 1:
        raise ValueError(f"`crossover` must be in [0, 1]; got {crossover!r}.")
    sharding, population_size = population_sharding(shard, population_size, round_up=True)
    strategy = _DifferentialEvolution(
        population_size=population_size,
        differential_weight=float(differential_weight),
        crossover=float(crossover),
    )
    return run_population(
        problem,
        unravel,
        strategy,
        jax.nn.sigmoid(x0),
        key=key,
        n_generations=n_generations,
        tol=tol,
        sharding=sharding,
        chunk_size=chunk_size,
        callbacks=callbacks,
        progress=progress,
        method="differential_evolution",
    )
