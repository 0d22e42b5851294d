"""A ready penalty: a Gaussian (L2) prior on chosen parameters."""

from collections.abc import Callable, Mapping

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PyTree

from .._params import get_by_path, unwrap


def l2_prior(priors: Mapping[str, tuple[ArrayLike, ArrayLike]]) -> Callable[[PyTree], Array]:
    """An L2 penalty pulling parameters towards prior means.

    The penalty is the negative log-density of independent Gaussian priors, up to a constant:

    `penalty(model) = 0.5 * sum_p sum(((value_p - mean_p) / scale_p) ** 2)`

    summed over the listed paths and over the elements of array-valued parameters. It reads
    physical values (constraints are unwrapped), so means and scales are in physical units.

    **Arguments:**

    - `priors`: a mapping from a parameter path (as in `massfit.parameter_paths`) to
        `(mean, scale)`; `scale > 0`, broadcastable to the parameter.

    **Returns:**

    A function `model -> scalar`, to pass as `fit(..., penalty=...)`. An unknown path raises
    a `ValueError` listing the valid ones when the penalty is first called.

    **Example:**

    ```python
    penalty = massfit.l2_prior({"k": (1.0, 0.5), "node.a": (0.0, 1.0)})
    massfit.fit(net, optax.adam(0.05), trainable=["k", "node.a"], ..., penalty=penalty)
    ```
    """
    if not isinstance(priors, Mapping) or not priors:
        raise TypeError(
            "`priors` must be a non-empty mapping {path: (mean, scale)}, e.g. {'k': (1.0, 0.5)}."
        )
    checked = {}
    for path, pair in priors.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"The prior for {path!r} must be a pair (mean, scale); got {pair!r}.")
        mean, scale = pair
        if np.any(np.asarray(scale) <= 0):
            raise ValueError(f"The prior scale for {path!r} must be > 0; got {scale!r}.")
        checked[path] = (mean, scale)

    def penalty(model: PyTree) -> Array:
        model = unwrap(model)
        total = 0.0
        for path, (mean, scale) in checked.items():
            value = unwrap(get_by_path(model, path))
            mean_, scale_ = (jnp.asarray(x, dtype=value.dtype) for x in (mean, scale))
            total = total + 0.5 * jnp.sum(((value - mean_) / scale_) ** 2)
        return jnp.asarray(total)

    return penalty
