from ._base import AbstractNodeModel as AbstractNodeModel, as_param as as_param, param as param
from .hopf import Hopf as Hopf
from .jansen_rit import JansenRit as JansenRit
from .kuramoto import Kuramoto as Kuramoto
from .montbrio import MontbrioPazoRoxin as MontbrioPazoRoxin
from .stuart_landau import StuartLandau as StuartLandau
from .threshold_linear import ThresholdLinear as ThresholdLinear
from .wilson_cowan import WilsonCowan as WilsonCowan
