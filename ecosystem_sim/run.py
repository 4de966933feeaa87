"""Running a scenario: one run with its no-shock twin, summaries and provenance.

``run_one`` is the single entry point every layer uses (command line, experiment
runners, notebooks): it returns the per-step measures as a tidy DataFrame and a
JSON-ready summary (final measures, resilience around each shock against the no-shock
twin with the same seed, diffusion figures per domain, provenance).
"""

from __future__ import annotations

import math
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .levers import DOMAINS
from .model import EcosystemModel
from .measures import diffusion, resilience
from .scenario import Scenario

RESILIENCE_MEASURES = ("jobs_total", "jobs_self_sustaining", "orgs_alive", "need_met_share", "adopters",
                       "participation")
"""Functions of the ecosystem whose resilience a summary reports for every shock."""


@dataclass
class RunResult:
    """The outcome of :func:`run_one`.

    Attributes:
        measures   per-step measures, index ``step`` (0 = initial state).
        twin       the no-shock twin's measures (None when the scenario has no shocks).
        summary    JSON-ready dict: scenario, seed, final, resilience, diffusion, provenance.
    """

    measures: pd.DataFrame
    twin: pd.DataFrame | None
    summary: dict


def simulate(scenario: Scenario, seed, steps: int | None = None,
             on_step: Callable[[int], None] | None = None) -> EcosystemModel:
    """Build and run one model; ``on_step`` is called after each month (for progress bars)."""
    model = EcosystemModel(scenario, rng=seed)
    for _ in range(int(scenario.steps if steps is None else steps)):
        model.step()
        if on_step is not None:
            on_step(1)
    return model


def run_one(scenario: Scenario, seed: int, steps: int | None = None, twin: bool = True,
            on_step: Callable[[int], None] | None = None) -> RunResult:
    """Run ``scenario`` with ``seed`` (and, if it has shocks, its no-shock twin on the same seed)."""
    steps = int(scenario.steps if steps is None else steps)
    model = simulate(scenario, seed, steps, on_step)
    measures = model.measures_frame()
    twin_df = None
    if twin and scenario.shocks:
        twin_df = simulate(scenario.without_shocks(), seed, steps, on_step).measures_frame()
    summary = summarise(scenario, seed, measures, twin_df, model)
    return RunResult(measures, twin_df, summary)


def summarise(scenario: Scenario, seed: int, measures: pd.DataFrame, twin: pd.DataFrame | None,
              model: EcosystemModel | None = None) -> dict:
    """Final measures, resilience per shock and measure, diffusion per domain, provenance."""
    final = {k: _num(v) for k, v in measures.iloc[-1].items()}
    res = []
    if twin is not None:
        for i, shock in enumerate(scenario.shocks):
            for name in RESILIENCE_MEASURES:
                r = resilience(measures[name], twin[name], shock.step)
                res.append({"shock": i, "kind": shock.kind, "step": shock.step, "measure": name,
                            **{k: _num(v) for k, v in r.items()}})
    diff = {d: {k: _num(v) for k, v in diffusion(measures[f"adoption_{d}"]).items()} for d in DOMAINS}
    out = {
        "scenario": scenario.to_dict(),
        "seed": int(seed) if np.isscalar(seed) else str(seed),
        "steps": len(measures) - 1,
        "final": final,
        "resilience": res,
        "diffusion": diff,
        "provenance": provenance(),
    }
    if model is not None:
        out["counters"] = {k: int(v) for k, v in sorted(model.counters.items())}
    return out


def _num(v):
    v = float(v)
    return None if math.isnan(v) else v


def provenance() -> dict:
    """Package versions, git commit (if run from a checkout), platform and ``model_fingerprint``
    (:func:`~ecosystem_sim.fingerprint.model_fingerprint`: which model made the runs)."""
    from . import fingerprint

    commit = "unknown"
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if dirty and commit != "unknown":
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    versions = {}
    for pkg in ("ecosystem_sim", "mesa", "numpy", "scipy", "pandas"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "unknown"
    return {"versions": versions, "commit": commit, "python": platform.python_version(),
            "model_fingerprint": fingerprint.model_fingerprint()}
