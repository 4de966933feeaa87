"""Budgets before work: a job above a limit is refused in one line, before it allocates anything,
and the line says how to raise the limit. (docs/guarantees.md, "Limits")"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecosystem_sim import guards
from ecosystem_sim.cli import main
from ecosystem_sim.experiments import build_design, load_experiment
from ecosystem_sim.experiments.design import count_points

from fault_helpers import ROOT, SCENARIOS, SMALL, assert_one_line, ecosim, run_in_process as run

JOB = SCENARIOS / "job_creation.toml"
CIT = SCENARIOS / "citizen_led.toml"

BASE = f"""
name = "big"
base = "{CIT}"
steps = 24
"""
SMALL_REGION = "\n[overrides]\nn_citizens = 500\n"




@pytest.mark.parametrize("extra, fragment", [
    ("replications = 1000000000\n[levers.safety_net]\nvalues = [0.0, 1.0]\n", "2,000,000,000 runs"),
    ("[design]\nkind = 'lhs'\nsamples = 1000000000\n[levers.safety_net]\nrange = [0.0, 1.0]\n", "1,000,000,000 runs"),
    ("[design]\nkind = 'sobol'\nsamples = 1073741824\n[levers.safety_net]\nrange = [0.0, 1.0]\n"
     "[levers.commons_share]\nrange = [0.0, 1.0]\n", "6,442,450,944 runs"),
    ("[levers.safety_net]\nrange = [0.0, 1.0]\nlevels = 100000000\n", "levels"),
    ("[[shocks]]\nkind = 'budget_cut'\nstep = 12\nstrength = [0.1, 0.2, 0.3]\nduration = [1, 2, 3, 4]\n", "shocks[0]"),
], ids=["replications", "lhs", "sobol", "grid_levels", "shock_lists"])
def test_huge_designs_are_refused_before_they_allocate(tmp_path, capsys, monkeypatch, extra, fragment):
    if "shocks" in extra:
        monkeypatch.setenv(guards.ENV_MAX_RUNS, "10")   # 12 cases > 10: the same check at a small scale
    path = tmp_path / "big.toml"
    path.write_text(BASE + extra + SMALL_REGION)
    out = tmp_path / "out"
    code, stdout, err = run(["sweep", path, "--out", out, "--quiet"], capsys)
    assert code == 2 and stdout == ""
    line = assert_one_line(err, fragment)
    assert "--max-runs" in line and guards.ENV_MAX_RUNS in line
    assert not out.exists()


def test_the_run_limit_is_configurable(tmp_path, capsys, monkeypatch):
    path = tmp_path / "e.toml"
    path.write_text(BASE + "replications = 3\n[levers.safety_net]\nvalues = [0.0, 1.0]\n" + SMALL_REGION)   # 6 runs
    monkeypatch.setenv(guards.ENV_MAX_RUNS, "5")
    code, _, err = run(["sweep", path, "--out", tmp_path / "o"], capsys)
    assert code == 2 and "above the limit of 5 runs" in err
    exp = load_experiment(path, max_runs=6)                  # --max-runs wins over the variable
    assert len(build_design(exp, max_runs=6).runs) == 6
    monkeypatch.setenv(guards.ENV_MAX_RUNS, "many")
    code, _, err = run(["sweep", path, "--out", tmp_path / "o"], capsys)
    assert code == 2 and assert_one_line(err, guards.ENV_MAX_RUNS, "'many'")


def test_compare_with_a_million_replicates_is_refused_at_once(tmp_path):
    out = tmp_path / "cmp"
    proc = ecosim("compare", JOB, CIT, "--replicates", 1000000, "--out", out, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert_one_line(proc.stderr, "2,000,000 runs", "--max-runs")
    assert not out.exists()


def test_a_job_that_does_not_fit_in_memory_or_on_disk_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(guards.ENV_MAX_MEMORY, "0.05")   # 50 MB: less than one run needs
    code, _, err = run(["run", JOB, "--steps", 6, *SMALL, "--out", tmp_path / "r"], capsys)
    assert code == 2 and assert_one_line(err, "of memory", guards.ENV_MAX_MEMORY)
    monkeypatch.delenv(guards.ENV_MAX_MEMORY)
    monkeypatch.setenv(guards.ENV_MAX_DISK, "0.000001")   # 1 KB free
    code, _, err = run(["compare", JOB, CIT, "--steps", 6, *SMALL, "--out", tmp_path / "c"], capsys)
    assert code == 2 and assert_one_line(err, "of disk", guards.ENV_MAX_DISK)
    assert sorted(tmp_path.iterdir()) == []


def test_workers_are_capped_at_a_multiple_of_the_cores(capsys, monkeypatch):
    monkeypatch.delenv(guards.ENV_MAX_WORKERS, raising=False)
    warned = []
    n = guards.cap_workers(1000, tasks=10_000, warn=warned.append)
    import os
    assert n == guards.WORKERS_PER_CORE * (os.cpu_count() or 1)
    assert len(warned) == 1 and "--workers 1000 reduced to" in warned[0] and guards.ENV_MAX_WORKERS in warned[0]
    assert guards.cap_workers(2, tasks=1, warn=warned.append) == 1 and len(warned) == 1   # no more than tasks
    monkeypatch.setenv(guards.ENV_MAX_WORKERS, "3")
    assert guards.cap_workers(1000, tasks=100, warn=warned.append) == 3


def test_sweep_with_a_thousand_workers_warns_and_finishes(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(BASE.replace("steps = 24", "steps = 6") + "[levers.safety_net]\nvalues = [0.0, 0.5, 1.0]\n"
                    + SMALL_REGION)
    proc = ecosim("sweep", path, "--out", tmp_path / "o", "--workers", 1000, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--workers 1000 reduced to" in proc.stderr and "3 run now" in proc.stdout


def test_a_hundred_thousand_shock_strengths_load_in_linear_time(tmp_path):
    # The duplicate check used to be quadratic (over a minute for this list); the subprocess's
    # time-out fails the test if it comes back.
    strengths = ", ".join(f"{i / 100000:.5f}" for i in range(100000))
    path = tmp_path / "many.toml"
    path.write_text(BASE + f"[[shocks]]\nkind = 'budget_cut'\nstep = 12\nstrength = [{strengths}]\n" + SMALL_REGION)
    code = ("from ecosystem_sim.experiments import load_experiment; "
            f"print(len(load_experiment({str(path)!r}, max_runs=200000).shock_cases))")
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=45)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "100000"


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")), ids=lambda p: p.name)
def test_the_run_count_estimate_is_exact(path):
    exp = load_experiment(path)
    assert count_points(exp) == len(build_design(exp).points)
