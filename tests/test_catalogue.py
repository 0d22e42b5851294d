"""The model catalogue: `massfit.list_models` and `massfit.describe_model`."""

import dataclasses
import inspect
from typing import ClassVar

import jax.numpy as jnp
import pytest

import massfit


def _exported_classes():
    # Independent of the catalogue's own discovery: every node-model class in massfit's
    # namespace whose name does not mark it abstract (the project's naming rule).
    return {
        name: obj
        for name, obj in vars(massfit).items()
        if isinstance(obj, type)
        and issubclass(obj, massfit.AbstractNodeModel)
        and not name.startswith("Abstract")
    }


EXPORTED = sorted(_exported_classes())


def _fields(cls):
    return [field for field in dataclasses.fields(cls) if field.init]


def _metadata_problems(info, cls):
    """What a model class lacks for the catalogue; empty when its metadata is complete."""
    problems = []
    no_unit = [p.name for p in info.parameters if p.unit in ("?", "")]
    if no_unit:
        problems.append(f"parameters without a unit: {no_unit}")
    stale = sorted(set(cls.units) - {field.name for field in _fields(cls)})
    if stale:
        problems.append(f"units for fields it does not have: {stale}")
    if info.citation.strip() in ("", "?"):
        problems.append("no citation")
    return problems


def _by_name():
    return {info.name: info for info in massfit.list_models()}


class _Mine(massfit.AbstractNodeModel):
    """A user's own leaky node, x' = -x / tau + I (not exported by massfit).

    Second paragraph, also shown.

    **Arguments:**

    - `tau`: time constant, ms.
    """

    tau: jnp.ndarray = massfit.param(20.0)
    gain: jnp.ndarray = massfit.param(2.0)

    variables: ClassVar[tuple[str, ...]] = ("x",)
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)

    def vector_field(self, t, state, inputs):
        return -state / self.tau + inputs

    def initial_state(self, n_regions):
        return jnp.ones((1, n_regions))


class _Bare(massfit.AbstractNodeModel):
    rate: jnp.ndarray = massfit.param(1.0)

    variables: ClassVar[tuple[str, ...]] = ("x",)
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)

    def vector_field(self, t, state, inputs):
        return -self.rate * state

    def initial_state(self, n_regions):
        return jnp.ones((1, n_regions))


def _table_rows(text, header_first_word):
    """The body rows of the table in `text` whose header starts with `header_first_word`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_first_word + " "))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_every_exported_model_is_listed():
    names = [info.name for info in massfit.list_models()]
    assert names == sorted(_exported_classes())
    assert len(names) == len(set(names))
    assert {"Hopf", "JansenRit", "WilsonCowan", "ReducedWongWangExcInh"} <= set(names)
    assert "AbstractNodeModel" not in names
    for info in massfit.list_models():
        assert info.model is getattr(massfit, info.name)


@pytest.mark.parametrize("name", EXPORTED)
def test_every_parameter_has_a_unit_and_the_model_a_citation(name):
    # The guard that a new model brings its metadata: set the class variables `units` (one
    # entry per parameter field) and `citation`.
    cls = getattr(massfit, name)
    problems = _metadata_problems(_by_name()[name], cls)
    assert not problems, f"{name}: {'; '.join(problems)}"


def test_the_metadata_guard_fails_for_a_model_without_metadata(monkeypatch):
    # A newly exported class is picked up from massfit's namespace without registration, and
    # the check above then fails for it.
    monkeypatch.setattr(massfit, "Bare", _Bare, raising=False)
    info = _by_name()["_Bare"]
    assert info.model is _Bare
    assert _metadata_problems(info, _Bare) == ["parameters without a unit: ['rate']", "no citation"]


def test_abstract_classes_are_not_listed(monkeypatch):
    class AbstractLeaky(massfit.AbstractNodeModel):
        variables: ClassVar[tuple[str, ...]] = ("x",)
        coupled_variables: ClassVar[tuple[str, ...]] = ("x",)

    assert inspect.isabstract(AbstractLeaky)
    monkeypatch.setattr(massfit, "AbstractLeaky", AbstractLeaky, raising=False)
    assert "AbstractLeaky" not in _by_name()


@pytest.mark.parametrize("name", EXPORTED)
def test_defaults_variables_and_citation_are_the_classes(name):
    cls = getattr(massfit, name)
    info = _by_name()[name]
    assert [(p.name, p.default) for p in info.parameters] == [
        (field.name, field.default) for field in _fields(cls)
    ]
    assert [p.unit for p in info.parameters] == [cls.units[field.name] for field in _fields(cls)]
    assert info.variables == cls.variables
    assert info.coupled_variables == cls.coupled_variables
    assert set(info.coupled_variables) <= set(info.variables)
    assert info.citation == cls.citation


def test_defaults_build_the_model():
    # The defaults reported are the ones a model built without arguments has.
    for info in massfit.list_models():
        built = info.model()
        for p in info.parameters:
            value = getattr(built, p.name)
            if p.default is None or isinstance(p.default, str):
                assert value == p.default, (info.name, p.name)  # None, or a static option
            else:
                assert jnp.allclose(value, p.default, rtol=0, atol=0), (info.name, p.name)


def test_some_units_as_the_docstrings_state():
    units = {info.name: {p.name: p.unit for p in info.parameters} for info in massfit.list_models()}
    assert units["Hopf"] == {
        "a": "1/ms", "omega": "rad/ms", "beta": "1/ms", "x0": "dimensionless", "y0": "dimensionless"
    }
    assert units["Kuramoto"] == {"omega": "rad/ms", "theta0": "rad"}
    assert units["JansenRit"]["A"] == "mV" and units["JansenRit"]["r"] == "1/mV"
    assert units["ReducedWongWang"]["a"] == "1/(nA·ms)"
    assert units["ThresholdLinear"]["e0"] == "1/ms"  # initial states: the variable's unit
    assert units["MontbrioPazoRoxin"]["r0"] == "1/ms"
    assert units["WongWang"]["J_ext"] == "nA·ms"


def test_the_catalogue_prints_as_a_table():
    catalogue = massfit.list_models()
    assert isinstance(catalogue, tuple)
    text = str(catalogue)
    assert repr(catalogue) == text == catalogue.format_table()
    assert text.splitlines()[0].split()[:3] == ["model", "variables", "(coupled)"]
    first_words = {line.split()[0] for line in text.splitlines()[2:] if line[:1].strip()}
    assert set(EXPORTED) <= first_words
    hopf = next(line for line in text.splitlines() if line.startswith("Hopf "))
    assert "x, y (x)" in hopf and " 5 " in hopf


@pytest.mark.parametrize("name", EXPORTED)
def test_describe_model_by_name_and_by_class(name):
    cls = getattr(massfit, name)
    text = massfit.describe_model(name)
    assert text == massfit.describe_model(cls) == str(_by_name()[name])
    assert text.splitlines()[0] == name
    doc = inspect.cleandoc(cls.__doc__)
    assert doc.split("\n\n")[0] in text  # the docstring's first paragraph
    assert "**Arguments" not in text
    assert f"variables: {', '.join(cls.variables)}" in text
    assert f"coupled by default: {', '.join(cls.coupled_variables)}" in text
    assert f"reference: {cls.citation}" in text
    rows = _table_rows(text, "parameter")
    assert [row[0] for row in rows] == [field.name for field in _fields(cls)]
    for row, field in zip(rows, _fields(cls)):
        assert row[-1] == cls.units[field.name]
        if isinstance(field.default, float):
            assert float(row[1]) == pytest.approx(field.default, rel=1e-5, abs=1e-12)


def test_describe_model_shows_the_equations():
    hopf = massfit.describe_model("Hopf")
    assert r"\dot x = (a - \beta (x^2 + y^2))\,x - \omega y + I_x" in hopf
    epileptor = massfit.describe_model(massfit.Epileptor)
    assert r"\dot z = t_t\,r" in epileptor  # equations after the first paragraph are kept
    assert "Time scale" not in epileptor  # the text stops at the first bold heading


def test_describe_model_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'Hopff'") as error:
        massfit.describe_model("Hopff")
    for name in EXPORTED:
        assert repr(name) in str(error.value)


def test_describe_model_rejects_other_arguments():
    with pytest.raises(TypeError, match="pass its class"):
        massfit.describe_model(massfit.Hopf())
    with pytest.raises(TypeError, match="`model` must be a model name or a subclass"):
        massfit.describe_model(3)
    with pytest.raises(TypeError, match="`model` must be"):
        massfit.describe_model(massfit.Linear)  # a coupling, not a node model


def test_a_users_own_model():
    assert "_Mine" not in _by_name()  # not exported, so not listed
    text = massfit.describe_model(_Mine)
    assert text.splitlines()[0] == "_Mine"
    assert "A user's own leaky node" in text and "Second paragraph, also shown." in text
    assert "time constant, ms" not in text
    assert _table_rows(text, "parameter") == [["tau", "20", "?"], ["gain", "2", "?"]]
    assert "reference: ?" in text
    with pytest.raises(ValueError, match="no exported node model is named '_Mine'"):
        massfit.describe_model("_Mine")


def test_a_users_model_with_partial_metadata_and_no_docstring():
    class Partial(massfit.AbstractNodeModel):
        scale: jnp.ndarray  # no default: the user must give it
        tau: jnp.ndarray = massfit.param(5.0)
        drive: jnp.ndarray = massfit.param(0.1)

        variables: ClassVar[tuple[str, ...]] = ("x",)
        coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
        units: ClassVar[dict[str, str]] = {"tau": "ms"}
        citation: ClassVar[str] = "My lab 2024"

        def vector_field(self, t, state, inputs):
            return -state / self.tau + self.scale * self.drive + inputs

        def initial_state(self, n_regions):
            return jnp.zeros((1, n_regions))

    text = massfit.describe_model(Partial)
    assert "(no docstring)" in text
    assert _table_rows(text, "parameter") == [
        ["scale", "(required)", "?"], ["tau", "5", "ms"], ["drive", "0.1", "?"]
    ]
    assert "reference: My lab 2024" in text
