"""Designs: from an :class:`Experiment` to design points, runs and seeds.

The sample matrix comes from the libraries, not from hand-written samplers: a full grid is the
Cartesian product of the levers' values; Latin hypercube from ``scipy.stats.qmc``; Sobol
(Saltelli) and Morris from ``SALib.sample``. The matrix is crossed with the regimes (presets,
or ``mix`` as a factor) and the shock cases; each resulting design point is run
``replications`` times.

Seeds: every run's seed is a child of one ``numpy.random.SeedSequence(experiment.seed)``, found
by the run's *content*, not its position: ``SeedSequence(seed, spawn_key=(*point_key, replicate))``
where ``point_key`` is four 32-bit words of the hash of the design point (regime, shock case,
lever values, scenario). So a run's seed depends only on what the run is, never on the number of
workers, the order in which runs finish, how many replications there are or which other design
points exist: extending a sweep (more replications, more lever values, more shock cases) keeps
the seeds, and so the stored results, of every run it already had. With
``common_random_numbers`` the spawn key is the replicate alone (replicate *i* of every point
shares a seed, ``SeedSequence(seed).spawn(n)[i]``, like ``ecosim compare``).

Two hashes identify what a store holds. The *design hash* (SHA-256 of the expanded design: every
point's scenario, every run's seed, the kept measures) names this exact set of runs. The
*experiment identity* hashes what makes results comparable (root seed, seeding scheme, design
kind, the varied levers, base scenario, presets, overrides, run length, kept measures) but not
the replications, the levers' values or the shock cases. A store accepts a design with the same
identity that contains every run it holds (the same experiment, extended) and refuses any other.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, replace

import numpy as np

from ..levers import LEVERS, by_group
from ..scenario import mix_policy
from .spec import MIX, Experiment, ShockCase

FORMAT_VERSION = 2  # 2: seeds by content (point key, replicate), so designs can be extended


@dataclass(frozen=True)
class Point:
    point_id: int
    regime: str
    shock_case: str
    params: dict
    scenario: dict | None
    group: int
    sample: int
    key: str = ""

    @property
    def label(self) -> str:
        parts = [self.regime] if self.regime else []
        if self.shock_case:
            parts.append(self.shock_case)
        parts += [f"{k}={_fmt(v)}" for k, v in self.params.items() if k != MIX]
        return " | ".join(parts)


@dataclass(frozen=True)
class Run:
    run_id: int
    point_id: int
    replicate: int
    seed: int


@dataclass
class Design:
    experiment: Experiment
    matrix: np.ndarray
    points: list[Point]
    runs: list[Run]
    groups: list[dict]
    hash: str
    identity: str = ""

    def task(self, run: Run) -> dict:
        """Plain data a worker needs for one run (no objects, so any executor can ship it)."""
        p = self.points[run.point_id]
        return {"run_id": run.run_id, "seed": run.seed, "scenario": p.scenario, "params": p.params,
                "measures": list(self.experiment.measures), "every": self.experiment.timeseries_every}

    def to_dict(self) -> dict:
        e = self.experiment
        return {"format": FORMAT_VERSION, "name": e.name, "kind": e.design, "samples": e.samples,
                "levels": e.levels, "second_order": e.second_order, "replications": e.replications,
                "root_seed": e.seed, "common_random_numbers": e.common_random_numbers,
                "factors": [{"name": f.name, "low": f.low, "high": f.high, "values": f.values,
                             "integer": f.integer} for f in e.factors],
                "problem": e.problem(), "matrix": self.matrix.tolist(), "groups": self.groups,
                "measures": list(e.measures), "timeseries_every": e.timeseries_every,
                "outputs": list(e.outputs), "collapse": e.collapse,
                "regimes": [p.name for p in e.presets] or ([e.base.name] if e.base else [])}


def _fmt(v: float) -> str:
    return f"{v:g}"


def sample_matrix(exp: Experiment) -> np.ndarray:
    """The design's sample matrix (rows = points of lever space, columns = ``exp.factors``)."""
    d = len(exp.factors)
    if d == 0:
        return np.zeros((1, 0))
    if exp.design == "grid":
        return np.array(list(itertools.product(*[f.grid_values() for f in exp.factors])), dtype=float)
    problem = exp.problem()
    if exp.design == "lhs":
        from scipy.stats import qmc
        unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(exp.seed)).random(exp.samples)
        x = qmc.scale(unit, [f.low for f in exp.factors], [f.high for f in exp.factors])
    elif exp.design == "sobol":
        from SALib.sample import sobol
        x = sobol.sample(problem, exp.samples, calc_second_order=exp.second_order, seed=exp.seed)
    elif exp.design == "morris":
        from SALib.sample import morris
        x = morris.sample(problem, exp.samples, num_levels=exp.levels, seed=exp.seed)
    else:  # pragma: no cover - spec validates
        raise ValueError(exp.design)
    return np.asarray(x, dtype=float)


def _values(exp: Experiment, row: np.ndarray) -> dict:
    out = {}
    for f, v in zip(exp.factors, row):
        v = float(v)
        out[f.name] = float(round(v)) if f.integer else v
    return out


def point_scenario(exp: Experiment, preset, params: dict, case: ShockCase | None, regime: str):
    """The validated scenario of one design point (errors name the experiment file)."""
    if exp.base is None:
        return None
    overrides: dict = {}
    policy = [lv.name for lv in by_group("policy")]
    if exp.uses_mix:
        a, b = exp.presets
        overrides.update(mix_policy(a.params, b.params, params[MIX]))
    elif preset is not None:
        overrides.update({k: preset.params[k] for k in policy})
    overrides.update(exp.overrides)
    if exp.steps is not None:
        overrides["steps"] = exp.steps
    for k, v in params.items():
        if k != MIX:
            overrides[k] = int(v) if LEVERS[k].integer else v
    if case is not None:
        overrides["shocks"] = [dict(s) for s in case.shocks]
    sc = exp.base.with_overrides(overrides, where=exp.source)
    return replace(sc, name=regime or sc.name)


def count_points(exp: Experiment) -> int:
    """Number of design points of ``exp``, computed from its settings without sampling anything."""
    d = len(exp.factors)
    if d == 0:
        rows = 1
    elif exp.design == "grid":
        rows = math.prod(len(f.grid_values()) for f in exp.factors)
    elif exp.design == "lhs":
        rows = exp.samples
    elif exp.design == "sobol":
        rows = exp.samples * (2 * d + 2 if exp.second_order else d + 2)
    else:  # morris: (D + 1) points per trajectory
        rows = exp.samples * (d + 1)
    regimes = 1 if exp.uses_mix else max(1, len(exp.presets))
    return rows * regimes * max(1, len(exp.shock_cases))


def budget(exp: Experiment, workers: int = 1, folder=None, max_runs: int | None = None) -> None:
    """Refuse (:class:`~ecosystem_sim.guards.Refused`) a design above the run, memory or disk
    limits, from its settings alone: before any sample matrix, seed or scenario is made."""
    from .. import guards

    points = count_points(exp)
    runs = points * exp.replications
    scenarios = [exp.base, *exp.presets] if exp.base is not None else []
    months = exp.steps or max((int(s.steps) for s in scenarios), default=0)
    citizens = int(exp.overrides.get("n_citizens", 0)) or max((int(s.n_citizens) for s in scenarios), default=0)
    for f in exp.factors:
        if f.name == "n_citizens":
            citizens = max(citizens, int(f.high))
    kept = (months // max(1, exp.timeseries_every) + 2) * (len(exp.measures) + 2)
    guards.check_budget(f"{exp.source}: design of {points:,} points × {exp.replications:,} replications", runs,
                        months, citizens,
                        held_bytes=points * 6e3 + runs * 300,  # points with their scenarios, runs with seeds
                        disk_bytes=runs * (kept * guards.SQL_BYTES_PER_VALUE + guards.SUMMARY_BYTES),
                        folder=folder, limit_runs=max_runs)


def build_design(exp: Experiment, max_runs: int | None = None) -> Design:
    """Expand ``exp`` into points and runs, validate every point's scenario, hash the result.

    A design above the run-count or memory limits is refused first (:func:`budget`)."""
    budget(exp, max_runs=max_runs)
    matrix = sample_matrix(exp)
    cases: list[ShockCase | None] = list(exp.shock_cases) or [None]
    if exp.uses_mix:
        regimes: list = [(None, None)]
    elif exp.presets:
        regimes = [(p.name, p) for p in exp.presets]
    else:
        regimes = [(exp.base.name if exp.base is not None else "", None)]
    points: list[Point] = []
    groups: list[dict] = []
    cache: dict = {}
    for label, preset in regimes:
        for case in cases:
            group = len(groups)
            case_name = case.name if case else ""
            groups.append({"group": group, "regime": "mix" if label is None else label, "shock_case": case_name})
            for i, row in enumerate(matrix):
                params = _values(exp, row)
                regime = label
                if exp.uses_mix:
                    m = params[MIX]
                    a, b = exp.presets
                    regime = a.name if m == 0 else b.name if m == 1 else f"mix {m:.3g}"
                key = (regime, case_name, tuple(sorted(params.items())))
                if key not in cache:
                    sc = point_scenario(exp, preset, params, case, regime)
                    cache[key] = None if sc is None else sc.to_dict()
                points.append(Point(len(points), regime, case_name, params, cache[key], group, i))
    points = _with_keys(points)
    runs = []
    for p in points:
        words = tuple(int(p.key[i:i + 8], 16) for i in range(0, 32, 8))
        for rep in range(exp.replications):
            key = (rep,) if exp.common_random_numbers else (*words, rep)
            ss = np.random.SeedSequence(exp.seed, spawn_key=key)
            runs.append(Run(len(runs), p.point_id, rep, int(ss.generate_state(1)[0])))
    design = Design(exp, matrix, points, runs, groups, "")
    design.hash = design_hash(design)
    design.identity = experiment_identity(exp)
    return design


def _with_keys(points: list[Point]) -> list[Point]:
    """Each point with its content key: SHA-256 of (regime, shock case, lever values, scenario,
    and how many identical points came before it in the design)."""
    seen: dict[str, int] = {}
    out = []
    for p in points:
        content = json.dumps([p.regime, p.shock_case, sorted(p.params.items()), _strip(p.scenario)],
                             sort_keys=True, separators=(",", ":"), default=float)
        n = seen.get(content, 0)
        seen[content] = n + 1
        key = hashlib.sha256(f"{content}#{n}".encode()).hexdigest()
        out.append(replace(p, key=key))
    return out


def experiment_identity(exp: Experiment) -> str:
    """Hash of what makes two designs *the same experiment* (one may extend the other)."""
    blob = {
        "format": FORMAT_VERSION, "root_seed": exp.seed, "common_random_numbers": exp.common_random_numbers,
        "kind": exp.design, "levels": exp.levels if exp.design == "morris" else None,
        "second_order": exp.second_order if exp.design == "sobol" else None,
        "factors": [[f.name, f.integer] for f in exp.factors],
        "base": _strip(exp.base.to_dict()) if exp.base is not None else None,
        "presets": [_strip(p.to_dict()) for p in exp.presets], "overrides": dict(sorted(exp.overrides.items())),
        "steps": exp.steps, "measures": list(exp.measures), "timeseries_every": exp.timeseries_every,
    }
    text = json.dumps(blob, sort_keys=True, separators=(",", ":"), default=float)
    return hashlib.sha256(text.encode()).hexdigest()


def design_hash(design: Design) -> str:
    exp = design.experiment
    blob = {
        "format": FORMAT_VERSION,
        "design": {k: v for k, v in design.to_dict().items() if k not in ("name", "outputs", "collapse")},
        "points": [[p.point_id, p.regime, p.shock_case, p.params, _strip(p.scenario)] for p in design.points],
        "runs": [[r.run_id, r.point_id, r.replicate, r.seed] for r in design.runs],
        "measures": list(exp.measures),
    }
    text = json.dumps(blob, sort_keys=True, separators=(",", ":"), default=float)
    return hashlib.sha256(text.encode()).hexdigest()


def _strip(scenario: dict | None) -> dict | None:
    if scenario is None:
        return None
    return {k: v for k, v in scenario.items() if k != "description"}
