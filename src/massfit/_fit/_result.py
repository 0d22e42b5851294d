"""The result of a fit, whatever the method."""

from typing import Any

import equinox as eqx
import numpy as np
from jaxtyping import PyTree


class FitResult(eqx.Module):
    """What `fit`, `cma_es`, `differential_evolution` and `multistart` return.

    **Fields:**

    - `model`: the best model seen, with the trained values restored and constraints kept as
        in the input (`massfit.unwrap(result.model)` gives physical values).
    - `best_loss`: its loss (a Python float). Always finite when any evaluation was; `inf`
        if nothing finite was evaluated (then `model` is the model as given).
    - `best_step`: the step (or generation) at which it was seen; None if none was.
    - `best_params`: physical values of the trained parameters at the best step, by path,
        as NumPy arrays: `result.best_params["k"]`.
    - `history`: the loss per step, a NumPy array (for a gradient fit, the loss at the
        parameters *before* that step's update; for a population search, the best loss of
        each generation, `inf` if every candidate of that generation failed).
    - `param_history`: physical values of the trained parameters per step, by path, each a
        NumPy array with a leading step axis (for a population search: the best candidate of
        each generation).
    - `aux`: the auxiliary output of the loss at the best step (None for a loss without one).
    - `n_steps`: how many steps (or generations) ran, resumed ones included.
    - `stopped_early`: whether the run ended before `n_steps` / `n_generations`.
    - `reason`: why it stopped early (`"interrupted"`, `"stopped by a callback at step 12"`,
        `"non-finite loss at step 40 ..."`, `"converged ..."`), or that every evaluation gave
        a non-finite loss (`"every evaluation ... non-finite ..."`), else None.
    - `method`: `"fit (reverse mode)"`, `"fit (forward mode)"`, `"cma_es"`,
        `"differential_evolution"`, or `"multistart ..."`.
    - `n_nonfinite`: for a population search, how many candidates of each generation gave a
        non-finite loss (or raised), an integer NumPy array with one entry per generation; for
        `multistart`, how many starts did at each step; None for `fit`, which stops at the
        first non-finite loss.
    """

    model: PyTree
    best_loss: float
    best_step: int | None
    best_params: dict[str, np.ndarray]
    history: np.ndarray
    param_history: dict[str, np.ndarray]
    aux: Any
    n_steps: int
    stopped_early: bool
    reason: str | None
    method: str
    n_nonfinite: np.ndarray | None = None


class MultistartResult(eqx.Module):
    """What `multistart` returns: the best fit, and where every start ended.

    **Fields:**

    - `best`: the `FitResult` of the start with the lowest loss.
    - `best_index`: which start that was (start 0 is the model as given).
    - `losses`: the best loss reached by each start, shape `(n_starts,)`.
    - `params`: physical values of the trained parameters at each start's best, by path,
        each with a leading `n_starts` axis.
    - `initial_params`: the same at each start's starting point.
    - `history`: the loss per step and start, shape `(n_steps, n_starts)`.
    """

    best: FitResult
    best_index: int
    losses: np.ndarray
    params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    history: np.ndarray
