"""What saved files record: class names and the massfit version."""

import importlib.metadata
import sys


def qualified_name(cls: type) -> str:
    """A class's module and qualified name, e.g. `"massfit.models.Hopf"`."""
    return f"{cls.__module__}.{cls.__qualname__}"


def class_name(obj) -> str:
    """The qualified name of `obj`'s class."""
    return qualified_name(type(obj))


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
