"""Benchmark of sweeps on Dask: parallel efficiency of a LocalCluster with 1 vs 2 workers, and the
rate at which the sweep's parent can record runs in its SQLite store (the ceiling of any cluster).

    .venv/bin/python benchmarks/dask_efficiency.py [--runs 8] [--n-citizens 10000] [--steps 240]
                                                   [--store-runs 2000] [--json PATH]

* ``wall_dask_K_s``: wall time of ``sweep(..., scheduler="local", workers=K)`` for ``--runs`` runs of
  the default region (every lever at its default, no shock: one model run per design run),
  cluster start-up included;
* ``parallel_efficiency`` = wall with 1 worker / (2 x wall with 2 workers) (1.0 = perfect);
* ``run_cpu_s``: mean duration of one run as the store records it (inside the worker);
* ``store_runs_per_s``: runs recorded per second by the parent when the runs themselves cost
  nothing (a constant ``evaluate``), one process: the store's and the dispatch's own ceiling;
* ``store_file_bytes``, ``summary_json_bytes_per_run``, ``timeseries_rows_per_run``: the size of
  the model sweep's SQLite file, and what each run adds to it (its summary as JSON, one row of
  the kept measures per month).

docs/performance.md turns these into the paper estimate for 10^6 runs on 100 nodes. This is a
benchmark, not a test; it prints one JSON object and the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path


def experiment_text(runs: int, n_citizens: int, steps: int) -> str:
    return f"""
name = "dask_efficiency"
replications = {runs}
seed = 7
steps = {steps}
measures = ["jobs_total", "orgs_alive", "need_met_share", "adopters"]
[overrides]
n_citizens = {n_citizens}
[levers.safety_net]
values = [0.5]
"""


def constant(task: dict) -> dict:
    """A run that costs nothing: the store's and the dispatch's own cost per run."""
    return {"summary": {"final": {"y": float(task["seed"] % 7)}}, "timeseries": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8, help="model runs per cluster size")
    ap.add_argument("--n-citizens", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=240)
    ap.add_argument("--store-runs", type=int, default=2000, help="runs of the store-rate measurement")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from ecosystem_sim.experiments import Experiment, Factor, load_experiment, sweep

    out: dict = {"runs": args.runs, "n_citizens": args.n_citizens, "steps": args.steps,
                 "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "exp.toml"
        path.write_text(experiment_text(args.runs, args.n_citizens, args.steps))
        exp = load_experiment(path)
        walls = {}
        for workers in (1, 2):
            folder = tmp / f"dask{workers}"
            t0 = time.perf_counter()
            counts = sweep(exp, folder, workers=workers, scheduler="local", progress=False)
            walls[workers] = time.perf_counter() - t0
            assert counts["failed"] == 0, counts["first_error"]
            con = sqlite3.connect(folder / "results.sqlite")
            durations = [r[0] for r in con.execute("SELECT duration FROM runs")]
            summary_bytes = con.execute("SELECT AVG(LENGTH(summary_json)) FROM runs").fetchone()[0]
            ts_rows = con.execute("SELECT COUNT(*) FROM timeseries").fetchone()[0] / args.runs
            con.close()
            out[f"wall_dask_{workers}_s"] = round(walls[workers], 2)
            out[f"run_s_mean_{workers}"] = round(sum(durations) / len(durations), 3)
            out["store_file_bytes"] = (folder / "results.sqlite").stat().st_size
            out["summary_json_bytes_per_run"] = round(summary_bytes)
            out["timeseries_rows_per_run"] = ts_rows
        out["parallel_efficiency"] = round(walls[1] / (2 * walls[2]), 3)
        out["run_cpu_s"] = out["run_s_mean_1"]

        store_exp = Experiment(name="store_rate", factors=[Factor("x", 0.0, 1.0)], design="lhs",
                               samples=args.store_runs, replications=1, seed=1, measures=(), outputs=("final.y",))
        t0 = time.perf_counter()
        sweep(store_exp, tmp / "store", workers=1, progress=False, evaluate=constant)
        store_wall = time.perf_counter() - t0
        out["store_runs"] = args.store_runs
        out["store_runs_per_s"] = round(args.store_runs / store_wall, 1)
    out["load_after"] = os.getloadavg()
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
