"""Run configurations for the `massfit` command: a TOML document turned into massfit objects.

Each section is checked as it is read. A bad value raises `ConfigError` naming its key path
(`[network].coupling`), what was given and what is allowed; an unknown key is refused, listing
the valid ones. Errors the massfit constructors raise while a section is built (a parameter
out of range, a variable the model does not have) are reported against that section too:
everything is checked before anything runs.
"""

import dataclasses
import difflib
import inspect
import math
import os
import pathlib
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np


SECTIONS = (
    "model", "connectome", "network", "simulate", "observers", "objective", "fit", "sweep", "output"
)


class ConfigError(ValueError):
    """A configuration that cannot run: the message names the key and what is allowed."""


# ---------------------------------------------------------------------------------------------
# Reading, overrides and small checks


def read_config(path: str | os.PathLike, overrides: list[str] = ()) -> dict:
    """Read a TOML configuration and apply `--set key.path=value` overrides."""
    source = pathlib.Path(path)
    try:
        text = source.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read the configuration {str(source)!r}: {error.strerror}.")
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}.") from None
    for item in overrides:
        apply_override(config, item)
    return config


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: a string


def apply_override(config: dict, item: str) -> None:
    """Set `section.key=value` in `config` (the value read as TOML, else as a string).
    A list index selects an entry of an array of tables: `observers.0.period=720`."""
    path, sep, text = item.partition("=")
    keys = [k.strip() for k in path.split(".")]
    if not sep or not all(keys):
        raise ConfigError(
            f"--set {item!r}: expected KEY.PATH=VALUE, e.g. --set simulate.duration=500."
        )
    node: Any = config
    for depth, key in enumerate(keys[:-1]):
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            node = _list_item(node, key, where, item)
            continue
        if key not in node:
            node[key] = {}
        node = node[key]
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"--set {item!r}: {where} is a value, not a table.")
    last = keys[-1]
    if isinstance(node, list):
        index = _index(last, len(node), item)
        node[index] = _parse_value(text.strip())
    else:
        node[last] = _parse_value(text.strip())


def _index(key: str, length: int, item: str) -> int:
    if not key.isdigit() or int(key) >= length:
        raise ConfigError(
            f"--set {item!r}: {key!r} is not an index of a list of {length} entries."
        )
    return int(key)


def _list_item(node: list, key: str, where: str, item: str) -> Any:
    return node[_index(key, len(node), item)]


def _quote(values) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _hint(value, allowed) -> str:
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _show(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


class Table:
    """One table of the configuration, read key by key; `done()` refuses what is left."""

    def __init__(self, where: str, table: Any, allowed: tuple[str, ...]):
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table; got {_show(table)}.")
        self.where = where
        self.table = table
        self.allowed = allowed
        unknown = [key for key in table if key not in allowed]
        if unknown:
            key = unknown[0]
            raise ConfigError(
                f'{where}: unknown key "{key}"{_hint(key, allowed)}; the valid keys are '
                f"{_quote(allowed)}."
            )

    def key(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.table

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def choice(self, key: str, choices, default: Any = None) -> Any:
        if key not in self.table:
            if default is None:
                raise ConfigError(
                    f"{self.key(key)} is required; allowed values: {_quote(choices)}."
                )
            return default
        value = self.table[key]
        if value not in choices:
            raise ConfigError(
                f"{self.key(key)} = {_show(value)}: allowed values are "
                f"{_quote(choices)}{_hint(value, choices)}."
            )
        return value

    def number(
        self,
        key: str,
        default: Any = None,
        *,
        minimum: float | int | None = None,
        positive: bool = False,
        integer: bool = False,
        required: bool = False,
    ) -> Any:
        if key not in self.table:
            if required:
                raise ConfigError(f"{self.key(key)} is required ({_kind(integer, positive)}).")
            return default
        value = self.table[key]
        ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        ok = ok and not (positive and value <= 0)
        ok = ok and not (minimum is not None and value < minimum)
        if not ok:
            expected = _kind(integer, positive)
            if minimum is not None:
                expected += f" >= {minimum}"
            raise ConfigError(f"{self.key(key)} = {_show(value)}: expected {expected}.")
        return value if integer else float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(key)} = {_show(value)}: expected true or false.")
        return value

    def string(self, key: str, default: Any = None, *, required: bool = False) -> Any:
        if key not in self.table:
            if required:
                raise ConfigError(f"{self.key(key)} is required (a string).")
            return default
        value = self.table[key]
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.key(key)} = {_show(value)}: expected a non-empty string.")
        return value

    def strings(self, key: str, default: Any = None) -> Any:
        """A string or a list of strings, as a tuple."""
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, str):
            value = [value]
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            raise ConfigError(
                f"{self.key(key)} = {_show(value)}: expected a string or a list of strings."
            )
        return tuple(value)

    def subtable(self, key: str) -> dict:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(key)} must be a table; got {_show(value)}.")
        return value


def _kind(integer: bool, positive: bool) -> str:
    if integer:
        return "a positive integer" if positive else "an integer"
    return "a positive number" if positive else "a finite number"


def _parameter_value(where: str, value: Any, default: Any = None) -> Any:
    """A parameter: a number, or a list of numbers (one per region); a string or a list of
    strings only where the default is one (static options such as `variables`)."""
    numbers = (int, float)
    if isinstance(value, numbers) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list) and value and all(
        isinstance(v, numbers) and not isinstance(v, bool) for v in value
    ):
        return np.asarray(value, dtype=float)
    textual = default is None or isinstance(default, (str, tuple, bool))
    if textual and isinstance(value, (str, bool)):
        return value
    if textual and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(
        f"{where} = {_show(value)}: expected a number or a list of numbers (one per region)."
    )


def _defaults(cls: Callable[..., Any]) -> dict[str, Any]:
    parameters = inspect.signature(cls).parameters.values()
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default) for p in parameters
    }


def _init_options(cls: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword arguments a class's constructor takes."""
    parameters = inspect.signature(cls).parameters.values()
    return tuple(
        p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )


def _build(where: str, make: Callable[[], Any]) -> Any:
    """Call a massfit constructor; its ValueError/TypeError becomes a ConfigError of `where`."""
    try:
        return make()
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where}: {error}") from None


def _path(base: pathlib.Path, value: str) -> pathlib.Path:
    path = pathlib.Path(value).expanduser()
    return path if path.is_absolute() else base / path


# ---------------------------------------------------------------------------------------------
# The sections


def _model_classes() -> dict[str, type]:
    from ._catalogue import list_models

    return {info.name: info.model for info in list_models()}


def build_model(config: dict) -> Any:
    """`[model]`: `name` from the catalogue, then any of its parameters."""
    raw = config.get("model")
    if raw is None:
        raise ConfigError("[model] is required: a table with `name` (see `massfit models`).")
    models = _model_classes()
    if not isinstance(raw, dict):
        raise ConfigError(f"[model] must be a table; got {_show(raw)}.")
    name = raw.get("name")
    if name not in models:
        shown = "[model].name is required" if name is None else f"[model].name = {_show(name)}"
        raise ConfigError(f"{shown}: allowed values are {_quote(models)}{_hint(name, models)}.")
    cls = models[name]
    fields = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    table = Table("[model]", raw, ("name", *fields))
    defaults = _defaults(cls)
    kwargs = {
        key: _parameter_value(table.key(key), value, defaults.get(key))
        for key, value in raw.items()
        if key != "name"
    }
    return _build("[model]", lambda: cls(**kwargs))


def build_connectome(config: dict, base: pathlib.Path) -> Any:
    """`[connectome]`: a registered `dataset` (with `options`), or a `file` (with `options`
    for `massfit.io.load_connectome`)."""
    from . import datasets, io
    from ._connectome import Connectome

    table = Table("[connectome]", config.get("connectome", {}), ("dataset", "file", "options"))
    options = table.subtable("options")
    if table.has("dataset") == table.has("file"):
        raise ConfigError(
            "[connectome] needs exactly one of `dataset` (a bundled or registered name: "
            f"{_quote(_connectome_datasets())}) or `file` (a .zip, .npz, .mat, .csv, .tsv or "
            ".txt connectome)."
        )
    if table.has("dataset"):
        name = table.choice("dataset", _connectome_datasets())
        connectome = _build("[connectome]", lambda: datasets.load_dataset(name, **options))
    else:
        path = _path(base, table.string("file"))
        if not path.exists():
            raise ConfigError(f"[connectome].file = {_show(table.get('file'))}: no such file.")
        connectome = _build("[connectome]", lambda: io.load_connectome(path, **options))
    if not isinstance(connectome, Connectome):
        raise ConfigError(f"[connectome]: loaded a {type(connectome).__name__}, not a Connectome.")
    return connectome


def _connectome_datasets() -> tuple[str, ...]:
    from . import datasets

    return tuple(
        name
        for name, text in datasets.list_datasets().items()
        if text.lower().startswith("connectome")
    )


def _couplings() -> dict[str, type]:
    from . import _coupling as c

    return {
        "diffusive": c.Diffusive,
        "linear": c.Linear,
        "sigmoidal": c.Sigmoidal,
        "sigmoidal_jansen_rit": c.SigmoidalJansenRit,
        "tanh": c.Tanh,
        "kuramoto_sine": c.KuramotoSine,
        "laplacian": c.Laplacian,
    }


def _noises() -> dict[str, type]:
    from . import _noise as n

    return {
        "additive": n.AdditiveNoise,
        "multiplicative": n.MultiplicativeNoise,
        "ornstein_uhlenbeck": n.OrnsteinUhlenbeckNoise,
        "power_law": n.PowerLawNoise,
    }


def _options_of(where: str, cls: Callable[..., Any], raw: dict, skip: tuple[str, ...]) -> dict:
    allowed = tuple(name for name in _init_options(cls) if name not in skip)
    table = Table(where, raw, allowed)
    defaults = _defaults(cls)
    return {
        key: _parameter_value(table.key(key), value, defaults.get(key))
        for key, value in raw.items()
    }


def build_network(config: dict, node: Any, connectome: Any) -> Any:
    """`[network]`: `coupling` by name (+ `[network.coupling_options]`), `k`, `speed`,
    `coupled`, `[network.noise]` (`type` + its options), `max_delay`, `min_delay`."""
    from ._network import Network

    keys = ("coupling", "coupling_options", "k", "speed", "coupled", "noise")
    table = Table("[network]", config.get("network", {}), (*keys, "max_delay", "min_delay"))
    couplings = _couplings()
    name = table.choice("coupling", tuple(couplings), default="diffusive")
    options = _options_of(
        "[network.coupling_options]", couplings[name], table.subtable("coupling_options"), ()
    )
    coupling = _build("[network.coupling_options]", lambda: couplings[name](**options))
    noise = None
    if table.has("noise"):
        raw = dict(table.subtable("noise"))
        noises = _noises()
        kind = Table("[network.noise]", {"type": raw.pop("type", None)}, ("type",)).choice(
            "type", tuple(noises)
        )
        options = _options_of("[network.noise]", noises[kind], raw, ("type",))
        noise = _build("[network.noise]", lambda: noises[kind](**options))
    kwargs = dict(
        k=table.number("k", 1.0),
        speed=table.number("speed", positive=True),
        coupled=table.strings("coupled"),
        max_delay=table.number("max_delay", minimum=0.0),
        min_delay=table.number("min_delay", minimum=0.0),
    )
    return _build(
        "[network]", lambda: Network(node, connectome, coupling, noise=noise, **kwargs)
    )


SOLVERS = ("heun", "euler", "rk4")


@dataclasses.dataclass(frozen=True)
class SimulateSettings:
    """`[simulate]`: the `massfit.simulate` arguments and the noise seed."""

    kwargs: dict
    seed: int

    @property
    def interval(self) -> float:
        return self.kwargs.get("save_every") or self.kwargs["dt"]


def simulate_settings(config: dict) -> SimulateSettings:
    from ._solve import Euler, Heun, RK4

    keys = ("duration", "dt", "solver", "interpolate_delays", "transient", "save_every")
    table = Table("[simulate]", config.get("simulate", {}), (*keys, "variables", "seed"))
    solver = table.choice("solver", SOLVERS, default="heun")
    interpolate = table.boolean("interpolate_delays", False)
    solver = {"heun": Heun, "euler": Euler, "rk4": RK4}[solver](interpolate_delays=interpolate)
    kwargs = dict(
        duration=table.number("duration", required=True, positive=True),
        dt=table.number("dt", required=True, positive=True),
        solver=solver,
        transient=table.number("transient", 0.0, minimum=0.0),
        save_every=table.number("save_every", positive=True),
        variables=table.strings("variables"),
    )
    if kwargs["transient"] >= kwargs["duration"]:
        raise ConfigError(
            f"[simulate].transient = {kwargs['transient']}: must be less than "
            f"[simulate].duration = {kwargs['duration']} ms."
        )
    for key in ("duration", "transient", "save_every"):
        value = kwargs[key]
        if value and abs(value / kwargs["dt"] - round(value / kwargs["dt"])) > 1e-6:
            raise ConfigError(
                f"[simulate].{key} = {value}: must be a whole number of steps "
                f"[simulate].dt = {kwargs['dt']} ms."
            )
    return SimulateSettings(kwargs, table.number("seed", 0, integer=True, minimum=0))


def check_variables(settings: SimulateSettings, node: Any) -> None:
    names = settings.kwargs["variables"] or ()
    for name in names:
        if name not in node.variables:
            raise ConfigError(
                f"[simulate].variables: {_show(name)} is not a variable of "
                f"{type(node).__name__}; allowed values are {_quote(node.variables)}."
            )


def _observer_classes() -> dict[str, type]:
    from . import observation as o

    return {
        "bold": o.BOLD,
        "subsample": o.Subsample,
        "temporal_average": o.TemporalAverage,
        "lead_field": o.LeadField,
        "hrf": o.HRFConvolution,
    }


def build_observers(config: dict, node: Any, base: pathlib.Path) -> dict:
    """`[[observers]]`: each with `type`, an optional `name` (default: the type) and the
    observer's options; `drive` defaults to the node's first coupled variable. A
    `lead_field` takes `gain` as a file (`massfit.io.load_gain`)."""
    from . import io

    raw = config.get("observers", [])
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError(f"[[observers]] must be an array of tables; got {_show(raw)}.")
    classes = _observer_classes()
    observers = {}
    for i, entry in enumerate(raw):
        where = f"[[observers]][{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table; got {_show(entry)}.")
        entry = dict(entry)
        kind = Table(where, {"type": entry.pop("type", None)}, ("type",)).choice(
            "type", tuple(classes)
        )
        name = entry.pop("name", kind)
        if not isinstance(name, str) or not name or name in observers:
            raise ConfigError(
                f"{where}.name = {_show(name)}: expected a name not used by another observer."
            )
        cls = classes[kind]
        options = _options_of(where, cls, entry, ())
        options.setdefault("drive", node.coupled_variables[0])
        if options["drive"] not in node.variables:
            raise ConfigError(
                f"{where}.drive = {_show(options['drive'])}: allowed values are "
                f"{_quote(node.variables)}."
            )
        if kind == "lead_field":
            gain = options.get("gain")
            if not isinstance(gain, str):
                raise ConfigError(f"{where}.gain is required: a lead-field file.")
            path = _path(base, gain)
            if not path.exists():
                raise ConfigError(f"{where}.gain = {_show(gain)}: no such file.")
            options["gain"] = _build(where, lambda: io.load_gain(path))
        if "period" not in options:
            raise ConfigError(f"{where}.period is required (ms between samples).")
        observers[name] = _build(where, lambda: cls(**options))
    return observers


@dataclasses.dataclass(frozen=True)
class Objective:
    """`[objective]`: the combined loss, its target, and which output it compares."""

    loss: Any
    target: Any
    target_dt: float | None
    prediction: str
    terms: tuple[dict, ...]
    truth: Mapping[str, float] | None = None


def _objective_builders() -> dict[str, Callable]:
    from . import objectives as o

    return {
        name: getattr(o, name)
        for name in (
            "fc_corr",
            "fc_rmse",
            "fcd",
            "fcd_ks",
            "fcd_wasserstein",
            "psd_distance",
            "band_power",
            "peak_frequency",
            "timeseries_rmse",
            "cosine_sim",
        )
    }


def build_objective(
    config: dict,
    settings: SimulateSettings,
    observers: dict,
    node: Any,
    base: pathlib.Path,
) -> Objective:
    """`[objective]`: `[[objective.terms]]` (each `name`, `weight` and the builder's options;
    scores become losses), `prediction` (a saved variable or an observer's name) and
    `[objective.target]`."""
    from . import objectives

    if "objective" not in config:
        raise ConfigError("[objective] is required for `massfit fit`.")
    table = Table("[objective]", config["objective"], ("terms", "target", "prediction"))
    outputs = (*observers, *(settings.kwargs["variables"] or node.variables))
    default = next(iter(observers)) if observers else outputs[0]
    prediction = table.choice("prediction", outputs, default=default)
    dt = observers[prediction].period if prediction in observers else settings.interval
    target, target_dt, truth = build_target(table.subtable("target"), base)
    if target_dt is not None and not math.isclose(target_dt, dt, rel_tol=1e-9):
        source = (
            f"[[observers]] {_show(prediction)}.period"
            if prediction in observers
            else "[simulate].save_every"
        )
        raise ConfigError(
            f"[objective.target] is sampled every {target_dt} ms but the prediction "
            f"{_show(prediction)} every {dt} ms ({source}); make them equal."
        )
    terms_raw = table.get("terms")
    if not isinstance(terms_raw, list) or not terms_raw:
        raise ConfigError(
            "[objective].terms is required: one or more [[objective.terms]] tables, each with "
            f"`name` (allowed values: {_quote(_objective_builders())}) and `weight`."
        )
    builders = _objective_builders()
    terms, echo = [], []
    for i, raw in enumerate(terms_raw):
        where = f"[[objective.terms]][{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} must be a table; got {_show(raw)}.")
        raw = dict(raw)
        picked = {k: raw.pop(k) for k in ("name", "weight") if k in raw}
        head = Table(where, picked, ("name", "weight"))
        name = head.choice("name", tuple(builders))
        weight = head.number("weight", 1.0)
        builder = builders[name]
        options = {
            key: tuple(v) if isinstance(v, list) else v
            for key, v in Table(where, raw, _init_options(builder)).table.items()
        }
        if "dt" in _init_options(builder):
            options.setdefault("dt", dt)
        if "as_loss" in _init_options(builder):
            if options.get("as_loss", True) is not True:
                raise ConfigError(
                    f"{where}.as_loss = {_show(options['as_loss'])}: {name} is a score, to be "
                    "maximised; a fit minimises, so only as_loss = true is allowed."
                )
            options["as_loss"] = True
        terms.append((weight, _build(where, lambda: builder(**options))))
        echo.append({"name": name, "weight": weight, **options})
    loss = _build("[objective].terms", lambda: objectives.combine(*terms))
    if target is None:
        raise ConfigError("[objective.target] is required: `dataset = ...` or `file = ...`.")
    return Objective(loss, target, target_dt, prediction, tuple(echo), truth)


def build_target(raw: dict, base: pathlib.Path) -> tuple[Any, float | None, Any]:
    """`[objective.target]`: `dataset` (+ `options`) or `file` (+ `time_axis`, `dt`, `key`),
    and `kind`: "series" (default) compares series, "fc" compares with the FC matrix of the
    series (or the matrix stored in a `.npy` file). Returns the target, its sampling interval
    (None for an FC matrix) and the dataset's true parameters (None if it has none)."""
    from . import datasets, io, metrics, objectives

    if not raw:
        return None, None, None
    keys = ("dataset", "options", "file", "time_axis", "dt", "key", "kind")
    table = Table("[objective.target]", raw, keys)
    kind = table.choice("kind", ("series", "fc"), default="series")
    if table.has("dataset") == table.has("file"):
        raise ConfigError(
            "[objective.target] needs exactly one of `dataset` (allowed values: "
            f"{_quote(_signal_datasets())}) or `file` (a .npz, .mat, .csv, .tsv or .txt series)."
        )
    if table.has("dataset"):
        name = table.choice("dataset", _signal_datasets())
        options = table.subtable("options")
        loaded = _build("[objective.target]", lambda: datasets.load_dataset(name, **options))
        truth = getattr(loaded, "truth", None)
        signal = getattr(loaded, "signal", loaded)
        if not hasattr(signal, "data"):
            raise ConfigError(
                f"[objective.target].dataset = {_show(name)} is not a recorded series."
            )
    else:
        path = _path(base, table.string("file"))
        if not path.exists():
            shown = _show(table.get("file"))
            raise ConfigError(f"[objective.target].file = {shown}: no such file.")
        if kind == "fc" and path.suffix.lower() == ".npy":
            matrix = np.load(path)
            return _build("[objective.target]", lambda: objectives.FCMatrix(matrix)), None, None
        kwargs = dict(
            time_axis=table.choice("time_axis", (0, 1)), dt=table.number("dt", positive=True)
        )
        if table.has("key"):
            kwargs["key"] = table.string("key")
        signal = _build("[objective.target]", lambda: io.load_signal(path, **kwargs))
        truth = None
    data = jnp.asarray(signal.data)
    bad = ~np.isfinite(np.asarray(data))
    if bad.any():
        raise ConfigError(
            f"[objective.target] holds {int(bad.sum())} non-finite value(s) of {data.size} "
            f"(first at (sample, region) {tuple(int(i) for i in np.argwhere(bad)[0])}): "
            "remove or interpolate them before fitting."
        )
    if kind == "fc":
        fc = metrics.fc(data)
        return _build("[objective.target]", lambda: objectives.FCMatrix(fc)), None, truth
    series = _build("[objective.target]", lambda: objectives.Series(data))
    return series, float(signal.dt), truth


def _signal_datasets() -> tuple[str, ...]:
    from . import datasets

    return tuple(
        name for name in datasets.list_datasets() if name not in _connectome_datasets()
    )


def check_target_length(objective: Objective, settings: SimulateSettings, n_regions: int) -> None:
    """A series target has the prediction's shape, read off the settings (variables only)."""
    from .objectives import Series

    if not isinstance(objective.target, Series) or objective.target_dt is None:
        return
    shape = objective.target.values.shape
    kw = settings.kwargs
    if objective.prediction in (kw["variables"] or ()) or kw["variables"] is None:
        samples = round((kw["duration"] - kw["transient"]) / settings.interval)
        if (samples, n_regions) != shape:
            raise ConfigError(
                f"[objective.target] has shape {shape} (samples, regions) but the prediction "
                f"{_show(objective.prediction)} will have ({samples}, {n_regions}): "
                "([simulate].duration - transient) / save_every samples of the connectome's "
                "regions. Make them agree."
            )


METHODS = ("gradient", "cma_es", "differential_evolution", "multistart")
OPTIMISERS = ("adam", "adamw", "sgd", "rmsprop", "adabelief", "lion")
_METHOD_KEYS = {
    "gradient": ("optimiser", "learning_rate", "schedule", "mode"),
    "multistart": ("optimiser", "learning_rate", "schedule", "mode", "n_starts"),
    "cma_es": ("population_size", "sigma0"),
    "differential_evolution": ("population_size",),
}


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """`[fit]`: which method, what trains, constraints, and the method's options."""

    method: str
    trainable: tuple[str, ...]
    bounds: Mapping[str, tuple[float, float]]
    positive: tuple[str, ...]
    n_steps: int
    seed: int
    options: dict


def fit_settings(config: dict) -> FitSettings:
    every = ("method", "trainable", "bounds", "positive", "n_steps", "seed")
    extra = tuple(dict.fromkeys(k for keys in _METHOD_KEYS.values() for k in keys))
    if "fit" not in config:
        raise ConfigError("[fit] is required for `massfit fit`.")
    table = Table("[fit]", config["fit"], (*every, *extra))
    method = table.choice("method", METHODS, default="gradient")
    for key in extra:
        if table.has(key) and key not in _METHOD_KEYS[method]:
            users = [m for m, keys in _METHOD_KEYS.items() if key in keys]
            raise ConfigError(
                f"[fit].{key} applies to method {_quote(users)}, not {_show(method)}; the keys "
                f"of {_show(method)} are {_quote(_METHOD_KEYS[method])}."
            )
    trainable = table.strings("trainable")
    if trainable is None:
        raise ConfigError('[fit].trainable is required: parameter paths, e.g. ["k"].')
    bounds = {}
    for path, pair in table.subtable("bounds").items():
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
        if not ok or not pair[0] < pair[1]:
            raise ConfigError(
                f"[fit.bounds].{path} = {_show(pair)}: expected [lower, upper] with lower < upper."
            )
        bounds[path] = (float(pair[0]), float(pair[1]))
    positive = table.strings("positive", ())
    both = set(positive) & set(bounds)
    if both:
        raise ConfigError(f"[fit]: {_quote(sorted(both))} is in both `bounds` and `positive`.")
    options: dict[str, Any] = {}
    if method in ("gradient", "multistart"):
        options["optimiser"] = table.choice("optimiser", OPTIMISERS, default="adam")
        options["learning_rate"] = table.number("learning_rate", 0.05, positive=True)
        options["schedule"] = table.choice("schedule", ("constant", "cosine"), default="constant")
        options["mode"] = table.choice("mode", ("auto", "forward", "reverse"), default="auto")
    if method == "multistart":
        options["n_starts"] = table.number("n_starts", 4, integer=True, positive=True)
    if method in ("cma_es", "differential_evolution"):
        size = table.number("population_size", integer=True, positive=True)
        if size is not None:
            options["population_size"] = size
    if method == "cma_es":
        options["sigma0"] = table.number("sigma0", 1.0, positive=True)
    if method == "differential_evolution":
        missing = [p for p in trainable if p not in bounds]
        if missing:
            raise ConfigError(
                f"[fit].method = \"differential_evolution\" searches within bounds: give "
                f"[fit.bounds] for {_quote(missing)}."
            )
    return FitSettings(
        method=method,
        trainable=trainable,
        bounds=bounds,
        positive=positive,
        n_steps=table.number("n_steps", required=True, integer=True, positive=True),
        seed=table.number("seed", 0, integer=True, minimum=0),
        options=options,
    )


def constrain(network: Any, settings: FitSettings) -> Any:
    """Wrap the parameters named in `bounds`/`positive` in `Bounded`/`Positive`."""
    from ._params import Bounded, get_by_path, parameter_paths, Positive, unwrap

    valid = parameter_paths(network)
    for path in (*settings.bounds, *settings.positive):
        if path not in valid:
            where = "[fit.bounds]" if path in settings.bounds else "[fit].positive"
            raise ConfigError(
                f"{where}: {_show(path)} is not a parameter path; allowed values are "
                f"{_quote(valid)}{_hint(path, valid)}."
            )
    for path, (lower, upper) in settings.bounds.items():
        value = unwrap(get_by_path(network, path))
        where = f"[fit.bounds].{path}"
        wrapped = _build(where, lambda: Bounded(value, lower, upper))
        network = eqx.tree_at(lambda n: get_by_path(n, path), network, wrapped)
    for path in settings.positive:
        value = unwrap(get_by_path(network, path))
        wrapped = _build(f"[fit].positive: {path}", lambda: Positive(value))
        network = eqx.tree_at(lambda n: get_by_path(n, path), network, wrapped)
    from ._params import select

    _build("[fit].trainable", lambda: select(network, *settings.trainable))
    return network


def optimiser(settings: FitSettings) -> Any:
    import optax

    options = settings.options
    rate = options["learning_rate"]
    if options["schedule"] == "cosine":
        rate = optax.cosine_decay_schedule(rate, settings.n_steps)
    return getattr(optax, options["optimiser"])(rate)


@dataclasses.dataclass(frozen=True)
class OutputSettings:
    directory: pathlib.Path
    plots: bool
    trajectory: bool


def output_settings(config: dict, default: pathlib.Path, override: str | None) -> OutputSettings:
    """`[output]`: `directory` (relative to the working directory), `plots`, `trajectory`."""
    table = Table("[output]", config.get("output", {}), ("directory", "plots", "trajectory"))
    directory = override or table.string("directory") or str(default)
    return OutputSettings(
        pathlib.Path(directory).expanduser(),
        plots=table.boolean("plots", True),
        trajectory=table.boolean("trajectory", True),
    )


def check_sections(config: dict) -> None:
    """Refuse an unknown top-level section (a typo would otherwise be ignored)."""
    for key in config:
        if key not in SECTIONS:
            raise ConfigError(
                f'unknown section [{key}]{_hint(key, SECTIONS)}; the sections are '
                f"{_quote(SECTIONS)}."
            )


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything a command needs, built and checked from the configuration."""

    config: dict
    network: Any
    simulate: SimulateSettings
    observers: dict
    output: OutputSettings
    objective: Objective | None = None
    fit: FitSettings | None = None
    sweep: "SweepSettings | None" = None


def plan(
    config: dict, base: pathlib.Path, command: str, default_output: pathlib.Path, output=None
) -> Plan:
    """Build and check every section `command` ("simulate", "fit" or "sweep") uses."""
    check_sections(config)
    node = build_model(config)
    connectome = build_connectome(config, base)
    network = build_network(config, node, connectome)
    settings = simulate_settings(config)
    check_variables(settings, node)
    observers = build_observers(config, node, base)
    out = output_settings(config, default_output, output)
    if command == "simulate":
        return Plan(config, network, settings, observers, out)
    # The target may be simulated or read from disk: the cheap sections are checked first.
    if command == "sweep":
        sweep = sweep_settings(config, network)
    else:
        fit = fit_settings(config)
        network = constrain(network, fit)
    objective = build_objective(config, settings, observers, node, base)
    check_target_length(objective, settings, network.n_regions)
    if command == "sweep":
        return Plan(config, network, settings, observers, out, objective, sweep=sweep)
    return Plan(config, network, settings, observers, out, objective, fit)


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """`[sweep]`: the axes (a product grid, by parameter path) and the chunk size."""

    axes: dict
    chunk_size: int

    @property
    def n_points(self) -> int:
        return math.prod(len(values) for values in self.axes.values())


def sweep_settings(config: dict, network: Any) -> SweepSettings:
    """`[sweep]`: `axes = { path = [values...] | { linear = [lo, hi, n] } | { log = [lo, hi,
    n] } }`, `chunk_size`."""
    from ._params import parameter_paths

    if "sweep" not in config:
        raise ConfigError("[sweep] is required for `massfit sweep`: its `axes`, by parameter path.")
    table = Table("[sweep]", config["sweep"], ("axes", "chunk_size"))
    raw = table.subtable("axes")
    if not raw:
        raise ConfigError(
            "[sweep].axes is required, e.g. axes = { k = { linear = [0, 0.1, 11] } }."
        )
    valid = parameter_paths(network)
    axes = {}
    for path, spec in raw.items():
        where = f"[sweep.axes].{path}"
        if path not in valid:
            raise ConfigError(
                f"{where}: not a parameter path; allowed values are {_quote(valid)}"
                f"{_hint(path, valid)}."
            )
        axes[path] = _axis(where, spec)
    return SweepSettings(axes, table.number("chunk_size", 64, integer=True, positive=True))


def _axis(where: str, spec: Any) -> np.ndarray:
    numbers = (int, float)
    if isinstance(spec, list) and spec and all(
        isinstance(v, numbers) and not isinstance(v, bool) for v in spec
    ):
        return np.asarray(spec, dtype=float)
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, args), = spec.items()
        if kind not in ("linear", "log"):
            raise ConfigError(
                f'{where}.{kind}: allowed values are "linear", "log" (or a list of values).'
            )
        ok = isinstance(args, list) and len(args) == 3 and isinstance(args[2], int)
        ok = ok and all(isinstance(v, numbers) and not isinstance(v, bool) for v in args)
        ok = ok and args[2] >= 1 and (kind == "linear" or min(args[:2]) > 0)
        if not ok:
            expected = "positive " if kind == "log" else ""
            raise ConfigError(
                f"{where}.{kind} = {_show(args)}: expected [{expected}lower, {expected}upper, "
                "number of values]."
            )
        space = np.linspace if kind == "linear" else np.geomspace
        return space(float(args[0]), float(args[1]), args[2])
    raise ConfigError(
        f"{where} = {_show(spec)}: expected a list of values, {{ linear = [lo, hi, n] }} or "
        "{ log = [lo, hi, n] }."
    )
