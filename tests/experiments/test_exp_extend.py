"""A sweep can be extended on the same --out: more replications or more design points reuse the
stored runs, and the result is the store a fresh sweep of the extended design would write."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from ecosystem_sim.experiments import build_design, load_experiment, sweep
from ecosystem_sim.experiments.store import DesignMismatch

from exp_helpers import read

ECOSIM = [sys.executable, "-m", "ecosystem_sim.cli"]


def _runs(folder):
    runs = read(folder, "SELECT run_id, point_id, replicate, seed, regime, shock_case, status, final_jobs_total, "
                        "final_need_met_share FROM runs ORDER BY run_id")
    ts = read(folder, "SELECT * FROM timeseries ORDER BY run_id, step")
    res = read(folder, "SELECT * FROM resilience ORDER BY run_id, shock, measure")
    pts = read(folder, "SELECT point_id, regime, shock_case, label, point_key FROM points ORDER BY point_id")
    return runs, ts, res, pts


def test_more_replications_and_lever_values_reuse_stored_runs(tiny_file, tmp_path):
    out = tmp_path / "out"
    sweep(load_experiment(tiny_file), out, progress=False)                  # 4 points x 2 = 8 runs
    before = read(out, "SELECT seed, final_jobs_total FROM runs")
    tiny_file.write_text(tiny_file.read_text().replace("replications = 2", "replications = 3")
                         .replace("values = [0.0, 1.0]", "values = [0.0, 0.5, 1.0]"))
    proc = subprocess.run([*ECOSIM, "sweep", str(tiny_file), "--out", str(out), "--quiet", "--workers", "2"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "8 stored runs kept" in proc.stdout
    assert "18 runs in 6 design points; 8 already stored, 10 run now" in proc.stdout
    # the stored runs are still there, unchanged, and the store equals a fresh sweep of the big design
    after = read(out, "SELECT seed, final_jobs_total FROM runs")
    assert set(map(tuple, before.to_numpy())) <= set(map(tuple, after.to_numpy()))
    fresh = tmp_path / "fresh"
    sweep(load_experiment(tiny_file), fresh, workers=2, progress=False)
    for a, b in zip(_runs(out), _runs(fresh)):
        pd.testing.assert_frame_equal(a, b)
    man = read(out, "SELECT n_points, n_runs, replications, design_hash FROM manifest").iloc[0]
    assert (man.n_points, man.n_runs, man.replications) == (6, 18, 3)
    assert man.design_hash == build_design(load_experiment(tiny_file)).hash


def test_fewer_replications_or_another_experiment_is_refused(tiny_file, tmp_path):
    out = tmp_path / "out"
    sweep(load_experiment(tiny_file), out, progress=False)
    text = tiny_file.read_text()
    tiny_file.write_text(text.replace("replications = 2", "replications = 1"))
    with pytest.raises(DesignMismatch, match="4 of its 8 stored runs are not in the new design"):
        sweep(load_experiment(tiny_file), out, progress=False)
    tiny_file.write_text(text.replace("n_citizens = 500", "n_citizens = 600"))
    with pytest.raises(DesignMismatch, match="a different experiment"):
        sweep(load_experiment(tiny_file), out, progress=False)
    assert len(read(out, "SELECT run_id FROM runs")) == 8                    # nothing lost or changed
