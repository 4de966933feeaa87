"""A synthetic calibration problem: observed figures produced by the model itself at a planted
parameter set (so the truth is known), on a small region and few months."""

from __future__ import annotations

from pathlib import Path

from ecosystem_sim.observables import measure_mean
from ecosystem_sim.run import run_one
from ecosystem_sim.scenario import default_scenario

PLANTED = {"capacity_gain": 0.15, "capacity_decay": 0.05}  # mid-box values, fixed before any run
RUN = {"n_citizens": 600, "citizens_per_community": 200}
STEPS = 24
WINDOWS = ((1, 8), (9, 16), (17, 24))
DATA_SEED = 987_654  # the "observation": one run at the planted values, a seed the ABC never uses


def observed() -> dict[str, float]:
    sc = default_scenario().with_overrides({**RUN, "steps": STEPS, **PLANTED})
    m = run_one(sc, DATA_SEED, twin=False).measures
    return {f"capacity_{a}_{b}": measure_mean(m, sc, "capacity_mean", a, b) for a, b in WINDOWS}


def write_targets(folder: Path, population: int = 40, generations: int = 4, draws: int = 10) -> Path:
    scen = folder / "defaults.toml"
    scen.write_text('name = "defaults"\n')
    lines = ['name = "planted"', "seed = 11", "", "[run]", f"steps = {STEPS}", "[run.overrides]",
             *[f"{k} = {v}" for k, v in RUN.items()], "", "[scenarios]", 'defaults = "defaults.toml"', "",
             "[abc]", f"population = {population}", f"generations = {generations}", "min_eps_drop = 0.0",
             f"predictive_draws = {draws}", ""]
    for name, value in PLANTED.items():
        lines += [f"[parameters.{name}]", f"planted = {value}"]
    for (a, b), (name, value) in zip(WINDOWS, observed().items()):
        lines += ["[[targets]]", f'name = "{name}"', f"observed = {value!r}", 'quantity = "measure_mean"',
                  f'args = {{ measure = "capacity_mean", first_month = {a}, last_month = {b} }}',
                  'scenario = "defaults"', 'error = "absolute"', "tolerance = 0.003",
                  'source = "synthetic"', f'passage = "model run at the planted values, seed {DATA_SEED}"', ""]
    path = folder / "planted.toml"
    path.write_text("\n".join(lines))
    return path
