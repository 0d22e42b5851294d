from ._base import AbstractNodeModel as AbstractNodeModel, as_param as as_param, param as param
from .hopf import Hopf as Hopf
from .jansen_rit import JansenRit as JansenRit
from .kuramoto import Kuramoto as Kuramoto
from .linear import LinearNode as LinearNode
from .lorenz import Lorenz as Lorenz
from .montbrio import MontbrioPazoRoxin as MontbrioPazoRoxin
from .reduced_wong_wang import ReducedWongWang as ReducedWongWang
from .reduced_wong_wang_exc_inh import ReducedWongWangExcInh as ReducedWongWangExcInh
from .stuart_landau import StuartLandau as StuartLandau
from .threshold_linear import ThresholdLinear as ThresholdLinear
from .wilson_cowan import WilsonCowan as WilsonCowan
from .wong_wang import WongWang as WongWang
