"""Reading and writing: connectome, time-series and lead-field loaders, and saving without
pickle.

Connectomes come in as [`massfit.Connectome`][] with `weights[i, j]` from region j to region
i and lengths in mm, whatever the file's convention (each loader takes it as an argument).
"""

from ._connectome_files import (
    load_connectome as load_connectome,
    load_connectome_mat as load_connectome_mat,
    load_connectome_npz as load_connectome_npz,
    load_connectome_text as load_connectome_text,
)
from ._gain import load_gain as load_gain, load_sensors as load_sensors, Sensors as Sensors
from ._model import (
    load_model as load_model,
    read_model_header as read_model_header,
    save_model as save_model,
)
from ._regions import Regions as Regions
from ._result import load_result as load_result, save_result as save_result
from ._signal import load_signal as load_signal, Signal as Signal
from ._tvb import load_tvb_regions as load_tvb_regions, load_tvb_zip as load_tvb_zip
from ._xarray import to_xarray as to_xarray
