"""What saved files record besides their classes: the massfit version; and finding a recorded
class again."""

import importlib.metadata
import sys


def massfit_version() -> str:
    """The installed massfit version."""
    return importlib.metadata.version("massfit")


def imported_class(name: str) -> type | None:
    """The class called `name` if its module is already imported, else `None`.

    Only modules already in `sys.modules` are looked at, so reading a file never imports
    (and runs) code that the file names.
    """
    module_name, _, qualname = name.rpartition(".")
    while module_name:
        module = sys.modules.get(module_name)
        if module is not None:
            obj = module
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            return obj if isinstance(obj, type) else None
        module_name, _, head = module_name.rpartition(".")
        qualname = f"{head}.{qualname}"
    return None
