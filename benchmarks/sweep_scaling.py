"""Benchmark of the experiment runner: 1 vs 2 workers on a 200-run sweep, and runner overhead.

    .venv/bin/python benchmarks/sweep_scaling.py [--runs 200] [--n-citizens 1000] [--steps 48] [--direct]

* speed-up   = wall time with 1 worker / wall time with 2 workers (target >= 1.7 on 2 idle cores);
* overhead   = (wall time with 1 worker - sum of the runs' own durations) / sum of durations, i.e. what
               the runner adds around the simulations in the same process: design, seeds, SQLite
               commits, progress bar (target < 5 %);
* --direct   also times the same runs called straight through ``run_one`` in a loop, without the
             runner, as a cross-check of the overhead.
* worker_utilisation_2 = sum of run durations / (2 x wall time with 2 workers): how busy the runner
  keeps the workers; per_run_slowdown_2_vs_1 shows how much slower each run got with 2 workers
  (1.0 on idle cores; above 1 when other processes compete for the cores).
This is a benchmark, not a test; it prints one JSON object and the machine's load average, which
matters: other processes on the same cores lower the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def experiment_text(runs: int, n_citizens: int, steps: int) -> str:
    reps = runs // 4
    return f"""
name = "sweep_scaling"
base = "{ROOT / 'scenarios' / 'job_creation.toml'}"
presets = ["{ROOT / 'scenarios' / 'job_creation.toml'}", "{ROOT / 'scenarios' / 'citizen_led.toml'}"]
replications = {reps}
seed = 1
steps = {steps}
[overrides]
n_citizens = {n_citizens}
[levers.safety_net]
values = [0.2, 0.8]
[[shocks]]
kind = "budget_cut"
step = {steps // 2}
strength = 0.5
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs in the sweep (a multiple of 4)")
    ap.add_argument("--n-citizens", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--direct", action="store_true", help="also time run_one in a plain loop")
    args = ap.parse_args()

    from ecosystem_sim.experiments import build_design, load_experiment, sweep

    out: dict = {"runs": args.runs, "n_citizens": args.n_citizens, "steps": args.steps,
                 "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "exp.toml"
        path.write_text(experiment_text(args.runs, args.n_citizens, args.steps))
        exp = load_experiment(path)
        walls = {}
        for workers in (1, 2):
            folder = tmp / f"w{workers}"
            t0 = time.perf_counter()
            sweep(exp, folder, workers=workers, progress=False)
            walls[workers] = time.perf_counter() - t0
            con = sqlite3.connect(folder / "results.sqlite")
            sim = con.execute("SELECT SUM(duration) FROM runs").fetchone()[0]
            con.close()
            out[f"wall_{workers}_worker_s"] = round(walls[workers], 2)
            out[f"sum_run_durations_{workers}_worker_s"] = round(sim, 2)
            if workers == 1:
                out["runner_overhead"] = round((walls[1] - sim) / sim, 4)
            else:
                # share of the wall time the workers spent inside runs: how well the runner keeps them busy
                out["worker_utilisation_2"] = round(sim / (workers * walls[workers]), 3)
                out["per_run_slowdown_2_vs_1"] = round(sim / out["sum_run_durations_1_worker_s"], 3)
        out["speedup_2_vs_1"] = round(walls[1] / walls[2], 3)
        if args.direct:
            from ecosystem_sim.run import run_one
            from ecosystem_sim.scenario import from_dict

            design = build_design(exp)
            t0 = time.perf_counter()
            for r in design.runs:
                run_one(from_dict(design.points[r.point_id].scenario), r.seed)
            direct = time.perf_counter() - t0
            out["direct_loop_s"] = round(direct, 2)
            out["runner_overhead_vs_direct"] = round((walls[1] - direct) / direct, 4)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
