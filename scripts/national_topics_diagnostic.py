"""Why ``national_citizen_topics`` moves no headline measure (docs/ODD.md, section 10, row 3).

Runs the default region (10,000 citizens x 240 months) with the national programme of the lever
test (``national_budget_per_1000`` = 10) and ``national_citizen_topics`` at 0 and at 1, on
development seeds 7801-7808 (not the lever test's), and prints per setting the solutions of each
programme (national ones are R&D-only: ``model.rd_only_solutions``), their mean fit, their users at
the end, their monitors, and the region's needs served. About a minute on 2 cores, from the
repository root:

    .venv/bin/python scripts/national_topics_diagnostic.py
"""
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import default_scenario

SEEDS = range(7801, 7809)


def one(task: tuple[float, int]) -> list[dict]:
    citizen_topics, seed = task
    scenario = default_scenario().with_overrides({"n_citizens": 10_000, "steps": 240, "national_budget_per_1000": 10.0,
                                                  "national_citizen_topics": citizen_topics})
    model = EcosystemModel(scenario, rng=seed)
    model.run()
    rd_only = set(model.rd_only_solutions)
    measures = model.measures_frame()
    need = float(measures.need_met_share.iloc[-12:].mean())
    # Users at the end: the model's own measures (users of R&D-only solutions, and the rest).
    end = measures.iloc[-1]
    users = {"national (R&D only)": int(end.adopters_rd_only), "local": int(end.adopters - end.adopters_rd_only)}
    rows = []
    for kind, sols in (("national (R&D only)", [x for x in model.solutions if x.id in rd_only]),
                       ("local", [x for x in model.solutions if x.id not in rd_only])):
        rows.append({"national_citizen_topics": citizen_topics, "seed": seed, "programme": kind,
                     "solutions": len(sols), "mean_fit": np.mean([x.fit for x in sols]) if sols else np.nan,
                     "users": users[kind],
                     "monitors_per_solution": np.mean([len(x.monitors) for x in sols]) if sols else np.nan,
                     "need_met_share": need})
    return rows


def main() -> None:
    tasks = [(c, s) for c in (0.0, 1.0) for s in SEEDS]
    with ProcessPoolExecutor(2) as pool:
        rows = [r for rs in pool.map(one, tasks) for r in rs]
    table = pd.DataFrame(rows).drop(columns="seed").groupby(["national_citizen_topics", "programme"]).mean()
    pd.set_option("display.width", 200)
    print(f"means over seeds {SEEDS.start}-{SEEDS.stop - 1}\n{table.round(3).to_string()}")


if __name__ == "__main__":
    main()
