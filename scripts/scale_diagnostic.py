"""Why per-capita outcomes change with region size (docs/ODD.md, section 10, row 8).

Runs the presets at 2,000, 10,000 and 40,000 citizens on the seeds of tests/test_scale.py and
prints, per preset and size: solutions per 1,000 citizens, communities reached per live solution
(and as a share of the region's communities), scale-outs per solution, adopters per 1,000 and
needs served. About 3 minutes on 2 idle cores, from the repository root:

    .venv/bin/python scripts/scale_diagnostic.py
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS_BY_SIZE = {2_000: range(9001, 9007), 10_000: range(9101, 9105), 40_000: (9201, 9202)}  # tests/test_scale.py


def one(task):
    preset, n, seed = task
    scenario = load_scenario(SCENARIOS / f"{preset}.toml", {"n_citizens": n, "steps": 240})
    model = EcosystemModel(scenario, rng=seed)
    model.run()
    live = [s for s in model.solutions if s.alive]
    reached = np.mean([len(s.communities) for s in live]) if live else np.nan
    created = len(model.solutions)
    tail = model.measures_frame().iloc[-12:].mean()
    return {"preset": preset, "citizens": n, "seed": seed,
            "solutions_per_1000": 1000 * created / n,
            "communities_per_live_solution": reached,
            "share_of_region_communities": reached / model.population.n_communities,
            "scale_outs_per_solution": model.counters["scale_outs"] / created if created else np.nan,
            "adopters_per_1000": 1000 * tail["adopters"] / n,
            "need_met_share": tail["need_met_share"]}


if __name__ == "__main__":
    tasks = [(p, n, s) for n in sorted(SEEDS_BY_SIZE, reverse=True) for p in ("citizen_led", "job_creation")
             for s in SEEDS_BY_SIZE[n]]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(one, tasks, chunksize=1))
    table = pd.DataFrame(rows).drop(columns="seed").groupby(["preset", "citizens"]).mean()
    print("Means over seeds (tests/test_scale.py's); adopters and needs served: last 12 of 240 months.")
    print(table.round(3).to_string())
