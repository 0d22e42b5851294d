"""Plots of massfit's objects with matplotlib (an optional extra: `pip install "massfit[viz]"`).

Every function draws into a new figure, or into the `ax=` (or `fig=`) it is given, and
returns `(fig, ax)` (or `(fig, axes)`). matplotlib is imported when a function is first
called, never at `import massfit`, and no backend is set.
"""

from ._matrices import (
    connectome as connectome,
    fc as fc,
    fc_scatter as fc_scatter,
    fcd as fcd,
    matrix as matrix,
    regions as regions,
)
from ._results import fit_history as fit_history, sweep_map as sweep_map
from ._series import BANDS as BANDS, psd as psd, timeseries as timeseries
