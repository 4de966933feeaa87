"""How a preset's calls and grants change with region size (docs/ODD.md, section 10, rows 8 and 22).

Runs a preset at 2,000, 10,000 and 40,000 citizens on development seeds (7501-7512, 7601-7604 and
7701; not the seeds of tests/test_scale.py) and prints, per size, means over the runs of: calls
that made grants, issues, shortlisted issues and proposals per 1,000 citizens at those calls,
the pot at the call, grants per 1,000 citizens, the mean grant and its adequacy (grant / plan
cost), and solutions created per 1,000 citizens. About a minute for job_creation on 2 cores,
from the repository root:

    .venv/bin/python scripts/call_size_diagnostic.py job_creation
"""
import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ecosystem_sim import innovation
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS_BY_SIZE = {2_000: range(7501, 7513), 10_000: range(7601, 7605), 40_000: (7701,)}


def one(task: tuple[str, int, int]) -> dict:
    """One run; the grants of each call are recorded by wrapping ``innovation._fund``."""
    preset, n, seed = task
    calls = []
    fund = innovation._fund

    def recording_fund(model, programme, grants, funnel, pool):
        calls.append({"grants": len(grants), "issues": funnel["issues"], "shortlisted": funnel["shortlisted"],
                      "proposals": funnel["proposals"], "pot": getattr(model.government, programme.account),
                      "grant": [g for *_, g in grants], "adequacy": [g / c["plan"] for c, _, g in grants]})
        return fund(model, programme, grants, funnel, pool)

    innovation._fund = recording_fund
    try:
        model = EcosystemModel(load_scenario(SCENARIOS / f"{preset}.toml", {"n_citizens": n, "steps": 240}), rng=seed)
        model.run()
    finally:
        innovation._fund = fund
    per_1000 = 1000 / n
    made = [c for c in calls if c["grants"]]
    return {"citizens": n, "seed": seed, "calls_with_grants": len(made),
            "issues_per_1000_at_call": np.mean([c["issues"] for c in made]) * per_1000 if made else np.nan,
            "shortlisted_per_1000_at_call": np.mean([c["shortlisted"] for c in made]) * per_1000 if made else np.nan,
            "proposals_per_1000_at_call": np.mean([c["proposals"] for c in made]) * per_1000 if made else np.nan,
            "pot_per_1000_at_call": np.mean([c["pot"] for c in made]) * per_1000 if made else np.nan,
            "grants_per_1000": sum(c["grants"] for c in made) * per_1000,
            "mean_grant": np.mean([g for c in made for g in c["grant"]]) if made else np.nan,
            "mean_adequacy": np.mean([a for c in made for a in c["adequacy"]]) if made else np.nan,
            "solutions_per_1000": len(model.solutions) * per_1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("preset", help="a scenario file name in scenarios/ without .toml, e.g. job_creation")
    args = parser.parse_args()
    tasks = [(args.preset, n, s) for n, seeds in SEEDS_BY_SIZE.items() for s in seeds]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(one, tasks, chunksize=1))
    table = pd.DataFrame(rows).drop(columns="seed").groupby("citizens").mean()
    pd.set_option("display.width", 200)
    print(f"{args.preset}, means over runs per size (seeds {', '.join(f'{min(s)}-{max(s)}' for s in SEEDS_BY_SIZE.values())})")
    print(table.T.round(3).to_string())


if __name__ == "__main__":
    main()
