"""The linear node model."""

from typing import ClassVar

from .._custom_types import Parameter, State
from ._base import AbstractNodeModel, param, stack_initial


class LinearNode(AbstractNodeModel):
    r"""A linear node, $\dot x = \gamma x + I_x$, as TVB's `Linear` model (named `LinearNode`
    here because `massfit.Linear` is the linear *coupling*, TVB's `Linear` coupling).

    An isolated node decays as $x(t) = x(0) e^{\gamma t}$ for `gamma < 0`. In a network
    with `coupling=massfit.Linear()` the system is $\dot x = (\gamma I + k W) x + I_{ext}$
    (whatever the delays, at rest): it is stable when every eigenvalue of
    $\gamma I + k W$ has a negative real part (for a delay-free network; delays can move
    that boundary), and then settles at $x^* = -(\gamma I + k W)^{-1} I_{ext}$.

    **Inputs** are added to $\dot x$ (units of `x` per ms).

    **Arguments:**

    - `gamma`: rate, 1/ms; negative for a stable node (TVB's default -10/ms: a 0.1 ms
        decay time).
    - `x0`: initial state, dimensionless (not the fixed point 0).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    gamma: Parameter = param(-10.0)
    x0: Parameter = param(1.0)

    variables: ClassVar[tuple[str, ...]] = ("x",)
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
    units: ClassVar[dict[str, str]] = {
        "gamma": "1/ms", "x0": "dimensionless",
    }
    citation: ClassVar[str] = "TVB Linear (model)"

    def vector_field(self, t, state: State, inputs: State) -> State:
        return self.gamma * state + inputs

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.x0)
