"""Observation models: turn network activity into what is measured (BOLD, EEG/MEG, a
subsampled or averaged series), online inside a solver or post hoc over a stored series."""

from ._average import Subsample as Subsample, TemporalAverage as TemporalAverage
from ._base import (
    AbstractObserver as AbstractObserver,
    advance as advance,
    init_carry as init_carry,
    ObserverCarry as ObserverCarry,
    sample_steps as sample_steps,
)
from ._bold import BOLD as BOLD, MS_PER_S as MS_PER_S
from ._connectivity import FC as FC
from ._hrf import (
    AbstractHRF as AbstractHRF,
    DoubleExponentialHRF as DoubleExponentialHRF,
    DoubleGammaHRF as DoubleGammaHRF,
    GammaHRF as GammaHRF,
    GammaMixtureHRF as GammaMixtureHRF,
    HRFConvolution as HRFConvolution,
    VolterraHRF as VolterraHRF,
)
from ._lead_field import LeadField as LeadField
