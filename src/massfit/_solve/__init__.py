"""The solve: the network as a diffrax term, the delay history and delays, the delay solvers
(one file each) and `simulate`."""

from ._base import (
    AbstractDelaySolver as AbstractDelaySolver,
    DelaySolverState as DelaySolverState,
    Divergence as Divergence,
)
from ._euler import Euler as Euler
from ._heun import Heun as Heun
from ._history import History as History
from ._rk4 import RK4 as RK4
from ._simulate import simulate as simulate, Trajectory as Trajectory
from ._term import NetworkTerm as NetworkTerm
