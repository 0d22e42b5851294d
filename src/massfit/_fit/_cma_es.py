"""CMA-ES: the (mu/mu_w, lambda) covariance matrix adaptation evolution strategy."""

import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, PyTree

from .._errors import check_int, check_key
from .._execute import population_sharding
from ._loop import Callback
from ._population import (
    AbstractStrategy,
    ravel,
    run_population,
)
from ._problem import make_problem
from ._result import FitResult


class CMAState(eqx.Module):
    mean: Array
    sigma: Array
    cov: Array
    p_sigma: Array
    p_c: Array
    generation: Array
    key: Array


class _CMAES(AbstractStrategy):
    """CMA-ES with the default parameters of Hansen, "The CMA Evolution Strategy: A Tutorial"
    (arXiv:1604.00772, 2016), Table 1: weighted recombination of the best half, cumulative
    step-size adaptation, rank-one and rank-mu covariance updates."""

    population_size: int = eqx.field(static=True)
    sigma0: float = eqx.field(static=True)
    weights: Array
    mu_eff: float = eqx.field(static=True)
    c_sigma: float = eqx.field(static=True)
    d_sigma: float = eqx.field(static=True)
    c_c: float = eqx.field(static=True)
    c_1: float = eqx.field(static=True)
    c_mu: float = eqx.field(static=True)
    chi_n: float = eqx.field(static=True)

    def __init__(self, n: int, population_size: int, sigma0: float, dtype: Any):
        lam = population_size
        mu = lam // 2
        w = np.log((lam + 1) / 2) - np.log(np.arange(1, mu + 1))
        w = w / w.sum()
        mu_eff = float(1.0 / np.sum(w**2))
        self.population_size = lam
        self.sigma0 = sigma0
        self.weights = jnp.asarray(w, dtype=dtype)
        self.mu_eff = mu_eff
        self.c_sigma = (mu_eff + 2) / (n + mu_eff + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + self.c_sigma
        self.c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
        self.c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
        self.c_mu = min(1 - self.c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))

    def init(self, x0, key):
        n = x0.shape[0]
        zeros = jnp.zeros_like(x0)
        return CMAState(
            mean=x0,
            sigma=jnp.asarray(self.sigma0, dtype=x0.dtype),
            cov=jnp.eye(n, dtype=x0.dtype),
            p_sigma=zeros,
            p_c=zeros,
            generation=jnp.int32(0),
            key=key,
        )

    def ask(self, state):
        key, sample_key = jr.split(state.key)
        eigenvalues, basis = jnp.linalg.eigh(state.cov)
        scales = jnp.sqrt(jnp.maximum(eigenvalues, jnp.finfo(eigenvalues.dtype).tiny))
        n = state.mean.shape[0]
        z = jr.normal(sample_key, (self.population_size, n), dtype=state.mean.dtype)
        steps = (z * scales) @ basis.T  # y_k = B D z_k, one row per candidate
        candidates = state.mean + state.sigma * steps
        return candidates, (steps, basis, scales, key)

    def tell(self, state, candidates, losses, context):
        steps, basis, scales, key = context
        n = state.mean.shape[0]
        dtype = state.mean.dtype
        mu = self.weights.shape[0]
        chosen = steps[jnp.argsort(losses)[:mu]]
        step_w = self.weights @ chosen
        mean = state.mean + state.sigma * step_w
        # C^{-1/2} y_w = B D^{-1} B^T y_w
        whitened = basis @ ((basis.T @ step_w) / scales)
        cs, cc, c1, cmu = self.c_sigma, self.c_c, self.c_1, self.c_mu
        p_sigma = (1 - cs) * state.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) * whitened
        norm = jnp.linalg.norm(p_sigma)
        g = (state.generation + 1).astype(dtype)
        h_sigma = (
            norm / jnp.sqrt(1 - (1 - cs) ** (2 * g)) < (1.4 + 2 / (n + 1)) * self.chi_n
        ).astype(dtype)
        p_c = (1 - cc) * state.p_c + h_sigma * math.sqrt(cc * (2 - cc) * self.mu_eff) * step_w
        delta = (1 - h_sigma) * cc * (2 - cc)
        rank_mu = (chosen.T * self.weights) @ chosen
        cov = (1 + c1 * delta - c1 - cmu) * state.cov + c1 * jnp.outer(p_c, p_c) + cmu * rank_mu
        cov = (cov + cov.T) / 2
        sigma = state.sigma * jnp.exp((cs / self.d_sigma) * (norm / self.chi_n - 1))
        return CMAState(
            mean=mean,
            sigma=sigma,
            cov=cov,
            p_sigma=p_sigma,
            p_c=p_c,
            generation=state.generation + 1,
            key=key,
        )

    def decode(self, x):
        return x

    def spread(self, state):
        return state.sigma * jnp.sqrt(jnp.max(jnp.diag(state.cov)))


def cma_es(
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
    sigma0: float = 1.0,
    tol: float = 1e-12,
    shard: bool | str = "auto",
    chunk_size: int | None = None,
    callbacks: Callback | Sequence[Callback] | None = None,
    progress: bool = True,
) -> FitResult:
    """Fit parameters without gradients, by CMA-ES.

    A (mu/mu_w, lambda)-CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial"):
    each generation samples `population_size` candidates from a Gaussian, evaluates **all of
    them in one vmapped call** (or `chunk_size` at a time; the loss is traced once and
    compiled once for the whole run; the population axis is sharded over the host's devices
    when there are several), and
    moves the mean to a weighted average of the best half while adapting the step size
    (cumulative step-size adaptation) and the covariance (rank-one and rank-mu updates).

    **Search space.** The search runs in the *unconstrained* space of the trained leaves:
    for a `Bounded` parameter its logit coordinate `raw` (so every candidate lies inside the
    bounds and no candidate is ever rejected), for `Positive` its inverse softplus, and for a
    plain parameter its value. The search starts at the model's values, with step size
    `sigma0` in those coordinates: `sigma0=1` spans about the middle half of a `Bounded`
    range.

    The loss arguments (`loss_fn` or `objective` + `predict` + `target`, and `penalty`) are
    those of `fit`; the loss is called on the unwrapped model and without a key (close over
    a fixed noise key: all candidates then share the same noise). A candidate whose loss is
    not finite, or whose evaluation raises, is ranked last (with a warning);
    `result.n_nonfinite` counts them per generation.

    **Arguments:**

    - `model`, `trainable`, `loss_fn`, `objective`, `predict`, `target`, `penalty`: as in
        `fit`.
    - `key`: PRNG key for sampling.
    - `n_generations`: the most generations to run.
    - `population_size`: candidates per generation (lambda); default
        `4 + floor(3 ln n)` for `n` trained scalars, rounded up to a multiple of the device
        count when sharding.
    - `sigma0`: initial step size, in the unconstrained coordinates described above.
    - `tol`: stop when `sigma * sqrt(max diag C)` falls below it.
    - `shard`: shard the population over the host's devices: "auto" (when there are
        several), True or False.
    - `chunk_size`: candidates per compiled call, for a population too large to evaluate at
        once (rounded up to a multiple of the device count when sharding); None: the whole
        population in one call. The results do not depend on it.
    - `callbacks`, `progress`: as in `fit`, called once per generation with its best loss.

    **Returns:**

    A `FitResult` (`method="cma_es"`): the best candidate ever evaluated as `model`,
    `best_params`, and per-generation `history` / `param_history` of each generation's best.

    **Example:**

    ```python
    model = Logistic(rate=massfit.Bounded(0.5, 0.01, 5.0), mid=massfit.Bounded(3.0, 0.0, 10.0))
    result = massfit.cma_es(model, trainable=["rate", "mid"], loss_fn=loss_fn,
                            key=jax.random.key(0), n_generations=100)
    ```
    """
    check_key("key", key)
    problem = make_problem(model, trainable, loss_fn, objective, predict, target, penalty)
    x0, unravel = ravel(problem.params)
    n = x0.shape[0]
    if population_size is None:
        population_size = 4 + int(3 * math.log(n))
    check_int("population_size", population_size, 4)
    if not (isinstance(sigma0, (int, float)) and sigma0 > 0):
        raise ValueError(f"`sigma0` must be a number > 0; got {sigma0!r}.")
    sharding, population_size = population_sharding(shard, population_size, round_up=True)
    strategy = _CMAES(n, population_size, float(sigma0), x0.dtype)
    return run_population(
        problem,
        unravel,
        strategy,
        x0,
        key=key,
        n_generations=n_generations,
        tol=tol,
        sharding=sharding,
        chunk_size=chunk_size,
        callbacks=callbacks,
        progress=progress,
        method="cma_es",
    )
