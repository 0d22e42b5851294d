from ._base import AbstractNodeModel as AbstractNodeModel, as_param as as_param, param as param
from .coombes_byrne import CoombesByrne as CoombesByrne
from .epileptor import Epileptor as Epileptor
from .fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from .generic_2d_oscillator import Generic2dOscillator as Generic2dOscillator
from .hopf import Hopf as Hopf
from .jansen_rit import JansenRit as JansenRit
from .kuramoto import Kuramoto as Kuramoto
from .larter_breakspear import LarterBreakspear as LarterBreakspear
from .linear import LinearNode as LinearNode
from .lorenz import Lorenz as Lorenz
from .montbrio import MontbrioPazoRoxin as MontbrioPazoRoxin
from .reduced_wong_wang import ReducedWongWang as ReducedWongWang
from .reduced_wong_wang_exc_inh import ReducedWongWangExcInh as ReducedWongWangExcInh
from .stuart_landau import StuartLandau as StuartLandau
from .threshold_linear import ThresholdLinear as ThresholdLinear
from .van_der_pol import VanDerPol as VanDerPol
from .wilson_cowan import (
    WilsonCowan as WilsonCowan,
    WilsonCowanAdaptive as WilsonCowanAdaptive,
    WilsonCowanDivisive as WilsonCowanDivisive,
    WilsonCowanLinear as WilsonCowanLinear,
    WilsonCowanThreePopulation as WilsonCowanThreePopulation,
)
from .wong_wang import WongWang as WongWang
