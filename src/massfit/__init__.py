"""massfit: whole-brain neural mass modelling in JAX."""

import importlib.metadata

from . import (
    datasets as datasets,
    designs as designs,
    io as io,
    metrics as metrics,
    objectives as objectives,
    observation as observation,
    stimuli as stimuli,
    viz as viz,
)
from ._catalogue import describe_model as describe_model, list_models as list_models
from ._connectome import Connectome as Connectome
from ._coupling import (
    AbstractCoupling as AbstractCoupling,
    AbstractSummedCoupling as AbstractSummedCoupling,
    Diffusive as Diffusive,
    KuramotoSine as KuramotoSine,
    Laplacian as Laplacian,
    Linear as Linear,
    Sigmoidal as Sigmoidal,
    SigmoidalJansenRit as SigmoidalJansenRit,
    Tanh as Tanh,
)
from ._feedback_inhibition import feedback_inhibition_weights as feedback_inhibition_weights
from ._fit import (
    cma_es as cma_es,
    differential_evolution as differential_evolution,
    fit as fit,
    FitResult as FitResult,
    FORWARD_MODE_MAX_PARAMS as FORWARD_MODE_MAX_PARAMS,
    l2_prior as l2_prior,
    multistart as multistart,
    MultistartResult as MultistartResult,
)
from ._models import (
    AbstractNodeModel as AbstractNodeModel,
    CoombesByrne as CoombesByrne,
    Epileptor as Epileptor,
    FitzHughNagumo as FitzHughNagumo,
    Generic2dOscillator as Generic2dOscillator,
    Hopf as Hopf,
    JansenRit as JansenRit,
    Kuramoto as Kuramoto,
    LarterBreakspear as LarterBreakspear,
    LinearNode as LinearNode,
    Lorenz as Lorenz,
    MontbrioPazoRoxin as MontbrioPazoRoxin,
    param as param,
    ReducedWongWang as ReducedWongWang,
    ReducedWongWangExcInh as ReducedWongWangExcInh,
    StuartLandau as StuartLandau,
    ThresholdLinear as ThresholdLinear,
    VanDerPol as VanDerPol,
    WilsonCowan as WilsonCowan,
    WilsonCowanAdaptive as WilsonCowanAdaptive,
    WilsonCowanDivisive as WilsonCowanDivisive,
    WilsonCowanLinear as WilsonCowanLinear,
    WilsonCowanThreePopulation as WilsonCowanThreePopulation,
    WongWang as WongWang,
)
from ._network import Network as Network
from ._noise import (
    AbstractNoise as AbstractNoise,
    AdditiveNoise as AdditiveNoise,
    MultiplicativeNoise as MultiplicativeNoise,
    OrnsteinUhlenbeckNoise as OrnsteinUhlenbeckNoise,
    PowerLawNoise as PowerLawNoise,
)
from ._params import (
    AbstractConstraint as AbstractConstraint,
    Bounded as Bounded,
    get_by_path as get_by_path,
    parameter_paths as parameter_paths,
    Positive as Positive,
    select as select,
    unwrap as unwrap,
)
from ._solve import (
    AbstractDelaySolver as AbstractDelaySolver,
    Euler as Euler,
    Heun as Heun,
    History as History,
    NetworkTerm as NetworkTerm,
    RK4 as RK4,
    simulate as simulate,
    Trajectory as Trajectory,
)
from ._sweep import sweep as sweep, SweepPoint as SweepPoint, SweepResult as SweepResult
from .observation import BOLD as BOLD, LeadField as LeadField


__version__ = importlib.metadata.version("massfit")
