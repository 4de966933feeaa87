"""Experiment files: TOML read into a validated :class:`Experiment`.

Format (every key but ``[levers]`` is optional; paths are relative to the experiment file)::

    name = "safety_net_and_commons"
    description = "..."
    base = "../scenarios/citizen_led.toml"       # default: every lever at its default
    presets = ["../scenarios/job_creation.toml", "../scenarios/citizen_led.toml"]
    replications = 10                            # runs per design point (>= 1)
    seed = 20240917                              # root seed of every run's seed
    steps = 120                                  # months per run (overrides the scenarios' steps)
    measures = ["jobs_total", "orgs_alive"]      # per-step measures kept in the timeseries table
    timeseries_every = 1                         # keep every k-th month (and the last)
    common_random_numbers = false                # true: replicate i of every point shares one seed

    [overrides]                                  # lever values fixed for every run
    n_citizens = 2000

    [design]
    kind = "grid"                                # grid | lhs | sobol | morris
    samples = 64                                 # lhs: points; sobol: N (power of 2); morris: trajectories
    levels = 4                                   # morris: grid levels
    second_order = true                          # sobol: also second-order indices (N(2D+2) runs)

    [levers.safety_net]                          # a lever from levers.LEVERS, or "mix"
    range = [0.0, 1.0]                           # within the lever's [low, high]
    levels = 5                                   # grid only: evenly spaced values over the range
    [levers.commons_share]
    values = [0.1, 0.5, 0.9]                     # grid only: explicit values

    [[shocks]]                                   # shock cases crossed with the design; each is one
    kind = "budget_cut"                          # shock (list-valued strength / count / duration /
    step = 60                                    # step / domain / target expand to one case per value)
    strength = [0.25, 0.5]                       # or {name = "...", shocks = [{...}, {...}]} for several
    [[shocks]]                                   # shocks at once, or kind = "none" for a no-shock case
    kind = "none"

    [analysis]
    outputs = ["resilience.jobs_total.integrated_loss", "diffusion.mean.final_share"]
    collapse = "jobs_total"                      # resilience measure whose collapse PRIM explains ("any")

Presets replace the base's *policy* levers (the levers a regime sets); region, behaviour and
shocks come from the base. The parameter ``mix`` (needs exactly two presets) interpolates every
policy lever linearly between them: 0 = first preset, 1 = second. Order of application: base,
preset or mix, ``[overrides]``, ``steps``, the design's lever values, the shock case.

Every problem raises :class:`~ecosystem_sim.scenario.ScenarioError` naming the file, the key, the
value and what is allowed, before anything is run or written.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cliargs import MAX_SEED  # largest root seed (SQLite signed 64-bit), one definition with --seed
from ..levers import DOMAINS, LEVERS
from ..measures import MEASURES
from ..run import RESILIENCE_MEASURES
from ..scenario import SHOCK_CHECKS, SHOCK_KEYS, read_toml, SHOCK_KINDS, Scenario, ScenarioError, default_scenario, load_scenario

TOP_KEYS = ("name", "description", "base", "presets", "replications", "seed", "steps", "measures",
            "timeseries_every", "common_random_numbers", "overrides", "design", "levers", "shocks", "analysis")
DESIGN_KINDS = ("grid", "lhs", "sobol", "morris")
DESIGN_KEYS = ("kind", "samples", "levels", "second_order")
FACTOR_KEYS = ("range", "levels", "values")
ANALYSIS_KEYS = ("outputs", "collapse")
RESILIENCE_METRICS = ("resistance", "recovery_time", "integrated_loss", "permanent_shift", "collapsed")
DIFFUSION_METRICS = ("final_share", "t10", "t50", "t90", "bass_p", "bass_q", "bass_m")
MIX = "mix"

DEFAULT_MEASURES = ("jobs_subsidised", "jobs_self_sustaining", "jobs_total", "orgs_alive", "need_met_share",
                    "adopters", "participation", "capacity_mean", "commons_stock", "subsidy_dependence")
DEFAULT_OUTPUTS = ("resilience.jobs_total.integrated_loss", "resilience.orgs_alive.integrated_loss",
                   "resilience.need_met_share.integrated_loss", "diffusion.mean.final_share", "diffusion.mean.t50",
                   "final.jobs_self_sustaining", "final.need_met_share")


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a lever (or ``mix``) with a range and/or explicit values."""

    name: str
    low: float
    high: float
    values: tuple[float, ...] | None = None
    integer: bool = False

    def grid_values(self) -> tuple[float, ...]:
        return self.values if self.values is not None else (self.low,)


@dataclass(frozen=True)
class ShockCase:
    """A named shock schedule crossed with the design (empty ``shocks`` = no shock)."""

    name: str
    shocks: tuple[dict, ...] = ()


@dataclass
class Experiment:
    """A validated experiment. Build with :func:`load_experiment`, or directly for non-model uses
    (``base=None`` and a custom ``evaluate`` in :func:`~ecosystem_sim.experiments.runner.sweep`)."""

    name: str
    factors: list[Factor]
    design: str = "grid"
    samples: int = 0
    levels: int = 4
    second_order: bool = True
    replications: int = 1
    seed: int = 0
    steps: int | None = None
    measures: tuple[str, ...] = DEFAULT_MEASURES
    timeseries_every: int = 1
    common_random_numbers: bool = False
    base: Scenario | None = None
    presets: list[Scenario] = field(default_factory=list)
    overrides: dict[str, float] = field(default_factory=dict)
    shock_cases: list[ShockCase] = field(default_factory=list)
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    collapse: str = "jobs_total"
    description: str = ""
    source: str = "<python>"
    text: str = ""

    @property
    def uses_mix(self) -> bool:
        return any(f.name == MIX for f in self.factors)

    def problem(self) -> dict:
        """The SALib problem of the varied factors."""
        return {"num_vars": len(self.factors), "names": [f.name for f in self.factors],
                "bounds": [[f.low, f.high] for f in self.factors]}


def load_experiment(path: str | Path, max_runs: int | None = None) -> Experiment:
    """Read and validate an experiment file (and the scenario files it names).

    ``max_runs`` (default :func:`ecosystem_sim.guards.max_runs`) bounds lists that would expand
    into more design points than that (grid levels, shock-case lists) before they are expanded."""
    from ..guards import max_runs as run_limit

    limit = run_limit(max_runs)
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "file", str(path), "no such experiment file")
    text, data = read_toml(path, TOP_KEYS)

    name = _str(where, data, "name", path.stem)
    description = _str(where, data, "description", "")
    base = _scenario_file(where, path, "base", data["base"]) if "base" in data else default_scenario()
    presets: list[Scenario] = []
    if "presets" in data:
        raw = data["presets"]
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise ScenarioError(where, "presets", raw, "must be a non-empty list of scenario file paths")
        presets = [_scenario_file(where, path, f"presets[{i}]", p) for i, p in enumerate(raw)]
        names = [p.name for p in presets]
        if len(set(names)) != len(names):
            raise ScenarioError(where, "presets", raw, f"preset names must differ (got {names}); set name = \"...\"")

    replications = _int(where, data, "replications", 1, low=1)
    seed = _int(where, data, "seed", 0, low=0, high=MAX_SEED)
    steps = None
    if "steps" in data:
        lever = LEVERS["steps"]
        steps = _int(where, data, "steps", None, low=int(lever.low), high=int(lever.high))
    every = _int(where, data, "timeseries_every", 1, low=1)
    crn = data.get("common_random_numbers", False)
    if not isinstance(crn, bool):
        raise ScenarioError(where, "common_random_numbers", crn, "must be true or false")

    measures = data.get("measures", list(DEFAULT_MEASURES))
    if not isinstance(measures, list) or not measures:
        raise ScenarioError(where, "measures", measures, "must be a non-empty list of measure names")
    for i, m in enumerate(measures):
        if m not in MEASURES:
            raise ScenarioError(where, f"measures[{i}]", m, f"unknown measure; allowed: {', '.join(MEASURES)}")
    if len(set(measures)) != len(measures):
        raise ScenarioError(where, "measures", measures, "must not repeat a measure")

    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ScenarioError(where, "overrides", overrides, "must be a table of lever = value")
    for key, value in overrides.items():
        if key == "steps":
            raise ScenarioError(where, "overrides.steps", value, "set the run length with top-level steps = N")
        _check_lever(where, f"overrides.{key}", key, value)

    factors = _factors(where, data.get("levers"), overrides, presets, limit)
    design, samples, levels, second_order = _design(where, data.get("design", {}), factors)
    cases = _shock_cases(where, data.get("shocks"), limit)
    outputs, collapse = _analysis(where, data.get("analysis", {}))

    exp = Experiment(name=name, factors=factors, design=design, samples=samples, levels=levels,
                     second_order=second_order, replications=replications, seed=seed, steps=steps,
                     measures=tuple(measures), timeseries_every=every, common_random_numbers=crn, base=base,
                     presets=presets, overrides=dict(overrides), shock_cases=cases, outputs=outputs,
                     collapse=collapse, description=description, source=where, text=text)
    return exp


# ----------------------------------------------------------------------------- helpers
def _str(where: str, data: dict, key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ScenarioError(where, key, value, "must be a string")
    return value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(where: str, data: dict, key: str, default, low: int | None = None, high: int | None = None):
    if key not in data:
        return default
    v = data[key]
    bounds = (" in [0, 2**63-1]" if high == MAX_SEED else f" in [{low}, {high}]") if high is not None else (f" >= {low}" if low is not None else "")
    if not _is_int(v) or (low is not None and v < low) or (high is not None and v > high):
        raise ScenarioError(where, key, v, f"must be an integer{bounds}")
    return int(v)


def _scenario_file(where: str, exp_path: Path, key: str, value: Any) -> Scenario:
    if not isinstance(value, str):
        raise ScenarioError(where, key, value, "must be a path (string) to a scenario file, relative to this file")
    target = exp_path.parent / value
    if not target.is_file():
        raise ScenarioError(where, key, value, f"no such scenario file (looked for {target})")
    return load_scenario(target)  # its own errors name the scenario file


def _check_lever(where: str, key: str, name: str, value: Any) -> None:
    lever = LEVERS.get(name)
    if lever is None:
        raise ScenarioError(where, key, value, f"unknown lever; allowed: {', '.join(LEVERS)}")
    problem = lever.check(value)
    if problem:
        raise ScenarioError(where, key, value, problem)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _too_many(where: str, key: str, value: Any, count: int, limit: int) -> None:
    if count > limit:
        from ..guards import ENV_MAX_RUNS

        raise ScenarioError(where, key, value, f"expands to {count:,} design points, above the limit of {limit:,} "
                                               f"runs (raise it with --max-runs N or {ENV_MAX_RUNS}=N)")


def _factors(where: str, raw: Any, overrides: dict, presets: list[Scenario], limit: int) -> list[Factor]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ScenarioError(where, "levers", raw, "must be tables [levers.NAME] with range = [low, high] or values = [...]")
    factors = []
    for name, spec in raw.items():
        key = f"levers.{name}"
        if name == MIX:
            if len(presets) != 2:
                raise ScenarioError(where, key, spec, f"mix needs exactly two presets (got {len(presets)})")
            low, high, integer, check = 0.0, 1.0, False, (lambda v: None if _num(v) and 0 <= v <= 1
                                                             else "must be a number in [0, 1]")
        elif name in LEVERS:
            lever = LEVERS[name]
            low, high, integer, check = lever.low, lever.high, lever.integer, lever.check
        else:
            raise ScenarioError(where, key, spec, f"unknown lever; allowed: {MIX}, {', '.join(LEVERS)}")
        if name in overrides:
            raise ScenarioError(where, key, spec, f"'{name}' is also fixed in [overrides]; vary it or fix it, not both")
        if not isinstance(spec, dict):
            raise ScenarioError(where, key, spec, "must be a table with range = [low, high] (and levels = N) or values = [...]")
        for k in spec:
            if k not in FACTOR_KEYS:
                raise ScenarioError(where, f"{key}.{k}", spec[k], f"unknown key; allowed: {', '.join(FACTOR_KEYS)}")
        values = None
        if "values" in spec:
            vals = spec["values"]
            if not isinstance(vals, list) or not vals:
                raise ScenarioError(where, f"{key}.values", vals, "must be a non-empty list of numbers")
            for i, v in enumerate(vals):
                problem = check(v)
                if problem:
                    raise ScenarioError(where, f"{key}.values[{i}]", v, problem)
            if len(set(vals)) != len(vals):
                raise ScenarioError(where, f"{key}.values", vals, "must not repeat a value")
            if "range" in spec or "levels" in spec:
                raise ScenarioError(where, key, spec, "give either values = [...] or range = [low, high], not both")
            values = tuple(float(v) for v in vals)
            lo, hi = min(values), max(values)
        elif "range" in spec:
            rng = spec["range"]
            if not (isinstance(rng, list) and len(rng) == 2 and all(_num(v) for v in rng) and rng[0] < rng[1]):
                raise ScenarioError(where, f"{key}.range", rng, "must be [low, high] with low < high")
            for v in rng:
                if not (low <= v <= high):
                    raise ScenarioError(where, f"{key}.range", rng, f"must lie within the lever's range [{low:g}, {high:g}]")
            lo, hi = float(rng[0]), float(rng[1])
            if "levels" in spec:
                n = spec["levels"]
                if not _is_int(n) or n < 2:
                    raise ScenarioError(where, f"{key}.levels", n, "must be an integer >= 2")
                _too_many(where, f"{key}.levels", n, n, limit)  # before np.linspace allocates them
                import numpy as np
                grid = np.linspace(lo, hi, n)
                if integer:
                    grid = np.unique(np.round(grid))
                values = tuple(float(v) for v in grid)
        else:
            raise ScenarioError(where, key, spec, "needs range = [low, high] or values = [...]")
        factors.append(Factor(name, lo, hi, values, integer))
    return factors


def _design(where: str, raw: Any, factors: list[Factor]) -> tuple[str, int, int, bool]:
    if not isinstance(raw, dict):
        raise ScenarioError(where, "design", raw, "must be a table with kind = grid | lhs | sobol | morris")
    for k in raw:
        if k not in DESIGN_KEYS:
            raise ScenarioError(where, f"design.{k}", raw[k], f"unknown key; allowed: {', '.join(DESIGN_KEYS)}")
    kind = raw.get("kind", "grid")
    if kind not in DESIGN_KINDS:
        raise ScenarioError(where, "design.kind", kind, f"must be one of: {', '.join(DESIGN_KINDS)}")
    samples = _int(where, {"design.samples": raw["samples"]} if "samples" in raw else {}, "design.samples", 0, low=1)
    levels = _int(where, {"design.levels": raw["levels"]} if "levels" in raw else {}, "design.levels", 4, low=2)
    second = raw.get("second_order", True)
    if not isinstance(second, bool):
        raise ScenarioError(where, "design.second_order", second, "must be true or false")
    if kind == "grid":
        for f in factors:
            if f.values is None:
                raise ScenarioError(where, f"levers.{f.name}", {"range": [f.low, f.high]},
                                    "a grid needs values = [...] or range = [low, high] with levels = N")
        for k in ("samples", "second_order"):
            if k in raw:
                raise ScenarioError(where, f"design.{k}", raw[k], "is not used by a grid design; remove it")
        return kind, 0, levels, second
    if not factors:
        raise ScenarioError(where, "levers", {}, f"a {kind} design needs at least one lever with a range")
    for f in factors:
        if f.values is not None:
            raise ScenarioError(where, f"levers.{f.name}", list(f.values),
                                f"a {kind} design samples ranges: give range = [low, high] (no values or levels)")
    if "samples" not in raw:
        raise ScenarioError(where, "design.samples", None, f"is required for a {kind} design (an integer >= 1)")
    if kind in ("sobol", "morris") and len(factors) < 2:
        raise ScenarioError(where, "levers", [f.name for f in factors], f"a {kind} design needs at least two levers")
    if kind == "sobol" and samples & (samples - 1):
        raise ScenarioError(where, "design.samples", samples,
                            "must be a power of 2 for a Sobol design (Saltelli sampling), e.g. 32, 64, 128")
    if kind == "morris" and samples < 2:
        raise ScenarioError(where, "design.samples", samples, "a Morris design needs at least 2 trajectories")
    return kind, samples, levels, second


def _shock_cases(where: str, raw: Any, limit: int) -> list[ShockCase]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(where, "shocks", raw, "must be an array of tables ([[shocks]])")
    cases: list[ShockCase] = []
    for i, entry in enumerate(raw):
        key = f"shocks[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(where, key, entry, "must be a table: a shock (kind, step, ...) or name + shocks = [...]")
        if "shocks" in entry:
            extra = [k for k in entry if k not in ("name", "shocks")]
            if extra:
                raise ScenarioError(where, f"{key}.{extra[0]}", entry[extra[0]],
                                    "a case with shocks = [...] takes only name besides it")
            inner = entry["shocks"]
            if not isinstance(inner, list) or not all(isinstance(s, dict) for s in inner):
                raise ScenarioError(where, f"{key}.shocks", inner, "must be a list of shock tables")
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                raise ScenarioError(where, f"{key}.name", name, "a case with several shocks needs a name (string)")
            for j, s in enumerate(inner):
                _check_shock(where, f"{key}.shocks[{j}]", s, allow_lists=False)
            cases.append(ShockCase(name, tuple(dict(s) for s in inner)))
            continue
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise ScenarioError(where, f"{key}.name", name, "must be a string")
        body = {k: v for k, v in entry.items() if k != "name"}
        if body.get("kind") == "none":
            if len(body) > 1:
                k = next(k for k in body if k != "kind")
                raise ScenarioError(where, f"{key}.{k}", body[k], "a kind = \"none\" case takes no other keys")
            cases.append(ShockCase(name or "none", ()))
            continue
        _check_shock(where, key, body, allow_lists=True)
        listed = [k for k, v in body.items() if isinstance(v, list)]
        _too_many(where, key, "<lists>", len(cases) + math.prod(len(body[k]) for k in listed), limit)
        combos = itertools.product(*[body[k] for k in listed]) if listed else [()]
        for combo in combos:
            shock = {**body, **dict(zip(listed, combo))}
            _check_shock(where, key, shock, allow_lists=False)
            label = name or _shock_label(shock)
            if listed and name:
                label = name + "[" + ",".join(f"{k}={v}" for k, v in zip(listed, combo)) + "]"
            cases.append(ShockCase(label, (shock,)))
    dup = {n for n, k in Counter(c.name for c in cases).items() if k > 1}  # linear, not names.count
    if dup:
        raise ScenarioError(where, "shocks", sorted(dup)[0], "shock case names must differ; give each a name")
    return cases


def _shock_label(shock: dict) -> str:
    label = f"{shock['kind']}@{shock['step']}"
    if "strength" in shock:
        label += f":{shock['strength']:g}"
    if "count" in shock:
        label += f"x{shock['count']}"
    if "duration" in shock:
        label += f"/{shock['duration']}m"
    for k in ("domain", "target"):
        if k in shock:
            label += f"[{shock[k]}]"
    return label


def _check_shock(where: str, key: str, raw: dict, allow_lists: bool) -> None:
    """Check a shock table (the same rules as scenario files; lists expand into cases)."""
    for k, v in raw.items():
        if k not in SHOCK_KEYS:
            raise ScenarioError(where, f"{key}.{k}", v, f"unknown key; allowed: name, {', '.join(SHOCK_KEYS)}")
        if isinstance(v, list):
            if not allow_lists or k == "kind":
                raise ScenarioError(where, f"{key}.{k}", v, "must be a single value here")
            if not v:
                raise ScenarioError(where, f"{key}.{k}", v, "must be a non-empty list")
    kind = raw.get("kind")
    if kind not in SHOCK_KINDS:
        raise ScenarioError(where, f"{key}.kind", kind, f"must be one of: none, {', '.join(SHOCK_KINDS)}")
    if "step" not in raw:
        raise ScenarioError(where, f"{key}.step", None, "is required: the month (integer >= 1) the shock happens")
    for k, (ok, allowed) in SHOCK_CHECKS.items():
        if k in raw:
            for v in (raw[k] if isinstance(raw[k], list) else [raw[k]]):
                if not ok(v):
                    raise ScenarioError(where, f"{key}.{k}", v, allowed)


def _analysis(where: str, raw: Any) -> tuple[tuple[str, ...], str]:
    if not isinstance(raw, dict):
        raise ScenarioError(where, "analysis", raw, "must be a table with outputs = [...] and collapse = MEASURE")
    for k in raw:
        if k not in ANALYSIS_KEYS:
            raise ScenarioError(where, f"analysis.{k}", raw[k], f"unknown key; allowed: {', '.join(ANALYSIS_KEYS)}")
    outputs = raw.get("outputs", list(DEFAULT_OUTPUTS))
    if not isinstance(outputs, list) or not outputs:
        raise ScenarioError(where, "analysis.outputs", outputs, "must be a non-empty list of output names")
    for i, o in enumerate(outputs):
        problem = output_problem(o)
        if problem:
            raise ScenarioError(where, f"analysis.outputs[{i}]", o, problem)
    collapse = raw.get("collapse", "jobs_total")
    if collapse != "any" and collapse not in RESILIENCE_MEASURES:
        raise ScenarioError(where, "analysis.collapse", collapse,
                            f"must be 'any' or one of: {', '.join(RESILIENCE_MEASURES)}")
    return tuple(outputs), collapse


def output_problem(name: Any) -> str | None:
    """Why ``name`` is not a valid output name, or None."""
    allowed = ("must be final.MEASURE, resilience.MEASURE.METRIC (first shock; METRIC one of "
               f"{', '.join(RESILIENCE_METRICS)}) or diffusion.DOMAIN.METRIC (DOMAIN a domain or 'mean'; "
               f"METRIC one of {', '.join(DIFFUSION_METRICS)})")
    if not isinstance(name, str):
        return allowed
    parts = name.split(".")
    if parts[0] == "final" and len(parts) == 2 and parts[1] in MEASURES:
        return None
    if parts[0] == "resilience" and len(parts) == 3 and parts[1] in RESILIENCE_MEASURES and parts[2] in RESILIENCE_METRICS:
        return None
    if parts[0] == "diffusion" and len(parts) == 3 and parts[1] in (*DOMAINS, "mean") and parts[2] in DIFFUSION_METRICS:
        return None
    return allowed
