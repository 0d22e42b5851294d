"""massfit: whole-brain neural mass modelling in JAX."""

import importlib.metadata

from . import metrics as metrics, objectives as objectives
from ._connectome import Connectome as Connectome
from ._coupling import (
    AbstractCoupling as AbstractCoupling,
    Diffusive as Diffusive,
    KuramotoSine as KuramotoSine,
    Linear as Linear,
    Sigmoidal as Sigmoidal,
    SigmoidalJansenRit as SigmoidalJansenRit,
    Tanh as Tanh,
)
from ._history import History as History
from ._models import (
    AbstractNodeModel as AbstractNodeModel,
    Hopf as Hopf,
    JansenRit as JansenRit,
    Kuramoto as Kuramoto,
    MontbrioPazoRoxin as MontbrioPazoRoxin,
    param as param,
    StuartLandau as StuartLandau,
    ThresholdLinear as ThresholdLinear,
    WilsonCowan as WilsonCowan,
)
from ._network import Network as Network
from ._noise import (
    AbstractNoise as AbstractNoise,
    AdditiveNoise as AdditiveNoise,
    MultiplicativeNoise as MultiplicativeNoise,
    OrnsteinUhlenbeckNoise as OrnsteinUhlenbeckNoise,
)
from ._simulate import simulate as simulate, Trajectory as Trajectory
from ._solver import (
    AbstractDelaySolver as AbstractDelaySolver,
    Euler as Euler,
    Heun as Heun,
    NetworkTerm as NetworkTerm,
    RK4 as RK4,
)


__version__ = importlib.metadata.version("massfit")
