"""Calibration files (TOML): the observed figures, where they come from, and what is fitted.

Format (paths relative to the file)::

    name = "sources"
    seed = 20240917                      # root of every seed of the calibration

    [run]                                # how every simulation of the calibration is run
    steps = 60                           # months per run
    [run.overrides]                      # lever values fixed in every scenario
    n_citizens = 5000

    [scenarios]                          # the scenarios targets are measured in
    job_creation = "../scenarios/job_creation.toml"

    [abc]                                # ABC-SMC settings (pyabc)
    population = 200                     # particles per generation
    generations = 8                      # at most this many generations
    min_eps_drop = 0.05                  # stop when the threshold falls by less than 5 % a generation
    predictive_draws = 100               # posterior (and prior) predictive runs for the report

    [quick]                              # what --quick changes: a small region, few months
    population = 40
    generations = 3
    predictive_draws = 20
    steps = 24
    [quick.overrides]
    n_citizens = 1000

    [parameters.capacity_gain]           # a behaviour lever; prior = its lever-table range, uniform
    [parameters.founding_rate]
    prior = "log-uniform"                # for ranges spanning decades
    low = 1e-6                           # a narrower range within the lever's (needed when low = 0)
    planted = 0.0002                     # optional: the true value of a synthetic-data check

    [[targets]]
    name = "cost_per_job_2018"
    observed = 67.0
    quantity = "cost_per_job"            # a function of ecosystem_sim.observables
    args = { year = 1 }
    scenario = "job_creation"
    error = "relative"                   # relative | absolute | log10
    tolerance = 0.25                     # one unit of distance: 25 % of observed / the value / decades
    source = "001_ca3f5d496cc1be29.txt"
    passage = "..."
    fit = true                           # false: reported and checked, not in the ABC distance

Every problem raises :class:`~ecosystem_sim.scenario.ScenarioError` (file, key, value, what is
allowed) before anything runs: the ``ecosim`` command prints it as one line and exits with 2.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..levers import LEVERS
from ..measures import MEASURES
from ..observables import MONTHS_PER_YEAR, OBSERVABLES
from ..scenario import Scenario, ScenarioError, load_scenario, read_toml

TOP_KEYS = ("name", "description", "seed", "run", "scenarios", "abc", "quick", "parameters", "targets")
RUN_KEYS = ("steps", "overrides")
ABC_KEYS = ("population", "generations", "min_eps_drop", "predictive_draws")
QUICK_KEYS = (*ABC_KEYS, "steps", "overrides")
PARAMETER_KEYS = ("prior", "low", "high", "planted")
PRIORS = ("uniform", "log-uniform")
TARGET_KEYS = ("name", "observed", "unit", "quantity", "args", "scenario", "error", "tolerance", "source",
               "passage", "note", "fit")
ERRORS = ("relative", "absolute", "log10")
CALIBRATED_GROUP = "behaviour"


@dataclass(frozen=True)
class Parameter:
    """One calibrated behaviour lever and its prior (uniform on [low, high], or log-uniform)."""

    name: str
    low: float
    high: float
    prior: str = "uniform"
    planted: float | None = None

    @property
    def unit(self) -> str:
        return LEVERS[self.name].unit

    @property
    def integer(self) -> bool:
        return LEVERS[self.name].integer

    @property
    def coordinate(self) -> str:
        """Name of the coordinate pyabc samples: the value itself, or its log10."""
        return f"log10_{self.name}" if self.prior == "log-uniform" else self.name

    def bounds(self) -> tuple[float, float]:
        """Bounds of the sampled coordinate."""
        if self.prior == "log-uniform":
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def value(self, coordinate: float) -> float:
        """The lever value of a sampled coordinate (rounded for integer levers, clipped to the range)."""
        v = 10.0 ** coordinate if self.prior == "log-uniform" else float(coordinate)
        v = min(max(v, self.low), self.high)
        return float(round(v)) if self.integer else v


@dataclass(frozen=True)
class Target:
    """One observed figure and the model quantity that corresponds to it."""

    name: str
    observed: float
    quantity: str
    args: dict
    scenario: str
    error: str
    tolerance: float
    source: str
    passage: str
    unit: str = ""
    note: str = ""
    fitted: bool = True
    """False: the target is simulated, reported and judged like the others, but it does not enter
    the ABC distance (a figure no parameter set in the prior box reaches, or one whose mapping onto
    a model quantity is too loose to fit: the file says why in ``note``)."""

    def statistic(self, value: float) -> float:
        """The value on the scale the distance compares (log10 for ``error = "log10"``); NaN if none."""
        if self.error == "log10":
            return math.log10(value) if value > 0 and math.isfinite(value) else math.nan
        return float(value) if math.isfinite(value) else math.nan

    @property
    def observed_statistic(self) -> float:
        return self.statistic(self.observed)

    @property
    def scale(self) -> float:
        """One unit of distance on the statistic's scale."""
        if self.error == "relative":
            return self.tolerance * abs(self.observed)
        return self.tolerance

    def scaled_error(self, value: float) -> float:
        """(simulated - observed) in tolerance units; NaN if the run gives no value."""
        return (self.statistic(value) - self.observed_statistic) / self.scale


@dataclass
class Calibration:
    """A validated calibration file."""

    name: str
    seed: int
    steps: int
    overrides: dict
    scenarios: dict[str, Scenario]
    parameters: list[Parameter]
    targets: list[Target]
    population: int = 100
    generations: int = 6
    min_eps_drop: float = 0.05
    predictive_draws: int = 50
    description: str = ""
    source: str = "<python>"
    text: str = ""
    quick: dict = field(default_factory=dict)

    def run_scenario(self, name: str, values: dict[str, float] | None = None) -> Scenario:
        """The scenario ``name`` as every calibration run uses it, with parameter ``values``."""
        over = {**self.overrides, "steps": self.steps, **(values or {})}
        return self.scenarios[name].with_overrides(over, where=self.source)

    def used_scenarios(self) -> list[str]:
        return sorted({t.scenario for t in self.targets})

    def with_quick(self) -> "Calibration":
        """The same calibration with the ``[quick]`` settings (small region, few months)."""
        q = self.quick
        out = Calibration(**{**self.__dict__})
        for k in ABC_KEYS:
            if k in q:
                setattr(out, k, q[k])
        if "steps" in q:
            out.steps = q["steps"]
        out.overrides = {**self.overrides, **q.get("overrides", {})}
        out.name = f"{self.name} (quick)"
        out.quick = {}
        return out

    def fingerprint(self, population: int, generations: int) -> str:
        """What a stored calibration must match to be continued (not the number of generations)."""
        blob = {"params": [p.__dict__ for p in self.parameters], "targets": [t.__dict__ for t in self.targets],
                "steps": self.steps, "overrides": self.overrides, "seed": self.seed, "population": population,
                "scenarios": {k: v.to_dict() for k, v in self.scenarios.items()}}
        return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and math.isfinite(v)


def _int(where: str, key: str, v: Any, low: int, high: int | None = None) -> int:
    if not (isinstance(v, int) and not isinstance(v, bool)) or v < low or (high is not None and v > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ScenarioError(where, key, v, f"must be an integer {bounds}")
    return int(v)


def _table(where: str, key: str, v: Any, allowed: tuple[str, ...]) -> dict:
    if not isinstance(v, dict):
        raise ScenarioError(where, key, v, f"must be a table with keys: {', '.join(allowed)}")
    for k in v:
        if k not in allowed:
            raise ScenarioError(where, f"{key}.{k}", v[k], f"unknown key; allowed: {', '.join(allowed)}")
    return v


def _overrides(where: str, key: str, raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise ScenarioError(where, key, raw, "must be a table of lever = value")
    for name, value in raw.items():
        lever = LEVERS.get(name)
        if lever is None or name == "steps":
            raise ScenarioError(where, f"{key}.{name}", value,
                                "unknown lever (set the run length with steps = N); allowed: "
                                + ", ".join(n for n in LEVERS if n != "steps"))
        problem = lever.check(value)
        if problem:
            raise ScenarioError(where, f"{key}.{name}", value, problem)
    return dict(raw)


def _abc_settings(where: str, key: str, raw: dict) -> dict:
    out = {}
    for k in ("population", "generations", "predictive_draws"):
        if k in raw:
            out[k] = _int(where, f"{key}.{k}", raw[k], 2 if k == "population" else 1)
    if "min_eps_drop" in raw:
        v = raw["min_eps_drop"]
        if not _num(v) or not 0 <= v < 1:
            raise ScenarioError(where, f"{key}.min_eps_drop", v, "must be a number in [0, 1)")
        out["min_eps_drop"] = float(v)
    return out


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file (and the scenario files it names)."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "file", str(path), "no such calibration file")
    text, data = read_toml(path, TOP_KEYS)
    name = data.get("name", path.stem)
    description = data.get("description", "")
    for k, v in (("name", name), ("description", description)):
        if not isinstance(v, str):
            raise ScenarioError(where, k, v, "must be a string")
    seed = _int(where, "seed", data.get("seed", 0), 0)

    run = _table(where, "run", data.get("run", {}), RUN_KEYS)
    steps_lever = LEVERS["steps"]
    steps = _int(where, "run.steps", run.get("steps", 60), 12, int(steps_lever.high))
    overrides = _overrides(where, "run.overrides", run.get("overrides", {}))

    raw_sc = data.get("scenarios")
    if not isinstance(raw_sc, dict) or not raw_sc:
        raise ScenarioError(where, "scenarios", raw_sc, "must be a table of name = \"scenario file\" (at least one)")
    scenarios = {}
    for k, v in raw_sc.items():
        if not isinstance(v, str):
            raise ScenarioError(where, f"scenarios.{k}", v, "must be a path (string) to a scenario file, relative to this file")
        target = path.parent / v
        if not target.is_file():
            raise ScenarioError(where, f"scenarios.{k}", v, "no such scenario file")
        scenarios[k] = load_scenario(target)

    abc = _abc_settings(where, "abc", _table(where, "abc", data.get("abc", {}), ABC_KEYS))
    raw_q = _table(where, "quick", data.get("quick", {}), QUICK_KEYS)
    quick = _abc_settings(where, "quick", raw_q)
    if "steps" in raw_q:
        quick["steps"] = _int(where, "quick.steps", raw_q["steps"], 12, int(steps_lever.high))
    if "overrides" in raw_q:
        quick["overrides"] = _overrides(where, "quick.overrides", raw_q["overrides"])

    parameters = _parameters(where, data.get("parameters"))
    targets = _targets(where, data.get("targets"), scenarios)
    cal = Calibration(name=name, seed=seed, steps=steps, overrides=overrides, scenarios=scenarios,
                      parameters=parameters, targets=targets, description=description, source=where, text=text,
                      quick=quick, **abc)
    # Every scenario must still be valid with the run settings and any parameter value (both ends).
    for sc_name in cal.used_scenarios():
        for edge in ("low", "high"):
            cal.run_scenario(sc_name, {p.name: p.value(p.bounds()[0 if edge == "low" else 1]) for p in parameters})
        if quick:
            cal.with_quick().run_scenario(sc_name)
    for t in targets:
        months = cal.steps
        for k in ("year",):
            if k in t.args and MONTHS_PER_YEAR * t.args[k] > months:
                raise ScenarioError(where, f"targets.{t.name}.args.{k}", t.args[k],
                                    f"needs {MONTHS_PER_YEAR * t.args[k]} months but run.steps = {months}")
    return cal


def _parameters(where: str, raw: Any) -> list[Parameter]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(where, "parameters", raw,
                            "must hold at least one table [parameters.LEVER] naming a behaviour lever")
    allowed = [l.name for l in LEVERS.values() if l.group == CALIBRATED_GROUP]
    out = []
    for name, spec in raw.items():
        key = f"parameters.{name}"
        lever = LEVERS.get(name)
        if lever is None or lever.group != CALIBRATED_GROUP:
            raise ScenarioError(where, key, spec, f"not a behaviour lever; allowed: {', '.join(allowed)}")
        spec = _table(where, key, spec, PARAMETER_KEYS)
        prior = spec.get("prior", "uniform")
        if prior not in PRIORS:
            raise ScenarioError(where, f"{key}.prior", prior, f"must be one of: {', '.join(PRIORS)}")
        low, high = spec.get("low", lever.low), spec.get("high", lever.high)
        for k, v in (("low", low), ("high", high)):
            if not _num(v) or not lever.low <= v <= lever.high:
                raise ScenarioError(where, f"{key}.{k}", v,
                                    f"must be a number within the lever's range [{lever.low:g}, {lever.high:g}] {lever.unit}")
        if not low < high:
            raise ScenarioError(where, f"{key}.low", low, f"must be below high = {high:g}")
        if prior == "log-uniform" and low <= 0:
            raise ScenarioError(where, f"{key}.low", low, "a log-uniform prior needs low > 0: set low = a positive number")
        planted = spec.get("planted")
        if planted is not None and (not _num(planted) or not low <= planted <= high):
            raise ScenarioError(where, f"{key}.planted", planted, f"must be a number in [{low:g}, {high:g}]")
        out.append(Parameter(name, float(low), float(high), prior, None if planted is None else float(planted)))
    return out


def _targets(where: str, raw: Any, scenarios: dict) -> list[Target]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(where, "targets", raw, "must be an array of tables [[targets]] (at least one)")
    out, names = [], set()
    for i, spec in enumerate(raw):
        key = f"targets[{i}]"
        spec = _table(where, key, spec, TARGET_KEYS)
        for k in ("name", "observed", "quantity", "scenario", "tolerance", "source", "passage"):
            if k not in spec:
                raise ScenarioError(where, f"{key}.{k}", None, "is required")
        name = spec["name"]
        if not isinstance(name, str) or not name.isidentifier() or name in names:
            raise ScenarioError(where, f"{key}.name", name, "must be a unique identifier (letters, digits, _)")
        names.add(name)
        key = f"targets.{name}"
        obs = spec["observed"]
        if not _num(obs):
            raise ScenarioError(where, f"{key}.observed", obs, "must be a finite number")
        q = spec["quantity"]
        if q not in OBSERVABLES:
            raise ScenarioError(where, f"{key}.quantity", q, f"unknown quantity; allowed: {', '.join(OBSERVABLES)}")
        args = spec.get("args", {})
        if not isinstance(args, dict):
            raise ScenarioError(where, f"{key}.args", args, "must be a table of keyword = value")
        observable = OBSERVABLES[q]
        for k in args:
            if k not in observable.arguments:
                raise ScenarioError(where, f"{key}.args.{k}", args[k],
                                    f"not an argument of {q}; allowed: {', '.join(observable.arguments) or 'none'}")
        for m in observable.measures_needed(args):
            if m not in MEASURES:
                raise ScenarioError(where, f"{key}.quantity", q,
                                    f"needs the measure {m!r}, which this model version does not record "
                                    f"(measures: see ecosystem_sim.measures.MEASURES)")
        sc = spec["scenario"]
        if sc not in scenarios:
            raise ScenarioError(where, f"{key}.scenario", sc, f"must be one of [scenarios]: {', '.join(scenarios)}")
        error = spec.get("error", "relative")
        if error not in ERRORS:
            raise ScenarioError(where, f"{key}.error", error, f"must be one of: {', '.join(ERRORS)}")
        tol = spec["tolerance"]
        if not _num(tol) or tol <= 0:
            raise ScenarioError(where, f"{key}.tolerance", tol, "must be a number > 0")
        if error == "relative" and obs == 0:
            raise ScenarioError(where, f"{key}.error", error, "a relative error needs observed != 0; use absolute")
        if error == "log10" and obs <= 0:
            raise ScenarioError(where, f"{key}.error", error, "a log10 error needs observed > 0")
        for k in ("source", "passage", "unit", "note"):
            if k in spec and not isinstance(spec[k], str):
                raise ScenarioError(where, f"{key}.{k}", spec[k], "must be a string")
        unit = spec.get("unit", MEASURES[args["measure"]] if q == "measure_mean" and "measure" in args
                        else observable.unit)
        fit = spec.get("fit", True)
        if not isinstance(fit, bool):
            raise ScenarioError(where, f"{key}.fit", fit, "must be true (in the ABC distance) or false (reported only)")
        out.append(Target(name, float(obs), q, dict(args), sc, error, float(tol), spec["source"], spec["passage"],
                          unit, spec.get("note", ""), fit))
    if not any(t.fitted for t in out):
        raise ScenarioError(where, "targets", f"{len(out)} targets, none with fit = true",
                            "at least one target must be fitted")
    return out
