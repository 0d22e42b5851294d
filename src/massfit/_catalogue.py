"""The catalogue of node models: what massfit ships, with parameters, units and references."""

import dataclasses
import inspect
import re
import sys
import textwrap
from typing import Any

from ._models import AbstractNodeModel


@dataclasses.dataclass(frozen=True)
class ParameterInfo:
    """One parameter of a node model: its field name, its default (`dataclasses.MISSING` if
    it has none) and its unit ("?" when the model does not say)."""

    name: str
    default: Any
    unit: str


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What [`massfit.list_models`][] reports for one node-model class."""

    name: str
    model: type[AbstractNodeModel]
    variables: tuple[str, ...]
    coupled_variables: tuple[str, ...]
    parameters: tuple[ParameterInfo, ...]
    citation: str

    def __str__(self) -> str:
        return describe_model(self.model)


class Catalogue(tuple[ModelInfo, ...]):
    """A tuple of `ModelInfo` that prints as a table (one row per model)."""

    __slots__ = ()

    def format_table(self) -> str:
        rows = [("model", "variables (coupled)", "parameters", "reference")]
        for info in self:
            rows.append(
                (
                    info.name,
                    f"{', '.join(info.variables)} ({', '.join(info.coupled_variables)})",
                    str(len(info.parameters)),
                    "\n".join(textwrap.wrap(info.citation, 48)),
                )
            )
        footer = "massfit.describe_model(name): equations, parameters, defaults and units."
        return _table(rows) + "\n" + footer

    def __str__(self) -> str:
        return self.format_table()

    __repr__ = __str__


def _is_concrete(cls: type) -> bool:
    return not (
        inspect.isabstract(cls)
        or getattr(cls, "__abstractclassvars__", None)
        or getattr(cls, "__abstractvars__", None)
    )


def _exported_models() -> dict[str, type[AbstractNodeModel]]:
    # Read massfit's namespace itself, so that a newly exported class is listed without
    # being registered anywhere else.
    package = sys.modules[__name__.rpartition(".")[0]]
    found = {
        obj
        for obj in vars(package).values()
        if isinstance(obj, type) and issubclass(obj, AbstractNodeModel) and _is_concrete(obj)
    }
    return {model.__name__: model for model in sorted(found, key=lambda model: model.__name__)}


def _model_info(model: type[AbstractNodeModel]) -> ModelInfo:
    units = model.units
    parameters = tuple(
        ParameterInfo(field.name, field.default, units.get(field.name, "?"))
        for field in dataclasses.fields(model)
        if field.init
    )
    return ModelInfo(
        name=model.__name__,
        model=model,
        variables=tuple(model.variables),
        coupled_variables=tuple(model.coupled_variables),
        parameters=parameters,
        citation=model.citation,
    )


def list_models() -> Catalogue:
    """The node models massfit exports: every concrete subclass of
    [`massfit.AbstractNodeModel`][] in the `massfit` namespace, by name.

    **Returns:**

    A tuple of `ModelInfo` (fields `name`, `model` (the class), `variables`,
    `coupled_variables`, `parameters` (each a `ParameterInfo` with `name`, `default` and
    `unit`) and `citation`), which prints as a table. `massfit.describe_model(name)` gives
    one model's equations and parameter table.

    ```python
    import massfit

    print(massfit.list_models())
    hopf = {info.name: info for info in massfit.list_models()}["Hopf"]
    print([(p.name, p.default, p.unit) for p in hopf.parameters][:2])
    # [('a', 0.25, '1/ms'), ('omega', 0.06283185307179587, 'rad/ms')]
    ```
    """
    return Catalogue(_model_info(model) for model in _exported_models().values())


def describe_model(model: Any) -> str:  # a name or a node-model class, checked below
    """A summary of one node model: its description and equations (the class docstring up
    to its first bold heading), state and coupled variables, a table of its parameters with
    defaults and units, and its reference.

    **Arguments:**

    - `model`: the name of an exported model (`"Hopf"`) or a node-model class, exported or
        your own subclass of [`massfit.AbstractNodeModel`][] (its units read "?" unless it
        sets the class variable `units`).

    **Returns:**

    The summary, a multi-line string.
    """
    if isinstance(model, str):
        exported = _exported_models()
        if model not in exported:
            raise ValueError(
                f"describe_model: no exported node model is named {model!r}; the models are "
                f"{tuple(exported)}."
            )
        model = exported[model]
    elif not (isinstance(model, type) and issubclass(model, AbstractNodeModel)):
        hint = (
            f" (an instance: pass its class, type(model) = {type(model).__name__})"
            if isinstance(model, AbstractNodeModel)
            else ""
        )
        raise TypeError(
            "describe_model: `model` must be a model name or a subclass of "
            f"massfit.AbstractNodeModel; got {model!r}{hint}."
        )
    info = _model_info(model)
    rows = [("parameter", "default", "unit")]
    rows += [(p.name, _format_default(p.default), p.unit) for p in info.parameters]
    lines = [
        info.name,
        "=" * len(info.name),
        "",
        _description(model),
        "",
        f"variables: {', '.join(info.variables)}",
        f"coupled by default: {', '.join(info.coupled_variables)}",
        "",
        _table(rows),
        "",
        f"reference: {info.citation}",
    ]
    return "\n".join(lines)


def _description(model: type) -> str:
    doc = model.__dict__.get("__doc__")
    # A class without a docstring gets the dataclass's generated one, "Name(field=...)".
    if not doc or doc.startswith(f"{model.__name__}("):
        return "(no docstring)"
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    kept = [paragraphs[0]]
    for paragraph in paragraphs[1:]:
        if re.match(r"\*\*\w", paragraph):
            break
        kept.append(paragraph)
    return "\n\n".join(kept)


def _format_default(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "(required)"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _table(rows: list[tuple[str, ...]]) -> str:
    # Cells may hold several lines; the first row is the header.
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [max(len(line) for row in split for line in row[i]) for i in range(len(rows[0]))]
    lines = []
    for row in split:
        for k in range(max(len(cell) for cell in row)):
            cells = [(cell[k] if k < len(cell) else "").ljust(w) for cell, w in zip(row, widths)]
            lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
