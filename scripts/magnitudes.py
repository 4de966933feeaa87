"""The README's magnitudes from a kept comparison: cost per job created, grant per project and
revenue per KRW of programme money in one year of the programme, per preset, mean over the
replicates (the sources' figures: 67 and 85 M KRW per job, 445-600 M KRW per project, 0.35 KRW
per KRW).

    .venv/bin/python scripts/magnitudes.py results/regimes [--year 2]

Reads the runs that ``ecosim compare`` keeps in ``DIR/runs/`` (the shock-free twins are not
used: year 2 is long before any shock of the main job) through ``ecosystem_sim.observables``,
the functions the calibration compares with the sources.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from ecosystem_sim.observables import budget_per_project, cost_per_job, revenue_per_budget
from ecosystem_sim.scenario import from_dict

QUANTITIES = {"cost per job created (M KRW / job)": cost_per_job,
              "grant per project (M KRW / project)": budget_per_project,
              "revenue per KRW of programme money (KRW / KRW)": revenue_per_budget}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="output folder of ecosim compare")
    ap.add_argument("--year", type=int, default=2, help="year of the programme (default 2)")
    args = ap.parse_args(argv)
    runs = args.folder / "runs"
    rows = []
    for meta in sorted(runs.glob("*.json")):
        info = json.loads(meta.read_text())
        measures_path = meta.with_suffix(".csv")
        if "scenario" not in info or not measures_path.exists():
            continue
        scenario = from_dict(info["scenario"], where=str(meta))
        measures = pd.read_csv(measures_path).set_index("step")
        rows.append({"preset": scenario.name, "seed": info.get("seed"),
                     **{k: f(measures, scenario, year=args.year) for k, f in QUANTITIES.items()}})
    if not rows:
        print(f"{runs}: no kept runs with a scenario and measures", file=sys.stderr)
        return 2
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200):
        print(table.groupby("preset")[list(QUANTITIES)].mean().round(2).T.to_string())  # NaN (no job, no grant) skipped
    return 0


if __name__ == "__main__":
    sys.exit(main())
